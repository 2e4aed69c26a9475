//! The server-wide table of open files: share modes, delete-pending state and byte-range locks
//! shared by every open of the same file (MS-FSA 2.1.1.4 Stream/File, 2.1.5.1.2).
//!
//! MS-FSA keeps the File and its Streams apart, and so does the table: an entry is one *stream*
//! (the unnamed data stream, i.e. the file itself, or a named stream), with its own share
//! modes, locks and caching; the entries of one file share a [`FileWide`] record with what
//! belongs to the file: its delete-pending state (deleting the file deletes all its streams)
//! and how many opens its streams have (the file goes when the last of them closes).

pub mod admission;
pub mod write_time;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

pub use admission::{Admission, Admit};

use tokio::sync::oneshot;

use super::locks::RangeLocks;
pub use super::locks::{ByteLock, WaitEnd};
use crate::oplock::{FileCaching, LeaseId, LeaseTable};

use crate::access::{DELETE, FILE_APPEND_DATA, FILE_EXECUTE, FILE_READ_DATA, FILE_WRITE_DATA};

/// FILE_SHARE_READ.
pub const SHARE_READ: u32 = 0x1;
/// FILE_SHARE_WRITE.
pub const SHARE_WRITE: u32 = 0x2;
/// FILE_SHARE_DELETE.
pub const SHARE_DELETE: u32 = 0x4;

/// One open's claim on a file.
#[derive(Debug, Clone, Copy)]
struct Holder {
    uid: u64,
    access: u32,
    share: u32,
}

#[derive(Debug, Default)]
struct EntryState {
    holders: Vec<Holder>,
    delete_pending: bool,
    locks: RangeLocks,
    /// Oplocks and leases of the file's opens, changed under the same lock as the share
    /// modes so that a share check, its break check and the grant are one step.
    caching: FileCaching,
    /// Counts changes that may end a wait for the file (an acknowledgment, a close, a break
    /// timing out): a waiter notes it, then waits for it to move.
    version: u64,
}

impl EntryState {
    /// Whether open `uid` holds the file: only holders take locks or wait for them.
    fn holds(&self, uid: u64) -> bool {
        self.holders.iter().any(|h| h.uid == uid)
    }
}

/// The state shared by every open of one file.
///
/// The entry, not the opens, knows where the file is: `path` is the file's current path from
/// the share root as stored on disk, kept in this one place. A rename through any handle moves
/// it for every open of the file, and delete-on-close removes the file at this path, so an open
/// always acts on the file it opened rather than on whatever now bears the name it was opened
/// by. Opens of things *below* a directory are not rewritten one by one: the table rewrites the
/// paths of every entry below a renamed directory (see [`FileTable::renamed`]).
#[derive(Debug)]
pub struct FileEntry {
    key: FileKey,
    path: Mutex<String>,
    /// The stream's name ("" for the unnamed stream), as its open found or last renamed it.
    stream: Mutex<String>,
    state: Mutex<EntryState>,
    /// Wakes the operations waiting on the file (see `EntryState::version`).
    changed: tokio::sync::Notify,
    /// What the entries of all streams of the file share.
    file: Arc<FileWide>,
}

/// The state of a file shared by the entries of its streams (MS-FSA 2.1.1.3 File).
#[derive(Debug, Default)]
pub struct FileWide {
    /// The file is pending deletion (set through its unnamed stream).
    delete_pending: AtomicBool,
    /// Opens of all the file's streams.
    opens: AtomicUsize,
    /// Entries of named streams of the file in the table.
    named: AtomicUsize,
    /// The file's LastWriteTime as its opens move it.
    write_times: Mutex<write_time::WriteTimes>,
}
/// Why an open or a lock was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileConflict {
    /// Share modes conflict: STATUS_SHARING_VIOLATION.
    Sharing,
    /// The file is pending deletion: STATUS_DELETE_PENDING.
    DeletePending,
    /// A byte range is locked: STATUS_LOCK_NOT_GRANTED / FILE_LOCK_CONFLICT.
    Locked,
    /// Unlock of a range not locked: STATUS_RANGE_NOT_LOCKED.
    NotLocked,
    /// The file holds as many locks as allowed: STATUS_INSUFFICIENT_RESOURCES.
    TooManyLocks,
    /// The open no longer holds the file (it closed meanwhile): STATUS_FILE_CLOSED.
    Closed,
}

const DATA_ACCESS: u32 =
    FILE_READ_DATA | FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_EXECUTE | DELETE;

fn conflicts(a: &Holder, access: u32, share: u32) -> bool {
    let clash = |acc: u32, sh: u32| {
        (acc & (FILE_READ_DATA | FILE_EXECUTE) != 0 && sh & SHARE_READ == 0)
            || (acc & (FILE_WRITE_DATA | FILE_APPEND_DATA) != 0 && sh & SHARE_WRITE == 0)
            || (acc & DELETE != 0 && sh & SHARE_DELETE == 0)
    };
    if a.access & DATA_ACCESS == 0 || access & DATA_ACCESS == 0 {
        return false;
    }
    clash(a.access, share) || clash(access, a.share)
}

impl FileEntry {
    fn new(key: FileKey, path: &str, stream: &str, file: Arc<FileWide>) -> Self {
        Self {
            key,
            path: Mutex::new(path.to_owned()),
            stream: Mutex::new(stream.to_owned()),
            state: Mutex::new(EntryState::default()),
            changed: tokio::sync::Notify::new(),
            file,
        }
    }

    /// Whether this entry is a named stream (not the file itself).
    pub fn is_stream(&self) -> bool {
        self.key.stream != 0
    }

    /// The stream's current name ("" for the unnamed stream).
    pub fn stream_name(&self) -> String {
        self.stream.lock().unwrap().clone()
    }

    /// Records that the stream was renamed to `name`.
    pub fn set_stream_name(&self, name: &str) {
        *self.stream.lock().unwrap() = name.to_owned();
    }

    /// The file's write time as its opens move it (shared by all its streams' entries).
    pub fn write_times(&self) -> std::sync::MutexGuard<'_, write_time::WriteTimes> {
        self.file
            .write_times
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How many opens the file has, over all its streams.
    pub fn file_opens(&self) -> usize {
        self.file.opens.load(Ordering::SeqCst)
    }

    /// Whether the file (not just this stream) is pending deletion.
    pub fn file_delete_pending(&self) -> bool {
        self.file.delete_pending.load(Ordering::SeqCst)
    }

    /// Whether this named stream itself is pending deletion.
    pub fn stream_delete_pending(&self) -> bool {
        self.is_stream() && self.state.lock().unwrap().delete_pending
    }

    /// Whether this entry refuses new opens as pending deletion: its own stream, or its file.
    fn refuses_as_deleted(&self, s: &EntryState) -> bool {
        s.delete_pending || self.file_delete_pending()
    }

    /// The file's current path from the share root, as stored.
    pub fn path(&self) -> String {
        self.path.lock().unwrap().clone()
    }

    /// The file's key in the table.
    pub fn key(&self) -> FileKey {
        self.key
    }

    /// The byte-range locks `owner` holds.
    pub fn locks_held_by(&self, owner: u64) -> Vec<ByteLock> {
        self.state.lock().unwrap().locks.held_by(owner)
    }

    /// The file's identity on its share.
    pub fn file_id(&self) -> u64 {
        self.key.file_id
    }

    /// Registers an open with `access` and `share` unless it conflicts with existing opens.
    fn add_holder(&self, uid: u64, access: u32, share: u32) -> Result<(), FileConflict> {
        let mut s = self.state.lock().unwrap();
        if self.refuses_as_deleted(&s) {
            return Err(FileConflict::DeletePending);
        }
        if s.holders.iter().any(|h| conflicts(h, access, share)) {
            return Err(FileConflict::Sharing);
        }
        s.holders.push(Holder { uid, access, share });
        self.file.opens.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// Whether an open with `access` and `share` would conflict with the existing opens.
    pub fn would_conflict(&self, access: u32, share: u32) -> bool {
        self.state
            .lock()
            .unwrap()
            .holders
            .iter()
            .any(|h| conflicts(h, access, share))
    }

    /// Like [`FileEntry::would_conflict`], counting only the opens whose uid `counts`.
    pub fn would_conflict_with(
        &self,
        access: u32,
        share: u32,
        counts: impl Fn(u64) -> bool,
    ) -> bool {
        self.state
            .lock()
            .unwrap()
            .holders
            .iter()
            .any(|h| counts(h.uid) && conflicts(h, access, share))
    }

    /// The uids of the opens that hold the file.
    pub fn holder_uids(&self) -> Vec<u64> {
        self.state
            .lock()
            .unwrap()
            .holders
            .iter()
            .map(|h| h.uid)
            .collect()
    }

    /// How many opens hold the file.
    pub fn holders(&self) -> usize {
        self.state.lock().unwrap().holders.len()
    }

    /// Removes an open, its locks, its waiting lock requests (waiters that now fit are
    /// granted) and its caching, and wakes the file's waiters; returns how many opens remain.
    /// Only a [`Claim`] does.
    fn remove_holder(&self, uid: u64) -> usize {
        let left = {
            let mut s = self.state.lock().unwrap();
            let before = s.holders.len();
            s.holders.retain(|h| h.uid != uid);
            let gone = before - s.holders.len();
            self.file.opens.fetch_sub(gone, Ordering::SeqCst);
            s.locks.release_owner(uid);
            s.caching.on_close(uid);
            s.version += 1;
            s.holders.len()
        };
        self.changed.notify_waiters();
        left
    }

    /// Whether the stream is pending deletion: a named stream's own state or its file's (what
    /// FileStandardInformation reports).
    pub fn delete_pending(&self) -> bool {
        let s = self.state.lock().unwrap();
        self.refuses_as_deleted(&s)
    }

    /// Sets or clears delete-pending: of the file, through its unnamed stream; of the stream
    /// alone, through a named one.
    pub fn set_delete_pending(&self, on: bool) {
        if self.is_stream() {
            self.state.lock().unwrap().delete_pending = on;
        } else {
            self.file.delete_pending.store(on, Ordering::SeqCst);
        }
    }

    /// Takes every lock of `locks` (all of one owner, a holder of the file) or none: refuses
    /// when one meets a lock in its way (held, or an earlier one of the request; see
    /// [`super::locks`]) or when the file would hold more than `max` locks. On refusal nothing
    /// changed and the index of the refused lock comes with the reason.
    pub fn lock_all(&self, locks: &[ByteLock], max: usize) -> Result<(), (usize, FileConflict)> {
        let mut s = self.state.lock().unwrap();
        if locks.iter().any(|l| !s.holds(l.owner)) {
            return Err((0, FileConflict::Closed));
        }
        s.locks.lock_all(locks, max)
    }

    /// What [`FileEntry::lock_all`] would refuse, without taking anything.
    pub fn check_all(&self, locks: &[ByteLock], max: usize) -> Result<(), (usize, FileConflict)> {
        match self.state.lock().unwrap().locks.first_refusal(locks, max) {
            Some(refused) => Err(refused),
            None => Ok(()),
        }
    }

    /// Takes one lock (see [`FileEntry::lock_all`]).
    pub fn lock(&self, l: ByteLock, max: usize) -> Result<(), FileConflict> {
        self.lock_all(&[l], max).map_err(|(_, c)| c)
    }

    /// Takes `l` now (`None`), or queues it as waiter `id` when a lock is in the way: the
    /// receiver learns when it is granted, or dropped because its open left the file. Beyond
    /// `max` locks, held or waited for, it is refused.
    pub fn lock_or_wait(
        &self,
        l: ByteLock,
        max: usize,
        id: u64,
    ) -> Result<Option<oneshot::Receiver<WaitEnd>>, FileConflict> {
        let mut s = self.state.lock().unwrap();
        if !s.holds(l.owner) {
            return Err(FileConflict::Closed);
        }
        s.locks.lock_or_wait(l, max, id)
    }

    /// How many byte-range locks `owner` holds on the file.
    pub fn locks_of(&self, owner: u64) -> usize {
        self.state.lock().unwrap().locks.held_by(owner).len()
    }

    /// Takes waiter `id` out of the queue; false when it is no longer there (granted, or
    /// dropped with its open).
    pub fn cancel_wait(&self, id: u64) -> bool {
        self.state.lock().unwrap().locks.cancel_wait(id)
    }

    /// Releases `owner`'s lock of exactly `offset` and `length` (an exclusive one before a
    /// shared one stacked on it); waiters that now fit are granted.
    pub fn unlock(&self, owner: u64, offset: u64, length: u64) -> Result<(), FileConflict> {
        self.state
            .lock()
            .unwrap()
            .locks
            .unlock(owner, offset, length)
    }

    /// Gives back a lock equal to `l` if it is held (a wait granted too late to be answered);
    /// waiters that now fit are granted.
    pub fn release(&self, l: &ByteLock) {
        self.state.lock().unwrap().locks.release(l);
    }

    /// Whether I/O by `owner` on the range conflicts with a lock: for a read, another open's
    /// exclusive lock; for a write, that or any shared lock (MS-FSA 2.1.4.10).
    pub fn io_conflicts(&self, owner: u64, offset: u64, length: u64, write: bool) -> bool {
        self.state
            .lock()
            .unwrap()
            .locks
            .io_conflicts(owner, offset, length, write)
    }

    /// How many lock requests wait on the file.
    pub fn lock_waiters(&self) -> usize {
        self.state.lock().unwrap().locks.waiting()
    }
}

/// The identity of a file in the table: its share and the backend's stable file id (the inode
/// number on POSIX), so that every spelling of a name (case, Unicode case variants such as
/// U+017F, `..` detours) that resolves to the file meets the same entry. The id is stable for as
/// long as any open holds the file (an open descriptor keeps the inode from being reused), which
/// is exactly the lifetime of an entry. The volume keeps apart files of two file systems
/// mounted inside one share, whose inode numbers may coincide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileKey {
    /// The share's index.
    pub share: usize,
    /// `vfs::FileStat::volume` of the file.
    pub volume: u64,
    /// `vfs::FileStat::file_id` of the file.
    pub file_id: u64,
    /// `vfs::Opened::stream_id` of a named stream of the file; 0 for the file itself (its
    /// unnamed data stream, or a directory).
    pub stream: u64,
}

impl FileKey {
    /// The key of the file `stat` describes, on share `share`.
    pub fn of(share: usize, stat: &vfs::FileStat) -> Self {
        Self {
            share,
            volume: stat.volume,
            file_id: stat.file_id,
            stream: 0,
        }
    }

    /// The key of the stream `stream` (0: the unnamed one) of the file `stat` describes.
    pub fn of_stream(share: usize, stat: &vfs::FileStat, stream: u64) -> Self {
        Self {
            stream,
            ..Self::of(share, stat)
        }
    }

    /// The key of the file itself (its unnamed stream).
    pub fn file(&self) -> Self {
        Self { stream: 0, ..*self }
    }
}

/// Every open file of the server, keyed by [`FileKey`]. An entry exists exactly while an open
/// holds it: [`FileTable::claim`] finds or makes it and registers the open under the table's
/// lock, and dropping the [`Claim`] drops it under the same lock once the last holder is gone.
///
/// Paths are resolved eagerly: each entry holds its file's current path, and a rename moves
/// the renamed file's path and those of the entries below it in one step under the table's
/// lock, so a lookup never walks a chain of parents. The one window left is an open below a
/// directory that resolved its path before the directory's rename and registers after it; its
/// path is then stale, which is why whoever acts on an entry's path by name (delete-on-close)
/// first checks that the name still leads to the entry's file id.
#[derive(Debug, Default)]
pub struct FileTable {
    shared: Arc<Shared>,
}

/// What the table and its claims share.
#[derive(Debug, Default)]
struct Shared {
    /// The break timeout of the files' caching (`limits.oplock_break_timeout`).
    break_timeout: Option<std::time::Duration>,
    entries: Mutex<Entries>,
    /// The shared records of the files with entries, by the key of the unnamed stream (locked
    /// only under `entries`).
    files: Mutex<HashMap<FileKey, Arc<FileWide>>>,
    /// Lease keys in use and their files (MS-SMB2 3.3.1.4 LeaseTableList).
    leases: Mutex<LeaseTable<FileKey>>,
}

/// One open's place in a file's entry: made by [`FileTable::claim`], given back (the open's
/// holder and locks removed, the entry dropped once no one holds it) when dropped.
#[derive(Debug)]
pub struct Claim {
    entry: Arc<FileEntry>,
    uid: u64,
    /// The lease key the open claimed in the table's lease list.
    lease: Option<LeaseId>,
    table: Weak<Shared>,
}

impl Claim {
    /// The file's entry.
    pub fn entry(&self) -> &Arc<FileEntry> {
        &self.entry
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.entry.remove_holder(self.uid);
        if let Some(table) = self.table.upgrade() {
            if let Some(id) = &self.lease {
                table.leases.lock().unwrap().release(id);
            }
            release(&table, &self.entry);
        }
    }
}

/// Drops `entry` from the table if no open holds it any more.
fn release(table: &Shared, entry: &Arc<FileEntry>) {
    let mut m = table.entries.lock().unwrap();
    if let Some(e) = m.get(&entry.key)
        && Arc::ptr_eq(e, entry)
        && e.holders() == 0
    {
        table.forget_entry(&mut m, &entry.key);
    }
}

/// The entries of the table by key.
type Entries = HashMap<FileKey, Arc<FileEntry>>;

impl Shared {
    /// Removes the entry `key` from `m` (whose lock the caller holds), and its file's shared
    /// record once no entry of the file is left.
    fn forget_entry(&self, m: &mut Entries, key: &FileKey) {
        let Some(e) = m.remove(key) else { return };
        let named = if e.is_stream() {
            e.file.named.fetch_sub(1, Ordering::SeqCst) - 1
        } else {
            e.file.named.load(Ordering::SeqCst)
        };
        if named == 0 && !m.contains_key(&key.file()) {
            self.files.lock().unwrap().remove(&key.file());
        }
    }
}

impl FileTable {
    /// An empty table whose files give break acknowledgments `break_timeout`.
    pub fn new(break_timeout: std::time::Duration) -> Self {
        Self {
            shared: Arc::new(Shared {
                break_timeout: Some(break_timeout),
                ..Shared::default()
            }),
        }
    }

    /// A new entry for stream `key` (named `stream`) of the file at `path`, sharing the file's
    /// record with the file's other entries. Called under the `entries` lock.
    fn new_entry(&self, key: FileKey, path: &str, stream: &str) -> Arc<FileEntry> {
        let file = {
            let mut files = self.shared.files.lock().unwrap();
            files.entry(key.file()).or_default().clone()
        };
        if key.stream != 0 {
            file.named.fetch_add(1, Ordering::SeqCst);
        }
        let e = FileEntry::new(key, path, stream, file);
        if let Some(t) = self.shared.break_timeout {
            e.state.lock().unwrap().caching = FileCaching::new(t);
        }
        Arc::new(e)
    }

    /// Registers open `uid` (with `access` and `share_access`) on the file `key`, found at
    /// `path`, creating its entry if absent; refuses on a share-mode conflict or a pending
    /// delete. The claim gives the place back when dropped. An existing entry keeps its path: renames keep it current, while `path` was
    /// resolved before the claim and may predate a rename that completed meanwhile.
    pub fn claim(
        &self,
        key: FileKey,
        path: &str,
        uid: u64,
        access: u32,
        share_access: u32,
    ) -> Result<Claim, FileConflict> {
        let mut m = self.shared.entries.lock().unwrap();
        let entry = match m.get(&key) {
            Some(e) => e.clone(),
            None => {
                let e = self.new_entry(key, path, "");
                m.insert(key, e.clone());
                e
            }
        };
        match entry.add_holder(uid, access, share_access) {
            Ok(()) => Ok(Claim {
                entry,
                uid,
                lease: None,
                table: Arc::downgrade(&self.shared),
            }),
            Err(c) => {
                if entry.holders() == 0 {
                    self.shared.forget_entry(&mut m, &key);
                }
                Err(c)
            }
        }
    }

    /// (byte-range locks held, lock requests waiting) over every file, counted now (for the
    /// metrics: a scrape walks the table, the request path keeps no counter).
    pub fn lock_counts(&self) -> (usize, usize) {
        let entries: Vec<Arc<FileEntry>> = self
            .shared
            .entries
            .lock()
            .unwrap()
            .values()
            .cloned()
            .collect();
        entries.iter().fold((0, 0), |(held, waiting), e| {
            let s = e.state.lock().unwrap();
            (held + s.locks.held(), waiting + s.locks.waiting())
        })
    }

    /// Lease keys in use (MS-SMB2 3.3.1.4 LeaseTableList).
    pub fn lease_count(&self) -> usize {
        self.shared.leases.lock().unwrap().len()
    }

    /// Some entry of the table, if any file is held (for tests that check nothing is left).
    pub fn get_any(&self) -> Option<Arc<FileEntry>> {
        self.shared.entries.lock().unwrap().values().next().cloned()
    }

    /// The entry of file `key`, if any open holds it.
    pub fn get(&self, key: FileKey) -> Option<Arc<FileEntry>> {
        self.shared.entries.lock().unwrap().get(&key).cloned()
    }

    /// Records that the file of `entry` moved from `from` to `to`: its path, and, for a
    /// directory, the paths of the entries of everything below it. (A directory is renamed
    /// only when nothing below it is open, as Windows does, but an open that raced with the
    /// rename still gets its path right.)
    pub fn renamed(&self, entry: &FileEntry, from: &str, to: &str) {
        let m = self.shared.entries.lock().unwrap();
        *entry.path.lock().unwrap() = to.to_owned();
        for e in m.values().filter(|e| e.key.file() == entry.key.file()) {
            // The file's streams are where the file is.
            *e.path.lock().unwrap() = to.to_owned();
        }
        let prefix = format!("{}/", vfs::fold_name(from));
        for e in m.values().filter(|e| e.key.share == entry.key.share) {
            let mut p = e.path.lock().unwrap();
            if vfs::fold_name(&p).starts_with(&prefix) {
                // The prefix is `from` in another spelling of the same length in chars.
                let rest: String = p.chars().skip(from.chars().count()).collect();
                *p = format!("{to}{rest}");
            }
        }
    }

    /// How many opens the named streams of the file of `entry` have (a file whose streams are
    /// open is not renamed).
    pub fn stream_opens(&self, entry: &FileEntry) -> usize {
        if entry.file.named.load(Ordering::SeqCst) == 0 {
            return 0;
        }
        let m = self.shared.entries.lock().unwrap();
        m.values()
            .filter(|e| e.is_stream() && e.key.file() == entry.key.file())
            .map(|e| e.holders())
            .sum()
    }

    /// Whether any open exists on a path below `dir` (for directory renames and deletes).
    pub fn has_open_below(&self, share: usize, dir: &str) -> bool {
        let prefix = format!("{}/", vfs::fold_name(dir));
        let m = self.shared.entries.lock().unwrap();
        m.values()
            .any(|e| e.key.share == share && vfs::fold_name(&e.path()).starts_with(&prefix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: FileKey = FileKey {
        share: 0,
        volume: 0,
        file_id: 7,
        stream: 0,
    };

    fn bl(owner: u64, offset: u64, length: u64, exclusive: bool) -> ByteLock {
        ByteLock {
            owner,
            offset,
            length,
            exclusive,
        }
    }

    /// Files of two volumes mounted inside one share may have the same inode number: they are
    /// two files to the table.
    #[test]
    fn the_same_inode_on_another_volume_is_another_file() {
        let t = FileTable::default();
        let _a = t.claim(KEY, "a", 1, FILE_READ_DATA, 0).unwrap();
        let mounted = FileKey { volume: 9, ..KEY };
        assert!(t.claim(mounted, "m/a", 2, FILE_READ_DATA, 0).is_ok());
        assert_eq!(
            t.claim(KEY, "a", 3, FILE_READ_DATA, 0).err(),
            Some(FileConflict::Sharing)
        );
    }

    #[test]
    fn share_modes() {
        let t = FileTable::default();
        let c1 = t.claim(KEY, "a", 1, FILE_READ_DATA, SHARE_READ).unwrap();
        let e = c1.entry().clone();
        assert_eq!(
            t.claim(KEY, "A", 2, FILE_WRITE_DATA, SHARE_READ | SHARE_WRITE)
                .err(),
            Some(FileConflict::Sharing)
        );
        let _c3 = t
            .claim(KEY, "a", 3, FILE_READ_DATA, SHARE_READ | SHARE_WRITE)
            .unwrap();
        // attribute-only opens never conflict
        let _c4 = t.claim(KEY, "a", 4, 0x80, 0).unwrap();
        drop(c1);
        assert_eq!(e.holders(), 2);
        e.set_delete_pending(true);
        assert_eq!(
            t.claim(KEY, "a", 5, FILE_READ_DATA, 7).err(),
            Some(FileConflict::DeletePending)
        );
    }

    #[test]
    fn entry_lives_exactly_while_held() {
        let t = FileTable::default();
        let c = t.claim(KEY, "a", 1, FILE_READ_DATA, 0).unwrap();
        drop(c);
        assert!(t.get(KEY).is_none());
        let c = t.claim(KEY, "a", 2, FILE_READ_DATA, 0).unwrap();
        assert!(Arc::ptr_eq(&t.get(KEY).unwrap(), c.entry()));
        // A refused claim leaves the entry to its holder.
        assert!(t.claim(KEY, "a", 3, FILE_WRITE_DATA, 0).is_err());
        assert!(t.get(KEY).is_some());
        drop(c);
        assert!(t.get(KEY).is_none());
    }

    #[test]
    fn rename_moves_paths_below() {
        let t = FileTable::default();
        let dir_claim = t.claim(KEY, "Dir", 1, 0x80, 7).unwrap();
        let dir = dir_claim.entry();
        let other = FileKey {
            share: 0,
            volume: 0,
            file_id: 8,
            stream: 0,
        };
        let f_claim = t.claim(other, "dir/Sub/f.txt", 2, 0x80, 7).unwrap();
        let f = f_claim.entry();
        assert!(t.has_open_below(0, "DIR"));
        t.renamed(dir, "Dir", "New");
        assert_eq!(dir.path(), "New");
        assert_eq!(f.path(), "New/Sub/f.txt");
        assert!(!t.has_open_below(0, "dir"));
        assert!(t.has_open_below(0, "new/sub"));
    }

    /// A named stream has share modes of its own, while delete-pending and the count of opens
    /// are its file's.
    #[test]
    fn streams_share_their_file_but_not_its_share_modes() {
        let t = FileTable::default();
        let stream = FileKey { stream: 42, ..KEY };
        let s = t.claim(stream, "a", 1, FILE_WRITE_DATA, 0).unwrap();
        let other = FileKey { stream: 43, ..KEY };
        let o = t.claim(other, "a", 2, FILE_WRITE_DATA, 0).unwrap();
        let f = t.claim(KEY, "a", 3, FILE_WRITE_DATA, 0).unwrap();
        assert_eq!(
            t.claim(stream, "a", 4, FILE_WRITE_DATA, 0).err(),
            Some(FileConflict::Sharing)
        );
        assert_eq!(f.entry().file_opens(), 3);
        assert!(s.entry().is_stream() && !f.entry().is_stream());
        // A stream's delete-pending is its own; the file's reaches every stream.
        s.entry().set_delete_pending(true);
        assert!(!f.entry().delete_pending() && s.entry().stream_delete_pending());
        f.entry().set_delete_pending(true);
        assert!(o.entry().delete_pending() && o.entry().file_delete_pending());
        assert_eq!(
            t.claim(other, "a", 5, 0x80, 7).err(),
            Some(FileConflict::DeletePending)
        );
        drop((s, o, f));
        assert!(t.get_any().is_none());
        // Nothing of the deleted file's state is left for a file that gets its id.
        let again = t.claim(KEY, "a", 6, FILE_READ_DATA, 7).unwrap();
        assert!(!again.entry().delete_pending());
    }

    /// Locks belong to holders: they go with their open, and an open that left takes none.
    #[test]
    fn locks_leave_with_their_open() {
        let t = FileTable::default();
        let a = t.claim(KEY, "a", 1, FILE_READ_DATA, 7).unwrap();
        let b = t.claim(KEY, "a", 2, FILE_READ_DATA, 7).unwrap();
        let e = a.entry().clone();
        e.lock(bl(1, 0, 10, true), 10).unwrap();
        let mut waiting = e.lock_or_wait(bl(2, 0, 10, true), 10, 99).unwrap().unwrap();
        drop(a);
        assert_eq!(waiting.try_recv(), Ok(WaitEnd::Granted));
        assert!(e.io_conflicts(3, 0, 1, false));
        assert_eq!(e.lock(bl(1, 20, 1, true), 10), Err(FileConflict::Closed));
        drop(b);
        assert!(!e.io_conflicts(3, 0, 1, false));
    }
}
