//! [`SecurityDescriptor`] to SDDL text, as Windows prints it.

use std::fmt::Write;

use super::aliases::{BITS, LABEL_BITS, WHOLE_MASK, alias_for_sid};
use super::{ACE_FLAGS, ACE_TYPES, SddlFormatError};
use crate::Sid;
use crate::ace::{Ace, AceType};
use crate::acl::Acl;
use crate::descriptor::{SecurityDescriptor, control};

/// Formats `sd` as SDDL. `domain` lets domain-relative SIDs print as their aliases.
pub fn format(sd: &SecurityDescriptor, domain: Option<&Sid>) -> Result<String, SddlFormatError> {
    let mut out = String::new();
    if let Some(owner) = &sd.owner {
        out.push_str("O:");
        push_sid(&mut out, owner, domain);
    }
    if let Some(group) = &sd.group {
        out.push_str("G:");
        push_sid(&mut out, group, domain);
    }
    let parts = [
        (
            "D:",
            &sd.dacl,
            control::DACL_PRESENT,
            control::DACL_PROTECTED,
            control::DACL_AUTO_INHERIT_REQ,
            control::DACL_AUTO_INHERITED,
        ),
        (
            "S:",
            &sd.sacl,
            control::SACL_PRESENT,
            control::SACL_PROTECTED,
            control::SACL_AUTO_INHERIT_REQ,
            control::SACL_AUTO_INHERITED,
        ),
    ];
    for (tag, acl, present, protected, req, inherited) in parts {
        if acl.is_none() && sd.control & present == 0 {
            continue;
        }
        out.push_str(tag);
        for (bit, text) in [(protected, "P"), (req, "AR"), (inherited, "AI")] {
            if sd.control & bit != 0 {
                out.push_str(text);
            }
        }
        match acl {
            None => out.push_str("NO_ACCESS_CONTROL"),
            Some(acl) => push_acl(&mut out, acl, domain)?,
        }
    }
    Ok(out)
}

fn push_sid(out: &mut String, sid: &Sid, domain: Option<&Sid>) {
    match alias_for_sid(sid, domain) {
        Some(alias) => out.push_str(alias),
        None => {
            let _ = write!(out, "{sid}");
        }
    }
}

fn push_acl(out: &mut String, acl: &Acl, domain: Option<&Sid>) -> Result<(), SddlFormatError> {
    for ace in &acl.aces {
        push_ace(out, ace, domain)?;
    }
    Ok(())
}

fn push_ace(out: &mut String, ace: &Ace, domain: Option<&Sid>) -> Result<(), SddlFormatError> {
    let name = ACE_TYPES
        .iter()
        .find(|(_, v)| *v == ace.kind.0)
        .map(|(n, _)| *n)
        .ok_or(SddlFormatError::UnnamedAceType(ace.kind.0))?;
    // Trailing bytes of other ACE types are padding and have no text form.
    let carries_data = ace.kind.is_callback() || ace.kind == AceType::SYSTEM_RESOURCE_ATTRIBUTE;
    if carries_data && !ace.application_data.is_empty() {
        return Err(SddlFormatError::ApplicationData(ace.kind.0));
    }
    out.push('(');
    out.push_str(name);
    out.push(';');
    for (flag, bit) in &ACE_FLAGS[..8] {
        if ace.flags & bit != 0 {
            out.push_str(flag);
        }
    }
    out.push(';');
    push_rights(out, ace.mask, ace.kind == AceType::SYSTEM_MANDATORY_LABEL);
    out.push(';');
    if let Some(o) = &ace.object {
        if let Some(g) = &o.object_type {
            let _ = write!(out, "{g}");
        }
        out.push(';');
        if let Some(g) = &o.inherited_object_type {
            let _ = write!(out, "{g}");
        }
        out.push(';');
    } else {
        out.push_str(";;");
    }
    push_sid(out, &ace.sid, domain);
    out.push(')');
    Ok(())
}

fn push_rights(out: &mut String, mask: u32, label: bool) {
    if mask == 0 {
        return;
    }
    if let Some((name, _)) = WHOLE_MASK.iter().find(|(_, v)| !label && *v == mask) {
        out.push_str(name);
        return;
    }
    let table = if label { LABEL_BITS } else { BITS };
    let covered = table.iter().fold(0, |acc, (_, v)| acc | v);
    if mask & !covered != 0 {
        let _ = write!(out, "0x{mask:x}");
        return;
    }
    for (name, bit) in table {
        if mask & bit != 0 {
            out.push_str(name);
        }
    }
}
