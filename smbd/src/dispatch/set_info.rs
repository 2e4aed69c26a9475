//! SET_INFO (MS-SMB2 3.3.5.21): times and attributes, rename, delete disposition, end of file,
//! allocation, position and mode, extended attributes, and security descriptors.

use std::sync::atomic::Ordering;

use super::caching::Op;
use super::rename::NewName;
use super::{Ctx, HResult, Reply, bad_request, security};
use crate::access::{
    DELETE, FILE_APPEND_DATA, FILE_WRITE_ATTRIBUTES, FILE_WRITE_DATA, WRITE_DAC, WRITE_OWNER,
};
use crate::proto::NtStatus;
use crate::proto::fscc::{FileInfoClass, SetFileInfo, decode_set_file_info};
use crate::proto::info::{SetInfoRequest, encode_set_info_response, info_type};
use crate::state::opens::Open;
use vfs::SetTimes;

/// FILE_DISPOSITION_* flags of FileDispositionInformationEx (MS-FSCC 2.4.12).
mod disposition_ex {
    pub(super) const DELETE: u32 = 0x1;
    pub(super) const ON_CLOSE: u32 = 0x8;
    pub(super) const IGNORE_READONLY: u32 = 0x10;
}

/// SET_INFO.
pub(crate) async fn set_info(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    let req = SetInfoRequest::decode(ctx.msg).map_err(bad_request)?;
    let open = ctx.open(req.file_id)?;
    match req.info_type {
        info_type::FILE => {
            let info = decode_set_file_info(FileInfoClass(req.class), req.buffer)
                .map_err(|e| NtStatus(e.nt_status()))?;
            set_file_info(ctx, &open, info).await?;
        }
        info_type::SECURITY => set_security(ctx, &open, req.additional, req.buffer).await?,
        _ => return Err(NtStatus::NOT_SUPPORTED),
    }
    encode_set_info_response(out);
    Ok(Reply::Done(NtStatus::SUCCESS))
}

/// SET_INFO of security information: the parts named by `additional` replace the stored ones
/// (MS-SMB2 3.3.5.21.3, MS-FSA 2.1.5.16).
async fn set_security(
    ctx: &Ctx<'_>,
    open: &Open,
    additional: u32,
    buffer: &[u8],
) -> Result<(), NtStatus> {
    use super::query_info::secinfo;
    let mut needs = 0;
    if additional & (secinfo::OWNER | secinfo::GROUP) != 0 {
        needs |= WRITE_OWNER;
    }
    if additional & secinfo::DACL != 0 {
        needs |= WRITE_DAC;
    }
    if additional & secinfo::SACL != 0 {
        needs |= crate::access::ACCESS_SYSTEM_SECURITY;
    }
    if open.access & needs != needs || open.share.read_only {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let f = open.file().ok_or(NtStatus::INVALID_PARAMETER)?;
    let new =
        acl::SecurityDescriptor::decode(buffer).map_err(|_| security::INVALID_SECURITY_DESCR)?;
    let mut cur = security::descriptor(&open.share, f, &open.path(), open.is_dir).await;
    let parts = additional & (secinfo::OWNER | secinfo::GROUP | secinfo::DACL | secinfo::SACL);
    let sec = ctx.security.clone().ok_or(NtStatus::USER_SESSION_DELETED)?;
    security::check_settable(&new, parts, &security::Subject::of(ctx.server(), &sec))?;
    cur.apply_set(&new, parts, &acl::GenericMapping::FILE);
    security::store(f, &cur).await
}

fn need(open: &Open, mask: u32) -> Result<(), NtStatus> {
    if open.access & mask == 0 {
        Err(NtStatus::ACCESS_DENIED)
    } else {
        Ok(())
    }
}

fn time(v: i64) -> Option<u64> {
    (v > 0).then_some(v as u64)
}

async fn set_file_info(ctx: &Ctx<'_>, open: &Open, info: SetFileInfo) -> Result<(), NtStatus> {
    let f = open.file().ok_or(NtStatus::INVALID_PARAMETER)?;
    match info {
        SetFileInfo::Basic(b) => {
            need(open, FILE_WRITE_ATTRIBUTES)?;
            // Any basic information, even all zeros, brings a pending write-time move forward,
            // as Windows does; an explicit write time then replaces it and sticks.
            super::write_time::flush(ctx.server(), open, f).await;
            let last_write =
                super::write_time::set_basic(ctx.server(), open, f, b.last_write).await?;
            let times = SetTimes {
                creation: time(b.creation),
                last_access: time(b.last_access),
                last_write,
                change: time(b.change),
            };
            // Attributes first: storing them moves the real ctime, which would void a
            // ChangeTime set just before.
            if b.attributes != 0 {
                let is_dir_attr = b.attributes & vfs::attr::DIRECTORY != 0;
                if is_dir_attr && !open.is_dir {
                    return Err(NtStatus::INVALID_PARAMETER);
                }
                if open.is_dir && b.attributes & vfs::attr::TEMPORARY != 0 {
                    // Directories cannot be temporary (MS-FSA 2.1.5.15.1).
                    return Err(NtStatus::INVALID_PARAMETER);
                }
                f.set_attributes(b.attributes & !vfs::attr::DIRECTORY)
                    .await
                    .map_err(NtStatus::from)?;
            }
            if times != SetTimes::default() {
                f.set_times(times).await.map_err(NtStatus::from)?;
            }
        }
        SetFileInfo::Rename {
            replace_if_exists,
            file_name,
        } => {
            need(open, DELETE)?;
            super::caching::before(&ctx.conn.server, open, Op::Rename).await;
            super::rename::rename(ctx, open, replace_if_exists, &file_name, NewName::Rename)
                .await?;
        }
        SetFileInfo::Link {
            replace_if_exists,
            file_name,
        } => {
            // A new name needs no right on the file itself; its destination is checked as a
            // rename's is (the directory's FILE_ADD_FILE, DELETE on a replaced file).
            super::rename::rename(ctx, open, replace_if_exists, &file_name, NewName::Link).await?;
        }
        SetFileInfo::Disposition { delete } => {
            if delete {
                super::caching::before(&ctx.conn.server, open, Op::Delete).await;
            }
            set_delete(open, delete, false, false).await?
        }
        SetFileInfo::DispositionEx { flags } => {
            if flags & disposition_ex::DELETE != 0 {
                super::caching::before(&ctx.conn.server, open, Op::Delete).await;
            }
            set_delete(
                open,
                flags & disposition_ex::DELETE != 0,
                flags & disposition_ex::ON_CLOSE != 0,
                flags & disposition_ex::IGNORE_READONLY != 0,
            )
            .await?
        }
        SetFileInfo::EndOfFile(len) => {
            need(open, FILE_WRITE_DATA)?;
            if open.is_dir {
                return Err(NtStatus::INVALID_PARAMETER);
            }
            super::caching::before(&ctx.conn.server, open, Op::SetSize).await;
            f.set_len(len).await.map_err(NtStatus::from)?;
            // Setting the end of file, even to the size it has, brings a pending write-time
            // move forward (smbtorture smb2.timestamps.delayed-write-vs-seteof).
            super::write_time::flush(ctx.server(), open, f).await;
        }
        SetFileInfo::Allocation(len) => {
            // Growing the allocation may come with either right; shrinking it below the end of
            // file truncates the data, which only FILE_WRITE_DATA may do.
            need(open, FILE_WRITE_DATA | FILE_APPEND_DATA)?;
            if open.is_dir {
                return Err(NtStatus::INVALID_PARAMETER);
            }
            super::caching::before(&ctx.conn.server, open, Op::SetSize).await;
            let size = f.stat().await.map_err(NtStatus::from)?.size;
            if len < size {
                need(open, FILE_WRITE_DATA)?;
                f.set_len(len).await.map_err(NtStatus::from)?;
            } else {
                f.allocate(len).await.map_err(NtStatus::from)?;
            }
        }
        SetFileInfo::Position(p) => open.position.store(p, Ordering::Relaxed),
        SetFileInfo::Mode(m) => open.mode.store(m, Ordering::Relaxed),
        SetFileInfo::ValidDataLength(_) => {}
        SetFileInfo::ShortName(_) => {
            return Err(NtStatus::NOT_SUPPORTED);
        }
        SetFileInfo::FullEa(list) => super::ea::set(open, list).await?,
    }
    Ok(())
}

async fn set_delete(
    open: &Open,
    delete: bool,
    on_close: bool,
    ignore_readonly: bool,
) -> Result<(), NtStatus> {
    need(open, DELETE)?;
    let f = open.file().ok_or(NtStatus::INVALID_PARAMETER)?;
    let entry = open.entry.as_ref().ok_or(NtStatus::INVALID_PARAMETER)?;
    if delete {
        let st = f.stat().await.map_err(NtStatus::from)?;
        if st.attributes & vfs::attr::READONLY != 0 && !ignore_readonly {
            return Err(NtStatus::CANNOT_DELETE);
        }
        if open.path().is_empty() {
            return Err(NtStatus::CANNOT_DELETE);
        }
        if open.is_dir && !f.read_dir(0, 1).await.map_err(NtStatus::from)?.is_empty() {
            return Err(NtStatus::DIRECTORY_NOT_EMPTY);
        }
    }
    if on_close {
        open.delete_on_close.store(delete, Ordering::Relaxed);
    } else {
        entry.set_delete_pending(delete);
    }
    Ok(())
}
