//! ChangeTime set by a client (FileBasicInformation) on a filesystem that cannot set ctime.
//!
//! Linux offers no way to set a file's ctime, yet SMB clients set ChangeTime and read it back.
//! The override is kept in memory, keyed by (device, inode), together with the real ctime seen
//! right after it was set: any later change to the file moves the real ctime, and the override
//! then lapses, exactly as a real ChangeTime would move on. Bounded; not persistent.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Most overrides kept; the table is cleared when it would grow past this.
const MAX_ENTRIES: usize = 65_536;

type Table = HashMap<(u64, u64), (u64, u64)>;

fn table() -> &'static Mutex<Table> {
    static T: OnceLock<Mutex<Table>> = OnceLock::new();
    T.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Records that `file` (dev, ino) shows `change` while its real ctime stays `real_ctime`.
pub(crate) fn set(file: (u64, u64), change: u64, real_ctime: u64) {
    let mut t = table().lock().unwrap_or_else(|e| e.into_inner());
    if t.len() >= MAX_ENTRIES && !t.contains_key(&file) {
        t.clear();
    }
    t.insert(file, (change, real_ctime));
}

/// Drops the override of `file` (removed: its inode number may be given to a new object).
pub(crate) fn forget(file: (u64, u64)) {
    table()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&file);
}

/// The ChangeTime to report for `file` whose real ctime is `real_ctime`.
pub(crate) fn get(file: (u64, u64), real_ctime: u64) -> u64 {
    let mut t = table().lock().unwrap_or_else(|e| e.into_inner());
    match t.get(&file) {
        Some(&(change, seen)) if seen == real_ctime => change,
        Some(_) => {
            t.remove(&file);
            real_ctime
        }
        None => real_ctime,
    }
}

/// The override of `file` if it is still in force for `real_ctime`.
pub(crate) fn active(file: (u64, u64), real_ctime: u64) -> Option<u64> {
    let t = table().lock().unwrap_or_else(|e| e.into_inner());
    match t.get(&file) {
        Some(&(change, seen)) if seen == real_ctime => Some(change),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_lapses_when_ctime_moves() {
        set((1, 99), 5, 100);
        assert_eq!(get((1, 99), 100), 5);
        assert_eq!(get((1, 99), 101), 101);
        assert_eq!(get((1, 99), 100), 100);
    }

    #[test]
    fn a_removed_file_leaves_no_override_for_its_inode() {
        set((2, 7), 5, 100);
        forget((2, 7));
        assert_eq!(get((2, 7), 100), 100);
    }
}
