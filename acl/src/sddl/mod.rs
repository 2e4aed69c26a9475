//! Security Descriptor Definition Language (MS-DTYP 2.5.1).
//!
//! [`parse`] reads `O:`, `G:`, `D:` and `S:` in any order, each at most once, with whitespace
//! allowed between the parts and between ACEs. Aliases are matched without regard to case.
//! [`format`] prints what Windows' `ConvertSecurityDescriptorToStringSecurityDescriptor` prints:
//! the parts in the order O, G, D, S; ACL flags as `P`, `AR`, `AI` (in that order) and
//! `NO_ACCESS_CONTROL` for a NULL ACL; ACE flags and single-bit rights in ascending bit order
//! (`OICIIOID`, `SDGXGWGR`); `FA`/`FR`/`FW`/`FX`/`KA`/`KR`/`KW` for masks equal to them;
//! `NW`/`NR`/`NX` for mandatory labels; lower-case hex (`0x1200a9`) for masks no alias covers;
//! and SID aliases wherever one exists (domain-relative ones when the domain SID is given).
//!
//! Not supported: conditional expressions of callback ACEs and the attribute of resource
//! attribute ACEs (the optional seventh ACE field). Such ACEs travel in binary form only.

mod aliases;
mod format;
mod parse;

pub use format::format;
pub use parse::parse;

/// Why SDDL text could not be parsed. `at` is the byte offset of the offending text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SddlError {
    /// Text where a part tag (`O:`, `G:`, `D:`, `S:`) was expected.
    ExpectedPart {
        /// Byte offset.
        at: usize,
    },
    /// A part appears twice.
    DuplicatePart {
        /// Byte offset.
        at: usize,
    },
    /// A SID that is neither a known alias nor valid `S-1-...` text.
    BadSid {
        /// Byte offset.
        at: usize,
    },
    /// A domain-relative alias (DA, DU, LA ...) but no domain SID was given.
    DomainRequired {
        /// Byte offset.
        at: usize,
    },
    /// An ACE that does not open with `(` or is not closed with `)`.
    UnterminatedAce {
        /// Byte offset.
        at: usize,
    },
    /// An ACE without the six `;`-separated fields, or with a seventh that its type forbids.
    FieldCount {
        /// Byte offset.
        at: usize,
    },
    /// An unknown ACE type string.
    AceType {
        /// Byte offset.
        at: usize,
    },
    /// An unknown ACE flag.
    AceFlag {
        /// Byte offset.
        at: usize,
    },
    /// An unknown right alias or a bad number.
    Rights {
        /// Byte offset.
        at: usize,
    },
    /// A malformed GUID, or a GUID on an ACE type that has none.
    Guid {
        /// Byte offset.
        at: usize,
    },
    /// `NO_ACCESS_CONTROL` followed by ACEs.
    AcesInNullAcl {
        /// Byte offset.
        at: usize,
    },
    /// A conditional expression or resource attribute (not supported in text form).
    Unsupported {
        /// Byte offset.
        at: usize,
    },
    /// An ACL with more ACEs or bytes than the binary form can hold.
    TooLarge,
}

impl std::fmt::Display for SddlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (what, at) = match self {
            Self::ExpectedPart { at } => ("expected O:, G:, D: or S:", at),
            Self::DuplicatePart { at } => ("part given twice", at),
            Self::BadSid { at } => ("bad SID", at),
            Self::DomainRequired { at } => ("domain-relative SID alias without a domain", at),
            Self::UnterminatedAce { at } => ("ACE not enclosed in parentheses", at),
            Self::FieldCount { at } => ("wrong number of ACE fields", at),
            Self::AceType { at } => ("unknown ACE type", at),
            Self::AceFlag { at } => ("unknown ACE flag", at),
            Self::Rights { at } => ("bad access rights", at),
            Self::Guid { at } => ("bad or unexpected GUID", at),
            Self::AcesInNullAcl { at } => ("ACEs after NO_ACCESS_CONTROL", at),
            Self::Unsupported { at } => ("conditional expressions are not supported", at),
            Self::TooLarge => return f.write_str("SDDL ACL too large"),
        };
        write!(f, "SDDL: {what} at byte {at}")
    }
}

impl std::error::Error for SddlError {}

/// Why a descriptor has no SDDL form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SddlFormatError {
    /// An ACE type that SDDL has no name for.
    UnnamedAceType(u8),
    /// A callback or resource attribute ACE carrying application data (a condition or an
    /// attribute), which this implementation does not print.
    ApplicationData(u8),
}

impl std::fmt::Display for SddlFormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnnamedAceType(t) => write!(f, "ACE type 0x{t:02x} has no SDDL name"),
            Self::ApplicationData(t) => {
                write!(
                    f,
                    "ACE type 0x{t:02x} carries data SDDL printing does not support"
                )
            }
        }
    }
}

impl std::error::Error for SddlFormatError {}

/// SDDL names of ACE types (MS-DTYP 2.5.1.1 `ace-type`).
const ACE_TYPES: &[(&str, u8)] = &[
    ("A", 0x00),
    ("D", 0x01),
    ("AU", 0x02),
    ("AL", 0x03),
    ("OA", 0x05),
    ("OD", 0x06),
    ("OU", 0x07),
    ("OL", 0x08),
    ("XA", 0x09),
    ("XD", 0x0A),
    ("ZA", 0x0B),
    ("XU", 0x0D),
    ("ML", 0x11),
    ("RA", 0x12),
    ("SP", 0x13),
    ("TL", 0x14),
    ("FL", 0x15),
];

/// SDDL ACE flags in the order they are printed (ascending bits). `TP` (0x40) is accepted on
/// input as a synonym of `SA`.
const ACE_FLAGS: &[(&str, u8)] = &[
    ("OI", 0x01),
    ("CI", 0x02),
    ("NP", 0x04),
    ("IO", 0x08),
    ("ID", 0x10),
    ("CR", 0x20),
    ("SA", 0x40),
    ("FA", 0x80),
    ("TP", 0x40),
];

#[cfg(test)]
mod tests;
