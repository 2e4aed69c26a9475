//! NEGOTIATE (MS-SMB2 3.3.5.3 for the SMB1 form, 3.3.5.4 for SMB2).

use std::sync::Arc;
use std::time::SystemTime;

use super::{Ctx, Disconnect, HResult, Reply};
use crate::conn::{Connection, Negotiated};
use crate::crypto::{self, Cipher, SigningAlgorithm};
use crate::proto::NtStatus;
use crate::proto::header::{Command, Header, flags};
use crate::proto::negotiate::{
    Dialect, HASH_SHA512, NegotiateRequest, NegotiateResponse, caps, security_mode,
    smb1_negotiate_dialect,
};
use crate::state::EncryptMode;

/// Dialects the server speaks, best first.
const DIALECTS: [Dialect; 5] = [
    Dialect::Smb311,
    Dialect::Smb302,
    Dialect::Smb300,
    Dialect::Smb210,
    Dialect::Smb202,
];

/// Largest read/write/transact for 2.0.2, which has no multi-credit requests.
const SMB202_MAX_IO: u32 = 65536;

/// Current time as FILETIME.
pub(crate) fn now_filetime() -> u64 {
    let d = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    vfs::unix_to_filetime(d.as_secs() as i64, d.subsec_nanos())
}

fn base_response(conn: &Connection, dialect: Dialect) -> NegotiateResponse {
    let s = conn.server.settings();
    let (rd, wr, tr) = if dialect == Dialect::Smb202 || dialect == Dialect::Wildcard {
        (
            s.max_read.min(SMB202_MAX_IO),
            s.max_write.min(SMB202_MAX_IO),
            s.max_transact.min(SMB202_MAX_IO),
        )
    } else {
        (s.max_read, s.max_write, s.max_transact)
    };
    NegotiateResponse {
        security_mode: security_mode::SIGNING_ENABLED
            | if s.signing_required {
                security_mode::SIGNING_REQUIRED
            } else {
                0
            },
        dialect,
        server_guid: s.guid,
        capabilities: 0,
        max_transact_size: tr,
        max_read_size: rd,
        max_write_size: wr,
        system_time: now_filetime(),
        security_buffer: conn.server.auth().negotiate_blob(),
        ..NegotiateResponse::default()
    }
}

/// Answers an SMB1 NEGOTIATE that offers SMB2 with an SMB2 NEGOTIATE response
/// (MS-SMB2 3.3.5.3.1); anything else drops the connection.
pub(crate) async fn smb1(conn: &Arc<Connection>, frame: &[u8]) -> Result<(), Disconnect> {
    let neg = conn.negotiated();
    if neg.dialect.is_some() || neg.wildcard_sent {
        return Err(Disconnect("SMB1 after negotiation"));
    }
    let dialect = smb1_negotiate_dialect(frame).ok_or(Disconnect("SMB1 negotiate without SMB2"))?;
    conn.credits
        .lock()
        .unwrap()
        .consume(0, 1)
        .map_err(|_| Disconnect("credits"))?;
    let resp = base_response(conn, dialect);
    let mut n = Negotiated::default();
    if dialect == Dialect::Smb202 {
        n.dialect = Some(Dialect::Smb202);
        n.signing_alg = Some(SigningAlgorithm::HmacSha256);
        n.server_security_mode = resp.security_mode;
    } else {
        n.wildcard_sent = true;
    }
    conn.set_negotiated(n);
    let hdr = Header {
        command: Command::Negotiate,
        flags: flags::SERVER_TO_REDIR,
        credits: conn.credits.lock().unwrap().grant(1),
        ..Header::default()
    };
    let mut out = Vec::with_capacity(256);
    hdr.encode(&mut out);
    resp.encode(&mut out);
    conn.out
        .send(out.into())
        .await
        .map_err(|_| Disconnect("connection closed"))
}

/// SMB2 NEGOTIATE.
pub(crate) fn negotiate(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> Result<HResult, Disconnect> {
    let conn = ctx.conn;
    let prev = conn.negotiated();
    if prev.dialect.is_some() {
        return Err(Disconnect("second NEGOTIATE"));
    }
    let req = match NegotiateRequest::decode(ctx.msg) {
        Ok(r) => r,
        Err(_) => return Ok(Err(NtStatus::INVALID_PARAMETER)),
    };
    let Some(dialect) = DIALECTS.iter().copied().find(|d| req.dialects.contains(d)) else {
        return Ok(Err(NtStatus::NOT_SUPPORTED));
    };
    let settings = conn.server.settings();
    let mut resp = base_response(conn, dialect);
    let mut n = Negotiated {
        dialect: Some(dialect),
        client_guid: req.client_guid,
        client_caps: req.capabilities,
        client_security_mode: req.security_mode,
        client_dialects: req.dialects.iter().map(|d| d.0).collect(),
        ..Negotiated::default()
    };
    if dialect != Dialect::Smb202 {
        // Leases from 2.1 on (MS-SMB2 3.3.5.4): Windows asks for them only when offered.
        resp.capabilities |= caps::LARGE_MTU | caps::LEASING;
    }
    if dialect.is_smb3() && conn.server.settings().multichannel {
        // Session binding (MS-SMB2 3.3.5.5): more connections of the client join a session.
        resp.capabilities |= caps::MULTI_CHANNEL;
    }
    if dialect.is_smb3()
        && conn
            .server
            .shares()
            .iter()
            .any(|s| s.continuous_availability)
    {
        // Persistent handles, on the continuously available shares (MS-SMB2 3.3.5.4).
        resp.capabilities |= caps::PERSISTENT_HANDLES;
    }
    match dialect {
        Dialect::Smb311 => {
            if !req
                .preauth_hashes
                .as_ref()
                .is_some_and(|h| h.contains(&HASH_SHA512))
            {
                return Ok(Err(NtStatus::INVALID_PARAMETER));
            }
            let mut salt = [0u8; 32];
            if conn.server.crypto.random.fill(&mut salt).is_err() {
                return Ok(Err(NtStatus::INSUFFICIENT_RESOURCES));
            }
            resp.preauth_salt = Some(salt);
            if let Some(offered) = &req.ciphers {
                let chosen = settings
                    .ciphers
                    .iter()
                    .copied()
                    .find(|c| offered.contains(&c.to_wire()));
                n.cipher = chosen;
                resp.cipher = Some(chosen.map_or(0, Cipher::to_wire));
            }
            let alg = req
                .signing_algorithms
                .as_ref()
                .and_then(|offered| {
                    settings
                        .signing_algorithms
                        .iter()
                        .copied()
                        .find(|a| offered.contains(&a.to_wire()))
                })
                .unwrap_or(SigningAlgorithm::AesCmac);
            if req.signing_algorithms.is_some() {
                resp.signing_algorithm = Some(alg.to_wire());
            }
            n.signing_alg = Some(alg);
        }
        Dialect::Smb300 | Dialect::Smb302 => {
            if req.capabilities & caps::ENCRYPTION != 0
                && settings.ciphers.contains(&Cipher::Aes128Ccm)
            {
                resp.capabilities |= caps::ENCRYPTION;
                n.cipher = Some(Cipher::Aes128Ccm);
            }
            n.signing_alg = Some(SigningAlgorithm::AesCmac);
        }
        _ => n.signing_alg = Some(SigningAlgorithm::HmacSha256),
    }
    if n.cipher.is_none() && settings.encrypt == EncryptMode::Required {
        tracing::info!(peer = %conn.peer, ?dialect, "client cannot encrypt; sessions will be refused");
    }
    n.server_caps = resp.capabilities;
    n.server_security_mode = resp.security_mode;
    if dialect == Dialect::Smb311 {
        crypto::preauth_update(conn.server.crypto, &mut n.preauth, ctx.msg);
        ctx.preauth_connection = true;
    }
    conn.set_negotiated(n);
    resp.encode(out);
    Ok(Ok(Reply::Done(NtStatus::SUCCESS)))
}

/// Hashes the NEGOTIATE response into the connection's preauth hash (3.1.1).
pub(crate) fn preauth_response(conn: &Connection, response: &[u8]) {
    let mut n = (*conn.negotiated()).clone();
    crypto::preauth_update(conn.server.crypto, &mut n.preauth, response);
    conn.set_negotiated(n);
}
