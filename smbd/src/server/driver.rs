//! One connection: reads length-framed messages (MS-SMB2 2.1 Direct TCP), hands each to the
//! dispatcher in its own task so many requests are in flight at once, and writes the replies.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, broadcast, mpsc};

use crate::conn::{Connection, Frame};
use crate::dispatch;
use crate::state::ServerContext;

/// Largest frame accepted: 16 MiB of payload plus headers.
const MAX_FRAME: usize = 16 * 1024 * 1024 + 64 * 1024;
/// Bytes the writer gathers small replies into; large frames bypass it. Kept small: it is
/// memory every idle connection holds.
const WRITE_BUFFER: usize = 16 * 1024;
/// Requests of one connection being processed at once.
const IN_FLIGHT: usize = 128;

/// Runs a connection until the peer closes it, it breaks the protocol, or the server stops.
pub(super) async fn run(
    ctx: Arc<ServerContext>,
    stream: TcpStream,
    peer: String,
    mut stop: broadcast::Receiver<()>,
) {
    tracing::debug!(%peer, "connected");
    let (mut rd, wr) = stream.into_split();
    let (tx, mut rx) = mpsc::channel::<Frame>(IN_FLIGHT);
    let conn = Arc::new(Connection::new(ctx.clone(), peer.clone(), tx));
    let conn_id = ctx.next_id();
    ctx.connections
        .lock()
        .unwrap()
        .insert(conn_id, Arc::downgrade(&conn));
    let (dead_tx, mut dead_rx) = mpsc::channel::<&'static str>(1);

    let writer = tokio::spawn(async move {
        let mut w = BufWriter::with_capacity(WRITE_BUFFER, wr);
        while let Some(frame) = rx.recv().await {
            let len = (frame.len() as u32).to_be_bytes();
            if w.write_all(&len).await.is_err() || w.write_all(frame.payload()).await.is_err() {
                break;
            }
            if rx.is_empty() && w.flush().await.is_err() {
                break;
            }
        }
        let _ = w.shutdown().await;
    });

    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let reason = loop {
        let mut len = [0u8; 4];
        let read = tokio::select! {
            r = rd.read_exact(&mut len) => r,
            _ = stop.recv() => break "server stopping",
            why = dead_rx.recv() => break why.unwrap_or("closed"),
        };
        if read.is_err() {
            break "peer closed";
        }
        let n = u32::from_be_bytes(len) as usize;
        if !(4..=MAX_FRAME).contains(&n) {
            break "frame length out of range";
        }
        let mut frame = vec![0u8; n];
        if rd.read_exact(&mut frame).await.is_err() {
            break "peer closed mid-frame";
        }
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break "closed";
        };
        let conn = conn.clone();
        let dead = dead_tx.clone();
        tokio::spawn(async move {
            if let Err(dispatch::Disconnect(why)) = dispatch::handle_frame(&conn, frame).await {
                tracing::info!(peer = %conn.peer, reason = why, "dropping connection");
                let _ = dead.try_send(why);
            }
            drop(permit);
        });
    };
    tracing::debug!(%peer, reason, "disconnected");
    ctx.connections.lock().unwrap().remove(&conn_id);
    dispatch::connection_closed(&conn);
    drop(conn);
    writer.abort();
}
