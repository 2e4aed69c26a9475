//! Security for new files and directories (MS-DTYP 2.5.3.4 CreateSecurityDescriptor and
//! ComputeACL), as NTFS applies it.
//!
//! * Owner and group come from the creator's descriptor (the SecD create context) when it has
//!   them, otherwise from the token: the user, and [`default_group`].
//! * Each ACL (DACL, SACL) is computed the same way. *Auto-inherit* mode is on when the parent's
//!   ACL is marked auto-inherited (`AI`) or the creator's asks for it (`AR`).
//!   - Creator ACL present (and not marked defaulted): a NULL ACL stays NULL; a protected one
//!     (`P`) is used alone; otherwise its explicit ACEs come first and, in auto-inherit mode,
//!     the ACEs inherited from the parent follow (the creator's own `ID` ACEs are dropped and
//!     recomputed). Without auto-inherit the explicit ACL is used alone.
//!   - No creator ACL: the ACEs inherited from the parent; if there are none, the creator's
//!     defaulted ACL, else for the DACL the token default ([`token_default_dacl`]) and for the
//!     SACL nothing.
//! * Inheriting a parent ACE, for a directory: a `CI` ACE is inherited (without `IO`), but an
//!   `NP` one only as an effective ACE with no inheritance flags; an `OI`-only ACE is kept as
//!   inherit-only (`OIIO`) unless `NP`. For a file: an `OI` ACE becomes an effective ACE with no
//!   inheritance flags. Every inherited ACE gets `ID`.
//! * When an inheritable ACE names CREATOR OWNER or CREATOR GROUP, or carries generic rights, a
//!   directory gets two ACEs, as Windows does: first the effective copy (the SID replaced by the
//!   new owner or group, generic rights mapped, no inheritance flags), then the original as
//!   inherit-only so it keeps propagating. Effective copies on files are substituted and mapped
//!   the same way. Explicit creator ACEs are treated alike (without `ID`).

use crate::access::{FILE_ALL_ACCESS, GenericMapping};
use crate::ace::{Ace, flags};
use crate::acl::Acl;
use crate::descriptor::{SecurityDescriptor, control};
use crate::{Sid, Token};

const GENERIC_BITS: u32 = 0xF000_0000;

/// The security descriptor of an object created inside `parent` by `token`, with the optional
/// descriptor the client supplied (`creator`, from the SecD create context).
pub fn inherit(
    parent: &SecurityDescriptor,
    creator: Option<&SecurityDescriptor>,
    token: &Token,
    is_container: bool,
    mapping: &GenericMapping,
) -> SecurityDescriptor {
    inherit_with_defaults(
        parent,
        creator,
        &token.user,
        &default_group(token),
        is_container,
        mapping,
    )
}

/// [`inherit`] with the default owner and group given instead of taken from a token.
pub fn inherit_with_defaults(
    parent: &SecurityDescriptor,
    creator: Option<&SecurityDescriptor>,
    default_owner: &Sid,
    default_group: &Sid,
    is_container: bool,
    mapping: &GenericMapping,
) -> SecurityDescriptor {
    let owner = creator
        .and_then(|c| c.owner.clone())
        .unwrap_or_else(|| default_owner.clone());
    let group = creator
        .and_then(|c| c.group.clone())
        .unwrap_or_else(|| default_group.clone());
    let ctx = Ctx {
        is_container,
        owner: &owner,
        group: &group,
        mapping,
    };
    let dacl = ctx.compute(parent, creator, &DACL);
    let sacl = ctx.compute(parent, creator, &SACL);
    let mut control = control::SELF_RELATIVE | dacl.control | sacl.control;
    if dacl.acl.is_none() && !dacl.present {
        // The token default DACL when nothing else applies.
        control |= control::DACL_PRESENT;
        return SecurityDescriptor {
            control,
            rm_control: 0,
            dacl: Some(token_default_dacl(&owner)),
            sacl: sacl.acl,
            owner: Some(owner),
            group: Some(group),
        };
    }
    SecurityDescriptor {
        control,
        rm_control: 0,
        dacl: dacl.acl,
        sacl: sacl.acl,
        owner: Some(owner),
        group: Some(group),
    }
}

/// The group a new object gets when the creator names none: for a domain or local account
/// (`S-1-5-21-x-y-z-rid`) the account domain's Domain Users / None group (RID 513), which is
/// the primary group Windows gives such accounts; otherwise the user SID itself.
pub fn default_group(token: &Token) -> Sid {
    let subs = token.user.sub_authorities();
    if token.user.authority() == 5 && subs.len() == 5 && subs[0] == 21 {
        Sid::new(5, &[subs[0], subs[1], subs[2], subs[3], 513])
    } else {
        token.user.clone()
    }
}

/// The DACL used when neither the creator nor the parent gives one, like a Windows token's
/// default DACL: full control for the owner and for SYSTEM.
pub fn token_default_dacl(owner: &Sid) -> Acl {
    Acl::new(vec![
        Ace::allow(0, FILE_ALL_ACCESS, owner.clone()),
        Ace::allow(0, FILE_ALL_ACCESS, Sid::new(5, &[18])),
    ])
}

/// Which ACL is being computed: its accessor and control bits.
struct Which {
    get: fn(&SecurityDescriptor) -> Option<&Acl>,
    present: u16,
    defaulted: u16,
    protected: u16,
    auto_req: u16,
    auto_inherited: u16,
}

const DACL: Which = Which {
    get: |sd| sd.dacl.as_ref(),
    present: control::DACL_PRESENT,
    defaulted: control::DACL_DEFAULTED,
    protected: control::DACL_PROTECTED,
    auto_req: control::DACL_AUTO_INHERIT_REQ,
    auto_inherited: control::DACL_AUTO_INHERITED,
};

const SACL: Which = Which {
    get: |sd| sd.sacl.as_ref(),
    present: control::SACL_PRESENT,
    defaulted: control::SACL_DEFAULTED,
    protected: control::SACL_PROTECTED,
    auto_req: control::SACL_AUTO_INHERIT_REQ,
    auto_inherited: control::SACL_AUTO_INHERITED,
};

/// A computed ACL: the list (None for NULL or absent), whether it is present, control bits.
struct Computed {
    acl: Option<Acl>,
    present: bool,
    control: u16,
}

struct Ctx<'a> {
    is_container: bool,
    owner: &'a Sid,
    group: &'a Sid,
    mapping: &'a GenericMapping,
}

impl Ctx<'_> {
    fn compute(
        &self,
        parent: &SecurityDescriptor,
        creator: Option<&SecurityDescriptor>,
        w: &Which,
    ) -> Computed {
        let creator_control = creator.map_or(0, |c| c.control);
        let auto = parent.control & w.auto_inherited != 0 || creator_control & w.auto_req != 0;
        let auto_bit = if auto { w.auto_inherited } else { 0 };
        let mut inherited = (w.get)(parent)
            .map(|acl| self.inherited_from_parent(acl))
            .unwrap_or_default();
        if !auto {
            // Without auto-inheritance the copies are not marked INHERITED, as Windows does
            // (smbtorture smb2.acls.INHERITANCE).
            for ace in &mut inherited {
                ace.flags &= !flags::INHERITED;
            }
        }
        let creator_acl = creator.and_then(|c| (w.get)(c));
        let creator_present = creator_control & w.present != 0 || creator_acl.is_some();
        let creator_defaulted = creator_control & w.defaulted != 0;

        if creator_present && !creator_defaulted {
            let Some(acl) = creator_acl else {
                // An explicit NULL ACL.
                return Computed {
                    acl: None,
                    present: true,
                    control: w.present | (creator_control & w.protected),
                };
            };
            let mut aces = self.explicit_from_creator(acl, auto);
            let protected = creator_control & w.protected != 0;
            if !protected && auto {
                aces.extend(inherited);
            }
            return Computed {
                acl: Some(Acl::new(aces)),
                present: true,
                control: w.present | auto_bit | (creator_control & w.protected),
            };
        }
        if !inherited.is_empty() {
            return Computed {
                acl: Some(Acl::new(inherited)),
                present: true,
                control: w.present | auto_bit,
            };
        }
        if let Some(acl) = creator_acl {
            return Computed {
                acl: Some(Acl::new(self.explicit_from_creator(acl, auto))),
                present: true,
                control: w.present | w.defaulted | auto_bit,
            };
        }
        Computed {
            acl: None,
            present: false,
            control: 0,
        }
    }

    /// ComputeInheritedACLfromParent: the ACEs a child inherits from its parent's ACL.
    fn inherited_from_parent(&self, acl: &Acl) -> Vec<Ace> {
        let mut out = Vec::new();
        for ace in &acl.aces {
            let f = ace.flags;
            let oi = f & flags::OBJECT_INHERIT != 0;
            let ci = f & flags::CONTAINER_INHERIT != 0;
            let np = f & flags::NO_PROPAGATE_INHERIT != 0;
            if self.is_container {
                if ci && np {
                    out.push(self.effective(ace, flags::INHERITED));
                } else if ci && self.needs_split(ace) {
                    out.push(self.effective(ace, flags::INHERITED));
                    out.push(with_flags(ace, f | flags::INHERIT_ONLY | flags::INHERITED));
                } else if ci {
                    out.push(with_flags(
                        ace,
                        (f & !flags::INHERIT_ONLY) | flags::INHERITED,
                    ));
                } else if oi && !np {
                    out.push(with_flags(ace, f | flags::INHERIT_ONLY | flags::INHERITED));
                }
            } else if oi {
                out.push(self.effective(ace, flags::INHERITED));
            }
        }
        out
    }

    /// ComputeInheritedACLfromCreator: the creator's explicit ACEs, substituted and mapped.
    fn explicit_from_creator(&self, acl: &Acl, auto: bool) -> Vec<Ace> {
        let mut out = Vec::new();
        for ace in &acl.aces {
            if auto && ace.flags & flags::INHERITED != 0 {
                continue;
            }
            if ace.is_inherit_only() || !self.needs_split(ace) {
                out.push(ace.clone());
            } else if self.is_container
                && ace.flags & (flags::OBJECT_INHERIT | flags::CONTAINER_INHERIT) != 0
            {
                out.push(self.effective(ace, 0));
                out.push(with_flags(ace, ace.flags | flags::INHERIT_ONLY));
            } else {
                let mut e = self.effective(ace, 0);
                e.flags = ace.flags;
                out.push(e);
            }
        }
        out
    }

    /// Whether the ACE needs a separate effective copy: CREATOR OWNER / GROUP or generic bits.
    fn needs_split(&self, ace: &Ace) -> bool {
        is_creator_sid(&ace.sid) || ace.mask & GENERIC_BITS != 0
    }

    /// The effective copy: no inheritance flags, `extra` flags added, SID substituted, mapped.
    fn effective(&self, ace: &Ace, extra: u8) -> Ace {
        let mut e = ace.clone();
        e.flags = (ace.flags & !flags::INHERITANCE) | extra;
        e.mask = self.mapping.map(ace.mask);
        if ace.sid == Sid::new(3, &[0]) {
            e.sid = self.owner.clone();
        } else if ace.sid == Sid::new(3, &[1]) {
            e.sid = self.group.clone();
        }
        e
    }
}

fn is_creator_sid(sid: &Sid) -> bool {
    sid.authority() == 3 && matches!(sid.sub_authorities(), [0] | [1])
}

fn with_flags(ace: &Ace, flags: u8) -> Ace {
    let mut a = ace.clone();
    a.flags = flags;
    a
}
