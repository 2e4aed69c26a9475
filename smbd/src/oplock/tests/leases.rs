//! Leases on CREATE (smbtorture `smb2.lease`: request, upgrade, break, oplock, statopen, v2).

use std::time::SystemTime;

use super::*;

#[test]
fn only_r_rh_rw_and_rwh_leases_are_granted() {
    for (asked, got) in [
        ("", ""),
        ("R", "R"),
        ("H", ""),
        ("W", ""),
        ("RH", "RH"),
        ("RW", "RW"),
        ("HW", ""),
        ("RHW", "RHW"),
    ] {
        let mut f = file();
        let (g, _) = create(&mut f, 1, &lease(A, 1, asked), SystemTime::UNIX_EPOCH);
        assert_eq!(granted_lease(g).state, st(got), "asked {asked}");
        assert_eq!(
            g.oplock_level(),
            OplockLevel::LEASE,
            "a lease even in state none"
        );
    }
}

#[test]
fn same_lease_key_joins_the_lease_without_a_break() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &lease(A, 1, "RWH"), now);
    let (g, seen) = create(&mut f, 2, &lease(A, 1, "RWH"), now);
    assert!(seen.is_empty());
    assert_eq!(granted_lease(g).state, LeaseState::RWH);
    assert_eq!(f.lease(&lid(A, 1)).unwrap().opens(), [1, 2]);
    // The same key from another client is another lease, and breaks this one.
    let (g, seen) = create(&mut f, 3, &lease(B, 1, "RWH"), now);
    assert_eq!(seen.len(), 1);
    assert_eq!(granted_lease(g).state, LeaseState::RH);
}

#[test]
fn an_uncontended_upgrade_needs_a_strict_superset() {
    for (held, asked, result) in [
        ("", "R", "R"),
        ("R", "", "R"),
        ("R", "RH", "RH"),
        ("R", "RWH", "RWH"),
        ("RH", "RW", "RH"),
        ("RH", "RWH", "RWH"),
        ("RW", "RH", "RW"),
        ("RW", "RWH", "RWH"),
        ("RWH", "R", "RWH"),
    ] {
        let now = SystemTime::UNIX_EPOCH;
        let mut f = file();
        create(&mut f, 1, &lease(A, 1, held), now);
        let (g, seen) = create(&mut f, 2, &lease(A, 1, asked), now);
        assert!(seen.is_empty());
        assert_eq!(granted_lease(g).state, st(result), "{held} + {asked}");
    }
}

#[test]
fn a_contended_upgrade_gets_only_what_can_be_shared() {
    for (held1, held2, asked, result) in [
        ("R", "R", "RH", "RH"),
        ("R", "R", "RW", "R"),
        ("R", "R", "RHW", "R"),
        ("R", "RH", "RH", "RH"),
        ("RH", "R", "RHW", "RH"),
        ("RH", "RH", "R", "RH"),
    ] {
        let now = SystemTime::UNIX_EPOCH;
        let mut f = file();
        create(&mut f, 1, &lease(A, 1, held1), now);
        create(&mut f, 2, &lease(A, 2, held2), now);
        let (g, seen) = create(&mut f, 3, &lease(A, 1, asked), now);
        assert!(seen.is_empty(), "an upgrade breaks nobody");
        assert_eq!(granted_lease(g).state, st(result));
        assert_eq!(f.lease(&lid(A, 2)).unwrap().state(), st(held2));
    }
}

#[test]
fn lease_breaks_and_grants_follow_the_windows_table() {
    // Held by key 1, asked by key 2: key 1 broken to, key 2 granted.
    for (held, asked, broken, granted) in [
        ("R", "R", "R", "R"),
        ("R", "RHW", "R", "RH"),
        ("RH", "RW", "RH", "R"),
        ("RH", "RHW", "RH", "RH"),
        ("RW", "R", "R", "R"),
        ("RW", "RHW", "R", "RH"),
        ("RHW", "R", "RH", "R"),
        ("RHW", "RHW", "RH", "RH"),
    ] {
        let now = SystemTime::UNIX_EPOCH;
        let mut f = file();
        create(&mut f, 1, &lease(A, 1, held), now);
        let (g, seen) = create(&mut f, 2, &lease(A, 2, asked), now);
        assert_eq!(granted_lease(g).state, st(granted), "{held} vs {asked}");
        assert_eq!(f.lease(&lid(A, 1)).unwrap().state(), st(broken));
        assert_eq!(seen.len(), usize::from(held != broken));
        // Key 1 cannot take back what it lost while key 2 is open.
        let (g, seen) = create(&mut f, 3, &lease(A, 1, "RHW"), now);
        assert!(seen.is_empty());
        assert_eq!(granted_lease(g).state, st(broken));
    }
}

#[test]
fn rwh_lease_breaks_to_rh_on_a_conflicting_open_of_another_client() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    create(&mut f, 1, &lease(A, 1, "RWH"), now);
    let (g, seen) = create(&mut f, 2, &lease(B, 2, "RWH"), now);
    assert_eq!(
        summary(&seen),
        [(Holder::Lease(lid(A, 1)), "RWH".into(), "RH".into(), true)]
    );
    assert_eq!(seen[0].opens, [1]);
    let n = seen[0].lease_notification().unwrap();
    assert_eq!((n.flags, n.current_state, n.new_state), (1, 7, 3));
    assert_eq!(granted_lease(g).state, LeaseState::RH);
}

#[test]
fn leases_and_oplocks_share_as_windows_does() {
    // A lease held, an oplock asked: lease broken to, oplock granted.
    for (held, asked, broken, granted) in [
        ("R", OplockLevel::BATCH, "R", OplockLevel::LEVEL_II),
        ("RH", OplockLevel::LEVEL_II, "RH", OplockLevel::NONE),
        ("RW", OplockLevel::EXCLUSIVE, "R", OplockLevel::LEVEL_II),
        ("RHW", OplockLevel::BATCH, "RH", OplockLevel::NONE),
    ] {
        let now = SystemTime::UNIX_EPOCH;
        let mut f = file();
        create(&mut f, 1, &lease(A, 1, held), now);
        let (g, _) = create(&mut f, 2, &oplock(A, asked), now);
        assert_eq!(granted_oplock(g), granted, "{held} vs {asked:?}");
        assert_eq!(f.lease(&lid(A, 1)).unwrap().state(), st(broken));
    }
    // An oplock held, a lease asked: every oplock ends at level II, the lease gets R.
    for held in [
        OplockLevel::LEVEL_II,
        OplockLevel::EXCLUSIVE,
        OplockLevel::BATCH,
    ] {
        for asked in ["R", "RH", "RW", "RHW"] {
            let now = SystemTime::UNIX_EPOCH;
            let mut f = file();
            create(&mut f, 1, &oplock(A, held), now);
            let (g, _) = create(&mut f, 2, &lease(A, 1, asked), now);
            assert_eq!(granted_lease(g).state, LeaseState::R, "{held:?} vs {asked}");
            assert_eq!(f.oplock_level(1), Some(OplockLevel::LEVEL_II));
        }
    }
}

#[test]
fn a_stat_open_with_the_lease_key_keeps_the_lease_and_others_break_it() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    let stat = OpenRequest {
        access: ATTRS,
        ..lease(A, 1, "RWH")
    };
    let (g, _) = create(&mut f, 1, &stat, now);
    assert_eq!(granted_lease(g).state, LeaseState::RWH);
    // A normal open with the key and no wish gets the lease's state, breaking nothing.
    let (g, seen) = create(&mut f, 2, &lease(A, 1, ""), now);
    assert!(seen.is_empty());
    assert_eq!(granted_lease(g).state, LeaseState::RWH);
    f.on_close(2);
    // Another key breaks it to RH.
    let (g, seen) = create(&mut f, 3, &lease(A, 2, "RWH"), now);
    assert_eq!(summary(&seen)[0].2, "RH");
    assert_eq!(granted_lease(g).state, LeaseState::RH);
}

#[test]
fn a_directory_lease_never_caches_writes() {
    let mut f = file();
    let dir = OpenRequest {
        is_directory: true,
        ..lease_v2(A, 2, "RWH", 0x22, None, LeaseVersion::V2)
    };
    let (g, _) = create(&mut f, 1, &dir, SystemTime::UNIX_EPOCH);
    let l = granted_lease(g);
    assert_eq!((l.state, l.epoch), (LeaseState::RH, 0x23));
}

#[test]
fn a_v2_lease_starts_one_epoch_above_the_client_and_echoes_its_parent_key() {
    let mut f = file();
    let r = lease_v2(A, 3, "RWH", 0x33, Some(2), LeaseVersion::V2);
    let l = granted_lease(create(&mut f, 1, &r, SystemTime::UNIX_EPOCH).0);
    assert_eq!((l.epoch, l.parent, l.breaking), (0x34, Some(key(2)), false));
    let ctx = l.context();
    assert_eq!(
        ctx.flags,
        crate::proto::create_contexts::LEASE_FLAG_PARENT_LEASE_KEY_SET
    );
    assert_eq!(ctx.v2.unwrap().parent_key, [2; 16]);
    assert_eq!(ctx.v2.unwrap().epoch, 0x34);
    // A v1 request joining the lease is answered in v2 ...
    let joined = granted_lease(create(&mut f, 2, &lease(A, 3, ""), SystemTime::UNIX_EPOCH).0);
    assert_eq!(joined.context().v2, ctx.v2);
    // ... and a v2 request joining a v1 lease in v1, which carries neither.
    let mut g = file();
    create(&mut g, 1, &lease(A, 1, "R"), SystemTime::UNIX_EPOCH);
    let r = lease_v2(A, 1, "RW", 0x4711, Some(2), LeaseVersion::V2);
    let v1 = granted_lease(create(&mut g, 2, &r, SystemTime::UNIX_EPOCH).0).context();
    assert_eq!((v1.flags, v1.v2, v1.state), (0, None, 5));
    // From a decoded context: the parent key counts only with its flag.
    let mut wire = ctx;
    wire.flags = 0;
    assert_eq!(LeaseRequest::from_context(&wire).parent, None);
    assert_eq!(LeaseRequest::from_context(&ctx).parent, Some(key(2)));
}

#[test]
fn v2_epoch_increments_on_every_server_change() {
    let now = SystemTime::UNIX_EPOCH;
    let mut f = file();
    let e = 0x4711;
    let v2 = |s| lease_v2(A, 1, s, 0x11, None, LeaseVersion::V2);
    let first = lease_v2(A, 1, "R", e, None, LeaseVersion::V2);
    assert_eq!(granted_lease(create(&mut f, 1, &first, now).0).epoch, e + 1);
    // An upgrade through a v1 context still moves the v2 lease's epoch.
    assert_eq!(
        granted_lease(create(&mut f, 2, &lease(A, 1, "RH"), now).0).epoch,
        e + 2
    );
    let l = granted_lease(create(&mut f, 3, &v2("RHW"), now).0);
    assert_eq!((l.state, l.epoch), (LeaseState::RWH, e + 3));
    // No change, no new epoch.
    assert_eq!(
        granted_lease(create(&mut f, 4, &v2("RH"), now).0).epoch,
        e + 3
    );
    // A break is a change.
    let (_, seen) = create(&mut f, 5, &plain(B), now);
    assert_eq!(seen[0].epoch, e + 4);
    assert_eq!(seen[0].lease_notification().unwrap().new_epoch, e + 4);
    assert_eq!(f.lease(&lid(A, 1)).unwrap().epoch(), e + 4);
    // A v1 lease reports epoch 0.
    let mut g = file();
    let (_, seen) = {
        create(&mut g, 1, &lease(A, 1, "RWH"), now);
        create(&mut g, 2, &plain(B), now)
    };
    assert_eq!(seen[0].epoch, 0);
}
