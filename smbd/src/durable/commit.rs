//! Group commit. A writer queues its framed entry and applies it to the in-memory view, under
//! one lock; then one writer at a time, the leader, takes everything queued, writes it with one
//! write and one fsync (or, when the journal has outgrown its bound, replaces the journal with
//! a snapshot of the view), and wakes the others. A writer returns once a sync that covers its
//! entry is done, so many concurrent puts share one fsync.
//!
//! Entries are queued, written and synced in the order they took the lock, and the view
//! reflects that same order, so the journal and every snapshot replay to the view as of the
//! last entry they hold.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex, MutexGuard};

use super::disk::{self, Replayed};
use super::frame::MAGIC;
use super::journal::JournalOptions;

/// The journal's state, behind the committer's lock.
pub(crate) struct Journal {
    /// The Put frame of every live record, by persistent id, every queued entry applied.
    pub(crate) live: BTreeMap<u64, Vec<u8>>,
    /// Bytes of the frames in `live`.
    pub(crate) live_bytes: u64,
    /// Bytes in the journal file as of the last sync.
    pub(crate) file_len: u64,
    /// Fsyncs (appends and snapshots) done.
    pub(crate) syncs: u64,
    /// Snapshots that replaced the journal.
    pub(crate) compactions: u64,
    /// Frames queued and not yet taken by a leader.
    pending: Vec<u8>,
    /// Number of the last entry queued, and of the last one synced.
    queued: u64,
    synced: u64,
    /// A leader is writing; it has taken `file`.
    leading: bool,
    file: Option<File>,
    /// The first write or sync that failed: every later call fails too, since what the file
    /// holds is no longer known (a failed fsync cannot be retried).
    failed: Option<(io::ErrorKind, String)>,
}

/// How an entry changes the view.
pub(crate) enum Change {
    /// The frame is the record's new Put.
    Put(u64),
    /// The record is gone.
    Remove(u64),
}

/// The writers' meeting point.
pub(crate) struct Committer {
    dir: PathBuf,
    options: JournalOptions,
    journal: Mutex<Journal>,
    done: Condvar,
}

/// What a leader does with what is queued.
enum Work {
    /// Appends these frames to the journal, now this long.
    Append(Vec<u8>, u64),
    /// Replaces the journal with a snapshot of this body.
    Snapshot(Vec<u8>),
}

impl Committer {
    /// A committer for the journal in `dir`, as replay left it.
    pub(crate) fn new(dir: PathBuf, options: JournalOptions, replayed: Replayed) -> Self {
        let live_bytes = replayed.live.values().map(|f| f.len() as u64).sum();
        let journal = Journal {
            live: replayed.live,
            live_bytes,
            file_len: replayed.len,
            syncs: 0,
            compactions: 0,
            pending: Vec::new(),
            queued: 0,
            synced: 0,
            leading: false,
            file: Some(replayed.file),
            failed: None,
        };
        Self {
            dir,
            options,
            journal: Mutex::new(journal),
            done: Condvar::new(),
        }
    }

    /// Runs `f` on the journal's state, unless a write has failed.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Journal) -> T) -> io::Result<T> {
        let j = self.lock();
        failure(&j)?;
        Ok(f(&j))
    }

    /// Queues `frame`, applies `change` to the view, and returns once the frame is synced.
    pub(crate) fn submit(&self, frame: Vec<u8>, change: Change) -> io::Result<()> {
        let mut j = self.lock();
        failure(&j)?;
        j.pending.extend_from_slice(&frame);
        let old = match change {
            Change::Put(id) => {
                j.live_bytes += frame.len() as u64;
                j.live.insert(id, frame)
            }
            Change::Remove(id) => j.live.remove(&id),
        };
        j.live_bytes -= old.map_or(0, |f| f.len() as u64);
        j.queued += 1;
        let mine = j.queued;
        loop {
            if j.synced >= mine {
                return Ok(());
            }
            failure(&j)?;
            j = if j.leading {
                self.done.wait(j).unwrap_or_else(|p| p.into_inner())
            } else {
                self.lead(j)
            };
        }
    }

    /// Writes everything queued as the leader, then hands the lock back.
    fn lead<'a>(&'a self, mut j: MutexGuard<'a, Journal>) -> MutexGuard<'a, Journal> {
        j.leading = true;
        let upto = j.queued;
        let grown = j.file_len + j.pending.len() as u64;
        let work = if self.options.should_compact(grown, j.live_bytes) {
            j.pending.clear();
            Work::Snapshot(disk::snapshot_body(&j.live))
        } else {
            Work::Append(std::mem::take(&mut j.pending), j.file_len)
        };
        let file = j.file.take();
        drop(j);
        let leading = Leading(self);
        let result = self.write(work, file);
        let mut j = self.lock();
        // Disarmed: the I/O returned, and its outcome is recorded below.
        std::mem::forget(leading);
        j.leading = false;
        match result {
            Ok((file, len, snapshot)) => {
                j.file = Some(file);
                j.file_len = len;
                j.synced = upto;
                j.syncs += 1;
                j.compactions += u64::from(snapshot);
            }
            Err(e) => j.failed = Some((e.kind(), e.to_string())),
        }
        self.done.notify_all();
        j
    }

    /// The leader's I/O, outside the lock: the file afterwards, its length, and whether it is
    /// a new snapshot.
    fn write(&self, work: Work, file: Option<File>) -> io::Result<(File, u64, bool)> {
        let closed = || io::Error::other("the handle journal is closed");
        match work {
            Work::Append(batch, len) => {
                let mut file = file.ok_or_else(closed)?;
                disk::append(&mut file, &batch)?;
                Ok((file, len + batch.len() as u64, false))
            }
            Work::Snapshot(body) => {
                drop(file);
                let file = disk::write_snapshot(&self.dir, &body)?;
                Ok((file, (MAGIC.len() + body.len()) as u64, true))
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The error of the write that failed earlier, if one did.
fn failure(j: &Journal) -> io::Result<()> {
    match &j.failed {
        Some((kind, message)) => Err(io::Error::new(
            *kind,
            format!("the handle journal failed earlier: {message}"),
        )),
        None => Ok(()),
    }
}

/// Held by a leader during its I/O: if it unwinds (a panic), the store is marked failed and
/// the waiting writers are woken, instead of waiting for a leader that is gone.
struct Leading<'a>(&'a Committer);

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        let mut j = self.0.lock();
        j.leading = false;
        j.failed = Some((io::ErrorKind::Other, "a journal writer panicked".into()));
        self.0.done.notify_all();
    }
}
