//! NT security for the server (MS-DTYP): SIDs, access tokens, ACEs, ACLs, self-relative
//! security descriptors, SDDL, the access check and inheritance for new files.
//!
//! What the server calls:
//!
//! * [`SecurityDescriptor::decode`] / [`SecurityDescriptor::encode`]: the binary form that
//!   QUERY_INFO / SET_INFO and the SecD create context carry (MS-DTYP 2.4.6). Every offset and
//!   count is checked; the encoding is canonical (owner, group, SACL, DACL after the header,
//!   as Samba lays it out).
//! * [`SecurityDescriptor::filtered`]: the parts a QUERY_INFO asks for (SECURITY_INFORMATION).
//! * [`SecurityDescriptor::from_sddl`] / [`SecurityDescriptor::to_sddl`]: SDDL (MS-DTYP 2.5.1)
//!   for configuration and logs, printed the way Windows prints it.
//! * [`access_check`], [`access_check_with_privileges`], [`maximum_allowed`]: the access check
//!   of MS-DTYP 2.5.3.2 with a [`GenericMapping`] ([`GenericMapping::FILE`] and
//!   [`GenericMapping::DIRECTORY`]); the result is the granted mask or [`AccessDenied`] naming
//!   the bits that failed. Privileges ([`Privileges`]) are passed beside the [`Token`].
//! * [`inherit`]: the descriptor of a new file or directory from its parent's and the
//!   creator's (MS-DTYP 2.5.3.4), CREATOR OWNER substitution and auto-inheritance included.
//! * [`SecurityDescriptor::apply_set`]: a SET_INFO of security, with the control bits NTFS
//!   stores (auto-inherited only with the request bit, protected as given).
//! * [`SecurityDescriptor::default_for`]: what a file with no stored descriptor is assumed to
//!   have; [`FSLOGIX_ROOT_SDDL`]: the FSLogix profile share root layout.
#![forbid(unsafe_code)]

pub mod access;
pub mod ace;
mod acl;
mod check;
mod defaults;
pub mod descriptor;
pub mod fuzzing;
mod guid;
mod inherit;
pub mod sddl;
mod set;
mod sid;
mod token;

pub use access::{GenericMapping, Privileges};
pub use ace::{Ace, AceError, AceType, ObjectAceData};
pub use acl::{ACL_REVISION, ACL_REVISION_DS, Acl, AclError};
pub use check::{AccessDenied, access_check, access_check_with_privileges, maximum_allowed};
pub use defaults::FSLOGIX_ROOT_SDDL;
pub use descriptor::{SdError, SecurityDescriptor};
pub use guid::{Guid, GuidParseError};
pub use inherit::{default_group, inherit, inherit_with_defaults, token_default_dacl};
pub use sddl::{SddlError, SddlFormatError};
pub use sid::{Sid, SidParseError};
pub use token::{GroupAttributes, Token, TokenGroup};

#[cfg(test)]
mod tests;
