//! The workloads: sequential and random I/O, metadata, session setups and many clients.
//!
//! Each workload runs `conns` connections with `qd` operations in flight on each, for a
//! duration or an operation count, and yields an [`Outcome`]. Data follows a fixed pattern
//! (a function of the file offset), so any read can be checked and writes keep it intact.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::client::{Client, ClientConfig, ClientError, Security, wire};
use crate::stats::{Latencies, Outcome};

/// The kinds of workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Sequential reads of the read file.
    SeqRead,
    /// Sequential writes of the write file.
    SeqWrite,
    /// Random aligned reads.
    RandRead,
    /// Random aligned writes.
    RandWrite,
    /// CREATE+WRITE(4 KiB)+CLOSE of new small files.
    CreateWriteClose,
    /// CREATE+QUERY_INFO+CLOSE of the small files.
    Stat,
    /// CREATE+SET_INFO(disposition)+CLOSE of the small files.
    Delete,
    /// Open, list and close the big directory.
    List,
    /// New TCP connection, NEGOTIATE, SESSION_SETUP, TREE_CONNECT.
    SessionSetup,
    /// Many idle connections held open, light traffic on a few.
    ManyClients,
}

/// One workload definition.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Name shown in tables.
    pub name: String,
    /// What it does.
    pub kind: Kind,
    /// I/O size in bytes (data workloads).
    pub io: usize,
    /// Operations in flight per connection.
    pub qd: usize,
    /// Connections.
    pub conns: usize,
    /// Multichannel runs: the channels of each connection's session (the first connection
    /// and `n - 1` bound to its session), `qd` spread over them; every connection offers
    /// SMB2_GLOBAL_CAP_MULTI_CHANNEL. `None` for the standard set (one channel, no offer).
    pub channels: Option<usize>,
}

/// Where the workloads run and how long.
#[derive(Debug, Clone)]
pub struct Env {
    /// Client settings (security is set per run).
    pub client: ClientConfig,
    /// The share's folder on this machine (files are prepared here directly).
    pub share_dir: PathBuf,
    /// Folder below the share holding this run's files.
    pub subdir: String,
    /// Size of the read and write files.
    pub file_size: u64,
    /// Entries of the listed directory.
    pub list_entries: usize,
    /// Connections of the many-clients test.
    pub many: usize,
    /// Duration of each measured phase.
    pub duration: Duration,
    /// Cap on operations per phase (smoke mode).
    pub max_ops: Option<u64>,
    /// Cap on payload bytes per data phase (smoke mode).
    pub max_bytes: Option<u64>,
    /// Check every read against the pattern.
    pub verify: bool,
    /// Server process whose private memory the many-clients test reads.
    pub server_pid: Option<u32>,
}

/// The standard set of workloads.
pub fn standard(conns_many: usize) -> Vec<Workload> {
    let w = |name: &str, kind, io, qd, conns| Workload {
        name: name.to_string(),
        kind,
        io,
        qd,
        conns,
        channels: None,
    };
    let mib = 1 << 20;
    vec![
        w("seq-read 1M qd1", Kind::SeqRead, mib, 1, 1),
        w("seq-read 1M qd16", Kind::SeqRead, mib, 16, 1),
        w("seq-read 8M qd1", Kind::SeqRead, 8 * mib, 1, 1),
        w("seq-read 8M qd16", Kind::SeqRead, 8 * mib, 16, 1),
        w("seq-write 1M qd1", Kind::SeqWrite, mib, 1, 1),
        w("seq-write 1M qd16", Kind::SeqWrite, mib, 16, 1),
        w("seq-write 8M qd1", Kind::SeqWrite, 8 * mib, 1, 1),
        w("seq-write 8M qd16", Kind::SeqWrite, 8 * mib, 16, 1),
        w("rand-read 4K qd16", Kind::RandRead, 4096, 16, 1),
        w("rand-read 64K qd16", Kind::RandRead, 65536, 16, 1),
        w("rand-write 4K qd16", Kind::RandWrite, 4096, 16, 1),
        w("rand-write 64K qd16", Kind::RandWrite, 65536, 16, 1),
        w("create-write-close 4K", Kind::CreateWriteClose, 4096, 8, 2),
        w("stat", Kind::Stat, 0, 8, 2),
        w("delete", Kind::Delete, 0, 8, 2),
        w("list 10k-entry dir", Kind::List, 0, 1, 1),
        w("session setups", Kind::SessionSetup, 0, 8, 1),
        w("many clients", Kind::ManyClients, 4096, 1, conns_many),
    ]
}

/// The multichannel set: one client, one open of the file, 1 MiB sequential reads and writes
/// with 16 in flight in all, over 1, 2 and 4 channels of one session ("seq-read 1M qd16 ch2":
/// 8 in flight on each of 2 channels).
pub fn multichannel() -> Vec<Workload> {
    let mut v = Vec::new();
    for (kind, verb) in [(Kind::SeqRead, "seq-read"), (Kind::SeqWrite, "seq-write")] {
        for ch in [1, 2, 4] {
            v.push(Workload {
                name: format!("{verb} 1M qd16 ch{ch}"),
                kind,
                io: 1 << 20,
                qd: 16,
                conns: 1,
                channels: Some(ch),
            });
        }
    }
    v
}

/// Operations in flight on each channel when a connection's `qd` is spread over `channels`
/// (at least one each).
pub fn per_channel_depth(qd: usize, channels: usize) -> usize {
    (qd / channels.max(1)).max(1)
}

/// The pattern word at `word` (offset / 8): SplitMix64.
fn pattern_word(word: u64) -> u64 {
    let mut z = word.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Fills `buf` with the pattern of the file region at `offset` (8-byte aligned).
pub fn fill_pattern(buf: &mut [u8], offset: u64) {
    let first = offset / 8;
    for (i, chunk) in buf.chunks_mut(8).enumerate() {
        let w = pattern_word(first + i as u64).to_le_bytes();
        chunk.copy_from_slice(&w[..chunk.len()]);
    }
}

/// Whether `data` is the pattern at `offset`.
pub fn matches_pattern(data: &[u8], offset: u64) -> bool {
    let first = offset / 8;
    data.chunks(8).enumerate().all(|(i, chunk)| {
        let w = pattern_word(first + i as u64).to_le_bytes();
        chunk == &w[..chunk.len()]
    })
}

/// FNV-1a 64 checksum, to compare whole files.
pub fn checksum(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// Writes a `size`-byte pattern file at `path` (kept if it already has that size).
pub fn prepare_pattern_file(path: &Path, size: u64) -> std::io::Result<()> {
    use std::io::Write;
    if std::fs::metadata(path)
        .map(|m| m.len() == size)
        .unwrap_or(false)
    {
        return Ok(());
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut buf = vec![0u8; 1 << 20];
    let mut off = 0u64;
    while off < size {
        let n = usize::try_from((size - off).min(buf.len() as u64)).unwrap_or(0);
        fill_pattern(&mut buf[..n], off);
        f.write_all(&buf[..n])?;
        off += n as u64;
    }
    f.flush()
}

/// Checks a whole pattern file on disk; returns its checksum if it matches the pattern.
pub fn verify_pattern_file(path: &Path) -> std::io::Result<Option<u64>> {
    let data = std::fs::read(path)?;
    let mut expected = vec![0u8; data.len()];
    fill_pattern(&mut expected, 0);
    let (a, b) = (checksum(&data), checksum(&expected));
    Ok((a == b).then_some(a))
}

/// Creates the files every workload needs below `env.share_dir/env.subdir`.
pub fn prepare(env: &Env) -> std::io::Result<()> {
    let root = env.share_dir.join(&env.subdir);
    std::fs::create_dir_all(root.join("list"))?;
    prepare_pattern_file(&root.join("read.dat"), env.file_size)?;
    prepare_pattern_file(&root.join("write.dat"), env.file_size)?;
    let list = root.join("list");
    let have = std::fs::read_dir(&list)?.count();
    for i in have..env.list_entries {
        std::fs::File::create(list.join(format!("entry-{i:06}.txt")))?;
    }
    Ok(())
}

/// An operation that takes longer than this counts as failed (and ends its task).
const OP_TIMEOUT: Duration = Duration::from_secs(20);

type OpFuture = Pin<Box<dyn Future<Output = Result<u64, ClientError>> + Send>>;
type Op = Arc<dyn Fn(Arc<Client>, u64) -> OpFuture + Send + Sync>;

/// Runs `op` on every connection with `qd` in flight until the deadline or the op cap.
/// Each call gets a unique sequence number and returns the payload bytes it moved.
async fn drive(
    clients: &[Arc<Client>],
    qd: usize,
    duration: Duration,
    max_ops: Option<u64>,
    op: Op,
) -> (Outcome, Latencies) {
    let seq = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for c in clients {
        for _ in 0..qd {
            let (c, seq, op) = (c.clone(), seq.clone(), op.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Latencies::default();
                let (mut ops, mut bytes, mut errors, mut first) = (0u64, 0u64, 0u64, None);
                while Instant::now() < deadline {
                    let n = seq.fetch_add(1, Ordering::Relaxed);
                    if max_ops.is_some_and(|m| n >= m) {
                        break;
                    }
                    let t0 = Instant::now();
                    let res = tokio::time::timeout(OP_TIMEOUT, op(c.clone(), n))
                        .await
                        .unwrap_or(Err(ClientError::Timeout));
                    match res {
                        Ok(b) => {
                            lat.push(t0.elapsed());
                            ops += 1;
                            bytes += b;
                        }
                        Err(e) => {
                            if std::env::var_os("PERF_TRACE").is_some() {
                                eprintln!("  op {n} failed: {e} (credits {})", c.credits());
                            }
                            errors += 1;
                            first.get_or_insert(e.to_string());
                            if matches!(
                                e,
                                ClientError::Closed | ClientError::Io(_) | ClientError::Timeout
                            ) {
                                break;
                            }
                        }
                    }
                }
                (lat, ops, bytes, errors, first)
            }));
        }
    }
    let mut out = Outcome::default();
    let mut lat = Latencies::default();
    for t in tasks {
        if let Ok((l, ops, bytes, errors, first)) = t.await {
            lat.extend(l);
            out.ops += ops;
            out.bytes += bytes;
            out.errors += errors;
            if out.error.is_none() {
                out.error = first;
            }
        }
    }
    out.secs = start.elapsed().as_secs_f64();
    (out, lat)
}

async fn connect_all(cfg: &ClientConfig, n: usize) -> Result<Vec<Arc<Client>>, ClientError> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(Arc::new(Client::connect(cfg).await?));
    }
    Ok(v)
}

/// A cheap per-call pseudo-random number.
fn mix(n: u64) -> u64 {
    pattern_word(n ^ 0x5555_5555)
}

/// Runs one workload with `security`; connection or setup failures become an errored outcome.
pub async fn run(env: &Env, w: &Workload, security: Security, server: &str) -> Outcome {
    let mut cfg = env.client.clone();
    cfg.security = security;
    if std::env::var_os("PERF_TRACE").is_some() {
        eprintln!("run {} {} {}", server, w.name, security.label());
    }
    let result = run_inner(env, w, &cfg, server).await;
    let mut out = match result {
        Ok(o) => o,
        Err(ClientError::Unsupported(why)) => Outcome {
            na: Some(why),
            ..Outcome::default()
        },
        Err(e) => Outcome {
            errors: 1,
            error: Some(format!("setup: {e}")),
            ..Outcome::default()
        },
    };
    out.server = server.to_string();
    out.workload = w.name.clone();
    out.security = security.label().to_string();
    out
}

async fn run_inner(
    env: &Env,
    w: &Workload,
    cfg: &ClientConfig,
    server: &str,
) -> Result<Outcome, ClientError> {
    let dir = env.subdir.clone();
    let (mut out, mut lat) = match w.kind {
        Kind::SeqRead | Kind::SeqWrite | Kind::RandRead | Kind::RandWrite => {
            data_workload(env, w, cfg).await?
        }
        Kind::CreateWriteClose | Kind::Stat | Kind::Delete => {
            meta_workload(env, w, cfg, &format!("{dir}\\meta-{server}")).await?
        }
        Kind::List => {
            let clients = connect_all(cfg, w.conns).await?;
            let path = format!("{dir}\\list");
            let want = env.list_entries;
            let op: Op = Arc::new(move |c, _| {
                let path = path.clone();
                Box::pin(async move {
                    let n = c.list(&path).await?;
                    // "." and ".." come with the entries.
                    if n < want {
                        return Err(ClientError::Protocol("listing is short"));
                    }
                    Ok(0)
                })
            });
            let cap = env.max_ops.map(|m| m.min(20));
            drive(&clients, w.qd, env.duration, cap, op).await
        }
        Kind::SessionSetup => {
            let anchor = connect_all(cfg, 1).await?;
            let cfg2 = cfg.clone();
            let op: Op = Arc::new(move |_, _| {
                let cfg = cfg2.clone();
                Box::pin(async move {
                    Client::connect(&cfg).await?;
                    Ok(0)
                })
            });
            drive(&anchor, w.qd, env.duration, env.max_ops, op).await
        }
        Kind::ManyClients => many_clients(env, w, cfg).await?,
    };
    let (p50, p99) = lat.percentiles();
    out.p50_us = p50;
    out.p99_us = p99;
    Ok(out)
}

async fn data_workload(
    env: &Env,
    w: &Workload,
    cfg: &ClientConfig,
) -> Result<(Outcome, Latencies), ClientError> {
    let write = matches!(w.kind, Kind::SeqWrite | Kind::RandWrite);
    let name = format!(
        "{}\\{}",
        env.subdir,
        if write { "write.dat" } else { "read.dat" }
    );
    let channels = w.channels.unwrap_or(1).max(1);
    let mut cfg = cfg.clone();
    cfg.multichannel = w.channels.is_some();
    let clients = connect_all(&cfg, w.conns).await?;
    let first = clients.first().ok_or(ClientError::Closed)?;
    if std::env::var_os("PERF_TRACE").is_some() {
        eprintln!("  credits after connect: {}", first.credits());
    }
    let limit = if write {
        first.max_write
    } else {
        first.max_read
    } as usize;
    let io = w.io.min(limit).max(4096);
    // One open per connection, made on its first channel: the open belongs to the session,
    // so its FileId is valid on every channel bound to it.
    let mut lanes = Vec::with_capacity(clients.len() * channels);
    let mut lane_fids = Vec::with_capacity(clients.len() * channels);
    for c in &clients {
        let fid = c.open_rw(&name, wire::FILE_OPEN).await?;
        lanes.push(c.clone());
        lane_fids.push(fid);
        for _ in 1..channels {
            lanes.push(Arc::new(c.bind(&cfg).await?));
            lane_fids.push(fid);
        }
    }
    let depth = per_channel_depth(w.qd, channels);
    let blocks = (env.file_size / io as u64).max(1);
    let random = matches!(w.kind, Kind::RandRead | Kind::RandWrite);
    let verify = env.verify;
    // Writes in measuring mode reuse one buffer per offset class; with verify they carry the
    // pattern so the file stays checkable.
    let mut fixed = vec![0u8; io];
    fill_pattern(&mut fixed, 0);
    let fixed = Arc::new(fixed);
    let fids = Arc::new(lane_fids);
    let lanes_for_fid = lanes.clone();
    let op: Op = Arc::new(move |c, n| {
        let idx = lanes_for_fid
            .iter()
            .position(|x| Arc::ptr_eq(x, &c))
            .unwrap_or(0);
        let fid = fids[idx];
        let block = if random { mix(n) % blocks } else { n % blocks };
        let offset = block * io as u64;
        let fixed = fixed.clone();
        Box::pin(async move {
            if write {
                let n = if verify {
                    let mut buf = vec![0u8; io];
                    fill_pattern(&mut buf, offset);
                    c.write(&fid, offset, &buf).await?
                } else {
                    c.write(&fid, offset, &fixed).await?
                };
                Ok(u64::from(n))
            } else {
                let len = u32::try_from(io).unwrap_or(u32::MAX);
                let (n, ok) = c
                    .read(&fid, offset, len, |d| {
                        (d.len(), !verify || matches_pattern(d, offset))
                    })
                    .await?;
                if !ok || (verify && n != io) {
                    return Err(ClientError::DataMismatch);
                }
                Ok(n as u64)
            }
        })
    });
    let cap = match (env.max_ops, env.max_bytes) {
        (Some(m), Some(b)) => Some(m.min((b / io as u64).max(4))),
        (m, None) => m,
        (None, Some(b)) => Some((b / io as u64).max(4)),
    };
    // Handles are closed with their connections.
    Ok(drive(&lanes, depth, env.duration, cap, op).await)
}

/// Size of the small files of the metadata workloads.
const SMALL_FILE: u64 = 4096;

async fn meta_workload(
    env: &Env,
    w: &Workload,
    cfg: &ClientConfig,
    dir: &str,
) -> Result<(Outcome, Latencies), ClientError> {
    let clients = connect_all(cfg, w.conns).await?;
    // One folder per server, so runs against different servers do not share files.
    let local = env.share_dir.join(dir.replace('\\', "/"));
    std::fs::create_dir_all(&local).map_err(ClientError::from)?;
    // Files left by create-write-close; stat and delete cycle over them.
    let existing = std::fs::read_dir(&local)
        .map(|d| d.count() as u64)
        .unwrap_or(0);
    let prefix = format!("{dir}\\f");
    let kind = w.kind;
    let verify = env.verify;
    let mut data = vec![0u8; SMALL_FILE as usize];
    fill_pattern(&mut data, 0);
    let data = Arc::new(data);
    let op: Op = Arc::new(move |c, n| {
        let (prefix, data) = (prefix.clone(), data.clone());
        Box::pin(async move {
            match kind {
                Kind::CreateWriteClose => {
                    c.create_write_close(&format!("{prefix}{n:07}"), &data)
                        .await?;
                    Ok(0)
                }
                Kind::Stat => {
                    if existing == 0 {
                        return Err(ClientError::Protocol("no files to stat"));
                    }
                    let size = c.stat(&format!("{prefix}{:07}", n % existing)).await?;
                    if verify && size != SMALL_FILE {
                        return Err(ClientError::DataMismatch);
                    }
                    Ok(0)
                }
                _ => {
                    c.delete(&format!("{prefix}{n:07}")).await?;
                    Ok(0)
                }
            }
        })
    });
    let cap = match kind {
        Kind::Delete => Some(env.max_ops.unwrap_or(u64::MAX).min(existing)),
        _ => env.max_ops,
    };
    Ok(drive(&clients, w.qd, env.duration, cap, op).await)
}

/// Private memory (Private_Clean + Private_Dirty) of `pid` and its descendants, KiB.
pub fn private_kib_tree(pid: u32) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![pid];
    let mut all = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let ppid = std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| {
                    let after = s.rsplit_once(')')?.1.to_string();
                    after.split_whitespace().nth(1)?.parse::<u32>().ok()
                });
            if let Some(pp) = ppid {
                all.push((p, pp));
            }
        }
    }
    while let Some(p) = stack.pop() {
        total += private_kib(p);
        stack.extend(all.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
    }
    total
}

/// Private_Clean + Private_Dirty of one process from /proc/PID/smaps_rollup, KiB.
pub fn private_kib(pid: u32) -> u64 {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
        return 0;
    };
    s.lines()
        .filter(|l| l.starts_with("Private_Clean:") || l.starts_with("Private_Dirty:"))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum()
}

async fn many_clients(
    env: &Env,
    w: &Workload,
    cfg: &ClientConfig,
) -> Result<(Outcome, Latencies), ClientError> {
    let before = env.server_pid.map(private_kib_tree).unwrap_or(0);
    let n = w.conns.max(1);
    let mut held: Vec<Arc<Client>> = Vec::with_capacity(n);
    let batch = 64;
    let mut opened = 0usize;
    while opened < n {
        let k = batch.min(n - opened);
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..k {
            let cfg = cfg.clone();
            set.spawn(async move { Client::connect(&cfg).await });
        }
        while let Some(r) = set.join_next().await {
            match r {
                Ok(Ok(c)) => held.push(Arc::new(c)),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(ClientError::Closed),
            }
        }
        opened += k;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = env.server_pid.map(private_kib_tree).unwrap_or(0);
    let active: Vec<Arc<Client>> = held.iter().take(4).cloned().collect();
    let name = format!("{}\\read.dat", env.subdir);
    let mut fids = Vec::new();
    for c in &active {
        fids.push(c.open_rw(&name, wire::FILE_OPEN).await?);
    }
    let fids = Arc::new(fids);
    let active_ids = active.clone();
    let blocks = (env.file_size / 4096).max(1);
    let verify = env.verify;
    let op: Op = Arc::new(move |c, n| {
        let idx = active_ids
            .iter()
            .position(|x| Arc::ptr_eq(x, &c))
            .unwrap_or(0);
        let fid = fids[idx];
        let offset = (mix(n) % blocks) * 4096;
        Box::pin(async move {
            let ok = c
                .read(&fid, offset, 4096, |d| {
                    !verify || matches_pattern(d, offset)
                })
                .await?;
            if !ok {
                return Err(ClientError::DataMismatch);
            }
            Ok(4096)
        })
    });
    let (mut out, lat) = drive(&active, w.qd, env.duration, env.max_ops, op).await;
    // Every held connection must still answer.
    let mut dead = 0u64;
    for c in held.iter().step_by((n / 50).max(1)) {
        if c.echo().await.is_err() {
            dead += 1;
        }
    }
    if dead > 0 {
        out.errors += dead;
        out.error
            .get_or_insert_with(|| format!("{dead} held connections dead"));
    }
    if env.server_pid.is_some() {
        let per = after.saturating_sub(before) as f64 / n as f64;
        out.extra = Some((per, "KiB/conn"));
    }
    drop(held);
    Ok((out, lat))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_is_position_dependent_and_checkable() {
        let mut a = vec![0u8; 4096];
        fill_pattern(&mut a, 8192);
        assert!(matches_pattern(&a, 8192));
        assert!(!matches_pattern(&a, 0));
        let mut whole = vec![0u8; 16384];
        fill_pattern(&mut whole, 0);
        assert_eq!(&whole[8192..12288], &a[..]);
    }

    #[test]
    fn queue_depth_is_spread_over_the_channels() {
        for ch in [1, 2, 4] {
            assert_eq!(per_channel_depth(16, ch) * ch, 16);
        }
        assert_eq!(per_channel_depth(1, 4), 1);
        assert_eq!(per_channel_depth(16, 0), 16);
        let set = multichannel();
        assert_eq!(set.len(), 6);
        assert!(
            set.iter()
                .all(|w| w.qd == 16 && w.conns == 1 && w.io == 1 << 20)
        );
        let names: Vec<&str> = set.iter().map(|w| w.name.as_str()).collect();
        assert!(names.contains(&"seq-read 1M qd16 ch2"));
        assert!(names.contains(&"seq-write 1M qd16 ch4"));
        assert!(standard(1).iter().all(|w| w.channels.is_none()));
    }

    #[test]
    fn fnv1a_known_answer() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (the FNV reference test suite).
        assert_eq!(checksum(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn pattern_files_verify() {
        let dir = std::env::temp_dir().join(format!("perf-pattern-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("p.dat");
        prepare_pattern_file(&f, 100_000).unwrap();
        assert!(verify_pattern_file(&f).unwrap().is_some());
        std::fs::write(&f, b"not the pattern").unwrap();
        assert!(verify_pattern_file(&f).unwrap().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
