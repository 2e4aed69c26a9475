//! QUERY_DIRECTORY (MS-SMB2 3.3.5.18): listings that resume across calls through the
//! backend's cookies, with "." and ".." first and wildcard filtering (MS-FSA 2.1.5.6.3). On a
//! share with access-based enumeration, entries the session may not read are left out.

use super::security::{self, Subject};
use super::{Ctx, HResult, Reply, bad_request};
use crate::access::{FILE_GENERIC_READ, FILE_READ_DATA};
use crate::proto::NtStatus;
use crate::proto::dir::{QueryDirectoryRequest, encode_buffer_response, qd_flags};
use crate::proto::fscc::{DirListWriter, FileInfoClass, MAX_PATTERN_LEN, wildcard_match};
use crate::state::opens::DirCursor;

/// Entries fetched from the backend per batch.
const BATCH: usize = 512;

/// ACE-times-SID comparisons from which an access-based-enumeration check runs off the async
/// worker.
const HEAVY_ACCESS_CHECK: usize = 16 * 1024;

fn has_wildcards(p: &str) -> bool {
    p.contains(['*', '?', '<', '>', '"'])
}

/// Whether entry `e` matches `pattern` by its name or, as MS-FSA 2.1.5.6.3 has it, by its 8.3
/// short name (so `*~1*` finds files by short name, as on Windows and Samba).
fn matches(pattern: &str, e: &vfs::DirEntry) -> bool {
    wildcard_match(pattern, &e.name)
        || e.short_name
            .as_deref()
            .is_some_and(|s| wildcard_match(pattern, s))
}

/// Checks a search pattern is one file name component, wildcards allowed (MS-FSA 2.1.5.6.3):
/// a path separator, or more than a name's 255 characters, is OBJECT_NAME_INVALID, as
/// Windows and Samba answer. An empty pattern means "*" (or the pattern in force).
fn check_pattern(p: &str) -> Result<(), NtStatus> {
    if p.contains(['\\', '/']) || p.encode_utf16().count() > MAX_PATTERN_LEN {
        return Err(NtStatus::OBJECT_NAME_INVALID);
    }
    Ok(())
}

/// Who lists a directory of an access-based-enumeration share, and what the share lets them do.
struct Viewer<'a> {
    who: Subject<'a>,
    share_max: u32,
}

impl Viewer<'_> {
    /// Whether the entry `name` of directory `dir` is listed: the session must be able to read
    /// it (FILE_GENERIC_READ; FILE_LIST_DIRECTORY is the same bit for a directory), as Windows
    /// decides for SHI1005_FLAGS_ACCESS_BASED_DIRECTORY_ENUM (MS-SRVS 2.2.4.29). The entry is
    /// only resolved (a path-only open) to read its stored descriptor.
    async fn may_see(
        &self,
        share: &crate::state::Share,
        fs: &dyn vfs::Vfs,
        dir: &str,
        name: &str,
    ) -> bool {
        let path = if dir.is_empty() {
            name.to_string()
        } else {
            format!("{dir}/{name}")
        };
        let path_only = vfs::OpenOptions {
            read: false,
            ..vfs::OpenOptions::read_existing()
        };
        match fs.open(&path, &path_only).await {
            Ok(o) => self.may_read(share, &o).await,
            Err(_) => false,
        }
    }

    /// Whether the session may read the already opened entry `o`. The access check walks
    /// every ACE for every SID of the token: a large descriptor against a large token is
    /// checked off the async worker (one per listed entry adds up over a big directory).
    async fn may_read(&self, share: &crate::state::Share, o: &vfs::Opened) -> bool {
        let sd = security::descriptor(share, &o.file, &o.path, o.stat.is_dir).await;
        let aces = sd.dacl.as_ref().map_or(0, |a| a.aces.len());
        let cost = aces.saturating_mul(self.who.token.groups.len() + 1);
        super::off_worker_if(cost >= HEAVY_ACCESS_CHECK, || {
            security::check(&sd, None, &self.who, FILE_GENERIC_READ, self.share_max).is_ok()
        })
    }
}

/// QUERY_DIRECTORY.
pub(crate) async fn query_directory(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    let req = QueryDirectoryRequest::decode(ctx.msg).map_err(bad_request)?;
    ctx.check_charge(
        req.pattern.encode_utf16().count() * 2,
        req.output_len as usize,
    )?;
    let open = ctx.open(req.file_id)?;
    let file = open.file().ok_or(NtStatus::INVALID_PARAMETER)?.clone();
    if !open.is_dir {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if open.access & FILE_READ_DATA == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let max = (req.output_len as usize).min(ctx.server().settings().max_transact as usize);
    let sec = ctx.security.clone();
    let server = ctx.conn.server.clone();
    let viewer = match (&sec, open.share.access_based_enumeration) {
        (Some(sec), true) => Some(Viewer {
            who: Subject::of(&server, sec),
            share_max: ctx.tree()?.max_access,
        }),
        _ => None,
    };
    let fs = open.share.vfs.clone().ok_or(NtStatus::INTERNAL_ERROR)?;
    let dir = open.path();
    if max == 0 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let mut writer =
        DirListWriter::new(FileInfoClass(req.class), max).map_err(|e| NtStatus(e.nt_status()))?;
    let mut cur: DirCursor = open.cursor.lock().unwrap().clone();
    check_pattern(&req.pattern)?;
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
            let child = if dir.is_empty() {
                pattern.clone()
            } else {
                format!("{dir}/{pattern}")
            };
            if let Ok(mut o) = fs.open(&child, &vfs::OpenOptions::read_existing()).await {
                o.stat.attributes = open.share.hide.shown(&o.path, o.stat.attributes);
                let name = o.path.rsplit('/').next().unwrap_or(&o.path).to_string();
                let short = fs.short_name(&o.path).await.ok().flatten();
                let hidden = match &viewer {
                    Some(v) => !v.may_read(&open.share, &o).await,
                    None => false,
                };
                if hidden {
                    cur.exhausted = true;
                } else if writer.push_named(&name, short.as_deref(), &o.stat, 0) {
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
        // A listing that skips many entries (a pattern or access-based enumeration hiding
        // them) can run long without filling the buffer: let the worker's other tasks run
        // between batches.
        tokio::task::yield_now().await;
        for mut e in batch {
            if single && added > 0 {
                break;
            }
            e.stat.attributes = open.share.hide.shown(&e.name, e.stat.attributes);
            let matched = matches(&pattern, &e);
            let shown = match &viewer {
                Some(v) if matched => v.may_see(&open.share, fs.as_ref(), &dir, &e.name).await,
                _ => true,
            };
            if shown && matched {
                if !writer.push_named(&e.name, e.short_name.as_deref(), &e.stat, e.cookie as u32) {
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
