//! Protocol state of one connection: what was negotiated, its credit window, its pending
//! async operations and the ids of the sessions bound to it. Sessions, trees and opens live in
//! the server-wide tables of [`crate::state`]; a connection only refers to them. No sockets
//! here: the driver in [`crate::server`] feeds frames in and writes frames out.

pub mod credits;
pub mod frame;
pub mod outbox;

pub use frame::Frame;
pub use outbox::Outbox;

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::crypto::{Cipher, SigningAlgorithm};
use crate::proto::negotiate::Dialect;
use crate::state::ServerContext;
use crate::state::session::Session;
use credits::CreditWindow;

/// What NEGOTIATE settled (MS-SMB2 3.3.1.7 Connection).
#[derive(Debug, Clone)]
pub struct Negotiated {
    /// The dialect, once negotiated.
    pub dialect: Option<Dialect>,
    /// An SMB1 negotiate answered with the 2.??? wildcard; an SMB2 NEGOTIATE must follow.
    pub wildcard_sent: bool,
    /// ClientGuid.
    pub client_guid: [u8; 16],
    /// Client capabilities.
    pub client_caps: u32,
    /// Client security mode.
    pub client_security_mode: u16,
    /// Dialects the client offered.
    pub client_dialects: Vec<u16>,
    /// Capabilities the server answered.
    pub server_caps: u32,
    /// Security mode the server answered.
    pub server_security_mode: u16,
    /// The cipher for encrypted sessions, if any.
    pub cipher: Option<Cipher>,
    /// The signing algorithm.
    pub signing_alg: Option<SigningAlgorithm>,
    /// 3.1.1 connection preauth hash after NEGOTIATE.
    pub preauth: [u8; 64],
}

impl Default for Negotiated {
    fn default() -> Self {
        Self {
            dialect: None,
            wildcard_sent: false,
            client_guid: [0; 16],
            client_caps: 0,
            client_security_mode: 0,
            client_dialects: Vec::new(),
            server_caps: 0,
            server_security_mode: 0,
            cipher: None,
            signing_alg: None,
            preauth: [0; 64],
        }
    }
}

impl Negotiated {
    /// Whether the dialect is 3.x.
    pub fn is_smb3(&self) -> bool {
        self.dialect.is_some_and(Dialect::is_smb3)
    }

    /// Whether the client can encrypt (3.x with encryption negotiated).
    pub fn can_encrypt(&self) -> bool {
        self.is_smb3() && self.cipher.is_some()
    }
}

/// A pending async operation (CHANGE_NOTIFY, a blocking LOCK) that CANCEL, the close of its
/// open, or the end of its tree, session or connection can complete.
pub struct Pending {
    /// MessageId of the request.
    pub message_id: u64,
    /// SessionId of the request.
    pub session_id: u64,
    /// The open it waits on.
    pub file_volatile: u64,
    /// The status it completes with when its open closes (also by TREE_DISCONNECT or LOGOFF):
    /// STATUS_NOTIFY_CLEANUP for a watch, STATUS_RANGE_NOT_LOCKED for a lock.
    pub on_close: crate::proto::NtStatus,
    /// Completes the operation with a status (CANCEL sends STATUS_CANCELLED); dropped
    /// without a status when the operation is abandoned (the connection closed).
    pub complete: tokio::sync::oneshot::Sender<crate::proto::NtStatus>,
    /// Ends when the operation's final response is queued: the task that waits holds its
    /// sender until then. CANCEL waits for it, so that the cancelled request is answered
    /// before anything the client sent after the CANCEL.
    pub answered: tokio::sync::oneshot::Receiver<()>,
}

/// One client connection.
pub struct Connection {
    /// Unique for the server's life; sessions and opens refer to the connection by it.
    pub id: u64,
    /// The server.
    pub server: Arc<ServerContext>,
    /// Peer address, for logs.
    pub peer: String,
    /// The local address the connection arrived on, when known (NTLM target names may
    /// name it).
    pub local: Option<std::net::IpAddr>,
    /// Negotiated state.
    pub neg: Mutex<Arc<Negotiated>>,
    /// Ids of the sessions bound to this connection (they live in the server's table).
    sessions: Mutex<Vec<u64>>,
    /// Message id window.
    pub credits: Mutex<CreditWindow>,
    /// Pending async operations by async id.
    pub pending: Mutex<HashMap<u64, Pending>>,
    /// Requests answered STATUS_PENDING that are still running (see [`AsyncSlot`]).
    going_async: AtomicUsize,
    /// Requests that CANCEL can interrupt while they wait (a CREATE waiting for a break),
    /// by MessageId.
    cancellable: Mutex<HashMap<u64, Cancellable>>,
    /// CANCELs by MessageId that found nothing: their request may still be on its way to
    /// [`Connection::cancellable`] (frames run concurrently). The last few, by
    /// (MessageId, SessionId).
    early_cancels: Mutex<std::collections::VecDeque<(u64, u64)>>,
    /// The last few opens CLOSE ended, by (volatile id, MessageId of the CLOSE).
    closed: Mutex<std::collections::VecDeque<(u64, u64)>>,
    /// Where replies go: `out.send(frame).await` (frames without the 4-byte transport header).
    pub out: Outbox,
}

impl Connection {
    /// A new connection that sends its frames to `out` (an [`Outbox`] or a channel).
    pub fn new(server: Arc<ServerContext>, peer: String, out: impl Into<Outbox>) -> Self {
        let max = server.settings().max_credits;
        Self {
            id: server.channels.next_id(),
            server,
            peer,
            local: None,
            neg: Mutex::new(Arc::new(Negotiated::default())),
            sessions: Mutex::new(Vec::new()),
            credits: Mutex::new(CreditWindow::new(max)),
            pending: Mutex::new(HashMap::new()),
            going_async: AtomicUsize::new(0),
            cancellable: Mutex::new(HashMap::new()),
            early_cancels: Mutex::default(),
            closed: Mutex::default(),
            out: out.into(),
        }
    }

    /// The same connection, arrived on the local address `local`.
    pub fn with_local_address(mut self, local: Option<std::net::IpAddr>) -> Self {
        self.local = local;
        self
    }

    /// A snapshot of the negotiated state.
    pub fn negotiated(&self) -> Arc<Negotiated> {
        self.neg.lock().unwrap().clone()
    }

    /// Replaces the negotiated state.
    pub fn set_negotiated(&self, n: Negotiated) {
        *self.neg.lock().unwrap() = Arc::new(n);
    }

    /// A new connection, registered in the server's channel table for as long as it lives.
    pub fn start(server: Arc<ServerContext>, peer: String, out: impl Into<Outbox>) -> Arc<Self> {
        Self::new(server, peer, out).register()
    }

    /// Registers the connection in the server's channel table (it leaves when dropped).
    pub fn register(self) -> Arc<Self> {
        let me = Arc::new(self);
        let ch: Arc<dyn crate::state::channels::Channel> = me.clone();
        me.server.channels.insert(&ch);
        me
    }

    /// The session with this id, if it is bound to this connection.
    pub fn session(&self, id: u64) -> Option<Arc<Session>> {
        if !self.sessions.lock().unwrap().contains(&id) {
            return None;
        }
        self.server
            .sessions
            .get(id)
            .filter(|s| s.is_bound_to(self.id))
    }

    /// Adds a new session, bound to this connection, to the server's table.
    pub fn add_session(&self, s: Arc<Session>) {
        self.sessions.lock().unwrap().push(s.id);
        self.server.sessions.insert(s);
    }

    /// Lists session `id` (bound or being bound elsewhere first) among this connection's, so
    /// the connection's end unbinds it.
    pub fn attach_session(&self, id: u64) {
        let mut ids = self.sessions.lock().unwrap();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }

    /// Takes session `id` off this connection's list without touching the session (a binding
    /// that did not complete).
    pub fn detach_session(&self, id: u64) {
        self.sessions.lock().unwrap().retain(|&x| x != id);
    }

    /// Ends session `id` on every channel (LOGOFF, a failed reauthentication): removes it from
    /// the server's table and from the lists of all its connections; returns it (the caller
    /// ends its opens).
    pub fn end_session(&self, id: u64) -> Option<Arc<Session>> {
        self.sessions.lock().unwrap().retain(|&x| x != id);
        let s = self.server.sessions.remove(id)?;
        for other in s.bound_channels() {
            if other == self.id {
                continue;
            }
            let conn = self
                .server
                .channels
                .get(other)
                .and_then(|c| c.into_any().downcast::<Self>().ok());
            if let Some(c) = conn {
                c.sessions.lock().unwrap().retain(|&x| x != id);
            }
        }
        Some(s)
    }

    /// Unbinds session `id` from this connection; when no channel is left, removes it from the
    /// server's table and returns it (the caller ends its opens).
    pub fn remove_session(&self, id: u64) -> Option<Arc<Session>> {
        self.sessions.lock().unwrap().retain(|&x| x != id);
        let s = self.server.sessions.get(id)?;
        if s.unbind(self.id) == 0 {
            self.server.sessions.remove(id)
        } else {
            None
        }
    }

    /// Unbinds every session of the connection; returns those left with no channel, removed
    /// from the server's table.
    pub fn remove_all_sessions(&self) -> Vec<Arc<Session>> {
        let ids = std::mem::take(&mut *self.sessions.lock().unwrap());
        ids.into_iter()
            .filter_map(|id| {
                let s = self.server.sessions.get(id)?;
                (s.unbind(self.id) == 0).then(|| self.server.sessions.remove(id))?
            })
            .collect()
    }

    /// How many sessions are bound to this connection.
    pub fn session_count(&self) -> usize {
        self.sessions.lock().unwrap().len()
    }

    /// Whether the connection has negotiated a dialect and some session of it has
    /// authenticated (a reauthentication under way keeps it so). Locks each session in turn,
    /// never two locks at once.
    pub fn handshake_done(&self) -> bool {
        self.negotiated().dialect.is_some()
            && self.sessions_now().iter().any(|s| s.security().is_some())
    }

    /// Whether closing the connection would lose something of the client's: an open file,
    /// directory or pipe in any session, or a pending async operation.
    pub fn holds_opens(&self) -> bool {
        !self.pending.lock().unwrap().is_empty()
            || self.sessions_now().iter().any(|s| s.open_count() > 0)
    }

    /// The sessions bound to this connection.
    pub fn sessions_now(&self) -> Vec<Arc<Session>> {
        let ids = self.sessions.lock().unwrap().clone();
        ids.into_iter()
            .filter_map(|id| self.server.sessions.get(id))
            .collect()
    }

    /// Async operations of the connection: pending ones (CHANGE_NOTIFY, LOCK) and requests gone
    /// async that are still running.
    pub fn async_count(&self) -> usize {
        self.pending.lock().unwrap().len() + self.going_async.load(Ordering::Relaxed)
    }

    /// Adds a pending operation, within `max_async_per_connection` async operations:
    /// beyond it, INSUFFICIENT_RESOURCES and nothing is added.
    pub fn add_pending(
        &self,
        async_id: u64,
        p: Pending,
        limits: &crate::limits::Limits,
    ) -> Result<(), crate::proto::NtStatus> {
        let mut pending = self.pending.lock().unwrap();
        if pending.len() + self.going_async.load(Ordering::Relaxed)
            >= limits.max_async_per_connection
        {
            self.server
                .metrics
                .refused(crate::metrics::Refusal::AsyncOperations);
            return Err(crate::proto::NtStatus::INSUFFICIENT_RESOURCES);
        }
        pending.insert(async_id, p);
        Ok(())
    }

    /// Counts a request that is going async, within `max_async_per_connection`; `None` when
    /// the connection is at the cap (the request then completes synchronously).
    pub fn begin_async(&self, limits: &crate::limits::Limits) -> Option<AsyncSlot<'_>> {
        let pending = self.pending.lock().unwrap();
        let before = self.going_async.fetch_add(1, Ordering::Relaxed);
        if pending.len() + before >= limits.max_async_per_connection {
            self.going_async.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        Some(AsyncSlot(self))
    }
}

/// CLOSEs remembered for requests that overtook them.
const CLOSED_REMEMBERED: usize = 16;

/// CANCELs remembered for requests not yet seen.
const EARLY_CANCELS: usize = 16;

/// A running request CANCEL can interrupt.
struct Cancellable {
    session_id: u64,
    async_id: Option<u64>,
    signal: Arc<tokio::sync::Notify>,
}

/// A request's place among the cancellable ones; it leaves when dropped.
pub struct CancelGuard<'a> {
    conn: &'a Connection,
    message_id: u64,
    /// Notified when a CANCEL names the request.
    pub signal: Arc<tokio::sync::Notify>,
}

impl Drop for CancelGuard<'_> {
    fn drop(&mut self) {
        self.conn
            .cancellable
            .lock()
            .unwrap()
            .remove(&self.message_id);
    }
}

impl Connection {
    /// Makes request `message_id` of `session_id` cancellable until the guard drops.
    pub fn cancellable(&self, message_id: u64, session_id: u64) -> CancelGuard<'_> {
        let signal = Arc::new(tokio::sync::Notify::new());
        // The same lock order as `cancel_request`: a CANCEL either finds the request or leaves
        // its early record for it.
        let mut m = self.cancellable.lock().unwrap();
        let mut early = self.early_cancels.lock().unwrap();
        if let Some(i) = early.iter().position(|e| *e == (message_id, session_id)) {
            early.remove(i);
            // The CANCEL came first: the request finds it as a stored permit.
            signal.notify_one();
        }
        m.insert(
            message_id,
            Cancellable {
                session_id,
                async_id: None,
                signal: signal.clone(),
            },
        );
        drop((early, m));
        CancelGuard {
            conn: self,
            message_id,
            signal,
        }
    }

    /// Records that the CLOSE with MessageId `message_id` ended open `volatile`.
    pub fn note_closed(&self, volatile: u64, message_id: u64) {
        let mut c = self.closed.lock().unwrap();
        if c.len() == CLOSED_REMEMBERED {
            c.pop_front();
        }
        c.push_back((volatile, message_id));
    }

    /// Whether open `volatile` was ended by a CLOSE the client sent after request
    /// `message_id`.
    pub fn closed_after(&self, volatile: u64, message_id: u64) -> bool {
        self.closed
            .lock()
            .unwrap()
            .iter()
            .any(|&(v, m)| v == volatile && m > message_id)
    }

    /// Records the AsyncId a cancellable request was given with its interim response.
    pub fn set_async_id(&self, message_id: u64, async_id: u64) {
        if let Some(c) = self.cancellable.lock().unwrap().get_mut(&message_id) {
            c.async_id = Some(async_id);
        }
    }

    /// Signals the cancellable request a CANCEL names (by AsyncId, or by MessageId and
    /// SessionId); whether there was one.
    pub fn cancel_request(&self, async_id: Option<u64>, message_id: u64, session_id: u64) -> bool {
        let m = self.cancellable.lock().unwrap();
        let found = match async_id {
            Some(a) => m.values().find(|c| c.async_id == Some(a)),
            None => m.get(&message_id).filter(|c| c.session_id == session_id),
        };
        match found {
            Some(c) => {
                c.signal.notify_one();
                true
            }
            None => {
                if async_id.is_none() {
                    let mut early = self.early_cancels.lock().unwrap();
                    if early.len() == EARLY_CANCELS {
                        early.pop_front();
                    }
                    early.push_back((message_id, session_id));
                }
                false
            }
        }
    }
}

/// A request of the connection gone async, counted until it is dropped.
pub struct AsyncSlot<'a>(&'a Connection);

impl Drop for AsyncSlot<'_> {
    fn drop(&mut self) {
        self.0.going_async.fetch_sub(1, Ordering::Relaxed);
    }
}

impl crate::state::channels::Channel for Connection {
    fn id(&self) -> u64 {
        self.id
    }

    fn peer(&self) -> &str {
        &self.peer
    }

    fn dialect(&self) -> Option<u16> {
        self.negotiated().dialect.map(|d| d.0)
    }

    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

impl Drop for Connection {
    /// Leaves the channel table. Sessions still bound here (a connection dropped without
    /// [`crate::dispatch::connection_closed`]) leave the server's table and their opens are
    /// dropped, which gives back their share-mode claims.
    fn drop(&mut self) {
        self.server.channels.remove(self.id);
        for s in self.remove_all_sessions() {
            for o in self.server.opens.take_all(&s, None) {
                self.server.notify.remove(o.uid);
            }
        }
    }
}
