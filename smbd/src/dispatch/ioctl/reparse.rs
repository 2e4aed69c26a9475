//! Reparse points, for POSIX symbolic links only: FSCTL_GET_REPARSE_POINT,
//! FSCTL_SET_REPARSE_POINT and FSCTL_DELETE_REPARSE_POINT (MS-FSA 2.1.5.9.13, 2.1.5.9.32,
//! 2.1.5.9.10). Links are made and removed by the backend, which never follows one out of the
//! share.

use super::super::{Ctx, bad_request};
use super::Output;
use crate::access::{FILE_WRITE_ATTRIBUTES, FILE_WRITE_DATA};
use crate::proto::NtStatus;
use crate::proto::fsctl::{
    IO_REPARSE_TAG_SYMLINK, decode_reparse, decode_symlink_reparse, encode_symlink_reparse,
};
use crate::proto::ioctl::IoctlRequest;
use crate::state::opens::Open;

/// STATUS_IO_REPARSE_TAG_MISMATCH.
const IO_REPARSE_TAG_MISMATCH: NtStatus = NtStatus(0xC000_0277);

/// FSCTL_GET_REPARSE_POINT: the symbolic link REPARSE_DATA_BUFFER of an open made with
/// FILE_OPEN_REPARSE_POINT on a POSIX link; NOT_A_REPARSE_POINT for anything else.
pub(super) async fn get(ctx: &Ctx<'_>, req: &IoctlRequest<'_>) -> Output {
    let open = ctx.open(req.file_id)?;
    let f = open.file().ok_or(NtStatus::INVALID_DEVICE_REQUEST)?;
    match f.symlink_target().await.map_err(NtStatus::from)? {
        Some(target) => Ok((encode_symlink_reparse(&target), NtStatus::SUCCESS)),
        None => Err(NtStatus::NOT_A_REPARSE_POINT),
    }
}

/// Checks the rights both changes need: FILE_WRITE_DATA or FILE_WRITE_ATTRIBUTES, on a share
/// that may be written.
fn may_change(open: &Open) -> Result<(), NtStatus> {
    if open.access & (FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES) == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if open.share.read_only {
        return Err(NtStatus::MEDIA_WRITE_PROTECTED);
    }
    Ok(())
}

/// FSCTL_SET_REPARSE_POINT with symbolic link data: the open's empty file becomes a POSIX link
/// to the substitute name (a file with data is refused: a link cannot keep it). Other tags are
/// NOT_SUPPORTED.
pub(super) async fn set(ctx: &Ctx<'_>, req: &IoctlRequest<'_>) -> Output {
    let open = ctx.open(req.file_id)?;
    open.file().ok_or(NtStatus::INVALID_DEVICE_REQUEST)?;
    may_change(&open)?;
    let (tag, data) = decode_reparse(req.input).map_err(bad_request)?;
    if tag != IO_REPARSE_TAG_SYMLINK {
        return Err(NtStatus::NOT_SUPPORTED);
    }
    let (target, _relative) = decode_symlink_reparse(data).map_err(bad_request)?;
    let fs = open
        .share
        .vfs
        .clone()
        .ok_or(NtStatus::INVALID_DEVICE_REQUEST)?;
    fs.make_symlink(&open.path(), &target)
        .await
        .map_err(|e| match e {
            // A POSIX link cannot keep the file's data: refused rather than lost.
            vfs::VfsError::NotEmpty => NtStatus::ACCESS_DENIED,
            other => NtStatus::from(&other),
        })?;
    Ok((Vec::new(), NtStatus::SUCCESS))
}

/// FSCTL_DELETE_REPARSE_POINT: the link the open is on becomes an empty file. The buffer's
/// tag must be the link's, and carry no data.
pub(super) async fn delete(ctx: &Ctx<'_>, req: &IoctlRequest<'_>) -> Output {
    let open = ctx.open(req.file_id)?;
    let f = open.file().ok_or(NtStatus::INVALID_DEVICE_REQUEST)?;
    may_change(&open)?;
    let (tag, data) = decode_reparse(req.input).map_err(bad_request)?;
    if !data.is_empty() {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if f.symlink_target().await.map_err(NtStatus::from)?.is_none() {
        return Err(NtStatus::NOT_A_REPARSE_POINT);
    }
    if tag != IO_REPARSE_TAG_SYMLINK {
        return Err(IO_REPARSE_TAG_MISMATCH);
    }
    let fs = open
        .share
        .vfs
        .clone()
        .ok_or(NtStatus::INVALID_DEVICE_REQUEST)?;
    fs.unmake_symlink(&open.path())
        .await
        .map_err(NtStatus::from)?;
    Ok((Vec::new(), NtStatus::SUCCESS))
}
