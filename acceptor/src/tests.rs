//! End-to-end tests of the SPNEGO/NTLM acceptor.

use std::sync::Arc;
use std::time::SystemTime;

use crate::asn1::{self, context};
use crate::spnego::tokens::{
    self, ClientToken, NegState, OID_KRB5, OID_MS_KRB5, OID_NTLMSSP, OID_SPNEGO,
};
use crate::test_client::ntlm_self_test_client;
use crate::*;

/// The acceptor configuration the tests share: server SERVER, account Alice (Secret123).
pub(crate) fn config() -> Arc<AcceptorConfig> {
    Arc::new(AcceptorConfig {
        server_name: "SERVER".into(),
        domain_name: "SERVER".into(),
        dns_name: "server.example.com".into(),
        machine_sid: "S-1-5-21-1-2-3".parse().unwrap(),
        accounts: vec![LocalAccount {
            name: "Alice".into(),
            nt_hash: nt_hash("Secret123"),
            rid: 1001,
            groups: vec![acl::Sid::builtin_users()],
            previous: None,
        }],
        allow_ntlmv1: false,
        allow_anonymous: false,
        keytab: None,
        allow_rc4: false,
        clock_skew: DEFAULT_CLOCK_SKEW,
        principal_map: Vec::new(),
        ntlm_target_names: Vec::new(),
        replay_cache_capacity: DEFAULT_REPLAY_CACHE_CAPACITY,
    })
}

fn provider(cfg: Arc<AcceptorConfig>) -> SpnegoProvider {
    SpnegoProvider::new(cfg)
}

fn mech_list(mechs: &[&[u8]]) -> Vec<u8> {
    asn1::encode(asn1::TAG_SEQUENCE, &mechs.concat())
}

/// A GSS-wrapped NegTokenInit.
fn gss_init(mechs: &[&[u8]], token: Option<&[u8]>) -> Vec<u8> {
    let mut fields = asn1::encode(context(0), &mech_list(mechs));
    if let Some(t) = token {
        fields.extend(asn1::encode(
            context(2),
            &asn1::encode(asn1::TAG_OCTET_STRING, t),
        ));
    }
    let init = asn1::encode(context(0), &asn1::encode(asn1::TAG_SEQUENCE, &fields));
    asn1::encode_parts(asn1::TAG_APPLICATION_0, &[OID_SPNEGO, &init])
}

fn resp_token(token: Option<&[u8]>, mic: Option<&[u8]>) -> Vec<u8> {
    tokens::encode_resp(&tokens::NegTokenResp {
        neg_state: None,
        supported_mech: None,
        response_token: token,
        mech_list_mic: mic,
    })
}

fn parse_resp(out: &[u8]) -> tokens::NegTokenResp<'_> {
    match tokens::parse_client_token(out).unwrap() {
        ClientToken::Resp(r) => r,
        other => panic!("not a NegTokenResp: {other:?}"),
    }
}

fn cont(step: Step) -> Vec<u8> {
    match step {
        Step::Continue(b) => b,
        Step::Done { .. } => panic!("unexpected Done"),
        Step::Failed(e) => panic!("unexpected failure {e:?}"),
    }
}

fn failed(step: Step) -> AuthError {
    match step {
        Step::Failed(e) => e,
        Step::Continue(_) => panic!("unexpected Continue"),
        Step::Done { .. } => panic!("unexpected Done"),
    }
}

fn now() -> SystemTime {
    SystemTime::now()
}

/// Runs the SPNEGO exchange with an optimistic NEGOTIATE; returns the final step.
fn spnego_run(
    password: &str,
    with_mic: bool,
    send_mech_mic: bool,
    corrupt: bool,
) -> (Step, Vec<u8>, TestNtlmClient) {
    let mut client = ntlm_self_test_client("alice", "WHATEVER", password);
    client.with_mic = with_mic;
    client.corrupt_mic = corrupt;
    let mut auth = provider(config()).start();
    let mechs: &[&[u8]] = &[OID_NTLMSSP];
    let first = cont(auth.step(now(), &gss_init(mechs, Some(&client.negotiate()))));
    let r = parse_resp(&first);
    assert_eq!(r.neg_state, Some(NegState::AcceptIncomplete));
    assert_eq!(r.supported_mech, Some(OID_NTLMSSP));
    let msg = client.authenticate(r.response_token.unwrap());
    let list = mech_list(mechs);
    let mic = send_mech_mic.then(|| client.mech_list_mic(&list));
    let step = auth.step(now(), &resp_token(Some(&msg), mic.as_ref().map(|m| &m[..])));
    (step, list, client)
}

#[test]
fn spnego_success_with_mics() {
    let (step, list, client) = spnego_run("Secret123", true, true, false);
    let Step::Done { out, auth } = step else {
        panic!("not done")
    };
    let r = parse_resp(&out);
    assert_eq!(r.neg_state, Some(NegState::AcceptCompleted));
    assert_eq!(r.supported_mech, None);
    assert!(client.verify_server_mic(&list, r.mech_list_mic.unwrap()));
    assert_eq!(auth.user, "alice");
    assert_eq!(auth.domain, "WHATEVER");
    assert_eq!(auth.method, AuthMethod::Ntlmv2);
    assert_eq!(auth.session_key, vec![0x55; 16]);
    assert_eq!(auth.token.user.to_string(), "S-1-5-21-1-2-3-1001");
    assert_eq!(auth.expires_at, None);
    assert!(auth.token.contains(&acl::Sid::builtin_users()));
    assert!(auth.token.contains(&acl::Sid::authenticated_users()));
}

#[test]
fn spnego_without_mech_list_mic_and_without_ntlm_mic() {
    let (step, _, _) = spnego_run("Secret123", false, false, false);
    let Step::Done { out, .. } = step else {
        panic!("not done")
    };
    let r = parse_resp(&out);
    assert_eq!(r.neg_state, Some(NegState::AcceptCompleted));
    assert_eq!(r.mech_list_mic, None);
}

#[test]
fn ntlm_mic_without_client_mech_list_mic_still_gets_server_mic() {
    let (step, list, client) = spnego_run("Secret123", true, false, false);
    let Step::Done { out, .. } = step else {
        panic!("not done")
    };
    assert!(client.verify_server_mic(&list, parse_resp(&out).mech_list_mic.unwrap()));
}

#[test]
fn wrong_password_is_logon_failure() {
    let (step, _, _) = spnego_run("wrong", true, true, false);
    assert!(matches!(failed(step), AuthError::LogonFailure(_)));
}

#[test]
fn bad_ntlm_mic_is_refused() {
    let (step, _, _) = spnego_run("Secret123", true, true, true);
    assert_eq!(failed(step), AuthError::LogonFailure("NTLM MIC mismatch"));
}

#[test]
fn bad_mech_list_mic_is_refused() {
    let mut client = ntlm_self_test_client("ALICE", "", "Secret123");
    let mut auth = provider(config()).start();
    let first = cont(auth.step(now(), &gss_init(&[OID_NTLMSSP], Some(&client.negotiate()))));
    let msg = client.authenticate(parse_resp(&first).response_token.unwrap());
    let mut mic = client.mech_list_mic(&mech_list(&[OID_NTLMSSP]));
    mic[5] ^= 0x80;
    let step = auth.step(now(), &resp_token(Some(&msg), Some(&mic)));
    assert_eq!(
        failed(step),
        AuthError::LogonFailure("SPNEGO mechListMIC mismatch")
    );
}

#[test]
fn unknown_user_is_logon_failure() {
    let mut client = ntlm_self_test_client("mallory", "SERVER", "Secret123");
    let mut auth = provider(config()).start();
    let first = cont(auth.step(now(), &gss_init(&[OID_NTLMSSP], Some(&client.negotiate()))));
    let msg = client.authenticate(parse_resp(&first).response_token.unwrap());
    assert_eq!(
        failed(auth.step(now(), &resp_token(Some(&msg), None))),
        AuthError::LogonFailure("unknown user")
    );
}

#[test]
fn bare_ntlmssp_path() {
    let mut client = ntlm_self_test_client("Alice", "SERVER", "Secret123");
    let mut auth = provider(config()).start();
    let challenge = cont(auth.step(now(), &client.negotiate()));
    assert!(challenge.starts_with(b"NTLMSSP\0"));
    let c = ntlm::messages::ChallengeMessage::parse(&challenge).unwrap();
    assert_eq!(
        ntlm::messages::utf16le_to_string(&c.target_name).unwrap(),
        "SERVER"
    );
    assert_ne!(c.flags & ntlm::messages::flags::TARGET_TYPE_SERVER, 0);
    let msg = client.authenticate(&challenge);
    let Step::Done { out, auth: ctx } = auth.step(now(), &msg) else {
        panic!("not done")
    };
    assert!(out.is_empty());
    assert_eq!(ctx.token.user.to_string(), "S-1-5-21-1-2-3-1001");
    // The exchange is over.
    assert!(matches!(
        failed(auth.step(now(), &msg)),
        AuthError::InvalidToken(_)
    ));
}

#[test]
fn negtokeninit_without_token_then_negotiate_in_resp() {
    let mut client = ntlm_self_test_client("alice", "SERVER", "Secret123");
    let mut auth = provider(config()).start();
    let first = cont(auth.step(now(), &gss_init(&[OID_NTLMSSP], None)));
    let r = parse_resp(&first);
    assert_eq!(r.neg_state, Some(NegState::AcceptIncomplete));
    assert_eq!(r.supported_mech, Some(OID_NTLMSSP));
    assert_eq!(r.response_token, None);
    let second = cont(auth.step(now(), &resp_token(Some(&client.negotiate()), None)));
    let r = parse_resp(&second);
    assert_eq!(r.supported_mech, None);
    let msg = client.authenticate(r.response_token.unwrap());
    let mic = client.mech_list_mic(&mech_list(&[OID_NTLMSSP]));
    assert!(matches!(
        auth.step(now(), &resp_token(Some(&msg), Some(&mic))),
        Step::Done { .. }
    ));
}

#[test]
fn kerberos_first_selects_ntlm_with_request_mic() {
    let mechs: &[&[u8]] = &[OID_MS_KRB5, OID_KRB5, OID_NTLMSSP];
    let run = |send_mic: bool| {
        let mut client = ntlm_self_test_client("alice", "SERVER", "Secret123");
        let mut auth = provider(config()).start();
        let first = cont(auth.step(now(), &gss_init(mechs, Some(b"kerberos ap-req"))));
        let r = parse_resp(&first);
        assert_eq!(r.neg_state, Some(NegState::RequestMic));
        assert_eq!(r.supported_mech, Some(OID_NTLMSSP));
        assert_eq!(r.response_token, None);
        let second = cont(auth.step(now(), &resp_token(Some(&client.negotiate()), None)));
        let msg = client.authenticate(parse_resp(&second).response_token.unwrap());
        let mic = client.mech_list_mic(&mech_list(mechs));
        auth.step(now(), &resp_token(Some(&msg), send_mic.then_some(&mic[..])))
    };
    assert!(matches!(run(true), Step::Done { .. }));
    assert!(matches!(failed(run(false)), AuthError::InvalidToken(_)));
}

#[test]
fn no_common_mechanism() {
    let mut auth = provider(config()).start();
    let e = failed(auth.step(now(), &gss_init(&[OID_KRB5], Some(b"x"))));
    assert!(matches!(e, AuthError::NotAccepted(_)));
}

#[test]
fn anonymous_refused_unless_allowed() {
    let anon = |cfg: Arc<AcceptorConfig>| {
        let mut client = ntlm_self_test_client("", "", "");
        let mut auth = provider(cfg).start();
        let challenge = cont(auth.step(now(), &client.negotiate()));
        let _ = client.authenticate(&challenge);
        // Build an anonymous AUTHENTICATE: empty user, LM = Z(1), empty NT response.
        let mut m = Vec::new();
        m.extend_from_slice(b"NTLMSSP\0");
        m.extend_from_slice(&3u32.to_le_bytes());
        ntlm::messages::push_field(&mut m, 1, 72);
        for _ in 0..5 {
            ntlm::messages::push_field(&mut m, 0, 73);
        }
        m.extend_from_slice(&(ntlm::messages::flags::ANONYMOUS | 1).to_le_bytes());
        m.extend_from_slice(&[0; 8]);
        m.push(0);
        auth.step(now(), &m)
    };
    assert_eq!(
        failed(anon(config())),
        AuthError::NotAccepted("anonymous logon is not allowed")
    );
    let mut cfg = (*config()).clone();
    cfg.allow_anonymous = true;
    let Step::Done { auth, .. } = anon(Arc::new(cfg)) else {
        panic!("not done")
    };
    assert_eq!(auth.method, AuthMethod::Anonymous);
    assert_eq!(auth.token.user, acl::Sid::anonymous());
    assert!(!auth.token.contains(&acl::Sid::authenticated_users()));
    assert!(auth.session_key.is_empty());
    assert_eq!(auth.expires_at, None);
}

/// A bare AUTHENTICATE for `user` with 24-byte LM and NT responses and `flags`.
fn v1_authenticate(user: &str, lm: &[u8; 24], nt: &[u8; 24], flags: u32) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(b"NTLMSSP\0");
    m.extend_from_slice(&3u32.to_le_bytes());
    let user = ntlm::messages::string_to_utf16le(user);
    ntlm::messages::push_field(&mut m, 24, 64);
    ntlm::messages::push_field(&mut m, 24, 88);
    ntlm::messages::push_field(&mut m, 0, 112);
    ntlm::messages::push_field(&mut m, user.len(), 112);
    ntlm::messages::push_field(&mut m, 0, 112);
    ntlm::messages::push_field(&mut m, 0, 112);
    m.extend_from_slice(&flags.to_le_bytes());
    m.extend_from_slice(lm);
    m.extend_from_slice(nt);
    m.extend_from_slice(&user);
    m
}

/// Starts a bare NTLM exchange; the authenticator and the server challenge.
fn v1_start(cfg: AcceptorConfig) -> (Box<dyn Authenticator>, [u8; 8]) {
    let mut client = ntlm_self_test_client("alice", "", "Secret123");
    let mut auth = provider(Arc::new(cfg)).start();
    let challenge = cont(auth.step(now(), &client.negotiate()));
    // CHALLENGE_MESSAGE: signature, type, target name fields, flags, then ServerChallenge.
    let server_challenge = challenge[24..32].try_into().unwrap();
    (auth, server_challenge)
}

#[test]
fn ntlmv1_response_is_refused() {
    let (mut auth, _) = v1_start((*config()).clone());
    let m = v1_authenticate("alice", &[0x11; 24], &[0x11; 24], 1);
    assert_eq!(
        failed(auth.step(now(), &m)),
        AuthError::NotAccepted("NTLMv1 responses are not accepted (allow_ntlmv1 is off)")
    );
}

#[test]
fn ntlmv1_is_accepted_when_allowed() {
    use ntlm::messages::flags;
    let mut cfg = (*config()).clone();
    cfg.allow_ntlmv1 = true;
    let hash = nt_hash("Secret123");
    let base = ntlm::v1::session_base_key(&hash);

    // Plain NTLMv1: DESL of the NT hash over the server challenge; the session key is the
    // session base key (MS-NLMP 3.4.5.1, no KEY_EXCH).
    let (mut auth, server) = v1_start(cfg.clone());
    let nt = ntlm::v1::desl(&hash, &server);
    let Step::Done { auth: ctx, .. } = auth.step(
        now(),
        &v1_authenticate("ALICE", &[0; 24], &nt, flags::UNICODE),
    ) else {
        panic!("NTLMv1 not accepted")
    };
    assert_eq!(ctx.method, AuthMethod::Ntlmv1);
    assert_eq!(ctx.method.name(), "ntlmv1");
    assert_eq!(ctx.session_key, base.to_vec());
    assert_eq!(ctx.token.user.to_string(), "S-1-5-21-1-2-3-1001");

    // With extended session security: the client challenge leads the LM response.
    let (mut auth, server) = v1_start(cfg.clone());
    let mut lm = [0u8; 24];
    lm[..8].copy_from_slice(&[0x5a; 8]);
    let digest = ntlm::crypto::md5(&[&server, &lm[..8]]);
    let nt = ntlm::v1::desl(&hash, digest[..8].try_into().unwrap());
    let ess = flags::UNICODE | flags::EXTENDED_SESSIONSECURITY;
    let Step::Done { auth: ctx, .. } = auth.step(now(), &v1_authenticate("alice", &lm, &nt, ess))
    else {
        panic!("NTLMv1 with ESS not accepted")
    };
    assert_eq!(ctx.method, AuthMethod::Ntlmv1);
    let kx = ntlm::crypto::hmac_md5(&base, &[&server, &lm[..8]]);
    assert_eq!(ctx.session_key, kx.to_vec());

    // A wrong password and an unknown user are logon failures.
    let (mut auth, server) = v1_start(cfg.clone());
    let wrong = ntlm::v1::desl(&nt_hash("Secret124"), &server);
    let m = v1_authenticate("alice", &[0; 24], &wrong, flags::UNICODE);
    assert!(matches!(
        failed(auth.step(now(), &m)),
        AuthError::LogonFailure(_)
    ));
    let (mut auth, server) = v1_start(cfg);
    let m = v1_authenticate("mallory", &[0; 24], &ntlm::v1::desl(&hash, &server), 1);
    assert!(matches!(
        failed(auth.step(now(), &m)),
        AuthError::LogonFailure(_)
    ));
}

#[test]
fn negotiate_blob_lists_ntlm() {
    let blob = provider(config()).negotiate_blob();
    let ClientToken::Init(init) = tokens::parse_client_token(&blob).unwrap() else {
        panic!()
    };
    assert_eq!(init.mech_types, vec![OID_NTLMSSP]);
}

/// Feeds every prefix and a few corruptions of each leg; nothing may panic and each must fail.
#[test]
fn truncated_and_garbage_tokens_fail_cleanly() {
    let cfg = config();
    let mut client = ntlm_self_test_client("alice", "SERVER", "Secret123");
    let negotiate = client.negotiate();
    let init = gss_init(&[OID_NTLMSSP], Some(&negotiate));
    for n in 0..init.len() {
        let mut a = provider(cfg.clone()).start();
        assert!(
            matches!(a.step(now(), &init[..n]), Step::Failed(_)),
            "prefix {n}"
        );
    }
    // Get a real challenge, then feed broken AUTHENTICATE legs to fresh exchanges.
    let mut a = provider(cfg.clone()).start();
    let first = cont(a.step(now(), &init));
    let auth_msg = client.authenticate(parse_resp(&first).response_token.unwrap());
    let leg = resp_token(Some(&auth_msg), None);
    for n in (0..leg.len()).step_by(7) {
        let mut a = provider(cfg.clone()).start();
        let _ = cont(a.step(now(), &init));
        assert!(
            matches!(a.step(now(), &leg[..n]), Step::Failed(_)),
            "prefix {n}"
        );
    }
    // Truncated NTLM AUTHENTICATE inside a well-formed NegTokenResp.
    for n in (0..auth_msg.len()).step_by(5) {
        let mut a = provider(cfg.clone()).start();
        let _ = cont(a.step(now(), &init));
        let step = a.step(now(), &resp_token(Some(&auth_msg[..n]), None));
        assert!(matches!(step, Step::Failed(_)), "ntlm prefix {n}");
    }
    // Byte flips never panic.
    for i in 0..auth_msg.len() {
        let mut a = provider(cfg.clone()).start();
        let _ = cont(a.step(now(), &init));
        let mut m = auth_msg.clone();
        m[i] ^= 0xFF;
        let _ = a.step(now(), &resp_token(Some(&m), None));
    }
    for garbage in [
        &b""[..],
        b"\xa1",
        b"\x60\x80",
        b"NTLMSSP\0",
        b"\xa1\x84\xff\xff\xff\xff",
    ] {
        let mut a = provider(cfg.clone()).start();
        assert!(matches!(a.step(now(), garbage), Step::Failed(_)));
        let mut a = provider(cfg.clone()).start();
        let _ = cont(a.step(now(), &init));
        assert!(matches!(a.step(now(), garbage), Step::Failed(_)));
    }
}

#[test]
fn unwrapped_negtokeninit_is_accepted() {
    let mut client = ntlm_self_test_client("alice", "", "Secret123");
    let gss = gss_init(&[OID_NTLMSSP], Some(&client.negotiate()));
    // Strip the [APPLICATION 0] header and the SPNEGO OID: what remains is the a0 choice.
    let outer = asn1::read_single(&gss, asn1::TAG_APPLICATION_0).unwrap();
    let bare = &outer.content[OID_SPNEGO.len()..];
    assert_eq!(bare[0], 0xa0);
    let mut auth = provider(config()).start();
    let first = cont(auth.step(now(), bare));
    let msg = client.authenticate(parse_resp(&first).response_token.unwrap());
    let mic = client.mech_list_mic(&mech_list(&[OID_NTLMSSP]));
    let step = auth.step(now(), &resp_token(Some(&msg), Some(&mic)));
    assert!(matches!(step, Step::Done { .. }));
}
