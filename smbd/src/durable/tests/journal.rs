//! The journal store: reopening, compaction, and what it refuses to open.

use std::collections::BTreeMap;
use std::io::ErrorKind;

use super::*;

fn compacting() -> JournalOptions {
    JournalOptions {
        compact_ratio: 2,
        compact_min_bytes: 0,
    }
}

fn file_len(dir: &TempDir) -> u64 {
    std::fs::metadata(dir.journal()).unwrap().len()
}

#[test]
fn puts_replacements_and_removes_survive_reopening() {
    let dir = TempDir::new("reopen");
    let mut changed = sample_record(4);
    changed.oplock = Oplock::None;
    {
        let store = JournalStore::open(dir.path()).unwrap();
        for seed in 0..6 {
            store.put(&sample_record(seed)).unwrap();
        }
        store.put(&changed).unwrap();
        store.remove(2).unwrap();
        assert_eq!(store.stats().unwrap().journal_bytes, file_len(&dir));
    }
    let store = JournalStore::open(dir.path()).unwrap();
    let all = store.load_all().unwrap();
    assert_eq!(ids(&all), [0, 1, 3, 4, 5]);
    assert_eq!(store.get(4).unwrap(), Some(changed));
    assert_eq!(store.get(5).unwrap(), Some(sample_record(5)));
    assert_eq!(store.stats().unwrap().compactions, 0);
}

#[test]
fn a_missing_state_directory_is_created() {
    let dir = TempDir::new("create");
    let nested = dir.path().join("a/b/state");
    let store = JournalStore::open(&nested).unwrap();
    store.put(&sample_record(1)).unwrap();
    assert_eq!(
        std::fs::metadata(nested.join(disk::JOURNAL_FILE))
            .unwrap()
            .len(),
        store.stats().unwrap().journal_bytes
    );
}

#[test]
fn compaction_keeps_exactly_the_live_set() {
    let dir = TempDir::new("compact");
    let store = JournalStore::open_with(dir.path(), compacting()).unwrap();
    let mut model = BTreeMap::new();
    let mut rng = Rng::new(3);
    for step in 0..600u64 {
        let id = rng.below(40);
        if rng.below(3) == 0 {
            store.remove(id).unwrap();
            model.remove(&id);
        } else {
            let mut rec = sample_record(id);
            rec.disconnected_at_ms = Some(step);
            store.put(&rec).unwrap();
            model.insert(id, rec);
        }
        let stats = store.stats().unwrap();
        assert!(
            stats.journal_bytes <= 2 * (8 + stats.live_bytes) + 2_000,
            "{stats:?}"
        );
    }
    let expected: Vec<HandleRecord> = model.into_values().collect();
    let stats = store.stats().unwrap();
    assert!(stats.compactions > 10, "{stats:?}");
    assert_eq!(stats.live_records, expected.len());
    assert_eq!(store.load_all().unwrap(), expected);
    drop(store);
    let store = JournalStore::open(dir.path()).unwrap();
    assert_eq!(store.load_all().unwrap(), expected);
}

#[test]
fn reopening_after_compaction_replays_the_snapshot_then_the_later_appends() {
    let dir = TempDir::new("after-compact");
    let options = JournalOptions {
        compact_ratio: 3,
        compact_min_bytes: 4096,
    };
    {
        let store = JournalStore::open_with(dir.path(), options).unwrap();
        for round in 0..20 {
            for seed in 0..5 {
                let mut rec = sample_record(seed);
                rec.disconnected_at_ms = Some(round);
                store.put(&rec).unwrap();
            }
        }
        assert!(store.stats().unwrap().compactions > 0);
        store.remove(0).unwrap();
        store.put(&sample_record(9)).unwrap();
    }
    let store = JournalStore::open_with(dir.path(), options).unwrap();
    let all = store.load_all().unwrap();
    assert_eq!(ids(&all), [1, 2, 3, 4, 9]);
    assert_eq!(all[0].disconnected_at_ms, Some(19));
    assert_eq!(all[4], sample_record(9));
}

#[test]
fn a_grown_journal_is_compacted_at_open() {
    let dir = TempDir::new("compact-open");
    {
        let store = JournalStore::open(dir.path()).unwrap();
        for _ in 0..30 {
            store.put(&sample_record(1)).unwrap();
        }
        store.put(&sample_record(2)).unwrap();
    }
    let store = JournalStore::open_with(dir.path(), compacting()).unwrap();
    let stats = store.stats().unwrap();
    assert_eq!(stats.compactions, 1);
    assert_eq!(stats.journal_bytes, 8 + stats.live_bytes);
    assert_eq!(file_len(&dir), stats.journal_bytes);
    assert_eq!(ids(&store.load_all().unwrap()), [1, 2]);
}

#[test]
fn a_second_store_on_the_same_directory_is_refused_until_the_first_is_dropped() {
    let dir = TempDir::new("lock");
    let first = JournalStore::open(dir.path()).unwrap();
    let err = JournalStore::open(dir.path()).err().expect("refused");
    assert_eq!(err.kind(), ErrorKind::WouldBlock);
    drop(first);
    JournalStore::open(dir.path()).unwrap();
}

#[test]
fn a_file_that_is_not_a_journal_is_refused_and_left_as_it_is() {
    let dir = TempDir::new("not-journal");
    for text in [&b"hello, world"[..], b"SMBDHJ02", b""] {
        std::fs::write(dir.journal(), text).unwrap();
        let err = JournalStore::open(dir.path()).err().expect("refused");
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert_eq!(std::fs::read(dir.journal()).unwrap(), text);
    }
}

#[test]
fn an_entry_that_passes_its_checksum_but_does_not_decode_stops_the_open_and_cuts_nothing() {
    let dir = TempDir::new("newer");
    {
        let store = JournalStore::open(dir.path()).unwrap();
        store.put(&sample_record(1)).unwrap();
    }
    let mut rec = Vec::new();
    sample_record(2).encode(&mut rec).unwrap();
    rec[0] = 2;
    let mut payload = vec![1];
    payload.extend_from_slice(&rec);
    let len = (payload.len() as u32).to_le_bytes();
    let crc = crc::Crc32c::new().update(&len).update(&payload).finish();
    let mut bytes = std::fs::read(dir.journal()).unwrap();
    let at = bytes.len();
    bytes.extend([&len[..], &crc.to_le_bytes(), &payload].concat());
    std::fs::write(dir.journal(), &bytes).unwrap();
    let err = JournalStore::open(dir.path()).err().expect("refused");
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(
        err.to_string().contains(&format!("entry at byte {at}")),
        "{err}"
    );
    assert!(err.to_string().contains("record version"), "{err}");
    assert_eq!(std::fs::read(dir.journal()).unwrap(), bytes);
}

#[test]
fn a_snapshot_left_by_an_interrupted_compaction_is_removed_at_open() {
    let dir = TempDir::new("stale-tmp");
    {
        let store = JournalStore::open(dir.path()).unwrap();
        store.put(&sample_record(1)).unwrap();
    }
    let tmp = dir.path().join("handles.journal.tmp");
    std::fs::write(&tmp, b"SMBDHJ01 half a snapshot").unwrap();
    let store = JournalStore::open(dir.path()).unwrap();
    assert!(!tmp.exists());
    assert_eq!(store.load_all().unwrap(), [sample_record(1)]);
}

#[test]
fn a_refused_record_leaves_the_journal_as_it_was() {
    let dir = TempDir::new("refused");
    let store = JournalStore::open(dir.path()).unwrap();
    store.put(&sample_record(1)).unwrap();
    let before = std::fs::read(dir.journal()).unwrap();
    let mut rec = sample_record(2);
    rec.lock_sequences[0] = Some(99);
    assert_eq!(store.put(&rec).unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(std::fs::read(dir.journal()).unwrap(), before);
    store.put(&sample_record(3)).unwrap();
    assert_eq!(ids(&store.load_all().unwrap()), [1, 3]);
}
