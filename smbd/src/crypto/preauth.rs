//! The SMB 3.1.1 pre-authentication integrity hash (MS-SMB2 3.3.5.4, 3.3.5.5).

use super::CryptoProvider;

/// Folds one message into a preauth integrity hash: `hash = SHA-512(hash || message)`.
/// `message` is the whole SMB2 message (header onwards, without the transport header).
pub fn preauth_update(p: &CryptoProvider, hash: &mut [u8; 64], message: &[u8]) {
    let next = p.hash.sha512(&[hash.as_slice(), message]);
    *hash = next;
}
