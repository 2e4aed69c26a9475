//! Descriptors for files that have none stored, and well-known layouts.

use crate::Sid;
use crate::access::FILE_ALL_ACCESS;
use crate::ace::{Ace, flags};
use crate::acl::Acl;
use crate::descriptor::{SecurityDescriptor, control};
use crate::sddl::{SddlError, SddlFormatError};

/// The share-root layout FSLogix recommends for profile containers: owner Administrators,
/// group SYSTEM; Users may create their folder in the root only (Modify, this folder only);
/// CREATOR OWNER gets full control of what it creates; Administrators and SYSTEM full control.
pub const FSLOGIX_ROOT_SDDL: &str =
    "O:BAG:SYD:PAI(A;;0x1301bf;;;BU)(A;OICIIO;GA;;;CO)(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)";

impl SecurityDescriptor {
    /// The descriptor the server assumes for a file or directory that has none stored:
    /// owner and group as given, and a DACL granting full control to the owner, SYSTEM and
    /// BUILTIN\Administrators; on a directory the three ACEs are inheritable (`OICI`) so new
    /// children get the same. In SDDL: `O:<owner>G:<group>D:(A;OICI;FA;;;<owner>)(A;OICI;FA;;;SY)
    /// (A;OICI;FA;;;BA)` (without `OICI` for a file). Not protected, not auto-inherited.
    pub fn default_for(owner: &Sid, group: &Sid, is_dir: bool) -> Self {
        let f = if is_dir {
            flags::OBJECT_INHERIT | flags::CONTAINER_INHERIT
        } else {
            0
        };
        let aces = [
            owner.clone(),
            Sid::new(5, &[18]),
            Sid::builtin_administrators(),
        ]
        .into_iter()
        .map(|sid| Ace::allow(f, FILE_ALL_ACCESS, sid))
        .collect();
        Self {
            control: control::SELF_RELATIVE | control::DACL_PRESENT,
            rm_control: 0,
            owner: Some(owner.clone()),
            group: Some(group.clone()),
            sacl: None,
            dacl: Some(Acl::new(aces)),
        }
    }

    /// Parses SDDL (see [`crate::sddl`]); `domain` resolves DA, DU, LA and the like.
    pub fn from_sddl(text: &str, domain: Option<&Sid>) -> Result<Self, SddlError> {
        crate::sddl::parse(text, domain)
    }

    /// Formats as Windows' canonical SDDL (see [`crate::sddl`]).
    pub fn to_sddl(&self, domain: Option<&Sid>) -> Result<String, SddlFormatError> {
        crate::sddl::format(self, domain)
    }
}
