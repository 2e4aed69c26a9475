//! From a received frame to the frames sent back: transform decryption, compound chains,
//! the per-message checks of MS-SMB2 3.3.5.2 (credits, session, signature, encryption, tree),
//! one handler per command, and response signing and encryption.
//!
//! Every check happens here, before a handler runs; handlers see typed requests. By job:
//! `protect` (signatures, decryption, signing and sealing), `chain` (compound chains and the
//! bounds of their responses), `check` (the per-message checks), `interim` (STATUS_PENDING for
//! requests that run long); this file holds the request context, the entry point and the
//! command table.

#[cfg(test)]
mod async_tests;
mod binding;
#[cfg(test)]
mod binding_tests;
mod breaks;
mod caching;
#[cfg(test)]
mod caching_tests;
mod chain;
mod check;
mod close;
#[cfg(test)]
mod compound_tests;
mod create;
mod durable;
mod ea;
#[cfg(test)]
mod ea_tests;
#[cfg(test)]
mod fidelity_tests;
#[cfg(test)]
mod file_tests;
mod interim;
mod ioctl;
#[cfg(test)]
mod ioctl_tests;
#[cfg(test)]
mod limit_tests;
mod lock;
#[cfg(test)]
mod lock_tests;
mod lock_wait;
mod misc;
#[cfg(test)]
mod names_tests;
mod negotiate;
mod notify;
#[cfg(test)]
mod notify_tests;
mod oplock_break;
mod path;
pub mod persistent;
mod protect;
mod query_dir;
mod query_info;
mod quota;
#[cfg(test)]
mod quota_tests;
mod read;
mod rename;
mod rename_stream;
mod security;
mod session_setup;
#[cfg(test)]
mod session_tests;
mod set_info;
#[cfg(test)]
mod streams_tests;
#[cfg(test)]
use crate::harness::{client as test_client, server as test_server};
mod tree_connect;
mod write;
mod write_time;

use std::sync::Arc;

use bytes::Bytes;

use crate::conn::outbox::FileTail;
use crate::conn::{Connection, Frame};
use crate::crypto;
use crate::proto::NtStatus;
use crate::proto::create::FileId;
use crate::proto::header::{self, Command, HEADER_LEN, Header, flags};
use crate::proto::session::encode_error;
use crate::state::opens::Open;
use crate::state::session::{Session, SessionSecurity, Tree};

use chain::process_chain;
use check::check;
use interim::{ASYNC_AFTER, may_go_async, send_interim};
use protect::{Decrypted, decrypt, heavy, protect_out_of_band, seal_with, sign, take_signatures};
pub(crate) use protect::{off_worker_if, seal, send_async_final, send_async_final_as};
pub use tree_connect::end_trees_of_unserved_shares;

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
    /// The handler already sent the interim STATUS_PENDING of this request, alone in its frame
    /// (a blocking LOCK, whose wait may end at once and must not answer before the interim):
    /// nothing more goes out now; the final response is sent by whoever completes it.
    InterimSent,
}

/// A handler's result: a reply, or an error status answered with an ERROR body.
pub(crate) type HResult = Result<Reply, NtStatus>;

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
    /// left of [`chain::FRAME_MAX`] once the responses before it and an error response for each
    /// message after it are counted.
    frame_room: usize,
    /// The file id this operation resolved (`open`), for the related operation after it.
    used_file: std::sync::Mutex<Option<FileId>>,
    /// Set when the rest of a related chain must fail with this status.
    breaks_chain: std::sync::Mutex<Option<NtStatus>>,
    /// Notified when a CANCEL names this request (CREATEs alone in their frame, which may
    /// wait for a break, and CHANGE_NOTIFYs while they start their watch).
    pub cancel: Option<Arc<tokio::sync::Notify>>,
}

impl Ctx<'_> {
    /// Records an audit event of this request's session (or of no one yet) and client.
    pub(crate) fn audit(
        &self,
        event: crate::audit::Event,
        status: NtStatus,
        details: Vec<(&'static str, String)>,
    ) {
        let who = self
            .security
            .as_ref()
            .map(|s| crate::audit::Who::of(&s.auth))
            .unwrap_or_default();
        self.server().audit(&crate::audit::Record {
            event,
            success: !status.is_error(),
            who,
            client: self.conn.peer.clone(),
            status,
            details,
        });
    }

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

    /// Adds a new open to the session and the server's open table within the session's caps
    /// (see [`crate::state::opens::OpenTable::insert`]); an open over a cap is dropped (its
    /// share-mode claim given back) and the create fails with INSUFFICIENT_RESOURCES.
    pub(crate) fn insert_open(&self, open: Arc<Open>) -> Result<(), NtStatus> {
        let server = self.server();
        let session = self.session()?;
        if let Err(status) = server
            .opens
            .insert(session, open, &server.settings().limits)
        {
            tracing::debug!(peer = %self.conn.peer, session = self.hdr.session_id, "open refused: session at its cap");
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

    /// Resolves a request's file id to an open of this session and tree. A related operation
    /// takes the file of the previous operation whatever id it carries (MS-SMB2 3.3.5.2.7.2,
    /// as Samba does); when that one had no file, the all-ones id is STATUS_INVALID_HANDLE for
    /// this and every later related operation, and another id is taken as it is. Elsewhere the
    /// all-ones id is an id like any other (FILE_CLOSED).
    pub(crate) fn open(&self, id: FileId) -> Result<Arc<Open>, NtStatus> {
        let id = match self.chain_file {
            Some(f) if self.related => f,
            None if self.related && id == FileId::RELATED => {
                *self.breaks_chain.lock().unwrap() = Some(NtStatus::INVALID_HANDLE);
                return Err(NtStatus::INVALID_HANDLE);
            }
            _ => id,
        };
        *self.used_file.lock().unwrap() = Some(id);
        let open = self.session()?.open(id).ok_or(NtStatus::FILE_CLOSED)?;
        if open.tree_id != self.hdr.tree_id {
            return Err(NtStatus::FILE_CLOSED);
        }
        if self.conn.negotiated().is_smb3() {
            // 3.x requests carry the ChannelSequence in the low half of the Status field. Every
            // request on an open moves it forward; only changes are refused when it is stale.
            let changes = matches!(
                self.hdr.command,
                Command::Write | Command::SetInfo | Command::Ioctl
            );
            open.check_channel_sequence(self.hdr.status as u16, changes)?;
        }
        open.used();
        Ok(open)
    }
}

/// Most chunks a copychunk request may hold (for the fuzz targets' decoding).
pub const COPYCHUNK_MAX_CHUNKS: u32 = ioctl::COPYCHUNK_MAX_CHUNKS;

/// Bytes a reply buffer keeps free before the message: a transform header and the 4-byte
/// transport length, so an encrypted reply is sealed in place and the writer can put the
/// length in front without copying.
pub(crate) const REPLY_HEADROOM: usize = 4 + crypto::TRANSFORM_HEADER_LEN;

/// Bytes of payload one credit pays for (MS-SMB2 3.1.5.2).
const CREDIT_BYTES: usize = 65536;

/// What a response may take beyond the payload its charge pays for: the header, the fixed
/// part of the body (CREATE with its contexts is the largest) and the padding to the next
/// message.
const MESSAGE_OVERHEAD: usize = 1024;

/// Size of a request with a four-byte body (CANCEL, ECHO, LOGOFF): header and StructureSize.
const TINY_REQUEST: usize = HEADER_LEN + 4;

/// Whether the transport should handle `frame` before it reads the next one instead of beside
/// it: a CANCEL (or, sealed, any request no larger than one: ECHO or LOGOFF too, whose
/// handling waits on nothing the client sends). A cancelled request's final response must go
/// out before the answers to what the client sent after the CANCEL (smbtorture
/// smb2.session.expire2s: a pending CHANGE_NOTIFY cancelled, then another refused).
pub fn handle_in_order(frame: &[u8]) -> bool {
    let id: [u8; 4] = frame
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .unwrap_or_default();
    match id {
        header::PROTOCOL_ID => {
            frame.len() == TINY_REQUEST && frame[12..14] == Command::Cancel.0.to_le_bytes()
        }
        header::TRANSFORM_ID => {
            frame.len() == crypto::TRANSFORM_HEADER_LEN + TINY_REQUEST
                && frame[36..40] == (TINY_REQUEST as u32).to_le_bytes()
        }
        _ => false,
    }
}

#[cfg(test)]
#[test]
fn only_a_cancel_or_a_sealed_tiny_request_is_handled_in_order() {
    use crate::fuzzing::seeds;
    let cancel = seeds::message(Command::Cancel, 5, 1, 1, &[4, 0, 0, 0]);
    assert!(handle_in_order(&cancel));
    let echo = seeds::message(Command::Echo, 5, 1, 1, &[4, 0, 0, 0]);
    assert!(
        !handle_in_order(&echo),
        "a plain ECHO runs beside the others"
    );
    assert!(!handle_in_order(&seeds::create(5, 1, "a")));
    let mut sealed = vec![0u8; crypto::TRANSFORM_HEADER_LEN];
    sealed[..4].copy_from_slice(&header::TRANSFORM_ID);
    sealed[36..40].copy_from_slice(&(TINY_REQUEST as u32).to_le_bytes());
    sealed.extend_from_slice(&[0; TINY_REQUEST]);
    assert!(handle_in_order(&sealed));
    sealed.extend_from_slice(&[0; 8]);
    assert!(
        !handle_in_order(&sealed),
        "a larger sealed request runs beside the others"
    );
    assert!(!handle_in_order(&[0xFE, b'S']));
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
        header::TRANSFORM_ID => match decrypt(conn, &mut frame)? {
            Decrypted::Bound(session_id) => {
                let plain = Bytes::from(frame).slice(crypto::TRANSFORM_HEADER_LEN..);
                process_chain(conn, plain, &[], Some(session_id)).await
            }
            Decrypted::Unbound => {
                frame.drain(..crypto::TRANSFORM_HEADER_LEN);
                let signatures = take_signatures(&mut frame);
                process_chain(conn, Bytes::from(frame), &signatures, None).await
            }
        },
        header::SMB1_ID => negotiate::smb1(conn, &frame).await,
        _ => Err(Disconnect("unknown protocol id")),
    }
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
        Command::Lock => lock::lock(ctx, out).await,
        Command::Ioctl => ioctl::ioctl(ctx, out).await,
        Command::Echo => misc::echo(ctx, out),
        Command::QueryDirectory => query_dir::query_directory(ctx, out).await,
        Command::ChangeNotify => notify::change_notify(ctx, out).await,
        Command::QueryInfo => query_info::query_info(ctx, out).await,
        Command::SetInfo => set_info::set_info(ctx, out).await,
        Command::OplockBreak => oplock_break::oplock_break(ctx, out),
        // CANCEL never reaches here; unknown commands are invalid.
        _ => Err(NtStatus::INVALID_PARAMETER),
    })
}

/// Maps a decode error of a request body to the status the client gets.
pub(crate) fn bad_request(_e: crate::proto::DecodeError) -> NtStatus {
    NtStatus::INVALID_PARAMETER
}

/// Cleans up after a connection ends: pending operations are dropped; the sessions left with
/// no channel end, their durable opens preserved for a reconnect and the others closed.
pub fn connection_closed(conn: &Arc<Connection>) {
    misc::drop_all(conn);
    for s in conn.remove_all_sessions() {
        if let Some(sec) = s.security() {
            // The session's last channel is gone: it ends (event 4634, as for a LOGOFF).
            conn.server.audit(&crate::audit::Record {
                event: crate::audit::Event::Logoff,
                success: true,
                who: crate::audit::Who::of(&sec.auth),
                client: conn.peer.clone(),
                status: NtStatus::SUCCESS,
                details: vec![
                    ("session", format!("{:#x}", s.id)),
                    ("reason", "disconnected".into()),
                ],
            });
        }
        durable::preserve_or_close(conn, &s);
    }
}
