//! The persistent handle store: an append-only journal of checksummed entries in the state
//! directory, replayed at open and compacted into a snapshot when it grows.
//!
//! Why a crash loses nothing acknowledged:
//!
//! - A put or remove returns only after the fsync (`sync_data`) of an append that holds its
//!   entry, or of a snapshot made after it was applied, and its rename and directory sync.
//! - Appends only add bytes after the last good entry; a crash during one leaves a tail that
//!   is cut short, zeros, or garbage, and every entry carries its length and a CRC-32C over
//!   length and payload. Replay stops at the first entry that fails, truncates the file there
//!   (durably) before appending again, and so never reads what was never acknowledged.
//! - A snapshot is written to a temporary file and synced before a rename replaces the
//!   journal, and the directory is synced after; a crash leaves the old journal or the new
//!   one, each whole, and replaying either gives every acknowledged change.
//! - After a failed write or fsync, the store refuses every call: the kernel may have dropped
//!   the dirty pages, so what the file holds is unknown until the journal is replayed again.

use std::fs::File;
use std::io;
use std::path::Path;

use super::commit::{Change, Committer};
use super::disk;
use super::frame::{self, MAGIC};
use super::record::HandleRecord;
use super::store::HandleStore;

/// When the journal is compacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalOptions {
    /// Compact when the journal is more than this many times the size of a snapshot of the
    /// live records (at least 2; smaller values count as 2).
    pub compact_ratio: u64,
    /// ... and larger than this many bytes, so a small journal is not rewritten at every put.
    pub compact_min_bytes: u64,
}

impl Default for JournalOptions {
    fn default() -> Self {
        Self {
            compact_ratio: 4,
            compact_min_bytes: 1 << 20,
        }
    }
}

impl JournalOptions {
    /// Whether a journal of `journal_bytes` holding `live_bytes` of live frames is due.
    pub(crate) fn should_compact(&self, journal_bytes: u64, live_bytes: u64) -> bool {
        let snapshot = MAGIC.len() as u64 + live_bytes;
        let bound = snapshot.saturating_mul(self.compact_ratio.max(2));
        journal_bytes > bound.max(self.compact_min_bytes)
    }
}

/// Counters of a [`JournalStore`], for tests and for the admin interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalStats {
    /// Bytes in the journal file.
    pub journal_bytes: u64,
    /// Bytes a snapshot of the live records would take, less the magic.
    pub live_bytes: u64,
    /// Records in the store.
    pub live_records: usize,
    /// Fsyncs since open (each covers every entry queued before it started).
    pub syncs: u64,
    /// Snapshots that replaced the journal since open, the one at open included.
    pub compactions: u64,
}

/// A [`HandleStore`] kept in `state_dir/handles.journal`, for persistent handles: every
/// acknowledged put and remove survives `kill -9` of the server and the loss of power.
///
/// Concurrent writers share fsyncs (group commit). One store at a time may have a directory
/// open; it holds `state_dir/handles.lock` locked until dropped.
pub struct JournalStore {
    commit: Committer,
    compactions_at_open: u64,
    _lock: File,
}

impl JournalStore {
    /// Opens (creating if needed) the journal in `state_dir` with the default options.
    pub fn open(state_dir: &Path) -> io::Result<Self> {
        Self::open_with(state_dir, JournalOptions::default())
    }

    /// Opens (creating if needed) the journal in `state_dir`: replays it, cuts off a torn or
    /// damaged tail (logged; a damaged journal is first copied to
    /// `handles.journal.damaged`), and compacts it if it is due.
    ///
    /// Fails with `WouldBlock` if another store has the directory open, and with
    /// `InvalidData` if the file is not a journal of this format or holds an entry that passes
    /// its checksum but does not decode (left untouched for a newer server or a person).
    pub fn open_with(state_dir: &Path, options: JournalOptions) -> io::Result<Self> {
        let lock = disk::lock_dir(state_dir)?;
        let mut replayed = disk::replay(state_dir)?;
        let live_bytes: u64 = replayed.live.values().map(|f| f.len() as u64).sum();
        let mut compactions_at_open = 0;
        if options.should_compact(replayed.len, live_bytes) {
            let body = disk::snapshot_body(&replayed.live);
            replayed.file = disk::write_snapshot(state_dir, &body)?;
            replayed.len = (MAGIC.len() + body.len()) as u64;
            compactions_at_open = 1;
        }
        Ok(Self {
            commit: Committer::new(state_dir.to_path_buf(), options, replayed),
            compactions_at_open,
            _lock: lock,
        })
    }

    /// The store's counters.
    pub fn stats(&self) -> io::Result<JournalStats> {
        self.commit.read(|j| JournalStats {
            journal_bytes: j.file_len,
            live_bytes: j.live_bytes,
            live_records: j.live.len(),
            syncs: j.syncs,
            compactions: j.compactions + self.compactions_at_open,
        })
    }
}

impl HandleStore for JournalStore {
    fn put(&self, rec: &HandleRecord) -> io::Result<()> {
        let frame = frame::put_frame(rec)?;
        self.commit.submit(frame, Change::Put(rec.persistent_id))
    }

    fn remove(&self, persistent_id: u64) -> io::Result<()> {
        let frame = frame::remove_frame(persistent_id);
        self.commit.submit(frame, Change::Remove(persistent_id))
    }

    fn get(&self, persistent_id: u64) -> io::Result<Option<HandleRecord>> {
        let frame = self.commit.read(|j| j.live.get(&persistent_id).cloned())?;
        frame.map(|f| decoded(&f)).transpose()
    }

    fn load_all(&self) -> io::Result<Vec<HandleRecord>> {
        let frames: Vec<Vec<u8>> = self.commit.read(|j| j.live.values().cloned().collect())?;
        frames.iter().map(|f| decoded(f)).collect()
    }
}

/// The record in a Put frame the store made itself (so decoding fails only on a bug).
fn decoded(frame: &[u8]) -> io::Result<HandleRecord> {
    frame::record_of(frame).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}
