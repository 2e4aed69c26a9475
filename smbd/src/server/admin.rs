//! The local admin socket (Unix, mode 0600): one command line in, the reply out. `sessions`,
//! `opens` and `locks` followed by `json` (one object a line) or `table` give the report of
//! [`crate::status`]; `status`, `status json` and `opens` are the earlier spellings (session and
//! open blocks as text); `reload` re-reads the configuration ([`crate::reload`]).

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
                let reply = answer(&ctx, line.trim(), &*on_reload);
                let _ = wr.write_all(reply.as_bytes()).await;
                let _ = wr.shutdown().await;
            });
        }
    });
    Ok(())
}

/// The reply to one command line.
fn answer(
    ctx: &ServerContext,
    command: &str,
    on_reload: &(dyn Fn() -> String + Send + Sync),
) -> String {
    use crate::status;
    fn lines<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
        items.iter().map(|i| f(i) + "\n").collect()
    }
    match command {
        "status" => status::sessions(ctx).iter().map(|s| s.to_text()).collect(),
        "status json" | "sessions json" => lines(&status::sessions(ctx), |s| s.to_json()),
        "sessions table" => status::sessions_table(&status::sessions(ctx)),
        "opens" => status::opens(ctx).iter().map(|o| o.to_text()).collect(),
        "opens json" => lines(&status::opens(ctx), |o| o.to_json()),
        "opens table" => status::opens_table(&status::opens(ctx)),
        "locks json" => lines(&status::locks(ctx), |l| l.to_json()),
        "locks table" => status::locks_table(&status::locks(ctx)),
        "reload" => on_reload(),
        other => format!(
            "unknown command {other:?}; try status, sessions json|table, opens [json|table], \
             locks json|table or reload\n"
        ),
    }
}
