//! The `smbd` binary: `smbd --config FILE`, or `smbd --quick-start [--port N] [--share DIR]
//! [--state DIR]` to serve a local folder with a demo account. The command line is
//! [`smbd::cli::Cli`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mimalloc::MiMalloc;
use smbd::cli::Cli;
use smbd::config::{self, Config};

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

/// The configuration the command line names, a hint to print once listening, and the file
/// it came from (none for a quick start).
fn configure(cli: Cli) -> Result<(Config, Option<String>, Option<PathBuf>), String> {
    if cli.quick_start {
        let share = cli.share;
        std::fs::create_dir_all(&share).map_err(|e| format!("{}: {e}", share.display()))?;
        let share = share
            .canonicalize()
            .map_err(|e| format!("{}: {e}", share.display()))?;
        let state = cli
            .state
            .unwrap_or_else(|| share.with_file_name(".smbd-demo-state"));
        let port = cli.port;
        let cfg = Config::quick_start(share, state, port);
        let hint =
            format!("connect with: smbclient //127.0.0.1/share -p {port} -U demo%demo -m SMB3_11");
        return Ok((cfg, Some(hint), None));
    }
    let path = cli.config.ok_or("give --config FILE or --quick-start")?;
    let cfg = Config::load(&path).map_err(|e| e.to_string())?;
    cfg.check_paths().map_err(|e| e.to_string())?;
    Ok((cfg, None, Some(path)))
}

fn main() -> ExitCode {
    let (cfg, hint, path) = match configure(Cli::parse()) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("smbd: {e}");
            return ExitCode::from(2);
        }
    };
    let set_log_level = init_logging(&cfg.log_level);
    raise_descriptor_limit(cfg.max_connections);
    let guid = match config::load_or_create_server_guid(&cfg.state_dir) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("state directory {}: {e}", cfg.state_dir.display());
            return ExitCode::FAILURE;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        let built = smbd::setup::build_server(&cfg, guid)?;
        let ctx = built.ctx;
        smbd::dispatch::persistent::restore(&ctx).await;
        let reloader = smbd::reload::Reloader::new(path, cfg.clone(), guid, built.replay, set_log_level);
        let reload: std::sync::Arc<dyn Fn() -> String + Send + Sync> = {
            let ctx = ctx.clone();
            std::sync::Arc::new(move || {
                smbd::service::reloading();
                let outcome = match reloader.reload(&ctx) {
                    Ok(applied) => {
                        let line = applied.summary();
                        tracing::info!("{line}");
                        line + "\n"
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "configuration reload refused; the running one stays");
                        format!("reload refused, the running configuration stays: {e}\n")
                    }
                };
                smbd::service::reloaded(&outcome);
                outcome
            })
        };
        let admin = cfg.admin_socket_path();
        if let Err(e) = smbd::server::admin::spawn(ctx.clone(), &admin, reload.clone()) {
            eprintln!(
                "smbd: admin socket {}: {e} (status unavailable)",
                admin.display()
            );
        }
        if let Some(at) = cfg.metrics_listen {
            let bound = smbd::metrics::endpoint::start(ctx.clone(), at).await?;
            eprintln!("smbd: metrics on http://{bound}/metrics");
        }
        tokio::spawn(reload_on_sighup(reload));
        let listener = listen(cfg.listen)?;
        let addr = listener.local_addr()?;
        eprintln!("smbd: listening on {addr}");
        smbd::service::ready(addr);
        if let Some(h) = hint {
            eprintln!("smbd: {h}");
        }
        let opts = smbd::server::ServeOptions {
            max_connections: cfg.max_connections,
        };
        smbd::server::serve(ctx, listener, opts, shutdown_signal()).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smbd: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr (the journal under systemd; colours only on a terminal) at `RUST_LOG`, else
/// at the configured level; returns how a reload changes the level (none when `RUST_LOG`
/// decides it).
fn init_logging(level: &str) -> Option<smbd::reload::LogLevelSetter> {
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let from_env = EnvFilter::try_from_default_env().ok();
    let fixed = from_env.is_some();
    let filter = from_env.unwrap_or_else(|| EnvFilter::new(level));
    let (filter, handle) = tracing_subscriber::reload::Layer::new(filter);
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
        )
        .init();
    if fixed {
        return None;
    }
    Some(Box::new(move |level: &str| {
        let filter = EnvFilter::try_new(level).map_err(|e| format!("log_level {level:?}: {e}"))?;
        handle.reload(filter).map_err(|e| e.to_string())
    }))
}

/// Listens on `addr` with a backlog of 4096 connections waiting to be accepted (the kernel
/// caps it at net.core.somaxconn), so a burst of connects is not dropped as tokio's default
/// backlog would, each dropped one waiting a second for its SYN to be sent again.
fn listen(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

/// Raises the soft limit on open descriptors to the hard limit: every connection and every
/// open file holds one, and the usual soft limit (1024) is far below `max_connections`.
fn raise_descriptor_limit(max_connections: usize) {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => {
            tracing::debug!(limit, "open descriptor limit");
            if limit < max_connections as u64 + 64 {
                tracing::warn!(
                    limit,
                    max_connections,
                    "the open descriptor limit is below max_connections; accepts will fail \
                     with EMFILE before the connection limit is reached"
                );
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot raise the open descriptor limit"),
    }
}

/// Re-reads the whole configuration on every SIGHUP (`systemctl reload smbd`).
async fn reload_on_sighup(reload: std::sync::Arc<dyn Fn() -> String + Send + Sync>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        return;
    };
    while hup.recv().await.is_some() {
        tracing::info!("SIGHUP: {}", reload().trim());
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    smbd::service::stopping();
}
