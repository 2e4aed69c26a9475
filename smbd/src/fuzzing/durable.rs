//! The fuzz entry point for the durable-handle store's formats, its sample records and seeds.

use acl::Sid;

use crate::durable::frame::{self, Entry};
use crate::durable::{
    AppInstance, FileIdentity, HandleRecord, LOCK_SEQUENCE_SLOTS, LeaseRecord, LockRange, Oplock,
};

/// Decodes `data` as a handle record: one that decodes must re-encode to exactly `data` (the
/// form is canonical). Then scans `data` as the entries of a journal: every entry handed out
/// must lie inside the good prefix, and a Put's frame must re-frame to itself.
pub fn durable_record(data: &[u8]) {
    if let Ok(rec) = HandleRecord::decode(data) {
        let mut out = Vec::with_capacity(data.len());
        rec.encode(&mut out)
            .expect("a decoded record is within the caps");
        assert_eq!(out, data, "record round trip");
    }
    let mut seen = 0;
    let scanned = frame::scan(data, |entry, framed| {
        seen += framed.len();
        let again = match entry {
            Entry::Put(rec) => frame::put_frame(&rec).expect("a decoded record re-encodes"),
            Entry::Remove(id) => frame::remove_frame(id),
        };
        assert_eq!(again, framed, "entry round trip");
    });
    if let Ok(scanned) = scanned {
        assert_eq!(
            scanned.good_len, seen,
            "good prefix is the entries handed out"
        );
    }
}

/// A record whose every optional part depends on `seed`: with or without an app instance, a
/// disconnect time, each oplock level and both lease versions, and up to three locks.
pub fn sample_record(seed: u64) -> HandleRecord {
    let byte = |k: u64| (seed.wrapping_mul(31).wrapping_add(k) & 0xFF) as u8;
    let guid = |k: u64| std::array::from_fn(|i| byte(k + i as u64));
    let oplock = match seed % 6 {
        0 => Oplock::None,
        1 => Oplock::LevelII,
        2 => Oplock::Exclusive,
        3 => Oplock::Batch,
        v => Oplock::Lease(LeaseRecord {
            key: guid(100),
            parent_key: (v == 5).then(|| guid(200)),
            state: (seed % 8) as u32,
            epoch: seed as u16,
            version: if v == 5 { 2 } else { 1 },
        }),
    };
    let mut lock_sequences = [None; LOCK_SEQUENCE_SLOTS];
    lock_sequences[(seed % 64) as usize] = Some((seed % 16) as u8);
    HandleRecord {
        persistent_id: seed,
        create_guid: guid(1),
        client_guid: guid(17),
        app_instance: (seed % 2 == 1).then(|| AppInstance {
            id: guid(33),
            version_high: seed,
            version_low: !seed,
        }),
        share: format!("share{}", seed % 3),
        path: format!("dir\\file {seed} \u{e9}.txt"),
        file: FileIdentity {
            volume: 0x803,
            file_id: 1000 + seed,
        },
        owner: Sid::new(5, &[21, 1, 2, 3, 1000 + (seed % 7) as u32]),
        granted_access: 0x0012_019F,
        share_access: (seed % 8) as u32,
        create_options: 0x40,
        oplock,
        lock_sequences,
        locks: (0..seed % 4)
            .map(|i| LockRange {
                offset: i * 4096,
                length: 4096,
                exclusive: i.is_multiple_of(2),
            })
            .collect(),
        durable_timeout_ms: 60_000,
        persistent: !seed.is_multiple_of(3),
        disconnected_at_ms: (seed % 4 == 2).then_some(1_700_000_000_000 + seed),
    }
}

/// Seeds for the `durable_record` target: records, and a journal body of entries.
pub fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let encoded = |seed| {
        let mut out = Vec::new();
        sample_record(seed).encode(&mut out).expect("sample fits");
        out
    };
    let mut entries = Vec::new();
    for seed in [4, 5] {
        entries.extend(frame::put_frame(&sample_record(seed)).expect("sample fits"));
    }
    entries.extend(frame::remove_frame(4));
    vec![
        ("durable_record", "plain_record", encoded(0)),
        ("durable_record", "lease_v2_locks_app", encoded(5)),
        ("durable_record", "disconnected_lease_v1", encoded(10)),
        ("durable_record", "journal_entries", entries),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_and_their_prefixes_pass_the_target() {
        for (_, _, data) in seeds() {
            for end in 0..=data.len() {
                durable_record(&data[..end]);
            }
        }
    }

    #[test]
    fn sample_records_decode_from_the_seeds() {
        let seeds = seeds();
        assert_eq!(HandleRecord::decode(&seeds[1].2), Ok(sample_record(5)));
        let mut puts = Vec::new();
        let scanned = frame::scan(&seeds[3].2, |e, _| puts.push(e)).expect("clean");
        assert_eq!(scanned.good_len, seeds[3].2.len());
        assert_eq!(
            puts,
            [
                Entry::Put(Box::new(sample_record(4))),
                Entry::Put(Box::new(sample_record(5))),
                Entry::Remove(4)
            ]
        );
    }
}
