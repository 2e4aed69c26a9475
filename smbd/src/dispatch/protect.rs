//! Protection of the wire: signatures taken out of received chains and checked, transform
//! frames decrypted in place, responses signed or sealed (in place when there is headroom), and
//! the rule for heavy cryptographic work (off the async worker's core).

use super::*;

/// Frames at least this large are sealed, opened, signed and verified off the async
/// worker's core (`block_in_place`), so the connection's other tasks keep running.
pub(super) const HEAVY_CRYPTO_FROM: usize = 256 * 1024;

/// Runs `f`, a cryptographic operation over `len` bytes, in a way that does not stall the
/// runtime's other tasks when it is long.
pub(super) fn heavy<R>(len: usize, f: impl FnOnce() -> R) -> R {
    off_worker_if(len >= HEAVY_CRYPTO_FROM, f)
}

/// Runs `f` under `block_in_place` when `heavy` (and the runtime has other workers to take
/// over its tasks), so CPU-bound work does not stall the connection tasks queued behind it.
pub(crate) fn off_worker_if<R>(heavy: bool, f: impl FnOnce() -> R) -> R {
    let multi_thread = tokio::runtime::Handle::try_current()
        .map(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
        .unwrap_or(false);
    if heavy && multi_thread {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

/// Takes the signature out of each signed message of a plain chain (zeroing the field), so
/// it can be verified in place as one piece. NEGOTIATE and SESSION_SETUP keep theirs: their
/// bytes feed the preauth integrity hash as received. Walks NextCommand as far as it is
/// sane; `process_chain` rejects a bad chain afterwards.
pub(super) fn take_signatures(frame: &mut [u8]) -> Vec<Option<[u8; 16]>> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while let Some(rest) = frame.get_mut(pos..) {
        let Ok(hdr) = Header::decode(rest) else {
            break;
        };
        let keeps_bytes = matches!(hdr.command, Command::Negotiate | Command::SessionSetup);
        out.push(if hdr.is_signed() && !keeps_bytes {
            crypto::take_signature(rest)
        } else {
            None
        });
        let next = hdr.next_command as usize;
        if next < HEADER_LEN || !next.is_multiple_of(8) {
            break;
        }
        pos = pos.saturating_add(next);
    }
    out
}

/// Decrypts a transform frame in place with its session's prepared key; the plaintext is
/// `frame[52..]`. Returns the session id when the session is bound to `conn`, `None` when it
/// is a session of another connection only (see [`Decrypted`]).
pub(super) fn decrypt(conn: &Connection, frame: &mut [u8]) -> Result<Decrypted, Disconnect> {
    let th =
        crypto::TransformHeader::parse(frame).map_err(|_| Disconnect("bad transform header"))?;
    let (sec, bound) = match conn.session(th.session_id) {
        Some(session) => (
            session
                .security_on(conn.id)
                .ok_or(Disconnect("transform before session is valid"))?,
            true,
        ),
        // The encryption keys are the session's, not a channel's: a client may seal a request
        // for a session through a connection not (or not yet) bound to it.
        None => (
            conn.server
                .sessions
                .get(th.session_id)
                .and_then(|s| s.security())
                .ok_or(Disconnect("transform for unknown session"))?,
            false,
        ),
    };
    let cipher = sec.cipher.ok_or(Disconnect("transform without a cipher"))?;
    let len = frame.len();
    heavy(len, || match &sec.open {
        Some(aead) => crypto::decrypt_in_place_prepared(aead.as_ref(), frame).map(|_| ()),
        None => crypto::decrypt_in_place(conn.server.crypto, cipher, &sec.decryption_key, frame)
            .map(|_| ()),
    })
    .map_err(|_| Disconnect("decryption failed"))?;
    Ok(if bound {
        Decrypted::Bound(th.session_id)
    } else {
        Decrypted::Unbound
    })
}

/// What [`decrypt`] found the transform's session to be.
pub(super) enum Decrypted {
    /// A session bound to the connection: the chain is processed as encrypted, and its
    /// answers are sealed with this session's keys.
    Bound(u64),
    /// A session of another connection: the chain is processed as a plain one, so a request
    /// for it gets an unsealed USER_SESSION_DELETED (MS-SMB2 3.3.5.2.9), as Samba answers
    /// (smbtorture smb2.session.bind2 on an encrypted share), not a dropped connection.
    Unbound,
}

pub(super) fn sign(conn: &Connection, sec: &SessionSecurity, msg: &mut [u8]) {
    let Some(f) = msg.get(16..20) else {
        return;
    };
    let f = u32::from_le_bytes(f.try_into().unwrap_or_default()) | flags::SIGNED;
    msg[16..20].copy_from_slice(&f.to_le_bytes());
    let len = msg.len();
    if let Err(e) = heavy(len, || sec.signer.sign(conn.server.crypto, msg)) {
        tracing::error!(error = ?e, "signing failed");
    }
}

/// Encrypts the message `buf[start..]` for a session: in place when at least a transform
/// header of headroom precedes it, else in a new buffer. A session without encryption keys
/// gets the message as it is; a message that fails to seal (it never should) is not sent.
pub(crate) fn seal(
    conn: &Connection,
    session_id: u64,
    buf: Vec<u8>,
    start: usize,
) -> Option<Frame> {
    match conn
        .session(session_id)
        .and_then(|s| s.security_on(conn.id))
    {
        Some(sec) => seal_with(conn, &sec, session_id, buf, start),
        None => Some(Frame::with_headroom(buf, start)),
    }
}

/// [`seal`] with keys taken before: a LOGOFF's response is sealed with the keys of the
/// session it ended.
pub(super) fn seal_with(
    conn: &Connection,
    sec: &SessionSecurity,
    session_id: u64,
    buf: Vec<u8>,
    start: usize,
) -> Option<Frame> {
    let Some(cipher) = sec.cipher else {
        return Some(Frame::with_headroom(buf, start));
    };
    let th = crypto::TRANSFORM_HEADER_LEN;
    let (mut buf, at) = if start >= th {
        (buf, start - th)
    } else {
        let mut v = Vec::with_capacity(REPLY_HEADROOM + buf.len() - start);
        v.resize(REPLY_HEADROOM - th, 0);
        v.extend_from_slice(&[0u8; crypto::TRANSFORM_HEADER_LEN]);
        v.extend_from_slice(&buf[start..]);
        (v, REPLY_HEADROOM - th)
    };
    let p = conn.server.crypto;
    let region = &mut buf[at..];
    let len = region.len();
    let sealed = heavy(len, || match &sec.seal {
        Some(aead) => {
            crypto::encrypt_in_place_prepared(p.random, aead.as_ref(), session_id, region)
        }
        None => crypto::encrypt_in_place(p, cipher, &sec.encryption_key, session_id, region),
    });
    match sealed {
        Ok(()) => Some(Frame::with_headroom(buf, at)),
        Err(e) => {
            // Never send the plaintext of a message the client asked to have encrypted.
            tracing::error!(error = ?e, "encryption failed");
            None
        }
    }
}

/// Sends a late (async) final response, signed and encrypted as its session requires.
pub(crate) async fn send_async_final(
    conn: &Connection,
    hdr: Header,
    status: NtStatus,
    body: &[u8],
    encrypted: bool,
) {
    let sec = conn
        .session(hdr.session_id)
        .and_then(|s| s.security_on(conn.id));
    send_async_final_as(conn, hdr, status, body, encrypted, sec.as_deref()).await;
}

/// [`send_async_final`] protected with the keys `sec` (those of the session when the request
/// went async: a LOCK completed by the LOGOFF of its session is still signed).
pub(crate) async fn send_async_final_as(
    conn: &Connection,
    mut hdr: Header,
    status: NtStatus,
    body: &[u8],
    encrypted: bool,
    sec: Option<&SessionSecurity>,
) {
    hdr.status = status.0;
    hdr.credits = 0;
    hdr.next_command = 0;
    let mut msg = Vec::with_capacity(HEADER_LEN + body.len());
    hdr.encode(&mut msg);
    msg.extend_from_slice(body);
    if let Some(frame) = protect_out_of_band(conn, &hdr, sec, encrypted, msg) {
        let _ = conn.out.send(frame).await;
    }
}

/// Protects a response sent outside its request's chain (interim and late async replies):
/// encrypted when the request was, else signed when the session signs or the request was
/// signed.
pub(super) fn protect_out_of_band(
    conn: &Connection,
    hdr: &Header,
    sec: Option<&SessionSecurity>,
    encrypted: bool,
    mut msg: Vec<u8>,
) -> Option<Frame> {
    match sec {
        Some(_) if encrypted => seal(conn, hdr.session_id, msg, 0),
        Some(sec) if !sec.is_null && (sec.signing_required || hdr.is_signed()) => {
            sign(conn, sec, &mut msg);
            Some(msg.into())
        }
        _ => Some(msg.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(command: Command, signed: bool, next: u32, sig: u8) -> Vec<u8> {
        let h = Header {
            credit_charge: 1,
            status: 0,
            command,
            credits: 1,
            flags: if signed { flags::SIGNED } else { 0 },
            next_command: next,
            message_id: 3,
            async_id: 0,
            tree_id: 1,
            session_id: 9,
            signature: [sig; 16],
        };
        let mut v = Vec::new();
        h.encode(&mut v);
        v.resize(next.max(80) as usize, 0x77);
        v
    }

    /// Signed messages give up their signature (the field becomes zero), except
    /// SESSION_SETUP whose bytes feed the preauth hash; the walk stops at a bad NextCommand.
    #[test]
    fn signatures_are_taken_out_of_a_chain() {
        let mut frame = message(Command::Read, true, 80, 0xA1);
        frame.extend(message(Command::SessionSetup, true, 80, 0xB2));
        frame.extend(message(Command::Write, false, 88, 0xC3));
        frame.extend(message(Command::Close, true, 0, 0xD4));
        let sigs = take_signatures(&mut frame);
        assert_eq!(sigs, vec![Some([0xA1; 16]), None, None, Some([0xD4; 16])]);
        assert_eq!(&frame[48..64], &[0u8; 16]);
        assert_eq!(&frame[80 + 48..80 + 64], &[0xB2; 16]);
        assert_eq!(&frame[160 + 48..160 + 64], &[0xC3; 16]);
        assert_eq!(&frame[248 + 48..248 + 64], &[0u8; 16]);

        let mut bad = message(Command::Read, true, 12, 0xA1);
        assert_eq!(take_signatures(&mut bad), vec![Some([0xA1; 16])]);
        assert!(take_signatures(&mut [0u8; 10]).is_empty());
    }

    /// `heavy` runs its closure on any runtime, and outside one.
    #[test]
    fn heavy_runs_everywhere() {
        assert_eq!(heavy(1 << 30, || 5), 5);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(async { heavy(1 << 30, || 6) }), 6);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        assert_eq!(rt.block_on(async { heavy(1 << 30, || 7) }), 7);
    }
}
