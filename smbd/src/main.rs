//! The `smbd` binary: `smbd --config FILE`, or `smbd --quick-start [--port N] [--share DIR]
//! [--state DIR]` to serve a local folder with a demo account. The command line is
//! [`smbd::cli::Cli`].

use std::process::ExitCode;

use clap::Parser;
use mimalloc::MiMalloc;
use smbd::cli::Cli;
use smbd::config::{self, Config};

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

/// The configuration the command line names, and a hint to print once listening.
fn configure(cli: Cli) -> Result<(Config, Option<String>), String> {
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
        return Ok((cfg, Some(hint)));
    }
    let path = cli.config.ok_or("give --config FILE or --quick-start")?;
    let cfg = Config::load(&path).map_err(|e| e.to_string())?;
    cfg.check_paths().map_err(|e| e.to_string())?;
    Ok((cfg, None))
}

fn main() -> ExitCode {
    let (cfg, hint) = match configure(Cli::parse()) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("smbd: {e}");
            return ExitCode::from(2);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cfg.log_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
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
        let (ctx, keytab) = smbd::setup::build_with_keytab(&cfg, guid)?;
        smbd::dispatch::persistent::restore(&ctx).await;
        let reload: std::sync::Arc<dyn Fn() -> String + Send + Sync> = {
            let keytab = keytab.clone();
            std::sync::Arc::new(move || match &keytab {
                Some(k) => match k.reload() {
                    Ok(()) => "keytabs reloaded\n".to_string(),
                    Err(e) => format!("keytab reload failed: {e:?}\n"),
                },
                None => "no keytabs configured\n".to_string(),
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

/// Re-reads the keytabs on every SIGHUP (key rotation without a restart).
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
}
