//! A blocking LOCK that waits for its range (MS-SMB2 3.3.5.14.2): answered at once with an
//! interim STATUS_PENDING and an async id, then completed by the first of
//!
//! - the range coming free (the file's entry grants waiters in arrival order): STATUS_SUCCESS;
//! - CANCEL: STATUS_CANCELLED;
//! - the close of the waiting open, also by TREE_DISCONNECT or LOGOFF: STATUS_RANGE_NOT_LOCKED
//!   (what Windows answers, and smbtorture smb2.lock.cancel expects);
//! - the end of the connection: no response.
//!
//! Whoever takes the operation out of the connection's pending table decides the status. A
//! lock granted to a wait that something else completed meanwhile is given back, so the client
//! holds a lock exactly when it was answered STATUS_SUCCESS.

use std::sync::Arc;

use tokio::sync::oneshot;

use super::interim::send_interim;
use super::lock::{encode_lock_response, record};
use super::{Ctx, HResult, Reply, send_async_final_as};
use crate::conn::{Connection, Pending};
use crate::proto::NtStatus;
use crate::proto::header::{Header, flags};
use crate::proto::session::encode_error;
use crate::state::files::{ByteLock, FileEntry, WaitEnd};
use crate::state::lock_sequence::SequenceSlot;
use crate::state::opens::Open;
use crate::state::session::SessionSecurity;

/// A lock request queued on its file: the waiter's id (also the request's async id), the lock
/// it waits for, and the receiver told when the wait ends.
pub(super) struct Wait {
    /// The waiter's id in the file's queue, and the async id of the request.
    pub(super) id: u64,
    /// The lock waited for.
    pub(super) lock: ByteLock,
    /// Told when the lock is granted, or the waiting open leaves the file.
    pub(super) granted: oneshot::Receiver<WaitEnd>,
}

/// Makes the request pending: registers it with the connection (within its cap of async
/// operations: beyond it the request fails with STATUS_INSUFFICIENT_RESOURCES and holds
/// nothing), sends the interim STATUS_PENDING, and leaves the wait to a task of its own.
pub(super) async fn pend(
    ctx: &Ctx<'_>,
    open: Arc<Open>,
    entry: Arc<FileEntry>,
    mut wait: Wait,
    slot: Option<SequenceSlot>,
) -> HResult {
    let (tx, complete) = oneshot::channel();
    let (answering, answered) = oneshot::channel();
    let pending = Pending {
        message_id: ctx.hdr.message_id,
        session_id: ctx.hdr.session_id,
        file_volatile: open.id.volatile,
        on_close: NtStatus::RANGE_NOT_LOCKED,
        complete: tx,
        answered,
    };
    let limits = &ctx.server().settings().limits;
    if let Err(status) = ctx.conn.add_pending(wait.id, pending, limits) {
        give_back(&entry, &mut wait);
        return Err(status);
    }
    let sec = ctx.security.clone();
    // The interim goes out before the wait can end, so the final response never overtakes it.
    send_interim(ctx.conn, &ctx.hdr, wait.id, sec.as_deref(), ctx.encrypted).await;
    let mut hdr = ctx.hdr.response(NtStatus::PENDING);
    hdr.flags |= flags::ASYNC_COMMAND;
    hdr.async_id = wait.id;
    if ctx.hdr.is_signed() {
        hdr.flags |= flags::SIGNED;
    }
    let waiting = Waiting {
        conn: ctx.conn.clone(),
        open,
        entry,
        wait,
        complete,
        slot,
        hdr,
        encrypted: ctx.encrypted,
        sec,
        _answering: answering,
    };
    tokio::spawn(waiting.run());
    Ok(Reply::InterimSent)
}

/// Ends a wait nobody will answer for: out of the queue, or, when it was granted meanwhile,
/// its lock given back.
fn give_back(entry: &FileEntry, wait: &mut Wait) {
    if !entry.cancel_wait(wait.id) && wait.granted.try_recv() == Ok(WaitEnd::Granted) {
        entry.release(&wait.lock);
    }
}

/// A pending lock request and what its final response needs.
struct Waiting {
    conn: Arc<Connection>,
    open: Arc<Open>,
    entry: Arc<FileEntry>,
    wait: Wait,
    /// The status CANCEL or a close completes the operation with.
    complete: oneshot::Receiver<NtStatus>,
    slot: Option<SequenceSlot>,
    /// The final response's header: async, with the request's ids.
    hdr: Header,
    encrypted: bool,
    /// The session's keys when the request arrived (the session may be gone by the end).
    sec: Option<Arc<SessionSecurity>>,
    /// Dropped with the wait, once its final response is queued ([`Pending::answered`]).
    _answering: oneshot::Sender<()>,
}

impl Waiting {
    /// Waits for the first ending and sends the final response, if one is due.
    async fn run(mut self) {
        let status = tokio::select! {
            end = &mut self.wait.granted => self.wait_ended(end.ok()).await,
            done = &mut self.complete => {
                give_back(&self.entry, &mut self.wait);
                done.ok()
            }
        };
        if status == Some(NtStatus::SUCCESS) {
            record(&self.open, self.slot);
        }
        send_final(&self.conn, self.hdr, status, self.encrypted, self.sec).await;
    }

    /// The file ended the wait (granted, or the open left): the status, if the operation was
    /// still pending; otherwise the status whoever took it completes it with, the lock given
    /// back.
    async fn wait_ended(&mut self, end: Option<WaitEnd>) -> Option<NtStatus> {
        let held = end == Some(WaitEnd::Granted);
        if self
            .conn
            .pending
            .lock()
            .unwrap()
            .remove(&self.wait.id)
            .is_some()
        {
            return Some(if held {
                NtStatus::SUCCESS
            } else {
                NtStatus::RANGE_NOT_LOCKED
            });
        }
        if held {
            self.entry.release(&self.wait.lock);
        }
        (&mut self.complete).await.ok()
    }
}

/// Sends the final response with `status` (none when the operation was abandoned).
async fn send_final(
    conn: &Connection,
    hdr: Header,
    status: Option<NtStatus>,
    encrypted: bool,
    sec: Option<Arc<SessionSecurity>>,
) {
    let Some(status) = status else {
        return;
    };
    let mut body = Vec::new();
    if status == NtStatus::SUCCESS {
        encode_lock_response(&mut body);
    } else {
        encode_error(&mut body);
    }
    send_async_final_as(conn, hdr, status, &body, encrypted, sec.as_deref()).await;
}
