//! Cross-module tests: descriptor codec, access check truth tables, inheritance.

use crate::access::*;
use crate::descriptor::{control, security_information as si};
use crate::{
    AccessDenied, GenericMapping, GroupAttributes, Privileges, SdError, SecurityDescriptor, Sid,
    Token, TokenGroup, access_check, access_check_with_privileges, inherit, maximum_allowed,
};

const M: &GenericMapping = &GenericMapping::FILE;

fn sd(text: &str) -> SecurityDescriptor {
    SecurityDescriptor::from_sddl(text, None).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn sddl(sd: &SecurityDescriptor) -> String {
    sd.to_sddl(None).unwrap()
}

fn user(rid: u32) -> Sid {
    Sid::new(5, &[21, 1, 2, 3, rid])
}

/// A network-logon token for `user(rid)` in BUILTIN\Users plus `extra` groups.
fn token(rid: u32, extra: &[Sid]) -> Token {
    let mut groups = vec![TokenGroup {
        sid: Sid::builtin_users(),
        attributes: GroupAttributes::DEFAULT,
    }];
    groups.extend(extra.iter().map(|s| TokenGroup {
        sid: s.clone(),
        attributes: GroupAttributes::DEFAULT,
    }));
    Token::network_logon(user(rid), groups)
}

fn admin() -> Token {
    token(500, &[Sid::builtin_administrators()])
}

// ---- descriptor codec ------------------------------------------------------------------

#[test]
fn decode_checks_every_offset() {
    let good = sd("O:BAG:SYD:(A;;FA;;;WD)S:(AU;FA;FA;;;WD)")
        .encode()
        .unwrap();
    assert_eq!(
        SecurityDescriptor::decode(&good[..19]),
        Err(SdError::TruncatedHeader)
    );
    let mut bad = good.clone();
    bad[0] = 2;
    assert_eq!(SecurityDescriptor::decode(&bad), Err(SdError::Revision(2)));
    let mut bad = good.clone();
    bad[3] &= 0x7F;
    assert_eq!(
        SecurityDescriptor::decode(&bad),
        Err(SdError::NotSelfRelative)
    );
    for (field, part) in [(4, "owner"), (8, "group"), (12, "sacl"), (16, "dacl")] {
        for off in [4u32, good.len() as u32, u32::MAX] {
            let mut bad = good.clone();
            bad[field..field + 4].copy_from_slice(&off.to_le_bytes());
            assert_eq!(
                SecurityDescriptor::decode(&bad),
                Err(SdError::BadOffset { part, offset: off }),
                "{part} {off}"
            );
        }
    }
    // A SID cut short by the end of the buffer.
    let owner_at = u32::from_le_bytes([good[4], good[5], good[6], good[7]]) as usize;
    assert!(matches!(
        SecurityDescriptor::decode(&good[..owner_at + 10]),
        Err(SdError::Sid { part: "owner", .. } | SdError::BadOffset { .. })
    ));
    // An ACL whose size runs past the buffer.
    let mut bad = good.clone();
    let dacl_at = u32::from_le_bytes([good[16], good[17], good[18], good[19]]) as usize;
    bad[dacl_at + 2..dacl_at + 4].copy_from_slice(&0xFFF0u16.to_le_bytes());
    assert!(matches!(
        SecurityDescriptor::decode(&bad),
        Err(SdError::Acl { part: "dacl", .. })
    ));
}

#[test]
fn decode_accepts_any_part_order_and_encodes_canonically() {
    // The DACL first, then the owner (as Windows' RtlMakeSelfRelativeSD may write it).
    let owner = Sid::builtin_administrators();
    let mut bytes = vec![
        1, 0, 0x04, 0x80, 28, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0,
    ];
    bytes.extend_from_slice(&[2, 0, 8, 0, 0, 0, 0, 0]);
    owner.encode(&mut bytes);
    let parsed = SecurityDescriptor::decode(&bytes).unwrap();
    assert_eq!(sddl(&parsed), "O:BAD:");
    let canonical = parsed.encode().unwrap();
    assert_eq!(SecurityDescriptor::decode(&canonical).unwrap(), parsed);
    assert_eq!(
        (canonical[4], canonical[16]),
        (20, 36),
        "the owner comes first in the canonical layout, the DACL after it"
    );
    // A DACL offset without SE_DACL_PRESENT is ignored.
    bytes[2] = 0;
    assert_eq!(SecurityDescriptor::decode(&bytes).unwrap().dacl, None);
}

#[test]
fn filtered_returns_only_the_parts_asked_for() {
    let full = sd("O:BAG:SYD:PAI(A;;FA;;;WD)S:AI(AU;FA;FA;;;WD)(ML;;NW;;;LW)");
    assert_eq!(sddl(&full.filtered(si::OWNER)), "O:BA");
    assert_eq!(sddl(&full.filtered(si::OWNER | si::GROUP)), "O:BAG:SY");
    assert_eq!(sddl(&full.filtered(si::DACL)), "D:PAI(A;;FA;;;WD)");
    assert_eq!(
        sddl(&full.filtered(si::SACL)),
        "S:AI(AU;FA;FA;;;WD)(ML;;NW;;;LW)"
    );
    assert_eq!(sddl(&full.filtered(si::LABEL)), "S:AI(ML;;NW;;;LW)");
    assert_eq!(full.filtered(si::BACKUP), full);
    assert_eq!(sddl(&full.filtered(0)), "");
}

// ---- access check ----------------------------------------------------------------------

#[test]
fn deny_before_allow_wins_and_allow_before_deny_grants() {
    let t = token(1001, &[]);
    let deny_first = sd("D:(D;;FW;;;BU)(A;;FA;;;BU)");
    assert_eq!(
        access_check(&deny_first, &t, FILE_WRITE_DATA, M),
        Err(AccessDenied {
            desired: FILE_WRITE_DATA,
            missing: FILE_WRITE_DATA
        })
    );
    assert_eq!(
        access_check(&deny_first, &t, FILE_READ_DATA, M),
        Ok(FILE_READ_DATA)
    );
    let allow_first = sd("D:(A;;FA;;;BU)(D;;FW;;;BU)");
    assert_eq!(
        access_check(&allow_first, &t, FILE_WRITE_DATA, M),
        Ok(FILE_WRITE_DATA)
    );
    // A deny for a bit that is already granted does not matter; one for a pending bit does.
    let partial = sd("D:(A;;FR;;;BU)(D;;FA;;;WD)(A;;FW;;;BU)");
    assert_eq!(
        access_check(&partial, &t, FILE_READ_DATA, M),
        Ok(FILE_READ_DATA)
    );
    assert_eq!(
        access_check(&partial, &t, FILE_READ_DATA | FILE_WRITE_DATA, M)
            .unwrap_err()
            .missing,
        FILE_WRITE_DATA
    );
}

#[test]
fn inherit_only_aces_are_skipped() {
    let t = token(1001, &[]);
    let io = sd("D:(A;OICIIO;FA;;;BU)");
    assert!(access_check(&io, &t, FILE_READ_DATA, M).is_err());
    let io_deny = sd("D:(D;OICIIO;FA;;;BU)(A;;FA;;;BU)");
    assert_eq!(
        access_check(&io_deny, &t, FILE_ALL_ACCESS, M),
        Ok(FILE_ALL_ACCESS)
    );
}

#[test]
fn unmatched_sids_and_disabled_groups_do_not_count() {
    let mut t = token(1001, &[Sid::builtin_administrators()]);
    let admins_only = sd("D:(A;;FA;;;BA)");
    assert!(access_check(&admins_only, &t, FILE_READ_DATA, M).is_ok());
    t.groups
        .iter_mut()
        .filter(|g| g.sid == Sid::builtin_administrators())
        .for_each(|g| g.attributes = GroupAttributes(GroupAttributes::MANDATORY));
    assert!(access_check(&admins_only, &t, FILE_READ_DATA, M).is_err());
    // A deny-only group matches deny ACEs but not allow ACEs.
    t.groups
        .iter_mut()
        .filter(|g| g.sid == Sid::builtin_administrators())
        .for_each(|g| g.attributes = GroupAttributes(GroupAttributes::USE_FOR_DENY_ONLY));
    let deny_admins = sd("D:(D;;FW;;;BA)(A;;FA;;;WD)");
    assert!(access_check(&deny_admins, &t, FILE_WRITE_DATA, M).is_err());
    assert!(access_check(&deny_admins, &t, FILE_READ_DATA, M).is_ok());
}

#[test]
fn owner_gets_read_control_and_write_dac_unless_owner_rights_ace() {
    let owner = token(1001, &[]);
    let other = token(1002, &[]);
    let empty = sd("O:S-1-5-21-1-2-3-1001D:");
    assert_eq!(
        access_check(&empty, &owner, READ_CONTROL | WRITE_DAC, M),
        Ok(READ_CONTROL | WRITE_DAC)
    );
    assert!(access_check(&empty, &owner, FILE_READ_DATA, M).is_err());
    assert!(access_check(&empty, &other, READ_CONTROL, M).is_err());
    assert_eq!(maximum_allowed(&empty, &owner, M), READ_CONTROL | WRITE_DAC);
    // Implicit owner rights survive a deny ACE.
    let denied = sd("O:S-1-5-21-1-2-3-1001D:(D;;FA;;;WD)");
    assert_eq!(access_check(&denied, &owner, WRITE_DAC, M), Ok(WRITE_DAC));
    // An OWNER RIGHTS ACE replaces the implicit rights.
    let owner_rights = sd("O:S-1-5-21-1-2-3-1001D:(A;;FR;;;OW)");
    assert!(access_check(&owner_rights, &owner, WRITE_DAC, M).is_err());
    assert_eq!(maximum_allowed(&owner_rights, &owner, M), FILE_GENERIC_READ);
    assert!(access_check(&owner_rights, &other, FILE_READ_DATA, M).is_err());
    // ... but an inherit-only OWNER RIGHTS ACE does not.
    let io_owner_rights = sd("O:S-1-5-21-1-2-3-1001D:(A;OICIIO;FR;;;OW)");
    assert_eq!(
        access_check(&io_owner_rights, &owner, WRITE_DAC, M),
        Ok(WRITE_DAC)
    );
    // The owner may also be a group of the token.
    let group_owned = sd("O:BUD:");
    assert_eq!(
        access_check(&group_owned, &other, READ_CONTROL, M),
        Ok(READ_CONTROL)
    );
}

#[test]
fn maximum_allowed_collects_grants_and_respects_denies() {
    let t = token(1001, &[]);
    let d = sd("D:(D;;FW;;;BU)(A;;FA;;;WD)");
    let max = maximum_allowed(&d, &t, M);
    // FW includes READ_CONTROL and SYNCHRONIZE, so the deny takes those too.
    assert_eq!(max, FILE_ALL_ACCESS & !FILE_GENERIC_WRITE);
    assert_eq!(access_check(&d, &t, MAXIMUM_ALLOWED, M), Ok(max));
    assert_eq!(
        access_check(&d, &t, MAXIMUM_ALLOWED | FILE_READ_DATA, M),
        Ok(max)
    );
    assert_eq!(
        access_check(&d, &t, MAXIMUM_ALLOWED | FILE_WRITE_DATA, M)
            .unwrap_err()
            .missing,
        FILE_WRITE_DATA
    );
    // Nothing granted at all is a failure.
    let none = sd("D:(A;;FA;;;BA)");
    assert!(access_check(&none, &t, MAXIMUM_ALLOWED, M).is_err());
    assert_eq!(maximum_allowed(&none, &t, M), 0);
}

#[test]
fn null_dacl_grants_everything_empty_dacl_nothing() {
    let t = token(1001, &[]);
    let null = sd("O:BAD:NO_ACCESS_CONTROL");
    assert_eq!(
        access_check(&null, &t, FILE_ALL_ACCESS, M),
        Ok(FILE_ALL_ACCESS)
    );
    assert_eq!(maximum_allowed(&null, &t, M), FILE_ALL_ACCESS);
    let absent = sd("O:BA");
    assert_eq!(
        access_check(&absent, &t, GENERIC_ALL, M),
        Ok(FILE_ALL_ACCESS)
    );
    let empty = sd("O:BAD:");
    assert!(access_check(&empty, &t, FILE_READ_DATA, M).is_err());
    assert!(access_check(&empty, &t, READ_CONTROL, M).is_err());
    assert_eq!(
        access_check(&empty, &admin(), READ_CONTROL, M),
        Ok(READ_CONTROL)
    );
}

#[test]
fn generic_bits_in_aces_and_in_the_request() {
    let t = token(1001, &[]);
    let ga = sd("D:(A;;GA;;;BU)");
    assert_eq!(
        access_check(&ga, &t, FILE_ALL_ACCESS, M),
        Ok(FILE_ALL_ACCESS)
    );
    let grgx = sd("D:(A;;GXGR;;;BU)");
    assert_eq!(
        access_check(&grgx, &t, GENERIC_READ, M),
        Ok(FILE_GENERIC_READ)
    );
    assert_eq!(
        access_check(&grgx, &t, GENERIC_WRITE, M)
            .unwrap_err()
            .missing,
        FILE_GENERIC_WRITE & !FILE_GENERIC_READ
    );
    let deny_gw = sd("D:(D;;GW;;;BU)(A;;FA;;;BU)");
    assert!(access_check(&deny_gw, &t, FILE_APPEND_DATA, M).is_err());
    assert!(access_check(&deny_gw, &t, FILE_READ_DATA, M).is_ok());
}

#[test]
fn access_system_security_needs_the_privilege() {
    let t = admin();
    let open = sd("D:(A;;FA;;;WD)");
    assert_eq!(
        access_check(&open, &t, ACCESS_SYSTEM_SECURITY, M),
        Err(AccessDenied {
            desired: ACCESS_SYSTEM_SECURITY,
            missing: ACCESS_SYSTEM_SECURITY
        })
    );
    assert_eq!(
        access_check_with_privileges(
            &open,
            &t,
            Privileges::SECURITY,
            ACCESS_SYSTEM_SECURITY | FILE_READ_DATA,
            M
        ),
        Ok(ACCESS_SYSTEM_SECURITY | FILE_READ_DATA)
    );
    // Even a NULL DACL does not give the SACL away.
    let null = sd("D:NO_ACCESS_CONTROL");
    assert!(access_check(&null, &t, ACCESS_SYSTEM_SECURITY, M).is_err());
}

#[test]
fn backup_restore_and_take_ownership_privileges() {
    let t = token(1001, &[]);
    let locked = sd("O:BAD:P");
    assert!(access_check(&locked, &t, FILE_READ_DATA, M).is_err());
    let backup = Privileges::BACKUP;
    assert_eq!(
        access_check_with_privileges(&locked, &t, backup, FILE_GENERIC_READ, M),
        Ok(FILE_GENERIC_READ)
    );
    assert!(access_check_with_privileges(&locked, &t, backup, FILE_WRITE_DATA, M).is_err());
    let restore = Privileges::RESTORE;
    assert_eq!(
        access_check_with_privileges(
            &locked,
            &t,
            restore,
            WRITE_DAC | DELETE | FILE_WRITE_DATA,
            M
        ),
        Ok(WRITE_DAC | DELETE | FILE_WRITE_DATA)
    );
    assert_eq!(
        access_check_with_privileges(&locked, &t, Privileges::TAKE_OWNERSHIP, WRITE_OWNER, M),
        Ok(WRITE_OWNER)
    );
    let max = access_check_with_privileges(&locked, &t, backup | restore, MAXIMUM_ALLOWED, M);
    assert_eq!(
        max,
        Ok((BACKUP_RIGHTS | RESTORE_RIGHTS) & !ACCESS_SYSTEM_SECURITY)
    );
}

#[test]
fn object_and_callback_aces() {
    let t = token(1001, &[]);
    // An object ACE with an object type does not apply to a file; one without does.
    let typed = sd("D:(OA;;FA;bf967aba-0de6-11d0-a285-00aa003049e2;;BU)");
    assert!(access_check(&typed, &t, FILE_READ_DATA, M).is_err());
    let untyped = sd("D:(OA;;FA;;;BU)");
    assert!(access_check(&untyped, &t, FILE_READ_DATA, M).is_ok());
    // Callback ACEs: allow never grants, deny always applies.
    let allow_cb = sd("D:(XA;;FA;;;BU)");
    assert!(access_check(&allow_cb, &t, FILE_READ_DATA, M).is_err());
    let deny_cb = sd("D:(XD;;FW;;;BU)(A;;FA;;;BU)");
    assert!(access_check(&deny_cb, &t, FILE_WRITE_DATA, M).is_err());
    assert!(access_check(&deny_cb, &t, FILE_READ_DATA, M).is_ok());
}

// ---- inheritance -----------------------------------------------------------------------

/// Inherits from `parent` with no creator descriptor, for user 1001.
fn child(parent: &str, is_dir: bool) -> String {
    let t = token(1001, &[]);
    let out = inherit(&sd(parent), None, &t, is_dir, M);
    let text = sddl(&out);
    // Owner and group are the user and its Domain Users; strip them to keep the cases short.
    let prefix = "O:S-1-5-21-1-2-3-1001G:S-1-5-21-1-2-3-513";
    text.strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{text}"))
        .to_string()
}

#[test]
fn inheritance_flag_combinations() {
    let cases = [
        // (parent DACL, directory child, file child)
        (
            "D:(A;OI;FA;;;BA)",
            "D:(A;OIIOID;FA;;;BA)",
            "D:(A;ID;FA;;;BA)",
        ),
        ("D:(A;CI;FA;;;BA)", "D:(A;CIID;FA;;;BA)", "D:(A;ID;FA;;;SY)"),
        (
            "D:(A;OICI;FA;;;BA)",
            "D:(A;OICIID;FA;;;BA)",
            "D:(A;ID;FA;;;BA)",
        ),
        (
            "D:(A;OICINP;FA;;;BA)",
            "D:(A;ID;FA;;;BA)",
            "D:(A;ID;FA;;;BA)",
        ),
        ("D:(A;OINP;FA;;;BA)", "D:(A;ID;FA;;;SY)", "D:(A;ID;FA;;;BA)"),
        ("D:(A;CINP;FA;;;BA)", "D:(A;ID;FA;;;BA)", "D:(A;ID;FA;;;SY)"),
        (
            "D:(A;OICIIO;FA;;;BA)",
            "D:(A;OICIID;FA;;;BA)",
            "D:(A;ID;FA;;;BA)",
        ),
        (
            "D:(A;OIIO;FA;;;BA)",
            "D:(A;OIIOID;FA;;;BA)",
            "D:(A;ID;FA;;;BA)",
        ),
        (
            "D:(A;CIIO;FA;;;BA)",
            "D:(A;CIID;FA;;;BA)",
            "D:(A;ID;FA;;;SY)",
        ),
        ("D:(A;;FA;;;BA)", "D:(A;ID;FA;;;SY)", "D:(A;ID;FA;;;SY)"),
        // CREATOR OWNER / CREATOR GROUP: effective substituted copy, then the inherit-only one.
        (
            "D:(A;OICIIO;GA;;;CO)",
            "D:(A;ID;FA;;;S-1-5-21-1-2-3-1001)(A;OICIIOID;GA;;;CO)",
            "D:(A;ID;FA;;;S-1-5-21-1-2-3-1001)",
        ),
        (
            "D:(A;OICI;FR;;;CG)",
            "D:(A;ID;FR;;;S-1-5-21-1-2-3-513)(A;OICIIOID;FR;;;CG)",
            "D:(A;ID;FR;;;S-1-5-21-1-2-3-513)",
        ),
        (
            "D:(A;OIIO;GA;;;CO)",
            "D:(A;OIIOID;GA;;;CO)",
            "D:(A;ID;FA;;;S-1-5-21-1-2-3-1001)",
        ),
        (
            "D:(A;OICINPIO;GA;;;CO)",
            "D:(A;ID;FA;;;S-1-5-21-1-2-3-1001)",
            "D:(A;ID;FA;;;S-1-5-21-1-2-3-1001)",
        ),
        // Deny ACEs and audit flags travel the same way.
        (
            "D:(D;OICI;SD;;;WD)",
            "D:(D;OICIID;SD;;;WD)",
            "D:(D;ID;SD;;;WD)",
        ),
    ];
    // When nothing is inherited the token default DACL (owner and SYSTEM) is used.
    let fallback = |s: &str| {
        s.replace(
            "D:(A;ID;FA;;;SY)",
            "D:(A;;FA;;;S-1-5-21-1-2-3-1001)(A;;FA;;;SY)",
        )
    };
    // These parents are not auto-inherited (no AI): as on Windows (smbtorture
    // smb2.acls.INHERITANCE), the copies then carry no INHERITED (ID) flag.
    let no_id = |s: String| s.replace("ID;", ";");
    for (parent, dir, file) in cases {
        assert_eq!(child(parent, true), no_id(fallback(dir)), "dir of {parent}");
        assert_eq!(
            child(parent, false),
            no_id(fallback(file)),
            "file of {parent}"
        );
    }
}

#[test]
fn windows_ntfs_volume_root_children() {
    // Observed on a freshly formatted NTFS volume: the root, a new directory, a new file.
    let root = "O:SYG:SYD:AI(A;OICIIO;SDGXGWGR;;;AU)(A;;0x1301bf;;;AU)(A;;FA;;;SY)\
                (A;OICIIO;GA;;;SY)(A;OICIIO;GA;;;BA)(A;;FA;;;BA)(A;;0x1200a9;;;BU)\
                (A;OICIIO;GXGR;;;BU)";
    assert_eq!(
        child(root, true),
        "D:AI(A;ID;0x1301bf;;;AU)(A;OICIIOID;SDGXGWGR;;;AU)(A;ID;FA;;;SY)\
         (A;OICIIOID;GA;;;SY)(A;ID;FA;;;BA)(A;OICIIOID;GA;;;BA)(A;ID;0x1200a9;;;BU)\
         (A;OICIIOID;GXGR;;;BU)"
    );
    assert_eq!(
        child(root, false),
        "D:AI(A;ID;0x1301bf;;;AU)(A;ID;FA;;;SY)(A;ID;FA;;;BA)(A;ID;0x1200a9;;;BU)"
    );
    // The child directory's own children: the inherited inheritable ACEs propagate again.
    let dir = format!("O:SYG:SY{}", child(root, true));
    assert_eq!(
        child(&dir, false),
        "D:AI(A;ID;0x1301bf;;;AU)(A;ID;FA;;;SY)(A;ID;FA;;;BA)(A;ID;0x1200a9;;;BU)"
    );
}

#[test]
fn protected_parent_still_passes_its_aces_down() {
    // P stops the parent inheriting from above; its own inheritable ACEs still flow down.
    assert_eq!(
        child("D:PAI(A;OICI;FA;;;BA)", true),
        "D:AI(A;OICIID;FA;;;BA)"
    );
    // Without AI on the parent the copy is not marked inherited.
    assert_eq!(child("D:P(A;OICI;FA;;;BA)", false), "D:(A;;FA;;;BA)");
}

#[test]
fn explicit_creator_descriptor_is_merged() {
    let t = token(1001, &[]);
    let parent = sd("O:BAG:SYD:AI(A;OICI;FA;;;BA)S:AI(AU;OICISA;FA;;;WD)");
    // Explicit DACL, not protected: explicit ACEs first, inherited ones after.
    let creator = sd("D:(A;;FR;;;WD)(A;ID;FA;;;AN)");
    let out = inherit(&parent, Some(&creator), &t, false, M);
    assert_eq!(
        sddl(&out),
        "O:S-1-5-21-1-2-3-1001G:S-1-5-21-1-2-3-513D:AI(A;;FR;;;WD)(A;ID;FA;;;BA)\
         S:AI(AU;IDSA;FA;;;WD)"
    );
    // Protected: the explicit DACL alone; owner and group from the creator.
    let creator = sd("O:BAG:BUD:P(A;;GA;;;CO)");
    let out = inherit(&parent, Some(&creator), &t, true, M);
    assert_eq!(
        sddl(&out),
        "O:BAG:BUD:PAI(A;;FA;;;BA)S:AI(AU;OICIIDSA;FA;;;WD)"
    );
    // Explicit inheritable CREATOR OWNER ACE on a new directory splits like an inherited one.
    let creator = sd("D:P(A;OICI;GA;;;CO)");
    let out = inherit(&parent, Some(&creator), &t, true, M);
    assert_eq!(
        sddl(&out.filtered(si::DACL)),
        "D:PAI(A;;FA;;;S-1-5-21-1-2-3-1001)(A;OICIIO;GA;;;CO)"
    );
    // Explicit NULL DACL stays NULL.
    let creator = sd("D:NO_ACCESS_CONTROL");
    let out = inherit(&parent, Some(&creator), &t, false, M);
    assert!(out.has_null_dacl());
    // A parent without AI: the explicit DACL replaces inheritance.
    let plain = sd("O:BAG:SYD:(A;OICI;FA;;;BA)");
    let out = inherit(&plain, Some(&sd("D:(A;;FR;;;WD)")), &t, false, M);
    assert_eq!(sddl(&out.filtered(si::DACL)), "D:(A;;FR;;;WD)");
    assert_eq!(out.control & control::DACL_AUTO_INHERITED, 0);
}

#[test]
fn default_descriptor_for_unstored_files() {
    let owner = user(1001);
    let group = user(513);
    let file = SecurityDescriptor::default_for(&owner, &group, false);
    assert_eq!(
        sddl(&file),
        "O:S-1-5-21-1-2-3-1001G:S-1-5-21-1-2-3-513D:(A;;FA;;;S-1-5-21-1-2-3-1001)\
         (A;;FA;;;SY)(A;;FA;;;BA)"
    );
    let dir = SecurityDescriptor::default_for(&owner, &group, true);
    assert!(
        sddl(&dir).ends_with("D:(A;OICI;FA;;;S-1-5-21-1-2-3-1001)(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)")
    );
    let t = token(1001, &[]);
    assert_eq!(
        access_check(&file, &t, FILE_ALL_ACCESS, M),
        Ok(FILE_ALL_ACCESS)
    );
    assert!(access_check(&file, &token(1002, &[]), FILE_READ_DATA, M).is_err());
    assert!(access_check(&file, &admin(), FILE_ALL_ACCESS, M).is_ok());
}

#[test]
fn fslogix_profile_share() {
    let root = sd(crate::FSLOGIX_ROOT_SDDL);
    let a = token(1001, &[]);
    let b = token(1002, &[]);
    let admins = admin();
    // Any user may list the root and create a folder in it.
    assert!(
        access_check(
            &root,
            &a,
            FILE_LIST_DIRECTORY | FILE_ADD_SUBDIRECTORY | FILE_TRAVERSE,
            M
        )
        .is_ok()
    );
    // But may not delete other folders through the root or change its ACL.
    assert!(access_check(&root, &a, FILE_DELETE_CHILD, M).is_err());
    assert!(access_check(&root, &a, WRITE_DAC, M).is_err());

    // User A creates their profile folder.
    let folder = inherit(&root, None, &a, true, M);
    assert_eq!(
        sddl(&folder),
        "O:S-1-5-21-1-2-3-1001G:S-1-5-21-1-2-3-513D:AI(A;ID;FA;;;S-1-5-21-1-2-3-1001)\
         (A;OICIIOID;GA;;;CO)(A;OICIID;FA;;;BA)(A;OICIID;FA;;;SY)"
    );
    assert_eq!(maximum_allowed(&folder, &a, M), FILE_ALL_ACCESS);
    assert_eq!(
        access_check(&folder, &b, FILE_LIST_DIRECTORY, M),
        Err(AccessDenied {
            desired: FILE_LIST_DIRECTORY,
            missing: FILE_LIST_DIRECTORY
        })
    );
    assert_eq!(maximum_allowed(&folder, &b, M), 0);
    assert_eq!(
        access_check(&folder, &admins, FILE_GENERIC_READ, M),
        Ok(FILE_GENERIC_READ)
    );

    // A's VHDX inside the folder: A and the administrators only.
    let vhd = inherit(&folder, None, &a, false, M);
    assert_eq!(
        sddl(&vhd),
        "O:S-1-5-21-1-2-3-1001G:S-1-5-21-1-2-3-513D:AI(A;ID;FA;;;S-1-5-21-1-2-3-1001)\
         (A;ID;FA;;;BA)(A;ID;FA;;;SY)"
    );
    assert!(access_check(&vhd, &a, FILE_GENERIC_READ | FILE_GENERIC_WRITE, M).is_ok());
    assert!(access_check(&vhd, &b, FILE_READ_DATA, M).is_err());
    // The descriptors survive the binary form the server stores.
    let bytes = vhd.encode().unwrap();
    assert_eq!(SecurityDescriptor::decode(&bytes).unwrap(), vhd);
}

#[test]
fn encode_lays_out_owner_group_sacl_dacl_in_order() {
    // Samba's order: some clients read the parts in sequence rather than by offset.
    let sd =
        SecurityDescriptor::from_sddl("O:BAG:SYD:(A;;FA;;;WD)S:(AU;SA;FA;;;WD)", None).unwrap();
    let bin = sd.encode().unwrap();
    let at = |i: usize| u32::from_le_bytes([bin[i], bin[i + 1], bin[i + 2], bin[i + 3]]);
    let (owner, group, sacl, dacl) = (at(4), at(8), at(12), at(16));
    assert_eq!(owner, 20);
    assert_eq!(group, owner + 16, "S-1-5-32-544 takes 16 bytes");
    assert_eq!(sacl, group + 12, "S-1-5-18 takes 12 bytes");
    assert!(dacl > sacl && (dacl as usize) < bin.len());
    assert_eq!(SecurityDescriptor::decode(&bin).unwrap(), sd);
}
