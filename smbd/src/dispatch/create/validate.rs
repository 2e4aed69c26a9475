//! The validation step of CREATE (MS-SMB2 3.3.5.9): the request's fields checked before
//! anything is looked up, each refusal with the status Windows gives.

use crate::access::{DELETE, map_generic};
use crate::proto::NtStatus;
use crate::proto::create::{CreateRequest, options};
use vfs::{Disposition, Kind};

/// Access bits a client may ask for (MS-SMB2 2.2.13.1); others are refused.
const VALID_ACCESS: u32 = 0xF31F_01FF;
/// CreateOptions bits the server refuses with NOT_SUPPORTED: FILE_CREATE_TREE_CONNECTION,
/// FILE_OPEN_BY_FILE_ID and FILE_RESERVE_OPFILTER (MS-SMB2 3.3.5.9; smbtorture gentest).
const UNSUPPORTED_OPTIONS: u32 = 0x0010_2080;
/// CreateOptions bits that are invalid (the top byte).
const INVALID_OPTIONS: u32 = 0xFF00_0000;
/// CreateOptions bits that FileModeInformation reports (MS-FSCC 2.4.26).
pub(super) const MODE_OPTIONS: u32 = 0x0000_103E;
/// Valid FILE_ATTRIBUTE_* bits on create.
const VALID_ATTRIBUTES: u32 = 0x0000_7FB7;

fn disposition(v: u32) -> Result<Disposition, NtStatus> {
    Ok(match v {
        0 => Disposition::Supersede,
        1 => Disposition::Open,
        2 => Disposition::Create,
        3 => Disposition::OpenIf,
        4 => Disposition::Overwrite,
        5 => Disposition::OverwriteIf,
        _ => return Err(NtStatus::INVALID_PARAMETER),
    })
}

/// What the validation step settles.
pub(crate) struct Validated {
    /// CreateDisposition.
    pub disposition: Disposition,
    /// DesiredAccess with generic rights mapped.
    pub desired: u32,
    /// The kind of object required (FILE_DIRECTORY_FILE / FILE_NON_DIRECTORY_FILE).
    pub kind: Kind,
}

/// Checks the request's fixed fields.
pub(crate) fn validate(req: &CreateRequest<'_>) -> Result<Validated, NtStatus> {
    if req.impersonation_level > 3 {
        return Err(NtStatus(0xC000_00A5)); // STATUS_BAD_IMPERSONATION_LEVEL
    }
    let disposition = disposition(req.disposition)?;
    if req.options & options::DIRECTORY_FILE != 0 && req.options & options::NON_DIRECTORY_FILE != 0
    {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if req.options & INVALID_OPTIONS != 0 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if req.options & UNSUPPORTED_OPTIONS != 0 {
        return Err(NtStatus::NOT_SUPPORTED);
    }
    if req.desired_access & !VALID_ACCESS != 0 || req.desired_access == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if req.file_attributes & !VALID_ATTRIBUTES != 0 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let desired = map_generic(req.desired_access);
    if req.options & options::DELETE_ON_CLOSE != 0 && desired & DELETE == 0 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let kind = if req.options & options::DIRECTORY_FILE != 0 {
        Kind::Directory
    } else if req.options & options::NON_DIRECTORY_FILE != 0 {
        Kind::File
    } else {
        Kind::Any
    };
    Ok(Validated {
        disposition,
        desired,
        kind,
    })
}
