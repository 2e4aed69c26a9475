//! The server-wide table of open files: share modes, delete-pending state and byte-range locks
//! shared by every open of the same file (MS-FSA 2.1.1.4 Stream/File, 2.1.5.1.2).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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

/// A byte-range lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteLock {
    /// The open that holds it.
    pub owner: u64,
    /// First byte.
    pub offset: u64,
    /// Length in bytes.
    pub length: u64,
    /// Exclusive (true) or shared.
    pub exclusive: bool,
}

impl ByteLock {
    fn overlaps(&self, offset: u64, length: u64) -> bool {
        if self.length == 0 || length == 0 {
            return false;
        }
        let a_end = self.offset.saturating_add(self.length);
        let b_end = offset.saturating_add(length);
        self.offset < b_end && offset < a_end
    }
}

#[derive(Debug, Default)]
struct EntryState {
    holders: Vec<Holder>,
    delete_pending: bool,
    locks: Vec<ByteLock>,
}

/// The state shared by every open of one file.
#[derive(Debug, Default)]
pub struct FileEntry {
    state: Mutex<EntryState>,
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
    /// Registers an open with `access` and `share` unless it conflicts with existing opens.
    pub fn add_holder(&self, uid: u64, access: u32, share: u32) -> Result<(), FileConflict> {
        let mut s = self.state.lock().unwrap();
        if s.delete_pending {
            return Err(FileConflict::DeletePending);
        }
        if s.holders.iter().any(|h| conflicts(h, access, share)) {
            return Err(FileConflict::Sharing);
        }
        s.holders.push(Holder { uid, access, share });
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

    /// Removes an open and its locks; returns how many opens remain.
    pub fn remove_holder(&self, uid: u64) -> usize {
        let mut s = self.state.lock().unwrap();
        s.holders.retain(|h| h.uid != uid);
        s.locks.retain(|l| l.owner != uid);
        s.holders.len()
    }

    /// Whether the file is pending deletion.
    pub fn delete_pending(&self) -> bool {
        self.state.lock().unwrap().delete_pending
    }

    /// Sets or clears delete-pending.
    pub fn set_delete_pending(&self, on: bool) {
        self.state.lock().unwrap().delete_pending = on;
    }

    /// Takes a lock; refuses if it overlaps an exclusive lock of anyone, or if exclusive and it
    /// overlaps any lock.
    pub fn lock(&self, l: ByteLock) -> Result<(), FileConflict> {
        let mut s = self.state.lock().unwrap();
        let clash = s.locks.iter().any(|o| {
            o.overlaps(l.offset, l.length) && (l.exclusive || o.exclusive)
                || (o.offset == l.offset
                    && o.length == 0
                    && l.length == 0
                    && (o.exclusive || l.exclusive)
                    && o.owner != l.owner)
        });
        if clash {
            return Err(FileConflict::Locked);
        }
        s.locks.push(l);
        Ok(())
    }

    /// Releases the lock exactly matching `owner`, `offset` and `length`.
    pub fn unlock(&self, owner: u64, offset: u64, length: u64) -> Result<(), FileConflict> {
        let mut s = self.state.lock().unwrap();
        let pos = s
            .locks
            .iter()
            .position(|l| l.owner == owner && l.offset == offset && l.length == length)
            .ok_or(FileConflict::NotLocked)?;
        s.locks.remove(pos);
        Ok(())
    }

    /// Whether I/O by `owner` on the range conflicts with another open's lock.
    pub fn io_conflicts(&self, owner: u64, offset: u64, length: u64, write: bool) -> bool {
        let s = self.state.lock().unwrap();
        s.locks
            .iter()
            .any(|l| l.owner != owner && l.overlaps(offset, length) && (write || l.exclusive))
    }
}

/// Every open file of the server, keyed by share and case-folded path.
#[derive(Debug, Default)]
pub struct FileTable {
    entries: Mutex<HashMap<(usize, String), Arc<FileEntry>>>,
}

/// The key of a path in the table: case-folded.
pub fn fold(path: &str) -> String {
    path.to_lowercase()
}

impl FileTable {
    /// The entry for `path` on share `share`, created if absent.
    pub fn get_or_create(&self, share: usize, path: &str) -> Arc<FileEntry> {
        let mut m = self.entries.lock().unwrap();
        m.entry((share, fold(path))).or_default().clone()
    }

    /// The entry for `path`, if any open exists.
    pub fn get(&self, share: usize, path: &str) -> Option<Arc<FileEntry>> {
        self.entries
            .lock()
            .unwrap()
            .get(&(share, fold(path)))
            .cloned()
    }

    /// Drops the entry for `path` if it is `entry` and no open holds it.
    pub fn release(&self, share: usize, path: &str, entry: &Arc<FileEntry>) {
        let mut m = self.entries.lock().unwrap();
        let key = (share, fold(path));
        if let Some(e) = m.get(&key)
            && Arc::ptr_eq(e, entry)
            && e.state.lock().unwrap().holders.is_empty()
        {
            m.remove(&key);
        }
    }

    /// Moves an entry to a new path after a rename.
    pub fn rename(&self, share: usize, from: &str, to: &str) {
        let mut m = self.entries.lock().unwrap();
        if let Some(e) = m.remove(&(share, fold(from))) {
            m.insert((share, fold(to)), e);
        }
    }

    /// Whether any open exists on a path below `dir` (for directory renames and deletes).
    pub fn has_open_below(&self, share: usize, dir: &str) -> bool {
        let prefix = format!("{}/", fold(dir));
        let m = self.entries.lock().unwrap();
        m.keys().any(|(s, p)| *s == share && p.starts_with(&prefix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_modes() {
        let e = FileEntry::default();
        e.add_holder(1, FILE_READ_DATA, SHARE_READ).unwrap();
        assert_eq!(
            e.add_holder(2, FILE_WRITE_DATA, SHARE_READ | SHARE_WRITE),
            Err(FileConflict::Sharing)
        );
        e.add_holder(3, FILE_READ_DATA, SHARE_READ | SHARE_WRITE)
            .unwrap();
        // attribute-only opens never conflict
        e.add_holder(4, 0x80, 0).unwrap();
        assert_eq!(e.remove_holder(1), 2);
        e.set_delete_pending(true);
        assert_eq!(
            e.add_holder(5, FILE_READ_DATA, 7),
            Err(FileConflict::DeletePending)
        );
    }

    #[test]
    fn locks() {
        let e = FileEntry::default();
        e.lock(ByteLock {
            owner: 1,
            offset: 0,
            length: 10,
            exclusive: true,
        })
        .unwrap();
        assert!(
            e.lock(ByteLock {
                owner: 2,
                offset: 5,
                length: 10,
                exclusive: false
            })
            .is_err()
        );
        e.lock(ByteLock {
            owner: 2,
            offset: 10,
            length: 10,
            exclusive: false,
        })
        .unwrap();
        e.lock(ByteLock {
            owner: 3,
            offset: 10,
            length: 10,
            exclusive: false,
        })
        .unwrap();
        assert!(e.io_conflicts(2, 0, 1, false));
        assert!(!e.io_conflicts(1, 0, 1, true));
        assert_eq!(e.unlock(1, 0, 9), Err(FileConflict::NotLocked));
        e.unlock(1, 0, 10).unwrap();
        assert!(!e.io_conflicts(2, 0, 1, true));
    }
}
