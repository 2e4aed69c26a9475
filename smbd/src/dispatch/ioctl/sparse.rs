//! Sparse files: FSCTL_SET_SPARSE (MS-FSA 2.1.5.9.37), FSCTL_SET_ZERO_DATA (2.1.5.9.38) and
//! FSCTL_QUERY_ALLOCATED_RANGES (2.1.5.9.22); and the compression state, which is always none
//! (FSCTL_GET_COMPRESSION, FSCTL_SET_COMPRESSION: MS-FSA 2.1.5.9.7, 2.1.5.9.33).

use super::super::caching::{self, Op};
use super::super::{Ctx, bad_request};
use super::Output;
use crate::access::{FILE_APPEND_DATA, FILE_READ_DATA, FILE_WRITE_ATTRIBUTES, FILE_WRITE_DATA};
use crate::proto::NtStatus;
use crate::proto::fsctl::{OffsetPair, decode_set_sparse};
use crate::proto::ioctl::IoctlRequest;
use crate::state::opens::Open;

/// The open's file, which must be a file, not a directory or a pipe.
fn data_file(open: &Open, dir_status: NtStatus) -> Result<&vfs::FileRef, NtStatus> {
    let f = open.file().ok_or(NtStatus::INVALID_DEVICE_REQUEST)?;
    if open.is_dir {
        return Err(dir_status);
    }
    Ok(f)
}

/// Whether the file is marked sparse.
async fn is_sparse(f: &vfs::FileRef) -> Result<bool, NtStatus> {
    let st = f.stat().await.map_err(NtStatus::from)?;
    Ok(st.attributes & vfs::attr::SPARSE_FILE != 0)
}

/// FSCTL_SET_SPARSE: sets (no buffer, or a non-zero first byte) or clears the sparse attribute.
/// Any of FILE_WRITE_DATA, FILE_APPEND_DATA or FILE_WRITE_ATTRIBUTES allows it.
pub(super) async fn set_sparse(ctx: &Ctx<'_>, req: &IoctlRequest<'_>) -> Output {
    let open = ctx.open(req.file_id)?;
    let f = data_file(&open, NtStatus::INVALID_PARAMETER)?;
    if open.access & (FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_WRITE_ATTRIBUTES) == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if open.share.read_only {
        return Err(NtStatus::MEDIA_WRITE_PROTECTED);
    }
    f.set_sparse(decode_set_sparse(req.input))
        .await
        .map_err(NtStatus::from)?;
    Ok((Vec::new(), NtStatus::SUCCESS))
}

/// FSCTL_SET_ZERO_DATA (FILE_ZERO_DATA_INFORMATION): the range reads as zeros; in a sparse file
/// it is deallocated.
pub(super) async fn set_zero_data(ctx: &Ctx<'_>, req: &IoctlRequest<'_>) -> Output {
    let open = ctx.open(req.file_id)?;
    let f = data_file(&open, NtStatus::INVALID_PARAMETER)?;
    if open.access & FILE_WRITE_DATA == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let z = OffsetPair::decode(req.input).map_err(bad_request)?;
    let (offset, end) = (z.offset, z.second);
    if offset > end || end > i64::MAX as u64 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if offset == end {
        return Ok((Vec::new(), NtStatus::SUCCESS));
    }
    if let Some(e) = &open.entry
        && e.io_conflicts(open.uid, offset, end - offset, true)
    {
        return Err(NtStatus::FILE_LOCK_CONFLICT);
    }
    caching::before(&ctx.conn.server, &open, Op::Write).await;
    let sparse = is_sparse(f).await?;
    f.zero_range(offset, end - offset, sparse)
        .await
        .map_err(NtStatus::from)?;
    Ok((Vec::new(), NtStatus::SUCCESS))
}

/// FSCTL_QUERY_ALLOCATED_RANGES: the ranges of the queried one that hold data. A file that is
/// not sparse is all data up to its end. An answer that does not fit is cut with
/// STATUS_BUFFER_OVERFLOW, or is STATUS_BUFFER_TOO_SMALL when not even one range fits.
pub(super) async fn query_allocated_ranges(ctx: &Ctx<'_>, req: &IoctlRequest<'_>) -> Output {
    let open = ctx.open(req.file_id)?;
    let f = data_file(&open, NtStatus::INVALID_PARAMETER)?;
    if open.access & FILE_READ_DATA == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let q = OffsetPair::decode(req.input).map_err(bad_request)?;
    let (offset, len) = (q.offset, q.second);
    if offset
        .checked_add(len)
        .is_none_or(|end| end > i64::MAX as u64)
    {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let room = req.max_output_response as usize / OffsetPair::LEN;
    let ranges = if is_sparse(f).await? {
        f.allocated_ranges(offset, len, room.saturating_add(1))
            .await
            .map_err(NtStatus::from)?
    } else {
        // The whole-file answer of the trait's default, whatever holes the storage has.
        let size = f.stat().await.map_err(NtStatus::from)?.size;
        let end = (offset + len).min(size);
        if end > offset {
            vec![vfs::DataRange {
                offset,
                length: end - offset,
            }]
        } else {
            Vec::new()
        }
    };
    let status = if ranges.len() <= room {
        NtStatus::SUCCESS
    } else if room == 0 {
        return Err(NtStatus::BUFFER_TOO_SMALL);
    } else {
        NtStatus::BUFFER_OVERFLOW
    };
    let mut out = Vec::with_capacity(ranges.len().min(room) * OffsetPair::LEN);
    for r in ranges.iter().take(room) {
        OffsetPair {
            offset: r.offset,
            second: r.length,
        }
        .encode(&mut out);
    }
    Ok((out, status))
}

/// COMPRESSION_FORMAT_NONE (MS-FSCC 2.3.67).
const COMPRESSION_FORMAT_NONE: u16 = 0;

/// FSCTL_GET_COMPRESSION: files are never compressed here, so the answer is always
/// COMPRESSION_FORMAT_NONE (as Windows answers on a volume without compression).
pub(super) fn get_compression(ctx: &Ctx<'_>, req: &IoctlRequest<'_>) -> Output {
    let open = ctx.open(req.file_id)?;
    open.file().ok_or(NtStatus::INVALID_DEVICE_REQUEST)?;
    Ok((
        COMPRESSION_FORMAT_NONE.to_le_bytes().to_vec(),
        NtStatus::SUCCESS,
    ))
}

/// FSCTL_SET_COMPRESSION: COMPRESSION_FORMAT_NONE succeeds (nothing to undo); any other
/// format is NOT_SUPPORTED, as on a volume without compression.
pub(super) fn set_compression(ctx: &Ctx<'_>, req: &IoctlRequest<'_>) -> Output {
    let open = ctx.open(req.file_id)?;
    open.file().ok_or(NtStatus::INVALID_DEVICE_REQUEST)?;
    let format = crate::proto::Reader::new(req.input)
        .u16("CompressionState")
        .map_err(bad_request)?;
    if open.access & (FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES) == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if format != COMPRESSION_FORMAT_NONE {
        return Err(NtStatus::NOT_SUPPORTED);
    }
    Ok((Vec::new(), NtStatus::SUCCESS))
}
