//! What a crash leaves: a torn last entry, damage before the end, and a real `kill -9` of a
//! writer process.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use super::*;

/// A journal holding Puts of the `seeds`, and the offset where each frame starts.
fn journal_of(dir: &TempDir, seeds: &[u64]) -> (Vec<u8>, Vec<usize>) {
    let store = JournalStore::open(dir.path()).unwrap();
    let mut starts = Vec::new();
    for &seed in seeds {
        starts.push(store.stats().unwrap().journal_bytes as usize);
        store.put(&sample_record(seed)).unwrap();
    }
    drop(store);
    (std::fs::read(dir.journal()).unwrap(), starts)
}

/// Opens a copy of `bytes` as a journal; returns its records and the file's length after.
fn reopen(bytes: &[u8]) -> (Vec<HandleRecord>, u64, bool) {
    let dir = TempDir::new("reopen-copy");
    std::fs::write(dir.journal(), bytes).unwrap();
    let store = JournalStore::open(dir.path()).unwrap();
    let records = store.load_all().unwrap();
    let len = std::fs::metadata(dir.journal()).unwrap().len();
    store.put(&sample_record(99)).unwrap();
    drop(store);
    let store = JournalStore::open(dir.path()).unwrap();
    let mut expected = records.clone();
    expected.push(sample_record(99));
    assert_eq!(store.load_all().unwrap(), expected, "appends after the cut");
    let damaged = dir.path().join(disk::DAMAGED_FILE).exists();
    (records, len, damaged)
}

#[test]
fn a_torn_last_entry_is_dropped_at_every_byte_offset_and_the_earlier_ones_survive() {
    let dir = TempDir::new("torn");
    let (bytes, starts) = journal_of(&dir, &[1, 2, 5]);
    let last = starts[2];
    for cut in last..bytes.len() {
        for zeros in [false, true] {
            let mut torn = bytes[..cut].to_vec();
            if zeros {
                torn.resize(bytes.len() + 100, 0);
            }
            let (records, len, damaged) = reopen(&torn);
            assert_eq!(ids(&records), [1, 2], "cut at {cut}");
            assert_eq!(records[1], sample_record(2));
            assert_eq!(len, last as u64, "cut at {cut}");
            assert!(
                !damaged,
                "a torn tail is not damage (cut at {cut}, zeros {zeros})"
            );
        }
    }
    let (records, len, _) = reopen(&bytes);
    assert_eq!((ids(&records), len), (vec![1, 2, 5], bytes.len() as u64));
}

#[test]
fn a_torn_remove_leaves_the_record_in_place() {
    let dir = TempDir::new("torn-remove");
    let (bytes, _) = journal_of(&dir, &[1, 2]);
    let store = JournalStore::open(dir.path()).unwrap();
    store.remove(1).unwrap();
    drop(store);
    let whole = std::fs::read(dir.journal()).unwrap();
    assert_eq!(ids(&reopen(&whole).0), [2]);
    for cut in bytes.len()..whole.len() {
        assert_eq!(ids(&reopen(&whole[..cut]).0), [1, 2], "cut at {cut}");
    }
}

#[test]
fn a_flipped_byte_in_the_middle_is_found_the_rest_dropped_and_a_copy_kept() {
    let dir = TempDir::new("flip");
    let seeds = [1, 2, 3, 4, 5];
    let (bytes, starts) = journal_of(&dir, &seeds);
    let third = starts[2]..starts[3];
    for at in [third.start, third.start + 5, third.start + 8, third.end - 1] {
        let mut flipped = bytes.clone();
        flipped[at] ^= 0x04;
        let copy_dir = TempDir::new("flip-copy");
        std::fs::write(copy_dir.journal(), &flipped).unwrap();
        let store = JournalStore::open(copy_dir.path()).unwrap();
        assert_eq!(ids(&store.load_all().unwrap()), [1, 2], "flip at {at}");
        assert_eq!(store.stats().unwrap().journal_bytes, third.start as u64);
        let kept = std::fs::read(copy_dir.path().join(disk::DAMAGED_FILE)).unwrap();
        assert_eq!(kept, flipped, "the damaged journal is kept whole");
        assert_eq!(
            std::fs::metadata(copy_dir.journal()).unwrap().len(),
            third.start as u64
        );
    }
}

/// Set in the environment of the child process of the `kill -9` test: its state directory.
const CHILD_DIR: &str = "SMBD_DURABLE_KILL_TEST_DIR";
const KILL_TEST: &str = "durable::tests::crash::records_acknowledged_before_kill_9_survive_it";

/// Operation `n` of the writer: most put a new record, every third removes the one before.
fn op(n: u64) -> Result<u64, u64> {
    if n % 3 == 2 { Err(n - 1) } else { Ok(n) }
}

fn apply(n: u64, model: &mut BTreeMap<u64, HandleRecord>) {
    match op(n) {
        Ok(put) => model.insert(put, sample_record(put)),
        Err(removed) => model.remove(&removed),
    };
}

fn child_writer(dir: &Path) -> ! {
    let options = JournalOptions {
        compact_ratio: 2,
        compact_min_bytes: 16 * 1024,
    };
    let store = JournalStore::open_with(dir, options).expect("open");
    for n in 0.. {
        match op(n) {
            Ok(put) => store.put(&sample_record(put)).expect("put"),
            Err(removed) => store.remove(removed).expect("remove"),
        }
        println!("acked {n}");
    }
    unreachable!("the parent kills the writer");
}

#[test]
fn records_acknowledged_before_kill_9_survive_it() {
    if let Some(dir) = std::env::var_os(CHILD_DIR) {
        child_writer(Path::new(&dir));
    }
    let dir = TempDir::new("kill9");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([KILL_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let acked = |line: String| {
        line.strip_prefix("acked ")
            .and_then(|n| n.parse::<u64>().ok())
    };
    let mut last = None;
    while last.is_none_or(|n| n < 300) {
        let line = lines.next().expect("the writer runs").unwrap();
        last = acked(line).or(last);
    }
    child.kill().unwrap();
    child.wait().unwrap();
    last = lines
        .map_while(Result::ok)
        .filter_map(acked)
        .last()
        .or(last);
    let last = last.unwrap();
    let mut model = BTreeMap::new();
    (0..=last).for_each(|n| apply(n, &mut model));
    let before: Vec<HandleRecord> = model.values().cloned().collect();
    apply(last + 1, &mut model);
    let after: Vec<HandleRecord> = model.into_values().collect();
    let store = JournalStore::open(dir.path()).unwrap();
    let found = store.load_all().unwrap();
    assert!(found == before || found == after, "acked through {last}");
}
