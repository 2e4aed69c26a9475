//! Several threads putting and removing at once, through group commit and compaction.

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};
use std::thread;

use super::*;

const THREADS: u64 = 6;
const OPS: u64 = 150;

/// Runs THREADS writers, each on its own ids plus puts to one shared id; returns what each
/// writer's own ids should hold at the end.
fn hammer(store: Arc<dyn HandleStore>) -> Vec<HandleRecord> {
    let barrier = Arc::new(Barrier::new(THREADS as usize));
    let writers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            thread::spawn(move || {
                let mut model = BTreeMap::new();
                let mut rng = Rng::new(t + 1);
                barrier.wait();
                for step in 0..OPS {
                    let id = 1000 * (t + 1) + rng.below(12);
                    match rng.below(4) {
                        0 => {
                            store.remove(id).unwrap();
                            model.remove(&id);
                        }
                        1 => store.put(&shared(t, step)).unwrap(),
                        _ => {
                            let mut rec = sample_record(id);
                            rec.disconnected_at_ms = Some(step);
                            store.put(&rec).unwrap();
                            model.insert(id, rec);
                        }
                    }
                }
                model
            })
        })
        .collect();
    let mut expected = BTreeMap::new();
    for w in writers {
        expected.extend(w.join().unwrap());
    }
    expected.into_values().collect()
}

/// Writer `t`'s put number `step` of the id every writer shares (id 7).
fn shared(t: u64, step: u64) -> HandleRecord {
    let mut rec = sample_record(7);
    rec.durable_timeout_ms = (t * OPS + step) as u32;
    rec
}

/// Checks the store holds `expected` plus a shared record some writer put.
fn holds(store: &dyn HandleStore, expected: &[HandleRecord]) {
    let mut all = store.load_all().unwrap();
    let first = all.remove(0);
    assert_eq!(first.persistent_id, 7);
    let (t, step) = (
        u64::from(first.durable_timeout_ms) / OPS,
        u64::from(first.durable_timeout_ms) % OPS,
    );
    assert_eq!(first, shared(t, step));
    assert_eq!(all, expected);
}

#[test]
fn concurrent_writers_to_the_journal_all_survive_reopening() {
    let dir = TempDir::new("threads");
    let options = JournalOptions {
        compact_ratio: 2,
        compact_min_bytes: 8 * 1024,
    };
    let store = Arc::new(JournalStore::open_with(dir.path(), options).unwrap());
    let expected = hammer(store.clone());
    holds(&*store, &expected);
    let stats = store.stats().unwrap();
    assert!(stats.compactions > 0, "{stats:?}");
    assert!(stats.syncs <= THREADS * OPS, "{stats:?}");
    let shared_before = store.get(7).unwrap();
    drop(store);
    let store = JournalStore::open(dir.path()).unwrap();
    holds(&store, &expected);
    assert_eq!(
        store.get(7).unwrap(),
        shared_before,
        "the last acknowledged put"
    );
}

#[test]
fn concurrent_writers_to_the_memory_store_all_land() {
    let store = Arc::new(MemStore::new());
    let expected = hammer(store.clone());
    holds(&*store, &expected);
}
