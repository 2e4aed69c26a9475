//! QUERY_INFO (MS-SMB2 3.3.5.20): file, filesystem and security information.

use std::sync::atomic::Ordering;

use super::{Ctx, HResult, Reply, bad_request, path};
use crate::access::{ACCESS_SYSTEM_SECURITY, READ_CONTROL};
use crate::proto::NtStatus;
use crate::proto::dir::encode_buffer_response;
use crate::proto::fscc::{
    self, FileInfoClass, FileInfoContext, FsInfoClass, FsInfoContext, encode_file_info,
    encode_fs_info,
};
use crate::proto::info::{QueryInfoRequest, info_type};
use crate::state::opens::Open;

/// Security information bits (MS-DTYP 2.4.7).
pub(crate) mod secinfo {
    /// OWNER_SECURITY_INFORMATION.
    pub(crate) const OWNER: u32 = 0x1;
    /// GROUP_SECURITY_INFORMATION.
    pub(crate) const GROUP: u32 = 0x2;
    /// DACL_SECURITY_INFORMATION.
    pub(crate) const DACL: u32 = 0x4;
    /// SACL_SECURITY_INFORMATION.
    pub(crate) const SACL: u32 = 0x8;
}

/// QUERY_INFO.
pub(crate) async fn query_info(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    let req = QueryInfoRequest::decode(ctx.msg).map_err(bad_request)?;
    ctx.check_charge(req.input.len(), req.output_len as usize)?;
    let open = ctx.open(req.file_id)?;
    let mut buf = Vec::with_capacity(256);
    let min = match req.info_type {
        info_type::FILE => {
            let class = FileInfoClass(req.class);
            if class == FileInfoClass::FILE_NORMALIZED_NAME_INFORMATION
                && ctx.conn.negotiated().dialect.is_none_or(|d| d.0 < 0x0311)
            {
                // MS-SMB2 3.3.5.20.1: only 3.1.1 asks for it (smbtorture smb2.getinfo.normalized).
                return Err(NtStatus::NOT_SUPPORTED);
            }
            if class == FileInfoClass::FILE_FULL_EA_INFORMATION {
                let q = super::ea::Query {
                    input: req.input,
                    flags: req.flags,
                    index: req.additional,
                    max_len: req.output_len as usize,
                };
                let (buf, status) = super::ea::query(&open, &q).await?;
                encode_buffer_response(out, &buf);
                return Ok(Reply::Done(status));
            }
            if class == FileInfoClass::FILE_STREAM_INFORMATION && open.file().is_some() {
                stream_info(&open, &mut buf).await?;
            } else {
                file_info(ctx.server(), &open, class, &mut buf).await?;
            }
            fscc::file_info_min_size(class).unwrap_or(0)
        }
        info_type::FILESYSTEM => {
            let class = FsInfoClass(req.class);
            fs_info(ctx, &open, class, &mut buf).await?;
            fscc::fs_info_min_size(class).unwrap_or(0)
        }
        info_type::SECURITY => {
            security_info(&open, req.additional, &mut buf).await?;
            if buf.len() > req.output_len as usize {
                // MS-SMB2 3.3.5.20.3: report the size needed.
                let mut b = Vec::new();
                b.extend_from_slice(&(buf.len() as u32).to_le_bytes());
                out.extend_from_slice(&9u16.to_le_bytes());
                out.extend_from_slice(&0u16.to_le_bytes());
                out.extend_from_slice(&4u32.to_le_bytes());
                out.extend_from_slice(&b);
                return Ok(Reply::Done(NtStatus::BUFFER_TOO_SMALL));
            }
            0
        }
        info_type::QUOTA => {
            return super::quota::query(req.input, req.output_len as usize, out);
        }
        _ => return Err(NtStatus::NOT_SUPPORTED),
    };
    let limit = req.output_len as usize;
    if buf.len() > limit {
        if limit < min || min == 0 {
            return Err(NtStatus::INFO_LENGTH_MISMATCH);
        }
        buf.truncate(limit);
        encode_buffer_response(out, &buf);
        return Ok(Reply::Done(NtStatus::BUFFER_OVERFLOW));
    }
    encode_buffer_response(out, &buf);
    Ok(Reply::Done(NtStatus::SUCCESS))
}

/// The access a file information class needs (MS-FSA 2.1.5.12).
fn class_access(class: FileInfoClass) -> u32 {
    match class {
        FileInfoClass::FILE_BASIC_INFORMATION
        | FileInfoClass::FILE_ALL_INFORMATION
        | FileInfoClass::FILE_NETWORK_OPEN_INFORMATION
        | FileInfoClass::FILE_ATTRIBUTE_TAG_INFORMATION => crate::access::FILE_READ_ATTRIBUTES,
        FileInfoClass::FILE_FULL_EA_INFORMATION => crate::access::FILE_READ_EA,
        _ => 0,
    }
}

async fn file_info(
    server: &crate::state::ServerContext,
    open: &Open,
    class: FileInfoClass,
    buf: &mut Vec<u8>,
) -> Result<(), NtStatus> {
    let needs = class_access(class);
    if open.access & needs != needs {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let (stat, is_pipe) = match open.file() {
        Some(f) => {
            let mut stat = f.stat().await.map_err(NtStatus::from)?;
            super::write_time::report(server, open, &mut stat);
            (stat, false)
        }
        None => (
            vfs::FileStat {
                attributes: vfs::attr::NORMAL,
                allocation_size: 4096,
                links: 1,
                ..Default::default()
            },
            true,
        ),
    };
    let alternate = if class == FileInfoClass::FILE_ALTERNATE_NAME_INFORMATION {
        alternate_name(open).await
    } else {
        None
    };
    let mut name = path::to_smb_path(&open.path());
    if let Some(e) = open.entry.as_ref().filter(|e| e.is_stream()) {
        // A stream's names carry its stream part (smbtorture smb2.getinfo.normalized).
        name = format!("{name}:{}", e.stream_name());
    }
    let c = FileInfoContext {
        stat: &stat,
        name: &name,
        delete_pending: open.entry.as_ref().is_some_and(|e| e.delete_pending()),
        access_mask: open.access,
        position: open.position.load(Ordering::Relaxed),
        mode: open.mode.load(Ordering::Relaxed),
        is_pipe,
        volume_serial: 0,
        alternate_name: alternate.as_deref(),
    };
    encode_file_info(class, &c, buf).map_err(|e| NtStatus(e.nt_status()))
}

/// FileAlternateNameInformation (MS-FSA 2.1.5.12.3): the short name the backend gives the
/// open's file (a stream's: its file's). The root has none.
///
/// Interop: a name that is already valid 8.3 has no short name, for which Windows answers
/// OBJECT_NAME_NOT_FOUND; Samba answers the name itself, upper-cased, and smbtorture
/// smb2.mangle (which removes and recreates every file by the name this returns) needs that,
/// so we do the same.
async fn alternate_name(open: &Open) -> Option<String> {
    let fs = open.share.vfs.as_ref()?;
    let path = open.path();
    let last = path.rsplit('/').next().filter(|n| !n.is_empty())?;
    match fs.short_name(&path).await {
        Ok(Some(short)) => Some(short),
        Ok(None) => Some(last.to_ascii_uppercase()),
        // The name went meanwhile (removed or renamed by another open): as if alone.
        Err(_) => vfs::short_names::alone(last).or_else(|| Some(last.to_ascii_uppercase())),
    }
}

/// FileStreamInformation (MS-FSA 2.1.5.12.29): the unnamed data stream first (a directory has
/// none), with the file's size and allocation, then the named streams.
async fn stream_info(open: &Open, buf: &mut Vec<u8>) -> Result<(), NtStatus> {
    let fs = open.share.vfs.clone().ok_or(NtStatus::INVALID_PARAMETER)?;
    let f = open.file().ok_or(NtStatus::INVALID_PARAMETER)?;
    let path = open.path();
    let is_stream = open.entry.as_ref().is_some_and(|e| e.is_stream());
    // A stream's handle reports the stream's size; the file's own is asked by name.
    let base = if is_stream {
        fs.stat(&path).await
    } else {
        f.stat().await
    }
    .map_err(NtStatus::from)?;
    let mut entries = Vec::new();
    if !base.is_dir {
        entries.push(fscc::StreamEntry {
            name: "::$DATA".into(),
            size: base.size,
            allocation_size: base.allocation_size,
        });
    }
    for s in fs.list_streams(&path).await.map_err(NtStatus::from)? {
        entries.push(fscc::StreamEntry {
            name: format!(":{}:$DATA", s.name),
            size: s.size,
            allocation_size: s.allocation_size,
        });
    }
    fscc::encode_stream_information(&entries, buf);
    Ok(())
}

async fn fs_info(
    ctx: &Ctx<'_>,
    open: &Open,
    class: FsInfoClass,
    buf: &mut Vec<u8>,
) -> Result<(), NtStatus> {
    let fs = open.share.vfs.clone().ok_or(NtStatus::INVALID_PARAMETER)?;
    let info = fs.fs_info().await.map_err(NtStatus::from)?;
    let mut object_id = [0u8; 16];
    object_id[..16].copy_from_slice(&ctx.server().settings().guid);
    object_id[0] ^= open.share.index as u8;
    let c = FsInfoContext {
        fs: &info,
        volume_label: &open.share.name,
        volume_created: 0,
        fs_name: "NTFS",
        read_only: open.share.read_only,
        named_streams: open.share.streams,
        object_id,
    };
    encode_fs_info(class, &c, buf).map_err(|e| NtStatus(e.nt_status()))
}

async fn security_info(open: &Open, additional: u32, buf: &mut Vec<u8>) -> Result<(), NtStatus> {
    if additional & secinfo::SACL != 0 && open.access & ACCESS_SYSTEM_SECURITY == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if additional & (secinfo::OWNER | secinfo::GROUP | secinfo::DACL) != 0
        && open.access & READ_CONTROL == 0
    {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let f = open.file().ok_or(NtStatus::INVALID_PARAMETER)?;
    let sd = super::security::descriptor(&open.share, f, &open.path(), open.is_dir).await;
    let bytes = sd
        .filtered(additional)
        .encode()
        .map_err(|_| NtStatus::INTERNAL_ERROR)?;
    buf.extend_from_slice(&bytes);
    Ok(())
}
