//! Server configuration: a TOML file (see `smbd/smbd.example.toml`) read into [`Config`].
//!
//! [`Config::parse`] is pure: it checks syntax, keys, types, ranges and names, and reports each
//! problem as a [`ConfigError`] naming the file, line and key. [`Config::check_paths`] checks
//! the file system separately. [`load_or_create_server_guid`] keeps the server GUID in the state
//! directory.

mod error;
mod guid;
mod parse;
mod policy;
mod reader;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

pub use error::ConfigError;
pub use guid::{SERVER_GUID_FILE, load_or_create_server_guid};
pub use parse::{
    format_hex, parse_nt_hash, validate_account_name, validate_server_name, validate_share_name,
};
pub use policy::{Cipher, EncryptPolicy, Named, SigningAlg, SigningPolicy};

/// Default listening address.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 4445);
/// Default for each of the maximum read, write and transact sizes (8 MiB).
pub const DEFAULT_MAX_IO_SIZE: u32 = 8 * 1024 * 1024;
/// Smallest allowed maximum read, write or transact size (64 KiB, the SMB 2.0.2 limit).
pub const MIN_MAX_IO_SIZE: u32 = 64 * 1024;
/// Largest allowed maximum read, write or transact size: 16 MiB less 64 KiB, so that a READ
/// response or WRITE request of that size, with its headers and a transform header, still fits
/// the 24-bit length of one Direct TCP frame (MS-SMB2 2.1).
pub const MAX_MAX_IO_SIZE: u32 = 16 * 1024 * 1024 - 64 * 1024;
/// Longest server name (a NetBIOS name has 15 usable characters).
pub const MAX_SERVER_NAME_LEN: usize = 15;
/// The RID of the first account that gives none: account `i` (0-based) defaults to `1000 + i`.
pub const FIRST_ACCOUNT_RID: u32 = 1000;

/// The whole server configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Address and port to listen on (`listen`).
    pub listen: SocketAddr,
    /// NetBIOS-style server name, upper case, at most 15 characters (`server_name`).
    pub server_name: String,
    /// Server comment shown in share enumeration (`server_comment`).
    pub server_comment: String,
    /// Other names clients reach this server by: DNS names, CNAMEs, addresses
    /// (`server_aliases`). NTLM target names may name them (besides the server name, the host
    /// name and the address a connection arrived on); others are refused as relayed.
    pub server_aliases: Vec<String>,
    /// Directory for persistent state such as the server GUID (`state_dir`).
    pub state_dir: PathBuf,
    /// Whether signing is required (`signing`).
    pub signing: SigningPolicy,
    /// Server-wide encryption (`encrypt`).
    pub encrypt: EncryptPolicy,
    /// Ciphers in preference order (`ciphers`), never empty.
    pub ciphers: Vec<Cipher>,
    /// Signing algorithms in preference order (`signing_algorithms`), never empty.
    pub signing_algorithms: Vec<SigningAlg>,
    /// Largest READ the server offers (`max_read_size`).
    pub max_read_size: u32,
    /// Largest WRITE the server offers (`max_write_size`).
    pub max_write_size: u32,
    /// Largest IOCTL/QUERY_INFO/QUERY_DIRECTORY buffer the server offers (`max_transact_size`).
    pub max_transact_size: u32,
    /// Most simultaneous connections (`max_connections`).
    pub max_connections: usize,
    /// The credit ceiling granted per connection (`max_credits`).
    pub max_credits: u16,
    /// A tracing `EnvFilter` directive (`log_level`).
    pub log_level: String,
    /// Accept anonymous (null) sessions (`allow_anonymous`).
    pub allow_anonymous: bool,
    /// Accept NTLMv1 responses (`allow_ntlmv1`; off by default).
    pub allow_ntlmv1: bool,
    /// Offer multichannel on 3.x: clients may bind more connections to a session
    /// (`multichannel`, on by default).
    pub multichannel: bool,
    /// The interfaces offered to multichannel clients (`interfaces`: names or addresses, each
    /// with optional `;speed=BITS_PER_SECOND` and `;rss`); empty lists every interface that is
    /// up (loopback only to clients connected through it).
    pub interfaces: Vec<crate::netif::InterfaceSpec>,
    /// The shares (`[[share]]` tables).
    pub shares: Vec<ShareConfig>,
    /// The local accounts (`[[account]]` tables).
    pub accounts: Vec<AccountConfig>,
    /// MIT keytabs holding the service keys for Kerberos (`keytabs`); none disables Kerberos.
    pub keytabs: Vec<PathBuf>,
    /// Accept rc4-hmac tickets (`allow_rc4`); off by default since their PAC checksums are
    /// forgeable.
    pub allow_rc4: bool,
    /// Largest clock difference accepted in Kerberos authenticators (`clock_skew_seconds`).
    pub clock_skew_seconds: u64,
    /// Kerberos authenticators remembered against replay (`replay_cache_entries`); when that
    /// many are still within their window, new AP-REQs are refused rather than any forgotten.
    pub replay_cache_entries: usize,
    /// Principals whose tickets carry no LOGON_INFO mapped to SIDs (`[[principal]]` tables).
    pub principals: Vec<PrincipalMapping>,
    /// Unix socket of the admin interface (`admin_socket`; default `<state_dir>/admin.sock`).
    pub admin_socket: Option<PathBuf>,
    /// Address of the Prometheus metrics endpoint (`metrics_listen`, e.g.
    /// "127.0.0.1:9922"; off when unset).
    pub metrics_listen: Option<SocketAddr>,
    /// Audit lines for logons, logoffs, share access and access denials (`audit`: "text",
    /// the default, "json" or "off").
    pub audit: crate::audit::AuditFormat,
    /// File the audit lines are appended to (`audit_file`; unset: the server's log).
    pub audit_file: Option<PathBuf>,
    /// Groups whose members hold the security, backup and restore privileges (`admin_groups`).
    pub admin_groups: Vec<acl::Sid>,
    /// Deadlines and caps on what one client can hold (`handshake_timeout_seconds`,
    /// `max_opens_per_session` and the other keys of [`crate::limits::Limits`]).
    pub limits: crate::limits::Limits,
}

/// A Kerberos principal mapped to SIDs, for tickets whose PAC has no LOGON_INFO (an MIT KDC's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalMapping {
    /// `user@REALM`, matched case-insensitively.
    pub name: String,
    /// The user SID.
    pub sid: acl::Sid,
    /// Group SIDs.
    pub groups: Vec<acl::Sid>,
}

/// One disk share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareConfig {
    /// Share name as clients see it (case-insensitive, unique).
    pub name: String,
    /// The directory the share exports.
    pub path: PathBuf,
    /// Refuse every modification through this share.
    pub read_only: bool,
    /// Encryption for this share (combined with the server-wide policy by the server).
    pub encrypt: EncryptPolicy,
    /// Comment shown in share enumeration.
    pub comment: String,
    /// Share-level permissions as SDDL (`sddl`), checked at TREE_CONNECT and intersected with
    /// every file's access check; `None` means Authenticated Users full control.
    pub sddl: Option<String>,
    /// Descriptor for the share root as SDDL (`root_sddl`), written at start when the root has
    /// none stored yet.
    pub root_sddl: Option<String>,
    /// Access-based enumeration (`access_based_enumeration`, Samba's "hide unreadable"):
    /// listings leave out entries the session may not read.
    pub access_based_enumeration: bool,
    /// The folder holding the share's snapshots (`snapshot_dir`): one `@GMT-YYYY.MM.DD-HH.MM.SS`
    /// folder each (btrfs or ZFS snapshots of the share folder, or plain copies), offered
    /// read-only as previous versions.
    pub snapshot_dir: Option<PathBuf>,
    /// Continuous availability (`continuous_availability`, Windows' "CA share"): TREE_CONNECT
    /// reports SMB2_SHARE_CAP_CONTINUOUS_AVAILABILITY to 3.x clients, which may then ask for
    /// persistent handles.
    pub continuous_availability: bool,
    /// Alternate data streams (`streams`, on by default): off, every name with a stream part
    /// (even `::$DATA`) is OBJECT_NAME_INVALID, as on a file system without streams.
    pub streams: bool,
    /// Whether change notify also reports changes made to the share folder by other programs
    /// (`kernel_change_notify`, Samba's "kernel change notify"; inotify). On by default; the
    /// server's own changes are reported either way.
    pub kernel_change_notify: bool,
    /// Names starting with a dot are shown HIDDEN (`hide_dot_files`, Samba's "hide dot
    /// files"; off by default).
    pub hide_dot_files: bool,
    /// Names matching one of these wildcard patterns are shown HIDDEN (`hide_files`, Samba's
    /// "hide files" as a list).
    pub hide_files: Vec<String>,
}

/// One local account.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountConfig {
    /// User name, matched case-insensitively.
    pub name: String,
    /// NT hash (MD4 of the UTF-16LE password), from the `nt_hash` hex key.
    pub nt_hash: [u8; 16],
    /// Relative identifier under the machine SID.
    pub rid: u32,
    /// Extra group SIDs for the account's token.
    pub groups: Vec<acl::Sid>,
    /// The NT hash of the password before the last change and the time until which it is
    /// still accepted (`previous_nt_hash` and `previous_valid_until`, RFC 3339), for a
    /// change-over window.
    pub previous: Option<([u8; 16], std::time::SystemTime)>,
}

impl std::fmt::Debug for AccountConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountConfig")
            .field("name", &self.name)
            .field("rid", &self.rid)
            .field("groups", &self.groups)
            .field("previous_valid_until", &self.previous.map(|(_, t)| t))
            .finish_non_exhaustive()
    }
}

impl AccountConfig {
    /// The account in the form the acceptor takes.
    pub fn to_local_account(&self) -> acceptor::LocalAccount {
        acceptor::LocalAccount {
            name: self.name.clone(),
            nt_hash: self.nt_hash,
            rid: self.rid,
            groups: self.groups.clone(),
            previous: self
                .previous
                .map(|(nt_hash, valid_until)| acceptor::PreviousHash {
                    nt_hash,
                    valid_until,
                }),
        }
    }
}

impl Config {
    /// Reads and parses the configuration file at `path`.
    ///
    /// Relative `state_dir` and share paths are taken relative to the file's directory, so the
    /// meaning of a configuration does not depend on the current directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::file_level(&file, format!("cannot read: {e}")))?;
        let mut config = Self::parse(&text, &file)?;
        if let Some(base) = path.parent() {
            config.resolve_relative_to(base);
        }
        Ok(config)
    }

    /// Parses configuration `text`; `file_name` is used in error messages only.
    pub fn parse(text: &str, file_name: &str) -> Result<Self, ConfigError> {
        parse::parse(text, file_name)
    }

    /// The zero-config quick start: share `share` at `share_dir`, state in `state_dir`, listen
    /// on 127.0.0.1:`port`, account `demo` with password `demo`, signing required.
    pub fn quick_start(share_dir: PathBuf, state_dir: PathBuf, port: u16) -> Self {
        let mut config = Self::defaults();
        config.listen = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port);
        config.state_dir = state_dir;
        config.shares.push(ShareConfig {
            name: "share".to_owned(),
            path: share_dir,
            read_only: false,
            encrypt: EncryptPolicy::Off,
            comment: "Quick start share".to_owned(),
            sddl: None,
            root_sddl: None,
            access_based_enumeration: false,
            snapshot_dir: None,
            continuous_availability: false,
            streams: true,
            kernel_change_notify: true,
            hide_dot_files: false,
            hide_files: Vec::new(),
        });
        config.accounts.push(AccountConfig {
            name: "demo".to_owned(),
            nt_hash: acceptor::nt_hash("demo"),
            rid: FIRST_ACCOUNT_RID,
            groups: Vec::new(),
            previous: None,
        });
        config
    }

    /// The configuration every optional key defaults to, with no shares and no accounts.
    pub fn defaults() -> Self {
        Self {
            listen: DEFAULT_LISTEN,
            server_name: default_server_name(),
            server_comment: "Rust SMB server".to_owned(),
            server_aliases: Vec::new(),
            state_dir: PathBuf::from("/var/lib/smbd"),
            // Authenticated sessions sign unless configured otherwise, as Windows 11 24H2
            // requires for its own shares: an unsigned session can be hijacked or relayed.
            signing: SigningPolicy::Required,
            encrypt: EncryptPolicy::Off,
            ciphers: Cipher::DEFAULT_ORDER.to_vec(),
            signing_algorithms: SigningAlg::DEFAULT_ORDER.to_vec(),
            max_read_size: DEFAULT_MAX_IO_SIZE,
            max_write_size: DEFAULT_MAX_IO_SIZE,
            max_transact_size: DEFAULT_MAX_IO_SIZE,
            max_connections: 10_000,
            max_credits: 8192,
            log_level: "info".to_owned(),
            allow_anonymous: false,
            allow_ntlmv1: false,
            multichannel: true,
            interfaces: Vec::new(),
            shares: Vec::new(),
            accounts: Vec::new(),
            keytabs: Vec::new(),
            allow_rc4: false,
            clock_skew_seconds: 300,
            replay_cache_entries: acceptor::DEFAULT_REPLAY_CACHE_CAPACITY,
            principals: Vec::new(),
            admin_socket: None,
            metrics_listen: None,
            audit: crate::audit::AuditFormat::Text,
            audit_file: None,
            admin_groups: Vec::new(),
            limits: crate::limits::Limits::default(),
        }
    }

    /// The admin socket path: `admin_socket`, or `admin.sock` in the state directory.
    pub fn admin_socket_path(&self) -> PathBuf {
        self.admin_socket
            .clone()
            .unwrap_or_else(|| self.state_dir.join("admin.sock"))
    }

    /// Checks that every share path exists and is a directory. The error names the share's
    /// `path` key (without a line: the configuration may not come from a file).
    pub fn check_paths(&self) -> Result<(), ConfigError> {
        for (i, share) in self.shares.iter().enumerate() {
            let problem = match std::fs::metadata(&share.path) {
                Ok(meta) if meta.is_dir() => continue,
                Ok(_) => "is not a directory".to_owned(),
                Err(e) => format!("cannot be used: {e}"),
            };
            return Err(ConfigError {
                file: String::new(),
                line: None,
                key: Some(format!("share[{i}].path")),
                message: format!("{} {problem}", share.path.display()),
            });
        }
        Ok(())
    }

    /// The local accounts in the form the acceptor takes.
    pub fn local_accounts(&self) -> Vec<acceptor::LocalAccount> {
        self.accounts
            .iter()
            .map(AccountConfig::to_local_account)
            .collect()
    }

    fn resolve_relative_to(&mut self, base: &Path) {
        if base.as_os_str().is_empty() {
            return;
        }
        if self.state_dir.is_relative() {
            self.state_dir = base.join(&self.state_dir);
        }
        for k in &mut self.keytabs {
            if k.is_relative() {
                *k = base.join(&*k);
            }
        }
        if let Some(a) = &mut self.admin_socket
            && a.is_relative()
        {
            *a = base.join(&*a);
        }
        if let Some(a) = &mut self.audit_file
            && a.is_relative()
        {
            *a = base.join(&*a);
        }
        for share in &mut self.shares {
            if share.path.is_relative() {
                share.path = base.join(&share.path);
            }
        }
    }
}

/// The host name's first label, upper-cased, cut to 15 characters; `SMBD` when unknown.
pub fn default_server_name() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    netbios_name_from_host(&raw)
}

fn netbios_name_from_host(host: &str) -> String {
    let label = host.trim().split('.').next().unwrap_or("");
    let name: String = label
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(MAX_SERVER_NAME_LEN)
        .collect::<String>()
        .to_ascii_uppercase();
    if name.is_empty() {
        "SMBD".to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod keys_tests;
#[cfg(test)]
mod tests;
