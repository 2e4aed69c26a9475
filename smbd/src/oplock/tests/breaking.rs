//! Breaks in progress, acknowledgments and timeouts (smbtorture `lease.breaking1`-`6`,
//! `lease.v2_breaking3`, `lease.timeout`, `lease.sharing_violation`, `oplock.batch22a`).

use std::time::{Duration, SystemTime};

use super::*;
use crate::proto::NtStatus;

fn truncate(client: [u8; 16]) -> OpenRequest {
    OpenRequest {
        disposition: OVERWRITE,
        ..plain(client)
    }
}

#[test]
fn an_open_with_the_lease_key_during_a_break_reports_break_in_progress() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &lease(A, 1, "RWH"), now);
    let other = plain(A);
    let v = f.check_open(&other, Attempt::First, now);
    assert!(v.wait);
    // The lease reports the state before the break, flagged.
    let l = granted_lease(create(&mut f, 2, &lease(A, 1, "RWH"), now).0);
    assert_eq!((l.state, l.breaking), (LeaseState::RWH, true));
    assert_eq!(
        l.context().flags,
        crate::proto::create_contexts::LEASE_FLAG_BREAK_IN_PROGRESS
    );
    assert!(f.check_open(&other, Attempt::Retry, now).wait);
    let acked = f.ack_lease(lid(A, 1), LeaseState::RH, now).unwrap();
    assert_eq!((acked.state, acked.notices.len()), (LeaseState::RH, 0));
    assert_eq!(
        f.check_open(&other, Attempt::Retry, now),
        Verdict::default()
    );
    assert_eq!(f.grant(3, &other, false), Granted::Nothing);
}

#[test]
fn a_lease_ack_must_not_exceed_the_state_broken_to() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &lease(A, 1, "RWH"), now);
    let v = f.check_open(&truncate(A), Attempt::First, now);
    assert_eq!(summary(&v.notices)[0].2, "NONE");
    for wrong in ["RWH", "RW", "WH", "RH", "W", "H", "R"] {
        assert_eq!(
            f.ack_lease(lid(A, 1), st(wrong), now),
            Err(AckError::StateNotAccepted),
            "{wrong}"
        );
    }
    assert_eq!(
        AckError::StateNotAccepted.nt_status(),
        NtStatus::REQUEST_NOT_ACCEPTED
    );
    assert!(f.ack_lease(lid(A, 1), LeaseState::NONE, now).is_ok());
    let again = f.ack_lease(lid(A, 1), LeaseState::NONE, now);
    assert_eq!(again, Err(AckError::LeaseNotBreaking));
    assert_eq!(
        AckError::LeaseNotBreaking.nt_status(),
        NtStatus::UNSUCCESSFUL
    );
    assert_eq!(
        f.ack_lease(lid(B, 1), LeaseState::NONE, now),
        Err(AckError::NoSuchLease)
    );
}

#[test]
fn contention_during_a_break_is_broken_in_steps_after_the_ack() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    let v2 = lease_v2(A, 1, "RHW", 0x11, None, LeaseVersion::V2);
    create(&mut f, 1, &v2, now);
    let (open, overwrite) = (plain(A), truncate(A));
    let first = f.check_open(&open, Attempt::First, now);
    assert_eq!(summary(&first.notices)[0].1, "RWH");
    assert_eq!(first.notices[0].epoch, 0x13);
    // The overwrite needs none, but sends nothing new while the break is in progress.
    let v = f.check_open(&overwrite, Attempt::First, now);
    assert!(v.wait && v.notices.is_empty());
    // The ack to RH is answered with a further break to R, same epoch, ack required ...
    let acked = f.ack_lease(lid(A, 1), LeaseState::RH, now).unwrap();
    assert_eq!(acked.state, LeaseState::RH);
    assert_eq!(
        summary(&acked.notices),
        [(Holder::Lease(lid(A, 1)), "RH".into(), "R".into(), true)]
    );
    assert_eq!(acked.notices[0].epoch, 0x13);
    assert!(f.check_open(&open, Attempt::Retry, now).wait);
    assert!(f.check_open(&overwrite, Attempt::Retry, now).wait);
    // ... and the ack to R by a break to none that needs none.
    let acked = f.ack_lease(lid(A, 1), LeaseState::R, now).unwrap();
    assert_eq!(
        summary(&acked.notices),
        [(Holder::Lease(lid(A, 1)), "R".into(), "NONE".into(), false)]
    );
    assert_eq!(acked.notices[0].epoch, 0x13);
    assert!(!f.check_open(&open, Attempt::Retry, now).wait);
    assert!(!f.check_open(&overwrite, Attempt::Retry, now).wait);
}

#[test]
fn a_handle_lease_broken_to_none_does_not_hold_up_the_open() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &lease(A, 1, "RH"), now);
    let v = f.check_open(&truncate(A), Attempt::First, now);
    assert!(!v.wait, "no write caching to wait for");
    assert_eq!(
        summary(&v.notices),
        [(Holder::Lease(lid(A, 1)), "RH".into(), "NONE".into(), true)]
    );
    f.grant(2, &truncate(A), false);
    // Another overwrite while the break is in progress goes ahead too.
    let v = f.check_open(&truncate(A), Attempt::First, now);
    assert_eq!(v, Verdict::default());
    let l = granted_lease(create(&mut f, 3, &lease(A, 1, ""), now).0);
    assert_eq!((l.state, l.breaking), (LeaseState::RH, true));
    assert!(
        f.ack_lease(lid(A, 1), LeaseState::NONE, now)
            .unwrap()
            .notices
            .is_empty()
    );
}

#[test]
fn a_read_lease_is_broken_at_once_and_an_ack_is_unsuccessful() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &lease(A, 1, "R"), now);
    let v = f.check_open(&truncate(A), Attempt::First, now);
    assert!(!v.wait);
    assert!(!v.notices[0].ack_required);
    assert_eq!(v.notices[0].lease_notification().unwrap().flags, 0);
    let l = granted_lease(create(&mut f, 2, &lease(A, 1, ""), now).0);
    assert_eq!((l.state, l.breaking), (LeaseState::NONE, false));
    assert_eq!(
        f.ack_lease(lid(A, 1), LeaseState::NONE, now),
        Err(AckError::LeaseNotBreaking)
    );
}

#[test]
fn a_lease_holder_may_acknowledge_less_than_asked() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &lease(A, 1, "RWH"), now);
    assert!(f.check_open(&plain(A), Attempt::First, now).wait);
    let acked = f.ack_lease(lid(A, 1), LeaseState::NONE, now).unwrap();
    assert_eq!(acked.state, LeaseState::NONE);
    assert!(!f.check_open(&plain(A), Attempt::Retry, now).wait);
}

#[test]
fn handle_lease_is_broken_before_a_sharing_violation() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &lease(A, 1, "RWH"), now);
    let conflicting = OpenRequest {
        disposition: OVERWRITE,
        ..lease(B, 2, "RWH")
    };
    let v = f.check_sharing_violation(&conflicting, Attempt::First, now);
    assert!(
        v.wait,
        "the opener waits for the holder to give up handle caching"
    );
    assert_eq!(
        summary(&v.notices),
        [(Holder::Lease(lid(A, 1)), "RWH".into(), "RW".into(), true)]
    );
    f.ack_lease(lid(A, 1), LeaseState::RW, now).unwrap();
    // The handle was kept open: the share check fails again, nothing left to break.
    let v = f.check_sharing_violation(&conflicting, Attempt::Retry, now);
    assert_eq!(v, Verdict::default());
    assert_eq!(f.lease(&lid(A, 1)).unwrap().state(), LeaseState::RW);
}

#[test]
fn unacknowledged_break_downgrades_after_the_timeout() {
    let t0 = SystemTime::UNIX_EPOCH;
    let mut f = FileCaching::new(Duration::from_secs(35));
    create(&mut f, 1, &lease(A, 1, "RWH"), t0);
    let second = lease(A, 2, "RWH");
    assert!(f.check_open(&second, Attempt::First, t0).wait);
    let due = t0 + Duration::from_secs(35);
    assert_eq!(f.next_deadline(), Some(due));
    assert!(f.poll_timeout(due - Duration::from_millis(1)).is_empty());
    let expired = f.poll_timeout(due);
    assert_eq!(
        expired,
        [Expired {
            holder: Holder::Lease(lid(A, 1)),
            from: LeaseState::RWH
        }]
    );
    assert_eq!(f.next_deadline(), None);
    assert!(!f.check_open(&second, Attempt::Retry, due).wait);
    assert_eq!(
        granted_lease(f.grant(2, &second, false)).state,
        LeaseState::RH
    );
    // The late ack finds no break; the lease is at none.
    assert_eq!(
        f.ack_lease(lid(A, 1), LeaseState::RH, due),
        Err(AckError::LeaseNotBreaking)
    );
    assert_eq!(f.lease(&lid(A, 1)).unwrap().state(), LeaseState::NONE);
}

#[test]
fn an_unacknowledged_batch_break_times_out_to_none() {
    let t0 = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &oplock(A, OplockLevel::BATCH), t0);
    let second = oplock(B, OplockLevel::BATCH);
    assert!(f.check_open(&second, Attempt::First, t0).wait);
    let late = t0 + DEFAULT_BREAK_TIMEOUT;
    assert_eq!(f.poll_timeout(late)[0].holder, Holder::Oplock(1));
    assert_eq!(f.oplock_level(1), Some(OplockLevel::NONE));
    assert!(!f.check_open(&second, Attempt::Retry, late).wait);
    assert_eq!(
        granted_oplock(f.grant(2, &second, false)),
        OplockLevel::LEVEL_II
    );
}
