//! SESSION_SETUP (MS-SMB2 3.3.5.5) and LOGOFF (3.3.5.6).

use std::sync::Arc;
use std::time::SystemTime;

use super::{Ctx, HResult, Reply, bad_request};
use crate::audit::{Event, Who};
use crate::conn::Connection;
use crate::crypto::{self, PreparedAead, SigningAlgorithm, SigningKey};
use crate::metrics::{AuthFailure, Refusal};
use crate::proto::NtStatus;
use crate::proto::negotiate::{Dialect, security_mode};
use crate::proto::session::{
    SESSION_FLAG_BINDING, SessionSetupRequest, encode_fixed4, encode_session_setup_response,
    session_flags,
};
use crate::state::EncryptMode;
use crate::state::session::{AuthState, Session, SessionSecurity};

/// SESSION_SETUP: one leg of an authentication exchange.
pub(crate) fn session_setup(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    let req = SessionSetupRequest::decode(ctx.msg).map_err(bad_request)?;
    let conn = ctx.conn;
    let neg = conn.negotiated();
    let dialect = neg.dialect.ok_or(NtStatus::INVALID_PARAMETER)?;
    let now = conn.server.clock.now();
    if req.flags & SESSION_FLAG_BINDING != 0 {
        return super::binding::bind_step(ctx, &req, dialect, now, out);
    }
    let session = if ctx.hdr.session_id == 0 {
        let exchange = admit_new_session(conn, now)?;
        let id = conn.server.next_id();
        let s = Arc::new(Session::new(id, conn.id, exchange));
        conn.add_session(s.clone());
        ctx.hdr.session_id = id;
        s
    } else {
        let Some(s) = conn.session(ctx.hdr.session_id) else {
            super::binding::sign_for_unbound(ctx, None);
            return Err(NtStatus::USER_SESSION_DELETED);
        };
        let timeout = conn.server.settings().limits.handshake_timeout;
        if s.handshake_expired(now - timeout) {
            // The exchange outlived its deadline: the session is gone.
            tracing::info!(peer = %conn.peer, "session setup expired");
            conn.server.metrics.auth_failed(AuthFailure::Expired);
            let status = NtStatus::USER_SESSION_DELETED;
            audit_failed_logon(ctx, Who::default(), status, AuthFailure::Expired);
            delete(conn, &s);
            return Err(NtStatus::USER_SESSION_DELETED);
        }
        if s.is_valid() {
            // Reauthentication (MS-SMB2 3.3.5.5.2): a new exchange on the valid session. It
            // must prove the same user; the session keeps its keys. (The exchange is made
            // before the state is locked: making it may sweep every session's state.)
            let exchange = start_exchange(conn, now)?;
            s.begin_exchange(exchange);
        }
        s
    };
    let preauth_on = dialect == Dialect::Smb311;
    let (step, claimed) = session
        .with_exchange(|auth, preauth| {
            if preauth_on {
                crypto::preauth_update(conn.server.crypto, preauth, ctx.msg);
            }
            let step = auth.step(now, req.security_buffer);
            (step, auth.claimed_identity())
        })
        .ok_or(NtStatus::INTERNAL_ERROR)?;
    match step {
        acceptor::Step::Continue(blob) => {
            encode_session_setup_response(out, 0, &blob);
            if preauth_on {
                ctx.preauth_session = Some(session.clone());
            }
            Ok(Reply::Done(NtStatus::MORE_PROCESSING_REQUIRED))
        }
        acceptor::Step::Failed(e) => {
            // A failed exchange ends the session, a reauthenticated one too (as Windows does;
            // smbtorture smb2.session.reauth6).
            tracing::info!(peer = %conn.peer, reason = ?e, "session setup failed");
            let reason = AuthFailure::of(&e);
            conn.server.metrics.auth_failed(reason);
            let (user, domain) = claimed.unwrap_or_default();
            let who = Who {
                user,
                domain,
                sid: None,
            };
            audit_failed_logon(ctx, who, failure_status(&e), reason);
            delete(conn, &session);
            Err(failure_status(&e))
        }
        acceptor::Step::Done { out: blob, auth } => {
            let preauth = session.end_exchange().unwrap_or(neg.preauth);
            let previous = session.security();
            let reauth = previous.is_some();
            let sec = match previous {
                Some(old)
                    if old.auth.token.user != auth.token.user
                        && auth.method != acceptor::AuthMethod::Anonymous
                        && auth.token.user != old.first_user =>
                {
                    // Reauthentication as someone else would hand the new identity keys the
                    // old user knows (a relayed exchange): refused, and the session ends, as
                    // Windows and ksmbd compare the user (an anonymous session cannot become a
                    // named one either). Dropping to the anonymous logon and coming back to
                    // the session's first user are allowed (smbtorture smb2.session.reauth2).
                    tracing::warn!(
                        peer = %conn.peer,
                        was = %old.auth.token.user,
                        tried = %auth.token.user,
                        "reauthentication as another user refused"
                    );
                    conn.server.metrics.auth_failed(AuthFailure::IdentityChange);
                    let who = Who::of(&auth);
                    audit_failed_logon(
                        ctx,
                        who,
                        NtStatus::LOGON_FAILURE,
                        AuthFailure::IdentityChange,
                    );
                    delete(conn, &session);
                    return Err(NtStatus::LOGON_FAILURE);
                }
                // Reauthentication of the same user (or a drop to anonymous, or the way back
                // to the first user): a fresh token, the same keys.
                Some(old) => Arc::new(SessionSecurity {
                    auth: *auth,
                    ..(*old).clone()
                }),
                None => match new_security(conn, &req, dialect, *auth, &preauth) {
                    Ok(s) => Arc::new(s),
                    Err(status) => {
                        delete(conn, &session);
                        return Err(status);
                    }
                },
            };
            let mut sflags = 0;
            if sec.is_null {
                sflags |= session_flags::IS_NULL;
            }
            if sec.encrypt_data {
                sflags |= session_flags::ENCRYPT_DATA;
            }
            session.set_security(sec.clone());
            if req.previous_session_id != 0 && req.previous_session_id != session.id {
                end_previous_session(conn, req.previous_session_id, &sec);
            }
            // On a channel bound later, the channel's signing key protects the reply.
            let method = sec.auth.method;
            let sec = session.security_on(conn.id).unwrap_or(sec);
            ctx.security = Some(sec.clone());
            if !sec.is_null {
                ctx.sign_with = Some(sec);
            }
            encode_session_setup_response(out, sflags, &blob);
            let mut details = vec![
                ("session", format!("{:#x}", session.id)),
                ("auth", method.name().to_string()),
                ("dialect", crate::status::dialect_name(dialect.0)),
            ];
            if reauth {
                details.push(("reauthentication", "yes".into()));
            }
            ctx.audit(Event::Logon, NtStatus::SUCCESS, details);
            Ok(Reply::Done(NtStatus::SUCCESS))
        }
    }
}

/// Records a failed logon (event 4625) naming what the client claimed.
fn audit_failed_logon(ctx: &Ctx<'_>, who: Who, status: NtStatus, reason: AuthFailure) {
    ctx.server().audit(&crate::audit::Record {
        event: Event::LogonFailed,
        success: false,
        who,
        client: ctx.conn.peer.clone(),
        status,
        details: vec![("reason", reason.label().to_string())],
    });
}

/// The status of a failed exchange: LOGON_FAILURE, which tells a guesser nothing, except
/// where Windows and Samba answer INVALID_PARAMETER for a response of invalid structure.
pub(super) fn failure_status(e: &acceptor::AuthError) -> NtStatus {
    match e {
        acceptor::AuthError::InvalidParameter(_) => NtStatus::INVALID_PARAMETER,
        _ => NtStatus::LOGON_FAILURE,
    }
}

/// Admits a new session on `conn`: within the per-connection caps on sessions and on
/// exchanges under way (expired exchanges of this connection are dropped first), and within
/// the server-wide cap on exchanges. Refused with STATUS_REQUEST_NOT_ACCEPTED, as Windows
/// answers when it takes no more sessions.
fn admit_new_session(conn: &Arc<Connection>, now: SystemTime) -> Result<AuthState, NtStatus> {
    let limits = &conn.server.settings().limits;
    let deadline = now - limits.handshake_timeout;
    drop_expired_handshakes(conn, deadline);
    {
        let sessions = conn.sessions_now();
        let pending = sessions.iter().filter(|s| s.is_new_handshake()).count();
        if sessions.len() >= limits.max_sessions_per_connection
            || pending >= limits.max_pending_sessions_per_connection
        {
            // Debug, not warn: a flood would otherwise write a log line per refused request.
            tracing::debug!(peer = %conn.peer, sessions = sessions.len(), pending, "session refused: connection at its cap");
            conn.server.metrics.refused(Refusal::Exchanges);
            return Err(NtStatus::REQUEST_NOT_ACCEPTED);
        }
    }
    start_exchange(conn, now)
}

/// A new exchange holding a place among the server's in-progress sessions. When the server
/// is at its cap, expired exchanges of every connection are dropped first (at most once a
/// second).
pub(super) fn start_exchange(
    conn: &Arc<Connection>,
    now: SystemTime,
) -> Result<AuthState, NtStatus> {
    let server = &conn.server;
    let max = server.settings().limits.max_pending_sessions;
    let slot = match server.handshakes.try_acquire(max) {
        Some(slot) => Some(slot),
        None if server.handshakes.sweep_due(now) => {
            let deadline = now - server.settings().limits.handshake_timeout;
            let others: Vec<Arc<Connection>> = server
                .channels
                .all()
                .into_iter()
                .filter_map(|c| c.into_any().downcast::<Connection>().ok())
                .collect();
            for other in &others {
                drop_expired_handshakes(other, deadline);
            }
            server.handshakes.try_acquire(max)
        }
        None => None,
    };
    let Some(slot) = slot else {
        tracing::debug!(peer = %conn.peer, "session refused: too many authentications under way");
        server.metrics.refused(Refusal::Exchanges);
        return Err(NtStatus::REQUEST_NOT_ACCEPTED);
    };
    Ok(AuthState::InProgress {
        auth: server.auth().start_on(conn.local),
        preauth: conn.negotiated().preauth,
        started: now,
        slot,
    })
}

/// Ends the exchanges of `conn` that started before `deadline`: a session never authenticated
/// is deleted; a valid one being reauthenticated goes back to its valid state.
fn drop_expired_handshakes(conn: &Arc<Connection>, deadline: SystemTime) {
    let expired: Vec<Arc<Session>> = conn
        .sessions_now()
        .into_iter()
        .filter(|s| s.handshake_expired(deadline))
        .collect();
    for s in conn.sessions_now() {
        if s.binding_expired(conn.id, deadline) {
            s.abort_binding(conn.id);
            conn.detach_session(s.id);
        }
    }
    for s in expired {
        if s.security().is_some() {
            s.end_exchange();
        } else {
            delete(conn, &s);
        }
    }
}

/// A client reconnecting after a lost connection names its old session (MS-SMB2 3.3.5.5.3
/// PreviousSessionId): when that session is the same user's, it ends as if its connection had
/// been lost, so its durable opens wait for the reconnect and its other opens close.
fn end_previous_session(conn: &Arc<Connection>, previous: u64, sec: &SessionSecurity) {
    let server = &conn.server;
    let Some(old) = server.sessions.get(previous) else {
        return;
    };
    let same_user = old
        .security()
        .is_some_and(|o| o.auth.token.user == sec.auth.token.user && !o.is_null);
    if !same_user || sec.is_null {
        return;
    }
    if let Some(old) = server.sessions.remove(previous) {
        tracing::debug!(peer = %conn.peer, previous, "previous session of the client ended");
        super::durable::preserve_or_close(conn, &old);
    }
}

/// Ends a session on every channel, closing its trees' opens.
fn delete(conn: &Arc<Connection>, session: &Session) {
    if let Some(s) = conn.end_session(session.id) {
        super::close::close_all(conn, &s, None);
    }
}

/// Derives keys and policy for a newly authenticated session (MS-SMB2 3.3.5.5.3).
fn new_security(
    conn: &Connection,
    req: &SessionSetupRequest<'_>,
    dialect: Dialect,
    auth: acceptor::AuthContext,
    preauth: &[u8; 64],
) -> Result<SessionSecurity, NtStatus> {
    let neg = conn.negotiated();
    let settings = conn.server.settings();
    let is_null = auth.method == acceptor::AuthMethod::Anonymous || auth.session_key.is_empty();
    let encrypt_data = settings.encrypt != EncryptMode::Off && neg.can_encrypt() && !is_null;
    if settings.encrypt == EncryptMode::Required && !encrypt_data {
        tracing::info!(peer = %conn.peer, "session refused: encryption required");
        return Err(NtStatus::ACCESS_DENIED);
    }
    let signing_required = !is_null
        && (settings.signing_required
            || u16::from(req.security_mode) & security_mode::SIGNING_REQUIRED != 0);
    let signing_alg = neg.signing_alg.unwrap_or(SigningAlgorithm::HmacSha256);
    let keys = if is_null {
        None
    } else {
        let pre = (dialect == Dialect::Smb311).then_some(preauth);
        Some(crypto::derive_session_keys(
            conn.server.crypto,
            dialect.0,
            &auth.session_key,
            pre,
            neg.cipher,
        ))
    };
    let (signing_key, encryption_key, decryption_key) = match keys {
        Some(k) => (k.signing, k.encryption, k.decryption),
        None => Default::default(),
    };
    let p = conn.server.crypto;
    let prepare = |key: &[u8]| -> Option<Arc<dyn PreparedAead>> {
        let cipher = neg.cipher?;
        if key.is_empty() {
            return None;
        }
        p.aead.prepare(cipher, key).ok().map(Arc::from)
    };
    let seal = prepare(&encryption_key);
    let open = prepare(&decryption_key);
    let signer = SigningKey::new(p, signing_alg, &signing_key);
    Ok(SessionSecurity {
        first_user: auth.token.user.clone(),
        auth,
        signer,
        seal,
        open,
        encryption_key,
        decryption_key,
        cipher: neg.cipher,
        signing_required,
        encrypt_data,
        is_null,
        dialect: dialect.0,
        client_guid: neg.client_guid,
    })
}

/// Hashes a MORE_PROCESSING_REQUIRED response into the preauth hash of the exchange under
/// way on `conn` (the session's, or a binding's).
pub(crate) fn preauth_response(conn: &Connection, session: &Session, response: &[u8]) {
    session.with_exchange_on(conn.id, |_, preauth| {
        crypto::preauth_update(conn.server.crypto, preauth, response);
    });
}

/// LOGOFF: ends the session, closing its trees and opens; its durable opens wait for a
/// reconnect, as after a lost connection (smbtorture durable-open.reopen4).
pub(crate) fn logoff(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    crate::proto::session::decode_fixed4(ctx.msg).map_err(bad_request)?;
    let session = ctx.session()?.clone();
    let details = vec![("session", format!("{:#x}", session.id))];
    ctx.audit(Event::Logoff, NtStatus::SUCCESS, details);
    // The session ends on all its channels (MS-SMB2 3.3.5.6).
    if let Some(s) = ctx.conn.end_session(session.id) {
        super::durable::preserve_or_close(ctx.conn, &s);
    }
    encode_fixed4(out);
    Ok(Reply::Done(NtStatus::SUCCESS))
}
