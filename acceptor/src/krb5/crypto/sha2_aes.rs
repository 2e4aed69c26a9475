//! aes128-cts-hmac-sha256-128 and aes256-cts-hmac-sha384-192 (RFC 8009).

use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha384};

use super::aes_cts::{self, AesKey, BLOCK};
use super::{CryptoError, Etype, ct_eq, usage_constant};

/// Default PBKDF2 iteration count (RFC 8009 section 4).
pub const DEFAULT_ITERATIONS: u32 = 32768;

/// The enctype's name, prefixed to the salt by string-to-key.
fn name(etype: Etype) -> &'static [u8] {
    if etype == Etype::AES256_SHA384 {
        b"aes256-cts-hmac-sha384-192"
    } else {
        b"aes128-cts-hmac-sha256-128"
    }
}

/// Length of the integrity tag and of Kc/Ki (16 bytes for SHA-256, 24 for SHA-384).
fn tag_len(etype: Etype) -> usize {
    if etype == Etype::AES256_SHA384 {
        24
    } else {
        16
    }
}

fn key_len(etype: Etype) -> usize {
    if etype == Etype::AES256_SHA384 {
        32
    } else {
        16
    }
}

fn hmac(etype: Etype, key: &[u8], parts: &[&[u8]]) -> Result<Vec<u8>, CryptoError> {
    fn run<M: Mac + hmac::digest::KeyInit>(
        key: &[u8],
        parts: &[&[u8]],
    ) -> Result<Vec<u8>, CryptoError> {
        let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key)
            .map_err(|_| CryptoError::BadKeyLength)?;
        for p in parts {
            mac.update(p);
        }
        Ok(mac.finalize().into_bytes().to_vec())
    }
    if etype == Etype::AES256_SHA384 {
        run::<Hmac<Sha384>>(key, parts)
    } else {
        run::<Hmac<Sha256>>(key, parts)
    }
}

/// KDF-HMAC-SHA2(key, label, k) of RFC 8009 section 3 (no context), `out_len` bytes.
pub fn kdf(etype: Etype, key: &[u8], label: &[u8], out_len: usize) -> Result<Vec<u8>, CryptoError> {
    let bits = u32::try_from(out_len * 8).map_err(|_| CryptoError::BadKeyLength)?;
    let mut k1 = hmac(
        etype,
        key,
        &[&1u32.to_be_bytes(), label, &[0], &bits.to_be_bytes()],
    )?;
    k1.truncate(out_len);
    Ok(k1)
}

/// string-to-key (RFC 8009 section 4): PBKDF2 over "enctype-name | 0x00 | salt", then the KDF
/// with the label "kerberos".
pub fn string_to_key(
    etype: Etype,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
) -> Result<Vec<u8>, CryptoError> {
    let mut saltp = name(etype).to_vec();
    saltp.push(0);
    saltp.extend_from_slice(salt);
    let mut tkey = vec![0u8; key_len(etype)];
    if etype == Etype::AES256_SHA384 {
        pbkdf2::pbkdf2_hmac::<Sha384>(password, &saltp, iterations, &mut tkey);
    } else {
        pbkdf2::pbkdf2_hmac::<Sha256>(password, &saltp, iterations, &mut tkey);
    }
    kdf(etype, &tkey, b"kerberos", key_len(etype))
}

/// The encryption and integrity keys for `usage`.
pub fn ke_ki(etype: Etype, key: &[u8], usage: u32) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    let ke = kdf(etype, key, &usage_constant(usage, 0xAA), key_len(etype))?;
    let ki = kdf(etype, key, &usage_constant(usage, 0x55), tag_len(etype))?;
    Ok((ke, ki))
}

/// Encrypts: C = CTS(Ke, N | plaintext), H = HMAC(Ki, IV | C) truncated, output C | H.
pub fn encrypt(
    etype: Etype,
    key: &[u8],
    usage: u32,
    confounder: &[u8; 16],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let (ke, ki) = ke_ki(etype, key, usage)?;
    encrypt_with_keys(etype, &ke, &ki, confounder, plaintext)
}

/// Encryption with already derived Ke and Ki (RFC 8009 appendix A lists those directly).
pub fn encrypt_with_keys(
    etype: Etype,
    ke: &[u8],
    ki: &[u8],
    confounder: &[u8; 16],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut data = Vec::with_capacity(BLOCK + plaintext.len());
    data.extend_from_slice(confounder);
    data.extend_from_slice(plaintext);
    let mut out = aes_cts::encrypt(&AesKey::new(ke)?, &data)?;
    let h = hmac(etype, ki, &[&[0u8; BLOCK], &out])?;
    out.extend_from_slice(&h[..tag_len(etype)]);
    Ok(out)
}

/// Decrypts and verifies; returns the plaintext after the confounder.
pub fn decrypt(
    etype: Etype,
    key: &[u8],
    usage: u32,
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let tl = tag_len(etype);
    if ciphertext.len() < BLOCK + tl {
        return Err(CryptoError::CiphertextTooShort);
    }
    let (body, tag) = ciphertext.split_at(ciphertext.len() - tl);
    let (ke, ki) = ke_ki(etype, key, usage)?;
    let h = hmac(etype, &ki, &[&[0u8; BLOCK], body])?;
    if !ct_eq(&h[..tl], tag) {
        return Err(CryptoError::IntegrityFailure);
    }
    let data = aes_cts::decrypt(&AesKey::new(&ke)?, body)?;
    Ok(data.get(BLOCK..).unwrap_or_default().to_vec())
}

/// hmac-sha256-128-aes128 / hmac-sha384-192-aes256: HMAC under Kc, truncated.
pub fn checksum(etype: Etype, key: &[u8], usage: u32, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let kc = kdf(etype, key, &usage_constant(usage, 0x99), tag_len(etype))?;
    let mut h = hmac(etype, &kc, &[data])?;
    h.truncate(tag_len(etype));
    Ok(h)
}
