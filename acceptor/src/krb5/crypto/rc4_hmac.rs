//! rc4-hmac (RFC 4757), for old domains only; the acceptor uses it only when
//! `AcceptorConfig::allow_rc4` is set.

use crate::ntlm::crypto::{hmac_md5, md5, rc4_16};

use super::{CryptoError, ct_eq};

/// The message type RFC 4757 section 4 uses in place of some key usages.
fn translate_usage(usage: u32) -> u32 {
    match usage {
        3 => 8,
        9 => 8,
        23 => 13,
        u => u,
    }
}

/// Encrypts: checksum = HMAC(K1, confounder | plaintext), data RC4-encrypted under
/// HMAC(K1, checksum), output checksum | data.
pub fn encrypt(key: &[u8], usage: u32, confounder: &[u8; 8], plaintext: &[u8]) -> Vec<u8> {
    let k1 = hmac_md5(key, &[&translate_usage(usage).to_le_bytes()]);
    let mut data = Vec::with_capacity(8 + plaintext.len());
    data.extend_from_slice(confounder);
    data.extend_from_slice(plaintext);
    let cksum = hmac_md5(&k1, &[&data]);
    let k3 = hmac_md5(&k1, &[&cksum]);
    rc4_16(&k3, &mut data);
    let mut out = cksum.to_vec();
    out.extend_from_slice(&data);
    out
}

/// Decrypts and verifies; returns the plaintext after the 8-byte confounder.
pub fn decrypt(key: &[u8], usage: u32, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if ciphertext.len() < 24 {
        return Err(CryptoError::CiphertextTooShort);
    }
    let (cksum, body) = ciphertext.split_at(16);
    let k1 = hmac_md5(key, &[&translate_usage(usage).to_le_bytes()]);
    let k3 = hmac_md5(&k1, &[cksum]);
    let mut data = body.to_vec();
    rc4_16(&k3, &mut data);
    if !ct_eq(&hmac_md5(&k1, &[&data]), cksum) {
        return Err(CryptoError::IntegrityFailure);
    }
    Ok(data.get(8..).unwrap_or_default().to_vec())
}

/// The HMAC-MD5 keyed checksum (type -138, RFC 4757 section 4).
pub fn checksum(key: &[u8], usage: u32, data: &[u8]) -> [u8; 16] {
    let ksign = hmac_md5(key, &[b"signaturekey\0"]);
    let tmp = md5(&[&translate_usage(usage).to_le_bytes(), data]);
    hmac_md5(&ksign, &[&tmp])
}
