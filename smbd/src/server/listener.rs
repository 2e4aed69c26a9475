//! Accepts connections under a limit and stops on a shutdown signal.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Semaphore, broadcast};

use crate::state::ServerContext;

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
    let mut backoff = Duration::from_millis(5);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(x) => {
                backoff = Duration::from_millis(5);
                x
            }
            Err(e) => {
                // Out of descriptors and the like: wait and retry rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection limit reached; closing");
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
