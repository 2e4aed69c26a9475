//! The SPNEGO acceptor (RFC 4178, MS-SPNG) driving the NTLM acceptor.
//!
//! Accepted first legs: a GSS-wrapped or bare NegTokenInit with an NTLM NEGOTIATE as optimistic
//! token; a NegTokenInit listing NTLM without a usable token (answered with supportedMech NTLM
//! and no token, the NEGOTIATE then arrives in a NegTokenResp); a raw NTLMSSP NEGOTIATE (the
//! Linux cifs client), after which the exchange stays bare.
//!
//! mechListMIC (RFC 4178 section 5): when NTLM is not the client's first mechanism the first
//! reply says request-mic and the client's mechListMIC becomes mandatory. A client mechListMIC is
//! always verified (client-to-server key, sequence 0); the server sends its own (server-to-client
//! key, sequence 0) when the client sent one, when the NTLM MIC was used, or when it was required.

use std::sync::Arc;
use std::time::SystemTime;

use super::tokens::{
    self, ClientToken, NegState, NegTokenResp, OID_KRB5, OID_MS_KRB5, OID_NTLMSSP,
};
use crate::krb5::ap_req::{self, Rejected};
use crate::krb5::gss;
use crate::krb5::replay::ReplayCache;
use crate::ntlm::messages::is_ntlmssp;
use crate::ntlm::{ExpectAuthenticate, ExpectNegotiate, NtlmSuccess};
use crate::{AcceptorConfig, AuthError, Authenticator, Step};

/// How the client frames its tokens, decided by its first leg.
enum Framing {
    /// Raw NTLMSSP messages both ways.
    Bare,
    /// SPNEGO; `mech_list` is the DER of the client's MechTypeList.
    Spnego {
        mech_list: Vec<u8>,
        mic_required: bool,
    },
}

/// Where the exchange stands.
enum State {
    /// Nothing received yet.
    ExpectFirst,
    /// SPNEGO agreed on NTLM but the NEGOTIATE has not arrived yet.
    ExpectNtlmNegotiate {
        mech_list: Vec<u8>,
        mic_required: bool,
    },
    /// CHALLENGE sent; the AUTHENTICATE comes next.
    ExpectAuthenticate {
        ntlm: ExpectAuthenticate,
        framing: Framing,
    },
    /// A KRB-ERROR (clock skew) was sent; one more AP-REQ may come in a NegTokenResp.
    ExpectKerberosRetry { mech: Vec<u8>, mech_list: Vec<u8> },
    /// Done or failed; nothing more is accepted.
    Finished,
}

/// One SPNEGO/NTLM acceptor exchange.
pub struct SpnegoAcceptor {
    config: Arc<AcceptorConfig>,
    replay: Arc<ReplayCache>,
    state: State,
    /// The address the client's connection arrived on: a name NTLM targets may use.
    local: Option<std::net::IpAddr>,
    /// The user and domain an NTLM AUTHENTICATE named (for audit lines).
    claimed: Option<(String, String)>,
}

fn invalid(e: tokens::SpnegoError) -> AuthError {
    AuthError::InvalidToken(e.describe())
}

fn resp(state: NegState, mech: Option<&[u8]>, token: Option<&[u8]>, mic: Option<&[u8]>) -> Vec<u8> {
    tokens::encode_resp(&NegTokenResp {
        neg_state: Some(state),
        supported_mech: mech,
        response_token: token,
        mech_list_mic: mic,
    })
}

impl SpnegoAcceptor {
    /// A fresh exchange over `config`.
    pub fn new(config: Arc<AcceptorConfig>) -> Self {
        let replay = ReplayCache::new(config.replay_cache_capacity);
        Self::with_replay_cache(config, Arc::new(replay))
    }

    /// A fresh exchange sharing the server's Kerberos replay cache.
    pub fn with_replay_cache(config: Arc<AcceptorConfig>, replay: Arc<ReplayCache>) -> Self {
        Self {
            config,
            replay,
            state: State::ExpectFirst,
            local: None,
            claimed: None,
        }
    }

    /// The same exchange, told the address the client's connection arrived on (an NTLM
    /// target name may name it).
    pub fn on_address(mut self, local: Option<std::net::IpAddr>) -> Self {
        self.local = local;
        self
    }

    /// Checks an AP-REQ (optimistic token or retry) and builds the SPNEGO answer.
    fn kerberos(
        &self,
        now: SystemTime,
        token: &[u8],
        mech: Vec<u8>,
        mech_list: Vec<u8>,
        client_mic: Option<&[u8]>,
        may_retry: bool,
    ) -> Result<(State, Step), AuthError> {
        match ap_req::accept(&self.config, &self.replay, now, token) {
            Ok(acc) => {
                if let Some(mic) = client_mic {
                    gss::verify_mic(&acc.mic_key, &mech_list, mic)
                        .map_err(|_| AuthError::LogonFailure("mechListMIC does not verify"))?;
                }
                let ours = client_mic.map(|_| {
                    gss::make_mic(
                        &acc.mic_key,
                        gss::USAGE_ACCEPTOR_SIGN,
                        gss::MIC_SENT_BY_ACCEPTOR,
                        acc.seq,
                        &mech_list,
                    )
                });
                let out = resp(
                    NegState::AcceptCompleted,
                    Some(&mech),
                    acc.ap_rep.as_deref(),
                    ours.as_deref(),
                );
                Ok((
                    State::Finished,
                    Step::Done {
                        out,
                        auth: Box::new(acc.auth),
                    },
                ))
            }
            Err(Rejected::Skew(err)) if may_retry => {
                let out = resp(NegState::AcceptIncomplete, Some(&mech), Some(&err), None);
                Ok((
                    State::ExpectKerberosRetry { mech, mech_list },
                    Step::Continue(out),
                ))
            }
            Err(Rejected::Skew(_)) => Err(AuthError::LogonFailure("Kerberos clock skew too great")),
            Err(Rejected::Failed { error, .. }) => Err(error),
        }
    }

    fn kerberos_retry(
        &self,
        now: SystemTime,
        input: &[u8],
        mech: Vec<u8>,
        mech_list: Vec<u8>,
    ) -> Result<(State, Step), AuthError> {
        let r = Self::later_resp(input)?;
        let token = r
            .response_token
            .ok_or(AuthError::InvalidToken("NegTokenResp without token"))?;
        self.kerberos(now, token, mech, mech_list, r.mech_list_mic, false)
    }

    fn first(&self, now: SystemTime, input: &[u8]) -> Result<(State, Step), AuthError> {
        if is_ntlmssp(input) {
            let (ntlm, challenge) = ExpectNegotiate.negotiate(&self.config, now, input)?;
            let state = State::ExpectAuthenticate {
                ntlm,
                framing: Framing::Bare,
            };
            return Ok((state, Step::Continue(challenge)));
        }
        let init = match tokens::parse_client_token(input).map_err(invalid)? {
            ClientToken::Init(init) => init,
            ClientToken::Resp(_) => {
                return Err(AuthError::InvalidToken(
                    "first SPNEGO token is not a NegTokenInit",
                ));
            }
        };
        // Kerberos when the client prefers it and sent its AP-REQ optimistically.
        let first_mech = init.mech_types.first().copied().unwrap_or_default();
        if self.config.keytab.is_some()
            && (first_mech == OID_KRB5 || first_mech == OID_MS_KRB5)
            && let Some(token) = init.mech_token
        {
            return self.kerberos(
                now,
                token,
                first_mech.to_vec(),
                init.mech_list_der.to_vec(),
                init.mech_list_mic,
                true,
            );
        }
        let position = init.mech_types.iter().position(|m| *m == OID_NTLMSSP);
        let Some(position) = position else {
            return Err(AuthError::NotAccepted(
                "client offers no mechanism the server supports",
            ));
        };
        let mech_list = init.mech_list_der.to_vec();
        let mic_required = position != 0;
        match init.mech_token {
            Some(token) if position == 0 => {
                let (ntlm, challenge) = ExpectNegotiate.negotiate(&self.config, now, token)?;
                let out = resp(
                    NegState::AcceptIncomplete,
                    Some(OID_NTLMSSP),
                    Some(&challenge),
                    None,
                );
                let framing = Framing::Spnego {
                    mech_list,
                    mic_required,
                };
                Ok((
                    State::ExpectAuthenticate { ntlm, framing },
                    Step::Continue(out),
                ))
            }
            // No token, or an optimistic token for another mechanism: select NTLM, send no token.
            _ => {
                let neg_state = if mic_required {
                    NegState::RequestMic
                } else {
                    NegState::AcceptIncomplete
                };
                let out = resp(neg_state, Some(OID_NTLMSSP), None, None);
                Ok((
                    State::ExpectNtlmNegotiate {
                        mech_list,
                        mic_required,
                    },
                    Step::Continue(out),
                ))
            }
        }
    }

    fn later_resp(input: &[u8]) -> Result<NegTokenResp<'_>, AuthError> {
        match tokens::parse_client_token(input).map_err(invalid)? {
            ClientToken::Resp(r) if r.neg_state == Some(NegState::Reject) => {
                Err(AuthError::NotAccepted("client rejected the negotiation"))
            }
            ClientToken::Resp(r) => Ok(r),
            ClientToken::Init(_) => Err(AuthError::InvalidToken("unexpected NegTokenInit")),
        }
    }

    fn ntlm_negotiate(
        &self,
        now: SystemTime,
        input: &[u8],
        mech_list: Vec<u8>,
        mic_required: bool,
    ) -> Result<(State, Step), AuthError> {
        let r = Self::later_resp(input)?;
        let token = r
            .response_token
            .ok_or(AuthError::InvalidToken("NegTokenResp without token"))?;
        let (ntlm, challenge) = ExpectNegotiate.negotiate(&self.config, now, token)?;
        let out = resp(NegState::AcceptIncomplete, None, Some(&challenge), None);
        let framing = Framing::Spnego {
            mech_list,
            mic_required,
        };
        Ok((
            State::ExpectAuthenticate { ntlm, framing },
            Step::Continue(out),
        ))
    }

    fn authenticate(
        &self,
        now: SystemTime,
        input: &[u8],
        ntlm: ExpectAuthenticate,
        framing: Framing,
    ) -> Result<(State, Step), AuthError> {
        let (mech_list, mic_required) = match framing {
            Framing::Bare => {
                if !is_ntlmssp(input) {
                    return Err(AuthError::InvalidToken(
                        "expected a raw NTLMSSP AUTHENTICATE",
                    ));
                }
                let done = ntlm.authenticate(&self.config, now, self.local, input)?;
                let step = Step::Done {
                    out: Vec::new(),
                    auth: Box::new(done.auth),
                };
                return Ok((State::Finished, step));
            }
            Framing::Spnego {
                mech_list,
                mic_required,
            } => (mech_list, mic_required),
        };
        let r = Self::later_resp(input)?;
        let token = r
            .response_token
            .ok_or(AuthError::InvalidToken("NegTokenResp without token"))?;
        let NtlmSuccess {
            auth,
            security,
            mic_present,
        } = ntlm.authenticate(&self.config, now, self.local, token)?;
        let out = match security {
            Some(mut sec) => {
                match r.mech_list_mic {
                    Some(mic) if !sec.client.verify(0, &mech_list, mic) => {
                        return Err(AuthError::LogonFailure("SPNEGO mechListMIC mismatch"));
                    }
                    None if mic_required => {
                        return Err(AuthError::InvalidToken(
                            "SPNEGO mechListMIC required but absent",
                        ));
                    }
                    _ => {}
                }
                let send = r.mech_list_mic.is_some() || mic_present || mic_required;
                let mic = send.then(|| sec.server.sign(0, &mech_list));
                resp(
                    NegState::AcceptCompleted,
                    None,
                    None,
                    mic.as_ref().map(|m| &m[..]),
                )
            }
            None if mic_required && !auth.session_key.is_empty() => {
                return Err(AuthError::NotAccepted(
                    "mechListMIC required but NTLM signing not negotiated",
                ));
            }
            None => resp(NegState::AcceptCompleted, None, None, None),
        };
        Ok((
            State::Finished,
            Step::Done {
                out,
                auth: Box::new(auth),
            },
        ))
    }

    fn advance(
        &self,
        state: State,
        now: SystemTime,
        input: &[u8],
    ) -> Result<(State, Step), AuthError> {
        match state {
            State::ExpectFirst => self.first(now, input),
            State::ExpectNtlmNegotiate {
                mech_list,
                mic_required,
            } => self.ntlm_negotiate(now, input, mech_list, mic_required),
            State::ExpectAuthenticate { ntlm, framing } => {
                self.authenticate(now, input, ntlm, framing)
            }
            State::ExpectKerberosRetry { mech, mech_list } => {
                self.kerberos_retry(now, input, mech, mech_list)
            }
            State::Finished => Err(AuthError::InvalidToken(
                "authentication exchange already finished",
            )),
        }
    }
}

/// The user and domain an NTLM AUTHENTICATE message names, unproven.
fn ntlm_claim(msg: &[u8]) -> Option<(String, String)> {
    let m = crate::ntlm::messages::AuthenticateMessage::parse(msg).ok()?;
    let unicode = m.flags & crate::ntlm::messages::flags::UNICODE != 0;
    let user = crate::ntlm::messages::decode_string(m.user, unicode).ok()?;
    let domain = crate::ntlm::messages::decode_string(m.domain, unicode).ok()?;
    Some((user, domain))
}

impl Authenticator for SpnegoAcceptor {
    fn claimed_identity(&self) -> Option<(String, String)> {
        self.claimed.clone()
    }

    fn step(&mut self, now: SystemTime, input: &[u8]) -> Step {
        let state = std::mem::replace(&mut self.state, State::Finished);
        if let State::ExpectAuthenticate { framing, .. } = &state {
            self.claimed = match framing {
                Framing::Bare => ntlm_claim(input),
                Framing::Spnego { .. } => Self::later_resp(input)
                    .ok()
                    .and_then(|r| r.response_token)
                    .and_then(ntlm_claim),
            };
        }
        match self.advance(state, now, input) {
            Ok((next, step)) => {
                self.state = next;
                step
            }
            Err(e) => Step::Failed(e),
        }
    }
}
