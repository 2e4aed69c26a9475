//! A server for the dispatch tests: one share `share` over the given backend, open to Everyone,
//! anonymous sessions allowed, the null crypto provider.

use std::sync::Arc;

use crate::state::{DiskShare, EncryptMode, ServerContext, Settings};

/// The server, with `max_credits` as the credit ceiling.
pub(crate) fn server(vfs: Arc<dyn vfs::Vfs>, max_credits: u16) -> Arc<ServerContext> {
    let settings = Settings {
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
        limits: crate::limits::Limits::default(),
    };
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
    }));
    Arc::new(ServerContext::new(
        settings,
        vec![share],
        Arc::new(auth),
        &crate::crypto::NULL_PROVIDER,
        String::new(),
    ))
}
