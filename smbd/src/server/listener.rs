//! Accepts connections under a limit and stops on a shutdown signal.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Semaphore, broadcast};

use crate::state::ServerContext;

/// The first wait after a failed accept, doubled while they fail, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Whether an accept failed for that one connection only (its peer reset it in the backlog),
/// rather than for a shortage of descriptors or memory that would fail the next one too.
fn peer_gone(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionReset, Interrupted};
    matches!(e.kind(), ConnectionAborted | ConnectionReset | Interrupted)
}

/// How the listener runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Most connections at once; more are closed as they arrive.
    pub max_connections: usize,
}

/// Serves connections from `listener` until `shutdown` completes, then closes every connection
/// and waits (up to 5 s) for them to end.
pub async fn serve(
    ctx: Arc<ServerContext>,
    listener: TcpListener,
    opts: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let limit = Arc::new(Semaphore::new(opts.max_connections));
    let (stop_tx, _) = broadcast::channel::<()>(1);
    let mut backoff = FIRST_BACKOFF;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(x) => {
                backoff = FIRST_BACKOFF;
                x
            }
            // A connection that went away before it was taken: take the next one.
            Err(e) if peer_gone(&e) => continue,
            Err(e) => {
                // Out of descriptors (EMFILE, ENFILE) or memory: the pending connections stay
                // in the kernel's backlog, so wait for some to be freed rather than spin. Only
                // this loop waits; the connections already served go on.
                tracing::warn!(error = %e, retry_in = ?backoff, "accept failed");
                tokio::select! {
                    _ = &mut shutdown => break,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection limit reached; closing");
            ctx.metrics.refused(crate::metrics::Refusal::Connections);
            drop(stream);
            continue;
        };
        // Socket buffers are left to the kernel (SO_RCVBUF/SO_SNDBUF unset, so autotuning stays
        // on: net.ipv4.tcp_rmem/tcp_wmem, 128 KiB / 16 KiB to start on Debian). They are kernel
        // memory, charged only for bytes actually queued, so an idle connection costs its
        // socket structures there and none of this process's private memory.
        let _ = stream.set_nodelay(true);
        let ctx = ctx.clone();
        let stop = stop_tx.subscribe();
        tokio::spawn(async move {
            super::driver::run(ctx, stream, peer.to_string(), stop).await;
            drop(permit);
        });
    }
    tracing::info!("shutting down");
    let _ = stop_tx.send(());
    let all = opts.max_connections.min(u32::MAX as usize) as u32;
    let _ = tokio::time::timeout(Duration::from_secs(5), limit.acquire_many(all)).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    #[test]
    fn only_a_shortage_makes_the_listener_wait() {
        // EMFILE, ENFILE, ENOBUFS, ENOMEM.
        for errno in [24, 23, 105, 12] {
            assert!(
                !peer_gone(&Error::from_raw_os_error(errno)),
                "errno {errno}"
            );
        }
        for kind in [ErrorKind::ConnectionAborted, ErrorKind::ConnectionReset] {
            assert!(peer_gone(&Error::from(kind)));
        }
    }
}
