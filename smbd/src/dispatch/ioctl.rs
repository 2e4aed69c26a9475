//! IOCTL (MS-SMB2 3.3.5.15): VALIDATE_NEGOTIATE_INFO, named pipe transceive, and the file
//! system controls clients probe with.

use super::{Ctx, Disconnect, HResult, Reply, bad_request};
use crate::conn::session::OpenKind;
use crate::proto::NtStatus;
use crate::proto::codec::WriteLe;
use crate::proto::ioctl::{
    Fsctl, IOCTL_IS_FSCTL, IoctlRequest, ValidateNegotiateInfo, encode_ioctl_response,
    encode_validate_negotiate_response,
};

/// IOCTL.
pub(crate) async fn ioctl(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    let req = IoctlRequest::decode(ctx.msg).map_err(bad_request)?;
    if req.flags != IOCTL_IS_FSCTL {
        return Err(NtStatus::NOT_SUPPORTED);
    }
    let max_out = req.max_output_response as usize;
    let (output, status) = match req.ctl_code {
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
        Fsctl::QUERY_NETWORK_INTERFACE_INFO => return Err(NtStatus::NOT_SUPPORTED),
        Fsctl::SET_SPARSE => {
            ctx.open(req.file_id)?;
            (Vec::new(), NtStatus::SUCCESS)
        }
        Fsctl::GET_REPARSE_POINT => {
            ctx.open(req.file_id)?;
            return Err(NtStatus::NOT_A_REPARSE_POINT);
        }
        Fsctl::QUERY_ALLOCATED_RANGES => (allocated_ranges(ctx, &req).await?, NtStatus::SUCCESS),
        Fsctl::SRV_ENUMERATE_SNAPSHOTS => {
            ctx.open(req.file_id)?;
            let mut v = Vec::new();
            v.put_u32(0);
            v.put_u32(0);
            v.put_u32(2);
            v.put_u16(0);
            (v, NtStatus::SUCCESS)
        }
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
        &ctx.server().settings.guid,
        neg.server_security_mode,
        dialect.0,
    ))
}

async fn allocated_ranges(ctx: &Ctx<'_>, req: &IoctlRequest<'_>) -> Result<Vec<u8>, NtStatus> {
    let open = ctx.open(req.file_id)?;
    let f = open.file().ok_or(NtStatus::INVALID_DEVICE_REQUEST)?;
    let mut r = crate::proto::Reader::new(req.input);
    let off = r.u64("FileOffset").map_err(bad_request)?;
    let len = r.u64("Length").map_err(bad_request)?;
    let size = f.stat().await.map_err(NtStatus::from)?.size;
    let end = off.saturating_add(len).min(size);
    let mut v = Vec::new();
    if end > off {
        v.put_u64(off);
        v.put_u64(end - off);
    }
    Ok(v)
}
