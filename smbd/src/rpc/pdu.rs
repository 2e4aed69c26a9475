//! Connection-oriented DCE/RPC PDUs (C706 12.6, MS-RPCE 2.2.2): the common header, parsing of
//! bind/alter_context and request, and encoding of bind_ack/alter_context_resp, bind_nak,
//! response (fragmented to the negotiated size) and fault.

use super::RpcError;

/// request PTYPE.
pub const PTYPE_REQUEST: u8 = 0;
/// response PTYPE.
pub const PTYPE_RESPONSE: u8 = 2;
/// fault PTYPE.
pub const PTYPE_FAULT: u8 = 3;
/// bind PTYPE.
pub const PTYPE_BIND: u8 = 11;
/// bind_ack PTYPE.
pub const PTYPE_BIND_ACK: u8 = 12;
/// bind_nak PTYPE.
pub const PTYPE_BIND_NAK: u8 = 13;
/// alter_context PTYPE.
pub const PTYPE_ALTER_CONTEXT: u8 = 14;
/// alter_context_resp PTYPE.
pub const PTYPE_ALTER_CONTEXT_RESP: u8 = 15;
/// auth3 PTYPE.
pub const PTYPE_AUTH3: u8 = 16;
/// co_cancel PTYPE.
pub const PTYPE_CO_CANCEL: u8 = 18;
/// orphaned PTYPE.
pub const PTYPE_ORPHANED: u8 = 19;

/// First fragment of a call.
pub const PFC_FIRST_FRAG: u8 = 0x01;
/// Last fragment of a call.
pub const PFC_LAST_FRAG: u8 = 0x02;
/// The call did not execute (set on faults raised before the procedure ran).
pub const PFC_DID_NOT_EXECUTE: u8 = 0x20;
/// An object UUID follows the request header.
pub const PFC_OBJECT_UUID: u8 = 0x80;

/// NCA status: the opnum is out of range for the interface.
pub const NCA_S_OP_RNG_ERROR: u32 = 0x1c01_0002;
/// NCA status: unknown interface.
pub const NCA_S_UNKNOWN_IF: u32 = 0x1c01_0003;
/// NCA status: protocol error (e.g. a request before any bind, or an auth verifier).
pub const NCA_S_PROTO_ERROR: u32 = 0x1c01_000b;
/// NCA status: the presentation context id is not bound.
pub const NCA_S_CONTEXT_MISMATCH: u32 = 0x1c00_001a;
/// NCA status nca_s_fault_ndr / RPC_X_BAD_STUB_DATA: the stub could not be unmarshalled.
pub const NCA_S_FAULT_NDR: u32 = 0x0000_06f7;

/// Length of the common header.
pub const HEADER_LEN: usize = 16;
/// Length of the request/response header (common header + alloc_hint, p_cont_id, opnum or
/// cancel_count/reserved).
pub const RESPONSE_HEADER_LEN: usize = 24;
/// Little-endian integers, ASCII characters, IEEE floats.
pub const DREP_LE: [u8; 4] = [0x10, 0, 0, 0];

/// p_cont_def_result_t: acceptance.
pub const RESULT_ACCEPTANCE: u16 = 0;
/// p_cont_def_result_t: provider_rejection.
pub const RESULT_PROVIDER_REJECTION: u16 = 2;
/// MS-RPCE 2.2.2.4: negotiate_ack, the answer to a bind time feature negotiation context.
pub const RESULT_NEGOTIATE_ACK: u16 = 3;
/// p_provider_reason_t: abstract_syntax_not_supported.
pub const REASON_ABSTRACT_SYNTAX_NOT_SUPPORTED: u16 = 1;
/// p_provider_reason_t: proposed_transfer_syntaxes_not_supported.
pub const REASON_TRANSFER_SYNTAXES_NOT_SUPPORTED: u16 = 2;
/// bind_nak reason: reason_not_specified.
pub const NAK_REASON_NOT_SPECIFIED: u16 = 0;
/// bind_nak reason (MS-RPCE 2.2.2.5): authentication_type_not_recognized.
pub const NAK_AUTHENTICATION_TYPE_NOT_RECOGNIZED: u16 = 8;

/// A presentation syntax identifier: interface or transfer syntax UUID plus version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntaxId {
    /// The UUID in NDR (little-endian fields) wire order.
    pub uuid: [u8; 16],
    /// Major version (low 16 bits of the wire u32).
    pub major: u16,
    /// Minor version (high 16 bits of the wire u32).
    pub minor: u16,
}

impl SyntaxId {
    /// Builds a syntax id from a UUID written as its textual fields.
    pub const fn new(d1: u32, d2: u16, d3: u16, d4: [u8; 8], major: u16, minor: u16) -> Self {
        let a = d1.to_le_bytes();
        let b = d2.to_le_bytes();
        let c = d3.to_le_bytes();
        Self {
            uuid: [
                a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d4[0], d4[1], d4[2], d4[3], d4[4],
                d4[5], d4[6], d4[7],
            ],
            major,
            minor,
        }
    }

    /// The all-zero syntax used in rejected and negotiate_ack results.
    pub const NULL: Self = Self {
        uuid: [0; 16],
        major: 0,
        minor: 0,
    };

    fn parse(b: &[u8]) -> Option<Self> {
        let uuid: [u8; 16] = b.get(..16)?.try_into().ok()?;
        let major = u16::from_le_bytes([*b.get(16)?, *b.get(17)?]);
        let minor = u16::from_le_bytes([*b.get(18)?, *b.get(19)?]);
        Some(Self { uuid, major, minor })
    }

    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.uuid);
        out.extend_from_slice(&self.major.to_le_bytes());
        out.extend_from_slice(&self.minor.to_le_bytes());
    }
}

/// NDR 2.0 transfer syntax 8a885d04-1ceb-11c9-9fe8-08002b104860 v2.0.
pub const NDR20: SyntaxId = SyntaxId::new(
    0x8a88_5d04,
    0x1ceb,
    0x11c9,
    [0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60],
    2,
    0,
);

/// First 8 wire bytes of a bind time feature negotiation syntax 6cb71c2c-9812-4540-...
/// (MS-RPCE 3.3.1.5.3); the following 8 bytes are the feature bitmask.
pub const BIND_TIME_FEATURE_PREFIX: [u8; 8] = [0x2c, 0x1c, 0xb7, 0x6c, 0x12, 0x98, 0x40, 0x45];

/// MS-RPCE 2.2.2.14 KeepConnectionOnOrphanSupported.
pub const FEATURE_KEEP_CONNECTION_ON_ORPHAN: u16 = 0x0002;

/// The 16-byte common header of every connection-oriented PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// rpc_vers_minor (0 or 1); replies echo it.
    pub minor: u8,
    /// PTYPE.
    pub ptype: u8,
    /// pfc_flags.
    pub flags: u8,
    /// frag_length: the whole PDU including this header.
    pub frag_length: u16,
    /// auth_length: the auth verifier's credentials length (0 without authentication).
    pub auth_length: u16,
    /// call_id.
    pub call_id: u32,
}

impl Header {
    /// Parses and validates a header: version 5.0/5.1, little-endian drep, sane lengths.
    pub fn parse(b: &[u8]) -> Result<Self, RpcError> {
        if b.len() < HEADER_LEN {
            return Err(RpcError::Truncated {
                needed: HEADER_LEN,
                available: b.len(),
            });
        }
        if b[0] != 5 || b[1] > 1 {
            return Err(RpcError::UnsupportedVersion {
                major: b[0],
                minor: b[1],
            });
        }
        let drep = [b[4], b[5], b[6], b[7]];
        if drep[0] != DREP_LE[0] {
            return Err(RpcError::UnsupportedDataRepresentation { drep });
        }
        let frag_length = u16::from_le_bytes([b[8], b[9]]);
        let auth_length = u16::from_le_bytes([b[10], b[11]]);
        if usize::from(frag_length) < HEADER_LEN {
            return Err(RpcError::BadFragLength { frag_length });
        }
        if auth_length != 0 && usize::from(auth_length) + 8 > usize::from(frag_length) - HEADER_LEN
        {
            return Err(RpcError::BadAuthLength {
                auth_length,
                frag_length,
            });
        }
        Ok(Self {
            minor: b[1],
            ptype: b[2],
            flags: b[3],
            frag_length,
            auth_length,
            call_id: u32::from_le_bytes([b[12], b[13], b[14], b[15]]),
        })
    }

    /// The PDU body of `pdu` (this header's whole fragment): after the common header and
    /// before any sec_trailer and auth verifier.
    pub fn body<'a>(&self, pdu: &'a [u8]) -> &'a [u8] {
        let end = usize::from(self.frag_length);
        let trailer = if self.auth_length == 0 {
            0
        } else {
            usize::from(self.auth_length) + 8
        };
        pdu.get(HEADER_LEN..end.saturating_sub(trailer))
            .unwrap_or(&[])
    }
}

/// Writes a common header with a placeholder frag_length (fixed by [`finish`]).
fn start(ptype: u8, flags: u8, call_id: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(64);
    v.extend_from_slice(&[5, 0, ptype, flags]);
    v.extend_from_slice(&DREP_LE);
    v.extend_from_slice(&[0, 0, 0, 0]);
    v.extend_from_slice(&call_id.to_le_bytes());
    v
}

fn finish(mut v: Vec<u8>) -> Vec<u8> {
    let len = u16::try_from(v.len()).unwrap_or(u16::MAX);
    v[8..10].copy_from_slice(&len.to_le_bytes());
    v
}

fn pad4(v: &mut Vec<u8>) {
    let pad = (4 - v.len() % 4) % 4;
    v.resize(v.len() + pad, 0);
}

fn truncated(needed: usize, available: usize) -> RpcError {
    RpcError::Truncated { needed, available }
}

/// One element of a bind's p_cont_list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextElem {
    /// p_cont_id.
    pub cont_id: u16,
    /// The interface.
    pub abstract_syntax: SyntaxId,
    /// Transfer syntaxes offered for it.
    pub transfer_syntaxes: Vec<SyntaxId>,
}

/// A parsed bind or alter_context body (C706 12.6.4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    /// Largest fragment the client will send.
    pub max_xmit_frag: u16,
    /// Largest fragment the client accepts.
    pub max_recv_frag: u16,
    /// Association group requested (0 for a new one).
    pub assoc_group_id: u32,
    /// Presentation contexts offered.
    pub contexts: Vec<ContextElem>,
}

impl Bind {
    /// Parses a bind/alter_context body. Counts are 8-bit, so at most 255 contexts of 255
    /// syntaxes each; each element is length-checked before it is read.
    pub fn parse(body: &[u8]) -> Result<Self, RpcError> {
        if body.len() < 12 {
            return Err(truncated(12, body.len()));
        }
        let max_xmit_frag = u16::from_le_bytes([body[0], body[1]]);
        let max_recv_frag = u16::from_le_bytes([body[2], body[3]]);
        let assoc_group_id = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
        let n = usize::from(body[8]);
        let mut pos = 12;
        let mut contexts = Vec::with_capacity(n);
        for _ in 0..n {
            let fixed = body
                .get(pos..pos + 24)
                .ok_or(truncated(pos + 24, body.len()))?;
            let cont_id = u16::from_le_bytes([fixed[0], fixed[1]]);
            let n_ts = usize::from(fixed[2]);
            let abstract_syntax =
                SyntaxId::parse(&fixed[4..]).ok_or(truncated(pos + 24, body.len()))?;
            pos += 24;
            let end = pos + 20 * n_ts;
            let list = body.get(pos..end).ok_or(truncated(end, body.len()))?;
            let transfer_syntaxes = list.chunks_exact(20).filter_map(SyntaxId::parse).collect();
            pos = end;
            contexts.push(ContextElem {
                cont_id,
                abstract_syntax,
                transfer_syntaxes,
            });
        }
        Ok(Self {
            max_xmit_frag,
            max_recv_frag,
            assoc_group_id,
            contexts,
        })
    }
}

/// One p_result_t of a bind_ack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContextResult {
    /// Acceptance, provider rejection or negotiate_ack.
    pub result: u16,
    /// Rejection reason, or for negotiate_ack the accepted feature bits.
    pub reason: u16,
    /// The accepted transfer syntax ([`SyntaxId::NULL`] unless accepted).
    pub transfer_syntax: SyntaxId,
}

/// What a bind_ack / alter_context_resp carries besides the results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindAck<'a> {
    /// PTYPE_BIND_ACK or PTYPE_ALTER_CONTEXT_RESP.
    pub ptype: u8,
    /// call_id of the bind.
    pub call_id: u32,
    /// Largest fragment the server sends.
    pub max_xmit_frag: u16,
    /// Largest fragment the server accepts.
    pub max_recv_frag: u16,
    /// Association group id.
    pub assoc_group_id: u32,
    /// Secondary address ("\PIPE\srvsvc"; empty in alter_context_resp).
    pub sec_addr: &'a str,
    /// One result per offered context, in order.
    pub results: &'a [ContextResult],
}

impl BindAck<'_> {
    /// Encodes the PDU (C706 12.6.4.4).
    pub fn encode(&self) -> Vec<u8> {
        let mut v = start(self.ptype, PFC_FIRST_FRAG | PFC_LAST_FRAG, self.call_id);
        v.extend_from_slice(&self.max_xmit_frag.to_le_bytes());
        v.extend_from_slice(&self.max_recv_frag.to_le_bytes());
        v.extend_from_slice(&self.assoc_group_id.to_le_bytes());
        if self.sec_addr.is_empty() {
            v.extend_from_slice(&0u16.to_le_bytes());
        } else {
            let len = u16::try_from(self.sec_addr.len() + 1).unwrap_or(0);
            v.extend_from_slice(&len.to_le_bytes());
            v.extend_from_slice(self.sec_addr.as_bytes());
            v.push(0);
        }
        pad4(&mut v);
        v.push(u8::try_from(self.results.len()).unwrap_or(u8::MAX));
        v.extend_from_slice(&[0, 0, 0]);
        for r in self.results.iter().take(255) {
            v.extend_from_slice(&r.result.to_le_bytes());
            v.extend_from_slice(&r.reason.to_le_bytes());
            r.transfer_syntax.put(&mut v);
        }
        finish(v)
    }
}

/// Encodes a bind_nak (C706 12.6.4.5) offering protocol version 5.0.
pub fn encode_bind_nak(call_id: u32, reason: u16) -> Vec<u8> {
    let mut v = start(PTYPE_BIND_NAK, PFC_FIRST_FRAG | PFC_LAST_FRAG, call_id);
    v.extend_from_slice(&reason.to_le_bytes());
    v.extend_from_slice(&[1, 5, 0]);
    pad4(&mut v);
    finish(v)
}

/// A parsed request PDU (C706 12.6.4.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// Expected total stub size (a hint only).
    pub alloc_hint: u32,
    /// Presentation context.
    pub cont_id: u16,
    /// Operation number.
    pub opnum: u16,
    /// This fragment's stub bytes.
    pub stub: &'a [u8],
}

impl<'a> Request<'a> {
    /// Parses a request body; skips the object UUID when PFC_OBJECT_UUID is set.
    pub fn parse(flags: u8, body: &'a [u8]) -> Result<Self, RpcError> {
        let fixed = if flags & PFC_OBJECT_UUID != 0 { 24 } else { 8 };
        if body.len() < fixed {
            return Err(truncated(fixed, body.len()));
        }
        Ok(Self {
            alloc_hint: u32::from_le_bytes([body[0], body[1], body[2], body[3]]),
            cont_id: u16::from_le_bytes([body[4], body[5]]),
            opnum: u16::from_le_bytes([body[6], body[7]]),
            stub: &body[fixed..],
        })
    }
}

/// Encodes a fault PDU (C706 12.6.4.7) with NCA `status`.
pub fn encode_fault(call_id: u32, cont_id: u16, status: u32, did_not_execute: bool) -> Vec<u8> {
    let mut flags = PFC_FIRST_FRAG | PFC_LAST_FRAG;
    if did_not_execute {
        flags |= PFC_DID_NOT_EXECUTE;
    }
    let mut v = start(PTYPE_FAULT, flags, call_id);
    v.extend_from_slice(&32u32.to_le_bytes());
    v.extend_from_slice(&cont_id.to_le_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&status.to_le_bytes());
    v.extend_from_slice(&[0; 4]);
    finish(v)
}

/// Encodes the response to a call as one or more fragments of at most `max_xmit_frag` bytes
/// (C706 12.6.4.10). Every fragment but the last carries a multiple of 8 stub bytes;
/// alloc_hint is the stub length still to come, this fragment included.
pub fn encode_response(
    call_id: u32,
    cont_id: u16,
    stub: &[u8],
    max_xmit_frag: u16,
) -> Vec<Vec<u8>> {
    let room = usize::from(max_xmit_frag).saturating_sub(RESPONSE_HEADER_LEN);
    let chunk = (room / 8 * 8).max(8);
    let mut frags = Vec::with_capacity(stub.len() / chunk + 1);
    let mut off = 0;
    loop {
        let end = (off + chunk).min(stub.len());
        let mut flags = 0;
        if off == 0 {
            flags |= PFC_FIRST_FRAG;
        }
        if end == stub.len() {
            flags |= PFC_LAST_FRAG;
        }
        let mut v = start(PTYPE_RESPONSE, flags, call_id);
        let hint = u32::try_from(stub.len() - off).unwrap_or(u32::MAX);
        v.extend_from_slice(&hint.to_le_bytes());
        v.extend_from_slice(&cont_id.to_le_bytes());
        v.extend_from_slice(&[0, 0]);
        v.extend_from_slice(&stub[off..end]);
        frags.push(finish(v));
        off = end;
        if off == stub.len() {
            return frags;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndr_syntax_wire_bytes() {
        // C706 Appendix I / MS-RPCE 2.2.4.12: 8a885d04-1ceb-11c9-9fe8-08002b104860.
        assert_eq!(
            NDR20.uuid,
            [
                0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10,
                0x48, 0x60
            ]
        );
    }

    #[test]
    fn header_validation() {
        let mut h = [5u8, 0, 0, 3, 0x10, 0, 0, 0, 24, 0, 0, 0, 1, 0, 0, 0];
        assert_eq!(Header::parse(&h).unwrap().frag_length, 24);
        h[4] = 0x00; // big-endian
        assert!(matches!(
            Header::parse(&h),
            Err(RpcError::UnsupportedDataRepresentation { .. })
        ));
        h[4] = 0x10;
        h[0] = 4;
        assert!(matches!(
            Header::parse(&h),
            Err(RpcError::UnsupportedVersion { .. })
        ));
        h[0] = 5;
        h[8] = 10;
        assert_eq!(
            Header::parse(&h),
            Err(RpcError::BadFragLength { frag_length: 10 })
        );
        h[8] = 24;
        h[10] = 1; // auth_length 1 + 8 > 24 - 16
        assert!(matches!(
            Header::parse(&h),
            Err(RpcError::BadAuthLength { .. })
        ));
        assert!(matches!(
            Header::parse(&h[..15]),
            Err(RpcError::Truncated { .. })
        ));
    }

    #[test]
    fn response_fragments_cover_stub() {
        let stub: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let frags = encode_response(9, 1, &stub, 100);
        let mut joined = Vec::new();
        for (i, f) in frags.iter().enumerate() {
            assert!(f.len() <= 100);
            let h = Header::parse(f).unwrap();
            assert_eq!(usize::from(h.frag_length), f.len());
            assert_eq!(h.flags & PFC_FIRST_FRAG != 0, i == 0);
            assert_eq!(h.flags & PFC_LAST_FRAG != 0, i == frags.len() - 1);
            joined.extend_from_slice(&f[RESPONSE_HEADER_LEN..]);
        }
        assert_eq!(joined, stub);
        assert_eq!(encode_response(1, 0, &[], 4280).len(), 1);
    }
}
