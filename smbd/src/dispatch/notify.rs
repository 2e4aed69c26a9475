//! CHANGE_NOTIFY (MS-SMB2 3.3.5.19, MS-FSA 2.1.5.11): reports changes below an open directory.
//!
//! The first request on a directory starts its watch (`state::notify`), with that request's
//! filter, WATCH_TREE and buffer size; changes are buffered from then on, between requests too.
//! A request finds buffered changes and is answered at once, or goes async (STATUS_PENDING)
//! until a change arrives, CANCEL (STATUS_CANCELLED), the close of its directory, TREE_DISCONNECT
//! or LOGOFF (STATUS_NOTIFY_CLEANUP). Changes that do not fit its buffer answer
//! STATUS_NOTIFY_ENUM_DIR with no data.

use std::sync::Arc;

use tokio::sync::oneshot;

use super::{Ctx, HResult, Reply, bad_request};
use crate::access::FILE_READ_DATA as FILE_LIST_DIRECTORY;
use crate::conn::{Connection, Pending};
use crate::proto::NtStatus;
use crate::proto::dir::{
    ChangeNotifyRequest, WATCH_TREE, encode_buffer_response, encode_notify_information,
};
use crate::proto::header::{Header, flags};
use crate::proto::session::encode_error;
use crate::state::notify::{DirWatch, Taken};
use crate::state::opens::Open;

/// CHANGE_NOTIFY.
pub(crate) async fn change_notify(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    let req = ChangeNotifyRequest::decode(ctx.msg).map_err(bad_request)?;
    if req.output_len > ctx.server().settings().max_transact {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    ctx.check_charge(0, req.output_len as usize)?;
    let open = match ctx.open(req.file_id) {
        // A CLOSE sent after this request overtook it (frames run concurrently): the request
        // is answered as if it had been pending when the directory closed.
        Err(NtStatus::FILE_CLOSED)
            if ctx
                .conn
                .closed_after(req.file_id.volatile, ctx.hdr.message_id) =>
        {
            return Err(NtStatus::NOTIFY_CLEANUP);
        }
        other => other?,
    };
    if !open.is_dir {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if open.access & FILE_LIST_DIRECTORY == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let watch = watch_of(ctx, &open, &req).await;
    // Requests on one directory get its changes in the client's order, though frames run
    // concurrently: the first waiting one (by MessageId) takes them.
    let id = ctx.hdr.message_id;
    watch.enqueue(id);
    earlier_requests_arrive(ctx.conn, id).await;
    if watch.is_first(id)
        && let Some(taken) = watch.take(req.output_len)
    {
        watch.dequeue(id);
        return answer_now(taken, out);
    }
    let r = go_async(ctx, &open, watch.clone(), req.output_len);
    if r.is_err() {
        watch.dequeue(id);
    }
    r
}

/// Lets the requests the client sent before `id` (a CHANGE_NOTIFY on the same directory, say)
/// reach their handlers first, for a while.
async fn earlier_requests_arrive(conn: &Connection, id: u64) {
    for _ in 0..100 {
        if conn.credits.lock().unwrap().used_all_before(id) {
            break;
        }
        tokio::task::yield_now().await;
    }
    tokio::task::yield_now().await;
}

/// The open's watch, started by its first request.
async fn watch_of(ctx: &Ctx<'_>, open: &Open, req: &ChangeNotifyRequest) -> Arc<DirWatch> {
    let table = &ctx.server().notify;
    if let Some(w) = table.get(open.uid) {
        return w;
    }
    let recursive = req.flags & WATCH_TREE != 0;
    let w = DirWatch::new(req.filter, recursive, req.output_len);
    if let Some(fs) = &open.share.vfs {
        match fs.watch(&open.path(), recursive, w.sink()).await {
            Ok(v) => w.attach(v),
            // The directory vanished: a watch that never reports, as the request still waits.
            Err(e) => tracing::debug!(path = %open.path(), error = %e, "change notify: no watch"),
        }
    }
    let w = table.insert(open.uid, w);
    // A directory already being deleted answers at once. Checked after the watch is in the
    // table, so a close that makes it delete-pending either happened before (seen here) or
    // finds the watch and marks it (dispatch/close.rs): a CHANGE_NOTIFY overtaken by the
    // rmdir sent after it no longer waits forever (smbtorture smb2.notify.rmdir2).
    if open.entry.as_ref().is_some_and(|e| e.delete_pending()) {
        w.delete_pending();
    }
    w
}

/// A synchronous answer from what was buffered.
fn answer_now(taken: Taken, out: &mut Vec<u8>) -> HResult {
    match taken {
        Taken::EnumDir => Err(NtStatus::NOTIFY_ENUM_DIR),
        Taken::DeletePending => Err(NtStatus::DELETE_PENDING),
        Taken::Changes(c) => {
            let data = encode_notify_information(c.iter().map(|r| (r.action, r.name.as_str())));
            encode_buffer_response(out, &data);
            Ok(Reply::Done(NtStatus::SUCCESS))
        }
    }
}

/// Answers STATUS_PENDING and waits in a task for a change or for completion by another way.
fn go_async(ctx: &mut Ctx<'_>, open: &Open, watch: Arc<DirWatch>, output_len: u32) -> HResult {
    let async_id = ctx.conn.server.next_id();
    let (tx, rx) = oneshot::channel();
    let (answering, answered) = oneshot::channel();
    let pending = Pending {
        message_id: ctx.hdr.message_id,
        session_id: ctx.hdr.session_id,
        file_volatile: open.id.volatile,
        on_close: NtStatus::NOTIFY_CLEANUP,
        complete: tx,
        answered,
    };
    ctx.conn
        .add_pending(async_id, pending, &ctx.conn.server.settings().limits)?;
    // A CANCEL that came while the watch was starting found nothing pending: it left a permit.
    // A close meanwhile found nothing to complete.
    let late = if cancelled_meanwhile(ctx) {
        Some(NtStatus::CANCELLED)
    } else if ctx.server().opens.get(open.id.persistent).is_none() {
        Some(NtStatus::NOTIFY_CLEANUP)
    } else {
        None
    };
    if let Some(status) = late
        && ctx.conn.pending.lock().unwrap().remove(&async_id).is_some()
    {
        return Err(status);
    }
    let mut hdr = ctx.hdr.response(NtStatus::PENDING);
    hdr.flags |= flags::ASYNC_COMMAND;
    hdr.async_id = async_id;
    if ctx.hdr.is_signed() {
        hdr.flags |= flags::SIGNED;
    }
    let waiter = Waiter {
        conn: ctx.conn.clone(),
        hdr,
        encrypted: ctx.encrypted,
        async_id,
        output_len,
        _answering: answering,
    };
    tokio::spawn(waiter.run(watch, rx));
    Ok(Reply::Pending(async_id))
}

/// Whether a CANCEL named the request before it was pending.
fn cancelled_meanwhile(ctx: &Ctx<'_>) -> bool {
    let Some(signal) = &ctx.cancel else {
        return false;
    };
    let notified = signal.notified();
    tokio::pin!(notified);
    // A stored permit completes the first poll.
    notified.as_mut().enable()
}

/// A request gone async.
struct Waiter {
    conn: Arc<Connection>,
    hdr: Header,
    encrypted: bool,
    async_id: u64,
    output_len: u32,
    /// Dropped with the waiter, once its final response is queued ([`Pending::answered`]).
    _answering: oneshot::Sender<()>,
}

impl Waiter {
    /// Waits; the request was queued on the watch by the handler and leaves the queue here.
    async fn run(self, watch: Arc<DirWatch>, rx: oneshot::Receiver<NtStatus>) {
        self.wait(&watch, rx).await;
        watch.dequeue(self.hdr.message_id);
    }

    async fn wait(&self, watch: &DirWatch, mut rx: oneshot::Receiver<NtStatus>) {
        loop {
            let notified = watch.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let first = watch.is_first(self.hdr.message_id);
            if let Some(taken) = first.then(|| watch.take(self.output_len)).flatten() {
                // Claim the request; if CANCEL or a close completed it meanwhile, the changes
                // stay for the next one.
                if self
                    .conn
                    .pending
                    .lock()
                    .unwrap()
                    .remove(&self.async_id)
                    .is_some()
                {
                    self.answer(taken).await;
                    return;
                }
                watch.put_back(taken);
                break;
            }
            tokio::select! {
                r = &mut rx => {
                    // Dropped without a status: the connection closed, no late response.
                    if let Ok(status) = r {
                        self.fail(status).await;
                    }
                    return;
                }
                () = &mut notified => {}
            }
        }
        if let Ok(status) = rx.await {
            self.fail(status).await;
        }
    }

    async fn answer(&self, taken: Taken) {
        let mut body = Vec::new();
        match answer_now(taken, &mut body) {
            Ok(_) => self.send(NtStatus::SUCCESS, &body).await,
            Err(status) => self.fail(status).await,
        }
    }

    async fn fail(&self, status: NtStatus) {
        let mut body = Vec::new();
        encode_error(&mut body);
        self.send(status, &body).await;
    }

    async fn send(&self, status: NtStatus, body: &[u8]) {
        super::send_async_final(&self.conn, self.hdr.clone(), status, body, self.encrypted).await;
    }
}
