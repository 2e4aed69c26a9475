//! The AP-REQ check (RFC 4120 3.2.3, RFC 4121, MS-KILE 3.4.5): key selection from the keytab,
//! ticket and authenticator decryption, times, replay, the PAC and the resulting identity.

use std::time::{Duration, SystemTime};

use super::crypto::{CryptoError, Etype, Key};
use super::gss::{self, CKSUM_GSS, GSS_MUTUAL, TOK_AP_REP, TOK_AP_REQ, TOK_KRB_ERROR};
use super::messages::{self, AD_IF_RELEVANT, AD_WIN2K_PAC, AP_OPT_MUTUAL_REQUIRED, EncTicketPart};
use super::replay::{ReplayCache, ReplayError, fingerprint};
use crate::pac::Pac;
use crate::{AcceptorConfig, AuthContext, AuthError, AuthMethod};
use acl::{GroupAttributes, Token, TokenGroup};

/// KRB_AP_ERR_BAD_INTEGRITY.
pub const KRB_AP_ERR_BAD_INTEGRITY: i32 = 31;
/// KRB_AP_ERR_TKT_EXPIRED.
pub const KRB_AP_ERR_TKT_EXPIRED: i32 = 32;
/// KRB_AP_ERR_TKT_NYV.
pub const KRB_AP_ERR_TKT_NYV: i32 = 33;
/// KRB_AP_ERR_REPEAT.
pub const KRB_AP_ERR_REPEAT: i32 = 34;
/// KRB_AP_ERR_NOT_US.
pub const KRB_AP_ERR_NOT_US: i32 = 35;
/// KRB_AP_ERR_SKEW.
pub const KRB_AP_ERR_SKEW: i32 = 37;
/// KRB_AP_ERR_MODIFIED.
pub const KRB_AP_ERR_MODIFIED: i32 = 41;
/// KRB_AP_ERR_NOKEY.
pub const KRB_AP_ERR_NOKEY: i32 = 45;
/// KRB_ERR_GENERIC.
pub const KRB_ERR_GENERIC: i32 = 60;

/// Key usage of the ticket's enc-part.
const USAGE_TICKET: u32 = 2;
/// Key usage of the authenticator.
const USAGE_AUTHENTICATOR: u32 = 11;
/// Key usage of the AP-REP's enc-part.
const USAGE_AP_REP: u32 = 12;

/// A successful AP-REQ check.
pub struct Accepted {
    /// The identity.
    pub auth: AuthContext,
    /// The GSS-wrapped AP-REP when mutual authentication was asked for.
    pub ap_rep: Option<Vec<u8>>,
    /// The key MIC tokens use (the subkey if present, else the session key).
    pub mic_key: Key,
    /// The acceptor's sequence number for MIC tokens.
    pub seq: u64,
}

/// A refused AP-REQ.
#[derive(Debug)]
pub enum Rejected {
    /// The client's clock is off: answer with this GSS-wrapped KRB-ERROR (KRB_AP_ERR_SKEW).
    Skew(Vec<u8>),
    /// Refused; `code` is the Kerberos error it corresponds to (logged), `error` goes to SMB.
    Failed {
        /// The RFC 4120 error code.
        code: i32,
        /// The failure reported to the server.
        error: AuthError,
    },
}

fn fail(code: i32, why: &'static str) -> Rejected {
    Rejected::Failed {
        code,
        error: AuthError::LogonFailure(why),
    }
}

fn invalid(why: &'static str) -> Rejected {
    Rejected::Failed {
        code: KRB_AP_ERR_MODIFIED,
        error: AuthError::InvalidToken(why),
    }
}

fn unix(now: SystemTime) -> (i64, u32) {
    match now.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_micros()),
        Err(_) => (0, 0),
    }
}

/// The system time of a KerberosTime in seconds since 1970 (the epoch if out of range, which the
/// four-digit years of a KerberosTime cannot reach).
fn system_time(secs: i64) -> SystemTime {
    let magnitude = Duration::from_secs(secs.unsigned_abs());
    let t = if secs >= 0 {
        SystemTime::UNIX_EPOCH.checked_add(magnitude)
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(magnitude)
    };
    t.unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Checks a GSS-wrapped (or bare) AP-REQ against the configuration's keytab.
pub fn accept(
    config: &AcceptorConfig,
    replay: &ReplayCache,
    now: SystemTime,
    token: &[u8],
) -> Result<Accepted, Rejected> {
    let msg = match gss::unwrap_initial(token, TOK_AP_REQ) {
        Ok((_, m)) => m,
        Err(_) if token.first() == Some(&0x6E) => token,
        Err(_) => return Err(invalid("Kerberos token is not a GSS-wrapped AP-REQ")),
    };
    let ap = messages::parse_ap_req(msg).map_err(|_| invalid("malformed AP-REQ"))?;
    let keytab = config
        .keytab
        .as_ref()
        .ok_or(fail(KRB_AP_ERR_NOKEY, "no keytab configured"))?
        .current();
    let etype = Etype(ap.ticket.enc_part.etype);
    if etype == Etype::RC4_HMAC && !config.allow_rc4 {
        return Err(fail(KRB_AP_ERR_NOKEY, "rc4-hmac tickets are not allowed"));
    }
    let sname = &ap.ticket.sname.components;
    let candidates = keytab.keys_for(sname, &ap.ticket.realm, ap.ticket.enc_part.kvno, etype);
    if candidates.is_empty() {
        if keytab.has_principal(sname) {
            return Err(fail(KRB_AP_ERR_NOKEY, "no key of the ticket's enctype"));
        }
        return Err(fail(KRB_AP_ERR_NOT_US, "ticket is for another service"));
    }
    let mut found = None;
    for entry in candidates {
        let Ok(key) = entry.key() else { continue };
        if let Ok(plain) = key.decrypt(USAGE_TICKET, ap.ticket.enc_part.cipher) {
            found = Some((key, plain));
            break;
        }
    }
    let (service_key, plain) =
        found.ok_or(fail(KRB_AP_ERR_BAD_INTEGRITY, "ticket does not decrypt"))?;
    let ticket =
        messages::parse_enc_ticket_part(&plain).map_err(|_| invalid("bad EncTicketPart"))?;
    let session_key = Key::new(Etype(ticket.key.keytype), &ticket.key.keyvalue)
        .map_err(|_| fail(KRB_AP_ERR_NOKEY, "unsupported session key type"))?;
    if session_key.etype() == Etype::RC4_HMAC && !config.allow_rc4 {
        return Err(fail(
            KRB_AP_ERR_NOKEY,
            "rc4-hmac session keys are not allowed",
        ));
    }
    if Etype(ap.authenticator.etype) != session_key.etype() {
        return Err(fail(
            KRB_AP_ERR_BAD_INTEGRITY,
            "authenticator enctype mismatch",
        ));
    }
    let auth_plain = session_key
        .decrypt(USAGE_AUTHENTICATOR, ap.authenticator.cipher)
        .map_err(|e| match e {
            CryptoError::IntegrityFailure => {
                fail(KRB_AP_ERR_BAD_INTEGRITY, "authenticator does not decrypt")
            }
            _ => invalid("authenticator undecodable"),
        })?;
    let authn =
        messages::parse_authenticator(&auth_plain).map_err(|_| invalid("bad Authenticator"))?;
    if authn.cname.components != ticket.cname.components
        || !authn.crealm.eq_ignore_ascii_case(&ticket.crealm)
    {
        return Err(fail(
            KRB_AP_ERR_BAD_INTEGRITY,
            "authenticator client differs from ticket",
        ));
    }
    let (now_s, now_us) = unix(now);
    let skew = config.clock_skew.as_secs() as i64;
    if (authn.ctime - now_s).abs() > skew {
        let err = messages::encode_krb_error(&messages::KrbError {
            stime: now_s,
            susec: now_us,
            error_code: KRB_AP_ERR_SKEW,
            realm: ap.ticket.realm.clone(),
            sname: ap.ticket.sname.clone(),
        });
        return Err(Rejected::Skew(gss::wrap_initial(TOK_KRB_ERROR, &err)));
    }
    if ticket.starttime.unwrap_or(ticket.authtime) > now_s + skew {
        return Err(fail(KRB_AP_ERR_TKT_NYV, "ticket not yet valid"));
    }
    if ticket.endtime < now_s - skew {
        return Err(fail(KRB_AP_ERR_TKT_EXPIRED, "ticket expired"));
    }
    let mut gss_flags = 0;
    if let Some(ck) = &authn.cksum
        && ck.cksumtype == CKSUM_GSS
    {
        gss_flags = gss::parse_checksum(&ck.checksum)
            .map_err(|_| invalid("bad GSS authenticator checksum"))?
            .flags;
    }
    let client = format!("{}@{}", ticket.cname.components.join("/"), ticket.crealm);
    let fp = fingerprint(&client, authn.ctime, authn.cusec, ap.authenticator.cipher);
    if let Err(e) = replay.check_and_insert(fp, authn.ctime, now_s, skew) {
        let code = match e {
            ReplayError::Replayed => KRB_AP_ERR_REPEAT,
            ReplayError::CacheFull => KRB_ERR_GENERIC,
        };
        return Err(fail(code, e.describe()));
    }
    let token = identity(config, &ticket, &service_key)?;
    let mic_key = match &authn.subkey {
        Some(k) => Key::new(Etype(k.keytype), &k.keyvalue)
            .map_err(|_| fail(KRB_AP_ERR_NOKEY, "unsupported subkey type"))?,
        None => session_key.clone(),
    };
    let seq = authn.seq_number.unwrap_or(0);
    let mutual = ap.ap_options & AP_OPT_MUTUAL_REQUIRED != 0 || gss_flags & GSS_MUTUAL != 0;
    let ap_rep = if mutual {
        let part = messages::encode_enc_ap_rep_part(authn.ctime, authn.cusec, None, Some(seq));
        let enc = session_key
            .encrypt(USAGE_AP_REP, &part)
            .map_err(|_| fail(KRB_AP_ERR_MODIFIED, "AP-REP encryption failed"))?;
        let enc = messages::encode_encrypted(session_key.etype().0, None, &enc);
        Some(gss::wrap_initial(
            TOK_AP_REP,
            &messages::encode_ap_rep(&enc),
        ))
    } else {
        None
    };
    Ok(Accepted {
        auth: AuthContext {
            user: ticket.cname.components.join("/"),
            domain: ticket.crealm.clone(),
            token,
            session_key: mic_key.bytes().to_vec(),
            method: AuthMethod::Kerberos,
            expires_at: Some(system_time(ticket.endtime)),
        },
        ap_rep,
        mic_key,
        seq: u64::from(seq),
    })
}

/// Finds the PAC in the ticket's authorization data (AD-IF-RELEVANT wrapping AD-WIN2K-PAC).
fn find_pac(ticket: &EncTicketPart) -> Result<Option<Vec<u8>>, Rejected> {
    for ad in &ticket.authorization_data {
        if ad.ad_type != AD_IF_RELEVANT {
            continue;
        }
        let inner =
            messages::parse_auth_data(&ad.ad_data).map_err(|_| invalid("bad AD-IF-RELEVANT"))?;
        if let Some(p) = inner.into_iter().find(|a| a.ad_type == AD_WIN2K_PAC) {
            return Ok(Some(p.ad_data));
        }
    }
    Ok(None)
}

/// The session's token: from the PAC's LOGON_INFO, else from the configured principal map.
fn identity(config: &AcceptorConfig, ticket: &EncTicketPart, key: &Key) -> Result<Token, Rejected> {
    let client = format!("{}@{}", ticket.cname.components.join("/"), ticket.crealm);
    let pac = match find_pac(ticket)? {
        Some(bytes) => {
            let pac = Pac::parse(&bytes).map_err(|_| fail(KRB_AP_ERR_MODIFIED, "malformed PAC"))?;
            pac.verify_server_signature(&bytes, key)
                .map_err(|_| fail(KRB_AP_ERR_MODIFIED, "PAC server signature does not verify"))?;
            if let Some(ci) = &pac.client_info {
                let name = ticket.cname.components.join("/");
                if !ci.name.eq_ignore_ascii_case(&name) || ci.auth_time != ticket.authtime {
                    return Err(fail(
                        KRB_AP_ERR_MODIFIED,
                        "PAC client info does not match the ticket",
                    ));
                }
            }
            Some(pac)
        }
        None => None,
    };
    let logon = pac.as_ref().and_then(|p| p.logon_info.as_ref());
    let Some(info) = logon else {
        return config
            .principal_map
            .iter()
            .find(|(p, _, _)| p.eq_ignore_ascii_case(&client))
            .map(|(_, user, groups)| {
                let groups = groups
                    .iter()
                    .map(|sid| TokenGroup {
                        sid: sid.clone(),
                        attributes: GroupAttributes::DEFAULT,
                    })
                    .collect();
                Token::network_logon(user.clone(), groups)
            })
            .ok_or(fail(
                KRB_AP_ERR_MODIFIED,
                "ticket has no LOGON_INFO and the principal is not mapped",
            ));
    };
    let domain = info.logon_domain_id.as_ref().ok_or(fail(
        KRB_AP_ERR_MODIFIED,
        "LOGON_INFO without LogonDomainId",
    ))?;
    let rid = |r: u32| {
        domain
            .with_rid(r)
            .map_err(|_| fail(KRB_AP_ERR_MODIFIED, "LogonDomainId too long"))
    };
    let user = rid(info.user_id)?;
    if let Some(req) = pac.as_ref().and_then(|p| p.requestor.as_ref())
        && *req != user
    {
        return Err(fail(KRB_AP_ERR_MODIFIED, "PAC requestor is not the user"));
    }
    let mut groups = Vec::new();
    let add = |groups: &mut Vec<TokenGroup>, sid, attrs| {
        groups.push(TokenGroup {
            sid,
            attributes: GroupAttributes(attrs),
        });
    };
    if !info
        .group_ids
        .iter()
        .any(|(r, _)| *r == info.primary_group_id)
    {
        add(
            &mut groups,
            rid(info.primary_group_id)?,
            GroupAttributes::DEFAULT.0,
        );
    }
    for &(r, a) in &info.group_ids {
        add(&mut groups, rid(r)?, a);
    }
    if info.user_flags & crate::pac::logon_info::LOGON_EXTRA_SIDS != 0 {
        for (sid, a) in &info.extra_sids {
            add(&mut groups, sid.clone(), *a);
        }
    }
    if info.user_flags & crate::pac::logon_info::LOGON_RESOURCE_GROUPS != 0
        && let Some(res) = &info.resource_group_domain_sid
    {
        for &(r, a) in &info.resource_group_ids {
            let sid = res
                .with_rid(r)
                .map_err(|_| fail(KRB_AP_ERR_MODIFIED, "resource domain SID too long"))?;
            add(&mut groups, sid, a | GroupAttributes::RESOURCE);
        }
    }
    Ok(Token::network_logon(user, groups))
}
