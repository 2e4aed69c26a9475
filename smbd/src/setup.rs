//! From a configuration to a server context: shares on their backends, the acceptor with the
//! local accounts, the settings NEGOTIATE advertises.

use std::sync::Arc;

use crate::config::{self, Config};
use crate::crypto::{self, Cipher, SigningAlgorithm};
use crate::state::{DiskShare, EncryptMode, ServerContext, Settings};

fn encrypt_mode(p: &config::EncryptPolicy) -> EncryptMode {
    match p {
        config::EncryptPolicy::Off => EncryptMode::Off,
        config::EncryptPolicy::Desired => EncryptMode::Desired,
        config::EncryptPolicy::Required => EncryptMode::Required,
    }
}

fn cipher(c: &config::Cipher) -> Cipher {
    match c {
        config::Cipher::Aes128Ccm => Cipher::Aes128Ccm,
        config::Cipher::Aes128Gcm => Cipher::Aes128Gcm,
        config::Cipher::Aes256Ccm => Cipher::Aes256Ccm,
        config::Cipher::Aes256Gcm => Cipher::Aes256Gcm,
    }
}

fn signing(a: &config::SigningAlg) -> SigningAlgorithm {
    match a {
        config::SigningAlg::HmacSha256 => SigningAlgorithm::HmacSha256,
        config::SigningAlg::AesCmac => SigningAlgorithm::AesCmac,
        config::SigningAlg::AesGmac => SigningAlgorithm::AesGmac,
    }
}

/// The machine SID of the server: S-1-5-21 plus three sub-authorities from its GUID, so it is
/// stable for the life of the state directory.
pub fn machine_sid(guid: &[u8; 16]) -> acl::Sid {
    let w = |i: usize| u32::from_le_bytes([guid[i], guid[i + 1], guid[i + 2], guid[i + 3]]);
    acl::Sid::new(5, &[21, w(0), w(4), w(8)])
}

/// The host names an NTLM target name may use besides the server name: `server_aliases`, the
/// listening address (when a specific one), `localhost` on loopback, and this machine's host
/// name with and without its domain. (The address each connection arrives on is accepted
/// too, per connection.)
fn ntlm_target_names(cfg: &Config) -> Vec<String> {
    let mut names = cfg.server_aliases.clone();
    names.extend(acceptor::ntlm::client_av::listen_names(cfg.listen));
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let host = host.trim();
        if !host.is_empty() {
            names.push(host.to_owned());
            if let Some((first, _)) = host.split_once('.') {
                names.push(first.to_owned());
            }
        }
    }
    names
}

/// Builds the server context from a checked configuration and the persisted server GUID.
pub fn build(cfg: &Config, guid: [u8; 16]) -> std::io::Result<Arc<ServerContext>> {
    Ok(build_server(cfg, guid)?.ctx)
}

/// A server built from its configuration, with what a reload needs besides the context.
pub struct Built {
    /// The server context.
    pub ctx: Arc<ServerContext>,
    /// The Kerberos replay cache, kept across reloads (an authenticator seen before a reload
    /// is still a replay after it).
    pub replay: Arc<acceptor::krb5::replay::ReplayCache>,
}

/// Like [`build`], also returning what a live reload keeps ([`crate::reload`]).
pub fn build_server(cfg: &Config, guid: [u8; 16]) -> std::io::Result<Built> {
    let settings = settings(cfg, guid);
    let shares = cfg
        .shares
        .iter()
        .map(disk_share)
        .collect::<std::io::Result<Vec<_>>>()?;
    let replay = Arc::new(acceptor::krb5::replay::ReplayCache::new(
        cfg.replay_cache_entries,
    ));
    let auth = auth_provider(cfg, guid, replay.clone())?;
    let mut ctx = ServerContext::new(
        settings,
        shares,
        auth,
        &crypto::DEFAULT_PROVIDER,
        cfg.server_comment.clone(),
    );
    ctx = ctx.with_audit(audit_log(cfg)?);
    if cfg.shares.iter().any(|s| s.continuous_availability) {
        // Persistent handles outlive the process: kept in a journal in the state directory.
        let journal = crate::durable::JournalStore::open(&cfg.state_dir)?;
        ctx = ctx.with_handle_store(Arc::new(journal));
    }
    Ok(Built {
        ctx: Arc::new(ctx),
        replay,
    })
}

/// The protocol settings and limits of a configuration.
pub fn settings(cfg: &Config, guid: [u8; 16]) -> Settings {
    Settings {
        server_name: cfg.server_name.clone(),
        guid,
        signing_required: matches!(cfg.signing, config::SigningPolicy::Required),
        encrypt: encrypt_mode(&cfg.encrypt),
        ciphers: cfg.ciphers.iter().map(cipher).collect(),
        signing_algorithms: cfg.signing_algorithms.iter().map(signing).collect(),
        max_read: cfg.max_read_size,
        max_write: cfg.max_write_size,
        max_transact: cfg.max_transact_size,
        max_credits: cfg.max_credits,
        admin_groups: cfg.admin_groups.clone(),
        limits: cfg.limits.clone(),
        multichannel: cfg.multichannel,
        interfaces: cfg.interfaces.clone(),
    }
}

/// A share's backend and options: the POSIX file system below its path.
pub fn disk_share(s: &config::ShareConfig) -> std::io::Result<DiskShare> {
    let mut posix =
        vfs::posix::PosixFs::new(s.path.clone())?.with_kernel_notify(s.kernel_change_notify);
    if let Some(dir) = &s.snapshot_dir {
        posix = posix.with_snapshot_dir(dir.clone());
    }
    Ok(DiskShare {
        name: s.name.clone(),
        comment: s.comment.clone(),
        vfs: Arc::new(posix),
        read_only: s.read_only,
        encrypt: encrypt_mode(&s.encrypt),
        sddl: s.sddl.clone(),
        root_sddl: s.root_sddl.clone(),
        access_based_enumeration: s.access_based_enumeration,
        continuous_availability: s.continuous_availability,
        streams: s.streams,
        hide: crate::state::hide::HideRules {
            dot_files: s.hide_dot_files,
            patterns: s.hide_files.clone(),
        },
    })
}

/// The authenticator factory of a configuration: its local accounts, keytabs (read now) and
/// principal mappings, with the server's replay cache.
pub fn auth_provider(
    cfg: &Config,
    guid: [u8; 16],
    replay: Arc<acceptor::krb5::replay::ReplayCache>,
) -> std::io::Result<Arc<dyn acceptor::AuthProvider>> {
    let accounts = cfg
        .accounts
        .iter()
        .map(config::AccountConfig::to_local_account)
        .collect();
    let keytab = if cfg.keytabs.is_empty() {
        None
    } else {
        let source = acceptor::krb5::keytab::KeytabSource::open_many(cfg.keytabs.clone())
            .map_err(|e| std::io::Error::other(format!("keytab: {e:?}")))?;
        Some(Arc::new(source))
    };
    let acceptor_cfg = acceptor::AcceptorConfig {
        server_name: cfg.server_name.to_uppercase(),
        domain_name: cfg.server_name.to_uppercase(),
        dns_name: cfg.server_name.to_lowercase(),
        machine_sid: machine_sid(&guid),
        accounts,
        allow_ntlmv1: cfg.allow_ntlmv1,
        allow_anonymous: cfg.allow_anonymous,
        keytab,
        allow_rc4: cfg.allow_rc4,
        clock_skew: std::time::Duration::from_secs(cfg.clock_skew_seconds),
        principal_map: cfg
            .principals
            .iter()
            .map(|p| (p.name.clone(), p.sid.clone(), p.groups.clone()))
            .collect(),
        ntlm_target_names: ntlm_target_names(cfg),
        replay_cache_capacity: cfg.replay_cache_entries,
    };
    Ok(Arc::new(acceptor::SpnegoProvider::with_replay_cache(
        Arc::new(acceptor_cfg),
        replay,
    )))
}

/// The audit log a configuration asks for.
pub fn audit_log(cfg: &Config) -> std::io::Result<crate::audit::AuditLog> {
    crate::audit::AuditLog::open(cfg.audit, cfg.audit_file.as_deref()).map_err(|e| {
        let file = cfg
            .audit_file
            .as_deref()
            .unwrap_or(std::path::Path::new(""));
        std::io::Error::new(e.kind(), format!("audit_file {}: {e}", file.display()))
    })
}
