//! The checks of MS-SMB2 3.3.5.2.4 - 3.3.5.2.11 that every message passes before its handler
//! runs: negotiation done, session valid, signature, encryption, session expiry, tree.

use super::*;

/// The checks of MS-SMB2 3.3.5.2.4 - 3.3.5.2.11 before a handler runs.
/// `signature` is the request's signature when it was taken out of the message (its field
/// is then zero).
pub(super) fn check(ctx: &mut Ctx<'_>, signature: Option<[u8; 16]>) -> Result<(), NtStatus> {
    let cmd = ctx.hdr.command;
    let neg = ctx.conn.negotiated();
    if cmd != Command::Negotiate && neg.dialect.is_none() {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let needs_session = !matches!(
        cmd,
        Command::Negotiate | Command::SessionSetup | Command::Echo
    );
    if cmd != Command::Negotiate && ctx.hdr.session_id != 0 {
        ctx.session = ctx.conn.session(ctx.hdr.session_id);
        ctx.security = ctx
            .session
            .as_ref()
            .and_then(|s| s.security_on(ctx.conn.id));
    }
    if needs_session && ctx.security.is_none() {
        binding::sign_for_unbound(ctx, signature.as_ref());
        return Err(ctx.inherit_failed(NtStatus::USER_SESSION_DELETED));
    }
    if let Some(sec) = ctx.security.clone() {
        if !ctx.encrypted && !sec.is_null {
            if ctx.hdr.is_signed() {
                let p = ctx.conn.server.crypto;
                let msg = ctx.msg;
                let good = heavy(msg.len(), || match &signature {
                    Some(expected) => sec.signer.verify_zeroed(p, msg, expected),
                    None => sec.signer.verify(p, msg),
                });
                if !good {
                    tracing::warn!(peer = %ctx.conn.peer, command = ?cmd, "bad signature");
                    return Err(NtStatus::ACCESS_DENIED);
                }
            } else if sec.signing_required && cmd != Command::Echo {
                return Err(NtStatus::ACCESS_DENIED);
            }
        }
        if sec.encrypt_data
            && !ctx.encrypted
            && cmd != Command::SessionSetup
            && cmd != Command::Echo
        {
            return Err(NtStatus::ACCESS_DENIED);
        }
        // After the signature (3.3.5.2.4), so only the session's own client learns of it.
        if expired(ctx, &sec)
            && !matches!(
                cmd,
                Command::SessionSetup
                    | Command::Logoff
                    | Command::Close
                    | Command::Lock
                    | Command::Echo
            )
        {
            // The Kerberos ticket ended: only reauthentication, LOGOFF, CLOSE, LOCK and ECHO go on
            // (MS-SMB2 3.3.5.2.9); LOCK only to unlock (see super::lock).
            return Err(NtStatus::NETWORK_SESSION_EXPIRED);
        }
    }
    let needs_tree = !matches!(
        cmd,
        Command::Negotiate
            | Command::SessionSetup
            | Command::Logoff
            | Command::TreeConnect
            | Command::Echo
    );
    if needs_tree {
        let tree = ctx
            .session()?
            .tree(ctx.hdr.tree_id)
            .ok_or_else(|| ctx.inherit_failed(NtStatus::NETWORK_NAME_DELETED))?;
        if tree.encrypt_data && !ctx.encrypted {
            return Err(NtStatus::ACCESS_DENIED);
        }
        ctx.tree = Some(tree);
    }
    Ok(())
}

/// Whether the session's Kerberos ticket has ended (MS-SMB2 3.3.5.2.9): until it is
/// reauthenticated, the session may only release what it holds.
pub(super) fn expired(ctx: &Ctx<'_>, sec: &SessionSecurity) -> bool {
    sec.auth
        .expires_at
        .is_some_and(|end| ctx.conn.server.clock.now() >= end)
}
