//! Server-side copy: FSCTL_SRV_REQUEST_RESUME_KEY (MS-SMB2 3.3.5.15.5), FSCTL_SRV_COPYCHUNK and
//! FSCTL_SRV_COPYCHUNK_WRITE (3.3.5.15.6), and FSCTL_DUPLICATE_EXTENTS_TO_FILE[_EX] (MS-FSA
//! 2.1.5.9.4). The data moves inside the backend (copy_file_range, FICLONERANGE on POSIX) and
//! never through the connection.

use std::sync::Arc;

use super::super::caching::{self, Op};
use super::super::{Ctx, bad_request};
use super::Output;
use crate::access::{FILE_EXECUTE, FILE_READ_DATA, FILE_WRITE_DATA};
use crate::proto::NtStatus;
use crate::proto::create::FileId;
use crate::proto::fsctl::{
    CopychunkCopy, CopychunkResponse, DuplicateExtents, RESUME_KEY_LEN, encode_resume_key,
};
use crate::proto::ioctl::IoctlRequest;
use crate::state::opens::Open;

/// Most chunks in one request (ServerSideCopyMaxNumberofChunks; Windows: 256).
pub(crate) const MAX_CHUNKS: u32 = 256;
/// Largest chunk (ServerSideCopyMaxChunkSize; Windows: 1 MiB).
pub(crate) const MAX_CHUNK_BYTES: u32 = 1 << 20;
/// Most bytes in one request (ServerSideCopyMaxDataSize; Windows: 16 MiB).
pub(crate) const MAX_TOTAL_BYTES: u32 = 16 << 20;

/// The answer to a request over a limit: the limits, with STATUS_INVALID_PARAMETER
/// (MS-SMB2 3.3.5.15.6.2).
const LIMITS: CopychunkResponse = CopychunkResponse {
    chunks_written: MAX_CHUNKS,
    chunk_bytes_written: MAX_CHUNK_BYTES,
    total_bytes_written: MAX_TOTAL_BYTES,
};

/// The resume key of an open: its persistent and volatile ids and the first half of the server
/// GUID. Keys are looked up among the opens of the requesting session only, so a key names an
/// open only for the session that holds it.
fn resume_key(id: FileId, guid: &[u8; 16]) -> [u8; RESUME_KEY_LEN] {
    let mut k = [0u8; RESUME_KEY_LEN];
    k[..8].copy_from_slice(&id.persistent.to_le_bytes());
    k[8..16].copy_from_slice(&id.volatile.to_le_bytes());
    k[16..].copy_from_slice(&guid[..8]);
    k
}

/// The open a resume key names, among this session's disk opens of any tree.
fn source_open(ctx: &Ctx<'_>, key: &[u8]) -> Option<Arc<Open>> {
    let guid = &ctx.server().settings().guid;
    if key.len() != RESUME_KEY_LEN || key[16..] != guid[..8] {
        return None;
    }
    let word =
        |r: std::ops::Range<usize>| u64::from_le_bytes(key[r].try_into().unwrap_or_default());
    let id = FileId {
        persistent: word(0..8),
        volatile: word(8..16),
    };
    let open = ctx.session.as_ref()?.open(id)?;
    open.file().is_some().then_some(open)
}

/// FSCTL_SRV_REQUEST_RESUME_KEY: the 24-byte key naming this open (MS-SMB2 2.2.32.3).
pub(super) fn request_resume_key(ctx: &Ctx<'_>, req: &IoctlRequest<'_>) -> Output {
    let open = ctx.open(req.file_id)?;
    if open.file().is_none() {
        return Err(NtStatus::INVALID_DEVICE_REQUEST);
    }
    if (req.max_output_response as usize) < 32 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let key = resume_key(open.id, &ctx.server().settings().guid);
    Ok((encode_resume_key(&key), NtStatus::SUCCESS))
}

/// Whether a copy from `src` (at `src_off`) to `dst` (at `dst_off`) of `len` bytes meets a
/// byte-range lock of another open: reading the source, writing the target.
fn lock_conflict(src: &Open, src_off: u64, dst: &Open, dst_off: u64, len: u64) -> bool {
    src.entry
        .as_ref()
        .is_some_and(|e| e.io_conflicts(src.uid, src_off, len, false))
        || dst
            .entry
            .as_ref()
            .is_some_and(|e| e.io_conflicts(dst.uid, dst_off, len, true))
}

/// FSCTL_SRV_COPYCHUNK (`write_only` false: the target must also be readable) and
/// FSCTL_SRV_COPYCHUNK_WRITE.
pub(super) async fn copychunk(ctx: &Ctx<'_>, req: &IoctlRequest<'_>, write_only: bool) -> Output {
    let dst = ctx.open(req.file_id)?;
    let src = match req.input.get(..RESUME_KEY_LEN) {
        Some(key) => source_open(ctx, key).ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?,
        None => return Ok((LIMITS.encode(), NtStatus::INVALID_PARAMETER)),
    };
    if (req.max_output_response as usize) < CopychunkResponse::LEN {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let Ok(copy) = CopychunkCopy::decode(req.input, MAX_CHUNKS) else {
        return Ok((LIMITS.encode(), NtStatus::INVALID_PARAMETER));
    };
    let total: u64 = copy.chunks.iter().map(|c| u64::from(c.length)).sum();
    if total > u64::from(MAX_TOTAL_BYTES)
        || copy
            .chunks
            .iter()
            .any(|c| c.length == 0 || c.length > MAX_CHUNK_BYTES)
    {
        return Ok((LIMITS.encode(), NtStatus::INVALID_PARAMETER));
    }
    // The source is read (FILE_EXECUTE serves as well, as on Windows), the target written and,
    // for COPYCHUNK, read too.
    let target_needs = if write_only {
        FILE_WRITE_DATA
    } else {
        FILE_WRITE_DATA | FILE_READ_DATA
    };
    if src.access & (FILE_READ_DATA | FILE_EXECUTE) == 0
        || dst.access & target_needs != target_needs
    {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let (Some(sf), Some(df)) = (src.file(), dst.file()) else {
        return Err(NtStatus::INVALID_DEVICE_REQUEST);
    };
    if src.is_dir || dst.is_dir {
        return Err(NtStatus::INVALID_DEVICE_REQUEST);
    }
    caching::before(&ctx.conn.server, &dst, Op::Write).await;
    let mut done = CopychunkResponse::default();
    for c in &copy.chunks {
        let len = u64::from(c.length);
        let src_size = sf.stat().await.map_err(NtStatus::from)?.size;
        let status = if c
            .source_offset
            .checked_add(len)
            .is_none_or(|e| e > src_size)
        {
            Some(NtStatus::INVALID_VIEW_SIZE)
        } else if lock_conflict(&src, c.source_offset, &dst, c.target_offset, len) {
            Some(NtStatus::FILE_LOCK_CONFLICT)
        } else {
            None
        };
        if let Some(status) = status {
            return Ok((done.encode(), status));
        }
        match df
            .copy_range_from(sf, c.source_offset, c.target_offset, len)
            .await
        {
            Ok(n) => {
                done.chunks_written += 1;
                done.total_bytes_written += n as u32;
            }
            Err(e) => return Ok((done.encode(), NtStatus::from(e))),
        }
    }
    if dst.share.continuous_availability {
        df.flush().await.map_err(NtStatus::from)?;
    }
    Ok((done.encode(), NtStatus::SUCCESS))
}

/// FSCTL_DUPLICATE_EXTENTS_TO_FILE and _EX: the target range shares the source's storage
/// (a reflink). Refused with STATUS_NOT_SUPPORTED where the backend cannot share extents.
pub(super) async fn duplicate_extents(ctx: &Ctx<'_>, req: &IoctlRequest<'_>, ex: bool) -> Output {
    let dst = ctx.open(req.file_id)?;
    let d = DuplicateExtents::decode(req.input, ex).map_err(bad_request)?;
    let src = ctx
        .session
        .as_ref()
        .and_then(|s| s.open(d.source))
        .ok_or(NtStatus::INVALID_HANDLE)?;
    let (Some(sf), Some(df)) = (src.file(), dst.file()) else {
        return Err(NtStatus::INVALID_DEVICE_REQUEST);
    };
    if src.is_dir || dst.is_dir {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if src.access & FILE_READ_DATA == 0 || dst.access & FILE_WRITE_DATA == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if d.byte_count == 0 {
        return Ok((Vec::new(), NtStatus::SUCCESS));
    }
    let src_size = sf.stat().await.map_err(NtStatus::from)?.size;
    if d.source_offset
        .checked_add(d.byte_count)
        .is_none_or(|e| e > src_size)
        || d.target_offset.checked_add(d.byte_count).is_none()
    {
        return Err(NtStatus::NOT_SUPPORTED);
    }
    if lock_conflict(&src, d.source_offset, &dst, d.target_offset, d.byte_count) {
        return Err(NtStatus::FILE_LOCK_CONFLICT);
    }
    caching::before(&ctx.conn.server, &dst, Op::Write).await;
    df.clone_range_from(sf, d.source_offset, d.target_offset, d.byte_count)
        .await
        .map_err(NtStatus::from)?;
    Ok((Vec::new(), NtStatus::SUCCESS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_keys_name_the_open() {
        let guid = [9u8; 16];
        let id = FileId {
            persistent: 1,
            volatile: 2,
        };
        let k = resume_key(id, &guid);
        assert_eq!(&k[..8], &1u64.to_le_bytes());
        assert_eq!(&k[8..16], &2u64.to_le_bytes());
        assert_eq!(&k[16..], &guid[..8]);
        assert_ne!(
            k,
            resume_key(
                FileId {
                    persistent: 1,
                    volatile: 3
                },
                &guid
            )
        );
    }
}
