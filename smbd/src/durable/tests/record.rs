//! The record's binary form and the framing of journal entries.

use acl::Sid;

use super::*;
use crate::crypto::test_util::hex;
use crate::durable::frame::{End, Entry, Scanned};
use crate::fuzzing::durable::durable_record;
use crate::proto::codec::{DecodeError, DecodeErrorKind};

fn encoded(rec: &HandleRecord) -> Vec<u8> {
    let mut out = Vec::new();
    rec.encode(&mut out).expect("within the caps");
    out
}

fn small_record() -> HandleRecord {
    HandleRecord {
        persistent_id: 0x0102_0304_0506_0708,
        create_guid: [0x11; 16],
        client_guid: [0x22; 16],
        app_instance: None,
        share: "s".into(),
        path: "p".into(),
        file: FileIdentity {
            volume: 1,
            file_id: 2,
        },
        owner: Sid::everyone(),
        granted_access: 0x001F_01FF,
        share_access: 7,
        create_options: 0,
        oplock: Oplock::None,
        lock_sequences: [None; LOCK_SEQUENCE_SLOTS],
        locks: Vec::new(),
        durable_timeout_ms: 60_000,
        persistent: true,
        disconnected_at_ms: None,
    }
}

#[test]
fn a_small_record_has_the_documented_layout() {
    let expected = hex(&format!(
        "01 01 0807060504030201 {} {} 0100000000000000 0200000000000000
         ff011f00 07000000 00000000 60ea0000 00 {} 0100 73 0100 70
         0101000000000001 00000000 00000000",
        "11".repeat(16),
        "22".repeat(16),
        "ff".repeat(64),
    ));
    assert_eq!(encoded(&small_record()), expected);
    assert_eq!(HandleRecord::decode(&expected), Ok(small_record()));
}

#[test]
fn every_sample_record_round_trips() {
    for seed in 0..120 {
        let rec = sample_record(seed);
        let bytes = encoded(&rec);
        assert!(bytes.len() <= MAX_RECORD_LEN);
        assert_eq!(HandleRecord::decode(&bytes), Ok(rec), "seed {seed}");
    }
}

#[test]
fn a_record_at_every_cap_is_exactly_the_longest_form() {
    let mut rec = sample_record(5);
    rec.app_instance = sample_record(1).app_instance;
    rec.disconnected_at_ms = Some(1);
    rec.share = "s".repeat(MAX_SHARE_BYTES);
    rec.path = "\u{e9}".repeat(MAX_PATH_BYTES / 2);
    rec.owner = Sid::new(5, &[1; 15]);
    rec.locks = vec![sample_record(3).locks[0]; MAX_LOCKS];
    assert!(matches!(rec.oplock, Oplock::Lease(l) if l.parent_key.is_some()));
    let bytes = encoded(&rec);
    assert_eq!(bytes.len(), MAX_RECORD_LEN);
    assert_eq!(HandleRecord::decode(&bytes), Ok(rec));
}

#[test]
fn fields_over_their_caps_or_out_of_range_are_refused_and_nothing_is_written() {
    let lease = |version, parent_key, state| {
        Oplock::Lease(LeaseRecord {
            key: [1; 16],
            parent_key,
            state,
            epoch: 1,
            version,
        })
    };
    let mut bad: Vec<HandleRecord> = vec![small_record(); 7];
    bad[0].path = "p".repeat(MAX_PATH_BYTES + 1);
    bad[1].share = "s".repeat(MAX_SHARE_BYTES + 1);
    let lock = LockRange {
        offset: 0,
        length: 1,
        exclusive: true,
    };
    bad[2].locks = vec![lock; MAX_LOCKS + 1];
    bad[3].lock_sequences[9] = Some(16);
    bad[4].oplock = lease(1, Some([2; 16]), 1);
    bad[5].oplock = lease(2, None, 8);
    bad[6].oplock = lease(3, None, 1);
    for rec in &bad {
        let mut out = vec![0xAA];
        assert!(rec.encode(&mut out).is_err(), "{rec:?}");
        assert_eq!(out, [0xAA]);
    }
    let err = bad[0].check().unwrap_err();
    assert_eq!(
        err,
        RecordError::TooLong {
            what: "path",
            len: MAX_PATH_BYTES + 1,
            max: MAX_PATH_BYTES
        }
    );
}

#[test]
fn every_prefix_and_a_trailing_byte_are_refused() {
    let bytes = encoded(&sample_record(5));
    for end in 0..bytes.len() {
        assert!(HandleRecord::decode(&bytes[..end]).is_err(), "prefix {end}");
    }
    let mut longer = bytes;
    longer.push(0);
    assert!(HandleRecord::decode(&longer).is_err());
}

#[test]
fn values_the_form_does_not_allow_are_refused() {
    let good = encoded(&small_record());
    let with = |at: usize, value: u8| {
        let mut b = good.clone();
        b[at] = value;
        HandleRecord::decode(&b).map(|_| ()).unwrap_err()
    };
    assert_eq!(with(0, 2).what, "record version");
    assert_eq!(with(1, 0x09).what, "record flags");
    assert_eq!(with(74, 2).what, "oplock level");
    assert_eq!(with(75, 0x10).what, "lock sequence");
    assert_eq!(with(75 + 64 + 2, 0xC3).what, "share name");
    assert_eq!(with(75 + 64 + 6, 2).what, "owner SID");
    let mut huge_count = good.clone();
    let n = huge_count.len();
    huge_count[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        HandleRecord::decode(&huge_count).unwrap_err().what,
        "lock count"
    );
    huge_count[n - 4..].copy_from_slice(&(MAX_LOCKS as u32).to_le_bytes());
    let err = HandleRecord::decode(&huge_count).unwrap_err();
    assert_eq!((err.what, err.kind), ("locks", DecodeErrorKind::Truncated));
}

#[test]
fn expiry_is_the_disconnect_time_plus_the_timeout() {
    let mut rec = small_record();
    assert_eq!(rec.expires_at_ms(), None);
    rec.disconnected_at_ms = Some(1_000);
    assert_eq!(rec.expires_at_ms(), Some(61_000));
    rec.disconnected_at_ms = Some(u64::MAX - 1);
    assert_eq!(rec.expires_at_ms(), Some(u64::MAX));
}

#[test]
fn random_bytes_and_mutated_records_never_panic_and_what_decodes_round_trips() {
    let mut rng = Rng::new(10);
    for _ in 0..20_000 {
        let len = rng.below(300) as usize;
        durable_record(&rng.bytes(len));
    }
    for seed in 0..400 {
        let mut bytes = encoded(&sample_record(seed));
        if seed.is_multiple_of(2) {
            bytes = frame::put_frame(&sample_record(seed)).unwrap();
        }
        for _ in 0..=rng.below(4) {
            let at = rng.below(bytes.len() as u64) as usize;
            bytes[at] ^= 1 << rng.below(8);
        }
        durable_record(&bytes);
    }
}

#[test]
fn zeros_are_a_torn_tail_and_never_an_entry() {
    for len in [0, 3, 8, 64] {
        let scanned = frame::scan(&vec![0; len], |_, _| panic!("no entry")).unwrap();
        let end = if len == 0 { End::Clean } else { End::Torn };
        assert_eq!(scanned, Scanned { good_len: 0, end });
    }
}

#[test]
fn an_entry_that_passes_its_checksum_but_does_not_decode_is_an_error_with_its_offset() {
    let first = frame::remove_frame(1);
    let mut second = frame::remove_frame(2);
    second[8] = 9;
    let len = (second.len() - 8) as u32;
    let crc = crc::Crc32c::new()
        .update(&len.to_le_bytes())
        .update(&second[8..])
        .finish();
    second[4..8].copy_from_slice(&crc.to_le_bytes());
    let mut seen = Vec::new();
    let err = frame::scan(&[first.clone(), second].concat(), |e, _| seen.push(e)).unwrap_err();
    assert_eq!(err, (first.len(), DecodeError::invalid("entry kind")));
    assert_eq!(seen, [Entry::Remove(1)]);
}
