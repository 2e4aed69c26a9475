//! ECHO (MS-SMB2 3.3.5.17), FLUSH (3.3.5.11), and the completion of pending operations: by
//! CANCEL (3.3.5.16), by the close of their open, or abandoned with their connection.

use super::{Ctx, HResult, Reply, bad_request};
use crate::access::{FILE_APPEND_DATA, FILE_WRITE_DATA};
use crate::conn::Connection;
use crate::proto::NtStatus;
use crate::proto::header::Header;
use crate::proto::io::{decode_flush, encode_flush_response};
use crate::proto::session::encode_fixed4;

/// ECHO: a body of StructureSize 4, answered in kind (MS-SMB2 2.2.28).
pub(crate) fn echo(ctx: &Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    crate::proto::session::decode_fixed4(ctx.msg).map_err(bad_request)?;
    encode_fixed4(out);
    Ok(Reply::Done(NtStatus::SUCCESS))
}

/// FLUSH: data and metadata reach the disk.
pub(crate) async fn flush(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    let id = decode_flush(ctx.msg).map_err(bad_request)?;
    let open = ctx.open(id)?;
    if open.access & (FILE_WRITE_DATA | FILE_APPEND_DATA) == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if let Some(f) = open.file() {
        super::write_time::flush(ctx.server(), &open, f).await;
        f.flush().await.map_err(NtStatus::from)?;
    }
    encode_flush_response(out);
    Ok(Reply::Done(NtStatus::SUCCESS))
}

/// How long CANCEL waits for the cancelled operation's final response to be queued.
const CANCELLED_ANSWER_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// CANCEL: completes the pending operation it names with STATUS_CANCELLED, and returns once
/// that answer is queued. No response of its own.
pub(crate) async fn cancel(conn: &Connection, hdr: &Header) {
    let named = {
        let mut pending = conn.pending.lock().unwrap();
        let key = if hdr.is_async() {
            pending.contains_key(&hdr.async_id).then_some(hdr.async_id)
        } else {
            pending
                .iter()
                .find(|(_, p)| p.message_id == hdr.message_id && p.session_id == hdr.session_id)
                .map(|(k, _)| *k)
        };
        key.and_then(|k| pending.remove(&k))
    };
    if let Some(p) = named {
        if p.complete.send(NtStatus::CANCELLED).is_ok() {
            let _ = tokio::time::timeout(CANCELLED_ANSWER_WAIT, p.answered).await;
        }
        return;
    }
    // A running request that waits (a CREATE waiting for a break) ends with CANCELLED.
    let async_id = hdr.is_async().then_some(hdr.async_id);
    conn.cancel_request(async_id, hdr.message_id, hdr.session_id);
}

/// Completes every pending operation on an open (it is closing) with its close status.
pub(crate) fn cancel_for_open(conn: &Connection, volatile: u64) {
    let mut pending = conn.pending.lock().unwrap();
    let keys: Vec<u64> = pending
        .iter()
        .filter(|(_, p)| p.file_volatile == volatile)
        .map(|(k, _)| *k)
        .collect();
    for k in keys {
        if let Some(p) = pending.remove(&k) {
            let _ = p.complete.send(p.on_close);
        }
    }
}

/// Drops every pending operation of a connection (it is closing): none gets a response.
pub(crate) fn drop_all(conn: &Connection) {
    conn.pending.lock().unwrap().clear();
}
