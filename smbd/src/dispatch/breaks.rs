//! Sending oplock and lease breaks (MS-SMB2 3.3.4.6 Oplock Break Notification, 3.3.4.7 Lease
//! Break Notification) to the client that holds the caching, and ending the breaks nobody
//! acknowledges in time (the engine then downgrades the holder; see
//! [`crate::oplock::FileCaching::poll_timeout`]).

use std::sync::Arc;

use crate::conn::Connection;
use crate::oplock::{BreakNotice, Holder};
use crate::proto::header::{Command, Header, flags};
use crate::proto::oplock::OplockBreak;
use crate::state::ServerContext;
use crate::state::files::FileEntry;
use crate::state::opens::Open;

/// Sends `notices` (breaks decided on `entry`'s file); breaks that need an acknowledgment get
/// a timer on the server's clock. A break for an open whose connection is lost (a durable open
/// waiting for its client) cannot be delivered: that open is closed instead, so the open that
/// needs the break goes on (as Windows and Samba do).
pub(crate) fn send(server: &Arc<ServerContext>, entry: &Arc<FileEntry>, notices: Vec<BreakNotice>) {
    for n in notices {
        if n.ack_required {
            schedule_timeout(server.clone(), entry.clone());
        }
        let opens: Vec<Arc<Open>> = n
            .opens
            .iter()
            .filter_map(|id| server.opens.get(*id))
            .collect();
        if let Some(open) = opens.iter().find(|o| o.disconnected_at().is_none())
            && let Some(conn) = connection_of(server, open)
        {
            deliver(conn, open, &n);
            continue;
        }
        // A persistent handle waits for its client whatever breaks (the break times out).
        let lost: Vec<u64> = opens
            .iter()
            .filter(|o| o.disconnected_at().is_some())
            .filter(|o| !o.durability().is_some_and(|d| d.persistent))
            .map(|o| o.uid)
            .collect();
        if !lost.is_empty() {
            let ended = server.opens.purge_disconnected(|o| lost.contains(&o.uid));
            let server = server.clone();
            tokio::spawn(async move {
                for o in ended {
                    tracing::debug!(
                        file = o.id.persistent,
                        "durable open closed: a break could not reach it"
                    );
                    super::persistent::forget(&server, &o).await;
                    o.end().await;
                }
            });
        }
    }
}

/// The connection an open's notifications go to: the live channel its session was bound to
/// last, as Windows sends them (smbtorture smb2.multichannel.oplocks.test3_windows).
fn connection_of(server: &ServerContext, open: &Open) -> Option<Arc<Connection>> {
    let session = server.sessions.get(open.session_id)?;
    session.bound_channels().into_iter().rev().find_map(|id| {
        server
            .channels
            .get(id)
            .and_then(|c| c.into_any().downcast::<Connection>().ok())
    })
}

/// Builds and sends one notification on `conn` (unsigned; sealed when the session encrypts).
fn deliver(conn: Arc<Connection>, open: &Open, n: &BreakNotice) {
    let hdr = Header {
        credit_charge: 0,
        status: 0,
        command: Command::OplockBreak,
        credits: 0,
        flags: flags::SERVER_TO_REDIR,
        next_command: 0,
        message_id: u64::MAX,
        async_id: 0,
        tree_id: 0,
        session_id: 0,
        signature: [0; 16],
    };
    let mut msg = Vec::with_capacity(super::REPLY_HEADROOM + 64 + 44);
    msg.resize(super::REPLY_HEADROOM, 0);
    hdr.encode(&mut msg);
    match (n.holder, n.lease_notification()) {
        (Holder::Lease(_), Some(body)) => body.encode(&mut msg),
        _ => OplockBreak {
            level: n.oplock_level(),
            file_id: open.id,
        }
        .encode(&mut msg),
    }
    let encrypt = conn
        .session(open.session_id)
        .and_then(|s| s.security_on(conn.id))
        .is_some_and(|s| s.encrypt_data);
    let frame = if encrypt {
        super::protect::seal(&conn, open.session_id, msg, super::REPLY_HEADROOM)
    } else {
        Some(crate::conn::Frame::with_headroom(
            msg,
            super::REPLY_HEADROOM,
        ))
    };
    tracing::debug!(peer = %conn.peer, file = open.id.persistent, holder = ?n.holder, from = %n.from, to = %n.to, "break sent");
    if let Some(frame) = frame {
        tokio::spawn(async move {
            let _ = conn.out.send(frame).await;
        });
    }
}

/// After the break timeout, downgrades what was not acknowledged and wakes the file's waiters.
fn schedule_timeout(server: Arc<ServerContext>, entry: Arc<FileEntry>) {
    let timeout = entry.caching(false, |c, _| c.timeout());
    tokio::spawn(async move {
        server.clock.sleep(timeout).await;
        let now = server.clock.now();
        let expired = entry.caching(true, |c, _| c.poll_timeout(now));
        for e in expired {
            tracing::info!(holder = ?e.holder, from = %e.from, "break not acknowledged in time: downgraded");
        }
    });
}
