//! WRITE (MS-SMB2 3.3.5.13).

use super::{Ctx, HResult, Reply, bad_request};
use crate::access::{FILE_APPEND_DATA, FILE_WRITE_DATA};
use crate::proto::NtStatus;
use crate::proto::create::options;
use crate::proto::io::{WriteRequest, encode_write_response};
use crate::state::opens::OpenKind;

/// SMB2_WRITEFLAG_WRITE_THROUGH.
const WRITEFLAG_WRITE_THROUGH: u32 = 0x1;

/// WRITE.
pub(crate) async fn write(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    let req = WriteRequest::decode(ctx.msg).map_err(bad_request)?;
    let open = ctx.open(req.file_id)?;
    if req.data.len() as u64 > u64::from(ctx.server().settings().max_write) {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    ctx.check_charge(req.data.len(), 0)?;
    if open.access & (FILE_WRITE_DATA | FILE_APPEND_DATA) == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let written = match &open.kind {
        OpenKind::Pipe(p) => p
            .lock()
            .unwrap()
            .write(req.data)
            .map_err(|e| NtStatus(e.nt_status()))?,
        OpenKind::File(f) => {
            if open.is_dir {
                return Err(NtStatus::INVALID_DEVICE_REQUEST);
            }
            let offset = if req.offset == u64::MAX {
                f.stat().await.map_err(NtStatus::from)?.size
            } else {
                // Without FILE_WRITE_DATA only appending is allowed: a write at the end of
                // file, as a client with FILE_APPEND_DATA alone fills a new file.
                if open.access & FILE_WRITE_DATA == 0
                    && req.offset != f.stat().await.map_err(NtStatus::from)?.size
                {
                    return Err(NtStatus::ACCESS_DENIED);
                }
                req.offset
            };
            if let Some(e) = &open.entry
                && e.io_conflicts(open.uid, offset, req.data.len() as u64, true)
            {
                return Err(NtStatus::FILE_LOCK_CONFLICT);
            }
            super::caching::before(&ctx.conn.server, &open, super::caching::Op::Write).await;
            let before = super::write_time::before_write(&open, f).await;
            // The payload is written from the received frame, not copied out of it.
            let n = match ctx.shared(req.data) {
                Some(data) => f.write_bytes(offset, data).await,
                None => f.write_at(offset, req.data.to_vec()).await,
            }
            .map_err(NtStatus::from)?;
            open.share.io.written(n as u64);
            super::write_time::after_write(ctx.server(), &open, f, before).await;
            // Continuously available shares write through, as Windows does: an acknowledged
            // write is on stable storage.
            if req.flags & WRITEFLAG_WRITE_THROUGH != 0
                || open.options & options::WRITE_THROUGH != 0
                || open.share.continuous_availability
            {
                f.flush().await.map_err(NtStatus::from)?;
            }
            n
        }
    };
    encode_write_response(out, written as u32);
    Ok(Reply::Done(NtStatus::SUCCESS))
}
