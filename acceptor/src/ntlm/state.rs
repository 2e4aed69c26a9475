//! The NTLM acceptor (MS-NLMP 3.2.5): NEGOTIATE in, CHALLENGE out, AUTHENTICATE in.
//!
//! Domain policy: local accounts are matched by user name alone (case-insensitively); the
//! domain the client sends may be the server or domain name, empty, or anything else, as Samba
//! does for local accounts. The NTLMv2 proof is computed with the domain exactly as the client
//! sent it, since that is what the client hashed.

use std::time::{SystemTime, UNIX_EPOCH};

use acl::{GroupAttributes, Sid, Token, TokenGroup};

use super::client_av;
use super::crypto::{self, Direction, SigningContext};
use super::messages::{
    self, AuthenticateMessage, ChallengeMessage, MessageError, NegotiateMessage, av_id, flags,
};
use super::v1;
use crate::{AcceptorConfig, AuthContext, AuthError, AuthMethod, LocalAccount};

/// Why the NTLM exchange failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NtlmError {
    /// A message could not be parsed.
    Message(MessageError),
    /// The system random number generator failed.
    NoRandomness,
    /// The NT response is 24 bytes (NTLMv1) and `allow_ntlmv1` is off.
    NtlmV1Refused,
    /// Only an LM/LMv2 response was sent.
    LmOnlyRefused,
    /// An anonymous logon was attempted while anonymous access is off.
    AnonymousRefused,
    /// The NTLMv2 response is shorter than its fixed part.
    NtlmV2ResponseTooShort,
    /// The user is not a local account.
    UnknownUser,
    /// The NTLMv2 proof does not match (wrong password).
    WrongPassword,
    /// KEY_EXCH was negotiated but the encrypted session key is not 16 bytes.
    BadEncryptedSessionKey,
    /// MsvAvFlags announces a MIC but the message has no room for one.
    MicMissing,
    /// The MIC does not match.
    MicMismatch,
    /// The account's SID could not be formed from the machine SID.
    MachineSidFull,
    /// An AV_PAIR in the NTLMv2 response has a value of the wrong size.
    MalformedAvPair(&'static str),
    /// The NTLMv2 client challenge's AV_PAIR list does not parse.
    MalformedClientChallenge,
    /// MsvAvTargetName names another server: the exchange was relayed.
    TargetNameMismatch,
    /// MsvAvChannelBindings is not zero although SMB over TCP has no channel: the exchange was
    /// relayed from a TLS connection.
    ChannelBindingsMismatch,
}

impl From<MessageError> for NtlmError {
    fn from(e: MessageError) -> Self {
        Self::Message(e)
    }
}

impl From<NtlmError> for AuthError {
    fn from(e: NtlmError) -> Self {
        match e {
            NtlmError::Message(m) => Self::InvalidToken(m.describe()),
            NtlmError::NoRandomness => Self::NotAccepted("no system randomness for the challenge"),
            NtlmError::NtlmV1Refused => {
                Self::NotAccepted("NTLMv1 responses are not accepted (allow_ntlmv1 is off)")
            }
            NtlmError::LmOnlyRefused => Self::NotAccepted("LM-only responses are not accepted"),
            NtlmError::AnonymousRefused => Self::NotAccepted("anonymous logon is not allowed"),
            NtlmError::NtlmV2ResponseTooShort => Self::InvalidToken("NTLMv2 response too short"),
            NtlmError::UnknownUser => Self::LogonFailure("unknown user"),
            NtlmError::WrongPassword => Self::LogonFailure("wrong password"),
            NtlmError::BadEncryptedSessionKey => {
                Self::InvalidToken("encrypted session key is not 16 bytes")
            }
            NtlmError::MicMissing => Self::InvalidToken("MIC announced but absent"),
            NtlmError::MicMismatch => Self::LogonFailure("NTLM MIC mismatch"),
            NtlmError::MachineSidFull => Self::NotAccepted("machine SID cannot take a RID"),
            NtlmError::MalformedAvPair(what) => Self::InvalidToken(what),
            NtlmError::MalformedClientChallenge => {
                Self::InvalidParameter("NTLMv2 client challenge AV_PAIR list malformed")
            }
            NtlmError::TargetNameMismatch => {
                Self::LogonFailure("NTLM target name does not name this server")
            }
            NtlmError::ChannelBindingsMismatch => {
                Self::LogonFailure("NTLM channel bindings present without a TLS channel")
            }
        }
    }
}

/// FILETIME (100 ns ticks since 1601-01-01) of a system time.
pub fn filetime(now: SystemTime) -> u64 {
    const EPOCH_DIFF_SECS: u64 = 11_644_473_600;
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    (since.as_secs() + EPOCH_DIFF_SECS) * 10_000_000 + u64::from(since.subsec_nanos() / 100)
}

/// The flags the server answers with, derived from the client's (MS-NLMP 3.2.5.1.1).
fn challenge_flags(client: u32, target_type: u32) -> u32 {
    let mut f = flags::UNICODE
        | flags::REQUEST_TARGET
        | flags::NTLM
        | flags::TARGET_INFO
        | flags::VERSION
        | target_type;
    for bit in [
        flags::SIGN,
        flags::SEAL,
        flags::ALWAYS_SIGN,
        flags::EXTENDED_SESSIONSECURITY,
        flags::NEG_128,
        flags::NEG_56,
        flags::KEY_EXCH,
    ] {
        f |= client & bit;
    }
    f
}

/// The server's TargetInfo AV_PAIR list.
fn target_info(config: &AcceptorConfig, now: SystemTime) -> Vec<u8> {
    let dns_domain = config
        .dns_name
        .split_once('.')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
        .unwrap_or(&config.dns_name);
    let mut out = Vec::new();
    let u = messages::string_to_utf16le;
    messages::push_av_pair(&mut out, av_id::NB_DOMAIN_NAME, &u(&config.domain_name));
    messages::push_av_pair(&mut out, av_id::NB_COMPUTER_NAME, &u(&config.server_name));
    messages::push_av_pair(&mut out, av_id::DNS_DOMAIN_NAME, &u(dns_domain));
    messages::push_av_pair(&mut out, av_id::DNS_COMPUTER_NAME, &u(&config.dns_name));
    messages::push_av_pair(&mut out, av_id::TIMESTAMP, &filetime(now).to_le_bytes());
    messages::push_av_pair(&mut out, av_id::EOL, &[]);
    out
}

/// The acceptor before the client's NEGOTIATE message.
pub struct ExpectNegotiate;

/// The acceptor after sending CHALLENGE, waiting for AUTHENTICATE.
pub struct ExpectAuthenticate {
    negotiate: Vec<u8>,
    challenge: Vec<u8>,
    server_challenge: [u8; 8],
    flags: u32,
}

/// The result of a successful AUTHENTICATE.
pub struct NtlmSuccess {
    /// The authenticated identity.
    pub auth: AuthContext,
    /// Integrity keys, when a session key exists and SIGN was negotiated with extended session
    /// security (not for anonymous logons).
    pub security: Option<SessionSecurity>,
    /// Whether the client's AUTHENTICATE carried a (verified) MIC.
    pub mic_present: bool,
}

/// Signing state of an established NTLM context, for SPNEGO's mechListMIC.
pub struct SessionSecurity {
    /// Verifies the client's signatures.
    pub client: SigningContext,
    /// Produces the server's signatures.
    pub server: SigningContext,
}

impl ExpectNegotiate {
    /// Consumes a NEGOTIATE message and produces the CHALLENGE message.
    pub fn negotiate(
        self,
        config: &AcceptorConfig,
        now: SystemTime,
        msg: &[u8],
    ) -> Result<(ExpectAuthenticate, Vec<u8>), NtlmError> {
        let neg = NegotiateMessage::parse(msg)?;
        let mut server_challenge = [0u8; 8];
        getrandom::getrandom(&mut server_challenge).map_err(|_| NtlmError::NoRandomness)?;
        let target_type = if config.domain_name.eq_ignore_ascii_case(&config.server_name) {
            flags::TARGET_TYPE_SERVER
        } else {
            flags::TARGET_TYPE_DOMAIN
        };
        let flags = challenge_flags(neg.flags, target_type);
        let challenge = ChallengeMessage {
            flags,
            server_challenge,
            target_name: messages::string_to_utf16le(&config.domain_name),
            target_info: target_info(config, now),
        }
        .encode();
        let next = ExpectAuthenticate {
            negotiate: msg.to_vec(),
            challenge: challenge.clone(),
            server_challenge,
            flags,
        };
        Ok((next, challenge))
    }
}

fn find_account<'c>(config: &'c AcceptorConfig, user: &str) -> Option<&'c LocalAccount> {
    let wanted = crypto::upcase(user);
    config
        .accounts
        .iter()
        .find(|a| crypto::upcase(&a.name) == wanted)
}

/// Whether the AUTHENTICATE is an anonymous one (MS-NLMP 3.2.5.1.2).
fn is_anonymous(m: &AuthenticateMessage<'_>) -> bool {
    m.user.is_empty() && m.nt_response.is_empty() && matches!(m.lm_response, [] | [0])
}

impl ExpectAuthenticate {
    /// Consumes the AUTHENTICATE message and checks the client's proof; `now` decides whether
    /// an account's previous hash is still accepted.
    pub fn authenticate(
        self,
        config: &AcceptorConfig,
        now: SystemTime,
        local: Option<std::net::IpAddr>,
        msg: &[u8],
    ) -> Result<NtlmSuccess, NtlmError> {
        let m = AuthenticateMessage::parse(msg)?;
        // Clients echo the negotiated flags; a client sending none keeps the challenge's.
        let neg_flags = if m.flags == 0 {
            self.flags
        } else {
            self.flags & m.flags
        };
        let unicode = neg_flags & flags::UNICODE != 0 || m.flags & flags::UNICODE != 0;
        let user = messages::decode_string(m.user, unicode)?;
        let domain = messages::decode_string(m.domain, unicode)?;

        if is_anonymous(&m) {
            if !config.allow_anonymous {
                return Err(NtlmError::AnonymousRefused);
            }
            let token = Token {
                user: Sid::anonymous(),
                groups: [Sid::everyone(), Sid::network()]
                    .into_iter()
                    .map(|sid| TokenGroup {
                        sid,
                        attributes: GroupAttributes::DEFAULT,
                    })
                    .collect(),
            };
            let auth = AuthContext {
                user,
                domain,
                token,
                session_key: Vec::new(),
                method: AuthMethod::Anonymous,
                expires_at: None,
            };
            return Ok(NtlmSuccess {
                auth,
                security: None,
                mic_present: false,
            });
        }
        let v1 = match m.nt_response.len() {
            0 => return Err(NtlmError::LmOnlyRefused),
            v1::RESPONSE_LEN if !config.allow_ntlmv1 => return Err(NtlmError::NtlmV1Refused),
            v1::RESPONSE_LEN => true,
            n if n < crypto::NTLMV2_RESPONSE_MIN => return Err(NtlmError::NtlmV2ResponseTooShort),
            _ => false,
        };
        let (account, key_exchange_key) = if v1 {
            self.check_v1(config, now, &m, &user, neg_flags)
        } else {
            self.check_v2(config, now, &m, &user, &domain)?
        };
        let (account, key_exchange_key) = match (account, key_exchange_key) {
            (None, _) => return Err(NtlmError::UnknownUser),
            (Some(_), None) => return Err(NtlmError::WrongPassword),
            (Some(a), Some(k)) => (a, k),
        };
        let exported =
            crypto::exported_session_key(&key_exchange_key, neg_flags, m.encrypted_session_key)
                .ok_or(NtlmError::BadEncryptedSessionKey)?;

        // An NTLMv1 response has no AV_PAIRs, hence no MIC, target name or channel bindings.
        let mic_present = !v1 && client_av::check(config, local, m.nt_response)?.mic_present;
        if mic_present {
            if !m.has_mic_room(msg.len()) {
                return Err(NtlmError::MicMissing);
            }
            let mic_range = messages::MIC_OFFSET..messages::MIC_OFFSET + 16;
            let sent = msg.get(mic_range.clone()).ok_or(NtlmError::MicMissing)?;
            let mut zeroed = msg.to_vec();
            if let Some(field) = zeroed.get_mut(mic_range) {
                field.fill(0);
            }
            let mic = crypto::compute_mic(&exported, &self.negotiate, &self.challenge, &zeroed);
            if !bool::from(subtle::ConstantTimeEq::ct_eq(&mic[..], sent)) {
                return Err(NtlmError::MicMismatch);
            }
        }

        let user_sid = config
            .machine_sid
            .with_rid(account.rid)
            .map_err(|_| NtlmError::MachineSidFull)?;
        let groups = account
            .groups
            .iter()
            .map(|sid| TokenGroup {
                sid: sid.clone(),
                attributes: GroupAttributes::DEFAULT,
            })
            .collect();
        let ess = neg_flags & flags::EXTENDED_SESSIONSECURITY != 0;
        let security = if neg_flags & flags::SIGN == 0 {
            None
        } else if ess {
            Some(SessionSecurity {
                client: SigningContext::new(&exported, neg_flags, Direction::ClientToServer),
                server: SigningContext::new(&exported, neg_flags, Direction::ServerToClient),
            })
        } else if v1 {
            // NTLMv1 without ESS: one handle for both directions (MS-NLMP 3.4.4.1).
            let shared =
                std::sync::Arc::new(std::sync::Mutex::new(v1::Ntlm1Signing::new(&exported)));
            Some(SessionSecurity {
                client: SigningContext::ntlm1(shared.clone()),
                server: SigningContext::ntlm1(shared),
            })
        } else {
            None
        };
        let auth = AuthContext {
            user,
            domain,
            token: Token::network_logon(user_sid, groups),
            session_key: exported.to_vec(),
            method: if v1 {
                AuthMethod::Ntlmv1
            } else {
                AuthMethod::Ntlmv2
            },
            expires_at: None,
        };
        Ok(NtlmSuccess {
            auth,
            security,
            mic_present,
        })
    }

    /// The NTLMv2 proof (MS-NLMP 3.3.2): the account named, and the session base key when
    /// the proof matches one of its hashes.
    fn check_v2<'c>(
        &self,
        config: &'c AcceptorConfig,
        now: SystemTime,
        m: &AuthenticateMessage<'_>,
        user: &str,
        domain: &str,
    ) -> Result<(Option<&'c LocalAccount>, Option<[u8; 16]>), NtlmError> {
        // The client challenge's AV_PAIR list must be well formed before any proof is checked:
        // a malformed one is a bad token (STATUS_INVALID_PARAMETER, as Samba and Windows answer;
        // smbtorture smb2.session.ntlmssp_bug14932), whoever the user.
        let client_av = m
            .nt_response
            .get(crypto::NTLMV2_RESPONSE_MIN..)
            .unwrap_or(&[]);
        messages::parse_av_pairs(client_av).map_err(|_| NtlmError::MalformedClientChallenge)?;
        let account = find_account(config, user);
        // Unknown users still cost one HMAC chain, so timing does not reveal account names.
        // During a password change-over the previous hash is tried too (its window is judged
        // by the `now` of this step).
        let base = match account {
            None => {
                let key = crypto::ntowf_v2(&[0u8; 16], user, domain);
                crypto::verify_ntlmv2(&key, &self.server_challenge, m.nt_response)
            }
            Some(a) => a.hashes_at(now).find_map(|hash| {
                let key = crypto::ntowf_v2(hash, user, domain);
                crypto::verify_ntlmv2(&key, &self.server_challenge, m.nt_response)
            }),
        };
        Ok((account, base))
    }

    /// The NTLMv1 response (MS-NLMP 3.3.1, with extended session security when negotiated):
    /// the account named, and the key exchange key (3.4.5.1) when the response matches one
    /// of its hashes.
    fn check_v1<'c>(
        &self,
        config: &'c AcceptorConfig,
        now: SystemTime,
        m: &AuthenticateMessage<'_>,
        user: &str,
        neg_flags: u32,
    ) -> (Option<&'c LocalAccount>, Option<[u8; 16]>) {
        let ess = neg_flags & flags::EXTENDED_SESSIONSECURITY != 0;
        let check = |hash: &[u8; 16]| {
            v1::verify(
                hash,
                &self.server_challenge,
                m.lm_response,
                m.nt_response,
                ess,
            )
        };
        let account = find_account(config, user);
        let key = match account {
            // Unknown users cost the same DES work, so timing does not reveal account names.
            None => check(&[0u8; 16]).and(None),
            Some(a) => a.hashes_at(now).find_map(check),
        };
        (account, key)
    }
}
