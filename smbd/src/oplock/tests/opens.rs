//! Oplocks on CREATE (smbtorture `smb2.oplock`).

use std::time::SystemTime;

use super::*;

#[test]
fn a_lone_open_gets_the_batch_oplock_it_asks_for() {
    let mut f = file();
    let (g, seen) = create(
        &mut f,
        1,
        &oplock(A, OplockLevel::BATCH),
        SystemTime::UNIX_EPOCH,
    );
    assert_eq!(granted_oplock(g), OplockLevel::BATCH);
    assert!(seen.is_empty());
    assert_eq!(g.oplock_level(), OplockLevel::BATCH);
}

#[test]
fn a_second_open_breaks_batch_to_level_two() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &oplock(A, OplockLevel::BATCH), now);
    let second = oplock(B, OplockLevel::BATCH);
    let v = f.check_open(&second, Attempt::First, now);
    assert!(v.wait, "a write-caching break is waited for");
    assert_eq!(
        summary(&v.notices),
        [(Holder::Oplock(1), "RWH".into(), "R".into(), true)]
    );
    assert_eq!(v.notices[0].oplock_level(), OplockLevel::LEVEL_II);
    // Still waiting until the holder acknowledges.
    assert!(f.check_open(&second, Attempt::Retry, now).wait);
    let acked = f.ack_oplock(1, OplockLevel::LEVEL_II, now).unwrap();
    assert_eq!(acked.state, LeaseState::R);
    let v = f.check_open(&second, Attempt::Retry, now);
    assert_eq!(v, Verdict::default());
    assert_eq!(
        granted_oplock(f.grant(2, &second, false)),
        OplockLevel::LEVEL_II
    );
    assert_eq!(f.oplock_level(1), Some(OplockLevel::LEVEL_II));
}

#[test]
fn an_exclusive_oplock_is_not_broken_by_an_open_that_fails_its_share_check() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &oplock(A, OplockLevel::EXCLUSIVE), now);
    let v = f.check_sharing_violation(&oplock(B, OplockLevel::EXCLUSIVE), Attempt::First, now);
    assert_eq!(
        v,
        Verdict::default(),
        "no break: STATUS_SHARING_VIOLATION at once"
    );
    assert_eq!(f.oplock_level(1), Some(OplockLevel::EXCLUSIVE));
}

#[test]
fn batch_is_broken_to_level_two_before_a_sharing_violation() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &oplock(A, OplockLevel::BATCH), now);
    let second = oplock(B, OplockLevel::BATCH);
    let v = f.check_sharing_violation(&second, Attempt::First, now);
    assert!(v.wait);
    assert_eq!(
        summary(&v.notices),
        [(Holder::Oplock(1), "RWH".into(), "R".into(), true)]
    );
    f.ack_oplock(1, OplockLevel::LEVEL_II, now).unwrap();
    // The share check still fails: now nothing is left to break.
    let v = f.check_sharing_violation(&second, Attempt::Retry, now);
    assert_eq!(v, Verdict::default());
}

#[test]
fn an_overwriting_open_breaks_exclusive_to_none_and_others_to_level_two() {
    for (disposition, broken_to) in [
        (SUPERSEDE, OplockLevel::NONE),
        (OPEN, OplockLevel::LEVEL_II),
        (OVERWRITE_IF, OplockLevel::NONE),
        (OPEN_IF, OplockLevel::LEVEL_II),
    ] {
        let now = SystemTime::UNIX_EPOCH;
        let mut f = file();
        create(&mut f, 1, &oplock(A, OplockLevel::EXCLUSIVE), now);
        let second = OpenRequest {
            disposition,
            ..oplock(B, OplockLevel::EXCLUSIVE)
        };
        let (g, seen) = create(&mut f, 2, &second, now);
        assert_eq!(seen.len(), 1, "disposition {disposition}");
        assert_eq!(
            seen[0].oplock_level(),
            broken_to,
            "disposition {disposition}"
        );
        assert_eq!(granted_oplock(g), OplockLevel::LEVEL_II);
    }
}

#[test]
fn a_stat_open_breaks_nothing_and_gets_no_oplock_beside_batch() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &oplock(A, OplockLevel::BATCH), now);
    let stat = OpenRequest {
        access: ATTRS,
        ..oplock(B, OplockLevel::BATCH)
    };
    let (g, seen) = create(&mut f, 2, &stat, now);
    assert!(seen.is_empty());
    assert_eq!(granted_oplock(g), OplockLevel::NONE);
    assert_eq!(f.oplock_level(1), Some(OplockLevel::BATCH));
}

#[test]
fn an_attribute_only_overwrite_breaks_and_gets_level_two() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &oplock(A, OplockLevel::EXCLUSIVE), now);
    let stat_overwrite = OpenRequest {
        access: ATTRS,
        disposition: OVERWRITE_IF,
        ..oplock(B, OplockLevel::LEVEL_II)
    };
    let (g, seen) = create(&mut f, 2, &stat_overwrite, now);
    assert_eq!(
        summary(&seen),
        [(Holder::Oplock(1), "RW".into(), "NONE".into(), true)]
    );
    assert_eq!(granted_oplock(g), OplockLevel::LEVEL_II);
}

#[test]
fn an_open_without_caching_keeps_later_opens_from_exclusive_oplocks() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    assert_eq!(create(&mut f, 1, &plain(A), now).0, Granted::Nothing);
    let (g, seen) = create(&mut f, 2, &oplock(B, OplockLevel::BATCH), now);
    assert!(seen.is_empty());
    assert_eq!(granted_oplock(g), OplockLevel::LEVEL_II);
    // A stat open without caching does not count (smbtorture `lease.statopen3`).
    let mut f = file();
    let stat = OpenRequest {
        access: ATTRS,
        ..plain(A)
    };
    create(&mut f, 1, &stat, now);
    let (g, _) = create(&mut f, 2, &oplock(B, OplockLevel::BATCH), now);
    assert_eq!(granted_oplock(g), OplockLevel::BATCH);
}

#[test]
fn no_oplock_is_granted_on_a_directory() {
    let mut f = file();
    let dir = OpenRequest {
        is_directory: true,
        ..oplock(A, OplockLevel::BATCH)
    };
    let (g, _) = create(&mut f, 1, &dir, SystemTime::UNIX_EPOCH);
    assert_eq!(granted_oplock(g), OplockLevel::NONE);
}

#[test]
fn closing_instead_of_acknowledging_lets_the_waiting_open_get_batch() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &oplock(A, OplockLevel::BATCH), now);
    let second = oplock(B, OplockLevel::BATCH);
    assert!(f.check_open(&second, Attempt::First, now).wait);
    let closed = f.on_close(1);
    assert!(closed.ended_a_break);
    assert_eq!(closed.lease_released, None);
    assert_eq!(
        f.check_open(&second, Attempt::Retry, now),
        Verdict::default()
    );
    assert_eq!(
        granted_oplock(f.grant(2, &second, false)),
        OplockLevel::BATCH
    );
}

#[test]
fn a_third_open_gets_level_two_without_a_break() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &oplock(A, OplockLevel::BATCH), now);
    create(&mut f, 2, &oplock(B, OplockLevel::BATCH), now);
    let (g, seen) = create(&mut f, 3, &oplock(B, OplockLevel::BATCH), now);
    assert!(seen.is_empty());
    assert_eq!(granted_oplock(g), OplockLevel::LEVEL_II);
}

#[test]
fn level_two_oplocks_and_read_leases_break_to_none_on_an_overwrite_without_ack() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &lease(A, 1, "R"), now);
    let (g, _) = create(&mut f, 2, &oplock(A, OplockLevel::LEVEL_II), now);
    assert_eq!(granted_oplock(g), OplockLevel::LEVEL_II);
    let truncate = OpenRequest {
        disposition: OVERWRITE_IF,
        ..plain(B)
    };
    let v = f.check_open(&truncate, Attempt::First, now);
    assert!(!v.wait);
    assert_eq!(
        summary(&v.notices),
        [
            (Holder::Lease(lid(A, 1)), "R".into(), "NONE".into(), false),
            (Holder::Oplock(2), "R".into(), "NONE".into(), false),
        ]
    );
    assert_eq!(f.oplock_level(2), Some(OplockLevel::NONE));
    assert_eq!(f.lease(&lid(A, 1)).unwrap().state(), LeaseState::NONE);
    assert!(!f.breaks_in_progress());
}

/// READ_CONTROL alone is a stat open to a lease but not to an oplock (smbtorture
/// `oplock.statopen1` against `lease.statopen4`).
#[test]
fn read_control_breaks_a_batch_oplock_but_not_a_lease() {
    let now = SystemTime::UNIX_EPOCH;
    let read_control = |r: OpenRequest| OpenRequest {
        access: crate::access::READ_CONTROL,
        ..r
    };
    let mut f = file();
    create(&mut f, 1, &oplock(A, OplockLevel::BATCH), now);
    let (_, seen) = create(&mut f, 2, &read_control(plain(B)), now);
    assert_eq!(seen.len(), 1, "the batch oplock is broken");
    let mut f = file();
    create(&mut f, 1, &lease(A, 1, "RWH"), now);
    let (_, seen) = create(&mut f, 2, &read_control(plain(B)), now);
    assert!(seen.is_empty(), "the lease stays");
}
