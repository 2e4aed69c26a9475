//! Self-relative security descriptors (MS-DTYP 2.4.6).
//!
//! Layout written by [`SecurityDescriptor::encode`]: the 20-byte header, then the owner SID,
//! the group SID, the SACL and the DACL, each present part right after the previous one: the
//! order of the header's offsets and of the MS-DTYP 2.4.6 figure, and the one Samba writes
//! (NDR of `security_descriptor`). The offsets alone are normative, but some clients read the
//! parts in sequence, so descriptors we send keep that order. [`SecurityDescriptor::decode`]
//! accepts the parts in any order and at any offset, checking each offset and length against
//! the buffer; decoding a canonical encoding and encoding again gives the same bytes.

use crate::Sid;
use crate::ace::{Ace, AceType};
use crate::acl::{Acl, AclError};

/// SECURITY_DESCRIPTOR_CONTROL bits (MS-DTYP 2.4.6).
pub mod control {
    /// SE_OWNER_DEFAULTED (`OD`).
    pub const OWNER_DEFAULTED: u16 = 0x0001;
    /// SE_GROUP_DEFAULTED (`GD`).
    pub const GROUP_DEFAULTED: u16 = 0x0002;
    /// SE_DACL_PRESENT (`DP`).
    pub const DACL_PRESENT: u16 = 0x0004;
    /// SE_DACL_DEFAULTED (`DD`).
    pub const DACL_DEFAULTED: u16 = 0x0008;
    /// SE_SACL_PRESENT (`SP`).
    pub const SACL_PRESENT: u16 = 0x0010;
    /// SE_SACL_DEFAULTED (`SD`).
    pub const SACL_DEFAULTED: u16 = 0x0020;
    /// SE_DACL_TRUSTED (`DT`).
    pub const DACL_TRUSTED: u16 = 0x0040;
    /// SE_SERVER_SECURITY (`SS`).
    pub const SERVER_SECURITY: u16 = 0x0080;
    /// SE_DACL_AUTO_INHERIT_REQ (`DC`, SDDL `AR` on the DACL).
    pub const DACL_AUTO_INHERIT_REQ: u16 = 0x0100;
    /// SE_SACL_AUTO_INHERIT_REQ (`SC`, SDDL `AR` on the SACL).
    pub const SACL_AUTO_INHERIT_REQ: u16 = 0x0200;
    /// SE_DACL_AUTO_INHERITED (`DI`, SDDL `AI` on the DACL).
    pub const DACL_AUTO_INHERITED: u16 = 0x0400;
    /// SE_SACL_AUTO_INHERITED (`SI`, SDDL `AI` on the SACL).
    pub const SACL_AUTO_INHERITED: u16 = 0x0800;
    /// SE_DACL_PROTECTED (`PD`, SDDL `P` on the DACL).
    pub const DACL_PROTECTED: u16 = 0x1000;
    /// SE_SACL_PROTECTED (`PS`, SDDL `P` on the SACL).
    pub const SACL_PROTECTED: u16 = 0x2000;
    /// SE_RM_CONTROL_VALID (`RM`): the Sbz1 byte holds resource-manager bits.
    pub const RM_CONTROL_VALID: u16 = 0x4000;
    /// SE_SELF_RELATIVE (`SR`).
    pub const SELF_RELATIVE: u16 = 0x8000;
    /// The bits that describe the DACL.
    pub const DACL_BITS: u16 = DACL_PRESENT
        | DACL_DEFAULTED
        | DACL_TRUSTED
        | DACL_AUTO_INHERIT_REQ
        | DACL_AUTO_INHERITED
        | DACL_PROTECTED;
    /// The bits that describe the SACL.
    pub const SACL_BITS: u16 = SACL_PRESENT
        | SACL_DEFAULTED
        | SACL_AUTO_INHERIT_REQ
        | SACL_AUTO_INHERITED
        | SACL_PROTECTED;
}

/// SECURITY_INFORMATION bits (MS-DTYP 2.4.7), as QUERY_INFO and SET_INFO carry them.
pub mod security_information {
    /// OWNER_SECURITY_INFORMATION.
    pub const OWNER: u32 = 0x0000_0001;
    /// GROUP_SECURITY_INFORMATION.
    pub const GROUP: u32 = 0x0000_0002;
    /// DACL_SECURITY_INFORMATION.
    pub const DACL: u32 = 0x0000_0004;
    /// SACL_SECURITY_INFORMATION (audit ACEs; needs ACCESS_SYSTEM_SECURITY).
    pub const SACL: u32 = 0x0000_0008;
    /// LABEL_SECURITY_INFORMATION (mandatory label ACEs of the SACL).
    pub const LABEL: u32 = 0x0000_0010;
    /// ATTRIBUTE_SECURITY_INFORMATION (resource attribute ACEs of the SACL).
    pub const ATTRIBUTE: u32 = 0x0000_0020;
    /// SCOPE_SECURITY_INFORMATION (scoped policy ACEs of the SACL).
    pub const SCOPE: u32 = 0x0000_0040;
    /// BACKUP_SECURITY_INFORMATION: everything.
    pub const BACKUP: u32 = 0x0001_0000;
}

/// A security descriptor.
///
/// `dacl` is `Some` when the DACL is present with an ACL. A *NULL DACL* (present, no ACL:
/// everyone gets everything) is `dacl: None` with [`control::DACL_PRESENT`] set; no DACL at all
/// is `None` without the bit, and is treated the same way by the access check. The SACL follows
/// the same rule with [`control::SACL_PRESENT`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SecurityDescriptor {
    /// The control bits (see [`control`]).
    pub control: u16,
    /// The Sbz1 byte: resource-manager control bits when [`control::RM_CONTROL_VALID`] is set.
    pub rm_control: u8,
    /// The owner SID.
    pub owner: Option<Sid>,
    /// The primary group SID.
    pub group: Option<Sid>,
    /// The system ACL (audit, mandatory label, resource attribute ACEs).
    pub sacl: Option<Acl>,
    /// The discretionary ACL.
    pub dacl: Option<Acl>,
}

/// Why a security descriptor could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdError {
    /// Fewer than the 20 header bytes.
    TruncatedHeader,
    /// Revision is not 1.
    Revision(u8),
    /// SE_SELF_RELATIVE is clear: an absolute descriptor cannot travel in a buffer.
    NotSelfRelative,
    /// A part's offset points into the header or past the buffer.
    BadOffset {
        /// Which part: "owner", "group", "sacl" or "dacl".
        part: &'static str,
        /// The offset as read.
        offset: u32,
    },
    /// The owner or group SID is malformed.
    Sid {
        /// "owner" or "group".
        part: &'static str,
        /// What was wrong.
        error: crate::SidParseError,
    },
    /// The SACL or DACL is malformed (or too large to encode).
    Acl {
        /// "sacl" or "dacl".
        part: &'static str,
        /// What was wrong.
        error: AclError,
    },
}

impl std::fmt::Display for SdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TruncatedHeader => f.write_str("security descriptor header truncated"),
            Self::Revision(r) => write!(f, "security descriptor revision {r} is not 1"),
            Self::NotSelfRelative => f.write_str("security descriptor is not self-relative"),
            Self::BadOffset { part, offset } => write!(f, "{part} offset {offset} is invalid"),
            Self::Sid { part, error } => write!(f, "{part} SID: {error}"),
            Self::Acl { part, error } => write!(f, "{part}: {error}"),
        }
    }
}

impl std::error::Error for SdError {}

const HEADER_LEN: usize = 20;

impl SecurityDescriptor {
    /// Whether the DACL is present but NULL (every access is granted, as with no DACL).
    pub fn has_null_dacl(&self) -> bool {
        self.dacl.is_none() && self.control & control::DACL_PRESENT != 0
    }

    /// Decodes a self-relative descriptor; every offset and count is checked.
    pub fn decode(data: &[u8]) -> Result<Self, SdError> {
        let h = data.get(..HEADER_LEN).ok_or(SdError::TruncatedHeader)?;
        if h[0] != 1 {
            return Err(SdError::Revision(h[0]));
        }
        let rm_control = h[1];
        let control = u16::from_le_bytes([h[2], h[3]]);
        if control & control::SELF_RELATIVE == 0 {
            return Err(SdError::NotSelfRelative);
        }
        let offset = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let part = |name: &'static str, off: u32| -> Result<Option<&[u8]>, SdError> {
            if off == 0 {
                return Ok(None);
            }
            let at = usize::try_from(off).unwrap_or(usize::MAX);
            if at < HEADER_LEN || at >= data.len() {
                return Err(SdError::BadOffset {
                    part: name,
                    offset: off,
                });
            }
            Ok(data.get(at..))
        };
        let sid = |name: &'static str, off: u32| -> Result<Option<Sid>, SdError> {
            part(name, off)?
                .map(|b| {
                    Sid::decode(b)
                        .map(|(s, _)| s)
                        .map_err(|error| SdError::Sid { part: name, error })
                })
                .transpose()
        };
        let acl = |name: &'static str, off: u32, present: bool| -> Result<Option<Acl>, SdError> {
            // A part whose "present" bit is clear is ignored, as Windows does.
            if !present {
                return Ok(None);
            }
            part(name, off)?
                .map(|b| Acl::decode(b).map_err(|error| SdError::Acl { part: name, error }))
                .transpose()
        };
        Ok(Self {
            control,
            rm_control,
            owner: sid("owner", offset(4))?,
            group: sid("group", offset(8))?,
            sacl: acl("sacl", offset(12), control & control::SACL_PRESENT != 0)?,
            dacl: acl("dacl", offset(16), control & control::DACL_PRESENT != 0)?,
        })
    }

    /// Encodes the canonical self-relative form (header, owner, group, SACL, DACL).
    ///
    /// SE_SELF_RELATIVE is always set, and SE_DACL_PRESENT / SE_SACL_PRESENT whenever the ACL
    /// is there. Fails only when an ACL is larger than 65535 bytes.
    pub fn encode(&self) -> Result<Vec<u8>, SdError> {
        let mut control = self.control | control::SELF_RELATIVE;
        if self.dacl.is_some() {
            control |= control::DACL_PRESENT;
        }
        if self.sacl.is_some() {
            control |= control::SACL_PRESENT;
        }
        let mut out = vec![0u8; HEADER_LEN];
        out[0] = 1;
        out[1] = self.rm_control;
        out[2..4].copy_from_slice(&control.to_le_bytes());
        let mut offsets = [0u32; 4]; // owner, group, sacl, dacl
        for (slot, sid) in [(0, &self.owner), (1, &self.group)] {
            if let Some(sid) = sid {
                offsets[slot] = out.len() as u32;
                sid.encode(&mut out);
            }
        }
        for (slot, name, acl) in [(2, "sacl", &self.sacl), (3, "dacl", &self.dacl)] {
            if let Some(acl) = acl {
                offsets[slot] = out.len() as u32;
                acl.encode(&mut out)
                    .map_err(|error| SdError::Acl { part: name, error })?;
            }
        }
        for (i, off) in offsets.iter().enumerate() {
            out[4 + 4 * i..8 + 4 * i].copy_from_slice(&off.to_le_bytes());
        }
        Ok(out)
    }

    /// The parts named by `security_information` (see [`security_information`]), as a
    /// QUERY_INFO for security answers: other parts are removed with their control bits.
    /// LABEL, ATTRIBUTE and SCOPE without SACL keep only the SACL ACEs of those types.
    pub fn filtered(&self, info: u32) -> Self {
        use security_information as si;
        if info & si::BACKUP != 0 {
            return self.clone();
        }
        let mut out = Self {
            control: self.control & !(control::DACL_BITS | control::SACL_BITS),
            rm_control: self.rm_control,
            owner: None,
            group: None,
            sacl: None,
            dacl: None,
        };
        if info & si::OWNER != 0 {
            out.owner.clone_from(&self.owner);
        } else {
            out.control &= !control::OWNER_DEFAULTED;
        }
        if info & si::GROUP != 0 {
            out.group.clone_from(&self.group);
        } else {
            out.control &= !control::GROUP_DEFAULTED;
        }
        if info & si::DACL != 0 {
            out.control |= self.control & control::DACL_BITS;
            out.dacl.clone_from(&self.dacl);
        }
        if info & si::SACL != 0 {
            out.control |= self.control & control::SACL_BITS;
            out.sacl.clone_from(&self.sacl);
        } else if info & (si::LABEL | si::ATTRIBUTE | si::SCOPE) != 0 {
            let wanted = |kind: AceType| {
                (info & si::LABEL != 0 && kind == AceType::SYSTEM_MANDATORY_LABEL)
                    || (info & si::ATTRIBUTE != 0 && kind == AceType::SYSTEM_RESOURCE_ATTRIBUTE)
                    || (info & si::SCOPE != 0 && kind == AceType::SYSTEM_SCOPED_POLICY_ID)
            };
            if let Some(sacl) = &self.sacl {
                let aces: Vec<Ace> = sacl
                    .aces
                    .iter()
                    .filter(|a| wanted(a.kind))
                    .cloned()
                    .collect();
                out.control |= self.control & control::SACL_BITS;
                out.sacl = Some(Acl {
                    revision: sacl.revision,
                    aces,
                });
            }
        }
        out
    }
}
