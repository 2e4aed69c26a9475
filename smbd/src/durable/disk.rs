//! The journal's files in the state directory, and the operations on them that must leave a
//! usable journal whatever instant a crash or power loss strikes:
//!
//! - `handles.journal`: the journal ([`super::frame`] describes its format).
//! - `handles.journal.tmp`: a snapshot being written. Only a rename makes it the journal, so
//!   one found at open is from an interrupted compaction and is removed.
//! - `handles.journal.damaged`: a copy of a journal found damaged before its end, kept for
//!   inspection before the damage is cut off (a later one replaces it).
//! - `handles.lock`: locked while a store has the directory open, so two servers never
//!   append to one journal.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Write};
use std::path::Path;

use super::frame::{self, End, Entry, MAGIC};

/// The journal's file name in the state directory.
pub(crate) const JOURNAL_FILE: &str = "handles.journal";
const TMP_FILE: &str = "handles.journal.tmp";
/// Where a journal damaged before its end is copied before the damage is cut off.
pub(crate) const DAMAGED_FILE: &str = "handles.journal.damaged";
const LOCK_FILE: &str = "handles.lock";

/// What replaying a journal gives.
pub(crate) struct Replayed {
    /// The Put frame of every live record, by persistent id.
    pub(crate) live: BTreeMap<u64, Vec<u8>>,
    /// The journal, opened for appending after its last good entry.
    pub(crate) file: File,
    /// Its length.
    pub(crate) len: u64,
}

/// How often a held directory lock is tried again, and how long apart.
const LOCK_ATTEMPTS: u32 = 20;
const LOCK_RETRY: std::time::Duration = std::time::Duration::from_millis(50);

/// Creates `dir` if it is missing and locks it for this store; fails with `WouldBlock` when
/// another store (in this process or another) still has it after a short wait. (The wait
/// covers a lock briefly held by a child process between its fork and exec, and a restarted
/// server overlapping the exit of the old one.)
pub(crate) fn lock_dir(dir: &Path) -> io::Result<File> {
    if !dir.is_dir() {
        fs::create_dir_all(dir)?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
    }
    let path = dir.join(LOCK_FILE);
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    for attempt in 0..=LOCK_ATTEMPTS {
        match lock.try_lock() {
            Ok(()) => return Ok(lock),
            Err(TryLockError::WouldBlock) if attempt < LOCK_ATTEMPTS => {
                std::thread::sleep(LOCK_RETRY);
            }
            Err(TryLockError::WouldBlock) => break,
            Err(TryLockError::Error(e)) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::WouldBlock,
        format!("{} is held by another handle store", path.display()),
    ))
}

/// Reads the journal in `dir` (creating an empty one if there is none), cuts off a torn or
/// damaged tail, and opens it for appending.
///
/// A file without the journal's magic, or an entry whose checksum holds but whose contents do
/// not decode, is an `InvalidData` error and the file is left as it is: neither is what a crash
/// leaves, and cutting would throw away records a newer server wrote.
pub(crate) fn replay(dir: &Path) -> io::Result<Replayed> {
    remove_if_present(&dir.join(TMP_FILE))?;
    let path = dir.join(JOURNAL_FILE);
    let mut file = match OpenOptions::new().read(true).append(true).open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Replayed {
                live: BTreeMap::new(),
                file: write_snapshot(dir, &[])?,
                len: MAGIC.len() as u64,
            });
        }
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let Some(body) = bytes.strip_prefix(&MAGIC[..]) else {
        let what = "does not start with the magic of handle journal format 1";
        return Err(invalid_data(format!("{}: {what}", path.display())));
    };
    let mut live = BTreeMap::new();
    let scanned = frame::scan(body, |entry, frame| match entry {
        Entry::Put(rec) => {
            live.insert(rec.persistent_id, frame.to_vec());
        }
        Entry::Remove(id) => {
            live.remove(&id);
        }
    })
    .map_err(|(at, e)| {
        let at = at + MAGIC.len();
        invalid_data(format!("{}: entry at byte {at}: {e}", path.display()))
    })?;
    let good = MAGIC.len() + scanned.good_len;
    if scanned.end != End::Clean {
        cut_tail(dir, &file, &bytes, good, scanned.end)?;
    }
    Ok(Replayed {
        live,
        file,
        len: good as u64,
    })
}

/// Truncates the journal to its first `good` bytes, durably; when the damage is not a torn
/// last append, first keeps a copy of the whole file.
fn cut_tail(dir: &Path, file: &File, bytes: &[u8], good: usize, end: End) -> io::Result<()> {
    let journal = dir.join(JOURNAL_FILE);
    let dropped = bytes.len() - good;
    if end == End::Corrupt {
        let copy = dir.join(DAMAGED_FILE);
        let mut f = File::create(&copy)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        tracing::error!(
            journal = %journal.display(),
            offset = good,
            dropped,
            copy = %copy.display(),
            "handle journal damaged before its end; the entries from the damage on are dropped"
        );
    } else {
        tracing::warn!(
            journal = %journal.display(),
            offset = good,
            dropped,
            "handle journal ends in a torn entry (a crash during an append); it is dropped"
        );
    }
    file.set_len(good as u64)?;
    file.sync_data()
}

/// Makes the journal in `dir` hold exactly `frames` (a snapshot of the live records), so that
/// a crash at any point leaves either the old journal or the new one, whole: the snapshot is
/// written to a temporary file and synced, renamed over the journal, and the directory synced.
/// Returns the new journal, open for appending.
pub(crate) fn write_snapshot(dir: &Path, frames: &[u8]) -> io::Result<File> {
    let tmp = dir.join(TMP_FILE);
    remove_if_present(&tmp)?;
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create_new(true)
        .open(&tmp)?;
    file.write_all(&MAGIC)?;
    file.write_all(frames)?;
    file.sync_all()?;
    fs::rename(&tmp, dir.join(JOURNAL_FILE))?;
    sync_dir(dir)?;
    Ok(file)
}

/// The frames of `live`, one after the other: the body of a snapshot.
pub(crate) fn snapshot_body(live: &BTreeMap<u64, Vec<u8>>) -> Vec<u8> {
    let mut body = Vec::with_capacity(live.values().map(Vec::len).sum());
    for frame in live.values() {
        body.extend_from_slice(frame);
    }
    body
}

/// Appends `batch` (whole frames) to the journal and waits until it is on stable storage.
pub(crate) fn append(file: &mut File, batch: &[u8]) -> io::Result<()> {
    file.write_all(batch)?;
    file.sync_data()
}

/// Makes the directory's entries (a rename, a new file) durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn invalid_data(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
