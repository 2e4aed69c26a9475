//! The local admin socket (Unix, mode 0600): answers `status` and `status json` with the
//! session report, and `reload` by re-reading the keytabs.

use std::path::Path;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixListener;

use crate::state::ServerContext;

/// Longest command line accepted.
const MAX_LINE: usize = 256;

/// Binds the admin socket at `path` (replacing a stale one) and serves it in the background.
pub fn spawn(
    ctx: Arc<ServerContext>,
    path: &Path,
    on_reload: Arc<dyn Fn() -> String + Send + Sync>,
) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if path.exists() {
        std::fs::remove_file(path)?;
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let ctx = ctx.clone();
            let on_reload = on_reload.clone();
            tokio::spawn(async move {
                let (rd, mut wr) = stream.into_split();
                let mut line = String::new();
                let mut rd = BufReader::new(rd.take(MAX_LINE as u64));
                if rd.read_line(&mut line).await.is_err() {
                    return;
                }
                let reply = match line.trim() {
                    "status" => crate::status::sessions(&ctx)
                        .iter()
                        .map(|s| s.to_text())
                        .collect::<String>(),
                    "status json" => crate::status::sessions(&ctx)
                        .iter()
                        .map(|s| s.to_json() + "\n")
                        .collect(),
                    "opens" => crate::status::opens(&ctx)
                        .iter()
                        .map(|o| o.to_text())
                        .collect::<String>(),
                    "opens json" => crate::status::opens(&ctx)
                        .iter()
                        .map(|o| o.to_json() + "\n")
                        .collect(),
                    "reload" => on_reload(),
                    other => format!(
                        "unknown command {other:?}; try status, status json, opens, opens json or reload\n"
                    ),
                };
                let _ = wr.write_all(reply.as_bytes()).await;
                let _ = wr.shutdown().await;
            });
        }
    });
    Ok(())
}
