//! The SDDL alias tables of MS-DTYP 2.5.1.1 (SIDs) and 2.5.1.1 / 2.4.3 (access rights).

use crate::Sid;
use crate::access::*;

/// A well-known SID alias: the two letters and the SID, with authority and sub-authorities.
pub(super) struct SidAlias {
    pub(super) alias: &'static str,
    pub(super) authority: u64,
    pub(super) subs: &'static [u32],
}

const fn a(alias: &'static str, authority: u64, subs: &'static [u32]) -> SidAlias {
    SidAlias {
        alias,
        authority,
        subs,
    }
}

/// Aliases for SIDs that do not depend on a domain.
pub(super) const WELL_KNOWN: &[SidAlias] = &[
    a("AA", 5, &[32, 579]),
    a("AC", 15, &[2, 1]),
    a("AN", 5, &[7]),
    a("AO", 5, &[32, 548]),
    a("AS", 18, &[1]),
    a("AU", 5, &[11]),
    a("BA", 5, &[32, 544]),
    a("BG", 5, &[32, 546]),
    a("BO", 5, &[32, 551]),
    a("BU", 5, &[32, 545]),
    a("CD", 5, &[32, 574]),
    a("CG", 3, &[1]),
    a("CO", 3, &[0]),
    a("CY", 5, &[32, 569]),
    a("ED", 5, &[9]),
    a("ER", 5, &[32, 573]),
    a("ES", 5, &[32, 576]),
    a("HA", 5, &[32, 578]),
    a("HI", 16, &[12288]),
    a("IS", 5, &[32, 568]),
    a("IU", 5, &[4]),
    a("LS", 5, &[19]),
    a("LU", 5, &[32, 559]),
    a("LW", 16, &[4096]),
    a("ME", 16, &[8192]),
    a("MP", 16, &[8448]),
    a("MS", 5, &[32, 577]),
    a("MU", 5, &[32, 558]),
    a("NO", 5, &[32, 556]),
    a("NS", 5, &[20]),
    a("NU", 5, &[2]),
    a("OW", 3, &[4]),
    a("PO", 5, &[32, 550]),
    a("PS", 5, &[10]),
    a("PU", 5, &[32, 547]),
    a("RA", 5, &[32, 575]),
    a("RC", 5, &[12]),
    a("RD", 5, &[32, 555]),
    a("RE", 5, &[32, 552]),
    a("RM", 5, &[32, 580]),
    a("RU", 5, &[32, 554]),
    a("SI", 16, &[16384]),
    a("SO", 5, &[32, 549]),
    a("SS", 18, &[2]),
    a("SU", 5, &[6]),
    a("SY", 5, &[18]),
    a("UD", 5, &[84, 0, 0, 0, 0, 0]),
    a("WD", 1, &[0]),
    a("WR", 5, &[33]),
];

/// Aliases for SIDs relative to the domain (or forest root) SID: the alias and the RID.
pub(super) const DOMAIN_RELATIVE: &[(&str, u32)] = &[
    ("RO", 498),
    ("LA", 500),
    ("LG", 501),
    ("DA", 512),
    ("DU", 513),
    ("DG", 514),
    ("DC", 515),
    ("DD", 516),
    ("CA", 517),
    ("SA", 518),
    ("EA", 519),
    ("PA", 520),
    ("CN", 522),
    ("AP", 525),
    ("KA", 526),
    ("EK", 527),
    ("RS", 553),
];

/// The SID an alias names, if it is one (domain-relative aliases need `domain`).
pub(super) fn sid_for_alias(alias: &str, domain: Option<&Sid>) -> Option<Result<Sid, ()>> {
    if let Some(w) = WELL_KNOWN
        .iter()
        .find(|w| w.alias.eq_ignore_ascii_case(alias))
    {
        return Some(Ok(Sid::new(w.authority, w.subs)));
    }
    let (_, rid) = DOMAIN_RELATIVE
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(alias))?;
    Some(
        domain
            .ok_or(())
            .and_then(|d| d.with_rid(*rid).map_err(|_| ())),
    )
}

/// The alias Windows prints for `sid`, if it has one.
pub(super) fn alias_for_sid(sid: &Sid, domain: Option<&Sid>) -> Option<&'static str> {
    if let Some(w) = WELL_KNOWN
        .iter()
        .find(|w| w.authority == sid.authority() && w.subs == sid.sub_authorities())
    {
        return Some(w.alias);
    }
    let domain = domain?;
    let (rid, prefix) = sid.sub_authorities().split_last()?;
    if sid.authority() != domain.authority() || prefix != domain.sub_authorities() {
        return None;
    }
    DOMAIN_RELATIVE
        .iter()
        .find(|(_, r)| r == rid)
        .map(|(name, _)| *name)
}

/// Whole-mask aliases, printed only when the mask equals the value exactly (file and registry
/// rights). `KX` has the same value as `KR`, so `KR` is printed.
pub(super) const WHOLE_MASK: &[(&str, u32)] = &[
    ("FA", FILE_ALL_ACCESS),
    ("FR", FILE_GENERIC_READ),
    ("FW", FILE_GENERIC_WRITE),
    ("FX", FILE_GENERIC_EXECUTE),
    ("KA", 0x000F_003F),
    ("KR", 0x0002_0019),
    ("KW", 0x0002_0006),
    ("KX", 0x0002_0019),
];

/// Single-bit aliases, in ascending bit order, which is the order Windows prints them in
/// (e.g. `SDGXGWGR`, `CCDCLCSWRPWPDTLOCRSDRCWDWO`).
pub(super) const BITS: &[(&str, u32)] = &[
    ("CC", 0x0000_0001),
    ("DC", 0x0000_0002),
    ("LC", 0x0000_0004),
    ("SW", 0x0000_0008),
    ("RP", 0x0000_0010),
    ("WP", 0x0000_0020),
    ("DT", 0x0000_0040),
    ("LO", 0x0000_0080),
    ("CR", 0x0000_0100),
    ("SD", DELETE),
    ("RC", READ_CONTROL),
    ("WD", WRITE_DAC),
    ("WO", WRITE_OWNER),
    ("GA", GENERIC_ALL),
    ("GX", GENERIC_EXECUTE),
    ("GW", GENERIC_WRITE),
    ("GR", GENERIC_READ),
];

/// The mandatory label policy bits (MS-DTYP 2.4.4.13), printed for ML ACEs.
pub(super) const LABEL_BITS: &[(&str, u32)] = &[("NW", 0x1), ("NR", 0x2), ("NX", 0x4)];
