//! Errors a pipe reports to the SMB layer. RPC-level failures the client can recover from
//! (unknown opnum, bad stub data, unknown interface) are answered in-band with fault or
//! bind_nak PDUs instead; these are the violations that break the pipe.

use std::fmt;

/// NTSTATUS values the SMB layer should answer with.
mod status {
    pub(super) const INVALID_PARAMETER: u32 = 0xC000_000D;
    pub(super) const INSUFFICIENT_RESOURCES: u32 = 0xC000_009A;
    pub(super) const PIPE_BUSY: u32 = 0xC000_00AE;
    pub(super) const PIPE_DISCONNECTED: u32 = 0xC000_00B0;
}

/// A violation of MS-RPCE / C706 framing, or misuse of the pipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RpcError {
    /// A PDU or PDU body is shorter than its fixed fields need.
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// rpc_vers/rpc_vers_minor other than 5.0 or 5.1.
    UnsupportedVersion {
        /// rpc_vers.
        major: u8,
        /// rpc_vers_minor.
        minor: u8,
    },
    /// A data representation other than little-endian ASCII (drep[0] = 0x10).
    UnsupportedDataRepresentation {
        /// The packed_drep field.
        drep: [u8; 4],
    },
    /// frag_length smaller than the header.
    BadFragLength {
        /// The frag_length field.
        frag_length: u16,
    },
    /// auth_length plus its 8-byte sec_trailer does not fit in the fragment.
    BadAuthLength {
        /// The auth_length field.
        auth_length: u16,
        /// The frag_length field.
        frag_length: u16,
    },
    /// A PDU type a server never receives (response, bind_ack, ...) or does not know.
    UnexpectedPduType {
        /// The PTYPE field.
        ptype: u8,
    },
    /// A request fragment that does not continue (or wrongly interrupts) the call being
    /// reassembled.
    FragmentOutOfSequence {
        /// call_id of the offending fragment.
        call_id: u32,
    },
    /// The reassembled request stub would exceed the cap.
    ReassemblyTooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// The client keeps writing without reading; queued responses exceed the cap.
    OutputBacklog {
        /// The cap in bytes.
        limit: usize,
    },
    /// FSCTL_PIPE_TRANSCEIVE while an earlier response is still unread.
    PipeBusy,
    /// The pipe was broken by an earlier violation.
    Disconnected,
}

impl RpcError {
    /// The NTSTATUS the SMB layer should return for this error.
    pub fn nt_status(&self) -> u32 {
        match self {
            Self::PipeBusy => status::PIPE_BUSY,
            Self::Disconnected => status::PIPE_DISCONNECTED,
            Self::ReassemblyTooLarge { .. } | Self::OutputBacklog { .. } => {
                status::INSUFFICIENT_RESOURCES
            }
            _ => status::INVALID_PARAMETER,
        }
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { needed, available } => {
                write!(f, "PDU truncated: need {needed} bytes, have {available}")
            }
            Self::UnsupportedVersion { major, minor } => {
                write!(f, "unsupported RPC version {major}.{minor}")
            }
            Self::UnsupportedDataRepresentation { drep } => {
                write!(f, "unsupported data representation {drep:02x?}")
            }
            Self::BadFragLength { frag_length } => write!(f, "bad frag_length {frag_length}"),
            Self::BadAuthLength {
                auth_length,
                frag_length,
            } => write!(
                f,
                "auth_length {auth_length} does not fit frag_length {frag_length}"
            ),
            Self::UnexpectedPduType { ptype } => write!(f, "unexpected PDU type {ptype}"),
            Self::FragmentOutOfSequence { call_id } => {
                write!(f, "request fragment out of sequence (call_id {call_id})")
            }
            Self::ReassemblyTooLarge { limit } => {
                write!(f, "reassembled request exceeds {limit} bytes")
            }
            Self::OutputBacklog { limit } => write!(f, "unread responses exceed {limit} bytes"),
            Self::PipeBusy => f.write_str("pipe has unread data"),
            Self::Disconnected => f.write_str("pipe broken by an earlier error"),
        }
    }
}

impl std::error::Error for RpcError {}
