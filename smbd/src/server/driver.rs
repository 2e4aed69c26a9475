//! One connection: reads length-framed messages (MS-SMB2 2.1 Direct TCP) and hands each to the
//! dispatcher in its own task, so many requests are in flight at once. Replies are written by
//! the tasks themselves through the connection's [`Outbox`]: an idle connection holds this
//! task's small future, the connection state and nothing else.

use std::sync::{Arc, OnceLock};

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, Semaphore, broadcast};

use crate::conn::{Connection, Outbox};
use crate::dispatch;
use crate::state::ServerContext;

/// Largest frame accepted: 16 MiB of payload plus headers.
const MAX_FRAME: usize = 16 * 1024 * 1024 + 64 * 1024;
/// Requests of one connection being processed at once.
const IN_FLIGHT: usize = 128;

/// What the reader shares with the request tasks it spawns.
struct Tasks {
    /// One permit per request in flight.
    slots: Semaphore,
    /// Why a request task asked to drop the connection (the first reason wins).
    why: OnceLock<&'static str>,
    /// Wakes the reader when `why` is set.
    dead: Notify,
}

impl Tasks {
    /// Asks the reader to drop the connection.
    fn disconnect(&self, why: &'static str) {
        let _ = self.why.set(why);
        self.dead.notify_one();
    }
}

/// A request's place among those in flight, given back when its task ends (even by panic).
/// The permit lives here rather than as an `OwnedSemaphorePermit` so the semaphore can share
/// one allocation with the rest of [`Tasks`].
struct Slot(Arc<Tasks>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.slots.add_permits(1);
    }
}

/// Reads a frame of exactly `n` bytes into the spare capacity of a new buffer: no zeroing
/// of memory that is overwritten at once (a WRITE frame can be megabytes).
async fn read_frame(rd: &mut (impl AsyncRead + Unpin), n: usize) -> std::io::Result<Vec<u8>> {
    let mut frame = Vec::with_capacity(n);
    while frame.len() < n {
        let want = (n - frame.len()) as u64;
        // `take` keeps the read inside this frame and inside the buffer's capacity.
        if (&mut *rd).take(want).read_buf(&mut frame).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
    }
    Ok(frame)
}

/// Runs a connection until the peer closes it, it breaks the protocol, or the server stops.
pub(super) async fn run(
    ctx: Arc<ServerContext>,
    stream: TcpStream,
    peer: String,
    mut stop: broadcast::Receiver<()>,
) {
    tracing::debug!(%peer, "connected");
    let (mut rd, wr) = stream.into_split();
    let conn = Arc::new(Connection::new(ctx.clone(), peer, Outbox::tcp(wr, &ctx.settings.limits)));
    let conn_id = ctx.next_id();
    ctx.connections
        .lock()
        .unwrap()
        .insert(conn_id, Arc::downgrade(&conn));
    let tasks = Arc::new(Tasks {
        slots: Semaphore::new(IN_FLIGHT),
        why: OnceLock::new(),
        dead: Notify::new(),
    });

    let reason = loop {
        let mut len = [0u8; 4];
        let read = tokio::select! {
            r = rd.read_exact(&mut len) => r,
            _ = stop.recv() => break "server stopping",
            _ = tasks.dead.notified() => break tasks.why.get().copied().unwrap_or("closed"),
        };
        if read.is_err() {
            break "peer closed";
        }
        let n = u32::from_be_bytes(len) as usize;
        if !(4..=MAX_FRAME).contains(&n) {
            break "frame length out of range";
        }
        let Ok(frame) = read_frame(&mut rd, n).await else {
            break "peer closed mid-frame";
        };
        let Ok(permit) = tasks.slots.acquire().await else {
            break "closed";
        };
        permit.forget();
        let slot = Slot(tasks.clone());
        let conn = conn.clone();
        tokio::spawn(async move {
            if let Err(dispatch::Disconnect(why)) = dispatch::handle_frame(&conn, frame).await {
                tracing::info!(peer = %conn.peer, reason = why, "dropping connection");
                slot.0.disconnect(why);
            }
            drop(slot);
        });
    };
    tracing::debug!(peer = %conn.peer, reason, "disconnected");
    ctx.connections.lock().unwrap().remove(&conn_id);
    dispatch::connection_closed(&conn);
    conn.out.close();
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn frames_are_read_whole_and_never_past_their_length() {
        let (mut tx, mut rx) = tokio::io::duplex(64);
        let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let sent = data.clone();
        let writer = tokio::spawn(async move {
            tx.write_all(&sent).await.unwrap();
            tx.write_all(&[1, 2]).await.unwrap();
        });
        let frame = read_frame(&mut rx, 1000).await.unwrap();
        assert_eq!(frame, data);
        assert_eq!(frame.capacity(), 1000);
        // The next frame's bytes stay in the stream.
        let next = read_frame(&mut rx, 2).await.unwrap();
        assert_eq!(next, [1, 2]);
        writer.await.unwrap();
        // A peer gone mid-frame is an error, not a short frame.
        assert!(read_frame(&mut rx, 5).await.is_err());
    }
}
