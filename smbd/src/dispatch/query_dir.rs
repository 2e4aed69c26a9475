//! QUERY_DIRECTORY (MS-SMB2 3.3.5.18): listings that resume across calls through the
//! backend's cookies, with "." and ".." first and wildcard filtering (MS-FSA 2.1.5.6.3).

use super::{Ctx, HResult, Reply, bad_request};
use crate::access::FILE_READ_DATA;
use crate::conn::session::DirCursor;
use crate::proto::NtStatus;
use crate::proto::dir::{QueryDirectoryRequest, encode_buffer_response, qd_flags};
use crate::proto::fscc::{DirListWriter, FileInfoClass, wildcard_match};

/// Entries fetched from the backend per batch.
const BATCH: usize = 512;

fn has_wildcards(p: &str) -> bool {
    p.contains(['*', '?', '<', '>', '"'])
}

/// QUERY_DIRECTORY.
pub(crate) async fn query_directory(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    let req = QueryDirectoryRequest::decode(ctx.msg).map_err(bad_request)?;
    let open = ctx.open(req.file_id)?;
    let file = open.file().ok_or(NtStatus::INVALID_PARAMETER)?.clone();
    if !open.is_dir {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if open.access & FILE_READ_DATA == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let max = (req.output_len as usize).min(ctx.server().settings.max_transact as usize);
    if max == 0 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let mut writer =
        DirListWriter::new(FileInfoClass(req.class), max).map_err(|e| NtStatus(e.nt_status()))?;
    let mut cur: DirCursor = open.cursor.lock().unwrap().clone();
    let restart = req.flags & (qd_flags::RESTART_SCANS | qd_flags::REOPEN) != 0;
    if restart || cur.pattern.is_none() {
        let pattern = if req.pattern.is_empty() {
            "*".to_string()
        } else {
            req.pattern.clone()
        };
        cur = DirCursor {
            pattern: Some(pattern),
            ..DirCursor::default()
        };
    }
    let pattern = cur.pattern.clone().unwrap_or_else(|| "*".into());
    let single = req.flags & qd_flags::RETURN_SINGLE_ENTRY != 0;
    let mut added = 0usize;
    let mut full = false;

    if !cur.exhausted && cur.dots_done < 2 {
        let dir_stat = file.stat().await.map_err(NtStatus::from)?;
        while cur.dots_done < 2 && !(single && added > 0) {
            let name = if cur.dots_done == 0 { "." } else { ".." };
            if wildcard_match(&pattern, name) {
                if !writer.push(name, &dir_stat, 0) {
                    full = true;
                    break;
                }
                added += 1;
            }
            cur.dots_done += 1;
        }
    }

    if !cur.exhausted && !full && !has_wildcards(&pattern) {
        // An exact name: one lookup instead of a scan.
        if !(single && added > 0) {
            let fs = open.share.vfs.clone().ok_or(NtStatus::INTERNAL_ERROR)?;
            let dir = open.path();
            let child = if dir.is_empty() {
                pattern.clone()
            } else {
                format!("{dir}/{pattern}")
            };
            if let Ok(o) = fs.open(&child, &vfs::OpenOptions::read_existing()).await {
                let name = o.path.rsplit('/').next().unwrap_or(&o.path).to_string();
                if writer.push(&name, &o.stat, 0) {
                    added += 1;
                    cur.exhausted = true;
                }
            } else {
                cur.exhausted = true;
            }
        }
    }

    while !(cur.exhausted || full || (single && added > 0)) {
        let batch = file
            .read_dir(cur.cookie, BATCH)
            .await
            .map_err(NtStatus::from)?;
        if batch.is_empty() {
            cur.exhausted = true;
            break;
        }
        for e in batch {
            if single && added > 0 {
                break;
            }
            if wildcard_match(&pattern, &e.name) {
                if !writer.push(&e.name, &e.stat, e.cookie as u32) {
                    full = true;
                    break;
                }
                added += 1;
            }
            cur.cookie = e.cookie;
        }
    }

    if added > 0 {
        cur.returned_any = true;
    }
    let status = if writer.is_empty() {
        if full {
            Err(NtStatus::INFO_LENGTH_MISMATCH)
        } else if cur.returned_any {
            Err(NtStatus::NO_MORE_FILES)
        } else {
            Err(NtStatus::NO_SUCH_FILE)
        }
    } else {
        Ok(())
    };
    if status.is_err() {
        // A pattern that matched nothing is reported once as NO_SUCH_FILE, then NO_MORE_FILES.
        cur.returned_any = true;
    }
    *open.cursor.lock().unwrap() = cur;
    status?;
    encode_buffer_response(out, &writer.finish());
    Ok(Reply::Done(NtStatus::SUCCESS))
}
