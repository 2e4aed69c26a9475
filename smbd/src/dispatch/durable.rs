//! Durable opens across the loss of a connection (MS-SMB2 3.3.7.1): the opens to preserve stay
//! in the server's open table, disconnected, and a timer on the server's clock ends each one its
//! timeout after the loss unless a reconnect has taken it by then.

use std::sync::Arc;
use std::time::SystemTime;

use crate::conn::Connection;
use crate::state::ServerContext;
use crate::state::opens::Open;
use crate::state::session::Session;

/// The opens of `session`, whose last connection was lost: durable ones that may still be
/// reclaimed are preserved (and their expiry scheduled), the others end.
pub(crate) fn preserve_or_close(conn: &Arc<Connection>, session: &Session) {
    let server = &conn.server;
    let now = server.clock.now();
    let (kept, ended) = server.opens.preserve(session, now, may_preserve);
    for open in kept {
        // Change notify does not survive the connection (a reconnect starts again).
        server.notify.remove(open.uid);
        tracing::debug!(peer = %conn.peer, file = open.id.persistent, "durable open preserved");
        schedule_expiry(server.clone(), &open, now);
        if open.durability().is_some_and(|d| d.persistent) {
            let server = server.clone();
            tokio::spawn(async move { super::persistent::save(&server, &open).await });
        }
    }
    if !ended.is_empty() {
        let conn = conn.clone();
        tokio::spawn(async move {
            for o in ended {
                super::close::finish(&conn, &o).await;
            }
        });
    }
}

/// Whether a durable open is preserved when its connection is lost (MS-SMB2 3.3.7.1): a
/// resilient or persistent one always; another while it still holds the caching that made it
/// durable.
fn may_preserve(open: &Open) -> bool {
    open.resiliency().is_some()
        || open
            .durability()
            .is_some_and(|d| d.persistent || super::caching::keeps_durable(open))
}

/// Ends `open` when its durable timeout has passed since `since`, unless it was reconnected
/// (or ended) meanwhile.
fn schedule_expiry(server: Arc<ServerContext>, open: &Open, since: SystemTime) {
    let Some(d) = open.durability() else { return };
    let persistent = open.id.persistent;
    tokio::spawn(async move {
        server.clock.sleep(d.timeout).await;
        if let Some(o) = server.opens.expire(persistent, since) {
            tracing::debug!(file = persistent, "durable open expired");
            super::persistent::forget(&server, &o).await;
            o.end().await;
        }
    });
}

/// Schedules the expiry of an open restored disconnected (see [`schedule_expiry`]).
pub(crate) fn schedule_expiry_of(server: &Arc<ServerContext>, open: &Open) {
    if let Some(since) = open.disconnected_at() {
        schedule_expiry(server.clone(), open, since);
    }
}
