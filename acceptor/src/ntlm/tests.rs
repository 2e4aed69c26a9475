//! The NTLM acceptor against crafted AUTHENTICATE messages: MsvAvTargetName,
//! MsvAvChannelBindings and MsvAvFlags (MS-NLMP 2.2.2.1, 3.2.5.1.2).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::messages::{self, av_id};
use super::{ExpectNegotiate, NtlmError, client_av};
use crate::krb5::crypto::Etype;
use crate::krb5::keytab::{Keytab, KeytabEntry, KeytabSource, Principal};
use crate::test_client::{TestNtlmClient, ntlm_self_test_client};
use crate::*;

/// The shared test configuration (account Alice, matched case-insensitively).
fn config() -> AcceptorConfig {
    (*tests::config()).clone()
}

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn client(extra_av: Vec<(u16, Vec<u8>)>) -> TestNtlmClient {
    let mut c = ntlm_self_test_client("alice", "SERVER", "Secret123");
    c.extra_av = extra_av;
    c
}

/// Runs NEGOTIATE / CHALLENGE / AUTHENTICATE; the result of the AUTHENTICATE (MIC presence).
fn exchange(cfg: &AcceptorConfig, client: &mut TestNtlmClient) -> Result<bool, NtlmError> {
    let (next, challenge) = ExpectNegotiate
        .negotiate(cfg, now(), &client.negotiate())
        .unwrap();
    let msg = client.authenticate(&challenge);
    next.authenticate(cfg, now(), None, &msg)
        .map(|s| s.mic_present)
}

fn target(spn: &str) -> (u16, Vec<u8>) {
    (av_id::TARGET_NAME, messages::string_to_utf16le(spn))
}

fn bindings(hash: &[u8]) -> (u16, Vec<u8>) {
    (av_id::CHANNEL_BINDINGS, hash.to_vec())
}

#[test]
fn target_names_of_this_server_are_accepted() {
    let cfg = config();
    let single_host = (av_id::SINGLE_HOST, vec![0x30; 48]);
    let cases: Vec<Vec<(u16, Vec<u8>)>> = vec![
        vec![],
        vec![(av_id::TARGET_NAME, Vec::new())],
        vec![target("cifs/SERVER")],
        vec![target("cifs/server.example.com")],
        vec![target("CIFS/Server.Example.COM.")],
        vec![target("host/server")],
        // What Windows and Samba send: single host, zero bindings, then the target.
        vec![
            single_host,
            bindings(&[0; 16]),
            target("cifs/server.example.com"),
        ],
    ];
    for (i, av) in cases.into_iter().enumerate() {
        assert_eq!(exchange(&cfg, &mut client(av)), Ok(true), "case {i}");
    }
}

#[test]
fn target_names_of_other_servers_are_refused() {
    let cfg = config();
    for spn in [
        "cifs/attacker",
        "cifs/attacker.example.com",
        "cifs/server.example.com.evil.net",
        "cifs/10.0.0.5",
        "http/server.example.com",
        "ldap/server",
        "server.example.com",
        "cifs/",
        "cifs/server/extra",
    ] {
        assert_eq!(
            exchange(&cfg, &mut client(vec![target(spn)])),
            Err(NtlmError::TargetNameMismatch),
            "{spn}"
        );
    }
    // A second, matching target name does not hide the first.
    let av = vec![target("cifs/attacker"), target("cifs/server")];
    assert_eq!(
        exchange(&cfg, &mut client(av)),
        Err(NtlmError::TargetNameMismatch)
    );
    assert_eq!(
        AuthError::from(NtlmError::TargetNameMismatch),
        AuthError::LogonFailure("NTLM target name does not name this server")
    );
}

#[test]
fn configured_addresses_and_keytab_hosts_are_accepted() {
    let mut cfg = config();
    cfg.ntlm_target_names = vec!["10.0.0.5".into(), "files.corp.example".into()];
    let principal = Principal::parse("cifs/alias.example.com@EXAMPLE.COM", 2).unwrap();
    let entry =
        KeytabEntry::from_password(principal, 3, Etype::AES256_SHA1, "pw", None, 0).unwrap();
    cfg.keytab = Some(Arc::new(KeytabSource::fixed(Keytab {
        entries: vec![entry],
    })));
    for spn in [
        "cifs/10.0.0.5",
        "cifs/FILES.corp.example",
        "cifs/Alias.Example.com",
    ] {
        assert_eq!(
            exchange(&cfg, &mut client(vec![target(spn)])),
            Ok(true),
            "{spn}"
        );
    }
    for spn in ["cifs/10.0.0.6", "cifs/other.example.com"] {
        assert_eq!(
            exchange(&cfg, &mut client(vec![target(spn)])),
            Err(NtlmError::TargetNameMismatch),
            "{spn}"
        );
    }
}

#[test]
fn listen_names_are_the_specific_address_and_localhost_for_loopback() {
    let specific = "192.0.2.7:445".parse().unwrap();
    assert_eq!(client_av::listen_names(specific), vec!["192.0.2.7"]);
    let loopback = "127.0.0.9:4445".parse().unwrap();
    assert_eq!(
        client_av::listen_names(loopback),
        vec!["127.0.0.9", "localhost"]
    );
    assert!(client_av::listen_names("0.0.0.0:445".parse().unwrap()).is_empty());
    assert!(client_av::listen_names("[::]:445".parse().unwrap()).is_empty());
}

#[test]
fn zero_or_absent_channel_bindings_are_accepted_and_others_refused() {
    let cfg = config();
    assert_eq!(exchange(&cfg, &mut client(vec![])), Ok(true));
    assert_eq!(
        exchange(&cfg, &mut client(vec![bindings(&[0; 16])])),
        Ok(true)
    );
    let mut tls = [0u8; 16];
    tls[15] = 1;
    assert_eq!(
        exchange(&cfg, &mut client(vec![bindings(&tls)])),
        Err(NtlmError::ChannelBindingsMismatch)
    );
    assert_eq!(
        exchange(
            &cfg,
            &mut client(vec![bindings(&[0; 16]), bindings(&[7; 16])])
        ),
        Err(NtlmError::ChannelBindingsMismatch)
    );
    assert_eq!(
        exchange(&cfg, &mut client(vec![bindings(&[0; 15])])),
        Err(NtlmError::MalformedAvPair(
            "MsvAvChannelBindings is not 16 bytes"
        ))
    );
    assert_eq!(
        AuthError::from(NtlmError::ChannelBindingsMismatch),
        AuthError::LogonFailure("NTLM channel bindings present without a TLS channel")
    );
}

#[test]
fn announced_mic_is_always_verified() {
    let cfg = config();
    // The MIC bit in a second MsvAvFlags pair still requires the MIC (and a corrupt one fails).
    let mut c = client(vec![(av_id::FLAGS, 0u32.to_le_bytes().to_vec())]);
    c.corrupt_mic = true;
    assert_eq!(exchange(&cfg, &mut c), Err(NtlmError::MicMismatch));
    // A MIC announced in a message with no room for one.
    let mut c = client(Vec::new());
    c.omit_mic_field = true;
    assert_eq!(exchange(&cfg, &mut c), Err(NtlmError::MicMissing));
    // Without the flag no MIC is required.
    let mut c = client(Vec::new());
    c.with_mic = false;
    c.omit_mic_field = true;
    assert_eq!(exchange(&cfg, &mut c), Ok(false));
    // MsvAvFlags must be four bytes.
    let mut c = client(vec![(av_id::FLAGS, vec![2, 0])]);
    c.with_mic = false;
    assert_eq!(
        exchange(&cfg, &mut c),
        Err(NtlmError::MalformedAvPair("MsvAvFlags is not 4 bytes"))
    );
}

/// The address a connection arrived on names the server (a client reaching `\\10.1.2.3`
/// sends `cifs/10.1.2.3` to a server listening on every address), and `localhost` does on a
/// loopback connection; another address does not.
#[test]
fn the_connections_local_address_is_an_accepted_target() {
    let cfg = AcceptorConfig {
        ntlm_target_names: Vec::new(),
        ..config()
    };
    let here: std::net::IpAddr = "10.1.2.3".parse().unwrap();
    assert!(client_av::names_this_server(
        &cfg,
        Some(here),
        "cifs/10.1.2.3"
    ));
    assert!(!client_av::names_this_server(
        &cfg,
        Some(here),
        "cifs/10.1.2.4"
    ));
    assert!(!client_av::names_this_server(&cfg, None, "cifs/10.1.2.3"));
    assert!(!client_av::names_this_server(
        &cfg,
        Some(here),
        "cifs/localhost"
    ));
    let v6: std::net::IpAddr = "::1".parse().unwrap();
    assert!(client_av::names_this_server(&cfg, Some(v6), "cifs/[::1]"));
    assert!(client_av::names_this_server(
        &cfg,
        Some(v6),
        "cifs/localhost"
    ));
    let mapped: std::net::IpAddr = "::ffff:10.1.2.3".parse().unwrap();
    assert!(client_av::names_this_server(
        &cfg,
        Some(mapped),
        "cifs/10.1.2.3"
    ));
}

#[test]
fn a_client_challenge_whose_av_pairs_do_not_parse_is_an_invalid_parameter() {
    let cfg = config();
    let mut c = client(vec![]);
    let (next, challenge) = ExpectNegotiate
        .negotiate(&cfg, now(), &c.negotiate())
        .unwrap();
    let mut msg = c.authenticate(&challenge);
    // NtChallengeResponseFields (MS-NLMP 2.2.1.3): the first AV_PAIR's AvLen, past the
    // NTProofStr and the fixed part of the client challenge, runs beyond the response.
    let at = u32::from_le_bytes(msg[24..28].try_into().unwrap()) as usize;
    let av_len = at + super::crypto::NTLMV2_RESPONSE_MIN + 2;
    msg[av_len..av_len + 2].copy_from_slice(&[0xFF, 0xFF]);
    let e = next.authenticate(&cfg, now(), None, &msg).err();
    assert_eq!(e, Some(NtlmError::MalformedClientChallenge));
    assert!(matches!(
        AuthError::from(NtlmError::MalformedClientChallenge),
        AuthError::InvalidParameter(_)
    ));
}

/// NEGOTIATE / CHALLENGE / AUTHENTICATE with `password`, the AUTHENTICATE judged at `at`.
fn logon_at(cfg: &AcceptorConfig, password: &str, at: SystemTime) -> Result<(), NtlmError> {
    let mut c = ntlm_self_test_client("alice", "SERVER", password);
    let (next, challenge) = ExpectNegotiate.negotiate(cfg, at, &c.negotiate()).unwrap();
    let msg = c.authenticate(&challenge);
    next.authenticate(cfg, at, None, &msg).map(|_| ())
}

#[test]
fn previous_hash_is_accepted_until_its_window_closes() {
    // Alice changed Secret123 to NewSecret456; the old password works until `until`.
    let until = now() + Duration::from_secs(24 * 3600);
    let mut cfg = config();
    cfg.accounts[0].nt_hash = nt_hash("NewSecret456");
    cfg.accounts[0].previous = Some(PreviousHash {
        nt_hash: nt_hash("Secret123"),
        valid_until: until,
    });
    let before = now();
    assert_eq!(logon_at(&cfg, "NewSecret456", before), Ok(()));
    assert_eq!(logon_at(&cfg, "Secret123", before), Ok(()));
    assert_eq!(
        logon_at(&cfg, "Wrong", before),
        Err(NtlmError::WrongPassword)
    );
    let last = until - Duration::from_secs(1);
    assert_eq!(logon_at(&cfg, "Secret123", last), Ok(()));
    // At and after the deadline only the new password logs on.
    for after in [until, until + Duration::from_secs(3600)] {
        assert_eq!(logon_at(&cfg, "NewSecret456", after), Ok(()));
        assert_eq!(
            logon_at(&cfg, "Secret123", after),
            Err(NtlmError::WrongPassword)
        );
    }
    // Without a previous hash the old password is refused at once.
    cfg.accounts[0].previous = None;
    assert_eq!(
        logon_at(&cfg, "Secret123", before),
        Err(NtlmError::WrongPassword)
    );
}
