//! `perf`: a load generator for SMB2/3 servers with its own lean async client.
//!
//! Commands:
//! - `perf smoke --server-bin target/release/smbd`: every workload briefly against our server,
//!   data checked; exits non-zero on any error.
//! - `perf compare --server-bin target/release/smbd [--secs S] [--file-mib N] [--many N]
//!   [--samba-many N] [--smb-server-many N] [--peers samba,smb-server] [--smb-server-bin PATH]
//!   [--out DIR] [--only TEXT] [--multichannel]`: every workload against our server and the
//!   peers (a private Samba and the `smb-server` crate), alternating, with ratios ours/peer and
//!   ceilings; with `--multichannel`, the multichannel set instead (one client, 1 MiB
//!   sequential I/O over 1, 2 and 4 channels of one session, plain and aes128gcm).
//! - `perf ceilings`: loopback TCP, AES-GCM and the generator's own ceiling.
//!
//! See perf/README.md.

use std::path::{Path, PathBuf};
use std::time::Duration;

use perf::client::{ClientConfig, Security};
use perf::stats::Outcome;
use perf::workloads::{Env, Kind, Workload};
use perf::{ceilings, report, servers, workloads};
use smbd::crypto::{Cipher, SigningAlgorithm};

const USAGE: &str = "usage:\n  perf smoke --server-bin PATH\n  perf compare --server-bin PATH \
                     [--secs S] [--file-mib N] [--many N] [--samba-many N] [--smb-server-many N] \
                     [--peers samba,smb-server|none] [--smb-server-bin PATH] [--out DIR] \
                     [--only TEXT] [--ours-ca] [--multichannel]\n  perf ceilings";

/// The peers `compare` knows, in the order they run.
const PEERS: [&str; 2] = ["samba", servers::SMB_SERVER];

/// Parsed command-line options.
#[derive(Debug, Clone)]
struct Options {
    command: String,
    server_bin: PathBuf,
    secs: f64,
    file_mib: u64,
    many: usize,
    samba_many: usize,
    smb_server_many: Option<usize>,
    peers: Vec<String>,
    smb_server_bin: Option<PathBuf>,
    out: PathBuf,
    only: Option<String>,
    /// Our share is continuously available (every write on stable storage before its reply).
    ours_ca: bool,
    /// Run the multichannel set ([`workloads::multichannel`]) instead of the standard one.
    multichannel: bool,
}

/// Parses `--peers`: comma-separated names from [`PEERS`], or "none".
fn parse_peers(v: &str) -> Result<Vec<String>, String> {
    if v == "none" || v.is_empty() {
        return Ok(Vec::new());
    }
    v.split(',')
        .map(|p| {
            let p = p.trim();
            if PEERS.contains(&p) {
                Ok(p.to_string())
            } else {
                Err(format!("unknown peer {p} (known: {})", PEERS.join(", ")))
            }
        })
        .collect()
}

fn parse_args() -> Result<Options, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut o = Options {
        command: args.first().cloned().ok_or(USAGE)?,
        server_bin: PathBuf::from("target/release/smbd"),
        secs: 2.0,
        file_mib: 1024,
        many: 10_000,
        samba_many: 1000,
        smb_server_many: None,
        peers: PEERS.iter().map(|p| p.to_string()).collect(),
        smb_server_bin: None,
        out: PathBuf::from("perf-results"),
        only: None,
        ours_ca: false,
        multichannel: false,
    };
    let mut i = 1;
    while i < args.len() {
        if args[i] == "--ours-ca" {
            o.ours_ca = true;
            i += 1;
            continue;
        }
        if args[i] == "--multichannel" {
            o.multichannel = true;
            i += 1;
            continue;
        }
        let value = args
            .get(i + 1)
            .cloned()
            .ok_or(format!("{} needs a value", args[i]))?;
        let num = |v: &str| v.parse::<f64>().map_err(|_| format!("bad number {v}"));
        match args[i].as_str() {
            "--server-bin" => o.server_bin = PathBuf::from(value),
            "--secs" => o.secs = num(&value)?,
            "--file-mib" => o.file_mib = num(&value)? as u64,
            "--many" => o.many = num(&value)? as usize,
            "--samba-many" => o.samba_many = num(&value)? as usize,
            "--smb-server-many" => o.smb_server_many = Some(num(&value)? as usize),
            "--peers" => o.peers = parse_peers(&value)?,
            "--smb-server-bin" => o.smb_server_bin = Some(PathBuf::from(value)),
            "--out" => o.out = PathBuf::from(value),
            "--only" => o.only = Some(value),
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
        i += 2;
    }
    Ok(o)
}

fn main() {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tokio: {e}");
            std::process::exit(2);
        }
    };
    let code = rt.block_on(async {
        match opts.command.as_str() {
            "smoke" => smoke(&opts).await,
            "compare" => compare(&opts).await,
            "ceilings" => {
                let c = measure_ceilings(Duration::from_secs(1)).await;
                print_ceilings(&c);
                0
            }
            _ => {
                eprintln!("{USAGE}");
                2
            }
        }
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    std::process::exit(code);
}

fn temp_dir(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("perf-{tag}-{}", std::process::id()))
}

fn client_config(addr: std::net::SocketAddr) -> ClientConfig {
    ClientConfig {
        addr,
        share: servers::SHARE.into(),
        user: servers::USER.into(),
        password: servers::PASSWORD.into(),
        domain: String::new(),
        dialect: 0x0311,
        security: Security::Plain,
        verify: true,
        multichannel: false,
    }
}

/// The machine, for reports: CPU model, cores, memory, OS.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1_048_576.0);
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("PRETTY_NAME=")).map(|l| {
                l.trim_start_matches("PRETTY_NAME=")
                    .trim_matches('"')
                    .to_string()
            })
        })
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, {mem_gib:.0} GiB, {os}")
}

/// Runs a workload against one server.
async fn run_one(env: &Env, w: &Workload, sec: Security, server: &str) -> Outcome {
    workloads::run(env, w, sec, server).await
}

fn securities_full() -> Vec<Security> {
    vec![
        Security::Plain,
        Security::Signed(SigningAlgorithm::AesGmac),
        Security::Encrypted(Cipher::Aes128Gcm),
        Security::Encrypted(Cipher::Aes256Gcm),
    ]
}

/// The protections of the multichannel set: unprotected, and sealed with the session's keys
/// on every channel.
fn securities_multichannel() -> Vec<Security> {
    vec![Security::Plain, Security::Encrypted(Cipher::Aes128Gcm)]
}

async fn smoke(opts: &Options) -> i32 {
    let work = temp_dir("smoke");
    let share = work.join("share");
    if let Err(e) = std::fs::create_dir_all(&share) {
        eprintln!("{}: {e}", share.display());
        return 1;
    }
    let server = match servers::start_ours(&opts.server_bin, &share, &work, false) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("starting our server: {e}");
            return 1;
        }
    };
    let mut env = Env {
        client: client_config(server.addr),
        share_dir: share.clone(),
        subdir: "bench".into(),
        file_size: 8 << 20,
        list_entries: 2000,
        many: 50,
        duration: Duration::from_secs(3),
        max_ops: Some(200),
        max_bytes: Some(32 << 20),
        verify: true,
        server_pid: Some(server.pid()),
    };
    if let Err(e) = workloads::prepare(&env) {
        eprintln!("preparing files: {e}");
        return 1;
    }
    let mut outcomes = Vec::new();
    for sec in securities_full() {
        for w in workloads::standard(env.many) {
            if w.kind == Kind::ManyClients && sec != Security::Plain {
                continue;
            }
            if !selected(opts, &w.name) {
                continue;
            }
            let w = smoke_sized(w);
            outcomes.push(run_one(&env, &w, sec, "ours").await);
        }
    }
    // The other algorithms and dialects, on the data path.
    let extra = [
        (0x0311, Security::Signed(SigningAlgorithm::AesCmac)),
        (0x0311, Security::Signed(SigningAlgorithm::HmacSha256)),
        (0x0311, Security::Encrypted(Cipher::Aes128Ccm)),
        (0x0311, Security::Encrypted(Cipher::Aes256Ccm)),
        (0x0302, Security::Encrypted(Cipher::Aes128Ccm)),
        (0x0300, Security::Signed(SigningAlgorithm::AesCmac)),
        (0x0210, Security::Signed(SigningAlgorithm::HmacSha256)),
        (0x0210, Security::Plain),
    ];
    for (dialect, sec) in extra {
        env.client.dialect = dialect;
        for w in workloads::standard(1)
            .into_iter()
            .filter(|w| matches!(w.kind, Kind::SeqRead | Kind::SeqWrite) && w.qd == 16)
        {
            let mut o = run_one(&env, &smoke_sized(w), sec, "ours").await;
            o.security = format!("{}@{:x}", o.security, dialect);
            outcomes.push(o);
        }
    }
    // Session binding: 2 channels of one session, data checked; the channel's own signing key
    // (signed runs check every reply with it), the session's encryption keys, and the 3.0
    // derivation without a preauth hash.
    let bound = [
        (0x0311, Security::Plain),
        (0x0311, Security::Signed(SigningAlgorithm::AesGmac)),
        (0x0311, Security::Encrypted(Cipher::Aes128Gcm)),
        (0x0300, Security::Signed(SigningAlgorithm::AesCmac)),
    ];
    for (dialect, sec) in bound {
        env.client.dialect = dialect;
        for w in workloads::multichannel()
            .into_iter()
            .filter(|w| w.channels == Some(2) && selected(opts, &w.name))
        {
            let mut o = run_one(&env, &w, sec, "ours").await;
            o.security = format!("{}@{:x}", o.security, dialect);
            outcomes.push(o);
        }
    }
    env.client.dialect = 0x0311;
    let mut failed = outcomes
        .iter()
        .filter(|o| o.errors > 0 || o.ops == 0)
        .count();
    match workloads::verify_pattern_file(&share.join("bench").join("write.dat")) {
        Ok(Some(sum)) => println!("write.dat checksum {sum:016x} matches the pattern"),
        Ok(None) => {
            eprintln!("write.dat does not hold the pattern after the write workloads");
            failed += 1;
        }
        Err(e) => {
            eprintln!("write.dat: {e}");
            failed += 1;
        }
    }
    print!("{}", report::table(&outcomes));
    drop(server);
    let _ = std::fs::remove_dir_all(&work);
    if failed > 0 {
        eprintln!("smoke: {failed} failures");
        1
    } else {
        println!("smoke: all {} runs passed", outcomes.len());
        0
    }
}

/// Whether `--only` (comma-separated name fragments) selects the workload.
fn selected(opts: &Options, name: &str) -> bool {
    opts.only
        .as_ref()
        .is_none_or(|o| o.split(',').any(|part| name.contains(part)))
}

/// Shrinks a workload for smoke mode.
fn smoke_sized(mut w: Workload) -> Workload {
    if w.kind == Kind::ManyClients {
        w.conns = 50;
    }
    w
}

async fn measure_ceilings(d: Duration) -> report::Ceilings {
    let mut c: report::Ceilings = Vec::new();
    match ceilings::tcp_blaster(d * 2).await {
        Ok(v) => c.push(("loopback TCP, 1 stream, 1 MiB writes".into(), v, "MiB/s")),
        Err(e) => eprintln!("tcp blaster: {e}"),
    }
    for (name, cipher) in [
        ("AES-128-GCM", Cipher::Aes128Gcm),
        ("AES-256-GCM", Cipher::Aes256Gcm),
    ] {
        let v = tokio::task::spawn_blocking(move || ceilings::aead_speed(cipher, d))
            .await
            .unwrap_or(0.0);
        c.push((format!("{name} seal, 1 core, 1 MiB"), v, "MiB/s"));
    }
    if let Ok(addr) = ceilings::fake_responder().await {
        let env = Env {
            client: client_config(addr),
            share_dir: temp_dir("fake"),
            subdir: "bench".into(),
            file_size: 1 << 30,
            list_entries: 0,
            many: 0,
            duration: d * 2,
            max_ops: None,
            max_bytes: None,
            verify: false,
            server_pid: None,
        };
        for w in workloads::standard(1) {
            if (w.kind == Kind::SeqRead && w.qd == 16) || (w.kind == Kind::RandRead && w.io == 4096)
            {
                let o = workloads::run(&env, &w, Security::Plain, "fake").await;
                let (v, unit) = o.headline();
                c.push((
                    format!("generator vs in-memory responder: {}", w.name),
                    v,
                    unit,
                ));
                if w.kind == Kind::RandRead {
                    c.push((
                        format!("generator vs in-memory responder: {} ops", w.name),
                        o.ops_s(),
                        "ops/s",
                    ));
                }
            }
        }
    }
    c
}

fn print_ceilings(c: &report::Ceilings) {
    println!("ceilings:");
    for (name, v, unit) in c {
        println!("  {name:<60} {v:>10.0} {unit}");
    }
}

/// Starts one peer; `Err` carries why it could not (the compare goes on without it).
fn start_peer(
    name: &str,
    opts: &Options,
    share: &Path,
    work: &Path,
) -> Result<servers::Server, String> {
    match name {
        "samba" => servers::start_samba(share, work).map_err(|e| e.to_string()),
        _ => {
            let bin = match &opts.smb_server_bin {
                Some(b) => b.clone(),
                None => servers::build_smb_server().map_err(|e| last_lines(&e.to_string(), 6))?,
            };
            let conns = opts.smb_server_many.unwrap_or(opts.many);
            servers::start_smb_server(&bin, share, work, conns + 100).map_err(|e| e.to_string())
        }
    }
}

/// The last `n` lines of `text` (a failed build's output is long).
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Connections the many-clients test opens against `label`.
fn many_for(opts: &Options, label: &str) -> usize {
    match label {
        "samba" => opts.samba_many,
        servers::SMB_SERVER => opts.smb_server_many.unwrap_or(opts.many),
        _ => opts.many,
    }
}

async fn compare(opts: &Options) -> i32 {
    let work = temp_dir("compare");
    let share = work.join("share");
    if let Err(e) = std::fs::create_dir_all(&share) {
        eprintln!("{}: {e}", share.display());
        return 1;
    }
    let ours = match servers::start_ours(&opts.server_bin, &share, &work, opts.ours_ca) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("starting our server: {e}");
            return 1;
        }
    };
    let mut running = vec![ours];
    let mut notes = Vec::new();
    for name in &opts.peers {
        match start_peer(name, opts, &share, &work) {
            Ok(s) => running.push(s),
            Err(e) => {
                let note = format!("peer {name} not run: {e}");
                eprintln!("{note}");
                notes.push(note);
            }
        }
    }
    let base = Env {
        client: client_config(running[0].addr),
        share_dir: share.clone(),
        subdir: "bench".into(),
        file_size: opts.file_mib << 20,
        list_entries: 10_000,
        many: opts.many,
        duration: Duration::from_secs_f64(opts.secs),
        max_ops: None,
        max_bytes: None,
        verify: false,
        server_pid: None,
    };
    println!(
        "preparing {} MiB files and a 10,000-entry directory...",
        opts.file_mib
    );
    if let Err(e) = workloads::prepare(&base) {
        eprintln!("preparing files: {e}");
        return 1;
    }
    let mut outcomes = Vec::new();
    // The many-clients test first: its memory figure is the growth of each server's private
    // memory, which memory freed by earlier workloads (kept by the allocator for reuse) would
    // hide.
    let (mut order, securities) = if opts.multichannel {
        (workloads::multichannel(), securities_multichannel())
    } else {
        (workloads::standard(opts.many), securities_full())
    };
    order.sort_by_key(|w| w.kind != Kind::ManyClients);
    for sec in securities {
        for w in order.iter().cloned() {
            if !selected(opts, &w.name) {
                continue;
            }
            if w.kind == Kind::ManyClients && sec != Security::Plain {
                continue;
            }
            for server in running.iter_mut() {
                let o = match server.exited() {
                    Some(status) => Outcome {
                        server: server.label.into(),
                        workload: w.name.clone(),
                        security: sec.label().into(),
                        na: Some(format!("server exited earlier ({status})")),
                        ..Default::default()
                    },
                    None => {
                        let mut env = base.clone();
                        env.client.addr = server.addr;
                        env.server_pid = Some(server.pid());
                        let mut w = w.clone();
                        if w.kind == Kind::ManyClients {
                            w.conns = many_for(opts, server.label);
                        }
                        run_one(&env, &w, sec, server.label).await
                    }
                };
                print_progress(&o);
                outcomes.push(o);
            }
        }
    }
    drop(running);
    let ceilings = measure_ceilings(Duration::from_secs(1)).await;
    let m = machine();
    println!("\nmachine: {m}");
    print!("{}", report::table(&outcomes));
    print!("{}", report::summary(&outcomes));
    for n in &notes {
        println!("{n}");
    }
    print_ceilings(&ceilings);
    if let Err(e) = write_outputs(&opts.out, &outcomes, &ceilings, &m, &notes) {
        eprintln!("writing {}: {e}", opts.out.display());
    }
    let _ = std::fs::remove_dir_all(&work);
    0
}

/// One line per finished run, as the compare goes.
fn print_progress(o: &Outcome) {
    if let Some(why) = &o.na {
        println!(
            "  {:<24} {:<10} {:<10} {:>10}  ({why})",
            o.workload, o.security, o.server, "n/a"
        );
        return;
    }
    let (v, unit) = o.headline();
    println!(
        "  {:<24} {:<10} {:<10} {:>10.1} {unit}{}",
        o.workload,
        o.security,
        o.server,
        v,
        o.error
            .as_ref()
            .map(|e| format!("  ({e})"))
            .unwrap_or_default()
    );
}

fn write_outputs(
    dir: &Path,
    outcomes: &[Outcome],
    ceilings: &report::Ceilings,
    machine: &str,
    notes: &[String],
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join("results.json"),
        report::json(outcomes, ceilings, machine, notes),
    )?;
    let mut peers: Vec<&str> = Vec::new();
    for o in outcomes {
        if o.server != report::OURS && !peers.contains(&o.server.as_str()) {
            peers.push(&o.server);
        }
    }
    std::fs::write(
        dir.join("results.svg"),
        report::svg(
            outcomes,
            &format!("ours vs {}: {machine}", peers.join(", ")),
        ),
    )?;
    let mut text = report::table(outcomes);
    text.push_str(&report::summary(outcomes));
    for n in notes {
        text.push_str(&format!("{n}\n"));
    }
    for (name, v, unit) in ceilings {
        text.push_str(&format!("ceiling: {name}: {v:.0} {unit}\n"));
    }
    std::fs::write(dir.join("results.txt"), text)?;
    println!("wrote {}/results.{{json,svg,txt}}", dir.display());
    Ok(())
}
