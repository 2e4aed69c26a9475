//! Tests of the handle store: the record's form, the contract both stores meet, the journal's
//! replay, compaction and crash behaviour, and concurrent writers.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
pub(super) use crate::fuzzing::durable::sample_record;

mod concurrency;
mod crash;
mod journal;
mod record;

/// A fresh directory under the system temp directory, removed on drop.
pub(super) struct TempDir(PathBuf);

impl TempDir {
    pub(super) fn new(tag: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("smbd-durable-{tag}-{}-{n}", std::process::id());
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        Self(path)
    }

    pub(super) fn path(&self) -> &Path {
        &self.0
    }

    /// The journal file in the directory.
    pub(super) fn journal(&self) -> PathBuf {
        self.0.join(disk::JOURNAL_FILE)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A small deterministic generator (xorshift64*), so failures repeat.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n`.
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub(super) fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// The persistent ids of `records`, in order.
pub(super) fn ids(records: &[HandleRecord]) -> Vec<u64> {
    records.iter().map(|r| r.persistent_id).collect()
}

/// The contract of [`HandleStore`] that needs no crash: puts insert and replace, removes of
/// absent ids succeed, load_all is ordered, records over the caps are refused and change
/// nothing.
fn meets_the_store_contract(store: &dyn HandleStore) {
    assert_eq!(store.load_all().unwrap(), []);
    for seed in [7, 3, 5] {
        store.put(&sample_record(seed)).unwrap();
    }
    assert_eq!(ids(&store.load_all().unwrap()), [3, 5, 7]);
    let mut changed = sample_record(5);
    changed.locks.clear();
    changed.disconnected_at_ms = Some(42);
    store.put(&changed).unwrap();
    assert_eq!(store.get(5).unwrap(), Some(changed.clone()));
    store.remove(3).unwrap();
    store.remove(3).unwrap();
    store.remove(1234).unwrap();
    assert_eq!(store.get(3).unwrap(), None);
    let mut huge = sample_record(9);
    huge.path = "x".repeat(MAX_PATH_BYTES + 1);
    let err = store.put(&huge).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(store.get(9).unwrap(), None);
    assert_eq!(store.load_all().unwrap(), [changed, sample_record(7)]);
}

#[test]
fn the_memory_store_meets_the_store_contract() {
    meets_the_store_contract(&MemStore::new());
}

#[test]
fn the_journal_store_meets_the_store_contract() {
    let dir = TempDir::new("contract");
    meets_the_store_contract(&JournalStore::open(dir.path()).unwrap());
}

#[test]
fn the_journal_store_meets_the_store_contract_while_compacting_at_every_write() {
    let dir = TempDir::new("contract-compact");
    let options = JournalOptions {
        compact_ratio: 2,
        compact_min_bytes: 0,
    };
    let store = JournalStore::open_with(dir.path(), options).unwrap();
    meets_the_store_contract(&store);
    assert!(store.stats().unwrap().compactions > 0);
}
