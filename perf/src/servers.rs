//! Starting the servers under test: our `smbd` from a generated config, a private Samba
//! `smbd` with its own smb.conf and state under a temporary directory, and the `smb-server`
//! crate through the harness in `perf/peer-smb-server`.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::client::ntlm::nt_hash;

/// The account both servers know.
pub const USER: &str = "demo";
/// Its password.
pub const PASSWORD: &str = "demo";
/// The share name on both servers.
pub const SHARE: &str = "share";

/// Why a server could not be started.
#[derive(Debug)]
pub enum StartError {
    /// A file or process operation failed.
    Io(String, std::io::Error),
    /// A setup command exited with an error.
    Command(String),
    /// The server did not listen in time.
    Timeout(&'static str),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(what, e) => write!(f, "{what}: {e}"),
            Self::Command(c) => write!(f, "command failed: {c}"),
            Self::Timeout(s) => write!(f, "{s} did not start listening within 15 s"),
        }
    }
}

impl std::error::Error for StartError {}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> StartError {
    let what = what.into();
    move |e| StartError::Io(what, e)
}

/// A server process, stopped when dropped.
pub struct Server {
    /// "ours", "samba" or "smb-server".
    pub label: &'static str,
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
}

impl Server {
    /// The process id (for memory readings).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port (bound then released).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_listening(
    addr: SocketAddr,
    child: &mut Child,
    what: &'static str,
) -> Result<(), StartError> {
    let until = Instant::now() + Duration::from_secs(15);
    while Instant::now() < until {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(StartError::Command(format!(
                "{what} exited early: {status}"
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(StartError::Timeout(what))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Starts our server from `bin` serving `share_dir`, state and config under `work`; with `ca`,
/// the share is continuously available (its writes go through to stable storage).
pub fn start_ours(
    bin: &Path,
    share_dir: &Path,
    work: &Path,
    ca: bool,
) -> Result<Server, StartError> {
    let port = free_port().map_err(io("free port"))?;
    let state = work.join("ours-state");
    std::fs::create_dir_all(&state).map_err(io("state dir"))?;
    let conf = work.join("ours.toml");
    let text = format!(
        "listen = \"127.0.0.1:{port}\"\nserver_name = \"PERFOURS\"\nstate_dir = \"{}\"\n\
         max_connections = 20000\nlog_level = \"warn\"\nsigning = \"enabled\"\n\n[[share]]\nname = \"{SHARE}\"\n\
         path = \"{}\"\ncontinuous_availability = {ca}\n\n[[account]]\nname = \"{USER}\"\n\
         nt_hash = \"{}\"\n",
        state.display(),
        share_dir.display(),
        hex(&nt_hash(PASSWORD)),
    );
    std::fs::write(&conf, text).map_err(io("write ours.toml"))?;
    let log = std::fs::File::create(work.join("ours.log")).map_err(io("ours.log"))?;
    let mut child = Command::new(bin)
        .arg("--config")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(io(format!("start {}", bin.display())))?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_listening(addr, &mut child, "our smbd")?;
    Ok(Server {
        label: "ours",
        addr,
        child,
    })
}

/// Finds Samba's smbd.
pub fn samba_bin() -> Option<PathBuf> {
    ["/usr/sbin/smbd", "/usr/local/samba/sbin/smbd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn run(cmd: &mut Command, input: Option<&str>) -> Result<(), StartError> {
    use std::io::Write;
    let desc = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(io(desc.clone()))?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(text.as_bytes()).map_err(io(desc.clone()))?;
    }
    let out = child.wait_with_output().map_err(io(desc.clone()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(StartError::Command(format!(
            "{desc}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// The smb.conf of the private Samba: production-style tuning, everything under `work`.
pub fn samba_conf(work: &Path, share_dir: &Path, port: u16) -> String {
    let w = work.display();
    format!(
        "[global]\n\
         netbios name = PERFSAMBA\n\
         workgroup = WORKGROUP\n\
         server role = standalone server\n\
         security = user\n\
         map to guest = never\n\
         smb ports = {port}\n\
         interfaces = 127.0.0.1\n\
         bind interfaces only = yes\n\
         disable netbios = yes\n\
         private dir = {w}/private\n\
         lock directory = {w}/lock\n\
         state directory = {w}/state\n\
         cache directory = {w}/cache\n\
         pid directory = {w}/pid\n\
         ncalrpc dir = {w}/ncalrpc\n\
         passdb backend = tdbsam:{w}/private/passdb.tdb\n\
         log file = {w}/log.smbd\n\
         log level = 0\n\
         load printers = no\n\
         printing = bsd\n\
         printcap name = /dev/null\n\
         disable spoolss = yes\n\
         server min protocol = SMB2_10\n\
         server multi channel support = yes\n\
         aio read size = 1\n\
         aio write size = 1\n\
         use sendfile = yes\n\
         smb2 leases = yes\n\
         server signing = if_required\n\
         max open files = 65536\n\
         \n[{SHARE}]\n\
         path = {}\n\
         read only = no\n\
         admin users = {USER}\n",
        share_dir.display()
    )
}

/// Starts a private Samba serving `share_dir` with the account demo/demo.
pub fn start_samba(share_dir: &Path, work: &Path) -> Result<Server, StartError> {
    let bin = samba_bin().ok_or(StartError::Command(
        "Samba's smbd not found (apt-get install samba)".into(),
    ))?;
    let work = work.join("samba");
    for d in ["private", "lock", "state", "cache", "pid", "ncalrpc"] {
        std::fs::create_dir_all(work.join(d)).map_err(io("samba dirs"))?;
    }
    let port = free_port().map_err(io("free port"))?;
    let conf = work.join("smb.conf");
    std::fs::write(&conf, samba_conf(&work, share_dir, port)).map_err(io("smb.conf"))?;
    if Command::new("id")
        .arg(USER)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| !s.success())
        .unwrap_or(true)
    {
        run(
            Command::new("useradd").args(["-M", "-s", "/usr/sbin/nologin", USER]),
            None,
        )?;
    }
    run(
        Command::new("smbpasswd")
            .arg("-c")
            .arg(&conf)
            .args(["-a", "-s", USER]),
        Some(&format!("{PASSWORD}\n{PASSWORD}\n")),
    )?;
    let log = std::fs::File::create(work.join("stderr.log")).map_err(io("samba log"))?;
    // Its own process group: Samba's parent signals its whole group when it stops.
    let mut child = Command::new(bin)
        .process_group(0)
        .args(["--foreground", "--no-process-group", "-s"])
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(io("start samba smbd"))?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    if let Err(e) = wait_listening(addr, &mut child, "Samba smbd") {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    Ok(Server {
        label: "samba",
        addr,
        child,
    })
}

/// Label of the `smb-server` crate peer in outcomes.
pub const SMB_SERVER: &str = "smb-server";

/// The harness package that serves a folder through the `smb-server` crate (not a workspace
/// member: built on demand by [`build_smb_server`]).
pub fn smb_server_manifest() -> PathBuf {
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("peer-smb-server/Cargo.toml");
    if beside.exists() {
        beside
    } else {
        PathBuf::from("perf/peer-smb-server/Cargo.toml")
    }
}

/// Builds the `smb-server` harness in release mode (in its own target dir beside its
/// manifest) and returns the binary's path.
pub fn build_smb_server() -> Result<PathBuf, StartError> {
    let manifest = smb_server_manifest();
    let dir = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
    let target = dir.join("target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    println!("building the smb-server peer ({})...", manifest.display());
    run(
        Command::new(cargo)
            .args(["build", "--release", "--quiet", "--manifest-path"])
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target),
        None,
    )?;
    Ok(target.join("release").join("peer-smb-server"))
}

/// Starts the `smb-server` harness `bin` serving `share_dir` with the account demo/demo.
pub fn start_smb_server(
    bin: &Path,
    share_dir: &Path,
    work: &Path,
    max_connections: usize,
) -> Result<Server, StartError> {
    let port = free_port().map_err(io("free port"))?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let log = std::fs::File::create(work.join("smb-server.log")).map_err(io("smb-server.log"))?;
    let mut child = Command::new(bin)
        .arg("--listen")
        .arg(addr.to_string())
        .arg("--path")
        .arg(share_dir)
        .args(["--share", SHARE, "--user", USER, "--password", PASSWORD])
        .arg("--max-connections")
        .arg(max_connections.to_string())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(io(format!("start {}", bin.display())))?;
    if let Err(e) = wait_listening(addr, &mut child, "smb-server peer") {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    Ok(Server {
        label: SMB_SERVER,
        addr,
        child,
    })
}

impl Server {
    /// If the process has exited, how (a peer that crashed mid-run is reported, not timed).
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            _ => None,
        }
    }
}
