//! A server for the dispatch tests: one share `share` over the given backend, open to Everyone,
//! anonymous sessions allowed, the null crypto provider.

use std::sync::Arc;

use crate::conn::Connection;
use crate::limits::Limits;
use crate::state::{DiskShare, EncryptMode, ServerContext, Settings};

/// The server, with `max_credits` as the credit ceiling.
pub(crate) fn server(vfs: Arc<dyn vfs::Vfs>, max_credits: u16) -> Arc<ServerContext> {
    server_with(vfs, max_credits, |_| {})
}

/// The server, with `max_credits` as the credit ceiling and its settings changed by `tweak`.
pub(super) fn server_with(
    vfs: Arc<dyn vfs::Vfs>,
    max_credits: u16,
    tweak: impl FnOnce(&mut Settings),
) -> Arc<ServerContext> {
    Arc::new(build_with(vfs, max_credits, spnego(), tweak))
}

/// The server with another authenticator and other limits.
pub(super) fn build(
    vfs: Arc<dyn vfs::Vfs>,
    max_credits: u16,
    auth: Arc<dyn acceptor::AuthProvider>,
    limits: Limits,
) -> ServerContext {
    build_with(vfs, max_credits, auth, |s| s.limits = limits)
}

fn build_with(
    vfs: Arc<dyn vfs::Vfs>,
    max_credits: u16,
    auth: Arc<dyn acceptor::AuthProvider>,
    tweak: impl FnOnce(&mut Settings),
) -> ServerContext {
    let mut settings = Settings {
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
    };
    tweak(&mut settings);
    let share = DiskShare {
        name: "share".into(),
        comment: String::new(),
        vfs,
        read_only: false,
        encrypt: EncryptMode::Off,
        sddl: Some("O:BAG:BAD:(A;;FA;;;WD)".into()),
        root_sddl: Some("O:BAG:BAD:(A;OICI;FA;;;WD)".into()),
        access_based_enumeration: false,
    };
    ServerContext::new(
        settings,
        vec![share],
        auth,
        &crate::crypto::NULL_PROVIDER,
        String::new(),
    )
}

/// SPNEGO with anonymous logons allowed and no accounts.
fn spnego() -> Arc<dyn acceptor::AuthProvider> {
    let auth = acceptor::SpnegoProvider::new(Arc::new(acceptor::AcceptorConfig {
        server_name: "T".into(),
        domain_name: "T".into(),
        dns_name: "t".into(),
        machine_sid: acl::Sid::new(5, &[21, 1, 2, 3]),
        accounts: Vec::new(),
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
pub(crate) fn sign_in(conn: &Connection, sid: u64) {
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
