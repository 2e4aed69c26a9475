//! Session binding (MS-SMB2 3.3.5.5 with SMB2_SESSION_FLAG_BINDING): a SESSION_SETUP on a new
//! connection joins an existing session as another channel. The client proves the session's
//! key by signing the request with it, then authenticates as the same user; the channel gets a
//! signing key of its own, derived from that exchange's session key (and, on 3.1.1, from the
//! channel's own preauth hash). Encryption keys stay the session's.

use std::sync::Arc;
use std::time::SystemTime;

use super::{Ctx, HResult, Reply};
use crate::conn::Connection;
use crate::crypto::{self, SigningAlgorithm, SigningKey};
use crate::proto::NtStatus;
use crate::proto::negotiate::Dialect;
use crate::proto::session::{SessionSetupRequest, encode_session_setup_response};
use crate::state::session::{Session, SessionSecurity};

/// The most connections one session may be bound to (Windows Server's limit; smbtorture
/// smb2.multichannel.generic.num_channels expects the 33rd refused with
/// STATUS_INSUFFICIENT_RESOURCES).
pub(crate) const MAX_CHANNELS: usize = 32;

/// One leg of a binding exchange on `ctx.conn`.
pub(super) fn bind_step(
    ctx: &mut Ctx<'_>,
    req: &SessionSetupRequest<'_>,
    dialect: Dialect,
    now: SystemTime,
    out: &mut Vec<u8>,
) -> HResult {
    let conn = ctx.conn;
    let (session, main) = admit(ctx, dialect, now)?;
    let preauth_on = dialect == Dialect::Smb311;
    let step = session
        .with_exchange_on(conn.id, |auth, preauth| {
            if preauth_on {
                crypto::preauth_update(conn.server.crypto, preauth, ctx.msg);
            }
            auth.step(now, req.security_buffer)
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
            tracing::info!(peer = %conn.peer, reason = ?e, "session binding failed");
            abandon(conn, &session);
            Err(super::session_setup::failure_status(&e))
        }
        acceptor::Step::Done { out: blob, auth } => {
            if auth.token.user != main.auth.token.user {
                // Another user's credentials cannot join this user's session.
                tracing::warn!(peer = %conn.peer, session = session.id, "binding as another user refused");
                abandon(conn, &session);
                return Err(NtStatus::ACCESS_DENIED);
            }
            if auth.session_key.is_empty() {
                abandon(conn, &session);
                return Err(NtStatus::NOT_SUPPORTED);
            }
            let preauth = session
                .binding_preauth(conn.id)
                .ok_or(NtStatus::INTERNAL_ERROR)?;
            let pre = preauth_on.then_some(&preauth);
            let keys = crypto::derive_session_keys(
                conn.server.crypto,
                dialect.0,
                &auth.session_key,
                pre,
                conn.negotiated().cipher,
            );
            let alg = conn
                .negotiated()
                .signing_alg
                .unwrap_or(SigningAlgorithm::AesCmac);
            let channel = Arc::new(SessionSecurity {
                signer: SigningKey::new(conn.server.crypto, alg, &keys.signing),
                ..(*main).clone()
            });
            session
                .finish_binding(conn.id, channel.clone())
                .ok_or(NtStatus::INTERNAL_ERROR)?;
            tracing::info!(peer = %conn.peer, session = session.id, "channel bound to session");
            ctx.security = Some(channel.clone());
            ctx.sign_with = Some(channel);
            encode_session_setup_response(out, 0, &blob);
            Ok(Reply::Done(NtStatus::SUCCESS))
        }
    }
}

/// The checks a binding request passes (MS-SMB2 3.3.5.5, in the order Windows and Samba make
/// them), and the start of its exchange on the first leg. Returns the session and its keys.
fn admit(
    ctx: &mut Ctx<'_>,
    dialect: Dialect,
    now: SystemTime,
) -> Result<(Arc<Session>, Arc<SessionSecurity>), NtStatus> {
    let conn = ctx.conn;
    let server = &conn.server;
    let id = ctx.hdr.session_id;
    if id == 0 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let session = server
        .sessions
        .get(id)
        .ok_or(NtStatus::USER_SESSION_DELETED)?;
    let Some(main) = session.security() else {
        // The session's own first exchange is still under way.
        return Err(NtStatus::REQUEST_NOT_ACCEPTED);
    };
    // Interop: Samba's client (smbtorture smb2.session.bind_negative_*) takes an unsigned
    // answer to a signed binding request for ACCESS_DENIED, whatever its status; Samba and
    // Windows sign every answer of the exchange, errors included, with the session's key
    // until the channel has one.
    if ctx.hdr.is_signed() && !main.is_null {
        ctx.sign_with = Some(main.clone());
    }
    let neg = conn.negotiated();
    let session_alg = main.signer.alg();
    let conn_alg = neg.signing_alg.unwrap_or(SigningAlgorithm::HmacSha256);
    if session_alg == SigningAlgorithm::AesGmac && conn_alg != session_alg {
        return Err(NtStatus::REQUEST_OUT_OF_SEQUENCE);
    }
    if conn_alg == SigningAlgorithm::AesGmac && session_alg != conn_alg {
        return Err(NtStatus::NOT_SUPPORTED);
    }
    if !dialect.is_smb3() || !server.settings().multichannel {
        return Err(NtStatus::REQUEST_NOT_ACCEPTED);
    }
    if !ctx.hdr.is_signed() {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if main.is_null {
        return Err(NtStatus::NOT_SUPPORTED);
    }
    if session.is_bound_to(conn.id) {
        // Already a channel of the session on this connection (its signature was checked
        // with the channel's key before the handler ran).
        return Err(NtStatus::REQUEST_NOT_ACCEPTED);
    }
    // The client proves it holds the session's key: the request is signed with it.
    let p = server.crypto;
    let msg = ctx.msg;
    if !main.signer.verify(p, msg) {
        tracing::warn!(peer = %conn.peer, session = id, "binding request with a bad signature");
        return Err(NtStatus::ACCESS_DENIED);
    }
    if main.dialect != dialect.0 || main.cipher != neg.cipher {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if main.client_guid != neg.client_guid {
        // Channels of one session come from one client.
        return Err(NtStatus::USER_SESSION_DELETED);
    }
    if session.is_binding_on(conn.id) {
        return Ok((session, main));
    }
    if session.channel_count() >= MAX_CHANNELS {
        ctx.conn
            .server
            .metrics
            .refused(crate::metrics::Refusal::Channels);
        return Err(NtStatus::INSUFFICIENT_RESOURCES);
    }
    let exchange = super::session_setup::start_exchange(conn, now)?;
    if !session.begin_binding(conn.id, exchange) {
        return Err(NtStatus::USER_SESSION_DELETED);
    }
    conn.attach_session(id);
    Ok((session, main))
}

/// Drops a binding that failed: the session goes on on its other channels.
fn abandon(conn: &Connection, session: &Session) {
    session.abort_binding(conn.id);
    conn.detach_session(session.id);
}

/// A signed request naming a session that is not bound to this connection (another
/// channel's, one whose binding failed, or one that ended lately) is answered
/// USER_SESSION_DELETED; when its
/// signature is good under the session's own key, the answer is signed with that key.
///
/// Interop: Samba's client refuses an unsigned answer to a signed request (ACCESS_DENIED,
/// smbtorture smb2.session.bind2, bind_invalid_auth, bind_negative_*); Windows signs it.
/// Only a client that proved the key learns that the session exists.
pub(super) fn sign_for_unbound(ctx: &mut Ctx<'_>, signature: Option<&[u8; 16]>) {
    let conn = ctx.conn;
    if ctx.encrypted || ctx.hdr.session_id == 0 || !ctx.hdr.is_signed() {
        return;
    }
    let sessions = &conn.server.sessions;
    // Whatever the connection's ClientGuid: the answer to a binding from another client
    // (refused) is signed as well, as Samba and Windows do. A session that ended (a failed
    // reauthentication on another channel, smbtorture smb2.session.bind_invalid_auth) is
    // answered the same way while the table remembers its keys.
    let main = match sessions.get(ctx.hdr.session_id) {
        Some(session) if session.is_bound_to(conn.id) => return,
        Some(session) => session.security(),
        None => sessions.ended_keys(ctx.hdr.session_id, conn.id),
    };
    let Some(main) = main.filter(|m| !m.is_null) else {
        return;
    };
    let p = conn.server.crypto;
    let good = match signature {
        Some(expected) => main.signer.verify_zeroed(p, ctx.msg, expected),
        None => main.signer.verify(p, ctx.msg),
    };
    if good {
        ctx.sign_with = Some(main);
    }
}
