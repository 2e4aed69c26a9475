//! SESSION_SETUP (MS-SMB2 3.3.5.5) and LOGOFF (3.3.5.6).

use std::sync::Arc;
use std::time::SystemTime;

use super::{Ctx, HResult, Reply, bad_request};
use crate::conn::Connection;
use crate::conn::session::{AuthState, Session, SessionSecurity};
use crate::crypto::{self, PreparedAead, SigningAlgorithm, SigningKey};
use crate::proto::NtStatus;
use crate::proto::negotiate::{Dialect, security_mode};
use crate::proto::session::{
    SESSION_FLAG_BINDING, SessionSetupRequest, encode_fixed4, encode_session_setup_response,
    session_flags,
};
use crate::state::EncryptMode;

/// SESSION_SETUP: one leg of an authentication exchange.
pub(crate) fn session_setup(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    let req = SessionSetupRequest::decode(ctx.msg).map_err(bad_request)?;
    let conn = ctx.conn;
    let neg = conn.negotiated();
    let dialect = neg.dialect.ok_or(NtStatus::INVALID_PARAMETER)?;
    if req.flags & SESSION_FLAG_BINDING != 0 {
        // Multichannel is not offered, so binding is refused (MS-SMB2 3.3.5.5).
        return Err(NtStatus::REQUEST_NOT_ACCEPTED);
    }
    let session = if ctx.hdr.session_id == 0 {
        let id = conn.server.next_id();
        let s = Arc::new(Session::new(id, conn.server.auth.start(), neg.preauth));
        conn.sessions.lock().unwrap().insert(id, s.clone());
        ctx.hdr.session_id = id;
        s
    } else {
        let s = conn
            .session(ctx.hdr.session_id)
            .ok_or(NtStatus::USER_SESSION_DELETED)?;
        let mut st = s.auth.lock().unwrap();
        if matches!(*st, AuthState::Valid) {
            // Reauthentication keeps the session and its keys (MS-SMB2 3.3.5.5.2).
            *st = AuthState::InProgress {
                auth: conn.server.auth.start(),
                preauth: neg.preauth,
            };
        }
        drop(st);
        s
    };
    let preauth_on = dialect == Dialect::Smb311;
    let step = {
        let mut st = session.auth.lock().unwrap();
        let AuthState::InProgress { auth, preauth } = &mut *st else {
            return Err(NtStatus::INTERNAL_ERROR);
        };
        if preauth_on {
            crypto::preauth_update(conn.server.crypto, preauth, ctx.msg);
        }
        auth.step(SystemTime::now(), req.security_buffer)
    };
    match step {
        acceptor::Step::Continue(blob) => {
            encode_session_setup_response(out, 0, &blob);
            if preauth_on {
                ctx.preauth_session = Some(session.clone());
            }
            Ok(Reply::Done(NtStatus::MORE_PROCESSING_REQUIRED))
        }
        acceptor::Step::Failed(e) => {
            tracing::info!(peer = %conn.peer, reason = ?e, "session setup failed");
            fail(conn, &session);
            Err(NtStatus::LOGON_FAILURE)
        }
        acceptor::Step::Done { out: blob, auth } => {
            let preauth =
                match std::mem::replace(&mut *session.auth.lock().unwrap(), AuthState::Valid) {
                    AuthState::InProgress { preauth, .. } => preauth,
                    AuthState::Valid => neg.preauth,
                };
            let existing = session.security();
            let sec = match existing {
                // Reauthentication: identity may change, keys stay.
                Some(old) => Arc::new(SessionSecurity {
                    auth: *auth,
                    ..(*old).clone()
                }),
                None => match new_security(conn, &req, dialect, *auth, &preauth) {
                    Ok(s) => Arc::new(s),
                    Err(status) => {
                        fail(conn, &session);
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
            *session.security.lock().unwrap() = Some(sec.clone());
            ctx.security = Some(sec.clone());
            if !sec.is_null {
                ctx.sign_with = Some(sec);
            }
            encode_session_setup_response(out, sflags, &blob);
            Ok(Reply::Done(NtStatus::SUCCESS))
        }
    }
}

fn fail(conn: &Connection, session: &Session) {
    if session.security().is_none() {
        conn.sessions.lock().unwrap().remove(&session.id);
    } else {
        *session.auth.lock().unwrap() = AuthState::Valid;
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
    let settings = &conn.server.settings;
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
    })
}

/// Hashes a MORE_PROCESSING_REQUIRED response into the session's preauth hash.
pub(crate) fn preauth_response(conn: &Connection, session: &Session, response: &[u8]) {
    if let AuthState::InProgress { preauth, .. } = &mut *session.auth.lock().unwrap() {
        crypto::preauth_update(conn.server.crypto, preauth, response);
    }
}

/// LOGOFF: ends the session, closing its trees and opens.
pub(crate) fn logoff(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    crate::proto::session::decode_fixed4(ctx.msg).map_err(bad_request)?;
    let session = ctx.session()?.clone();
    ctx.conn.sessions.lock().unwrap().remove(&session.id);
    super::close::close_all(ctx.conn, &session, None);
    encode_fixed4(out);
    Ok(Reply::Done(NtStatus::SUCCESS))
}
