//! `peer-smb-server`: serves one folder through the `smb-server` crate's LocalFs backend, as
//! a comparison peer for `perf compare`.
//!
//! Usage: `peer-smb-server --listen 127.0.0.1:PORT --path DIR [--share NAME] [--user NAME]
//! [--password PW] [--max-connections N]`. Prints `listening on ADDR` once bound, then serves
//! until SIGTERM or SIGINT.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use smb_server::{Access, LocalFsBackend, Share, SmbServer};

const USAGE: &str = "usage: peer-smb-server --listen ADDR --path DIR [--share NAME] \
                     [--user NAME] [--password PW] [--max-connections N]";

/// The largest READ and WRITE the crate allows (8 MiB), so 8 MiB workloads are not split.
const MAX_IO: u32 = 8 << 20;

/// Command-line options.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    listen: SocketAddr,
    path: PathBuf,
    share: String,
    user: String,
    password: String,
    max_connections: usize,
}

/// Parses `args` (without the program name).
fn parse(args: &[String]) -> Result<Options, String> {
    let mut listen = None;
    let mut path = None;
    let mut o = Options {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        path: PathBuf::new(),
        share: "share".into(),
        user: "demo".into(),
        password: "demo".into(),
        max_connections: 20_000,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--listen" => {
                listen = Some(value.parse().map_err(|_| format!("bad address {value}"))?);
            }
            "--path" => path = Some(PathBuf::from(value)),
            "--share" => o.share = value.clone(),
            "--user" => o.user = value.clone(),
            "--password" => o.password = value.clone(),
            "--max-connections" => {
                o.max_connections = value.parse().map_err(|_| format!("bad number {value}"))?;
            }
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    o.listen = listen.ok_or(format!("--listen is required\n{USAGE}"))?;
    o.path = path.ok_or(format!("--path is required\n{USAGE}"))?;
    Ok(o)
}

/// Builds the server: one share, one user with read-write access.
fn build(o: &Options) -> Result<SmbServer, String> {
    let backend = LocalFsBackend::new(&o.path).map_err(|e| format!("{}: {e}", o.path.display()))?;
    SmbServer::builder()
        .listen(o.listen)
        .user(o.user.clone(), o.password.clone())
        .share(Share::new(o.share.clone(), backend).user(o.user.clone(), Access::ReadWrite))
        .max_connections(o.max_connections)
        .max_read_size(MAX_IO)
        .max_write_size(MAX_IO)
        .build()
        .map_err(|e| format!("building the server: {e}"))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let server = match build(&opts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    match server.bind().await {
        Ok(addr) => println!("listening on {addr}"),
        Err(e) => {
            eprintln!("bind {}: {e}", opts.listen);
            std::process::exit(1);
        }
    }
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("SIGTERM handler: {e}");
            std::process::exit(1);
        }
    };
    // A benchmark peer has nothing to save: stop at once on a signal.
    tokio::select! {
        r = server.serve() => {
            if let Err(e) = r {
                eprintln!("serve: {e}");
                std::process::exit(1);
            }
        }
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_the_options_with_defaults() {
        let o = parse(&args("--listen 127.0.0.1:4650 --path /tmp/x")).unwrap();
        assert_eq!(o.listen, "127.0.0.1:4650".parse().unwrap());
        assert_eq!(o.path, PathBuf::from("/tmp/x"));
        assert_eq!((o.share.as_str(), o.user.as_str()), ("share", "demo"));
        let o = parse(&args(
            "--listen 127.0.0.1:1 --path p --share s --user u --password w --max-connections 7",
        ))
        .unwrap();
        assert_eq!(
            (o.share, o.user, o.password),
            ("s".into(), "u".into(), "w".into())
        );
        assert_eq!(o.max_connections, 7);
    }

    #[test]
    fn rejects_bad_or_missing_options() {
        assert!(parse(&args("--path p")).is_err());
        assert!(parse(&args("--listen nowhere --path p")).is_err());
        assert!(parse(&args("--listen 127.0.0.1:1")).is_err());
        assert!(parse(&args("--listen 127.0.0.1:1 --path p --bogus 1")).is_err());
        assert!(parse(&args("--listen")).is_err());
    }
}
