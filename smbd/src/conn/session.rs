//! Sessions, tree connects and opens of one connection (MS-SMB2 3.3.1.8 - 3.3.1.10).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::crypto::{Cipher, PreparedAead, SigningKey};
use crate::limits::Limits;
use crate::proto::NtStatus;
use crate::proto::create::FileId;
use crate::rpc::Pipe;
use crate::state::Share;

use super::files::FileEntry;

/// Keys and policy of an authenticated session.
#[derive(Clone)]
pub struct SessionSecurity {
    /// The authenticated identity.
    pub auth: acceptor::AuthContext,
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

/// One session.
pub struct Session {
    /// SessionId.
    pub id: u64,
    /// Authentication state.
    pub auth: Mutex<AuthState>,
    /// Keys and identity once authenticated.
    pub security: Mutex<Option<Arc<SessionSecurity>>>,
    /// Tree connects by id.
    pub trees: Mutex<HashMap<u32, Arc<Tree>>>,
    /// Opens by volatile id.
    pub opens: Mutex<HashMap<u64, Arc<Open>>>,
    next_tree_id: AtomicU32,
}

impl Session {
    /// A new session whose first exchange is starting.
    pub fn new(id: u64, exchange: AuthState) -> Self {
        Self {
            id,
            auth: Mutex::new(exchange),
            security: Mutex::new(None),
            trees: Mutex::new(HashMap::new()),
            opens: Mutex::new(HashMap::new()),
            next_tree_id: AtomicU32::new(1),
        }
    }

    /// The session's keys and identity, if authenticated.
    pub fn security(&self) -> Option<Arc<SessionSecurity>> {
        self.security.lock().unwrap().clone()
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

    /// The open with this file id.
    pub fn open(&self, id: FileId) -> Option<Arc<Open>> {
        let o = self.opens.lock().unwrap().get(&id.volatile).cloned()?;
        (o.id.persistent == id.persistent).then_some(o)
    }

    /// Whether the session may take one more open (`max_opens_per_session`): checked before a
    /// CREATE does anything, so one refused at the cap has created nothing. [`Self::insert_open`]
    /// checks again, for opens that raced past this.
    pub fn has_room_for_open(&self, limits: &Limits) -> Result<(), NtStatus> {
        if self.opens.lock().unwrap().len() >= limits.max_opens_per_session {
            return Err(NtStatus::INSUFFICIENT_RESOURCES);
        }
        Ok(())
    }

    /// Adds an open, within the session's caps: `max_opens_per_session` opens of any kind, of
    /// which `max_pipes_per_session` named pipes. Beyond either: INSUFFICIENT_RESOURCES, and
    /// the open is not added (the caller ends it).
    pub fn insert_open(&self, open: Arc<Open>, limits: &Limits) -> Result<(), NtStatus> {
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

/// What an open refers to.
pub enum OpenKind {
    /// A file or directory on a disk share.
    File(vfs::FileRef),
    /// A named pipe on IPC$.
    Pipe(Mutex<Pipe>),
}

/// Enumeration state of a directory open (MS-SMB2 3.3.1.10 Open.EnumerationLocation etc.).
#[derive(Debug, Clone, Default)]
pub struct DirCursor {
    /// The search pattern in force.
    pub pattern: Option<String>,
    /// Resume cookie of the backend listing.
    pub cookie: u64,
    /// How many of "." and ".." were returned.
    pub dots_done: u8,
    /// Whether any entry was returned since the last restart.
    pub returned_any: bool,
    /// Whether the listing reached its end.
    pub exhausted: bool,
}

/// One open file, directory or pipe.
pub struct Open {
    /// FileId.
    pub id: FileId,
    /// The tree it was opened on.
    pub tree_id: u32,
    /// The share.
    pub share: Arc<Share>,
    /// The object.
    pub kind: OpenKind,
    /// The name it was opened by: the pipe's name on IPC$. A disk open's current path lives
    /// in its file's entry, see [`Open::path`].
    pub name: String,
    /// Whether it is a directory.
    pub is_dir: bool,
    /// Granted access mask.
    pub access: u32,
    /// Share access given at open.
    pub share_access: u32,
    /// CreateOptions given at open.
    pub options: u32,
    /// Delete when the last handle closes.
    pub delete_on_close: AtomicBool,
    /// FilePositionInformation.
    pub position: AtomicU64,
    /// FileModeInformation.
    pub mode: AtomicU32,
    /// Directory enumeration state.
    pub cursor: Mutex<DirCursor>,
    /// The shared per-file entry (share modes, delete pending, locks), for disk files.
    pub entry: Option<Arc<FileEntry>>,
    /// Unique id among all opens of the server.
    pub uid: u64,
}

impl Open {
    /// The VFS file, for disk opens.
    pub fn file(&self) -> Option<&vfs::FileRef> {
        match &self.kind {
            OpenKind::File(f) => Some(f),
            OpenKind::Pipe(_) => None,
        }
    }

    /// The current path from the share root as stored ('/' separated; "" for the root): the
    /// path of the file this open refers to, wherever a rename through any handle moved it.
    pub fn path(&self) -> String {
        match &self.entry {
            Some(e) => e.path(),
            None => self.name.clone(),
        }
    }
}
