//! One open instance of a named pipe: buffers what the client writes into whole PDUs, runs
//! the DCE/RPC association (bind, alter_context, request reassembly) and queues response
//! PDUs, each one pipe message, for the client to read.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use super::pdu::{
    self, BIND_TIME_FEATURE_PREFIX, Bind, BindAck, ContextElem, ContextResult,
    FEATURE_KEEP_CONNECTION_ON_ORPHAN, HEADER_LEN, Header, NCA_S_CONTEXT_MISMATCH,
    NCA_S_PROTO_ERROR, NDR20, PFC_FIRST_FRAG, PFC_LAST_FRAG, Request, SyntaxId,
};
use super::{PipeKind, RpcError, ServerIdentity, srvsvc, wkssvc};

/// Largest fragment we send or accept (what Windows uses).
pub(super) const MAX_FRAG: u16 = 4280;
/// Smallest transmit fragment we honour: a response header plus 8 stub bytes.
pub(super) const MIN_XMIT_FRAG: u16 = (pdu::RESPONSE_HEADER_LEN + 8) as u16;
/// Cap on a reassembled multi-fragment request stub.
pub(super) const MAX_REQUEST_STUB: usize = 4 * 1024 * 1024;
/// Cap on responses queued but not yet read.
pub(super) const MAX_OUTPUT_BACKLOG: usize = 8 * 1024 * 1024;

static NEXT_ASSOC_GROUP: AtomicU32 = AtomicU32::new(0x0000_5300);

/// A request being reassembled from fragments.
#[derive(Debug)]
struct PendingCall {
    call_id: u32,
    cont_id: u16,
    opnum: u16,
    authenticated: bool,
    stub: Vec<u8>,
}

/// One open instance of a pipe (one per CREATE on IPC$).
#[derive(Debug)]
pub struct Pipe {
    kind: PipeKind,
    server: Arc<ServerIdentity>,
    inbuf: Vec<u8>,
    out: VecDeque<Vec<u8>>,
    out_offset: usize,
    out_bytes: usize,
    bound: bool,
    contexts: Vec<u16>,
    max_xmit_frag: u16,
    max_recv_frag: u16,
    assoc_group_id: u32,
    pending: Option<PendingCall>,
    broken: bool,
    /// rpc_vers_minor of the PDU being answered, echoed in replies.
    reply_minor: u8,
}

impl Pipe {
    /// Opens `name` (see [`super::is_known_pipe`]); `None` if we do not serve that pipe.
    pub fn open(name: &str, server: Arc<ServerIdentity>) -> Option<Self> {
        let kind = PipeKind::from_name(name)?;
        Some(Self {
            kind,
            server,
            inbuf: Vec::new(),
            out: VecDeque::new(),
            out_offset: 0,
            out_bytes: 0,
            bound: false,
            contexts: Vec::new(),
            max_xmit_frag: MAX_FRAG,
            max_recv_frag: MAX_FRAG,
            assoc_group_id: 0,
            pending: None,
            broken: false,
            reply_minor: 0,
        })
    }

    /// Which pipe this is.
    pub fn kind(&self) -> PipeKind {
        self.kind
    }

    /// SMB2 WRITE to the pipe: one or more (possibly fragmented, possibly split across
    /// writes) PDUs. Returns the bytes consumed (all of `data`). A framing violation breaks
    /// the pipe: this and every later call fail.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, RpcError> {
        if self.broken {
            return Err(RpcError::Disconnected);
        }
        match self.consume(data) {
            Ok(()) => Ok(data.len()),
            Err(e) => {
                self.broken = true;
                self.inbuf = Vec::new();
                self.pending = None;
                Err(e)
            }
        }
    }

    /// SMB2 READ from the pipe: up to `max` bytes of the oldest unread response PDU (each
    /// PDU is one pipe message). `Ok(None)` when nothing is pending; `Ok(Some((bytes, more)))`
    /// with `more` = true when bytes of this message remain (STATUS_BUFFER_OVERFLOW).
    pub fn read(&mut self, max: usize) -> Result<Option<(Vec<u8>, bool)>, RpcError> {
        if self.broken {
            return Err(RpcError::Disconnected);
        }
        let Some(front) = self.out.front() else {
            return Ok(None);
        };
        let rest = front.get(self.out_offset..).unwrap_or(&[]);
        let n = rest.len().min(max);
        let bytes = rest[..n].to_vec();
        self.out_offset += n;
        self.out_bytes = self.out_bytes.saturating_sub(n);
        let more = self.out_offset < front.len();
        if !more {
            self.out.pop_front();
            self.out_offset = 0;
        }
        Ok(Some((bytes, more)))
    }

    /// FSCTL_PIPE_TRANSCEIVE: write then read in one go. Fails with [`RpcError::PipeBusy`]
    /// if an earlier response is still unread. When the write produced no response (a
    /// middle request fragment) the result is empty.
    pub fn transceive(&mut self, data: &[u8], max_out: usize) -> Result<(Vec<u8>, bool), RpcError> {
        if self.broken {
            return Err(RpcError::Disconnected);
        }
        if !self.out.is_empty() {
            return Err(RpcError::PipeBusy);
        }
        self.write(data)?;
        Ok(self.read(max_out)?.unwrap_or_default())
    }

    /// True if response bytes are waiting to be read.
    pub fn has_output(&self) -> bool {
        !self.out.is_empty()
    }

    fn consume(&mut self, data: &[u8]) -> Result<(), RpcError> {
        self.inbuf.extend_from_slice(data);
        let mut start = 0;
        let result = loop {
            let rest = &self.inbuf[start..];
            if rest.len() < HEADER_LEN {
                break Ok(());
            }
            let hdr = match Header::parse(rest) {
                Ok(h) => h,
                Err(e) => break Err(e),
            };
            let len = usize::from(hdr.frag_length);
            if rest.len() < len {
                break Ok(());
            }
            let pdu = rest[..len].to_vec();
            start += len;
            if let Err(e) = self.handle(&hdr, &pdu) {
                break Err(e);
            }
        };
        self.inbuf.drain(..start);
        result
    }

    fn push_out(&mut self, mut pdu: Vec<u8>) -> Result<(), RpcError> {
        if let Some(minor) = pdu.get_mut(1) {
            *minor = self.reply_minor;
        }
        self.out_bytes += pdu.len();
        if self.out_bytes > MAX_OUTPUT_BACKLOG {
            return Err(RpcError::OutputBacklog {
                limit: MAX_OUTPUT_BACKLOG,
            });
        }
        self.out.push_back(pdu);
        Ok(())
    }

    fn handle(&mut self, hdr: &Header, pdu: &[u8]) -> Result<(), RpcError> {
        let body = hdr.body(pdu);
        self.reply_minor = hdr.minor;
        match hdr.ptype {
            pdu::PTYPE_BIND => {
                let reply = self.bind(hdr, body, false)?;
                self.push_out(reply)
            }
            pdu::PTYPE_ALTER_CONTEXT => {
                let reply = self.bind(hdr, body, true)?;
                self.push_out(reply)
            }
            pdu::PTYPE_REQUEST => self.request(hdr, body),
            pdu::PTYPE_CO_CANCEL | pdu::PTYPE_ORPHANED => {
                if self
                    .pending
                    .as_ref()
                    .is_some_and(|p| p.call_id == hdr.call_id)
                {
                    self.pending = None;
                }
                Ok(())
            }
            // No authentication is negotiated, so an auth3 carries nothing for us.
            pdu::PTYPE_AUTH3 => Ok(()),
            ptype => Err(RpcError::UnexpectedPduType { ptype }),
        }
    }

    fn interface(&self) -> SyntaxId {
        match self.kind {
            PipeKind::Srvsvc => srvsvc::SRVSVC,
            PipeKind::Wkssvc => wkssvc::WKSSVC,
        }
    }

    fn context_result(&mut self, ctx: &ContextElem) -> ContextResult {
        let reject = |reason| ContextResult {
            result: pdu::RESULT_PROVIDER_REJECTION,
            reason,
            transfer_syntax: SyntaxId::NULL,
        };
        // MS-RPCE 3.3.1.5.3: one transfer syntax 6cb71c2c-9812-4540-<bitmask> v1.0.
        let feature_syntax = match ctx.transfer_syntaxes.as_slice() {
            [ts] if ts.uuid[..8] == BIND_TIME_FEATURE_PREFIX => Some(ts),
            _ => None,
        };
        if let Some(ts) = feature_syntax {
            let offered = u16::from_le_bytes([ts.uuid[8], ts.uuid[9]]);
            return ContextResult {
                result: pdu::RESULT_NEGOTIATE_ACK,
                reason: offered & FEATURE_KEEP_CONNECTION_ON_ORPHAN,
                transfer_syntax: SyntaxId::NULL,
            };
        }
        let iface = self.interface();
        if ctx.abstract_syntax.uuid != iface.uuid || ctx.abstract_syntax.major != iface.major {
            return reject(pdu::REASON_ABSTRACT_SYNTAX_NOT_SUPPORTED);
        }
        if !ctx.transfer_syntaxes.contains(&NDR20) {
            return reject(pdu::REASON_TRANSFER_SYNTAXES_NOT_SUPPORTED);
        }
        if !self.contexts.contains(&ctx.cont_id) {
            self.contexts.push(ctx.cont_id);
        }
        ContextResult {
            result: pdu::RESULT_ACCEPTANCE,
            reason: 0,
            transfer_syntax: NDR20,
        }
    }

    /// Answers a bind (or, with `alter`, an alter_context).
    fn bind(&mut self, hdr: &Header, body: &[u8], alter: bool) -> Result<Vec<u8>, RpcError> {
        let bind = Bind::parse(body)?;
        if hdr.auth_length != 0 {
            return Ok(if alter {
                pdu::encode_fault(hdr.call_id, 0, NCA_S_PROTO_ERROR, true)
            } else {
                pdu::encode_bind_nak(hdr.call_id, pdu::NAK_AUTHENTICATION_TYPE_NOT_RECOGNIZED)
            });
        }
        if alter && !self.bound {
            return Ok(pdu::encode_fault(hdr.call_id, 0, NCA_S_PROTO_ERROR, true));
        }
        if !alter {
            self.bound = true;
            self.contexts.clear();
            self.max_xmit_frag = bind.max_recv_frag.clamp(MIN_XMIT_FRAG, MAX_FRAG);
            self.max_recv_frag = bind.max_xmit_frag.clamp(MIN_XMIT_FRAG, MAX_FRAG);
            self.assoc_group_id = if bind.assoc_group_id != 0 {
                bind.assoc_group_id
            } else {
                NEXT_ASSOC_GROUP.fetch_add(1, Ordering::Relaxed).max(1)
            };
        }
        let results: Vec<ContextResult> = bind
            .contexts
            .iter()
            .map(|c| self.context_result(c))
            .collect();
        let sec_addr = if alter {
            String::new()
        } else {
            format!("\\PIPE\\{}", self.kind.name())
        };
        Ok(BindAck {
            ptype: if alter {
                pdu::PTYPE_ALTER_CONTEXT_RESP
            } else {
                pdu::PTYPE_BIND_ACK
            },
            call_id: hdr.call_id,
            max_xmit_frag: self.max_xmit_frag,
            max_recv_frag: self.max_recv_frag,
            assoc_group_id: self.assoc_group_id,
            sec_addr: &sec_addr,
            results: &results,
        }
        .encode())
    }

    /// Collects request fragments; runs the call on the last one.
    fn request(&mut self, hdr: &Header, body: &[u8]) -> Result<(), RpcError> {
        let req = Request::parse(hdr.flags, body)?;
        let out_of_sequence = RpcError::FragmentOutOfSequence {
            call_id: hdr.call_id,
        };
        let call = if hdr.flags & PFC_FIRST_FRAG != 0 {
            if self.pending.is_some() {
                return Err(out_of_sequence);
            }
            let hint = usize::try_from(req.alloc_hint).unwrap_or(0);
            self.pending.insert(PendingCall {
                call_id: hdr.call_id,
                cont_id: req.cont_id,
                opnum: req.opnum,
                authenticated: false,
                stub: Vec::with_capacity(hint.min(64 * 1024).max(req.stub.len())),
            })
        } else {
            match self.pending.as_mut() {
                Some(p) if p.call_id == hdr.call_id => p,
                _ => return Err(out_of_sequence),
            }
        };
        if call.stub.len() + req.stub.len() > MAX_REQUEST_STUB {
            return Err(RpcError::ReassemblyTooLarge {
                limit: MAX_REQUEST_STUB,
            });
        }
        call.stub.extend_from_slice(req.stub);
        call.authenticated |= hdr.auth_length != 0;
        if hdr.flags & PFC_LAST_FRAG == 0 {
            return Ok(());
        }
        let Some(call) = self.pending.take() else {
            return Ok(());
        };
        let reply = self.execute(&call);
        match reply {
            Ok(stub) => {
                for frag in
                    pdu::encode_response(call.call_id, call.cont_id, &stub, self.max_xmit_frag)
                {
                    self.push_out(frag)?;
                }
                Ok(())
            }
            Err(status) => {
                self.push_out(pdu::encode_fault(call.call_id, call.cont_id, status, true))
            }
        }
    }

    /// Runs a reassembled call; `Err` is the NCA status of the fault to send.
    fn execute(&self, call: &PendingCall) -> Result<Vec<u8>, u32> {
        if !self.bound || call.authenticated {
            return Err(NCA_S_PROTO_ERROR);
        }
        if !self.contexts.contains(&call.cont_id) {
            return Err(NCA_S_CONTEXT_MISMATCH);
        }
        match self.kind {
            PipeKind::Srvsvc => srvsvc::call(call.opnum, &call.stub, &self.server),
            PipeKind::Wkssvc => wkssvc::call(call.opnum, &call.stub, &self.server),
        }
    }
}
