//! The default provider: for each primitive, the implementation measured fastest.
//!
//! Measured single-core on 4 KiB to 1 MiB buffers with `crypto-bench` (x86-64 with AES-NI,
//! VAES and VPCLMULQDQ); the figures are in `src/bin/crypto-bench.rs`'s header.
//! * AES-GCM seal/open: AWS-LC.
//! * AES-CCM: RustCrypto (AWS-LC has no CCM).
//! * AES-GMAC: AWS-LC for a message in one piece; RustCrypto's streaming GHASH for one in
//!   several pieces (signature verification), which AWS-LC would first have to copy.
//! * AES-CMAC, HMAC-SHA256, SHA-512: see [`DefaultMac`] and [`DEFAULT_PROVIDER`].

use super::CryptoError;
use super::aws::{AwsLcAead, AwsLcMac};
use super::provider::{CryptoProvider, MacProvider};
use super::rustcrypto::{OsRandom, RustCryptoHash, RustCryptoMac};

/// The provider production code uses: the fastest measured implementation of each primitive.
pub static DEFAULT_PROVIDER: CryptoProvider = CryptoProvider {
    mac: &DefaultMac,
    aead: &AwsLcAead,
    hash: &RustCryptoHash,
    random: &OsRandom,
};

/// The MACs, each from its fastest implementation.
struct DefaultMac;

impl MacProvider for DefaultMac {
    fn hmac_sha256(&self, key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        RustCryptoMac.hmac_sha256(key, parts)
    }

    fn aes_cmac(&self, key: &[u8], parts: &[&[u8]]) -> Result<[u8; 16], CryptoError> {
        RustCryptoMac.aes_cmac(key, parts)
    }

    fn aes_gmac(
        &self,
        key: &[u8],
        nonce: &[u8; 12],
        parts: &[&[u8]],
    ) -> Result<[u8; 16], CryptoError> {
        if parts.len() <= 1 {
            AwsLcMac.aes_gmac(key, nonce, parts)
        } else {
            RustCryptoMac.aes_gmac(key, nonce, parts)
        }
    }
}
