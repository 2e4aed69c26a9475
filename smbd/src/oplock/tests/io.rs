//! Writes, locks, size changes, renames, deletes, directory children, CLOSE, oplock
//! acknowledgments and the lease table (smbtorture `lease.nobreakself`, `lease.lock1`,
//! `lease.rename_wait`, `lease.unlink`, `lease.v2_request`, `oplock.batch*`, `oplock.brl1`).

use std::time::SystemTime;

use super::*;
use crate::proto::NtStatus;

#[test]
fn a_write_breaks_other_read_leases_but_not_the_writers_own() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &lease(A, 1, "R"), now);
    create(&mut f, 2, &lease(A, 2, "R"), now);
    let v = f.on_write(1, now);
    assert!(!v.wait);
    assert_eq!(
        summary(&v.notices),
        [(Holder::Lease(lid(A, 2)), "R".into(), "NONE".into(), false)]
    );
    assert_eq!(f.lease(&lid(A, 1)).unwrap().state(), LeaseState::R);
    assert_eq!(f.lease_of(2).unwrap().state(), LeaseState::NONE);
}

#[test]
fn a_write_through_a_level_two_open_breaks_every_level_two_including_its_own() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &oplock(A, OplockLevel::BATCH), now);
    create(&mut f, 2, &oplock(B, OplockLevel::BATCH), now);
    let v = f.on_write(2, now);
    assert!(!v.wait);
    assert_eq!(
        summary(&v.notices),
        [
            (Holder::Oplock(1), "R".into(), "NONE".into(), false),
            (Holder::Oplock(2), "R".into(), "NONE".into(), false),
        ]
    );
    // Nothing is left to break.
    assert_eq!(f.on_write(1, now), Verdict::default());
}

#[test]
fn a_write_through_the_batch_holder_breaks_nothing() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &oplock(A, OplockLevel::BATCH), now);
    assert_eq!(f.on_write(1, now), Verdict::default());
    assert_eq!(f.on_set_size(1, now), Verdict::default());
    assert_eq!(f.on_rename(1, now), Verdict::default());
    assert_eq!(f.oplock_level(1), Some(OplockLevel::BATCH));
}

#[test]
fn a_size_change_by_another_open_breaks_level_two_to_none() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &oplock(A, OplockLevel::BATCH), now);
    let (_, seen) = create(&mut f, 2, &plain(B), now);
    assert_eq!(seen[0].oplock_level(), OplockLevel::LEVEL_II);
    let v = f.on_set_size(2, now);
    assert_eq!(v.notices[0].oplock_level(), OplockLevel::NONE);
    assert!(!v.notices[0].ack_required);
}

#[test]
fn a_byte_range_lock_breaks_other_handle_leases_to_none_without_waiting() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &lease(A, 1, "RWH"), now);
    create(&mut f, 2, &lease(A, 2, "RWH"), now);
    create(&mut f, 3, &lease(B, 3, "RWH"), now);
    let v = f.on_lock(1, now);
    assert!(
        !v.wait,
        "handle caching is broken without holding up the lock"
    );
    assert_eq!(
        summary(&v.notices),
        [
            (Holder::Lease(lid(A, 2)), "RH".into(), "NONE".into(), true),
            (Holder::Lease(lid(B, 3)), "RH".into(), "NONE".into(), true),
        ]
    );
    assert_eq!(f.lease(&lid(A, 1)).unwrap().state(), LeaseState::RH);
}

#[test]
fn a_lock_through_a_level_two_open_breaks_its_own_oplock() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &oplock(A, OplockLevel::BATCH), now);
    create(&mut f, 2, &plain(B), now);
    let v = f.on_lock(1, now);
    assert_eq!(
        summary(&v.notices),
        [(Holder::Oplock(1), "R".into(), "NONE".into(), false)]
    );
}

#[test]
fn byte_range_locks_keep_read_caching_from_new_opens() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &plain(A), now);
    let r = lease(B, 2, "RWH");
    assert!(!f.check_open(&r, Attempt::First, now).wait);
    assert_eq!(granted_lease(f.grant(2, &r, true)).state, LeaseState::NONE);
    let o = oplock(B, OplockLevel::LEVEL_II);
    assert_eq!(granted_oplock(f.grant(3, &o, true)), OplockLevel::NONE);
}

#[test]
fn rename_waits_for_other_handle_leases_but_not_the_renamers() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &lease(A, 1, "RH"), now);
    create(&mut f, 2, &lease(A, 2, "RH"), now);
    let v = f.on_rename(1, now);
    assert!(v.wait);
    assert_eq!(
        summary(&v.notices),
        [(Holder::Lease(lid(A, 2)), "RH".into(), "R".into(), true)]
    );
    assert!(f.on_rename(1, now).wait, "still breaking");
    f.ack_lease(lid(A, 2), LeaseState::R, now).unwrap();
    assert_eq!(f.on_rename(1, now), Verdict::default());
}

#[test]
fn a_delete_breaks_handle_caching() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &lease(A, 1, "RWH"), now);
    create(&mut f, 2, &lease(B, 2, "RH"), now);
    let v = f.on_delete(2, now);
    assert_eq!(
        summary(&v.notices),
        [(Holder::Lease(lid(A, 1)), "RH".into(), "R".into(), true)]
    );
}

#[test]
fn a_child_change_breaks_the_directory_lease_unless_the_parent_key_matches() {
    let now = SystemTime::UNIX_EPOCH;
    let mut dir = file();
    let r = OpenRequest {
        is_directory: true,
        ..lease_v2(A, 2, "RHW", 0x22, None, LeaseVersion::V2)
    };
    create(&mut dir, 1, &r, now);
    assert_eq!(
        dir.on_child_change(A, Some(key(2)), now),
        Verdict::default()
    );
    // Another client's key 2 is not this lease.
    let v = dir.on_child_change(B, Some(key(2)), now);
    assert!(!v.wait);
    assert_eq!(
        summary(&v.notices),
        [(Holder::Lease(lid(A, 2)), "RH".into(), "NONE".into(), true)]
    );
    assert_eq!(v.notices[0].epoch, 0x24);
}

#[test]
fn closing_the_last_open_of_a_lease_releases_it() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &lease(A, 1, "RWH"), now);
    create(&mut f, 2, &lease(A, 1, "RWH"), now);
    assert_eq!(f.on_close(1), Closed::default());
    let closed = f.on_close(2);
    assert_eq!(closed.lease_released, Some(lid(A, 1)));
    assert!(f.lease(&lid(A, 1)).is_none() && f.is_empty());
    assert_eq!(
        f.on_close(2),
        Closed::default(),
        "closing twice is harmless"
    );
}

#[test]
fn an_oplock_ack_is_checked_as_ms_smb2_says() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &oplock(A, OplockLevel::BATCH), now);
    let ack = |f: &mut FileCaching, level| f.ack_oplock(1, level, now);
    assert_eq!(
        ack(&mut f, OplockLevel::NONE),
        Err(AckError::OplockNotBreaking)
    );
    assert_eq!(
        f.ack_oplock(9, OplockLevel::NONE, now),
        Err(AckError::NoSuchOpen)
    );
    // Asking for more than the break left: the oplock goes to none.
    f.check_open(&plain(B), Attempt::First, now);
    assert_eq!(ack(&mut f, OplockLevel::BATCH), Err(AckError::LevelTooHigh));
    assert_eq!(f.oplock_level(1), Some(OplockLevel::NONE));
    // A level II break to none asks for no ack; one is a protocol error.
    let mut f = file();
    create(&mut f, 1, &oplock(A, OplockLevel::LEVEL_II), now);
    f.on_write(1, now);
    assert_eq!(
        ack(&mut f, OplockLevel::NONE),
        Err(AckError::OplockNotBreaking)
    );
    // OplockLevel LEASE in an oplock ack.
    let mut f = file();
    create(&mut f, 1, &oplock(A, OplockLevel::BATCH), now);
    f.check_open(&plain(B), Attempt::First, now);
    assert_eq!(ack(&mut f, OplockLevel::LEASE), Err(AckError::InvalidLevel));
    assert_eq!(f.oplock_level(1), Some(OplockLevel::NONE));
    let statuses = [
        AckError::NoSuchOpen,
        AckError::NoSuchLease,
        AckError::OplockNotBreaking,
        AckError::LevelTooHigh,
        AckError::InvalidLevel,
    ]
    .map(AckError::nt_status);
    assert_eq!(
        statuses,
        [
            NtStatus::FILE_CLOSED,
            NtStatus::OBJECT_NAME_NOT_FOUND,
            NtStatus::INVALID_OPLOCK_PROTOCOL,
            NtStatus::INVALID_OPLOCK_PROTOCOL,
            NtStatus::INVALID_PARAMETER,
        ]
    );
}

#[test]
fn level_two_acknowledged_after_contention_to_none_breaks_again_at_once() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &oplock(A, OplockLevel::EXCLUSIVE), now);
    assert!(f.check_open(&plain(B), Attempt::First, now).wait);
    let overwrite = OpenRequest {
        disposition: OVERWRITE_IF,
        ..plain(B)
    };
    let v = f.check_open(&overwrite, Attempt::First, now);
    assert!(v.wait && v.notices.is_empty());
    let acked = f.ack_oplock(1, OplockLevel::LEVEL_II, now).unwrap();
    assert_eq!(acked.state, LeaseState::R);
    assert_eq!(
        summary(&acked.notices),
        [(Holder::Oplock(1), "R".into(), "NONE".into(), false)]
    );
    assert_eq!(f.oplock_level(1), Some(OplockLevel::NONE));
}

#[test]
fn a_lease_key_is_one_file_at_a_time_per_client() {
    let mut t = LeaseTable::new();
    t.claim(lid(A, 1), &"f1").unwrap();
    t.claim(lid(A, 1), &"f1").unwrap();
    assert_eq!(t.claim(lid(A, 1), &"f2"), Err(KeyInUse));
    assert_eq!(KeyInUse.nt_status(), NtStatus::INVALID_PARAMETER);
    t.claim(lid(B, 1), &"f2").unwrap();
    assert_eq!(t.file_of(&lid(A, 1)), Some(&"f1"));
    t.release(&lid(A, 1));
    assert_eq!(t.claim(lid(A, 1), &"f2"), Err(KeyInUse), "one claim left");
    t.release(&lid(A, 1));
    t.claim(lid(A, 1), &"f2").unwrap();
    assert_eq!(t.len(), 2);
    t.release(&lid(A, 1));
    t.release(&lid(B, 1));
    assert!(t.is_empty());
}
