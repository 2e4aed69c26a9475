//! CHANGE_NOTIFY (MS-SMB2 3.3.5.19): answered STATUS_PENDING and completed by CANCEL, by the
//! close of its directory, or by the end of the session.
//!
//! Change events themselves are not reported yet: a watch stays pending until one of those.

use tokio::sync::oneshot;

use super::{Ctx, HResult, Reply, bad_request};
use crate::conn::Pending;
use crate::proto::NtStatus;
use crate::proto::dir::ChangeNotifyRequest;
use crate::proto::header::flags;
use crate::proto::session::encode_error;

/// CHANGE_NOTIFY.
pub(crate) fn change_notify(ctx: &mut Ctx<'_>) -> HResult {
    let req = ChangeNotifyRequest::decode(ctx.msg).map_err(bad_request)?;
    ctx.check_charge(0, req.output_len as usize)?;
    let open = ctx.open(req.file_id)?;
    if !open.is_dir {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let async_id = ctx.conn.server.next_id();
    let (tx, rx) = oneshot::channel();
    let pending = Pending {
        message_id: ctx.hdr.message_id,
        session_id: ctx.hdr.session_id,
        file_volatile: open.id.volatile,
        on_close: NtStatus::NOTIFY_CLEANUP,
        complete: tx,
    };
    ctx.conn
        .add_pending(async_id, pending, &ctx.conn.server.settings.limits)?;
    let mut hdr = ctx.hdr.response(NtStatus::PENDING);
    hdr.flags |= flags::ASYNC_COMMAND;
    hdr.async_id = async_id;
    let conn = ctx.conn.clone();
    let encrypted = ctx.encrypted;
    let signed = ctx.hdr.is_signed();
    tokio::spawn(async move {
        // A watch dropped without completion (the connection closed, or its compound could
        // not keep it pending) gets no late response.
        let Ok(status) = rx.await else {
            return;
        };
        if signed {
            hdr.flags |= flags::SIGNED;
        }
        let mut body = Vec::new();
        encode_error(&mut body);
        super::send_async_final(&conn, hdr, status, &body, encrypted).await;
    });
    Ok(Reply::Pending(async_id))
}
