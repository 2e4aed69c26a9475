//! Session binding (multichannel): a second connection of the same client joins a session by
//! a SESSION_SETUP signed with the session's key, gets a signing key of its own, uses the
//! session's opens, and keeps the session when the first connection is lost; the negative
//! cases of MS-SMB2 3.3.5.5 are refused. Real cryptography, so signatures are checked.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::SystemTime;

use acceptor::{AuthContext, AuthMethod, AuthProvider, Authenticator, Step};

use super::test_client::{TestClient, wraps_test_client};
use crate::crypto::DEFAULT_PROVIDER;
use crate::fuzzing::seeds;
use crate::proto::NtStatus;
use crate::proto::header::{HEADER_LEN, Header, flags};
use crate::state::ServerContext;
use crate::state::session::SessionSecurity;

/// Logs on user RID n for the blob `u` + n, with a new session key each time; `more` asks for
/// another leg.
#[derive(Default)]
struct Scripted(Arc<AtomicU8>);

struct Leg(Arc<AtomicU8>);

impl AuthProvider for Scripted {
    fn negotiate_blob(&self) -> Vec<u8> {
        Vec::new()
    }
    fn start(&self) -> Box<dyn Authenticator> {
        Box::new(Leg(self.0.clone()))
    }
}

impl Authenticator for Leg {
    fn step(&mut self, _now: SystemTime, input: &[u8]) -> Step {
        match input {
            b"more" => Step::Continue(b"again".to_vec()),
            [b'u', rid] => Step::Done {
                out: Vec::new(),
                auth: Box::new(AuthContext {
                    user: format!("u{rid}"),
                    domain: "T".into(),
                    token: acl::Token::network_logon(
                        acl::Sid::new(5, &[21, 1, 2, 3, u32::from(*rid)]),
                        Vec::new(),
                    ),
                    session_key: vec![self.0.fetch_add(1, Ordering::Relaxed) + 1; 16],
                    method: AuthMethod::Ntlmv2,
                    expires_at: None,
                }),
            },
            _ => Step::Failed(acceptor::AuthError::LogonFailure("scripted")),
        }
    }
}

fn server() -> Arc<ServerContext> {
    super::test_server::Builder::new(Arc::new(vfs::mem::MemFs::new()), 64)
        .auth(Arc::new(Scripted::default()))
        .crypto(&DEFAULT_PROVIDER)
        .build()
}

/// One connection of the test client (ClientGuid 0x11..), negotiated at 3.0.2.
struct Channel(TestClient);

wraps_test_client!(Channel, 0);

impl Channel {
    async fn new(server: &Arc<ServerContext>) -> Self {
        Self::with_negotiate(server, seeds::negotiate_smb3()).await
    }

    async fn with_negotiate(server: &Arc<ServerContext>, msg: Vec<u8>) -> Self {
        let mut c = TestClient::new(server.clone());
        c.negotiate_with(msg).await;
        Self(c)
    }

    /// Sends `msg` with the next message id, signed with `key` when given; returns the status
    /// and the reply.
    async fn request(
        &mut self,
        mut msg: Vec<u8>,
        key: Option<&SessionSecurity>,
    ) -> (NtStatus, Vec<u8>) {
        let id = self.next_id();
        msg[24..32].copy_from_slice(&id.to_le_bytes());
        if let Some(sec) = key {
            let f = u32::from_le_bytes(msg[16..20].try_into().unwrap()) | flags::SIGNED;
            msg[16..20].copy_from_slice(&f.to_le_bytes());
            sec.signer.sign(&DEFAULT_PROVIDER, &mut msg).unwrap();
        }
        let (status, reply) = self.call(msg).await;
        (NtStatus(status), reply)
    }

    /// A new session of user `rid`; returns its id.
    async fn logon(&mut self, rid: u8) -> u64 {
        let (status, reply) = self
            .request(seeds::session_setup(0, 0, &[b'u', rid]), None)
            .await;
        assert_eq!(status, NtStatus::SUCCESS);
        Header::decode(&reply).unwrap().session_id
    }

    /// A binding SESSION_SETUP leg for session `sid` with `blob`, signed with `key`.
    async fn bind(
        &mut self,
        sid: u64,
        blob: &[u8],
        key: Option<&SessionSecurity>,
    ) -> (NtStatus, Vec<u8>) {
        let mut msg = seeds::session_setup(0, sid, blob);
        msg[HEADER_LEN + 2] = 1; // SMB2_SESSION_FLAG_BINDING
        self.request(msg, key).await
    }

    /// The keys session `sid` uses on this connection.
    fn keys(&self, sid: u64) -> Arc<SessionSecurity> {
        self.conn
            .session(sid)
            .and_then(|s| s.security_on(self.conn.id))
            .expect("session bound here")
    }
}

/// The signature `sec` puts on a fixed message.
fn signature(sec: &SessionSecurity) -> Vec<u8> {
    let mut msg = tree_connect(1);
    sec.signer.sign(&DEFAULT_PROVIDER, &mut msg).unwrap();
    msg[48..64].to_vec()
}

/// A TREE_CONNECT to "share".
fn tree_connect(sid: u64) -> Vec<u8> {
    seeds::tree_connect(0, sid, "share")
}

#[tokio::test]
async fn a_second_connection_binds_with_its_own_signing_key_and_outlives_the_first() {
    let server = server();
    let mut a = Channel::new(&server).await;
    let sid = a.logon(1).await;
    let main = a.keys(sid);
    assert_eq!(
        a.request(tree_connect(sid), Some(&main)).await.0,
        NtStatus::SUCCESS
    );
    let (status, reply) = a.request(seeds::create(0, sid, "f"), Some(&main)).await;
    assert_eq!(status, NtStatus::SUCCESS);
    let file_id: [u8; 16] = reply[HEADER_LEN + 64..HEADER_LEN + 80].try_into().unwrap();

    let mut b = Channel::new(&server).await;
    // Before binding, the session is not usable on the new connection.
    assert_eq!(
        b.request(tree_connect(sid), None).await.0,
        NtStatus::USER_SESSION_DELETED
    );
    let (status, reply) = b.bind(sid, b"u\x01", Some(&main)).await;
    assert_eq!(status, NtStatus::SUCCESS);
    let channel = b.keys(sid);
    assert_ne!(signature(&channel), signature(&main));
    // The final response is signed with the channel's key.
    assert!(channel.signer.verify(&DEFAULT_PROVIDER, &reply));
    assert!(!main.signer.verify(&DEFAULT_PROVIDER, &reply));
    // Requests on the channel are checked against its own key, not the session's.
    assert_eq!(
        b.request(tree_connect(sid), Some(&main)).await.0,
        NtStatus::ACCESS_DENIED
    );
    // The open made on the first connection is the session's: writable from the second.
    let mut write = seeds::write(0, sid, b"both channels");
    write[HEADER_LEN + 16..HEADER_LEN + 32].copy_from_slice(&file_id);
    assert_eq!(b.request(write, Some(&channel)).await.0, NtStatus::SUCCESS);

    // The first connection is lost: the session and its open live on over the second.
    crate::dispatch::connection_closed(&a.conn);
    let mut read = seeds::read(0, sid, 64);
    read[HEADER_LEN + 16..HEADER_LEN + 32].copy_from_slice(&file_id);
    let (status, reply) = b.request(read, Some(&channel)).await;
    assert_eq!(status, NtStatus::SUCCESS);
    assert!(reply.ends_with(b"both channels"));
}

#[tokio::test]
async fn binding_is_refused_for_another_user_unsigned_or_from_another_client() {
    let server = server();
    let mut a = Channel::new(&server).await;
    let sid = a.logon(1).await;
    let main = a.keys(sid);

    let mut b = Channel::new(&server).await;
    assert_eq!(
        b.bind(sid, b"u\x01", None).await.0,
        NtStatus::INVALID_PARAMETER
    );
    assert_eq!(
        b.bind(sid, b"u\x02", Some(&main)).await.0,
        NtStatus::ACCESS_DENIED
    );
    assert_eq!(
        b.bind(sid, b"bad", Some(&main)).await.0,
        NtStatus::LOGON_FAILURE
    );
    assert_eq!(
        b.bind(sid + 100, b"u\x01", Some(&main)).await.0,
        NtStatus::USER_SESSION_DELETED
    );
    // A signature made with another key proves nothing.
    let mut other = Channel::new(&server).await;
    let other_sid = other.logon(1).await;
    let stranger = other.keys(other_sid);
    assert_eq!(
        b.bind(sid, b"u\x01", Some(&stranger)).await.0,
        NtStatus::ACCESS_DENIED
    );
    // The failures left the session as it was: the binding still works after them.
    assert_eq!(
        b.bind(sid, b"u\x01", Some(&main)).await.0,
        NtStatus::SUCCESS
    );
    // And a connection already bound cannot bind again.
    let channel = b.keys(sid);
    assert_eq!(
        b.bind(sid, b"u\x01", Some(&channel)).await.0,
        NtStatus::REQUEST_NOT_ACCEPTED
    );

    // Another client (ClientGuid) cannot join the session.
    let mut neg = seeds::negotiate_smb3();
    neg[HEADER_LEN + 12] = 0x22;
    let mut c = Channel::with_negotiate(&server, neg).await;
    assert_eq!(
        c.bind(sid, b"u\x01", Some(&main)).await.0,
        NtStatus::USER_SESSION_DELETED
    );
    // Nor can a 2.1 connection, whatever it signs.
    let mut d = Channel::with_negotiate(&server, seeds::negotiate()).await;
    assert_eq!(
        d.bind(sid, b"u\x01", Some(&main)).await.0,
        NtStatus::REQUEST_NOT_ACCEPTED
    );
}

#[tokio::test]
async fn logoff_on_one_channel_ends_the_session_on_all() {
    let server = server();
    let mut a = Channel::new(&server).await;
    let sid = a.logon(1).await;
    let main = a.keys(sid);
    let mut b = Channel::new(&server).await;
    assert_eq!(
        b.bind(sid, b"u\x01", Some(&main)).await.0,
        NtStatus::SUCCESS
    );
    let channel = b.keys(sid);
    let logoff = seeds::message(
        crate::proto::header::Command::Logoff,
        0,
        sid,
        0,
        &[4, 0, 0, 0],
    );
    assert_eq!(b.request(logoff, Some(&channel)).await.0, NtStatus::SUCCESS);
    assert_eq!(
        a.request(tree_connect(sid), Some(&main)).await.0,
        NtStatus::USER_SESSION_DELETED
    );
    assert!(server.sessions.get(sid).is_none());
}

#[tokio::test]
async fn without_multichannel_binding_is_not_accepted() {
    let server = super::test_server::Builder::new(Arc::new(vfs::mem::MemFs::new()), 64)
        .auth(Arc::new(Scripted::default()))
        .crypto(&DEFAULT_PROVIDER)
        .settings(|s| s.multichannel = false)
        .build();
    let mut a = Channel::new(&server).await;
    let sid = a.logon(1).await;
    let main = a.keys(sid);
    let mut b = Channel::new(&server).await;
    assert_eq!(
        b.bind(sid, b"u\x01", Some(&main)).await.0,
        NtStatus::REQUEST_NOT_ACCEPTED
    );
}

#[tokio::test]
async fn answers_to_a_client_that_proved_the_session_key_are_signed_with_it() {
    let server = server();
    let mut a = Channel::new(&server).await;
    let sid = a.logon(1).await;
    let main = a.keys(sid);
    let mut b = Channel::new(&server).await;
    // A refused binding leg (another user) is answered signed with the session's key.
    let (status, reply) = b.bind(sid, b"u\x02", Some(&main)).await;
    assert_eq!(status, NtStatus::ACCESS_DENIED);
    assert!(main.signer.verify(&DEFAULT_PROVIDER, &reply));
    // So is a 2.1 connection's refused binding.
    let mut d = Channel::with_negotiate(&server, seeds::negotiate()).await;
    let (status, reply) = d.bind(sid, b"u\x01", Some(&main)).await;
    assert_eq!(status, NtStatus::REQUEST_NOT_ACCEPTED);
    assert!(main.signer.verify(&DEFAULT_PROVIDER, &reply));
    // A request for the session on a connection not bound to it: USER_SESSION_DELETED,
    // signed when the request proved the key, else not.
    let (status, reply) = b.request(tree_connect(sid), Some(&main)).await;
    assert_eq!(status, NtStatus::USER_SESSION_DELETED);
    assert!(main.signer.verify(&DEFAULT_PROVIDER, &reply));
    let mut other = Channel::new(&server).await;
    let other_sid = other.logon(1).await;
    let stranger = other.keys(other_sid);
    let (status, reply) = b.request(tree_connect(sid), Some(&stranger)).await;
    assert_eq!(status, NtStatus::USER_SESSION_DELETED);
    assert_eq!(Header::decode(&reply).unwrap().flags & flags::SIGNED, 0);
    // A SESSION_SETUP without the BINDING flag for it: the same.
    let (status, reply) = b
        .request(seeds::session_setup(0, sid, b"u\x01"), Some(&main))
        .await;
    assert_eq!(status, NtStatus::USER_SESSION_DELETED);
    assert!(main.signer.verify(&DEFAULT_PROVIDER, &reply));
}

#[tokio::test]
async fn a_session_takes_at_most_32_channels() {
    let server = server();
    let mut a = Channel::new(&server).await;
    let sid = a.logon(1).await;
    let main = a.keys(sid);
    let mut channels = Vec::new();
    for _ in 1..crate::dispatch::binding::MAX_CHANNELS {
        let mut c = Channel::new(&server).await;
        assert_eq!(
            c.bind(sid, b"u\x01", Some(&main)).await.0,
            NtStatus::SUCCESS
        );
        channels.push(c);
    }
    let mut last = Channel::new(&server).await;
    assert_eq!(
        last.bind(sid, b"u\x01", Some(&main)).await.0,
        NtStatus::INSUFFICIENT_RESOURCES
    );
    // The status report lists the session once, with every channel.
    let report = crate::status::sessions(&server);
    assert_eq!(report.len(), 1);
    assert_eq!(
        report[0].channels.len(),
        crate::dispatch::binding::MAX_CHANNELS
    );
    assert_eq!(report[0].channels[0].conn_id, a.conn.id);
    assert!(
        report[0]
            .to_text()
            .contains(&format!("channel {} from", channels[0].conn.id))
    );
    assert!(report[0].to_json().contains("\"channels\":[{\"conn_id\":"));
    // Once a channel is lost, a new one may bind.
    crate::dispatch::connection_closed(&channels[0].conn);
    assert_eq!(
        last.bind(sid, b"u\x01", Some(&main)).await.0,
        NtStatus::SUCCESS
    );
}

#[tokio::test]
async fn a_request_sealed_for_a_session_of_another_connection_gets_a_plain_session_deleted() {
    let server = super::test_server::Builder::new(Arc::new(vfs::mem::MemFs::new()), 64)
        .auth(Arc::new(Scripted::default()))
        .crypto(&DEFAULT_PROVIDER)
        .settings(|s| s.ciphers = vec![crate::crypto::Cipher::Aes128Ccm])
        .build();
    let mut a = Channel::new(&server).await;
    let sid = a.logon(1).await;
    let main = a.keys(sid);
    let cipher = main.cipher.expect("3.0.2 negotiates a cipher");
    let mut b = Channel::new(&server).await;
    let msg = b.numbered(tree_connect(sid));
    let sealed =
        crate::crypto::encrypt_message(&DEFAULT_PROVIDER, cipher, &main.decryption_key, sid, &msg)
            .unwrap();
    let reply = b
        .send(sealed)
        .await
        .expect("an answer, not a dropped connection");
    assert_eq!(&reply[..4], crate::proto::header::PROTOCOL_ID.as_slice());
    let hdr = Header::decode(&reply).unwrap();
    assert_eq!(NtStatus(hdr.status), NtStatus::USER_SESSION_DELETED);
    // A frame that does not open with the session's key still ends the connection.
    let msg = b.numbered(tree_connect(sid));
    let forged =
        crate::crypto::encrypt_message(&DEFAULT_PROVIDER, cipher, &[7; 16], sid, &msg).unwrap();
    assert!(b.send(forged).await.is_err());
}

#[tokio::test]
async fn a_session_ended_by_a_failed_reauthentication_still_signs_its_deletion() {
    let server = server();
    let mut a = Channel::new(&server).await;
    let sid = a.logon(1).await;
    let main = a.keys(sid);
    let mut b = Channel::new(&server).await;
    assert_eq!(
        b.bind(sid, b"u\x01", Some(&main)).await.0,
        NtStatus::SUCCESS
    );
    let channel = b.keys(sid);
    // A failed reauthentication on the second channel ends the session on both.
    assert_eq!(
        b.request(seeds::session_setup(0, sid, b"bad"), Some(&channel))
            .await
            .0,
        NtStatus::LOGON_FAILURE
    );
    assert!(server.sessions.get(sid).is_none());
    // Each channel's client learns it with an answer signed with the key it used there.
    let (status, reply) = a.request(tree_connect(sid), Some(&main)).await;
    assert_eq!(status, NtStatus::USER_SESSION_DELETED);
    assert!(main.signer.verify(&DEFAULT_PROVIDER, &reply));
    let (status, reply) = b.request(tree_connect(sid), Some(&channel)).await;
    assert_eq!(status, NtStatus::USER_SESSION_DELETED);
    assert!(channel.signer.verify(&DEFAULT_PROVIDER, &reply));
    // A signature under another key gets an unsigned answer.
    let (status, reply) = a.request(tree_connect(sid), Some(&channel)).await;
    assert_eq!(status, NtStatus::USER_SESSION_DELETED);
    assert_eq!(Header::decode(&reply).unwrap().flags & flags::SIGNED, 0);
}
