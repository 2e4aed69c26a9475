//! Shared setup for the fuzz targets.

use std::sync::Arc;

use acceptor::{AcceptorConfig, LocalAccount, nt_hash};

/// A configuration with one account, and anonymous logons and NTLMv1 allowed (to reach those
/// paths too).
pub fn config() -> Arc<AcceptorConfig> {
    Arc::new(AcceptorConfig {
        server_name: "SERVER".into(),
        domain_name: "SERVER".into(),
        dns_name: "server.example.com".into(),
        machine_sid: "S-1-5-21-1-2-3".parse().expect("valid SID"),
        accounts: vec![LocalAccount {
            name: "alice".into(),
            nt_hash: nt_hash("Secret123"),
            rid: 1001,
            groups: Vec::new(),
            previous: None,
        }],
        allow_ntlmv1: true,
        allow_anonymous: true,
        keytab: None,
        allow_rc4: false,
        clock_skew: acceptor::DEFAULT_CLOCK_SKEW,
        principal_map: Vec::new(),
        ntlm_target_names: Vec::new(),
        replay_cache_capacity: acceptor::DEFAULT_REPLAY_CACHE_CAPACITY,
    })
}
