//! CLOSE (MS-SMB2 3.3.5.10) and the clean-up every way of ending an open shares.

use std::sync::Arc;

use super::{Ctx, HResult, Reply, bad_request};
use crate::conn::Connection;
use crate::proto::NtStatus;
use crate::proto::create::{CLOSE_FLAG_POSTQUERY_ATTRIB, decode_close, encode_close_response};
use crate::state::opens::Open;
use crate::state::session::Session;

/// CLOSE.
pub(crate) async fn close(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    let (flags, id) = decode_close(ctx.msg).map_err(bad_request)?;
    let open = ctx.open(id)?;
    let session = ctx.session()?.clone();
    let Some(open) = ctx.server().opens.take(&session, open.id) else {
        return Err(NtStatus::FILE_CLOSED);
    };
    ctx.conn.note_closed(open.id.volatile, ctx.hdr.message_id);
    let deleted = finish(ctx.conn, &open).await;
    let stat = if flags & CLOSE_FLAG_POSTQUERY_ATTRIB != 0 && !deleted {
        match open.file() {
            Some(f) => f.stat().await.ok().map(|mut st| {
                super::write_time::report(ctx.server(), &open, &mut st);
                st
            }),
            None => None,
        }
    } else {
        None
    };
    encode_close_response(out, stat.as_ref());
    Ok(Reply::Done(NtStatus::SUCCESS))
}

/// Ends an open already taken out of the tables: completes its pending operations, then
/// [`Open::end`]s it. Returns whether the file was deleted.
pub(crate) async fn finish(conn: &Connection, open: &Open) -> bool {
    super::misc::cancel_for_open(conn, open.id.volatile);
    conn.server.notify.remove(open.uid);
    super::persistent::forget(&conn.server, open).await;
    super::write_time::closing(&conn.server, open).await;
    let deleted = open.end().await;
    if !deleted
        && open.is_dir
        && let Some(entry) = &open.entry
        && entry.delete_pending()
    {
        // The watches of a directory being deleted answer STATUS_DELETE_PENDING, as Windows
        // does (smbtorture smb2.notify.rmdir*).
        for uid in entry.holder_uids() {
            if let Some(w) = conn.server.notify.get(uid) {
                w.delete_pending();
            }
        }
    }
    deleted
}

/// Closes every open of a session, or of one of its trees, in the background.
pub(crate) fn close_all(conn: &Arc<Connection>, session: &Session, tree: Option<u32>) {
    let opens = conn.server.opens.take_all(session, tree);
    if opens.is_empty() {
        return;
    }
    let conn = conn.clone();
    tokio::spawn(async move {
        for o in opens {
            finish(&conn, &o).await;
        }
    });
}
