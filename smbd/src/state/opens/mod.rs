//! Opens (MS-SMB2 3.3.1.10 Open) and the server-wide table of them (3.3.1.5 GlobalOpenTable,
//! keyed by the persistent file id; a session finds its opens by the volatile id).
//!
//! An open of a disk file holds a [`Claim`] on its file's entry in the [`FileTable`]: the open is
//! built from the claim and gives it back when it ends or is dropped, so "an open exists exactly
//! when its share-mode claim does" holds by construction rather than by every handler
//! remembering it.

mod preserved;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::Share;
use super::files::{Claim, FileEntry};
use super::lock_sequence::{LockSequences, SequenceSlot, Verified};
use super::session::Session;
use crate::limits::Limits;
use crate::proto::NtStatus;
use crate::proto::create::FileId;
use crate::rpc::Pipe;

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
    /// Open.NextEaEntry (MS-FSA 2.1.1.5): the index of the extended attribute a
    /// FileFullEaInformation query without a list or restart continues from.
    pub next_ea: AtomicU32,
    /// Directory enumeration state.
    pub cursor: Mutex<DirCursor>,
    /// The shared per-file entry (share modes, delete pending, locks), for disk files.
    pub entry: Option<Arc<FileEntry>>,
    /// The open's place in its file's entry, given back when the open ends (or, for an open
    /// dropped without ending, when the last reference goes).
    claim: Mutex<Option<Claim>>,
    /// Unique id among all opens of the server (the persistent id): the owner of its share-mode
    /// claim and byte-range locks.
    pub uid: u64,
    /// Who opened it (a reconnect must be by the same user and client).
    pub owner: Owner,
    /// The session the open belongs to (where its oplock breaks go).
    pub session_id: u64,
    /// Durability granted (MS-SMB2 Open.IsDurable, DurableOpenTimeout, IsPersistent,
    /// CreateGuid, AppInstanceId); `None` for an ordinary open.
    durable: Mutex<Option<Durability>>,
    /// When the open lost its connection and was preserved for a reconnect.
    disconnected: Mutex<Option<std::time::SystemTime>>,
    /// Open.IsResilient with Open.ResiliencyTimeout in milliseconds, once the client asked
    /// (FSCTL_LMR_REQUEST_RESILIENCY).
    resiliency: Mutex<Option<u32>>,
    /// Open.LockSequenceArray.
    lock_sequences: Mutex<LockSequences>,
    /// What the CREATE that made the open answered (CreateAction and the file's state then),
    /// for a replay of that CREATE (MS-SMB2 3.3.5.9.10).
    created: Mutex<Option<(u32, vfs::FileStat)>>,
    /// Open.CreateGuid: of a CREATE with a durable v2 context, durable or not (a replay of
    /// that CREATE finds the open by it).
    create_guid: Mutex<Option<[u8; 16]>>,
    /// Open.IsReplayEligible: a replay of its CREATE finds it until another request uses it.
    replay_eligible: AtomicBool,
    /// Open.ChannelSequence (MS-SMB2 3.3.5.2.10).
    channel_sequence: std::sync::atomic::AtomicU16,
}

/// Who made an open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The user's SID (MS-SMB2 Open.Session.UserSecurityContext, as a reconnect checks it).
    pub user: acl::Sid,
    /// The client's ClientGuid (Open.ClientGuid).
    pub client_guid: [u8; 16],
}

/// What makes an open durable (MS-SMB2 3.3.1.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Durability {
    /// 1 for DHnQ, 2 for DH2Q.
    pub version: u8,
    /// How long the open is kept after its connection is lost.
    pub timeout: std::time::Duration,
    /// A persistent handle (continuously available share).
    pub persistent: bool,
    /// The CreateGuid of a v2 request.
    pub create_guid: Option<[u8; 16]>,
    /// The application instance the open belongs to.
    pub app_instance: Option<[u8; 16]>,
}

impl Open {
    /// What the CREATE that made the open answered: its CreateAction and the file's state.
    pub fn created(&self) -> Option<(u32, vfs::FileStat)> {
        self.created.lock().unwrap().clone()
    }

    /// Records what the CREATE that made the open answered, and its CreateGuid; the open is
    /// then eligible for a replay of that CREATE.
    pub fn set_created(&self, action: u32, stat: vfs::FileStat, create_guid: [u8; 16]) {
        *self.created.lock().unwrap() = Some((action, stat));
        *self.create_guid.lock().unwrap() = Some(create_guid);
        self.replay_eligible.store(true, Ordering::Relaxed);
    }

    /// Whether a replay of the CREATE that made the open still finds it.
    pub fn replay_eligible(&self) -> bool {
        self.replay_eligible.load(Ordering::Relaxed)
    }

    /// Another request used the open: a replay of its CREATE no longer finds it (MS-SMB2
    /// Open.IsReplayEligible; persistent opens stay eligible).
    pub fn used(&self) {
        if !self.durability().is_some_and(|d| d.persistent) {
            self.replay_eligible.store(false, Ordering::Relaxed);
        }
    }

    /// Verifies a request's ChannelSequence against the open's (MS-SMB2 3.3.5.2.10): one
    /// behind it (in 16-bit sequence arithmetic) comes from a channel that has been replaced,
    /// STATUS_FILE_NOT_AVAILABLE for a request that `changes` the file (WRITE, SET_INFO,
    /// IOCTL) and let through otherwise; one ahead of it becomes the open's, whatever the
    /// request.
    pub fn check_channel_sequence(&self, csn: u16, changes: bool) -> Result<(), NtStatus> {
        let mut current = self.channel_sequence.load(Ordering::Relaxed);
        loop {
            if sequence_behind(current, csn) {
                return if changes {
                    Err(NtStatus::FILE_NOT_AVAILABLE)
                } else {
                    Ok(())
                };
            }
            if csn == current {
                return Ok(());
            }
            match self.channel_sequence.compare_exchange(
                current,
                csn,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(now) => current = now,
            }
        }
    }

    /// Open.CreateGuid, when the CREATE had a durable v2 context.
    pub fn create_guid(&self) -> Option<[u8; 16]> {
        *self.create_guid.lock().unwrap()
    }

    /// The open's durability, if it is durable.
    pub fn durability(&self) -> Option<Durability> {
        *self.durable.lock().unwrap()
    }

    /// Makes the open durable, or (`None`) no longer durable.
    pub fn set_durability(&self, d: Option<Durability>) {
        *self.durable.lock().unwrap() = d;
    }

    /// When the open was preserved after losing its connection; `None` while connected.
    pub fn disconnected_at(&self) -> Option<std::time::SystemTime> {
        *self.disconnected.lock().unwrap()
    }

    /// The same open on a new session and tree (a durable reconnect): the file, its claim
    /// (and with it the byte-range locks), position and mode move to the new open, which gets
    /// volatile id `volatile`. `None` when this open has already ended or moved.
    pub fn reconnected(&self, volatile: u64, tree_id: u32, session_id: u64) -> Option<Self> {
        let claim = self.claim.lock().unwrap().take()?;
        let kind = match &self.kind {
            OpenKind::File(f) => OpenKind::File(f.clone()),
            OpenKind::Pipe(_) => return None,
        };
        Some(Self {
            id: FileId {
                persistent: self.id.persistent,
                volatile,
            },
            tree_id,
            share: self.share.clone(),
            kind,
            name: self.name.clone(),
            is_dir: self.is_dir,
            access: self.access,
            share_access: self.share_access,
            options: self.options,
            delete_on_close: AtomicBool::new(self.delete_on_close.load(Ordering::Relaxed)),
            position: AtomicU64::new(self.position.load(Ordering::Relaxed)),
            mode: AtomicU32::new(self.mode.load(Ordering::Relaxed)),
            next_ea: AtomicU32::new(self.next_ea.load(Ordering::Relaxed)),
            cursor: Mutex::new(DirCursor::default()),
            entry: self.entry.clone(),
            claim: Mutex::new(Some(claim)),
            uid: self.uid,
            owner: self.owner.clone(),
            session_id,
            durable: Mutex::new(self.durability()),
            disconnected: Mutex::new(None),
            resiliency: Mutex::new(self.resiliency()),
            lock_sequences: Mutex::new(self.lock_sequences.lock().unwrap().clone()),
            created: Mutex::new(self.created()),
            create_guid: Mutex::new(self.create_guid()),
            replay_eligible: AtomicBool::new(false),
            channel_sequence: std::sync::atomic::AtomicU16::new(
                self.channel_sequence.load(Ordering::Relaxed),
            ),
        })
    }

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

/// What a new open is, before it is in any table.
pub struct NewOpen {
    /// FileId (persistent and volatile parts distinct).
    pub id: FileId,
    /// The tree it is opened on.
    pub tree_id: u32,
    /// The share.
    pub share: Arc<Share>,
    /// The object.
    pub kind: OpenKind,
    /// The name it was opened by.
    pub name: String,
    /// Whether it is a directory.
    pub is_dir: bool,
    /// Granted access mask.
    pub access: u32,
    /// Share access given at open.
    pub share_access: u32,
    /// CreateOptions given at open.
    pub options: u32,
    /// FileModeInformation at open.
    pub mode: u32,
    /// The share-mode claim on the file (disk opens).
    pub claim: Option<Claim>,
    /// Who opens it.
    pub owner: Owner,
    /// The session it is opened on.
    pub session_id: u64,
}

impl Open {
    /// An open built from `n`; its uid is the persistent id.
    pub fn new(n: NewOpen) -> Self {
        let entry = n.claim.as_ref().map(|c| c.entry().clone());
        Self {
            id: n.id,
            tree_id: n.tree_id,
            share: n.share,
            kind: n.kind,
            name: n.name,
            is_dir: n.is_dir,
            access: n.access,
            share_access: n.share_access,
            options: n.options,
            delete_on_close: AtomicBool::new(
                n.options & crate::proto::create::options::DELETE_ON_CLOSE != 0,
            ),
            position: AtomicU64::new(0),
            mode: AtomicU32::new(n.mode),
            next_ea: AtomicU32::new(0),
            cursor: Mutex::new(DirCursor::default()),
            entry,
            claim: Mutex::new(n.claim),
            uid: n.id.persistent,
            owner: n.owner,
            session_id: n.session_id,
            durable: Mutex::new(None),
            disconnected: Mutex::new(None),
            resiliency: Mutex::new(None),
            lock_sequences: Mutex::new(LockSequences::default()),
            created: Mutex::new(None),
            create_guid: Mutex::new(None),
            replay_eligible: AtomicBool::new(false),
            channel_sequence: std::sync::atomic::AtomicU16::new(0),
        }
    }

    /// Makes the open resilient (MS-SMB2 3.3.5.15.9), with its timeout in milliseconds.
    pub fn set_resilient(&self, timeout_ms: u32) {
        *self.resiliency.lock().unwrap() = Some(timeout_ms);
    }

    /// Open.ResiliencyTimeout, when the open is resilient.
    pub fn resiliency(&self) -> Option<u32> {
        *self.resiliency.lock().unwrap()
    }

    /// Whether LOCK requests on this open are verified against Open.LockSequenceArray (MS-SMB2
    /// 3.3.5.14): when the open is resilient, durable or persistent, or when the connection
    /// (`smb3_multichannel`: a 3.x dialect with SMB2_GLOBAL_CAP_MULTI_CHANNEL) may replay
    /// requests on another channel.
    pub fn verifies_lock_sequence(&self, smb3_multichannel: bool) -> bool {
        smb3_multichannel || self.resiliency().is_some() || self.durability().is_some()
    }

    /// Verifies a LOCK request's LockSequence (see [`LockSequences::verify`]).
    pub fn verify_lock_sequence(&self, lock_sequence: u32) -> Verified {
        self.lock_sequences.lock().unwrap().verify(lock_sequence)
    }

    /// Remembers the sequence number of a LOCK request that succeeded.
    pub fn record_lock_sequence(&self, slot: SequenceSlot) {
        self.lock_sequences.lock().unwrap().record(slot);
    }

    /// Ends the open: marks its file (or, for a named stream, the stream) pending deletion when
    /// the open was to delete it on close, gives back its share-mode claim and locks, deletes a
    /// stream pending deletion when this was its last open, and deletes the file, with all its
    /// streams, when this was the last open of any of its streams and the file is pending
    /// deletion (MS-FSA 2.1.5.4). Returns whether the file was deleted. Idempotent: a second
    /// call finds no claim and does nothing.
    pub async fn end(&self) -> bool {
        let Some(claim) = self.claim.lock().unwrap().take() else {
            return false;
        };
        let entry = claim.entry().clone();
        if self.delete_on_close.load(Ordering::Relaxed) {
            entry.set_delete_pending(true);
        }
        let mut deleted = false;
        if let Some(fs) = &self.share.vfs {
            if entry.holders() == 1 && entry.stream_delete_pending() {
                let (path, stream) = (entry.path(), entry.stream_name());
                if let Err(e) = fs.remove_stream(&path, &stream).await {
                    tracing::info!(path = %path, stream = %stream, error = %e, "stream delete on close failed");
                }
            }
            if entry.file_opens() == 1 && entry.file_delete_pending() {
                deleted = remove_file(fs.as_ref(), &entry).await;
            }
        }
        drop(claim);
        deleted
    }
}

/// Deletes the file of `entry`, wherever a rename moved it, and only if the name still names
/// that file.
async fn remove_file(fs: &dyn vfs::Vfs, entry: &FileEntry) -> bool {
    let path = entry.path();
    match fs.stat(&path).await {
        Ok(st) if st.file_id == entry.file_id() => match fs.remove(&path).await {
            Ok(()) => true,
            Err(e) => {
                tracing::info!(path = %path, error = %e, "delete on close failed");
                false
            }
        },
        Ok(_) => {
            tracing::info!(path = %path, "delete on close: the name is another file's");
            false
        }
        Err(e) => {
            tracing::info!(path = %path, error = %e, "delete on close failed");
            false
        }
    }
}

/// Every open of the server by persistent id (MS-SMB2 3.3.1.5 GlobalOpenTable). Opens enter and
/// leave it together with their session's table, through these methods only.
#[derive(Default)]
pub struct OpenTable {
    by_persistent: Mutex<HashMap<u64, Arc<Open>>>,
    /// Durable v2 CREATEs under way, by (ClientGuid, CreateGuid): a replay of one is refused
    /// until it ends.
    creating: Arc<Mutex<CreatesUnderWay>>,
}

/// Whether ChannelSequence `csn` is behind the open's `current` in 16-bit sequence arithmetic
/// (MS-SMB2 3.3.5.2.10: the difference, as a signed 16-bit number, is negative).
fn sequence_behind(current: u16, csn: u16) -> bool {
    (csn.wrapping_sub(current) as i16) < 0
}

/// (ClientGuid, CreateGuid) of the durable v2 CREATEs under way.
type CreatesUnderWay = std::collections::HashSet<([u8; 16], [u8; 16])>;

/// A durable v2 CREATE under way (see [`OpenTable::begin_create`]); it ends when dropped.
pub struct CreateUnderWay {
    key: ([u8; 16], [u8; 16]),
    set: Arc<Mutex<CreatesUnderWay>>,
}

impl Drop for CreateUnderWay {
    fn drop(&mut self) {
        self.set.lock().unwrap().remove(&self.key);
    }
}

impl OpenTable {
    /// Adds `open` to `session` (within its caps, see `Session::has_room_for_open`) and to the
    /// server's table. Refused: the open is dropped, which gives its claim back.
    pub fn insert(
        &self,
        session: &Session,
        open: Arc<Open>,
        limits: &Limits,
    ) -> Result<(), NtStatus> {
        session.add_open(open.clone(), limits)?;
        self.by_persistent
            .lock()
            .unwrap()
            .insert(open.id.persistent, open);
        Ok(())
    }

    /// Marks the CREATE of `client` with `create_guid` as under way; `None` when one with the
    /// same ids already is (a replay of a CREATE that has not finished).
    pub fn begin_create(&self, client: [u8; 16], create_guid: [u8; 16]) -> Option<CreateUnderWay> {
        let key = (client, create_guid);
        if !self.creating.lock().unwrap().insert(key) {
            return None;
        }
        Some(CreateUnderWay {
            key,
            set: self.creating.clone(),
        })
    }

    /// The open with this persistent id, in whatever session.
    pub fn get(&self, persistent: u64) -> Option<Arc<Open>> {
        self.by_persistent.lock().unwrap().get(&persistent).cloned()
    }

    /// Removes the open `id` of `session` from both tables; the caller ends it.
    pub fn take(&self, session: &Session, id: FileId) -> Option<Arc<Open>> {
        let open = session.open(id)?;
        session.remove_open(id.volatile)?;
        self.forget(&open);
        Some(open)
    }

    /// Removes every open of `session` (of tree `tree` only, when given) from both tables; the
    /// caller ends them.
    pub fn take_all(&self, session: &Session, tree: Option<u32>) -> Vec<Arc<Open>> {
        let opens = session.remove_opens(tree);
        for o in &opens {
            self.forget(o);
        }
        opens
    }

    fn forget(&self, open: &Arc<Open>) {
        let mut m = self.by_persistent.lock().unwrap();
        if m.get(&open.id.persistent)
            .is_some_and(|o| Arc::ptr_eq(o, open))
        {
            m.remove(&open.id.persistent);
        }
    }

    /// How many opens the server has.
    pub fn len(&self) -> usize {
        self.by_persistent.lock().unwrap().len()
    }

    /// Whether the server has no open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every open, copied out of the table's lock, by persistent id.
    pub fn all(&self) -> Vec<Arc<Open>> {
        let mut v: Vec<_> = self
            .by_persistent
            .lock()
            .unwrap()
            .values()
            .cloned()
            .collect();
        v.sort_by_key(|o| o.id.persistent);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::sequence_behind;

    /// smbtorture replay.channel-sequence's table: each ChannelSequence against the open's,
    /// which moves to every one accepted ahead of it.
    #[test]
    fn channel_sequences_behind_the_open_are_refused_and_ahead_ones_taken() {
        let steps: [(u16, bool); 15] = [
            (0, true),
            (0x8000, false),
            (0x8001, false),
            (0xffff, false),
            (0x7fff, true),
            (0x7ffe, false),
            (0, false),
            (0x8000, true),
            (0xffff, true),
            (0, true),
            (1, true),
            (0, false),
            (1, true),
            (0xffff, false),
            (2, true),
        ];
        let mut current = 0u16;
        for (csn, ok) in steps {
            assert_eq!(
                !sequence_behind(current, csn),
                ok,
                "csn {csn:#06x} at {current:#06x}"
            );
            if ok {
                current = csn;
            }
        }
    }
}
