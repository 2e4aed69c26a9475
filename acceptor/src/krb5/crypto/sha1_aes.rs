//! aes128-cts-hmac-sha1-96 and aes256-cts-hmac-sha1-96 (RFC 3962), built on the simplified
//! profile of RFC 3961 section 5.3.

use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::aes_cts::{self, AesKey, BLOCK};
use super::nfold::nfold;
use super::{CryptoError, ct_eq, usage_constant};

/// Default PBKDF2 iteration count (RFC 3962 section 4).
pub const DEFAULT_ITERATIONS: u32 = 4096;
/// Length of the truncated HMAC-SHA1 tag.
pub const TAG_LEN: usize = 12;

/// DK(key, constant) of RFC 3961 section 5.1: AES of the n-folded constant, chained until the
/// key length is filled (random-to-key is the identity for AES).
pub fn derive_key(key: &[u8], constant: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let aes = AesKey::new(key)?;
    let folded = nfold(constant, BLOCK);
    let mut block = [0u8; BLOCK];
    block.copy_from_slice(&folded);
    let mut out = Vec::with_capacity(key.len());
    while out.len() < key.len() {
        aes.encrypt_block(&mut block);
        out.extend_from_slice(&block);
    }
    out.truncate(key.len());
    Ok(out)
}

/// string-to-key (RFC 3962 section 4): PBKDF2-HMAC-SHA1, then DK with "kerberos".
pub fn string_to_key(
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    key_len: usize,
) -> Result<Vec<u8>, CryptoError> {
    let mut tkey = vec![0u8; key_len];
    pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut tkey);
    derive_key(&tkey, b"kerberos")
}

fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> Result<[u8; 20], CryptoError> {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).map_err(|_| CryptoError::BadKeyLength)?;
    for p in parts {
        mac.update(p);
    }
    Ok(mac.finalize().into_bytes().into())
}

/// Encrypts: CTS of confounder | plaintext under Ke, then HMAC-SHA1-96 of the same under Ki.
pub fn encrypt(
    key: &[u8],
    usage: u32,
    confounder: &[u8; 16],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let ke = derive_key(key, &usage_constant(usage, 0xAA))?;
    let ki = derive_key(key, &usage_constant(usage, 0x55))?;
    let mut data = Vec::with_capacity(BLOCK + plaintext.len());
    data.extend_from_slice(confounder);
    data.extend_from_slice(plaintext);
    let mut out = aes_cts::encrypt(&AesKey::new(&ke)?, &data)?;
    out.extend_from_slice(&hmac_sha1(&ki, &[&data])?[..TAG_LEN]);
    Ok(out)
}

/// Decrypts and verifies; returns the plaintext after the confounder.
pub fn decrypt(key: &[u8], usage: u32, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if ciphertext.len() < BLOCK + TAG_LEN {
        return Err(CryptoError::CiphertextTooShort);
    }
    let (body, tag) = ciphertext.split_at(ciphertext.len() - TAG_LEN);
    let ke = derive_key(key, &usage_constant(usage, 0xAA))?;
    let ki = derive_key(key, &usage_constant(usage, 0x55))?;
    let data = aes_cts::decrypt(&AesKey::new(&ke)?, body)?;
    if !ct_eq(&hmac_sha1(&ki, &[&data])?[..TAG_LEN], tag) {
        return Err(CryptoError::IntegrityFailure);
    }
    Ok(data.get(BLOCK..).unwrap_or_default().to_vec())
}

/// hmac-sha1-96-aes128/256: HMAC-SHA1 under Kc = DK(key, usage | 0x99), truncated to 96 bits.
pub fn checksum(key: &[u8], usage: u32, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let kc = derive_key(key, &usage_constant(usage, 0x99))?;
    Ok(hmac_sha1(&kc, &[data])?[..TAG_LEN].to_vec())
}
