//! Sessions and their tree connects (MS-SMB2 3.3.1.8 Session, 3.3.1.9 TreeConnect), and the
//! server-wide table of sessions (3.3.1.5 GlobalSessionTable). A session is bound to the
//! connections (channels) it was set up or bound on; it is found by id in the server's table and
//! used only on a connection it is bound to.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use super::opens::{Open, OpenKind};
use crate::crypto::{Cipher, PreparedAead, SigningKey};
use crate::limits::Limits;
use crate::proto::NtStatus;
use crate::proto::create::FileId;
use crate::state::Share;

/// Keys and policy of an authenticated session.
#[derive(Clone)]
pub struct SessionSecurity {
    /// The authenticated identity.
    pub auth: acceptor::AuthContext,
    /// The user the session was set up as. A reauthentication may drop to the anonymous
    /// logon (fewer rights, the same keys) and come back to this user, never become another.
    pub first_user: acl::Sid,
    /// Key that encrypts server-to-client messages (3.x only).
    pub encryption_key: Vec<u8>,
    /// Key that decrypts client-to-server messages (3.x only).
    pub decryption_key: Vec<u8>,
    /// Cipher, when the connection negotiated one.
    pub cipher: Option<Cipher>,
    /// Every message must be signed.
    pub signing_required: bool,
    /// Every message must be encrypted.
    pub encrypt_data: bool,
    /// Anonymous or guest: no signing possible.
    pub is_null: bool,
    /// The dialect of the connection the session was set up on (a binding must match it).
    pub dialect: u16,
    /// The ClientGuid of the connection the session was set up on (a binding must match it).
    pub client_guid: [u8; 16],
    /// The signing key (empty for anonymous sessions) and the connection's signing algorithm,
    /// with its schedule run once at SESSION_SETUP.
    pub signer: SigningKey,
    /// The server-to-client AEAD, keyed once at SESSION_SETUP (when there is a cipher).
    pub seal: Option<Arc<dyn PreparedAead>>,
    /// The client-to-server AEAD, keyed once at SESSION_SETUP (when there is a cipher).
    pub open: Option<Arc<dyn PreparedAead>>,
}

/// The state of a session's authentication (MS-SMB2 3.3.1.8 Session.State).
pub enum AuthState {
    /// An exchange is under way.
    InProgress {
        /// The acceptor leg in progress.
        auth: Box<dyn acceptor::Authenticator>,
        /// 3.1.1 preauth hash of this session so far.
        preauth: [u8; 64],
        /// When the exchange started: it expires `limits.handshake_timeout` later.
        started: std::time::SystemTime,
        /// The exchange's place among the server's in-progress sessions.
        slot: super::handshakes::HandshakeSlot,
    },
    /// Authenticated; no exchange under way.
    Valid,
}

/// How a session is bound to one connection (MS-SMB2 3.3.1.8 Session.ChannelList).
enum ChannelState {
    /// The connection the session was set up on: it signs with the session's own keys.
    First,
    /// A binding exchange is under way on this connection (3.3.5.5.2); the session is not
    /// usable on it yet.
    Binding(AuthState),
    /// Bound by an exchange of its own: the session's keys with this channel's signing key.
    Bound(Arc<SessionSecurity>),
}

/// One entry of a session's channel list.
struct ChannelEntry {
    conn: u64,
    state: ChannelState,
}

/// One session.
pub struct Session {
    /// SessionId.
    pub id: u64,
    auth: Mutex<AuthState>,
    security: Mutex<Option<Arc<SessionSecurity>>>,
    trees: Mutex<HashMap<u32, Arc<Tree>>>,
    opens: Mutex<HashMap<u64, Arc<Open>>>,
    channels: Mutex<Vec<ChannelEntry>>,
    next_tree_id: AtomicU32,
}

impl Session {
    /// A new session, bound to connection `channel`, whose first exchange is starting.
    pub fn new(id: u64, channel: u64, exchange: AuthState) -> Self {
        Self {
            id,
            auth: Mutex::new(exchange),
            security: Mutex::new(None),
            trees: Mutex::new(HashMap::new()),
            opens: Mutex::new(HashMap::new()),
            channels: Mutex::new(vec![ChannelEntry {
                conn: channel,
                state: ChannelState::First,
            }]),
            next_tree_id: AtomicU32::new(1),
        }
    }

    /// The session's keys and identity, if authenticated.
    pub fn security(&self) -> Option<Arc<SessionSecurity>> {
        self.security.lock().unwrap().clone()
    }

    /// Sets the keys and identity an exchange established. Channels bound by exchanges of
    /// their own keep their signing keys and take the new identity (a reauthentication).
    pub fn set_security(&self, sec: Arc<SessionSecurity>) {
        let mut channels = self.channels.lock().unwrap();
        for ch in channels.iter_mut() {
            if let ChannelState::Bound(own) = &ch.state {
                ch.state = ChannelState::Bound(Arc::new(SessionSecurity {
                    signer: own.signer.clone(),
                    ..(*sec).clone()
                }));
            }
        }
        *self.security.lock().unwrap() = Some(sec);
    }

    /// The keys that protect the session's messages on connection `channel`: the session's
    /// own on the connection it was set up on, the channel's signing key on one bound later;
    /// `None` when the session is not (yet) usable there.
    pub fn security_on(&self, channel: u64) -> Option<Arc<SessionSecurity>> {
        let channels = self.channels.lock().unwrap();
        match &channels.iter().find(|c| c.conn == channel)?.state {
            ChannelState::First => {
                drop(channels);
                self.security()
            }
            ChannelState::Bound(sec) => Some(sec.clone()),
            ChannelState::Binding(_) => None,
        }
    }

    /// Whether the session may be used on connection `channel` (a binding under way there
    /// does not count).
    pub fn is_bound_to(&self, channel: u64) -> bool {
        self.channels
            .lock()
            .unwrap()
            .iter()
            .any(|c| c.conn == channel && !matches!(c.state, ChannelState::Binding(_)))
    }

    /// Whether a binding exchange is under way on connection `channel`.
    pub fn is_binding_on(&self, channel: u64) -> bool {
        self.channels
            .lock()
            .unwrap()
            .iter()
            .any(|c| c.conn == channel && matches!(c.state, ChannelState::Binding(_)))
    }

    /// How many connections the session is bound to or being bound to.
    pub fn channel_count(&self) -> usize {
        self.channels.lock().unwrap().len()
    }

    /// The connections the session is usable on.
    pub fn bound_channels(&self) -> Vec<u64> {
        self.channels
            .lock()
            .unwrap()
            .iter()
            .filter(|c| !matches!(c.state, ChannelState::Binding(_)))
            .map(|c| c.conn)
            .collect()
    }

    /// Unbinds connection `channel`; returns how many usable channels remain. When none is
    /// left, bindings under way end too (their session is gone).
    pub fn unbind(&self, channel: u64) -> usize {
        let mut c = self.channels.lock().unwrap();
        c.retain(|x| x.conn != channel);
        let usable = c
            .iter()
            .filter(|x| !matches!(x.state, ChannelState::Binding(_)))
            .count();
        if usable == 0 {
            c.clear();
        }
        usable
    }

    /// Starts binding connection `channel` with `exchange` (MS-SMB2 3.3.5.5.2); false when the
    /// connection already has an entry in the channel list.
    pub fn begin_binding(&self, channel: u64, exchange: AuthState) -> bool {
        let mut c = self.channels.lock().unwrap();
        if c.is_empty() || c.iter().any(|x| x.conn == channel) {
            return false;
        }
        c.push(ChannelEntry {
            conn: channel,
            state: ChannelState::Binding(exchange),
        });
        true
    }

    /// Runs `step` on the exchange under way on connection `channel`: its binding when one is
    /// under way there, else the session's own exchange.
    pub fn with_exchange_on<R>(
        &self,
        channel: u64,
        step: impl FnOnce(&mut dyn acceptor::Authenticator, &mut [u8; 64]) -> R,
    ) -> Option<R> {
        {
            let mut c = self.channels.lock().unwrap();
            if let Some(ChannelEntry {
                state: ChannelState::Binding(exchange),
                ..
            }) = c.iter_mut().find(|x| x.conn == channel)
            {
                return match exchange {
                    AuthState::InProgress { auth, preauth, .. } => {
                        Some(step(auth.as_mut(), preauth))
                    }
                    AuthState::Valid => None,
                };
            }
        }
        self.with_exchange(step)
    }

    /// Ends the binding under way on connection `channel` with the channel's keys `sec`;
    /// returns the binding's preauth hash. `None` when no binding was under way there.
    pub fn finish_binding(&self, channel: u64, sec: Arc<SessionSecurity>) -> Option<[u8; 64]> {
        let mut c = self.channels.lock().unwrap();
        let entry = c.iter_mut().find(|x| x.conn == channel)?;
        if !matches!(entry.state, ChannelState::Binding(_)) {
            return None;
        }
        match std::mem::replace(&mut entry.state, ChannelState::Bound(sec)) {
            ChannelState::Binding(AuthState::InProgress { preauth, .. }) => Some(preauth),
            _ => Some([0; 64]),
        }
    }

    /// The preauth hash of the binding under way on connection `channel`.
    pub fn binding_preauth(&self, channel: u64) -> Option<[u8; 64]> {
        let c = self.channels.lock().unwrap();
        match &c.iter().find(|x| x.conn == channel)?.state {
            ChannelState::Binding(AuthState::InProgress { preauth, .. }) => Some(*preauth),
            _ => None,
        }
    }

    /// Drops the binding under way on connection `channel` (it failed).
    pub fn abort_binding(&self, channel: u64) {
        self.channels
            .lock()
            .unwrap()
            .retain(|x| !(x.conn == channel && matches!(x.state, ChannelState::Binding(_))));
    }

    /// Whether the binding under way on `channel` started before `deadline`.
    pub fn binding_expired(&self, channel: u64, deadline: std::time::SystemTime) -> bool {
        let c = self.channels.lock().unwrap();
        c.iter().any(|x| {
            x.conn == channel
                && matches!(&x.state, ChannelState::Binding(AuthState::InProgress { started, .. }) if *started < deadline)
        })
    }

    /// Whether the session is authenticated with no exchange under way.
    pub fn is_valid(&self) -> bool {
        matches!(*self.auth.lock().unwrap(), AuthState::Valid)
    }

    /// Starts a reauthentication exchange (MS-SMB2 3.3.5.5.2) if none is under way.
    pub fn begin_exchange(&self, exchange: AuthState) {
        let mut st = self.auth.lock().unwrap();
        if matches!(*st, AuthState::Valid) {
            *st = exchange;
        }
    }

    /// Runs `step` on the exchange under way (its acceptor and preauth hash); `None` when no
    /// exchange is under way.
    pub fn with_exchange<R>(
        &self,
        step: impl FnOnce(&mut dyn acceptor::Authenticator, &mut [u8; 64]) -> R,
    ) -> Option<R> {
        match &mut *self.auth.lock().unwrap() {
            AuthState::InProgress { auth, preauth, .. } => Some(step(auth.as_mut(), preauth)),
            AuthState::Valid => None,
        }
    }

    /// Ends the exchange under way (giving back its place among the server's exchanges);
    /// returns its preauth hash, if one was under way.
    pub fn end_exchange(&self) -> Option<[u8; 64]> {
        match std::mem::replace(&mut *self.auth.lock().unwrap(), AuthState::Valid) {
            AuthState::InProgress { preauth, .. } => Some(preauth),
            AuthState::Valid => None,
        }
    }

    /// Whether an authentication exchange of this session started before `deadline` and is
    /// still under way.
    pub fn handshake_expired(&self, deadline: std::time::SystemTime) -> bool {
        matches!(&*self.auth.lock().unwrap(), AuthState::InProgress { started, .. } if *started < deadline)
    }

    /// Whether the session has never been authenticated and an exchange is under way.
    pub fn is_new_handshake(&self) -> bool {
        self.security().is_none()
            && matches!(&*self.auth.lock().unwrap(), AuthState::InProgress { .. })
    }

    /// Allocates a tree id.
    pub fn next_tree_id(&self) -> u32 {
        self.next_tree_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The tree connect with this id.
    pub fn tree(&self, id: u32) -> Option<Arc<Tree>> {
        self.trees.lock().unwrap().get(&id).cloned()
    }

    /// Every tree connect of the session.
    pub fn trees(&self) -> Vec<Arc<Tree>> {
        self.trees.lock().unwrap().values().cloned().collect()
    }

    /// Removes the tree connect with this id.
    pub fn remove_tree(&self, id: u32) -> Option<Arc<Tree>> {
        self.trees.lock().unwrap().remove(&id)
    }

    /// How many tree connects the session has.
    pub fn tree_count(&self) -> usize {
        self.trees.lock().unwrap().len()
    }

    /// The open with this file id.
    pub fn open(&self, id: FileId) -> Option<Arc<Open>> {
        let o = self.opens.lock().unwrap().get(&id.volatile).cloned()?;
        (o.id.persistent == id.persistent).then_some(o)
    }

    /// How many opens the session holds.
    pub fn open_count(&self) -> usize {
        self.opens.lock().unwrap().len()
    }

    /// The session's opens, copied out of its lock.
    pub fn opens(&self) -> Vec<Arc<Open>> {
        self.opens.lock().unwrap().values().cloned().collect()
    }

    /// Whether the session may take one more open (`max_opens_per_session`): checked before a
    /// CREATE does anything, so one refused at the cap has created nothing.
    /// [`OpenTable::insert`](super::opens::OpenTable::insert) checks again, for opens that
    /// raced past this.
    pub fn has_room_for_open(&self, limits: &Limits) -> Result<(), NtStatus> {
        if self.opens.lock().unwrap().len() >= limits.max_opens_per_session {
            return Err(NtStatus::INSUFFICIENT_RESOURCES);
        }
        Ok(())
    }

    /// Adds an open, within the session's caps: `max_opens_per_session` opens of any kind, of
    /// which `max_pipes_per_session` named pipes. Beyond either: INSUFFICIENT_RESOURCES, and
    /// the open is not added. Only the open table calls this.
    pub(super) fn add_open(&self, open: Arc<Open>, limits: &Limits) -> Result<(), NtStatus> {
        let mut opens = self.opens.lock().unwrap();
        if opens.len() >= limits.max_opens_per_session {
            return Err(NtStatus::INSUFFICIENT_RESOURCES);
        }
        if matches!(open.kind, OpenKind::Pipe(_)) {
            let pipes = opens
                .values()
                .filter(|o| matches!(o.kind, OpenKind::Pipe(_)))
                .count();
            if pipes >= limits.max_pipes_per_session {
                return Err(NtStatus::INSUFFICIENT_RESOURCES);
            }
        }
        opens.insert(open.id.volatile, open);
        Ok(())
    }

    /// Removes the open with volatile id `volatile`. Only the open table calls this.
    pub(super) fn remove_open(&self, volatile: u64) -> Option<Arc<Open>> {
        self.opens.lock().unwrap().remove(&volatile)
    }

    /// Removes the opens of tree `tree` (of every tree when `None`). Only the open table
    /// calls this.
    pub(super) fn remove_opens(&self, tree: Option<u32>) -> Vec<Arc<Open>> {
        let mut m = self.opens.lock().unwrap();
        let ids: Vec<u64> = m
            .iter()
            .filter(|(_, o)| tree.is_none_or(|t| o.tree_id == t))
            .map(|(k, _)| *k)
            .collect();
        ids.into_iter().filter_map(|k| m.remove(&k)).collect()
    }

    /// Adds a tree connect, within `max_trees_per_session`: beyond it,
    /// INSUFFICIENT_RESOURCES and the tree is not added.
    pub fn insert_tree(&self, tree: Arc<Tree>, limits: &Limits) -> Result<(), NtStatus> {
        let mut trees = self.trees.lock().unwrap();
        if trees.len() >= limits.max_trees_per_session {
            return Err(NtStatus::INSUFFICIENT_RESOURCES);
        }
        trees.insert(tree.id, tree);
        Ok(())
    }
}

/// One tree connect.
pub struct Tree {
    /// TreeId.
    pub id: u32,
    /// The share.
    pub share: Arc<Share>,
    /// Requests on this tree must be encrypted.
    pub encrypt_data: bool,
    /// The most access any open on this tree can get.
    pub max_access: u32,
}

/// Every session of the server by id (MS-SMB2 3.3.1.5 GlobalSessionTable).
#[derive(Default)]
pub struct SessionTable {
    by_id: Mutex<HashMap<u64, Arc<Session>>>,
    /// The keys of the sessions that ended last (at most [`ENDED_KEPT`] sessions), newest
    /// last: the session's own and each channel's, by connection. A request a client signs
    /// with one of them is answered USER_SESSION_DELETED signed with it.
    ended: Mutex<std::collections::VecDeque<EndedSession>>,
}

/// The keys an ended session left: (session id, its own keys, each channel's by connection).
type EndedSession = (u64, Arc<SessionSecurity>, Vec<(u64, Arc<SessionSecurity>)>);

/// How many ended sessions' keys the table keeps.
pub const ENDED_KEPT: usize = 64;

impl SessionTable {
    /// Adds a session.
    pub fn insert(&self, s: Arc<Session>) {
        self.by_id.lock().unwrap().insert(s.id, s);
    }

    /// The session with this id, on whatever connection.
    pub fn get(&self, id: u64) -> Option<Arc<Session>> {
        self.by_id.lock().unwrap().get(&id).cloned()
    }

    /// Removes the session with this id; its keys are kept a while (see [`Self::ended_keys`]).
    pub fn remove(&self, id: u64) -> Option<Arc<Session>> {
        let s = self.by_id.lock().unwrap().remove(&id)?;
        if let Some(sec) = s.security().filter(|sec| !sec.is_null) {
            let channels = s
                .bound_channels()
                .into_iter()
                .filter_map(|c| Some((c, s.security_on(c)?)))
                .collect();
            let mut ended = self.ended.lock().unwrap();
            if ended.len() >= ENDED_KEPT {
                ended.pop_front();
            }
            ended.push_back((id, sec, channels));
        }
        Some(s)
    }

    /// The keys of session `id` on connection `conn` if it ended recently (it is no longer in
    /// the table): the channel's when it was bound there, else the session's own.
    pub fn ended_keys(&self, id: u64, conn: u64) -> Option<Arc<SessionSecurity>> {
        let ended = self.ended.lock().unwrap();
        let (_, main, channels) = ended.iter().rev().find(|(sid, _, _)| *sid == id)?;
        Some(
            channels
                .iter()
                .find(|(c, _)| *c == conn)
                .map_or_else(|| main.clone(), |(_, sec)| sec.clone()),
        )
    }

    /// How many sessions the server has.
    pub fn len(&self) -> usize {
        self.by_id.lock().unwrap().len()
    }

    /// Whether the server has no session.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every session, copied out of the table's lock, by id.
    pub fn all(&self) -> Vec<Arc<Session>> {
        let mut v: Vec<_> = self.by_id.lock().unwrap().values().cloned().collect();
        v.sort_by_key(|s| s.id);
        v
    }
}
