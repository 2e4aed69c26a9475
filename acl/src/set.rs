//! Setting security on an existing object (SET_INFO of security information, MS-SMB2
//! 3.3.5.21.3 and MS-FSA 2.1.5.16), as NTFS stores it.
//!
//! The parts of the client's descriptor named by the SECURITY_INFORMATION bits replace the
//! stored ones; every other part, and its control bits, stays as it was (changing only the
//! owner leaves the DACL flags alone). For each ACL set:
//!
//! * the ACEs are stored as given, `INHERITED` flags included: no ACE is added from the parent
//!   nor dropped (propagation is the client's job, as Windows' own tools do it);
//! * `SE_*_PROTECTED` is taken from the client;
//! * `SE_*_AUTO_INHERITED` is kept only when the client also sets `SE_*_AUTO_INHERIT_REQ`: the
//!   request bit says "this ACL takes part in auto-inheritance", and without it the result is
//!   not marked auto-inherited whatever the client claims;
//! * `SE_*_AUTO_INHERIT_REQ` and `SE_*_DEFAULTED` are never stored (they only steer how a
//!   descriptor is computed, MS-DTYP 2.4.6);
//! * the DACL is always present afterwards: a client DACL that is absent or NULL stores a NULL
//!   DACL.
//!
//! Generic rights in effective ACEs of the DACL are stored mapped, as NTFS does; inherit-only
//! ACEs keep them for their children.

use crate::access::GenericMapping;
use crate::ace::flags;
use crate::descriptor::{SecurityDescriptor, control, security_information as si};

impl SecurityDescriptor {
    /// Replaces the parts named by `info` (OWNER, GROUP, DACL, SACL of
    /// [`si`](crate::descriptor::security_information)) with those of `new`, the descriptor a
    /// client sent. Whether the client may set them (access, owner rules) is the caller's
    /// check. `mapping` maps generic rights of effective DACL ACEs.
    pub fn apply_set(&mut self, new: &Self, info: u32, mapping: &GenericMapping) {
        if info & si::OWNER != 0 {
            self.owner.clone_from(&new.owner);
            self.control = replace_bits(self.control, new.control, control::OWNER_DEFAULTED);
        }
        if info & si::GROUP != 0 {
            self.group.clone_from(&new.group);
            self.control = replace_bits(self.control, new.control, control::GROUP_DEFAULTED);
        }
        if info & si::DACL != 0 {
            let mut dacl = new.dacl.clone();
            if let Some(dacl) = &mut dacl {
                for ace in &mut dacl.aces {
                    let effective = ace.flags & flags::INHERIT_ONLY == 0;
                    if effective && (ace.kind.is_allow() || ace.kind.is_deny()) {
                        ace.mask = mapping.map(ace.mask);
                    }
                }
            }
            self.dacl = dacl;
            let bits = acl_control(new.control, &DACL) | control::DACL_PRESENT;
            self.control = (self.control & !control::DACL_BITS) | bits;
        }
        if info & si::SACL != 0 {
            self.sacl.clone_from(&new.sacl);
            let mut bits = acl_control(new.control, &SACL);
            if new.sacl.is_some() || new.control & control::SACL_PRESENT != 0 {
                bits |= control::SACL_PRESENT;
            }
            self.control = (self.control & !control::SACL_BITS) | bits;
        }
    }
}

/// The control bits of one ACL.
struct AclBits {
    auto_req: u16,
    auto_inherited: u16,
    protected: u16,
}

const DACL: AclBits = AclBits {
    auto_req: control::DACL_AUTO_INHERIT_REQ,
    auto_inherited: control::DACL_AUTO_INHERITED,
    protected: control::DACL_PROTECTED,
};

const SACL: AclBits = AclBits {
    auto_req: control::SACL_AUTO_INHERIT_REQ,
    auto_inherited: control::SACL_AUTO_INHERITED,
    protected: control::SACL_PROTECTED,
};

/// The stored auto-inheritance bits of an ACL the client set with control bits `set`.
fn acl_control(set: u16, w: &AclBits) -> u16 {
    let mut out = set & w.protected;
    let both = w.auto_req | w.auto_inherited;
    if set & both == both {
        out |= w.auto_inherited;
    }
    out
}

/// `old` with the bits of `mask` taken from `new`.
fn replace_bits(old: u16, new: u16, mask: u16) -> u16 {
    (old & !mask) | (new & mask)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Sid;

    const M: &GenericMapping = &GenericMapping::FILE;

    fn sd(text: &str) -> SecurityDescriptor {
        SecurityDescriptor::from_sddl(text, None).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn sddl(sd: &SecurityDescriptor) -> String {
        sd.to_sddl(None).unwrap()
    }

    /// The DACL flags and ACE flags stored for each combination smbtorture
    /// smb2.acls.INHERITFLAGS sets: AI survives only with AR, AR is never stored, P and the
    /// ACE's ID flag are kept as given.
    #[test]
    fn dacl_control_bits_follow_ntfs() {
        let cases = [
            ("D:", "D:"),
            ("D:AI", "D:"),
            ("D:AR", "D:"),
            ("D:ARAI", "D:AI"),
            ("D:P", "D:P"),
            ("D:PAI", "D:P"),
            ("D:PAR", "D:P"),
            ("D:PARAI", "D:PAI"),
        ];
        for (set, want) in cases {
            for ace_flags in ["", "ID"] {
                let mut cur = sd("O:BAG:BAD:AI(A;ID;FA;;;WD)");
                let ace = format!("(A;{ace_flags};DCWD;;;S-1-5-21-1-2-3-1000)");
                let new = sd(&format!("{set}{ace}"));
                cur.apply_set(&new, si::DACL, M);
                assert_eq!(
                    sddl(&cur),
                    format!("O:BAG:BA{want}{ace}"),
                    "set {set} with ACE flags {ace_flags:?}"
                );
                assert_eq!(cur.control & control::DACL_AUTO_INHERIT_REQ, 0);
            }
        }
    }

    /// smbtorture smb2.acls.SDFLAGSVSCHOWN: changing only the owner (away and back) leaves
    /// the DACL and its control bits as they were.
    #[test]
    fn owner_change_keeps_dacl_flags() {
        let start = sd("O:S-1-5-21-1-2-3-1000G:BAD:PAI(A;ID;0x40002;;;S-1-5-21-1-2-3-1000)");
        let mut cur = start.clone();
        cur.apply_set(&sd("O:WD"), si::OWNER, M);
        assert_eq!(cur.owner, Some(Sid::new(1, &[0])));
        assert_eq!(cur.control, start.control);
        assert_eq!(cur.dacl, start.dacl);
        cur.apply_set(&sd("O:S-1-5-21-1-2-3-1000"), si::OWNER, M);
        assert_eq!(cur, start);
    }

    #[test]
    fn absent_dacl_is_stored_as_null_dacl() {
        let mut cur = sd("O:BAG:BAD:(A;;FA;;;WD)");
        cur.apply_set(&sd("O:WD"), si::DACL, M);
        assert!(cur.has_null_dacl());
        assert_eq!(cur.owner, Some(Sid::builtin_administrators()));
    }

    #[test]
    fn generic_rights_are_mapped_in_effective_aces_only() {
        let mut cur = sd("O:BAG:BAD:");
        cur.apply_set(&sd("D:(A;;GA;;;WD)(A;OICIIO;GA;;;CO)"), si::DACL, M);
        assert_eq!(sddl(&cur), "O:BAG:BAD:(A;;FA;;;WD)(A;OICIIO;GA;;;CO)");
    }

    #[test]
    fn sacl_bits_follow_the_same_rule() {
        let mut cur = sd("O:BAG:BAD:(A;;FA;;;WD)");
        cur.apply_set(&sd("S:AI(AU;SA;FA;;;WD)"), si::SACL, M);
        assert_eq!(sddl(&cur), "O:BAG:BAD:(A;;FA;;;WD)S:(AU;SA;FA;;;WD)");
        cur.apply_set(&sd("S:PARAI(AU;SA;FA;;;WD)"), si::SACL, M);
        assert_eq!(sddl(&cur), "O:BAG:BAD:(A;;FA;;;WD)S:PAI(AU;SA;FA;;;WD)");
        // The DACL and its bits are untouched by a SACL set.
        assert_eq!(cur.control & control::DACL_BITS, control::DACL_PRESENT);
    }
}
