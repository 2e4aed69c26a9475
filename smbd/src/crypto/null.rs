//! The null provider: INSECURE stand-ins for fuzzing and for measuring everything but crypto.
//!
//! Every MAC is sixteen (or thirty-two) zero bytes, the AEAD leaves data unchanged, returns a
//! zero tag and accepts any tag, and the "random" bytes come from a counter. Hashing is real
//! SHA-512 (it is cheap and only used before authentication). Never use this provider on a
//! real network.

use core::sync::atomic::{AtomicU64, Ordering};

use super::provider::{AeadProvider, CryptoProvider, MacProvider, PreparedAead, RandomSource};
use super::rustcrypto::RustCryptoHash;
use super::{Cipher, CryptoError};

/// The insecure provider for fuzzing and benchmarks (see the module documentation).
pub static NULL_PROVIDER: CryptoProvider = CryptoProvider {
    mac: &NullMac,
    aead: &NullAead,
    hash: &RustCryptoHash,
    random: &COUNTER_RANDOM,
};

/// The process-wide counter behind [`NULL_PROVIDER`]'s random bytes.
static COUNTER_RANDOM: CounterRandom = CounterRandom(AtomicU64::new(0));

/// MACs that are all zero bytes.
struct NullMac;

impl MacProvider for NullMac {
    fn hmac_sha256(&self, _key: &[u8], _parts: &[&[u8]]) -> [u8; 32] {
        [0; 32]
    }

    fn aes_cmac(&self, _key: &[u8], _parts: &[&[u8]]) -> Result<[u8; 16], CryptoError> {
        Ok([0; 16])
    }

    fn aes_gmac(
        &self,
        _key: &[u8],
        _nonce: &[u8; 12],
        _parts: &[&[u8]],
    ) -> Result<[u8; 16], CryptoError> {
        Ok([0; 16])
    }
}

/// An "AEAD" that is the identity with a zero tag and checks nothing.
struct NullAead;

impl AeadProvider for NullAead {
    fn seal_in_place(
        &self,
        _cipher: Cipher,
        _key: &[u8],
        _nonce: &[u8],
        _aad: &[u8],
        _buf: &mut [u8],
    ) -> Result<[u8; 16], CryptoError> {
        Ok([0; 16])
    }

    fn open_in_place(
        &self,
        _cipher: Cipher,
        _key: &[u8],
        _nonce: &[u8],
        _aad: &[u8],
        _buf: &mut [u8],
        _tag: &[u8; 16],
    ) -> Result<(), CryptoError> {
        Ok(())
    }

    fn prepare(&self, cipher: Cipher, _key: &[u8]) -> Result<Box<dyn PreparedAead>, CryptoError> {
        Ok(Box::new(NullPrepared(cipher)))
    }
}

/// The prepared form of [`NullAead`]: remembers only its cipher.
struct NullPrepared(Cipher);

impl PreparedAead for NullPrepared {
    fn cipher(&self) -> Cipher {
        self.0
    }

    fn seal_in_place(
        &self,
        _nonce: &[u8],
        _aad: &[u8],
        _buf: &mut [u8],
    ) -> Result<[u8; 16], CryptoError> {
        Ok([0; 16])
    }

    fn open_in_place(
        &self,
        _nonce: &[u8],
        _aad: &[u8],
        _buf: &mut [u8],
        _tag: &[u8; 16],
    ) -> Result<(), CryptoError> {
        Ok(())
    }
}

/// "Random" bytes from a process-wide counter: predictable by design.
struct CounterRandom(AtomicU64);

impl RandomSource for CounterRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError> {
        for chunk in buf.chunks_mut(8) {
            let value = self.0.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
            let bytes = value.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_primitives_are_trivial() {
        let p = &NULL_PROVIDER;
        assert_eq!(p.mac.hmac_sha256(b"k", &[b"x"]), [0; 32]);
        assert_eq!(p.mac.aes_cmac(b"k", &[b"x"]), Ok([0; 16]));
        let mut buf = *b"plain";
        let tag = p
            .aead
            .seal_in_place(Cipher::Aes128Gcm, &[], &[], &[], &mut buf)
            .unwrap();
        assert_eq!((&buf, tag), (b"plain", [0; 16]));
        let mut a = [0u8; 12];
        let mut b = [0u8; 12];
        p.random.fill(&mut a).unwrap();
        p.random.fill(&mut b).unwrap();
        assert_ne!(a, b);
    }
}
