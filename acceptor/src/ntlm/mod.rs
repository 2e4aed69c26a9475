//! NTLM (MS-NLMP), acceptor side: the message codec, the NTLMv2 cryptography, the checks of the
//! client's AV_PAIRs and the acceptor state machine.

pub mod client_av;
pub mod crypto;
pub mod messages;
pub mod state;
#[cfg(test)]
mod tests;
pub mod v1;

pub use state::{ExpectAuthenticate, ExpectNegotiate, NtlmError, NtlmSuccess, SessionSecurity};
