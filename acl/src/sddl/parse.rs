//! SDDL text to [`SecurityDescriptor`].

use super::aliases::{BITS, LABEL_BITS, WHOLE_MASK, sid_for_alias};
use super::{ACE_FLAGS, ACE_TYPES, SddlError};
use crate::ace::{Ace, AceType, ObjectAceData};
use crate::acl::Acl;
use crate::descriptor::{SecurityDescriptor, control};
use crate::{Guid, Sid};

/// Parses SDDL text. `domain` resolves the domain-relative aliases (DA, DU, LA, ...).
///
/// The result is self-relative (SE_SELF_RELATIVE set), so it compares equal to its own binary
/// encoding decoded again.
pub fn parse(text: &str, domain: Option<&Sid>) -> Result<SecurityDescriptor, SddlError> {
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
        domain,
    };
    let mut sd = SecurityDescriptor {
        control: control::SELF_RELATIVE,
        ..SecurityDescriptor::default()
    };
    let mut seen = [false; 4];
    loop {
        p.skip_ws();
        let Some(tag) = p.peek() else { break };
        let at = p.pos;
        if p.s.get(p.pos + 1) != Some(&b':') {
            return Err(SddlError::ExpectedPart { at });
        }
        let slot = match tag.to_ascii_uppercase() {
            b'O' => 0,
            b'G' => 1,
            b'D' => 2,
            b'S' => 3,
            _ => return Err(SddlError::ExpectedPart { at }),
        };
        if std::mem::replace(&mut seen[slot], true) {
            return Err(SddlError::DuplicatePart { at });
        }
        p.pos += 2;
        match slot {
            0 => sd.owner = Some(p.sid()?),
            1 => sd.group = Some(p.sid()?),
            _ => {
                let dacl = slot == 2;
                let (bits, acl) = p.acl()?;
                let [present, protected, req, inherited] = if dacl {
                    [
                        control::DACL_PRESENT,
                        control::DACL_PROTECTED,
                        control::DACL_AUTO_INHERIT_REQ,
                        control::DACL_AUTO_INHERITED,
                    ]
                } else {
                    [
                        control::SACL_PRESENT,
                        control::SACL_PROTECTED,
                        control::SACL_AUTO_INHERIT_REQ,
                        control::SACL_AUTO_INHERITED,
                    ]
                };
                sd.control |= present;
                if bits.protected {
                    sd.control |= protected;
                }
                if bits.auto_inherit_req {
                    sd.control |= req;
                }
                if bits.auto_inherited {
                    sd.control |= inherited;
                }
                if dacl {
                    sd.dacl = acl;
                } else {
                    sd.sacl = acl;
                }
            }
        }
    }
    Ok(sd)
}

#[derive(Default)]
struct AclFlags {
    protected: bool,
    auto_inherit_req: bool,
    auto_inherited: bool,
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    domain: Option<&'a Sid>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, word: &str) -> bool {
        let end = self.pos + word.len();
        if self
            .s
            .get(self.pos..end)
            .is_some_and(|w| w.eq_ignore_ascii_case(word.as_bytes()))
        {
            self.pos = end;
            true
        } else {
            false
        }
    }

    /// An owner or group SID: an alias, or `S-1-...` read only as far as it can go (the next
    /// part's tag follows it directly).
    fn sid(&mut self) -> Result<Sid, SddlError> {
        self.skip_ws();
        let at = self.pos;
        let rest = &self.s[self.pos..];
        if rest.len() >= 2 && rest[0].eq_ignore_ascii_case(&b's') && rest[1] == b'-' {
            let mut end = 2;
            let mut group = 0;
            loop {
                let start = end;
                let hex = group == 1
                    && rest.get(end) == Some(&b'0')
                    && matches!(rest.get(end + 1), Some(b'x' | b'X'));
                if hex {
                    end += 2;
                }
                // A hex authority has at most 12 digits (MS-DTYP 2.4.2.1): a part tag right
                // after it ("S-1-0x0002540BE400D:...") is not one more digit.
                let most = if hex { 12 } else { usize::MAX };
                while end - start < most + usize::from(hex) * 2
                    && rest
                        .get(end)
                        .is_some_and(|c| c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()))
                {
                    end += 1;
                }
                if end == start {
                    return Err(SddlError::BadSid { at });
                }
                group += 1;
                if rest.get(end) == Some(&b'-') && rest.get(end + 1).is_some_and(u8::is_ascii_digit)
                {
                    end += 1;
                } else {
                    break;
                }
            }
            self.pos += end;
            return sid_text(&rest[..end], self.domain, at);
        }
        let word = rest.get(..2).ok_or(SddlError::BadSid { at })?;
        self.pos += 2;
        sid_text(word, self.domain, at)
    }

    /// ACL flags then ACEs, up to the next part or the end.
    fn acl(&mut self) -> Result<(AclFlags, Option<Acl>), SddlError> {
        let mut flags = AclFlags::default();
        let mut null = false;
        loop {
            self.skip_ws();
            if self.eat("NO_ACCESS_CONTROL") {
                null = true;
            } else if self.eat("AR") {
                flags.auto_inherit_req = true;
            } else if self.eat("AI") {
                flags.auto_inherited = true;
            } else if self.eat("P") {
                flags.protected = true;
            } else {
                break;
            }
        }
        let mut aces = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() != Some(b'(') {
                break;
            }
            let at = self.pos;
            if null {
                return Err(SddlError::AcesInNullAcl { at });
            }
            aces.push(self.ace()?);
        }
        if aces.len() > usize::from(u16::MAX) {
            return Err(SddlError::TooLarge);
        }
        Ok((flags, (!null).then(|| Acl::new(aces))))
    }

    /// One `(type;flags;rights;guid;guid;sid[;extra])`.
    fn ace(&mut self) -> Result<Ace, SddlError> {
        let open = self.pos;
        self.pos += 1;
        // Find the closing parenthesis, allowing nested ones and quoted text in the seventh
        // field so that the error names the unsupported part rather than the syntax.
        let mut depth = 0usize;
        let mut quoted = false;
        let close = loop {
            let c = self.peek().ok_or(SddlError::UnterminatedAce { at: open })?;
            match c {
                b'"' => quoted = !quoted,
                b'(' if !quoted => depth += 1,
                b')' if !quoted && depth == 0 => break self.pos,
                b')' if !quoted => depth -= 1,
                _ => {}
            }
            self.pos += 1;
        };
        self.pos += 1;
        let body = &self.s[open + 1..close];
        let mut fields: Vec<(usize, &[u8])> = Vec::with_capacity(7);
        let mut start = 0;
        for (i, &c) in body.iter().enumerate() {
            if c == b';' && fields.len() < 6 {
                fields.push((open + 1 + start, &body[start..i]));
                start = i + 1;
            }
        }
        fields.push((open + 1 + start, &body[start..]));
        if fields.len() < 6 {
            return Err(SddlError::FieldCount { at: open });
        }
        let field = |i: usize| (fields[i].0, fields[i].1.trim_ascii());

        let (at, t) = field(0);
        let kind = ACE_TYPES
            .iter()
            .find(|(name, _)| name.as_bytes().eq_ignore_ascii_case(t))
            .map(|(_, v)| AceType(*v))
            .ok_or(SddlError::AceType { at })?;
        let (at, f) = field(1);
        let flags = two_letter_sum(f, ACE_FLAGS, at, |at| SddlError::AceFlag { at })?;
        let (at, r) = field(2);
        let mask = rights(r, at)?;
        let object = if kind.is_object() {
            let (at1, g1) = field(3);
            let (at2, g2) = field(4);
            let object_type = guid(g1, at1)?;
            let inherited_object_type = guid(g2, at2)?;
            Some(ObjectAceData {
                flags: u32::from(object_type.is_some())
                    | (u32::from(inherited_object_type.is_some()) << 1),
                object_type,
                inherited_object_type,
            })
        } else {
            for i in [3, 4] {
                let (at, g) = field(i);
                if !g.is_empty() {
                    return Err(SddlError::Guid { at });
                }
            }
            None
        };
        let (at, s) = field(5);
        let sid = sid_text(s, self.domain, at)?;
        if fields.len() == 7 {
            let (at, extra) = field(6);
            let allows_extra = kind.is_callback() || kind == AceType::SYSTEM_RESOURCE_ATTRIBUTE;
            if !allows_extra {
                return Err(SddlError::FieldCount { at });
            }
            if !extra.is_empty() {
                return Err(SddlError::Unsupported { at });
            }
        }
        Ok(Ace {
            kind,
            flags,
            mask,
            sid,
            object,
            application_data: Vec::new(),
        })
    }
}

fn sid_text(t: &[u8], domain: Option<&Sid>, at: usize) -> Result<Sid, SddlError> {
    let text = std::str::from_utf8(t).map_err(|_| SddlError::BadSid { at })?;
    if t.len() == 2 {
        return match sid_for_alias(text, domain) {
            Some(Ok(sid)) => Ok(sid),
            Some(Err(())) => Err(SddlError::DomainRequired { at }),
            None => Err(SddlError::BadSid { at }),
        };
    }
    text.parse().map_err(|_| SddlError::BadSid { at })
}

/// Concatenated two-letter tokens, OR-ed together.
fn two_letter_sum<T: Copy + std::ops::BitOr<Output = T> + Default>(
    t: &[u8],
    table: &[(&str, T)],
    at: usize,
    err: impl Fn(usize) -> SddlError,
) -> Result<T, SddlError> {
    let mut acc = T::default();
    for (i, pair) in t.chunks(2).enumerate() {
        let v = table
            .iter()
            .find(|(name, _)| name.as_bytes().eq_ignore_ascii_case(pair))
            .map(|(_, v)| *v)
            .ok_or(err(at + 2 * i))?;
        acc = acc | v;
    }
    Ok(acc)
}

fn rights(t: &[u8], at: usize) -> Result<u32, SddlError> {
    let bad = SddlError::Rights { at };
    if t.is_empty() {
        return Ok(0);
    }
    if t.len() > 2 && t[0] == b'0' && (t[1] == b'x' || t[1] == b'X') {
        let hex = std::str::from_utf8(&t[2..]).map_err(|_| bad.clone())?;
        if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad);
        }
        return u32::from_str_radix(hex, 16).map_err(|_| bad);
    }
    if t.iter().all(u8::is_ascii_digit) {
        let dec = std::str::from_utf8(t).map_err(|_| bad.clone())?;
        return dec.parse().map_err(|_| bad);
    }
    let mut mask = 0;
    for (i, pair) in t.chunks(2).enumerate() {
        mask |= WHOLE_MASK
            .iter()
            .chain(BITS)
            .chain(LABEL_BITS)
            .find(|(name, _)| name.as_bytes().eq_ignore_ascii_case(pair))
            .map(|(_, v)| *v)
            .ok_or(SddlError::Rights { at: at + 2 * i })?;
    }
    Ok(mask)
}

fn guid(t: &[u8], at: usize) -> Result<Option<Guid>, SddlError> {
    if t.is_empty() {
        return Ok(None);
    }
    std::str::from_utf8(t)
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Some)
        .ok_or(SddlError::Guid { at })
}
