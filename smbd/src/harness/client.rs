//! A client for the dispatch tests: one in-memory connection to a server of
//! [`super::server`], whose frames go through [`crate::dispatch::handle_frame`] and whose replies
//! are read back from the connection's reply channel, with the message ids counted. Requests
//! are built with [`crate::fuzzing::seeds`].

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::conn::{Connection, Frame};
use crate::dispatch::Disconnect;
use crate::fuzzing::seeds;
use crate::proto::NtStatus;
use crate::proto::header::{Header, flags};
use crate::state::ServerContext;

/// The id the server gives the first session of a connection: the anonymous logon's.
pub const SID: u64 = 1;

/// A connection to a test server, the replies it sends, and the next message id.
pub struct TestClient {
    /// The server's side of the connection.
    pub conn: Arc<Connection>,
    rx: mpsc::Receiver<Frame>,
    next_id: u64,
    /// The session the anonymous logon made ([`SID`] for the first client of a server;
    /// sessions are numbered server-wide).
    pub sid: u64,
}

impl TestClient {
    /// A new connection to `server`, nothing sent yet.
    pub fn new(server: Arc<ServerContext>) -> Self {
        let (tx, rx) = mpsc::channel(64);
        let conn = Connection::start(server, "test".into(), tx);
        Self {
            conn,
            rx,
            next_id: 0,
            sid: SID,
        }
    }

    /// A new connection to `server` that has negotiated, logged on anonymously as [`SID`],
    /// counts as a signed-in user and has "share" connected as tree 1.
    pub async fn on_share(server: Arc<ServerContext>) -> Self {
        let mut c = Self::new(server);
        c.negotiate().await;
        c.logon_anonymous().await;
        c.sign_in();
        c.connect_share().await;
        c
    }

    /// Takes the next message id.
    pub fn next_id(&mut self) -> u64 {
        self.next_ids(1)
    }

    /// Takes `n` message ids (at least one, as a request charged `n` credits uses) and returns
    /// the first.
    pub fn next_ids(&mut self, n: u16) -> u64 {
        let id = self.next_id;
        self.next_id += u64::from(n.max(1));
        id
    }

    /// `msg` with the next message id written into its header.
    pub fn numbered(&mut self, mut msg: Vec<u8>) -> Vec<u8> {
        let id = self.next_id();
        msg[24..32].copy_from_slice(&id.to_le_bytes());
        msg
    }

    /// Sends one frame and returns the payload of the reply it gets.
    pub async fn send(&mut self, frame: Vec<u8>) -> Result<Vec<u8>, Disconnect> {
        crate::dispatch::handle_frame(&self.conn, frame).await?;
        Ok(self.recv().await)
    }

    /// The payload of the next reply the connection sends (such as the final response after
    /// an interim one).
    pub async fn recv(&mut self) -> Vec<u8> {
        self.rx.recv().await.expect("reply").payload().to_vec()
    }

    /// The payload of a reply already sent and not received yet, if there is one (a reply
    /// that must precede what the client sends next).
    pub fn queued(&mut self) -> Option<Vec<u8>> {
        self.rx.try_recv().ok().map(|f| f.payload().to_vec())
    }

    /// Sends one request and returns the status of its (first) response and the reply.
    pub async fn call(&mut self, msg: Vec<u8>) -> (u32, Vec<u8>) {
        let reply = self.send(msg).await.expect("reply");
        (statuses(&reply)[0], reply)
    }

    /// NEGOTIATE with the seed's request.
    pub async fn negotiate(&mut self) {
        self.negotiate_with(seeds::negotiate()).await;
    }

    /// NEGOTIATE with `msg` (the seed's request, or a variant of it) as the next message.
    pub async fn negotiate_with(&mut self, msg: Vec<u8>) {
        let msg = self.numbered(msg);
        let (status, _) = self.call(msg).await;
        assert_eq!(status, 0, "negotiate");
    }

    /// An anonymous NTLM logon in two legs; its session id goes to `sid`.
    pub async fn logon_anonymous(&mut self) {
        let id = self.next_id();
        let (status, reply) = self
            .call(seeds::session_setup(id, 0, &seeds::NTLM_NEGOTIATE))
            .await;
        assert_eq!(status, NtStatus::MORE_PROCESSING_REQUIRED.0, "challenge");
        self.sid = Header::decode(&reply).expect("header").session_id;
        let id = self.next_id();
        let (status, _) = self
            .call(seeds::session_setup(id, self.sid, &seeds::ntlm_anonymous()))
            .await;
        assert_eq!(status, 0, "anonymous logon");
    }

    /// Makes session [`SID`] count as a signed-in user's (a null session reaches no disk
    /// share), with [`super::server::sign_in`].
    pub fn sign_in(&self) {
        super::server::sign_in(&self.conn, self.sid);
    }

    /// A TREE_CONNECT to `share` on session [`SID`], with the next message id.
    pub fn tree_connect(&mut self, share: &str) -> Vec<u8> {
        let id = self.next_id();
        seeds::tree_connect(id, self.sid, share)
    }

    /// Connects "share", the first tree of the session: tree 1.
    pub async fn connect_share(&mut self) {
        let msg = self.tree_connect("share");
        let (status, reply) = self.call(msg).await;
        assert_eq!(status, 0, "tree connect");
        assert_eq!(Header::decode(&reply).expect("header").tree_id, 1);
    }

    /// A CREATE of `name` (the seed's: OPEN_IF, read/write, an MxAc context) on session
    /// [`SID`] and tree 1, not related, with the next message id.
    pub fn create(&mut self, name: &str) -> Vec<u8> {
        let id = self.next_id();
        unrelated(seeds::create(id, self.sid, name))
    }
}

/// Lets a test file's own client, a struct `$client` holding a [`TestClient`] in `$field`, be
/// used as that [`TestClient`] (Deref and DerefMut), so that it adds only its own helpers.
#[cfg(test)]
macro_rules! wraps_test_client {
    ($client:ty, $field:tt) => {
        impl ::std::ops::Deref for $client {
            type Target = $crate::harness::client::TestClient;
            fn deref(&self) -> &Self::Target {
                &self.$field
            }
        }

        impl ::std::ops::DerefMut for $client {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.$field
            }
        }
    };
}
#[cfg(test)]
pub(crate) use wraps_test_client;

/// The status of each response of a reply chain.
pub fn statuses(reply: &[u8]) -> Vec<u32> {
    let mut out = Vec::new();
    let mut rest = reply;
    loop {
        let h = Header::decode(rest).expect("response header");
        out.push(h.status);
        if h.next_command == 0 {
            return out;
        }
        rest = &rest[h.next_command as usize..];
    }
}

/// `msg` with the related flag cleared.
pub fn unrelated(mut msg: Vec<u8>) -> Vec<u8> {
    let f = u32::from_le_bytes(msg[16..20].try_into().unwrap()) & !flags::RELATED_OPERATIONS;
    msg[16..20].copy_from_slice(&f.to_le_bytes());
    msg
}
