//! IOCTL (MS-SMB2 3.3.5.15): VALIDATE_NEGOTIATE_INFO, named pipe transceive, resiliency, object
//! ids, and the file system controls by family: server-side copy (`copy`), sparse files
//! (`sparse`), reparse points (`reparse`).

mod copy;
mod reparse;
mod sparse;

pub(crate) use copy::MAX_CHUNKS as COPYCHUNK_MAX_CHUNKS;

use super::{Ctx, Disconnect, HResult, Reply, bad_request};
use crate::proto::NtStatus;
use crate::proto::create::FileId;
use crate::proto::ioctl::{
    Fsctl, IOCTL_IS_FSCTL, IoctlRequest, ValidateNegotiateInfo, encode_ioctl_response,
    encode_validate_negotiate_response,
};
use crate::proto::negotiate::Dialect;
use crate::state::opens::OpenKind;

/// What a control answers: its output and status. The output goes out with the status even
/// when that is an error (a copychunk over the limits answers them with INVALID_PARAMETER).
type Output = Result<(Vec<u8>, NtStatus), NtStatus>;

/// IOCTL.
pub(crate) async fn ioctl(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    let req = IoctlRequest::decode(ctx.msg).map_err(bad_request)?;
    // MaxInputResponse is left out: no control here echoes input, so only the output can be
    // large (Samba counts it too; a client that charges for both passes here as well).
    ctx.check_charge(req.input.len(), req.max_output_response as usize)?;
    if req.flags != IOCTL_IS_FSCTL {
        return Err(NtStatus::NOT_SUPPORTED);
    }
    let max_out = req.max_output_response as usize;
    let (output, status) = match req.ctl_code {
        Fsctl::SRV_REQUEST_RESUME_KEY => copy::request_resume_key(ctx, &req)?,
        Fsctl::SRV_COPYCHUNK => copy::copychunk(ctx, &req, false).await?,
        Fsctl::SRV_COPYCHUNK_WRITE => copy::copychunk(ctx, &req, true).await?,
        Fsctl::DUPLICATE_EXTENTS_TO_FILE => copy::duplicate_extents(ctx, &req, false).await?,
        Fsctl::DUPLICATE_EXTENTS_TO_FILE_EX => copy::duplicate_extents(ctx, &req, true).await?,
        Fsctl::SET_SPARSE => sparse::set_sparse(ctx, &req).await?,
        Fsctl::SET_ZERO_DATA => sparse::set_zero_data(ctx, &req).await?,
        Fsctl::QUERY_ALLOCATED_RANGES => sparse::query_allocated_ranges(ctx, &req).await?,
        Fsctl::VALIDATE_NEGOTIATE_INFO => (
            validate_negotiate(ctx, &req).map_err(|_| NtStatus::ACCESS_DENIED)?,
            NtStatus::SUCCESS,
        ),
        Fsctl::PIPE_TRANSCEIVE => {
            let open = ctx.open(req.file_id)?;
            let OpenKind::Pipe(p) = &open.kind else {
                return Err(NtStatus::INVALID_DEVICE_REQUEST);
            };
            let (data, more) = p
                .lock()
                .unwrap()
                .transceive(req.input, max_out)
                .map_err(|e| NtStatus(e.nt_status()))?;
            (
                data,
                if more {
                    NtStatus::BUFFER_OVERFLOW
                } else {
                    NtStatus::SUCCESS
                },
            )
        }
        Fsctl::DFS_GET_REFERRALS | Fsctl::DFS_GET_REFERRALS_EX => {
            return Err(NtStatus::FS_DRIVER_REQUIRED);
        }
        Fsctl::QUERY_NETWORK_INTERFACE_INFO => network_interfaces(ctx, &req)?,
        Fsctl::GET_COMPRESSION => sparse::get_compression(ctx, &req)?,
        Fsctl::SET_COMPRESSION => sparse::set_compression(ctx, &req)?,
        Fsctl::GET_REPARSE_POINT => reparse::get(ctx, &req).await?,
        Fsctl::SET_REPARSE_POINT => reparse::set(ctx, &req).await?,
        Fsctl::DELETE_REPARSE_POINT => reparse::delete(ctx, &req).await?,
        FSCTL_CREATE_OR_GET_OBJECT_ID | FSCTL_GET_OBJECT_ID => {
            (object_id(ctx, &req).await?, NtStatus::SUCCESS)
        }
        Fsctl::LMR_REQUEST_RESILIENCY => {
            request_resiliency(ctx, &req)?;
            (Vec::new(), NtStatus::SUCCESS)
        }
        Fsctl::SRV_ENUMERATE_SNAPSHOTS => enumerate_snapshots(ctx, &req).await?,
        _ => return Err(NtStatus::NOT_SUPPORTED),
    };
    if output.len() > max_out {
        return Err(NtStatus::BUFFER_TOO_SMALL);
    }
    encode_ioctl_response(out, req.ctl_code, req.file_id, &output);
    Ok(Reply::Done(status))
}

/// FSCTL_VALIDATE_NEGOTIATE_INFO (MS-SMB2 3.3.5.15.12): a mismatch means a downgrade attempt, and
/// the connection is dropped.
fn validate_negotiate(ctx: &mut Ctx<'_>, req: &IoctlRequest<'_>) -> Result<Vec<u8>, Disconnect> {
    let v = ValidateNegotiateInfo::decode(req.input)
        .map_err(|_| Disconnect("bad validate negotiate"))?;
    let neg = ctx.conn.negotiated();
    let dialect = neg.dialect.ok_or(Disconnect("not negotiated"))?;
    if v.capabilities != neg.client_caps
        || v.guid != neg.client_guid
        || v.security_mode != neg.client_security_mode
        || v.dialects != neg.client_dialects
    {
        tracing::warn!(peer = %ctx.conn.peer, "VALIDATE_NEGOTIATE_INFO mismatch");
        return Err(Disconnect("validate negotiate mismatch"));
    }
    ctx.sign_with = ctx.security.clone().filter(|s| !s.is_null);
    Ok(encode_validate_negotiate_response(
        neg.server_caps,
        &ctx.server().settings().guid,
        neg.server_security_mode,
        dialect.0,
    ))
}

/// FSCTL_SRV_ENUMERATE_SNAPSHOTS (MS-SMB2 3.3.5.15.1): the share's snapshots, newest first.
/// A response buffer too small for the names gets the counts alone (NumberOfSnapShotsReturned
/// 0), as Windows answers a client that first asks for the size.
async fn enumerate_snapshots(ctx: &Ctx<'_>, req: &IoctlRequest<'_>) -> Output {
    let open = ctx.open(req.file_id)?;
    if open.file().is_none() {
        return Err(NtStatus::INVALID_DEVICE_REQUEST);
    }
    if (req.max_output_response as usize) < 16 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let names = match &open.share.vfs {
        Some(fs) => fs.snapshots().await.map_err(NtStatus::from)?,
        None => Vec::new(),
    };
    Ok((
        crate::proto::fsctl::encode_snapshot_array(&names, req.max_output_response as usize),
        NtStatus::SUCCESS,
    ))
}

/// FSCTL_QUERY_NETWORK_INTERFACE_INFO (MS-SMB2 3.3.5.15.11), on a 3.x connection of a server
/// offering multichannel: the machine's interfaces a client may bind more channels through
/// (`crate::netif`: those the `interfaces` setting names, or all of them; at least the address
/// the connection arrived on). The request names no file: another file id is
/// INVALID_PARAMETER.
fn network_interfaces(ctx: &Ctx<'_>, req: &IoctlRequest<'_>) -> Output {
    if req.file_id != FileId::RELATED {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if !ctx.server().settings().multichannel || !ctx.conn.negotiated().is_smb3() {
        return Err(NtStatus::NOT_SUPPORTED);
    }
    let arrived_on = ctx
        .conn
        .local
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    let list = crate::netif::discover(&ctx.server().settings().interfaces, Some(arrived_on));
    let entries: Vec<_> = list
        .iter()
        .map(|i| {
            let cap = if i.rss {
                crate::proto::fsctl::NETWORK_INTERFACE_RSS_CAPABLE
            } else {
                0
            };
            (i.index, cap, i.speed, i.addr)
        })
        .collect();
    Ok((
        crate::proto::fsctl::encode_network_interfaces(&entries),
        NtStatus::SUCCESS,
    ))
}

/// The longest resiliency timeout a client may ask for, in milliseconds (MaxResiliencyTimeout;
/// Windows allows five minutes).
const MAX_RESILIENCY_TIMEOUT_MS: u32 = 300_000;
/// The resiliency timeout of a request that gives none (the server's choice, MS-SMB2 3.3.5.15.9).
const RESILIENCY_DEFAULT_MS: u32 = 120_000;

/// FSCTL_LMR_REQUEST_RESILIENCY (MS-SMB2 3.3.5.15.9): the open becomes resilient, with the
/// NETWORK_RESILIENCY_REQUEST's Timeout (2.2.31.3). Its LOCK requests are then verified
/// against Open.LockSequenceArray; keeping it across a lost connection comes with durable
/// handles.
fn request_resiliency(ctx: &Ctx<'_>, req: &IoctlRequest<'_>) -> Result<(), NtStatus> {
    if ctx.conn.negotiated().dialect == Some(Dialect::Smb202) {
        return Err(NtStatus::INVALID_DEVICE_REQUEST);
    }
    let open = ctx.open(req.file_id)?;
    let mut r = crate::proto::Reader::new(req.input);
    let timeout = r.u32("Timeout").map_err(bad_request)?;
    r.skip(4, "Reserved").map_err(bad_request)?;
    if timeout > MAX_RESILIENCY_TIMEOUT_MS {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    open.set_resilient(timeout);
    if open.durability().is_none() {
        // A resilient open outlives its connection like a durable one, whatever its caching
        // (MS-SMB2 3.3.7.1), and is reconnected with DHnC.
        let ms = if timeout == 0 {
            RESILIENCY_DEFAULT_MS
        } else {
            timeout
        };
        open.set_durability(Some(crate::state::opens::Durability {
            version: 1,
            timeout: std::time::Duration::from_millis(u64::from(ms)),
            persistent: false,
            create_guid: None,
            app_instance: None,
        }));
    }
    Ok(())
}

/// FSCTL_CREATE_OR_GET_OBJECT_ID (MS-FSCC 2.3.7).
const FSCTL_CREATE_OR_GET_OBJECT_ID: Fsctl = Fsctl(0x0009_00C0);
/// FSCTL_GET_OBJECT_ID (MS-FSCC 2.3.25).
const FSCTL_GET_OBJECT_ID: Fsctl = Fsctl(0x0009_009C);

/// The FILE_OBJECTID_BUFFER (MS-FSCC 2.1.3.1) of an open's file. The object id is derived
/// from the file's stable id and the server GUID, so it is the same on every call without
/// being stored: ObjectId and BirthObjectId are that id, BirthVolumeId the server GUID,
/// DomainId zero.
async fn object_id(ctx: &Ctx<'_>, req: &IoctlRequest<'_>) -> Result<Vec<u8>, NtStatus> {
    let open = ctx.open(req.file_id)?;
    let f = open.file().ok_or(NtStatus::INVALID_DEVICE_REQUEST)?;
    let stat = f.stat().await.map_err(NtStatus::from)?;
    Ok(object_id_buffer(
        stat.file_id,
        &ctx.server().settings().guid,
    ))
}

/// Encodes a FILE_OBJECTID_BUFFER for the file with this id on the volume `volume`.
fn object_id_buffer(file_id: u64, volume: &[u8; 16]) -> Vec<u8> {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&file_id.to_le_bytes());
    id[8..].copy_from_slice(&volume[..8]);
    let mut v = Vec::with_capacity(64);
    v.extend_from_slice(&id);
    v.extend_from_slice(volume);
    v.extend_from_slice(&id);
    v.extend_from_slice(&[0u8; 16]);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The object id buffer is 64 bytes: ObjectId, BirthVolumeId, BirthObjectId, DomainId;
    /// the same file gets the same id, another file another one.
    #[test]
    fn object_id_buffer_layout() {
        let vol = [7u8; 16];
        let a = object_id_buffer(42, &vol);
        assert_eq!(a.len(), 64);
        assert_eq!(&a[..8], &42u64.to_le_bytes());
        assert_eq!(&a[16..32], &vol);
        assert_eq!(&a[..16], &a[32..48]);
        assert_eq!(&a[48..], &[0u8; 16]);
        assert_eq!(a, object_id_buffer(42, &vol));
        assert_ne!(a[..16], object_id_buffer(43, &vol)[..16]);
    }
}
