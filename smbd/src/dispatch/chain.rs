//! Compound chains (MS-SMB2 3.3.5.2.7): every header checked before any of it runs, each
//! message through its checks and handler with what it inherits from the one before, every
//! response held to its credit charge and to one Direct TCP frame, and the responses assembled
//! into one frame.

use super::*;

/// State carried from one message of a compound chain to the next related one
/// (MS-SMB2 3.3.5.2.7.2).
#[derive(Default)]
pub(crate) struct Chain {
    /// The SessionId the previous operation used or generated.
    session_id: u64,
    /// The TreeId the previous operation used or generated.
    tree_id: u32,
    /// The FileId the previous operation used or generated; `None` when it had none.
    file_id: Option<FileId>,
    /// The status every further related operation fails with: set by a failed CREATE, a
    /// first operation marked related, or a related operation without a session, tree or
    /// file to inherit.
    error: Option<NtStatus>,
    /// Bytes of the reply frame taken by the responses built so far (each padded to 8).
    reply_bytes: usize,
    /// Messages of the chain after the current one, each owed room for an error response.
    messages_after: usize,
}

/// The largest reply chain a frame carries: Direct TCP gives a frame 24 bits of length
/// (MS-SMB2 2.1), and an encrypted chain also carries a transform header.
pub(crate) const FRAME_MAX: usize = 0xFF_FFFF - crypto::TRANSFORM_HEADER_LEN;

/// The room an error response takes in a chain: header, ERROR body, padding.
pub(super) const ERROR_REPLY: usize = (HEADER_LEN + 9).next_multiple_of(8);

/// One built response message and how to protect it: the message is `buf[start..]`.
pub(super) struct Built {
    buf: Vec<u8>,
    start: usize,
    sign_with: Option<Arc<SessionSecurity>>,
    /// The file range the message ends with (a plain READ response).
    tail: Option<FileTail>,
}

pub(super) async fn process_chain(
    conn: &Arc<Connection>,
    buf: Bytes,
    signatures: &[Option<[u8; 16]>],
    encrypted: Option<u64>,
) -> Result<(), Disconnect> {
    let count = check_chain_layout(&buf).map_err(Disconnect)?;
    if count.saturating_mul(ERROR_REPLY) > FRAME_MAX {
        // Even an error response each would not fit in one reply frame.
        return Err(Disconnect(
            "compound too long for its replies to fit a frame",
        ));
    }
    // The keys that seal the replies, taken before the chain runs: a LOGOFF in it ends the
    // session, and its answer is still sealed (smbtorture smb2.session.expire2e).
    let sealer = encrypted.map(|sid| {
        let sec = conn.session(sid).and_then(|s| s.security_on(conn.id));
        (sid, sec)
    });
    let mut built: Vec<Built> = Vec::new();
    let mut chain = Chain::default();
    let mut pos = 0usize;
    let mut index = 0usize;
    loop {
        let rest = &buf[pos..];
        let hdr = Header::decode(rest).map_err(|_| Disconnect("bad SMB2 header"))?;
        let next = hdr.next_command as usize;
        let end = if next == 0 { rest.len() } else { next };
        if next != 0 && (!next.is_multiple_of(8) || next < HEADER_LEN || next > rest.len()) {
            return Err(Disconnect("bad NextCommand"));
        }
        // A related message's SessionId is not read: it takes its predecessor's (3.3.5.2.7.2).
        if let Some(sid) = encrypted
            && hdr.session_id != sid
            && !(hdr.is_related() && pos != 0)
        {
            return Err(Disconnect("encrypted message for another session"));
        }
        let msg = buf.slice(pos..pos + end);
        let signature = signatures.get(index).copied().flatten();
        chain.messages_after = count - index - 1;
        if let Some(b) = process_message(
            conn,
            hdr,
            &msg,
            signature,
            encrypted.is_some(),
            &mut chain,
            pos == 0,
        )
        .await?
        {
            built.push(b);
        }
        if next == 0 {
            break;
        }
        pos += next;
        index += 1;
    }
    drop(buf);
    if built.is_empty() {
        return Ok(());
    }
    let tail = built.iter_mut().find_map(|b| b.tail.take());
    let Some(frame) = assemble(conn, built, sealer) else {
        return Ok(());
    };
    match tail {
        Some(tail) => conn.out.send_with_file(frame, tail).await,
        None => conn.out.send(frame).await,
    }
    .map_err(|_| Disconnect("connection closed"))
}

/// Checks every header and NextCommand of a received chain before any of it runs, so a
/// malformed chain is refused whole rather than half executed: each NextCommand is a multiple
/// of 8 (MS-SMB2 3.3.5.2.7: the server SHOULD disconnect otherwise), covers at least a
/// header, and stays inside the frame. Returns how many messages the chain has.
pub(super) fn check_chain_layout(buf: &[u8]) -> Result<usize, &'static str> {
    let mut pos = 0usize;
    let mut count = 0usize;
    loop {
        let rest = buf.get(pos..).ok_or("NextCommand past the frame")?;
        let hdr = Header::decode(rest).map_err(|_| "bad SMB2 header")?;
        count += 1;
        let next = hdr.next_command as usize;
        if next == 0 {
            return Ok(count);
        }
        if !next.is_multiple_of(8) || next < HEADER_LEN || next > rest.len() {
            return Err("bad NextCommand");
        }
        pos += next;
    }
}

/// Chains the responses (each 8-byte aligned, NextCommand set but on the last), signs each and encrypts the whole
/// when the request was encrypted. A single response is sent from the buffer it was built
/// in, sealed in place when it has the headroom.
pub(super) fn assemble(
    conn: &Connection,
    built: Vec<Built>,
    encrypted: Option<(u64, Option<Arc<SessionSecurity>>)>,
) -> Option<Frame> {
    let n = built.len();
    let (buf, start) = if n == 1 {
        let mut b = built.into_iter().next()?;
        if encrypted.is_none()
            && let Some(sec) = &b.sign_with
        {
            sign(conn, sec, &mut b.buf[b.start..]);
        }
        (b.buf, b.start)
    } else {
        let total: usize = built.iter().map(|b| b.buf.len() - b.start + 8).sum();
        let mut frame = Vec::with_capacity(REPLY_HEADROOM + total);
        frame.resize(REPLY_HEADROOM, 0);
        for (i, mut b) in built.into_iter().enumerate() {
            let start = b.start.min(b.buf.len());
            let msg = &mut b.buf;
            // Every response of a compound is padded to 8 bytes, the last one too, as Windows
            // does (smbtorture smb2.compound.compound-padding: a 3-byte READ's body is 24).
            let len = (msg.len() - start).next_multiple_of(8);
            msg.resize(start + len, 0);
            if i + 1 < n {
                let at = start + header::NEXT_COMMAND_OFFSET;
                if let Some(field) = msg.get_mut(at..at + 4) {
                    field.copy_from_slice(&(len as u32).to_le_bytes());
                }
            }
            if encrypted.is_none()
                && let Some(sec) = &b.sign_with
            {
                sign(conn, sec, &mut msg[start..]);
            }
            frame.extend_from_slice(&msg[start..]);
        }
        (frame, REPLY_HEADROOM)
    };
    match encrypted {
        Some((session_id, Some(sec))) => seal_with(conn, &sec, session_id, buf, start),
        Some((session_id, None)) => seal(conn, session_id, buf, start),
        None => Some(Frame::with_headroom(buf, start)),
    }
}

pub(super) async fn process_message(
    conn: &Arc<Connection>,
    mut hdr: Header,
    msg_bytes: &Bytes,
    signature: Option<[u8; 16]>,
    encrypted: bool,
    chain: &mut Chain,
    first: bool,
) -> Result<Option<Built>, Disconnect> {
    let msg: &[u8] = msg_bytes;
    if hdr.flags & flags::SERVER_TO_REDIR != 0 {
        return Err(Disconnect("response flag on a request"));
    }
    let related = hdr.is_related() && !first;
    if related {
        // The previous operation's ids, whatever the header says (3.3.5.2.7.2): clients send
        // all-ones, and the Linux cifs client and some libraries zeros.
        // Interop: Linux cifs (smb2inode.c compounds) and smbprotocol send TreeId 0.
        hdr.session_id = chain.session_id;
        hdr.tree_id = chain.tree_id;
    }
    if hdr.command == Command::Cancel {
        misc::cancel(conn, &hdr).await;
        return Ok(None);
    }
    conn.credits
        .lock()
        .unwrap()
        .consume(hdr.message_id, hdr.credit_charge)
        .map_err(|_| Disconnect("message id outside the credit window"))?;

    let started = std::time::Instant::now();
    let _in_flight = conn.server.metrics.begin();
    let mut out = Vec::with_capacity(HEADER_LEN + 128);
    out.resize(HEADER_LEN, 0);
    let mut async_id: Option<u64> = None;
    let mut ctx = Ctx {
        conn,
        hdr: hdr.clone(),
        msg,
        msg_bytes,
        reply_start: 0,
        session: None,
        security: None,
        tree: None,
        encrypted,
        sign_with: None,
        preauth_session: None,
        preauth_connection: false,
        created: None,
        related,
        chain_file: if related { chain.file_id } else { None },
        alone: first && hdr.next_command == 0,
        file_tail: None,
        frame_room: FRAME_MAX
            .saturating_sub(chain.reply_bytes)
            .saturating_sub(chain.messages_after * ERROR_REPLY),
        used_file: std::sync::Mutex::new(None),
        breaks_chain: std::sync::Mutex::new(None),
        cancel: None,
    };
    // A CREATE alone may wait for a break: CANCEL can end the wait (MS-SMB2 3.3.5.16). A
    // CHANGE_NOTIFY may be cancelled while it starts its watch, before it is pending.
    let cancel_guard = (ctx.alone
        && matches!(hdr.command, Command::Create | Command::ChangeNotify))
    .then(|| conn.cancellable(hdr.message_id, hdr.session_id));
    ctx.cancel = cancel_guard.as_ref().map(|g| g.signal.clone());
    if !hdr.is_related() {
        // An unrelated operation stands on its own: nothing earlier fails it.
        chain.error = None;
    }
    // Whether the request passed the checks and reached its handler: a refusal from there
    // is an access denial the audit log records.
    let mut handled = false;
    let result = if hdr.is_related() && first {
        // A first operation marked related has nothing to inherit (3.3.5.2.7.2).
        *ctx.breaks_chain.lock().unwrap() = Some(NtStatus::INVALID_PARAMETER);
        Err(NtStatus::INVALID_PARAMETER)
    } else if let Some(e) = chain.error.filter(|_| related) {
        Err(e)
    } else {
        let checked = check(&mut ctx, signature);
        if checked.is_ok() {
            handled = true;
        }
        match checked {
            Ok(()) if ctx.alone && may_go_async(hdr.command) => {
                let interim_sec = ctx.security.clone();
                let fut = dispatch(&mut ctx, &mut out);
                tokio::pin!(fut);
                tokio::select! {
                    r = &mut fut => r?,
                    () = conn.server.clock.sleep(ASYNC_AFTER) => {
                        // At the connection's cap of async operations the request completes
                        // synchronously, without an interim response.
                        match conn.begin_async(&conn.server.settings().limits) {
                            Some(_slot) => {
                                let id = conn.server.next_id();
                                async_id = Some(id);
                                conn.set_async_id(hdr.message_id, id);
                                send_interim(conn, &hdr, id, interim_sec.as_deref(), encrypted)
                                    .await;
                                fut.await?
                            }
                            None => fut.await?,
                        }
                    }
                }
            }
            Ok(()) => dispatch(&mut ctx, &mut out).await?,
            Err(s) => Err(s),
        }
    };

    if handled
        && let Err(status) = &result
        && matches!(
            *status,
            NtStatus::ACCESS_DENIED | NtStatus::PRIVILEGE_NOT_HELD
        )
        && !matches!(hdr.command, Command::TreeConnect | Command::SessionSetup)
    {
        audit_denial(&ctx, *status);
    }
    let mut rh = hdr.response(NtStatus::SUCCESS);
    if related {
        rh.flags |= flags::RELATED_OPERATIONS;
    }
    let start = ctx.reply_start.min(out.len());
    let mut tail = ctx.file_tail.take();
    let status = match result {
        Ok(Reply::Done(s)) => s,
        Ok(Reply::InterimSent) if ctx.alone => {
            // The interim response went out with the credits; the final one comes later.
            let took = started.elapsed();
            conn.server
                .metrics
                .request(hdr.command, NtStatus::PENDING, took);
            return Ok(None);
        }
        Ok(Reply::InterimSent) => {
            // Handlers send their own interim response only for a request alone in its frame.
            out.truncate(start + HEADER_LEN);
            encode_error(&mut out);
            NtStatus::INTERNAL_ERROR
        }
        Ok(Reply::Pending(async_id)) if hdr.next_command != 0 => {
            // Only the last operation of a chain may go async (3.3.5.2.7: the server MAY fail
            // the others); the pending operation is dropped without a late response.
            conn.pending.lock().unwrap().remove(&async_id);
            out.truncate(start + HEADER_LEN);
            encode_error(&mut out);
            NtStatus::INTERNAL_ERROR
        }
        Ok(Reply::Pending(async_id)) => {
            rh.flags |= flags::ASYNC_COMMAND;
            rh.async_id = async_id;
            out.truncate(start + HEADER_LEN);
            encode_error(&mut out);
            tail = None;
            NtStatus::PENDING
        }
        Err(s) => {
            tracing::debug!(peer = %conn.peer, command = ?hdr.command, status = ?s, "request failed");
            out.truncate(start + HEADER_LEN);
            encode_error(&mut out);
            tail = None;
            s
        }
    };
    let status = bound_reply(&ctx, &mut out, start, &mut tail, status);
    conn.server
        .metrics
        .request(hdr.command, status, started.elapsed());
    chain.reply_bytes +=
        (out.len() - start + tail.as_ref().map_or(0, |t| t.len)).next_multiple_of(8);
    rh.status = status.0;
    if hdr.command == Command::SessionSetup || hdr.command == Command::Negotiate {
        // The session id may have been assigned by the handler.
        rh.session_id = ctx.hdr.session_id;
    }
    if hdr.command == Command::TreeConnect {
        rh.tree_id = ctx.hdr.tree_id;
    }
    let charge = hdr.credit_charge.max(1);
    let request = hdr.credits.max(charge);
    if let Some(id) = async_id {
        // The interim response already granted the credits (MS-SMB2 3.3.4.2).
        rh.flags |= flags::ASYNC_COMMAND;
        rh.async_id = id;
        rh.credits = 0;
    } else {
        rh.credits = conn.credits.lock().unwrap().grant(request);
    }
    let mut head = Vec::with_capacity(HEADER_LEN);
    rh.encode(&mut head);
    if out.len() < start + HEADER_LEN {
        out.resize(start + HEADER_LEN, 0);
    }
    out[start..start + HEADER_LEN].copy_from_slice(&head);

    chain.session_id = rh.session_id;
    chain.tree_id = rh.tree_id;
    chain.file_id = ctx.created.or(*ctx.used_file.lock().unwrap());
    if let Some(e) = *ctx.breaks_chain.lock().unwrap() {
        chain.error = Some(e);
    } else if hdr.command == Command::Create && status.is_error() && chain.error.is_none() {
        // A failed CREATE fails the related operations after it with its status
        // (3.3.5.2.7.2, as Windows does).
        chain.error = Some(status);
    }

    if ctx.preauth_connection {
        negotiate::preauth_response(conn, &out[start..]);
    }
    let mut sign_with = ctx.reply_signer();
    if let Some(s) = &ctx.preauth_session {
        // The hash takes the response as the client receives it: a signed one (a binding's
        // intermediate legs, signed with the session's key) is signed first, here, when it
        // goes out alone and nothing changes its bytes afterwards.
        if ctx.alone
            && !ctx.encrypted
            && let Some(sec) = sign_with.take()
        {
            sign(conn, &sec, &mut out[start..]);
        }
        session_setup::preauth_response(conn, s, &out[start..]);
    }
    if tail.is_some() && !ctx.plain_reply() {
        // Handlers attach a file tail only to plain replies; never send it unprotected.
        return Err(Disconnect("file data in a signed, sealed or chained reply"));
    }
    Ok(Some(Built {
        buf: out,
        start,
        sign_with,
        tail,
    }))
}

/// Holds a built response to what its message's charge pays for and to the room left in the
/// reply frame (the handlers check before they work, with [`Ctx::check_charge`]; this is the
/// backstop for any response that still outgrows them): one that does not fit becomes an
/// error response with INSUFFICIENT_RESOURCES. The chain's frame then never passes
/// [`FRAME_MAX`], nor the sum over its messages of their charges' worth plus
/// [`MESSAGE_OVERHEAD`].
pub(super) fn bound_reply(
    ctx: &Ctx<'_>,
    out: &mut Vec<u8>,
    start: usize,
    tail: &mut Option<FileTail>,
    status: NtStatus,
) -> NtStatus {
    let len = out.len().saturating_sub(start) + tail.as_ref().map_or(0, |t| t.len);
    let bound = ctx.frame_room.min(ctx.paid_bytes() + MESSAGE_OVERHEAD);
    if len.next_multiple_of(8) <= bound {
        return status;
    }
    tracing::debug!(peer = %ctx.conn.peer, command = ?ctx.hdr.command, len, bound, "response over its bound");
    out.truncate(start + HEADER_LEN);
    encode_error(out);
    *tail = None;
    NtStatus::INSUFFICIENT_RESOURCES
}

/// Records an operation on a file or folder that was refused (event 5145): the share, the
/// path (the name a CREATE asked for, or the open's file), the command and, for a CREATE,
/// the access asked for.
fn audit_denial(ctx: &Ctx<'_>, status: NtStatus) {
    if !ctx.server().auditing() {
        return;
    }
    let mut details = Vec::new();
    if let Some(tree) = &ctx.tree {
        details.push(("share", tree.share.name.clone()));
    }
    let command = ctx.hdr.command;
    if command == Command::Create {
        if let Ok(req) = crate::proto::create::CreateRequest::decode(ctx.msg) {
            details.push(("path", req.name.clone()));
            details.push(("access", format!("{:#010x}", req.desired_access)));
        }
    } else if let Some(id) = *ctx.used_file.lock().unwrap()
        && let Some(open) = ctx.session.as_ref().and_then(|s| s.open(id))
    {
        details.push(("path", open.path()));
    }
    let name = command.name().unwrap_or("UNKNOWN").to_ascii_lowercase();
    details.push(("command", name));
    ctx.audit(crate::audit::Event::AccessDenied, status, details);
}
