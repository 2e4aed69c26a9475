//! NT security for the server: SIDs and access tokens (MS-DTYP).
//!
//! Security descriptors, SDDL and the access check arrive with the NT security issue; this crate
//! already owns the SID and token types that the acceptor and the server share.
#![forbid(unsafe_code)]

pub mod access;
mod sid;
mod token;

pub use sid::{Sid, SidParseError};
pub use token::{GroupAttributes, Token, TokenGroup};
