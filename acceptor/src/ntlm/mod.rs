//! NTLM (MS-NLMP), acceptor side: the message codec, the NTLMv2 cryptography and the acceptor
//! state machine.

pub mod crypto;
pub mod messages;
pub mod state;

pub use state::{ExpectAuthenticate, ExpectNegotiate, NtlmError, NtlmSuccess, SessionSecurity};
