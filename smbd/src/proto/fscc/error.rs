//! The error type of the information-class codecs and its NT status mapping.

use std::fmt;

/// Why an information class could not be encoded or decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsccError {
    /// The class is unknown or not supported for this request (STATUS_INVALID_INFO_CLASS).
    InvalidClass,
    /// The buffer is shorter than the fixed part of the class (STATUS_INFO_LENGTH_MISMATCH).
    InfoLengthMismatch,
    /// A field holds a value the class does not allow, such as an overlong name length, bad
    /// UTF-16 or a negative size (STATUS_INVALID_PARAMETER).
    InvalidParameter,
    /// The requested information does not exist, e.g. an 8.3 name
    /// (STATUS_OBJECT_NAME_NOT_FOUND).
    NotFound,
    /// The output did not fit and was truncated (STATUS_BUFFER_OVERFLOW, a warning).
    BufferOverflow,
    /// An EA list whose entries overrun it or each other (STATUS_EA_LIST_INCONSISTENT).
    EaListInconsistent,
    /// An EA name or flags MS-FSCC 2.4.15 does not allow (STATUS_INVALID_EA_NAME).
    InvalidEaName,
}

impl FsccError {
    /// The NTSTATUS code the server returns for this error.
    pub fn nt_status(&self) -> u32 {
        match self {
            Self::InvalidClass => 0xC000_0003,
            Self::InfoLengthMismatch => 0xC000_0004,
            Self::InvalidParameter => 0xC000_000D,
            Self::NotFound => 0xC000_0034,
            Self::BufferOverflow => 0x8000_0005,
            Self::EaListInconsistent => 0x8000_0014,
            Self::InvalidEaName => 0x8000_0013,
        }
    }
}

impl fmt::Display for FsccError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::InvalidClass => "invalid information class",
            Self::InfoLengthMismatch => "information buffer length mismatch",
            Self::InvalidParameter => "invalid parameter in information buffer",
            Self::NotFound => "object name not found",
            Self::BufferOverflow => "buffer overflow",
            Self::EaListInconsistent => "inconsistent EA list",
            Self::InvalidEaName => "invalid EA name",
        };
        f.write_str(text)
    }
}

impl std::error::Error for FsccError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes() {
        assert_eq!(FsccError::InvalidClass.nt_status(), 0xC0000003);
        assert_eq!(FsccError::InfoLengthMismatch.nt_status(), 0xC0000004);
        assert_eq!(FsccError::InvalidParameter.nt_status(), 0xC000000D);
        assert_eq!(FsccError::NotFound.nt_status(), 0xC0000034);
        assert_eq!(FsccError::BufferOverflow.nt_status(), 0x80000005);
    }
}
