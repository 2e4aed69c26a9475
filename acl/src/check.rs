//! The access check (MS-DTYP 2.5.3.2).
//!
//! Rules, in order:
//! 1. Generic bits of the request are mapped with the [`GenericMapping`]; MAXIMUM_ALLOWED asks
//!    for everything the caller can get.
//! 2. ACCESS_SYSTEM_SECURITY needs [`Privileges::SECURITY`]; without it the request fails at
//!    once. WRITE_OWNER is granted by [`Privileges::TAKE_OWNERSHIP`]; [`Privileges::BACKUP`]
//!    and [`Privileges::RESTORE`] grant [`BACKUP_RIGHTS`] and [`RESTORE_RIGHTS`] (the caller
//!    passes them only for backup-intent opens).
//! 3. No DACL (absent or NULL) grants everything.
//! 4. The owner (the user or an enabled group equal to the owner SID) is granted READ_CONTROL
//!    and WRITE_DAC, unless the DACL has an effective OWNER RIGHTS (S-1-3-4) ACE, in which
//!    case those ACEs, matched against the owner, decide instead.
//! 5. ACEs are walked in stored order; inherit-only ACEs are skipped. An ACE matches the user
//!    SID or an enabled group (deny ACEs also match deny-only groups). An allow ACE grants the
//!    still-wanted bits it covers; a deny ACE that covers a still-wanted bit fails the request.
//!    ACE masks are generic-mapped before use. Object ACEs with an ObjectType GUID do not apply
//!    (there is no object tree for files); callback ACEs are not evaluated: an allow-callback
//!    never grants and a deny-callback always applies (its condition counts as unknown).
//! 6. Any wanted bit left ungranted fails the request with those bits. A request for no
//!    rights at all succeeds with 0 (whether a zero DesiredAccess is acceptable is the
//!    caller's protocol decision); MAXIMUM_ALLOWED that yields nothing fails.
//!
//! Mandatory labels are not enforced: network tokens carry no integrity level.

use crate::access::*;
use crate::ace::Ace;
use crate::descriptor::SecurityDescriptor;
use crate::{GroupAttributes, Sid, Token};

/// The request failed: `missing` holds the wanted bits that were denied or never granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessDenied {
    /// The request after generic mapping (without MAXIMUM_ALLOWED).
    pub desired: u32,
    /// The bits that failed.
    pub missing: u32,
}

impl std::fmt::Display for AccessDenied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "access denied: 0x{:08x} of 0x{:08x} not granted",
            self.missing, self.desired
        )
    }
}

impl std::error::Error for AccessDenied {}

/// Checks `desired` against `sd` for `token` without privileges. Returns the granted mask (with
/// MAXIMUM_ALLOWED: everything the token gets, which includes the other requested bits).
pub fn access_check(
    sd: &SecurityDescriptor,
    token: &Token,
    desired: u32,
    mapping: &GenericMapping,
) -> Result<u32, AccessDenied> {
    access_check_with_privileges(sd, token, Privileges::NONE, desired, mapping)
}

/// What MAXIMUM_ALLOWED would give `token` (no privileges).
pub fn maximum_allowed(sd: &SecurityDescriptor, token: &Token, mapping: &GenericMapping) -> u32 {
    access_check(sd, token, MAXIMUM_ALLOWED, mapping).unwrap_or(0)
}

/// [`access_check`] for a caller holding `privileges`.
pub fn access_check_with_privileges(
    sd: &SecurityDescriptor,
    token: &Token,
    privileges: Privileges,
    desired: u32,
    mapping: &GenericMapping,
) -> Result<u32, AccessDenied> {
    let max = desired & MAXIMUM_ALLOWED != 0;
    let wanted = mapping.map(desired) & !MAXIMUM_ALLOWED;
    let deny = |missing| AccessDenied {
        desired: wanted,
        missing,
    };
    let mut granted = 0u32;

    if wanted & ACCESS_SYSTEM_SECURITY != 0 {
        if !privileges.contains(Privileges::SECURITY) {
            return Err(deny(ACCESS_SYSTEM_SECURITY));
        }
        granted |= ACCESS_SYSTEM_SECURITY;
    }
    let mut by_privilege = 0;
    if privileges.contains(Privileges::TAKE_OWNERSHIP) {
        by_privilege |= WRITE_OWNER;
    }
    if privileges.contains(Privileges::BACKUP) {
        by_privilege |= BACKUP_RIGHTS & !ACCESS_SYSTEM_SECURITY;
    }
    if privileges.contains(Privileges::RESTORE) {
        by_privilege |= RESTORE_RIGHTS & !ACCESS_SYSTEM_SECURITY;
    }
    granted |= if max {
        by_privilege
    } else {
        by_privilege & wanted
    };

    let Some(dacl) = &sd.dacl else {
        // Absent or NULL DACL: no policy, everything is granted.
        let all = if max { mapping.all } else { 0 };
        return Ok(granted | wanted | all);
    };

    let is_owner = sd.owner.as_ref().is_some_and(|o| token.contains(o));
    let owner_rights = Sid::new(3, &[4]);
    let has_owner_rights_ace = dacl
        .aces
        .iter()
        .any(|a| !a.is_inherit_only() && a.sid == owner_rights);
    if is_owner && !has_owner_rights_ace {
        granted |= READ_CONTROL | WRITE_DAC;
    }

    let applies = |ace: &Ace, for_deny: bool| -> bool {
        if ace.is_inherit_only() {
            return false;
        }
        if ace.object.as_ref().is_some_and(|o| o.object_type.is_some()) {
            return false;
        }
        if ace.sid == owner_rights {
            return is_owner;
        }
        token_has(token, &ace.sid, for_deny)
    };

    let mut allowed = 0u32;
    let mut denied = 0u32;
    for ace in &dacl.aces {
        let kind = ace.kind;
        let mask = mapping.map(ace.mask);
        if kind.is_allow() && !kind.is_callback() && applies(ace, false) {
            allowed |= mask & !denied;
        } else if kind.is_deny() && applies(ace, true) {
            denied |= mask & !allowed & !granted;
            if !max && wanted & denied & !granted != 0 {
                return Err(deny(wanted & denied & !granted));
            }
        }
        if !max && wanted & !(granted | allowed) == 0 {
            break;
        }
    }
    granted |= allowed;
    let missing = wanted & !granted;
    if missing != 0 {
        return Err(deny(missing));
    }
    if max && granted == 0 {
        // MAXIMUM_ALLOWED that yields nothing is a failure too.
        return Err(deny(MAXIMUM_ALLOWED));
    }
    Ok(if max { granted } else { wanted })
}

/// Whether `sid` is the token's user or one of its groups that counts for this kind of ACE.
fn token_has(token: &Token, sid: &Sid, for_deny: bool) -> bool {
    &token.user == sid
        || token.groups.iter().any(|g| {
            &g.sid == sid
                && (g.attributes.is_enabled()
                    || (for_deny && g.attributes.0 & GroupAttributes::USE_FOR_DENY_ONLY != 0))
        })
}
