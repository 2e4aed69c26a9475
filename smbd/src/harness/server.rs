//! The harness's server: one share `share` over the given backend, open to Everyone, anonymous
//! sessions allowed, the null crypto provider; each of these can be changed on the [`Builder`].

use std::sync::Arc;

use crate::conn::Connection;
use crate::limits::Limits;
use crate::state::{DiskShare, EncryptMode, ServerContext, Settings};

/// Builds a test server: by default one share `share` over the given backend, open to
/// Everyone, anonymous logons allowed, the null crypto provider and the system clock.
pub struct Builder {
    settings: Settings,
    shares: Vec<DiskShare>,
    auth: Arc<dyn acceptor::AuthProvider>,
    clock: Option<Arc<dyn crate::clock::Clock>>,
    crypto: &'static crate::crypto::CryptoProvider,
}

/// A disk share open to Everyone.
pub fn open_share(
    name: &str,
    vfs: Arc<dyn vfs::Vfs>,
    read_only: bool,
    encrypt: EncryptMode,
) -> DiskShare {
    DiskShare {
        name: name.into(),
        comment: String::new(),
        vfs,
        read_only,
        encrypt,
        sddl: Some("O:BAG:BAD:(A;;FA;;;WD)".into()),
        root_sddl: Some("O:BAG:BAD:(A;OICI;FA;;;WD)".into()),
        access_based_enumeration: false,
        continuous_availability: false,
        streams: true,
        hide: crate::state::hide::HideRules::default(),
    }
}

impl Builder {
    /// The default server over `vfs`, with `max_credits` as the credit ceiling.
    pub fn new(vfs: Arc<dyn vfs::Vfs>, max_credits: u16) -> Self {
        Self {
            settings: Settings {
                server_name: "T".into(),
                guid: [1; 16],
                signing_required: false,
                encrypt: EncryptMode::Off,
                ciphers: vec![crate::crypto::Cipher::Aes128Gcm],
                signing_algorithms: vec![crate::crypto::SigningAlgorithm::AesCmac],
                max_read: 65536,
                max_write: 65536,
                max_transact: 65536,
                max_credits,
                admin_groups: Vec::new(),
                limits: Limits::default(),
                multichannel: true,
                interfaces: Vec::new(),
            },
            shares: vec![open_share("share", vfs, false, EncryptMode::Off)],
            auth: spnego(),
            clock: None,
            crypto: &crate::crypto::NULL_PROVIDER,
        }
    }

    /// Changes the settings.
    pub fn settings(mut self, tweak: impl FnOnce(&mut Settings)) -> Self {
        tweak(&mut self.settings);
        self
    }

    /// Serves `shares` instead of the default one.
    pub fn shares(mut self, shares: Vec<DiskShare>) -> Self {
        self.shares = shares;
        self
    }

    /// Authenticates with `auth`.
    pub fn auth(mut self, auth: Arc<dyn acceptor::AuthProvider>) -> Self {
        self.auth = auth;
        self
    }

    /// Reads time from `clock` (a [`crate::clock::ManualClock`] for virtual time).
    pub fn clock(mut self, clock: Arc<dyn crate::clock::Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Real cryptography (`p`) instead of the null provider, for tests of signatures.
    pub fn crypto(mut self, p: &'static crate::crypto::CryptoProvider) -> Self {
        self.crypto = p;
        self
    }

    /// The server context.
    pub fn context(self) -> ServerContext {
        let ctx = ServerContext::new(
            self.settings,
            self.shares,
            self.auth,
            self.crypto,
            String::new(),
        );
        match self.clock {
            Some(c) => ctx.with_clock(c),
            None => ctx,
        }
    }

    /// The server, shared.
    pub fn build(self) -> Arc<ServerContext> {
        Arc::new(self.context())
    }
}

/// The default server, with `max_credits` as the credit ceiling.
pub fn server(vfs: Arc<dyn vfs::Vfs>, max_credits: u16) -> Arc<ServerContext> {
    Builder::new(vfs, max_credits).build()
}

/// The default server, with `max_credits` as the credit ceiling and its settings changed by
/// `tweak`.
pub fn server_with(
    vfs: Arc<dyn vfs::Vfs>,
    max_credits: u16,
    tweak: impl FnOnce(&mut Settings),
) -> Arc<ServerContext> {
    Builder::new(vfs, max_credits).settings(tweak).build()
}

/// The default server with another authenticator and other limits.
pub fn build(
    vfs: Arc<dyn vfs::Vfs>,
    max_credits: u16,
    auth: Arc<dyn acceptor::AuthProvider>,
    limits: Limits,
) -> ServerContext {
    Builder::new(vfs, max_credits)
        .auth(auth)
        .settings(|s| s.limits = limits)
        .context()
}

/// SPNEGO with anonymous logons allowed and no accounts.
fn spnego() -> Arc<dyn acceptor::AuthProvider> {
    spnego_with("T", "t", Vec::new())
}

/// SPNEGO for server `name` (DNS name `dns`) with anonymous logons allowed and `accounts`.
pub fn spnego_with(
    name: &str,
    dns: &str,
    accounts: Vec<acceptor::LocalAccount>,
) -> Arc<dyn acceptor::AuthProvider> {
    let auth = acceptor::SpnegoProvider::new(Arc::new(acceptor::AcceptorConfig {
        server_name: name.into(),
        domain_name: name.into(),
        dns_name: dns.into(),
        machine_sid: acl::Sid::new(5, &[21, 1, 2, 3]),
        accounts,
        allow_ntlmv1: false,
        allow_anonymous: true,
        keytab: None,
        allow_rc4: false,
        clock_skew: acceptor::DEFAULT_CLOCK_SKEW,
        principal_map: Vec::new(),
        ntlm_target_names: Vec::new(),
        replay_cache_capacity: acceptor::DEFAULT_REPLAY_CACHE_CAPACITY,
    }));
    Arc::new(auth)
}

/// Makes the anonymous session `sid` of `conn` count as a signed-in user's: not null (a null
/// session reaches no disk share), Authenticated Users added to its token, and without
/// signing keys, unsigned.
pub fn sign_in(conn: &Connection, sid: u64) {
    let session = conn.session(sid).expect("session");
    let mut sec = (*session.security().expect("valid session")).clone();
    sec.is_null = false;
    sec.auth.method = acceptor::AuthMethod::Ntlmv2;
    sec.auth.token.add_group(
        acl::Sid::authenticated_users(),
        acl::GroupAttributes::DEFAULT,
    );
    session.set_security(Arc::new(sec));
}
