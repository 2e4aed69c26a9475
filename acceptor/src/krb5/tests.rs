//! End-to-end tests of the Kerberos acceptor through `SpnegoProvider`: the test plays KDC (it
//! makes the ticket, PAC and signatures) and client (it makes the authenticator).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::crypto::{Etype, Key};
use super::gss;
use super::keytab::{Keytab, KeytabEntry, KeytabSource, Principal};
use super::messages::{self, AuthData, Authenticator, EncTicketPart, EncryptionKey, PrincipalName};
use crate::asn1::{self, context};
use crate::pac::tests::{build_pac, sample_logon_info};
use crate::pac::{ClientInfo, LogonInfo};
use crate::spnego::tokens::{
    self, ClientToken, NegState, OID_KRB5, OID_MS_KRB5, OID_NTLMSSP, OID_SPNEGO,
};
use crate::*;

const NOW: i64 = 1_700_000_000;
const SPN: &str = "cifs/fs.example.com@EXAMPLE.COM";

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(NOW as u64)
}

fn service_entry() -> KeytabEntry {
    let p = Principal::parse(SPN, 2).unwrap();
    KeytabEntry::from_password(p, 3, Etype::AES256_SHA1, "svc-secret", None, 0).unwrap()
}

fn config(principal_map: Vec<(String, acl::Sid, Vec<acl::Sid>)>) -> Arc<AcceptorConfig> {
    Arc::new(AcceptorConfig {
        server_name: "FS".into(),
        domain_name: "FS".into(),
        dns_name: "fs.example.com".into(),
        machine_sid: "S-1-5-21-1-2-3".parse().unwrap(),
        accounts: Vec::new(),
        allow_ntlmv1: false,
        allow_anonymous: false,
        keytab: Some(Arc::new(KeytabSource::fixed(Keytab {
            entries: vec![service_entry()],
        }))),
        allow_rc4: false,
        clock_skew: DEFAULT_CLOCK_SKEW,
        principal_map,
        ntlm_target_names: Vec::new(),
        replay_cache_capacity: DEFAULT_REPLAY_CACHE_CAPACITY,
    })
}

/// What the fake KDC and client put in the AP-REQ.
struct Req {
    service_key: Key,
    sname: Vec<String>,
    authtime: i64,
    starttime: Option<i64>,
    endtime: i64,
    ctime: i64,
    cusec: u32,
    logon: Option<LogonInfo>,
    pac_client: String,
    tamper_pac: bool,
    mutual: bool,
    subkey: Option<Key>,
    mech: &'static [u8],
    with_mic: bool,
}

impl Default for Req {
    fn default() -> Self {
        Self {
            service_key: service_entry().key().unwrap(),
            sname: vec!["cifs".into(), "fs.example.com".into()],
            authtime: NOW - 60,
            starttime: None,
            endtime: NOW + 36_000,
            ctime: NOW,
            cusec: 1234,
            logon: Some(sample_logon_info(3)),
            pac_client: "alice".into(),
            tamper_pac: false,
            mutual: true,
            subkey: None,
            mech: OID_MS_KRB5,
            with_mic: false,
        }
    }
}

fn session_key() -> Key {
    Key::new(Etype::AES256_SHA1, &[0x5A; 32]).unwrap()
}

fn cname() -> PrincipalName {
    PrincipalName {
        name_type: 1,
        components: vec!["alice".into()],
    }
}

/// The raw AP-REQ (GSS-wrapped).
fn ap_req(r: &Req) -> Vec<u8> {
    let kdc_key = Key::new(Etype::AES256_SHA1, &[9; 32]).unwrap();
    let client = ClientInfo {
        auth_time: r.authtime,
        name: r.pac_client.clone(),
    };
    let user = "S-1-5-21-100-200-300-1105".parse().unwrap();
    let mut pac = build_pac(
        r.logon.as_ref(),
        &client,
        Some(&user),
        &service_entry().key().unwrap(),
        &kdc_key,
    );
    if r.tamper_pac {
        let n = pac.len();
        pac[n - 70] ^= 0x01;
    }
    let ad = messages::encode_auth_data(&[AuthData {
        ad_type: messages::AD_WIN2K_PAC,
        ad_data: pac,
    }]);
    let sk = session_key();
    let etp = EncTicketPart {
        flags: 0x4081_0000,
        key: EncryptionKey {
            keytype: sk.etype().0,
            keyvalue: sk.bytes().to_vec(),
        },
        crealm: "EXAMPLE.COM".into(),
        cname: cname(),
        authtime: r.authtime,
        starttime: r.starttime,
        endtime: r.endtime,
        authorization_data: vec![AuthData {
            ad_type: messages::AD_IF_RELEVANT,
            ad_data: ad,
        }],
    };
    let enc_ticket = r
        .service_key
        .encrypt(2, &messages::encode_enc_ticket_part(&etp))
        .unwrap();
    let sname = PrincipalName {
        name_type: 2,
        components: r.sname.clone(),
    };
    let ticket = messages::encode_ticket(
        "EXAMPLE.COM",
        &sname,
        &messages::encode_encrypted(r.service_key.etype().0, Some(3), &enc_ticket),
    );
    let flags = if r.mutual { gss::GSS_MUTUAL } else { 0 } | 0x20;
    let authn = Authenticator {
        crealm: "EXAMPLE.COM".into(),
        cname: cname(),
        cksum: Some(messages::Checksum {
            cksumtype: gss::CKSUM_GSS,
            checksum: gss::encode_checksum(flags),
        }),
        cusec: r.cusec,
        ctime: r.ctime,
        subkey: r.subkey.as_ref().map(|k| EncryptionKey {
            keytype: k.etype().0,
            keyvalue: k.bytes().to_vec(),
        }),
        seq_number: Some(77),
    };
    let enc_auth = sk
        .encrypt(11, &messages::encode_authenticator(&authn))
        .unwrap();
    let ap = messages::encode_ap_req(
        0,
        &ticket,
        &messages::encode_encrypted(sk.etype().0, None, &enc_auth),
    );
    gss::wrap_initial(gss::TOK_AP_REQ, &ap)
}

/// The SPNEGO NegTokenInit carrying the AP-REQ.
fn spnego_init(r: &Req) -> Vec<u8> {
    let mechs: Vec<&[u8]> = vec![r.mech, OID_NTLMSSP];
    let mech_list = asn1::encode(asn1::TAG_SEQUENCE, &mechs.concat());
    let mut fields = asn1::encode(context(0), &mech_list);
    fields.extend(asn1::encode(
        context(2),
        &asn1::encode(asn1::TAG_OCTET_STRING, &ap_req(r)),
    ));
    if r.with_mic {
        let key = r.subkey.clone().unwrap_or_else(session_key);
        let mic = gss::make_mic(&key, gss::USAGE_INITIATOR_SIGN, 0, 77, &mech_list);
        fields.extend(asn1::encode(
            context(3),
            &asn1::encode(asn1::TAG_OCTET_STRING, &mic),
        ));
    }
    let init = asn1::encode(context(0), &asn1::encode(asn1::TAG_SEQUENCE, &fields));
    asn1::encode_parts(asn1::TAG_APPLICATION_0, &[OID_SPNEGO, &init])
}

fn run(cfg: Arc<AcceptorConfig>, r: &Req) -> Step {
    SpnegoProvider::new(cfg)
        .start()
        .step(now(), &spnego_init(r))
}

fn done(step: Step) -> (Vec<u8>, AuthContext) {
    match step {
        Step::Done { out, auth } => (out, *auth),
        Step::Failed(e) => panic!("failed: {e:?}"),
        Step::Continue(_) => panic!("unexpected Continue"),
    }
}

fn failed(step: Step) -> AuthError {
    match step {
        Step::Failed(e) => e,
        _ => panic!("expected a failure"),
    }
}

fn resp(out: &[u8]) -> tokens::NegTokenResp<'_> {
    match tokens::parse_client_token(out).unwrap() {
        ClientToken::Resp(r) => r,
        _ => panic!("not a NegTokenResp"),
    }
}

#[test]
fn negotiate_blob_offers_kerberos_first() {
    let blob = SpnegoProvider::new(config(Vec::new())).negotiate_blob();
    match tokens::parse_client_token(&blob).unwrap() {
        ClientToken::Init(i) => assert_eq!(i.mech_types, vec![OID_MS_KRB5, OID_KRB5, OID_NTLMSSP]),
        _ => panic!(),
    }
}

#[test]
fn valid_ticket_gives_expected_sids_session_key_and_ap_rep() {
    let (out, auth) = done(run(config(Vec::new()), &Req::default()));
    assert_eq!(auth.method, AuthMethod::Kerberos);
    assert_eq!(
        (auth.user.as_str(), auth.domain.as_str()),
        ("alice", "EXAMPLE.COM")
    );
    assert_eq!(auth.session_key, session_key().bytes());
    let t = &auth.token;
    assert_eq!(t.user.to_string(), "S-1-5-21-100-200-300-1105");
    let sids: Vec<String> = t.groups.iter().map(|g| g.sid.to_string()).collect();
    let mut expected: Vec<String> = (513..516)
        .map(|r| format!("S-1-5-21-100-200-300-{r}"))
        .collect();
    expected.extend(["S-1-18-1".into(), "S-1-5-21-9-9-9-1000".into()]);
    expected.extend(["S-1-5-21-7-7-7-2001".into(), "S-1-5-21-7-7-7-2002".into()]);
    expected.extend(["S-1-1-0", "S-1-5-11", "S-1-5-2", "S-1-5-15"].map(String::from));
    assert_eq!(sids, expected);
    let res = t
        .groups
        .iter()
        .find(|g| g.sid.to_string() == "S-1-5-21-7-7-7-2001")
        .unwrap();
    assert_ne!(res.attributes.0 & acl::GroupAttributes::RESOURCE, 0);
    // accept-completed, the client's first mech, and an AP-REP that decrypts with usage 12.
    let r = resp(&out);
    assert_eq!(r.neg_state, Some(NegState::AcceptCompleted));
    assert_eq!(r.supported_mech, Some(OID_MS_KRB5));
    let (_, rep) = gss::unwrap_initial(r.response_token.unwrap(), gss::TOK_AP_REP).unwrap();
    let enc = messages::parse_ap_rep(rep).unwrap();
    let part = session_key().decrypt(12, enc.cipher).unwrap();
    assert_eq!(part[0], 0x7B);
    assert!(r.mech_list_mic.is_none());
}

#[test]
fn subkey_mic_and_no_mutual() {
    let sub = Key::new(Etype::AES128_SHA1, &[0x33; 16]).unwrap();
    let req = Req {
        subkey: Some(sub.clone()),
        mutual: false,
        with_mic: true,
        mech: OID_KRB5,
        ..Req::default()
    };
    let (out, auth) = done(run(config(Vec::new()), &req));
    assert_eq!(auth.session_key, sub.bytes());
    let r = resp(&out);
    assert_eq!(r.supported_mech, Some(OID_KRB5));
    assert!(r.response_token.is_none());
    let mic = r.mech_list_mic.unwrap();
    assert_eq!(&mic[..3], &[0x04, 0x04, gss::MIC_SENT_BY_ACCEPTOR]);
}

#[test]
fn replay_is_refused() {
    let cfg = config(Vec::new());
    let provider = SpnegoProvider::new(cfg);
    let token = spnego_init(&Req::default());
    done(provider.start().step(now(), &token));
    assert!(matches!(
        failed(provider.start().step(now(), &token)),
        AuthError::LogonFailure(_)
    ));
}

fn at(t: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(t as u64)
}

#[test]
fn replay_is_refused_until_ctime_plus_skew_not_insertion_plus_skew() {
    let provider = SpnegoProvider::new(config(Vec::new()));
    let skew = DEFAULT_CLOCK_SKEW.as_secs() as i64;
    // The client's clock runs 250 s ahead: its authenticator stays acceptable until
    // ctime + skew = NOW + 550, well after the server first saw it (NOW) plus the skew.
    let r = Req {
        ctime: NOW + 250,
        ..Req::default()
    };
    let token = spnego_init(&r);
    done(provider.start().step(now(), &token));
    for t in [NOW + 1, NOW + skew + 1, NOW + 250 + skew] {
        assert_eq!(
            failed(provider.start().step(at(t), &token)),
            AuthError::LogonFailure("authenticator replayed"),
            "at NOW + {}",
            t - NOW
        );
    }
}

#[test]
fn replay_cache_flood_is_refused_and_earlier_entries_still_reject() {
    let mut cfg = (*config(Vec::new())).clone();
    cfg.replay_cache_capacity = 2;
    let provider = SpnegoProvider::new(Arc::new(cfg));
    let token = |cusec| {
        spnego_init(&Req {
            cusec,
            ..Req::default()
        })
    };
    let first = [token(1), token(2)];
    for t in &first {
        done(provider.start().step(now(), t));
    }
    for cusec in 3..10 {
        assert_eq!(
            failed(provider.start().step(now(), &token(cusec))),
            AuthError::LogonFailure("replay cache full of live authenticators")
        );
    }
    for t in &first {
        assert_eq!(
            failed(provider.start().step(now(), t)),
            AuthError::LogonFailure("authenticator replayed")
        );
    }
    // When the first two windows have closed, new authenticators are accepted again.
    let later = NOW + DEFAULT_CLOCK_SKEW.as_secs() as i64 + 1;
    let fresh = spnego_init(&Req {
        ctime: later,
        cusec: 3,
        ..Req::default()
    });
    done(provider.start().step(at(later), &fresh));
}

#[test]
fn expired_and_not_yet_valid_tickets_are_refused_at_the_skew_boundary() {
    let cfg = config(Vec::new());
    let skew = DEFAULT_CLOCK_SKEW.as_secs() as i64;
    let refused = [
        (
            Req {
                endtime: NOW - skew - 1,
                ..Req::default()
            },
            "ticket expired",
        ),
        (
            Req {
                starttime: Some(NOW + skew + 1),
                ..Req::default()
            },
            "ticket not yet valid",
        ),
        // Without a starttime the ticket is valid from its authtime.
        (
            Req {
                authtime: NOW + 3600,
                ..Req::default()
            },
            "ticket not yet valid",
        ),
    ];
    for (r, why) in &refused {
        assert_eq!(failed(run(cfg.clone(), r)), AuthError::LogonFailure(why));
    }
    // Within the skew on either side the ticket is still accepted.
    let accepted = [
        Req {
            endtime: NOW - skew,
            ..Req::default()
        },
        Req {
            starttime: Some(NOW + skew),
            ..Req::default()
        },
    ];
    for r in &accepted {
        done(run(cfg.clone(), r));
    }
}

#[test]
fn kerberos_auth_context_carries_the_ticket_endtime() {
    let r = Req {
        endtime: NOW + 4321,
        ..Req::default()
    };
    let (_, auth) = done(run(config(Vec::new()), &r));
    assert_eq!(auth.expires_at, Some(at(NOW + 4321)));
    // NTLM and anonymous contexts carry none; see crate::tests.
}

#[test]
fn clock_skew_returns_krb_error_then_retry_succeeds() {
    let provider = SpnegoProvider::new(config(Vec::new()));
    let mut a = provider.start();
    let r = Req {
        ctime: NOW - 3600,
        ..Req::default()
    };
    let out = match a.step(now(), &spnego_init(&r)) {
        Step::Continue(out) => out,
        _ => panic!("expected a KRB-ERROR in a Continue"),
    };
    let resp = resp(&out);
    assert_eq!(resp.neg_state, Some(NegState::AcceptIncomplete));
    let (_, err) = gss::unwrap_initial(resp.response_token.unwrap(), gss::TOK_KRB_ERROR).unwrap();
    assert_eq!(messages::krb_error_code(err), Ok(37));
    // The client corrects its clock and sends a new AP-REQ in a NegTokenResp.
    let retry = tokens::encode_resp(&tokens::NegTokenResp {
        neg_state: None,
        supported_mech: None,
        response_token: Some(&ap_req(&Req::default())),
        mech_list_mic: None,
    });
    done(a.step(now(), &retry));
}

#[test]
fn other_spn_wrong_key_tampered_pac_and_client_mismatch_are_refused() {
    let cfg = config(Vec::new());
    let cases = [
        Req {
            sname: vec!["cifs".into(), "other.example.com".into()],
            ..Req::default()
        },
        Req {
            service_key: Key::new(Etype::AES256_SHA1, &[1; 32]).unwrap(),
            ..Req::default()
        },
        Req {
            tamper_pac: true,
            ..Req::default()
        },
        Req {
            pac_client: "mallory".into(),
            ..Req::default()
        },
        Req {
            service_key: Key::new(Etype::AES128_SHA1, &[1; 16]).unwrap(),
            ..Req::default()
        },
    ];
    let expected = [
        "ticket is for another service",
        "ticket does not decrypt",
        "PAC server signature does not verify",
        "PAC client info does not match the ticket",
        "ticket is for another service",
    ];
    for (i, r) in cases.iter().enumerate() {
        let e = failed(run(cfg.clone(), r));
        if i < 4 {
            assert_eq!(e, AuthError::LogonFailure(expected[i]), "case {i}");
        }
        assert!(
            matches!(e, AuthError::LogonFailure(_) | AuthError::InvalidToken(_)),
            "case {i}: {e:?}"
        );
    }
}

#[test]
fn no_logon_info_needs_a_principal_map() {
    let r = Req {
        logon: None,
        ..Req::default()
    };
    assert!(matches!(
        failed(run(config(Vec::new()), &r)),
        AuthError::LogonFailure(_)
    ));
    let user: acl::Sid = "S-1-5-21-1-2-3-1500".parse().unwrap();
    let group: acl::Sid = "S-1-5-21-1-2-3-1600".parse().unwrap();
    let cfg = config(vec![(
        "Alice@example.com".into(),
        user.clone(),
        vec![group.clone()],
    )]);
    let (_, auth) = done(run(cfg, &r));
    assert_eq!(auth.token.user, user);
    assert!(auth.token.contains(&group));
}

#[test]
fn two_thousand_groups() {
    let r = Req {
        logon: Some(sample_logon_info(2000)),
        ..Req::default()
    };
    let (_, auth) = done(run(config(Vec::new()), &r));
    assert_eq!(auth.token.groups.len(), 2000 + 4 + 4);
}

#[test]
fn truncated_tokens_never_panic() {
    let full = spnego_init(&Req::default());
    let cfg = config(Vec::new());
    let provider = SpnegoProvider::new(cfg);
    for n in 0..full.len() {
        let _ = provider.start().step(now(), &full[..n]);
    }
    let raw = ap_req(&Req::default());
    let (_, msg) = gss::unwrap_initial(&raw, gss::TOK_AP_REQ).unwrap();
    for n in 0..msg.len() {
        assert!(messages::parse_ap_req(&msg[..n]).is_err());
    }
}
