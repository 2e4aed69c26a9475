//! Access control entries (MS-DTYP 2.4.4).
//!
//! Every ACE type whose layout MS-DTYP defines is parsed into [`Ace`]: the header, the access
//! mask, for object ACEs the flags and GUIDs, the SID, and whatever follows the SID inside
//! `AceSize` (the application data of callback and resource-attribute ACEs, or padding) kept
//! byte for byte in [`Ace::application_data`], so encoding gives back the input.

use crate::{Guid, Sid};

/// The AceType byte (MS-DTYP 2.4.4.1). Open: the constants name the known values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AceType(pub u8);

impl AceType {
    /// ACCESS_ALLOWED_ACE_TYPE.
    pub const ACCESS_ALLOWED: Self = Self(0x00);
    /// ACCESS_DENIED_ACE_TYPE.
    pub const ACCESS_DENIED: Self = Self(0x01);
    /// SYSTEM_AUDIT_ACE_TYPE.
    pub const SYSTEM_AUDIT: Self = Self(0x02);
    /// SYSTEM_ALARM_ACE_TYPE (reserved).
    pub const SYSTEM_ALARM: Self = Self(0x03);
    /// ACCESS_ALLOWED_COMPOUND_ACE_TYPE (reserved; its layout is not defined, so it is refused).
    pub const ACCESS_ALLOWED_COMPOUND: Self = Self(0x04);
    /// ACCESS_ALLOWED_OBJECT_ACE_TYPE.
    pub const ACCESS_ALLOWED_OBJECT: Self = Self(0x05);
    /// ACCESS_DENIED_OBJECT_ACE_TYPE.
    pub const ACCESS_DENIED_OBJECT: Self = Self(0x06);
    /// SYSTEM_AUDIT_OBJECT_ACE_TYPE.
    pub const SYSTEM_AUDIT_OBJECT: Self = Self(0x07);
    /// SYSTEM_ALARM_OBJECT_ACE_TYPE (reserved).
    pub const SYSTEM_ALARM_OBJECT: Self = Self(0x08);
    /// ACCESS_ALLOWED_CALLBACK_ACE_TYPE.
    pub const ACCESS_ALLOWED_CALLBACK: Self = Self(0x09);
    /// ACCESS_DENIED_CALLBACK_ACE_TYPE.
    pub const ACCESS_DENIED_CALLBACK: Self = Self(0x0A);
    /// ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE.
    pub const ACCESS_ALLOWED_CALLBACK_OBJECT: Self = Self(0x0B);
    /// ACCESS_DENIED_CALLBACK_OBJECT_ACE_TYPE.
    pub const ACCESS_DENIED_CALLBACK_OBJECT: Self = Self(0x0C);
    /// SYSTEM_AUDIT_CALLBACK_ACE_TYPE.
    pub const SYSTEM_AUDIT_CALLBACK: Self = Self(0x0D);
    /// SYSTEM_ALARM_CALLBACK_ACE_TYPE (reserved).
    pub const SYSTEM_ALARM_CALLBACK: Self = Self(0x0E);
    /// SYSTEM_AUDIT_CALLBACK_OBJECT_ACE_TYPE.
    pub const SYSTEM_AUDIT_CALLBACK_OBJECT: Self = Self(0x0F);
    /// SYSTEM_ALARM_CALLBACK_OBJECT_ACE_TYPE (reserved).
    pub const SYSTEM_ALARM_CALLBACK_OBJECT: Self = Self(0x10);
    /// SYSTEM_MANDATORY_LABEL_ACE_TYPE.
    pub const SYSTEM_MANDATORY_LABEL: Self = Self(0x11);
    /// SYSTEM_RESOURCE_ATTRIBUTE_ACE_TYPE.
    pub const SYSTEM_RESOURCE_ATTRIBUTE: Self = Self(0x12);
    /// SYSTEM_SCOPED_POLICY_ID_ACE_TYPE.
    pub const SYSTEM_SCOPED_POLICY_ID: Self = Self(0x13);
    /// SYSTEM_PROCESS_TRUST_LABEL_ACE_TYPE.
    pub const SYSTEM_PROCESS_TRUST_LABEL: Self = Self(0x14);
    /// SYSTEM_ACCESS_FILTER_ACE_TYPE.
    pub const SYSTEM_ACCESS_FILTER: Self = Self(0x15);

    /// Whether the layout carries the object flags and GUIDs (MS-DTYP 2.4.4.3).
    pub fn is_object(self) -> bool {
        matches!(self.0, 0x05..=0x08 | 0x0B | 0x0C | 0x0F | 0x10)
    }

    /// Whether the layout is one this crate knows (every defined type except the compound ACE).
    pub fn is_known_layout(self) -> bool {
        self.0 <= 0x15 && self != Self::ACCESS_ALLOWED_COMPOUND
    }

    /// Whether the ACE grants access when evaluated (allowed, allowed-object, allowed-callback).
    pub fn is_allow(self) -> bool {
        matches!(self.0, 0x00 | 0x05 | 0x09 | 0x0B)
    }

    /// Whether the ACE denies access when evaluated.
    pub fn is_deny(self) -> bool {
        matches!(self.0, 0x01 | 0x06 | 0x0A | 0x0C)
    }

    /// Whether the ACE carries a conditional expression as application data.
    pub fn is_callback(self) -> bool {
        matches!(self.0, 0x09..=0x10)
    }
}

/// AceFlags bits (MS-DTYP 2.4.4.1).
pub mod flags {
    /// OBJECT_INHERIT_ACE (`OI`).
    pub const OBJECT_INHERIT: u8 = 0x01;
    /// CONTAINER_INHERIT_ACE (`CI`).
    pub const CONTAINER_INHERIT: u8 = 0x02;
    /// NO_PROPAGATE_INHERIT_ACE (`NP`).
    pub const NO_PROPAGATE_INHERIT: u8 = 0x04;
    /// INHERIT_ONLY_ACE (`IO`).
    pub const INHERIT_ONLY: u8 = 0x08;
    /// INHERITED_ACE (`ID`).
    pub const INHERITED: u8 = 0x10;
    /// CRITICAL_ACE_FLAG (`CR`), meaningful on callback ACEs.
    pub const CRITICAL: u8 = 0x20;
    /// SUCCESSFUL_ACCESS_ACE_FLAG (`SA`); also TRUST_PROTECTED_FILTER_ACE_FLAG (`TP`) on filters.
    pub const SUCCESSFUL_ACCESS: u8 = 0x40;
    /// FAILED_ACCESS_ACE_FLAG (`FA`).
    pub const FAILED_ACCESS: u8 = 0x80;
    /// The four flags that steer inheritance.
    pub const INHERITANCE: u8 =
        OBJECT_INHERIT | CONTAINER_INHERIT | NO_PROPAGATE_INHERIT | INHERIT_ONLY;
}

/// ACE_OBJECT_TYPE_PRESENT in an object ACE's Flags.
pub const ACE_OBJECT_TYPE_PRESENT: u32 = 0x1;
/// ACE_INHERITED_OBJECT_TYPE_PRESENT in an object ACE's Flags.
pub const ACE_INHERITED_OBJECT_TYPE_PRESENT: u32 = 0x2;

/// The object part of an object ACE (MS-DTYP 2.4.4.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ObjectAceData {
    /// The Flags field as read; bits other than the two "present" bits are kept too.
    pub flags: u32,
    /// ObjectType, present when `flags` has [`ACE_OBJECT_TYPE_PRESENT`].
    pub object_type: Option<Guid>,
    /// InheritedObjectType, present when `flags` has [`ACE_INHERITED_OBJECT_TYPE_PRESENT`].
    pub inherited_object_type: Option<Guid>,
}

/// One access control entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ace {
    /// The ACE type.
    pub kind: AceType,
    /// AceFlags (see [`flags`]).
    pub flags: u8,
    /// The access mask (for a mandatory label, the SYSTEM_MANDATORY_LABEL_* policy bits).
    pub mask: u32,
    /// The trustee.
    pub sid: Sid,
    /// Object flags and GUIDs; `Some` exactly when `kind.is_object()`.
    pub object: Option<ObjectAceData>,
    /// Bytes after the SID inside AceSize: callback conditions, resource attributes, padding.
    pub application_data: Vec<u8>,
}

/// Why an ACE could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AceError {
    /// Fewer than the 4 header bytes remain.
    TruncatedHeader,
    /// AceSize is below the minimum for its type, or runs past the ACL.
    BadSize {
        /// The AceSize field.
        size: u16,
    },
    /// An ACE type whose layout is not defined (the compound ACE, or above 0x15).
    UnknownType(u8),
    /// The SID inside the ACE is malformed or does not fit in AceSize.
    BadSid(crate::SidParseError),
}

impl std::fmt::Display for AceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TruncatedHeader => f.write_str("ACE header truncated"),
            Self::BadSize { size } => write!(f, "ACE size {size} is invalid"),
            Self::UnknownType(t) => write!(f, "ACE type 0x{t:02x} has no defined layout"),
            Self::BadSid(e) => write!(f, "ACE SID: {e}"),
        }
    }
}

impl std::error::Error for AceError {}

impl Ace {
    /// A plain ACE (allowed, denied, audit, label ...) with no object part or application data.
    pub fn new(kind: AceType, flags: u8, mask: u32, sid: Sid) -> Self {
        Self {
            kind,
            flags,
            mask,
            sid,
            object: kind.is_object().then(ObjectAceData::default),
            application_data: Vec::new(),
        }
    }

    /// An ACCESS_ALLOWED ACE.
    pub fn allow(flags: u8, mask: u32, sid: Sid) -> Self {
        Self::new(AceType::ACCESS_ALLOWED, flags, mask, sid)
    }

    /// An ACCESS_DENIED ACE.
    pub fn deny(flags: u8, mask: u32, sid: Sid) -> Self {
        Self::new(AceType::ACCESS_DENIED, flags, mask, sid)
    }

    /// Whether the INHERIT_ONLY flag is set (the ACE does not apply to its own object).
    pub fn is_inherit_only(&self) -> bool {
        self.flags & flags::INHERIT_ONLY != 0
    }

    /// Length of the binary form, which is what AceSize holds.
    pub fn binary_len(&self) -> usize {
        let object = self.object.as_ref().map_or(0, |o| {
            4 + 16
                * (usize::from(o.object_type.is_some())
                    + usize::from(o.inherited_object_type.is_some()))
        });
        8 + object + self.sid.binary_len() + self.application_data.len()
    }

    /// Appends the binary form. The caller keeps [`Ace::binary_len`] within `u16`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.kind.0);
        out.push(self.flags);
        out.extend_from_slice(&(self.binary_len() as u16).to_le_bytes());
        out.extend_from_slice(&self.mask.to_le_bytes());
        if let Some(o) = &self.object {
            let mut f = o.flags & !(ACE_OBJECT_TYPE_PRESENT | ACE_INHERITED_OBJECT_TYPE_PRESENT);
            if o.object_type.is_some() {
                f |= ACE_OBJECT_TYPE_PRESENT;
            }
            if o.inherited_object_type.is_some() {
                f |= ACE_INHERITED_OBJECT_TYPE_PRESENT;
            }
            out.extend_from_slice(&f.to_le_bytes());
            for g in [&o.object_type, &o.inherited_object_type]
                .into_iter()
                .flatten()
            {
                out.extend_from_slice(&g.0);
            }
        }
        self.sid.encode(out);
        out.extend_from_slice(&self.application_data);
    }

    /// Decodes one ACE from the start of `data`, returning it and its AceSize.
    pub fn decode(data: &[u8]) -> Result<(Self, usize), AceError> {
        let header = data.get(..4).ok_or(AceError::TruncatedHeader)?;
        let kind = AceType(header[0]);
        let flags = header[1];
        let size = u16::from_le_bytes([header[2], header[3]]);
        if !kind.is_known_layout() {
            return Err(AceError::UnknownType(kind.0));
        }
        let body = data
            .get(..usize::from(size))
            .filter(|b| b.len() >= 8)
            .ok_or(AceError::BadSize { size })?;
        let mask = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
        let mut pos = 8;
        let object = if kind.is_object() {
            let f = read_u32(body, pos).ok_or(AceError::BadSize { size })?;
            pos += 4;
            let mut guid = |present: bool| -> Result<Option<Guid>, AceError> {
                if !present {
                    return Ok(None);
                }
                let g = body.get(pos..pos + 16).ok_or(AceError::BadSize { size })?;
                pos += 16;
                let mut b = [0u8; 16];
                b.copy_from_slice(g);
                Ok(Some(Guid(b)))
            };
            let object_type = guid(f & ACE_OBJECT_TYPE_PRESENT != 0)?;
            let inherited_object_type = guid(f & ACE_INHERITED_OBJECT_TYPE_PRESENT != 0)?;
            Some(ObjectAceData {
                flags: f,
                object_type,
                inherited_object_type,
            })
        } else {
            None
        };
        let rest = body.get(pos..).ok_or(AceError::BadSize { size })?;
        let (sid, used) = Sid::decode(rest).map_err(AceError::BadSid)?;
        let application_data = rest.get(used..).unwrap_or_default().to_vec();
        Ok((
            Self {
                kind,
                flags,
                mask,
                sid,
                object,
                application_data,
            },
            usize::from(size),
        ))
    }
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_ace_known_bytes() {
        // (A;OICI;FA;;;BA): type 0, flags 3, size 24, mask 0x1F01FF, S-1-5-32-544.
        let ace = Ace::allow(
            flags::OBJECT_INHERIT | flags::CONTAINER_INHERIT,
            0x001F_01FF,
            Sid::builtin_administrators(),
        );
        let mut out = Vec::new();
        ace.encode(&mut out);
        assert_eq!(
            out,
            [
                0x00, 0x03, 0x18, 0x00, 0xFF, 0x01, 0x1F, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00,
                0x00, 0x05, 0x20, 0x00, 0x00, 0x00, 0x20, 0x02, 0x00, 0x00
            ]
        );
        assert_eq!(Ace::decode(&out), Ok((ace, 24)));
    }

    #[test]
    fn object_and_callback_aces_round_trip_byte_exact() {
        let guid: Guid = "bf967aba-0de6-11d0-a285-00aa003049e2".parse().unwrap();
        let mut ace = Ace::new(AceType::ACCESS_ALLOWED_OBJECT, 0, 0x10, Sid::everyone());
        ace.object = Some(ObjectAceData {
            flags: ACE_INHERITED_OBJECT_TYPE_PRESENT,
            object_type: None,
            inherited_object_type: Some(guid),
        });
        let mut out = Vec::new();
        ace.encode(&mut out);
        assert_eq!(out.len(), 8 + 4 + 16 + 12);
        assert_eq!(Ace::decode(&out).unwrap().0, ace);

        // A callback ACE with an "artx" conditional expression kept as raw bytes.
        let mut cb = Ace::new(AceType::ACCESS_ALLOWED_CALLBACK, 0, 0x1, Sid::everyone());
        cb.application_data = b"artx\x01\x00\x00\x00".to_vec();
        let mut out = Vec::new();
        cb.encode(&mut out);
        let (back, used) = Ace::decode(&out).unwrap();
        assert_eq!((back, used), (cb, out.len()));
    }

    #[test]
    fn rejects_bad_aces() {
        assert_eq!(Ace::decode(&[0, 0, 8]), Err(AceError::TruncatedHeader));
        assert_eq!(
            Ace::decode(&[0, 0, 4, 0, 0, 0, 0, 0]),
            Err(AceError::BadSize { size: 4 })
        );
        assert_eq!(
            Ace::decode(&[0, 0, 40, 0, 0, 0, 0, 0]),
            Err(AceError::BadSize { size: 40 })
        );
        assert_eq!(
            Ace::decode(&[4, 0, 8, 0, 0, 0, 0, 0]),
            Err(AceError::UnknownType(4))
        );
        // The SID claims two sub-authorities but AceSize leaves room for one.
        let bytes = [0, 0, 16, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0];
        assert!(matches!(Ace::decode(&bytes), Err(AceError::BadSid(_))));
        // An object ACE whose flags announce a GUID that is not there.
        let bytes = [5, 0, 12, 0, 0, 0, 0, 0, 1, 0, 0, 0];
        assert_eq!(Ace::decode(&bytes), Err(AceError::BadSize { size: 12 }));
    }
}
