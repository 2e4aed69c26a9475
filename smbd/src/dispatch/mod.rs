//! From a received frame to the frames sent back: transform decryption, compound chains,
//! the per-message checks of MS-SMB2 3.3.5.2 (credits, session, signature, encryption, tree),
//! one handler per command, and response signing and encryption.
//!
//! Every check happens here, before a handler runs; handlers see typed requests.

#[cfg(test)]
mod async_tests;
mod close;
#[cfg(test)]
mod compound_tests;
mod create;
mod create_access;
#[cfg(test)]
mod file_tests;
mod ioctl;
#[cfg(test)]
mod limit_tests;
mod lock;
mod misc;
mod negotiate;
mod notify;
mod path;
mod query_dir;
mod query_info;
mod read;
mod rename;
mod security;
mod session_setup;
#[cfg(test)]
mod session_tests;
mod set_info;
#[cfg(test)]
mod test_client;
#[cfg(test)]
pub(crate) mod test_server;
mod tree_connect;
mod write;

use std::sync::Arc;

use bytes::Bytes;

use crate::conn::outbox::FileTail;
use crate::conn::session::{Open, Session, SessionSecurity, Tree};
use crate::conn::{Connection, Frame};
use crate::crypto;
use crate::proto::NtStatus;
use crate::proto::create::FileId;
use crate::proto::header::{self, Command, HEADER_LEN, Header, flags};
use crate::proto::session::encode_error;

/// The connection must be dropped: the client broke the protocol in a way that has no reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnect(pub &'static str);

/// How a handler finished.
pub(crate) enum Reply {
    /// The body is in the output buffer; answer with this status.
    Done(NtStatus),
    /// Answer with an interim STATUS_PENDING carrying this async id; the final response is
    /// sent later by whoever completes the operation.
    Pending(u64),
}

/// A handler's result: a reply, or an error status answered with an ERROR body.
pub(crate) type HResult = Result<Reply, NtStatus>;

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

/// What a handler sees of its request.
pub(crate) struct Ctx<'a> {
    /// The connection.
    pub conn: &'a Arc<Connection>,
    /// The request header, with related ids substituted.
    pub hdr: Header,
    /// The request message, header included.
    pub msg: &'a [u8],
    /// The same message as a shared buffer, so a handler can keep part of it without a copy.
    pub msg_bytes: &'a Bytes,
    /// Where the response message starts in the output buffer: a handler that replaces the
    /// buffer with one of its own (READ) leaves this much headroom before the message, so the
    /// response can be encrypted in place.
    pub reply_start: usize,
    /// The session, when the command needs one (or SESSION_SETUP found one).
    pub session: Option<Arc<Session>>,
    /// The session's keys, when it is valid.
    pub security: Option<Arc<SessionSecurity>>,
    /// The tree connect, when the command needs one.
    pub tree: Option<Arc<Tree>>,
    /// Whether the request arrived encrypted.
    pub encrypted: bool,
    /// Sign the response with these keys.
    pub sign_with: Option<Arc<SessionSecurity>>,
    /// Hash the response into this session's preauth hash (3.1.1 SESSION_SETUP legs).
    pub preauth_session: Option<Arc<Session>>,
    /// Hash the response into the connection's preauth hash (3.1.1 NEGOTIATE).
    pub preauth_connection: bool,
    /// The file id a CREATE produced, for related requests that follow.
    pub created: Option<FileId>,
    /// Whether this is a related operation of a compound chain (not its first).
    related: bool,
    /// The file id a related operation inherits from the previous one.
    chain_file: Option<FileId>,
    /// The request is a frame of its own, not part of a compound chain.
    pub alone: bool,
    /// The response ends with this range of a file, sent from the file (READ, plain replies).
    pub file_tail: Option<FileTail>,
    /// Bytes of the reply frame this message's response may take, header included: what is
    /// left of [`FRAME_MAX`] once the responses before it and an error response for each
    /// message after it are counted.
    frame_room: usize,
    /// The file id this operation resolved (`open`), for the related operation after it.
    used_file: std::sync::Mutex<Option<FileId>>,
    /// Set when the rest of a related chain must fail with this status.
    breaks_chain: std::sync::Mutex<Option<NtStatus>>,
}

impl Ctx<'_> {
    /// The keys the response is signed with, if it is signed.
    fn reply_signer(&self) -> Option<Arc<SessionSecurity>> {
        self.sign_with.clone().or_else(|| {
            let sec = self.security.as_ref()?;
            (!self.encrypted && !sec.is_null && (self.hdr.is_signed() || sec.signing_required))
                .then(|| sec.clone())
        })
    }

    /// Whether the response goes out as it is built: alone in its frame, neither signed nor
    /// encrypted, so its tail may come straight from a file.
    pub(crate) fn plain_reply(&self) -> bool {
        self.alone && !self.encrypted && self.reply_signer().is_none()
    }

    /// The status for a session or tree that cannot be found: `plain` for an operation of
    /// its own; for a related one, whose ids came from the previous operation,
    /// STATUS_INVALID_PARAMETER for it and every later related operation (3.3.5.2.7.2).
    fn inherit_failed(&self, plain: NtStatus) -> NtStatus {
        if self.related {
            *self.breaks_chain.lock().unwrap() = Some(NtStatus::INVALID_PARAMETER);
            NtStatus::INVALID_PARAMETER
        } else {
            plain
        }
    }

    /// The server.
    pub(crate) fn server(&self) -> &crate::state::ServerContext {
        &self.conn.server
    }

    /// The session (present for every command past SESSION_SETUP).
    pub(crate) fn session(&self) -> Result<&Arc<Session>, NtStatus> {
        self.session.as_ref().ok_or(NtStatus::USER_SESSION_DELETED)
    }

    /// The tree (present for every command that needs one).
    pub(crate) fn tree(&self) -> Result<&Arc<Tree>, NtStatus> {
        self.tree.as_ref().ok_or(NtStatus::NETWORK_NAME_DELETED)
    }

    /// Bytes of response payload the message's CreditCharge pays for (MS-SMB2 3.1.5.2): 64 KiB
    /// per credit on a connection with multi-credit support (a charge of 0 counts as 1), and
    /// 64 KiB on one without (2.0.2), whatever the header says.
    pub(crate) fn paid_bytes(&self) -> usize {
        let neg = self.conn.negotiated();
        if neg.server_caps & crate::proto::negotiate::caps::LARGE_MTU == 0 {
            return CREDIT_BYTES;
        }
        usize::from(self.hdr.credit_charge.max(1)) * CREDIT_BYTES
    }

    /// The one size check of every command whose request or response carries a variable
    /// payload (READ, WRITE, QUERY_DIRECTORY, QUERY_INFO, IOCTL, CHANGE_NOTIFY), before it does
    /// any work: `send` is the request's payload, `expect` the most response payload it asks
    /// for (MS-SMB2 3.3.5.2.5). Either larger than the charge pays for is INVALID_PARAMETER;
    /// a response the reply frame has no room left for (a long compound, or a size near the
    /// 24-bit Direct TCP limit) is INSUFFICIENT_RESOURCES, as the request itself was valid.
    pub(crate) fn check_charge(&self, send: usize, expect: usize) -> Result<(), NtStatus> {
        if send.max(expect) > self.paid_bytes() {
            return Err(NtStatus::INVALID_PARAMETER);
        }
        if expect > self.frame_room.saturating_sub(MESSAGE_OVERHEAD) {
            return Err(NtStatus::INSUFFICIENT_RESOURCES);
        }
        Ok(())
    }

    /// Adds a new open to the session within its caps (see [`Session::insert_open`]); an open
    /// over a cap is ended in the background (as `close_all` ends opens: its share-mode claim
    /// given back) and the create fails with INSUFFICIENT_RESOURCES.
    pub(crate) fn insert_open(&self, open: Arc<Open>) -> Result<(), NtStatus> {
        let limits = &self.server().settings.limits;
        if let Err(status) = self.session()?.insert_open(open.clone(), limits) {
            tracing::debug!(peer = %self.conn.peer, session = self.hdr.session_id, "open refused: session at its cap");
            let conn = self.conn.clone();
            tokio::spawn(async move { close::finish(&conn, &open).await });
            return Err(status);
        }
        Ok(())
    }

    /// `part` of the request message (a slice of `msg`) as a shared buffer, without a copy.
    pub(crate) fn shared(&self, part: &[u8]) -> Option<Bytes> {
        let off = (part.as_ptr() as usize).checked_sub(self.msg.as_ptr() as usize)?;
        let end = off.checked_add(part.len())?;
        (end <= self.msg_bytes.len()).then(|| self.msg_bytes.slice(off..end))
    }

    /// Resolves a request's file id to an open of this session and tree. In a related
    /// operation the all-ones id means the file of the previous operation (MS-SMB2
    /// 3.3.5.2.7.2): STATUS_INVALID_HANDLE, for this and every later related operation, when
    /// that one had no file. Elsewhere the all-ones id is an id like any other (FILE_CLOSED).
    pub(crate) fn open(&self, id: FileId) -> Result<Arc<Open>, NtStatus> {
        let id = if id == FileId::RELATED && self.related {
            match self.chain_file {
                Some(f) => f,
                None => {
                    *self.breaks_chain.lock().unwrap() = Some(NtStatus::INVALID_HANDLE);
                    return Err(NtStatus::INVALID_HANDLE);
                }
            }
        } else {
            id
        };
        *self.used_file.lock().unwrap() = Some(id);
        let open = self.session()?.open(id).ok_or(NtStatus::FILE_CLOSED)?;
        if open.tree_id != self.hdr.tree_id {
            return Err(NtStatus::FILE_CLOSED);
        }
        Ok(open)
    }
}

/// Bytes a reply buffer keeps free before the message: a transform header and the 4-byte
/// transport length, so an encrypted reply is sealed in place and the writer can put the
/// length in front without copying.
pub(crate) const REPLY_HEADROOM: usize = 4 + crypto::TRANSFORM_HEADER_LEN;

/// Bytes of payload one credit pays for (MS-SMB2 3.1.5.2).
const CREDIT_BYTES: usize = 65536;

/// The largest reply chain a frame carries: Direct TCP gives a frame 24 bits of length
/// (MS-SMB2 2.1), and an encrypted chain also carries a transform header.
pub(crate) const FRAME_MAX: usize = 0xFF_FFFF - crypto::TRANSFORM_HEADER_LEN;

/// What a response may take beyond the payload its charge pays for: the header, the fixed
/// part of the body (CREATE with its contexts is the largest) and the padding to the next
/// message.
const MESSAGE_OVERHEAD: usize = 1024;

/// The room an error response takes in a chain: header, ERROR body, padding.
const ERROR_REPLY: usize = (HEADER_LEN + 9).next_multiple_of(8);

/// Frames at least this large are sealed, opened, signed and verified off the async
/// worker's core (`block_in_place`), so the connection's other tasks keep running.
const HEAVY_CRYPTO_FROM: usize = 256 * 1024;

/// Runs `f`, a cryptographic operation over `len` bytes, in a way that does not stall the
/// runtime's other tasks when it is long.
fn heavy<R>(len: usize, f: impl FnOnce() -> R) -> R {
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

/// One built response message and how to protect it: the message is `buf[start..]`.
struct Built {
    buf: Vec<u8>,
    start: usize,
    sign_with: Option<Arc<SessionSecurity>>,
    /// The file range the message ends with (a plain READ response).
    tail: Option<FileTail>,
}

/// Handles one frame from the transport; replies are sent on the connection's channel.
pub async fn handle_frame(conn: &Arc<Connection>, mut frame: Vec<u8>) -> Result<(), Disconnect> {
    if frame.len() < 4 {
        return Err(Disconnect("frame shorter than a protocol id"));
    }
    let id: [u8; 4] = frame[..4].try_into().unwrap_or_default();
    match id {
        header::PROTOCOL_ID => {
            let signatures = take_signatures(&mut frame);
            process_chain(conn, Bytes::from(frame), &signatures, None).await
        }
        header::TRANSFORM_ID => {
            let session_id = decrypt(conn, &mut frame)?;
            let plain = Bytes::from(frame).slice(crypto::TRANSFORM_HEADER_LEN..);
            process_chain(conn, plain, &[], Some(session_id)).await
        }
        header::SMB1_ID => negotiate::smb1(conn, &frame).await,
        _ => Err(Disconnect("unknown protocol id")),
    }
}

/// Takes the signature out of each signed message of a plain chain (zeroing the field), so
/// it can be verified in place as one piece. NEGOTIATE and SESSION_SETUP keep theirs: their
/// bytes feed the preauth integrity hash as received. Walks NextCommand as far as it is
/// sane; `process_chain` rejects a bad chain afterwards.
fn take_signatures(frame: &mut [u8]) -> Vec<Option<[u8; 16]>> {
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
/// `frame[52..]`. Returns the session id.
fn decrypt(conn: &Connection, frame: &mut [u8]) -> Result<u64, Disconnect> {
    let th =
        crypto::TransformHeader::parse(frame).map_err(|_| Disconnect("bad transform header"))?;
    let session = conn
        .session(th.session_id)
        .ok_or(Disconnect("transform for unknown session"))?;
    let sec = session
        .security()
        .ok_or(Disconnect("transform before session is valid"))?;
    let cipher = sec.cipher.ok_or(Disconnect("transform without a cipher"))?;
    let len = frame.len();
    heavy(len, || match &sec.open {
        Some(aead) => crypto::decrypt_in_place_prepared(aead.as_ref(), frame).map(|_| ()),
        None => crypto::decrypt_in_place(conn.server.crypto, cipher, &sec.decryption_key, frame)
            .map(|_| ()),
    })
    .map_err(|_| Disconnect("decryption failed"))?;
    Ok(th.session_id)
}

async fn process_chain(
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
        if let Some(sid) = encrypted
            && hdr.session_id != sid
            && !(hdr.is_related() && hdr.session_id == u64::MAX)
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
    let Some(frame) = assemble(conn, built, encrypted) else {
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
fn check_chain_layout(buf: &[u8]) -> Result<usize, &'static str> {
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

/// Chains the responses (8-byte aligned, NextCommand set), signs each and encrypts the whole
/// when the request was encrypted. A single response is sent from the buffer it was built
/// in, sealed in place when it has the headroom.
fn assemble(conn: &Connection, built: Vec<Built>, encrypted: Option<u64>) -> Option<Frame> {
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
            if i + 1 < n {
                let len = (msg.len() - start).next_multiple_of(8);
                msg.resize(start + len, 0);
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
        Some(session_id) => seal(conn, session_id, buf, start),
        None => Some(Frame::with_headroom(buf, start)),
    }
}

fn sign(conn: &Connection, sec: &SessionSecurity, msg: &mut [u8]) {
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
    let Some(sec) = conn.session(session_id).and_then(|s| s.security()) else {
        return Some(Frame::with_headroom(buf, start));
    };
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
    mut hdr: Header,
    status: NtStatus,
    body: &[u8],
    encrypted: bool,
) {
    hdr.status = status.0;
    hdr.credits = 0;
    hdr.next_command = 0;
    let mut msg = Vec::with_capacity(HEADER_LEN + body.len());
    hdr.encode(&mut msg);
    msg.extend_from_slice(body);
    let sec = conn.session(hdr.session_id).and_then(|s| s.security());
    if let Some(frame) = protect_out_of_band(conn, &hdr, sec.as_deref(), encrypted, msg) {
        let _ = conn.out.send(frame).await;
    }
}

/// Protects a response sent outside its request's chain (interim and late async replies):
/// encrypted when the request was, else signed when the session signs or the request was
/// signed.
fn protect_out_of_band(
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

async fn process_message(
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
        if hdr.session_id == u64::MAX {
            hdr.session_id = chain.session_id;
        }
        if hdr.tree_id == u32::MAX {
            hdr.tree_id = chain.tree_id;
        }
    }
    if hdr.command == Command::Cancel {
        misc::cancel(conn, &hdr);
        return Ok(None);
    }
    conn.credits
        .lock()
        .unwrap()
        .consume(hdr.message_id, hdr.credit_charge)
        .map_err(|_| Disconnect("message id outside the credit window"))?;

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
    };
    if !hdr.is_related() {
        // An unrelated operation stands on its own: nothing earlier fails it.
        chain.error = None;
    }
    let result = if hdr.is_related() && first {
        // A first operation marked related has nothing to inherit (3.3.5.2.7.2).
        *ctx.breaks_chain.lock().unwrap() = Some(NtStatus::INVALID_PARAMETER);
        Err(NtStatus::INVALID_PARAMETER)
    } else if let Some(e) = chain.error.filter(|_| related) {
        Err(e)
    } else {
        match check(&mut ctx, signature) {
            Ok(()) if ctx.alone && may_go_async(hdr.command) => {
                let interim_sec = ctx.security.clone();
                let fut = dispatch(&mut ctx, &mut out);
                tokio::pin!(fut);
                tokio::select! {
                    r = &mut fut => r?,
                    _ = tokio::time::sleep(ASYNC_AFTER) => {
                        // At the connection's cap of async operations the request completes
                        // synchronously, without an interim response.
                        match conn.begin_async(&conn.server.settings.limits) {
                            Some(_slot) => {
                                let id = conn.server.next_id();
                                async_id = Some(id);
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

    let mut rh = hdr.response(NtStatus::SUCCESS);
    if related {
        rh.flags |= flags::RELATED_OPERATIONS;
    }
    let start = ctx.reply_start.min(out.len());
    let mut tail = ctx.file_tail.take();
    let status = match result {
        Ok(Reply::Done(s)) => s,
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
    if let Some(s) = &ctx.preauth_session {
        session_setup::preauth_response(conn, s, &out[start..]);
    }
    let sign_with = ctx.reply_signer();
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
fn bound_reply(
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

/// How long a request may run before it gets an interim STATUS_PENDING response.
const ASYNC_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

/// Commands that can take long enough to be answered asynchronously.
fn may_go_async(cmd: Command) -> bool {
    matches!(
        cmd,
        Command::Create
            | Command::Read
            | Command::Write
            | Command::Flush
            | Command::QueryDirectory
            | Command::Ioctl
            | Command::SetInfo
            | Command::QueryInfo
            | Command::Close
    )
}

/// Sends the interim STATUS_PENDING response of a request that goes async (MS-SMB2 3.3.4.2):
/// it carries the async id and the credits; the final response follows with the same id.
async fn send_interim(
    conn: &Connection,
    hdr: &Header,
    async_id: u64,
    sec: Option<&SessionSecurity>,
    encrypted: bool,
) {
    let mut h = hdr.response(NtStatus::PENDING);
    h.flags |= flags::ASYNC_COMMAND;
    h.async_id = async_id;
    let request = hdr.credits.max(hdr.credit_charge.max(1));
    h.credits = conn.credits.lock().unwrap().grant(request);
    let mut msg = Vec::with_capacity(HEADER_LEN + 9);
    h.encode(&mut msg);
    encode_error(&mut msg);
    tracing::debug!(peer = %conn.peer, command = ?hdr.command, async_id, "answered STATUS_PENDING");
    if let Some(frame) = protect_out_of_band(conn, hdr, sec, encrypted, msg) {
        let _ = conn.out.send(frame).await;
    }
}

/// The checks of MS-SMB2 3.3.5.2.4 - 3.3.5.2.11 before a handler runs.
/// `signature` is the request's signature when it was taken out of the message (its field
/// is then zero).
fn check(ctx: &mut Ctx<'_>, signature: Option<[u8; 16]>) -> Result<(), NtStatus> {
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
        ctx.security = ctx.session.as_ref().and_then(|s| s.security());
    }
    if needs_session && ctx.security.is_none() {
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
        if sec
            .auth
            .expires_at
            .is_some_and(|end| ctx.conn.server.clock.now() >= end)
            && !matches!(
                cmd,
                Command::SessionSetup | Command::Logoff | Command::Close | Command::Lock
            )
        {
            // The Kerberos ticket ended: only reauthentication, LOGOFF, CLOSE and LOCK go on
            // (MS-SMB2 3.3.5.2.9).
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

async fn dispatch(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> Result<HResult, Disconnect> {
    Ok(match ctx.hdr.command {
        Command::Negotiate => return negotiate::negotiate(ctx, out),
        Command::SessionSetup => session_setup::session_setup(ctx, out),
        Command::Logoff => session_setup::logoff(ctx, out),
        Command::TreeConnect => tree_connect::tree_connect(ctx, out),
        Command::TreeDisconnect => tree_connect::tree_disconnect(ctx, out).await,
        Command::Create => create::create(ctx, out).await,
        Command::Close => close::close(ctx, out).await,
        Command::Flush => misc::flush(ctx, out).await,
        Command::Read => read::read(ctx, out).await,
        Command::Write => write::write(ctx, out).await,
        Command::Lock => lock::lock(ctx, out),
        Command::Ioctl => ioctl::ioctl(ctx, out).await,
        Command::Echo => misc::echo(ctx, out),
        Command::QueryDirectory => query_dir::query_directory(ctx, out).await,
        Command::ChangeNotify => notify::change_notify(ctx),
        Command::QueryInfo => query_info::query_info(ctx, out).await,
        Command::SetInfo => set_info::set_info(ctx, out).await,
        Command::OplockBreak => Err(NtStatus::INVALID_OPLOCK_PROTOCOL),
        // CANCEL never reaches here; unknown commands are invalid.
        _ => Err(NtStatus::INVALID_PARAMETER),
    })
}

/// Maps a decode error of a request body to the status the client gets.
pub(crate) fn bad_request(_e: crate::proto::DecodeError) -> NtStatus {
    NtStatus::INVALID_PARAMETER
}

/// Cleans up after a connection ends: pending operations are dropped and every open of every
/// session is closed.
pub fn connection_closed(conn: &Arc<Connection>) {
    notify::drop_all(conn);
    let sessions: Vec<Arc<Session>> = conn
        .sessions
        .lock()
        .unwrap()
        .drain()
        .map(|(_, s)| s)
        .collect();
    for s in sessions {
        close::close_all(conn, &s, None);
    }
}

#[cfg(test)]
mod data_path_tests {
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
