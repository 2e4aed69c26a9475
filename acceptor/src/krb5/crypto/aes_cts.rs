//! AES in CBC mode with ciphertext stealing and a zero IV (RFC 3962 section 5), the cipher of
//! both the RFC 3962 and the RFC 8009 enctypes.

use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit, generic_array::GenericArray};
use aes::{Aes128, Aes256};

use super::CryptoError;

/// AES block size.
pub const BLOCK: usize = 16;

/// An AES key schedule of either size.
pub enum AesKey {
    /// AES-128.
    A128(Box<Aes128>),
    /// AES-256.
    A256(Box<Aes256>),
}

impl AesKey {
    /// A schedule for a 16- or 32-byte key.
    pub fn new(key: &[u8]) -> Result<Self, CryptoError> {
        match key.len() {
            16 => Ok(Self::A128(Box::new(
                Aes128::new_from_slice(key).map_err(|_| CryptoError::BadKeyLength)?,
            ))),
            32 => Ok(Self::A256(Box::new(
                Aes256::new_from_slice(key).map_err(|_| CryptoError::BadKeyLength)?,
            ))),
            _ => Err(CryptoError::BadKeyLength),
        }
    }

    /// Encrypts one block in place.
    pub fn encrypt_block(&self, block: &mut [u8; BLOCK]) {
        let b = GenericArray::from_mut_slice(block);
        match self {
            Self::A128(k) => k.encrypt_block(b),
            Self::A256(k) => k.encrypt_block(b),
        }
    }

    /// Decrypts one block in place.
    pub fn decrypt_block(&self, block: &mut [u8; BLOCK]) {
        let b = GenericArray::from_mut_slice(block);
        match self {
            Self::A128(k) => k.decrypt_block(b),
            Self::A256(k) => k.decrypt_block(b),
        }
    }
}

fn block_at(data: &[u8], index: usize) -> [u8; BLOCK] {
    let mut b = [0u8; BLOCK];
    let start = index * BLOCK;
    let end = data.len().min(start + BLOCK);
    if let Some(src) = data.get(start..end) {
        b[..src.len()].copy_from_slice(src);
    }
    b
}

fn xor(a: &mut [u8; BLOCK], b: &[u8; BLOCK]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x ^= y;
    }
}

/// Encrypts `data` (at least one block) with CBC-CTS and a zero IV.
pub fn encrypt(key: &AesKey, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if data.len() < BLOCK {
        return Err(CryptoError::CiphertextTooShort);
    }
    let blocks = data.len().div_ceil(BLOCK);
    let mut out = Vec::with_capacity(blocks * BLOCK);
    let mut prev = [0u8; BLOCK];
    for i in 0..blocks {
        let mut b = block_at(data, i);
        xor(&mut b, &prev);
        key.encrypt_block(&mut b);
        out.extend_from_slice(&b);
        prev = b;
    }
    if blocks > 1 {
        // Swap the last two blocks, then drop the padding of the (new) last one.
        let n = out.len();
        let (head, last) = out.split_at_mut(n - BLOCK);
        head[n - 2 * BLOCK..].swap_with_slice(last);
        out.truncate(data.len());
    }
    Ok(out)
}

/// Decrypts CBC-CTS `data` (at least one block) with a zero IV.
pub fn decrypt(key: &AesKey, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if data.len() < BLOCK {
        return Err(CryptoError::CiphertextTooShort);
    }
    let blocks = data.len().div_ceil(BLOCK);
    let mut out = Vec::with_capacity(data.len());
    let mut prev = [0u8; BLOCK];
    if blocks == 1 {
        let mut b = block_at(data, 0);
        key.decrypt_block(&mut b);
        out.extend_from_slice(&b);
        return Ok(out);
    }
    for i in 0..blocks - 2 {
        let c = block_at(data, i);
        let mut b = c;
        key.decrypt_block(&mut b);
        xor(&mut b, &prev);
        out.extend_from_slice(&b);
        prev = c;
    }
    let tail_len = data.len() - (blocks - 1) * BLOCK;
    let tail = block_at(data, blocks - 1);
    // The second-to-last stored block is the encryption of the padded last plaintext block.
    let mut dn = block_at(data, blocks - 2);
    key.decrypt_block(&mut dn);
    let mut full = tail;
    full[tail_len..].copy_from_slice(&dn[tail_len..]);
    let mut last = dn;
    xor(&mut last, &full);
    let mut before_last = full;
    key.decrypt_block(&mut before_last);
    xor(&mut before_last, &prev);
    out.extend_from_slice(&before_last);
    out.extend_from_slice(&last[..tail_len]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::krb5::crypto::tests::hex;

    /// RFC 3962 appendix B, the CBC with ciphertext stealing vectors.
    #[test]
    fn rfc3962_cts_vectors() {
        let key = AesKey::new(b"chicken teriyaki").unwrap();
        let input = b"I would like the General Gau's Chicken, please, and wonton soup.";
        let cases: [(usize, &str); 6] = [
            (17, "c6353568f2bf8cb4d8a580362da7ff7f97"),
            (
                31,
                "fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5",
            ),
            (
                32,
                "39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584",
            ),
            (
                47,
                "97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5be7fcbcc98ebf5",
            ),
            (
                48,
                "97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd839312523a78662d5be7fcbcc98ebf5a8",
            ),
            (
                64,
                "97687268d6ecccc0c07b25e25ecfe58439312523a78662d5be7fcbcc98ebf5a84807efe836ee89a526730dbc2f7bc8409dad8bbb96c4cdc03bc103e1a194bbd8",
            ),
        ];
        for (len, expected) in cases {
            let ct = encrypt(&key, &input[..len]).unwrap();
            assert_eq!(ct, hex(expected), "length {len}");
            assert_eq!(decrypt(&key, &ct).unwrap(), &input[..len], "length {len}");
        }
    }

    #[test]
    fn short_input_is_an_error() {
        let key = AesKey::new(&[0; 16]).unwrap();
        assert!(encrypt(&key, &[0; 15]).is_err());
        assert!(decrypt(&key, &[0; 15]).is_err());
        assert!(AesKey::new(&[0; 24]).is_err());
    }
}
