//! READ (MS-SMB2 3.3.5.12).

use super::{Ctx, HResult, Reply, bad_request};
use crate::access::{FILE_EXECUTE, FILE_READ_DATA};
use crate::conn::outbox::FileTail;
use crate::proto::NtStatus;
use crate::proto::header::HEADER_LEN;
use crate::proto::io::{ReadRequest, encode_read_response_prefix};
use crate::state::opens::{Open, OpenKind};

/// Plain replies at least this long send their data from the file with sendfile(2) instead of
/// reading it into the reply (two copies fewer); below it the copies cost less than the extra
/// system calls.
const SEND_FROM_FILE_AT: usize = 64 * 1024;

/// READ.
pub(crate) async fn read(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    let req = ReadRequest::decode(ctx.msg).map_err(bad_request)?;
    let open = ctx.open(req.file_id)?;
    if req.length > ctx.server().settings().max_read {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    ctx.check_charge(0, req.length as usize)?;
    if open.access & (FILE_READ_DATA | FILE_EXECUTE) == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    match &open.kind {
        OpenKind::Pipe(p) => {
            let r = p
                .lock()
                .unwrap()
                .read(req.length as usize)
                .map_err(|e| NtStatus(e.nt_status()))?;
            match r {
                Some((bytes, more)) => {
                    encode_read_response_prefix(out, bytes.len() as u32);
                    out.extend_from_slice(&bytes);
                    return Ok(Reply::Done(if more {
                        NtStatus::BUFFER_OVERFLOW
                    } else {
                        NtStatus::SUCCESS
                    }));
                }
                None => return Err(NtStatus::PIPE_BROKEN),
            }
        }
        OpenKind::File(f) => {
            if open.is_dir {
                return Err(NtStatus::INVALID_DEVICE_REQUEST);
            }
            if let Some(e) = &open.entry
                && e.io_conflicts(open.uid, req.offset, u64::from(req.length), false)
            {
                return Err(NtStatus::FILE_LOCK_CONFLICT);
            }
            if let Some(reply) = reply_from_file(ctx, &open, f, &req, out)? {
                return Ok(reply);
            }
            // The data lands after room for a transform header, the SMB2 header and the
            // READ response body: the reply is sent (and sealed in place) without a copy.
            let start = super::REPLY_HEADROOM;
            let headroom = start + HEADER_LEN + 16;
            let mut buf = f
                .read_at_with_headroom(req.offset, req.length as usize, headroom)
                .await
                .map_err(NtStatus::from)?;
            let n = buf.len().saturating_sub(headroom);
            if (n == 0 && req.length > 0) || (n as u32) < req.minimum_count {
                return Err(NtStatus::END_OF_FILE);
            }
            open.share.io.read(n as u64);
            // The current position follows the last read (smbtorture smb2.read.position).
            open.position
                .store(req.offset + n as u64, std::sync::atomic::Ordering::Relaxed);
            let mut prefix = Vec::with_capacity(16);
            encode_read_response_prefix(&mut prefix, n as u32);
            if buf.len() < headroom {
                return Err(NtStatus::INTERNAL_ERROR);
            }
            buf[start + HEADER_LEN..headroom].copy_from_slice(&prefix);
            *out = buf;
            ctx.reply_start = start;
        }
    }
    Ok(Reply::Done(NtStatus::SUCCESS))
}

/// A READ reply whose data goes from the file straight to the socket: only for plain replies
/// (neither signed, sealed nor chained) of at least [`SEND_FROM_FILE_AT`] bytes, on a
/// connection and backend that can do it. The length is decided now from the file's size;
/// the outbox closes the connection should the file shrink before the data is sent (see
/// [`crate::conn::outbox::FileTail`]). `None`: read the data into the reply instead.
fn reply_from_file(
    ctx: &mut Ctx<'_>,
    open: &Open,
    f: &vfs::FileRef,
    req: &ReadRequest,
    out: &mut Vec<u8>,
) -> Result<Option<Reply>, NtStatus> {
    let len = req.length as usize;
    if len < SEND_FROM_FILE_AT || !ctx.plain_reply() || !ctx.conn.out.sends_files() {
        return Ok(None);
    }
    let Ok(n) = f.send_range_len(req.offset, len) else {
        return Ok(None);
    };
    if (n == 0 && len > 0) || (n as u32) < req.minimum_count {
        return Err(NtStatus::END_OF_FILE);
    }
    open.share.io.read(n as u64);
    open.position
        .store(req.offset + n as u64, std::sync::atomic::Ordering::Relaxed);
    let start = super::REPLY_HEADROOM;
    out.clear();
    out.resize(start + HEADER_LEN, 0);
    encode_read_response_prefix(out, n as u32);
    ctx.reply_start = start;
    ctx.file_tail = Some(FileTail {
        file: f.clone(),
        offset: req.offset,
        len: n,
    });
    Ok(Some(Reply::Done(NtStatus::SUCCESS)))
}
