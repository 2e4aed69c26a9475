//! What outlives a request and a connection: settings, shares, the authenticator and the
//! server-wide tables (channels, sessions, opens, open files). Nothing here knows the
//! connection type: connections register as [`channels::Channel`]s.

pub mod channels;
pub mod files;
pub mod handshakes;
pub mod hide;
pub mod lock_sequence;
pub mod locks;
pub mod notify;
pub mod opens;
pub mod session;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use crate::crypto::{Cipher, CryptoProvider, SigningAlgorithm};
use crate::rpc::ServerIdentity;
use crate::state::files::FileTable;

/// Whether a share or the server encrypts (MS-SMB2 Share.EncryptData, Server.EncryptData).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncryptMode {
    /// No encryption asked.
    Off,
    /// Encrypt with clients that can; others still served.
    Desired,
    /// Encrypt; clients that cannot are refused with ACCESS_DENIED.
    Required,
}

/// Protocol settings of the server.
#[derive(Debug, Clone)]
pub struct Settings {
    /// NetBIOS name.
    pub server_name: String,
    /// ServerGuid.
    pub guid: [u8; 16],
    /// Require signing of every session.
    pub signing_required: bool,
    /// Server-wide encryption.
    pub encrypt: EncryptMode,
    /// Ciphers in order of preference.
    pub ciphers: Vec<Cipher>,
    /// Signing algorithms in order of preference (3.1.1).
    pub signing_algorithms: Vec<SigningAlgorithm>,
    /// MaxReadSize.
    pub max_read: u32,
    /// MaxWriteSize.
    pub max_write: u32,
    /// MaxTransactSize.
    pub max_transact: u32,
    /// Credit ceiling per connection.
    pub max_credits: u16,
    /// Members of these groups hold the security, backup and restore privileges.
    pub admin_groups: Vec<acl::Sid>,
    /// Deadlines and caps on what one client can hold.
    pub limits: crate::limits::Limits,
    /// Offer multichannel (3.x): a client may bind more connections to a session.
    pub multichannel: bool,
    /// The interfaces FSCTL_QUERY_NETWORK_INTERFACE_INFO lists (`interfaces`; empty: all).
    pub interfaces: Vec<crate::netif::InterfaceSpec>,
}

/// One share.
pub struct Share {
    /// Index in the server's share list (stable for the server's life).
    pub index: usize,
    /// Name as configured.
    pub name: String,
    /// Comment shown in share lists.
    pub comment: String,
    /// Storage; `None` for IPC$.
    pub vfs: Option<Arc<dyn vfs::Vfs>>,
    /// Refuse writes.
    pub read_only: bool,
    /// Encryption policy.
    pub encrypt: EncryptMode,
    /// Share-level permissions, intersected with every file's access check.
    pub share_sd: acl::SecurityDescriptor,
    /// The root's descriptor when none is stored on it.
    pub root_default: acl::SecurityDescriptor,
    /// Access-based enumeration: listings show only entries the session may read.
    pub access_based_enumeration: bool,
    /// Continuously available: persistent handles may be granted (MS-SMB2
    /// Share.IsCA).
    pub continuous_availability: bool,
    /// Alternate data streams are served (off: names with a stream part are invalid).
    pub streams: bool,
    /// Names shown HIDDEN whatever their attributes (`hide_dot_files`, `hide_files`).
    pub hide: hide::HideRules,
    /// Bytes read and written through the share (metrics).
    pub io: crate::metrics::ShareIo,
}

impl Share {
    /// Whether this is the IPC$ share.
    pub fn is_ipc(&self) -> bool {
        self.vfs.is_none()
    }

    /// A disk share with the index `index` (unique for the server's life: a share added by a
    /// reload gets a new one, so its files never meet those of a share it replaced).
    pub fn disk(index: usize, d: DiskShare) -> Self {
        Self {
            index,
            name: d.name,
            comment: d.comment,
            vfs: Some(d.vfs),
            read_only: d.read_only,
            encrypt: d.encrypt,
            share_sd: parse_sd(d.sddl.as_deref().unwrap_or(DEFAULT_SHARE_SDDL)),
            root_default: parse_sd(d.root_sddl.as_deref().unwrap_or(DEFAULT_ROOT_SDDL)),
            access_based_enumeration: d.access_based_enumeration,
            continuous_availability: d.continuous_availability,
            streams: d.streams,
            hide: d.hide,
            io: Default::default(),
        }
    }

    /// The IPC$ share.
    fn ipc(index: usize) -> Self {
        Self {
            index,
            name: "IPC$".into(),
            comment: "IPC Service".into(),
            vfs: None,
            read_only: false,
            encrypt: EncryptMode::Off,
            share_sd: parse_sd(IPC_SHARE_SDDL),
            root_default: parse_sd(DEFAULT_ROOT_SDDL),
            access_based_enumeration: false,
            continuous_availability: false,
            streams: false,
            hide: hide::HideRules::default(),
            io: Default::default(),
        }
    }
}

/// What srvsvc tells of a server serving `shares`.
fn identity_of(name: &str, comment: &str, shares: &[Arc<Share>]) -> ServerIdentity {
    ServerIdentity {
        name: name.to_owned(),
        comment: comment.to_owned(),
        shares: shares
            .iter()
            .map(|s| crate::rpc::ShareEntry {
                name: s.name.clone(),
                kind: if s.is_ipc() {
                    crate::rpc::ShareKind::Ipc
                } else {
                    crate::rpc::ShareKind::Disk
                },
                comment: s.comment.clone(),
                path: if s.is_ipc() {
                    String::new()
                } else {
                    format!("C:\\{}", s.name)
                },
            })
            .collect(),
    }
}

/// Share-level permissions when none are configured: Authenticated Users full control.
pub const DEFAULT_SHARE_SDDL: &str = "O:BAG:BAD:(A;;FA;;;AU)";
/// Share-level permissions of IPC$: Authenticated Users and, where anonymous logons are
/// allowed at all (`allow_anonymous`), the anonymous logon, which reaches IPC$ only.
pub const IPC_SHARE_SDDL: &str = "O:BAG:BAD:(A;;FA;;;AU)(A;;FA;;;AN)";
/// The share root's descriptor when none is stored or configured: Authenticated Users, SYSTEM
/// and Administrators full control, inherited by everything below.
pub const DEFAULT_ROOT_SDDL: &str = "O:BAG:BAD:(A;OICI;FA;;;AU)(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";

fn parse_sd(text: &str) -> acl::SecurityDescriptor {
    acl::SecurityDescriptor::from_sddl(text, None).unwrap_or_else(|_| {
        acl::SecurityDescriptor::default_for(
            &acl::Sid::builtin_administrators(),
            &acl::Sid::builtin_administrators(),
            true,
        )
    })
}

/// A disk share to serve, as [`ServerContext::new`] takes it.
pub struct DiskShare {
    /// Name as configured.
    pub name: String,
    /// Comment shown in share lists.
    pub comment: String,
    /// Storage.
    pub vfs: Arc<dyn vfs::Vfs>,
    /// Refuse writes.
    pub read_only: bool,
    /// Encryption policy.
    pub encrypt: EncryptMode,
    /// Share-level permissions as SDDL (default [`DEFAULT_SHARE_SDDL`]).
    pub sddl: Option<String>,
    /// The root's descriptor as SDDL when none is stored (default [`DEFAULT_ROOT_SDDL`]).
    pub root_sddl: Option<String>,
    /// Access-based enumeration (off by default).
    pub access_based_enumeration: bool,
    /// Continuous availability (off by default).
    pub continuous_availability: bool,
    /// Alternate data streams (on by default).
    pub streams: bool,
    /// Names shown HIDDEN whatever their attributes.
    pub hide: hide::HideRules,
}

/// Everything the connections share.
pub struct ServerContext {
    /// Protocol settings and limits ([`Self::settings`]; a reload replaces them whole).
    settings: arc_swap::ArcSwap<Settings>,
    /// Shares, IPC$ included ([`Self::shares`]; a reload replaces the list).
    shares: RwLock<Arc<[Arc<Share>]>>,
    /// The next share's index.
    next_share: AtomicUsize,
    /// Creates authenticators ([`Self::auth`]; a reload replaces it with the new accounts and
    /// keytabs).
    auth: RwLock<Arc<dyn acceptor::AuthProvider>>,
    /// Crypto primitives.
    pub crypto: &'static CryptoProvider,
    /// Open files of every connection: share modes, delete-pending and byte-range locks.
    pub files: FileTable,
    /// Every session (MS-SMB2 GlobalSessionTable).
    pub sessions: session::SessionTable,
    /// Every open (MS-SMB2 GlobalOpenTable), by persistent id.
    pub opens: opens::OpenTable,
    /// What srvsvc tells about the server ([`Self::identity`]).
    identity: RwLock<Arc<ServerIdentity>>,
    /// Sessions being authenticated, server-wide (capped by `limits.max_pending_sessions`).
    pub handshakes: Arc<handshakes::Handshakes>,
    /// Where persistent handles are kept so they outlive the process (a journal in
    /// `state_dir` when a share is continuously available; in memory otherwise).
    pub handles: Arc<dyn crate::durable::HandleStore>,
    /// The time of day (injected: tests use a [`crate::clock::ManualClock`]).
    pub clock: Arc<dyn crate::clock::Clock>,
    /// Live connections by id: where unsolicited messages (breaks) go, and what the admin
    /// status report lists.
    pub channels: channels::ChannelTable,
    /// The change notify watches of open directories.
    pub notify: notify::NotifyTable,
    /// Counters of requests, authentication failures and refusals (the metrics endpoint).
    pub metrics: crate::metrics::Metrics,
    /// Where logons, logoffs, share access and access denials are recorded ([`Self::audit`]).
    audit: RwLock<Arc<crate::audit::AuditLog>>,
    next_id: AtomicU64,
}

impl ServerContext {
    /// Assembles the context; IPC$ is added to `shares` here.
    pub fn new(
        settings: Settings,
        disk_shares: Vec<DiskShare>,
        auth: Arc<dyn acceptor::AuthProvider>,
        crypto: &'static CryptoProvider,
        server_comment: String,
    ) -> Self {
        let mut shares: Vec<Arc<Share>> = disk_shares
            .into_iter()
            .enumerate()
            .map(|(i, d)| Arc::new(Share::disk(i, d)))
            .collect();
        shares.push(Arc::new(Share::ipc(shares.len())));
        let identity = identity_of(&settings.server_name, &server_comment, &shares);
        let break_timeout = settings.limits.oplock_break_timeout;
        Self {
            next_share: AtomicUsize::new(shares.len()),
            settings: arc_swap::ArcSwap::from_pointee(settings),
            shares: RwLock::new(shares.into()),
            auth: RwLock::new(auth),
            crypto,
            files: FileTable::new(break_timeout),
            sessions: Default::default(),
            opens: Default::default(),
            identity: RwLock::new(Arc::new(identity)),
            handshakes: Arc::default(),
            handles: Arc::new(crate::durable::MemStore::new()),
            clock: Arc::new(crate::clock::SystemClock),
            channels: Default::default(),
            notify: Default::default(),
            metrics: Default::default(),
            audit: RwLock::new(Arc::default()),
            next_id: AtomicU64::new(1),
        }
    }

    /// The same context keeping persistent handles in `store`.
    pub fn with_handle_store(mut self, store: Arc<dyn crate::durable::HandleStore>) -> Self {
        self.handles = store;
        self
    }

    /// Makes every later [`Self::next_id`] larger than `id` (ids restored from the handle
    /// store stay unique).
    pub fn ids_past(&self, id: u64) {
        self.next_id
            .fetch_max(id.saturating_add(1), Ordering::Relaxed);
    }

    /// The same context recording audit events in `audit`.
    pub fn with_audit(self, audit: crate::audit::AuditLog) -> Self {
        self.set_audit(audit);
        self
    }

    /// Records audit events in `audit` from now on (a reload).
    pub fn set_audit(&self, audit: crate::audit::AuditLog) {
        *self.audit.write().unwrap() = Arc::new(audit);
    }

    /// Whether audit events are recorded.
    pub fn auditing(&self) -> bool {
        self.audit.read().unwrap().enabled()
    }

    /// Records an audit event, stamped with the server's clock.
    pub fn audit(&self, record: &crate::audit::Record) {
        let audit = self.audit.read().unwrap().clone();
        if audit.enabled() {
            audit.record(self.clock.now(), record);
        }
    }

    /// The same context reading time from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn crate::clock::Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The settings and limits now (a reload may replace them; a request reads them once).
    pub fn settings(&self) -> arc_swap::Guard<Arc<Settings>> {
        self.settings.load()
    }

    /// Replaces the settings (a reload: new limits).
    pub fn set_settings(&self, settings: Settings) {
        self.settings.store(Arc::new(settings));
    }

    /// The shares served now, IPC$ last.
    pub fn shares(&self) -> Arc<[Arc<Share>]> {
        self.shares.read().unwrap().clone()
    }

    /// The share named `name`, case-insensitively.
    pub fn share(&self, name: &str) -> Option<Arc<Share>> {
        self.shares
            .read()
            .unwrap()
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
            .cloned()
    }

    /// An index for a share made now (never one given before).
    pub fn next_share_index(&self) -> usize {
        self.next_share.fetch_add(1, Ordering::Relaxed)
    }

    /// Serves `disk` (and IPC$) from now on; srvsvc lists them. Trees already connected keep
    /// their share; see [`crate::reload`] for those of shares taken away.
    pub fn set_shares(&self, disk: Vec<Arc<Share>>) {
        let ipc = self
            .shares()
            .iter()
            .find(|s| s.is_ipc())
            .cloned()
            .unwrap_or_else(|| Arc::new(Share::ipc(self.next_share_index())));
        let mut all = disk;
        all.push(ipc);
        let old = self.identity();
        let identity = identity_of(&old.name, &old.comment, &all);
        *self.shares.write().unwrap() = all.into();
        *self.identity.write().unwrap() = Arc::new(identity);
    }

    /// What srvsvc tells about the server now.
    pub fn identity(&self) -> Arc<ServerIdentity> {
        self.identity.read().unwrap().clone()
    }

    /// The authenticator factory now.
    pub fn auth(&self) -> Arc<dyn acceptor::AuthProvider> {
        self.auth.read().unwrap().clone()
    }

    /// Replaces the authenticator factory (a reload: new accounts, keytabs, principals);
    /// exchanges under way finish with the one they started with.
    pub fn set_auth(&self, auth: Arc<dyn acceptor::AuthProvider>) {
        *self.auth.write().unwrap() = auth;
    }

    /// A fresh id, unique for the server's life (session ids, file ids, async ids).
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}
