//! Secrets never reach logs: the Debug output of every type holding a key, password hash or
//! session key leaves the bytes out.

use std::sync::Arc;

use crate::krb5::crypto::{Etype, Key};
use crate::krb5::keytab::{Keytab, KeytabEntry, KeytabSource, Principal};
use crate::krb5::messages::{Authenticator, EncTicketPart, EncryptionKey, PrincipalName};
use crate::*;

/// The secret byte used everywhere below; its decimal and hex forms must not be printed.
const SECRET: u8 = 0xAB;

fn assert_redacted(what: &str, debug: String) {
    let lower = debug.to_lowercase();
    assert!(
        !debug.contains("171") && !lower.contains("abab") && !lower.contains("ab, ab"),
        "{what} prints secret bytes: {debug}"
    );
}

fn principal() -> PrincipalName {
    PrincipalName {
        name_type: 1,
        components: vec!["alice".into()],
    }
}

#[test]
fn debug_output_never_shows_keys() {
    let key = Key::new(Etype::AES256_SHA1, &[SECRET; 32]).unwrap();
    assert_redacted("Key", format!("{key:?}"));
    let enc_key = EncryptionKey {
        keytype: 18,
        keyvalue: vec![SECRET; 32],
    };
    assert_redacted("EncryptionKey", format!("{enc_key:?}"));
    let ticket = EncTicketPart {
        flags: 0,
        key: enc_key.clone(),
        crealm: "EXAMPLE.COM".into(),
        cname: principal(),
        authtime: 0,
        starttime: None,
        endtime: 0,
        authorization_data: Vec::new(),
    };
    assert_redacted("EncTicketPart", format!("{ticket:?}"));
    let authn = Authenticator {
        crealm: "EXAMPLE.COM".into(),
        cname: principal(),
        cksum: None,
        cusec: 0,
        ctime: 0,
        subkey: Some(enc_key),
        seq_number: None,
    };
    assert_redacted("Authenticator", format!("{authn:?}"));
    let entry = KeytabEntry {
        principal: Principal::parse("cifs/fs.example.com@EXAMPLE.COM", 2).unwrap(),
        timestamp: 0,
        kvno: 2,
        etype: Etype::AES256_SHA1,
        key: vec![SECRET; 32],
    };
    let keytab = Keytab {
        entries: vec![entry.clone()],
    };
    assert_redacted("KeytabEntry", format!("{entry:?}"));
    assert_redacted("Keytab", format!("{keytab:?}"));
    let account = LocalAccount {
        name: "alice".into(),
        nt_hash: [SECRET; 16],
        rid: 1001,
        groups: Vec::new(),
        previous: Some(PreviousHash {
            nt_hash: [SECRET; 16],
            valid_until: SystemTime::UNIX_EPOCH,
        }),
    };
    assert_redacted("LocalAccount", format!("{account:?}"));
    let config = AcceptorConfig {
        server_name: "FS".into(),
        domain_name: "FS".into(),
        dns_name: "fs.example.com".into(),
        machine_sid: "S-1-5-21-1-2-3".parse().unwrap(),
        accounts: vec![account],
        allow_ntlmv1: false,
        allow_anonymous: false,
        keytab: Some(Arc::new(KeytabSource::fixed(keytab))),
        allow_rc4: false,
        clock_skew: DEFAULT_CLOCK_SKEW,
        principal_map: Vec::new(),
        ntlm_target_names: Vec::new(),
        replay_cache_capacity: DEFAULT_REPLAY_CACHE_CAPACITY,
    };
    assert_redacted("AcceptorConfig", format!("{config:?}"));
    let auth = AuthContext {
        user: "alice".into(),
        domain: "EXAMPLE.COM".into(),
        token: acl::Token::network_logon("S-1-5-21-1-2-3-1001".parse().unwrap(), Vec::new()),
        session_key: vec![SECRET; 16],
        method: AuthMethod::Kerberos,
        expires_at: None,
    };
    assert_redacted("AuthContext", format!("{auth:?}"));
}
