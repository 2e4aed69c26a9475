//! CLOSE (MS-SMB2 3.3.5.10) and the clean-up every way of ending an open shares.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{Ctx, HResult, Reply, bad_request};
use crate::conn::Connection;
use crate::conn::session::{Open, Session};
use crate::proto::NtStatus;
use crate::proto::create::{CLOSE_FLAG_POSTQUERY_ATTRIB, decode_close, encode_close_response};

/// CLOSE.
pub(crate) async fn close(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    let (flags, id) = decode_close(ctx.msg).map_err(bad_request)?;
    let open = ctx.open(id)?;
    ctx.session()?
        .opens
        .lock()
        .unwrap()
        .remove(&open.id.volatile);
    let deleted = finish(ctx.conn, &open).await;
    let stat = if flags & CLOSE_FLAG_POSTQUERY_ATTRIB != 0 && !deleted {
        match open.file() {
            Some(f) => f.stat().await.ok(),
            None => None,
        }
    } else {
        None
    };
    encode_close_response(out, stat.as_ref());
    Ok(Reply::Done(NtStatus::SUCCESS))
}

/// Ends an open already removed from its session: completes its pending notifications,
/// releases its share-mode claim and locks, and deletes the file if it was the last open of a
/// file pending deletion. Returns whether the file was deleted.
pub(crate) async fn finish(conn: &Connection, open: &Open) -> bool {
    super::notify::cancel_for_open(conn, open.id.volatile);
    let Some(entry) = &open.entry else {
        return false;
    };
    if open.delete_on_close.load(Ordering::Relaxed) {
        entry.set_delete_pending(true);
    }
    let remaining = entry.remove_holder(open.uid);
    let mut deleted = false;
    if remaining == 0
        && entry.delete_pending()
        && let Some(fs) = &open.share.vfs
    {
        // The file this open refers to, wherever a rename moved it; and only if the name
        // still names that file.
        let path = entry.path();
        match fs.stat(&path).await {
            Ok(st) if st.file_id == entry.file_id() => match fs.remove(&path).await {
                Ok(()) => deleted = true,
                Err(e) => tracing::info!(path = %path, error = %e, "delete on close failed"),
            },
            Ok(_) => tracing::info!(path = %path, "delete on close: the name is another file's"),
            Err(e) => tracing::info!(path = %path, error = %e, "delete on close failed"),
        }
    }
    conn.server.files.release(entry);
    deleted
}

/// Closes every open of a session, or of one of its trees, in the background.
pub(crate) fn close_all(conn: &Arc<Connection>, session: &Session, tree: Option<u32>) {
    let opens: Vec<Arc<Open>> = {
        let mut m = session.opens.lock().unwrap();
        let ids: Vec<u64> = m
            .iter()
            .filter(|(_, o)| tree.is_none_or(|t| o.tree_id == t))
            .map(|(k, _)| *k)
            .collect();
        ids.into_iter().filter_map(|k| m.remove(&k)).collect()
    };
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
