//! Kerberos 5 acceptor pieces (RFC 4120, RFC 4121, MS-KILE): the cryptosystem, keytabs,
//! message codecs and the AP-REQ check.

pub mod ap_req;
pub mod crypto;
pub mod gss;
pub mod keytab;
pub mod messages;
pub mod replay;
#[cfg(test)]
mod tests;
