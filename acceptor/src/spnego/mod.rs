//! SPNEGO (RFC 4178, MS-SPNG): the token codec and the acceptor state machine.

pub mod acceptor;
pub mod tokens;

pub use acceptor::SpnegoAcceptor;
