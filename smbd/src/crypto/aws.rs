//! The AWS-LC provider: primitives from AWS's libcrypto through the `aws-lc-rs` crate.
//!
//! AWS-LC has assembly for AES-GCM and GHASH that uses VAES and VPCLMULQDQ where the CPU has
//! them, so GCM and GMAC run several times faster than the RustCrypto crates. It has no
//! AES-CCM, so [`AwsLcAead`] hands CCM to the RustCrypto implementation.
//! [`DEFAULT_PROVIDER`](super::DEFAULT_PROVIDER) picks per primitive from this module and
//! [`rustcrypto`](super::rustcrypto) by measurement (see `src/bin/crypto-bench.rs`).

use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::{cmac, digest, hmac};

use super::provider::{AeadProvider, CryptoProvider, HashProvider, MacProvider, PreparedAead};
use super::rustcrypto::{OsRandom, RustCryptoAead, RustCryptoPrepared};
use super::{Cipher, CryptoError};

/// Every primitive AWS-LC offers from AWS-LC; AES-CCM (which it lacks) and randomness from
/// RustCrypto and the operating system.
pub static AWS_LC_PROVIDER: CryptoProvider = CryptoProvider {
    mac: &AwsLcMac,
    aead: &AwsLcAead,
    hash: &AwsLcHash,
    random: &OsRandom,
};

/// HMAC-SHA256, AES-128-CMAC and AES-128-GMAC from AWS-LC.
pub(super) struct AwsLcMac;

impl MacProvider for AwsLcMac {
    fn hmac_sha256(&self, key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        let key = hmac::Key::new(hmac::HMAC_SHA256, key);
        let mut ctx = hmac::Context::with_key(&key);
        for part in parts {
            ctx.update(part);
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    fn aes_cmac(&self, key: &[u8], parts: &[&[u8]]) -> Result<[u8; 16], CryptoError> {
        if key.len() != 16 {
            return Err(CryptoError::BadKeyLength);
        }
        let key = cmac::Key::new(cmac::AES_128, key).map_err(|_| CryptoError::BadKeyLength)?;
        let mut ctx = cmac::Context::with_key(&key);
        for part in parts {
            // CMAC's update fails only when the underlying context is unusable.
            ctx.update(part).map_err(|_| CryptoError::BadKeyLength)?;
        }
        let tag = ctx.sign().map_err(|_| CryptoError::BadKeyLength)?;
        tag_16(tag.as_ref())
    }

    fn aes_gmac(
        &self,
        key: &[u8],
        nonce: &[u8; 12],
        parts: &[&[u8]],
    ) -> Result<[u8; 16], CryptoError> {
        if key.len() != 16 {
            return Err(CryptoError::BadKeyLength);
        }
        let key = gcm_key(Cipher::Aes128Gcm, key)?;
        gmac_keyed(&key, nonce, parts)
    }
}

/// AES-128-GMAC under a prepared GCM key: GCM with an empty plaintext and the message as
/// AAD (NIST SP800-38D section 3). AWS-LC takes the AAD as one slice, so a message given
/// in several pieces is joined first.
fn gmac_keyed(
    key: &LessSafeKey,
    nonce: &[u8; 12],
    parts: &[&[u8]],
) -> Result<[u8; 16], CryptoError> {
    let joined;
    let aad: &[u8] = match parts {
        [] => &[],
        [one] => one,
        _ => {
            joined = parts.concat();
            &joined
        }
    };
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(aad),
            &mut [],
        )
        .map_err(|_| CryptoError::TooLarge)?;
    tag_16(tag.as_ref())
}

/// Copies a 16-byte tag out of AWS-LC's tag type.
fn tag_16(tag: &[u8]) -> Result<[u8; 16], CryptoError> {
    tag.try_into().map_err(|_| CryptoError::Auth)
}

/// Runs the AES-GCM key schedule; `cipher` must be a GCM cipher.
fn gcm_key(cipher: Cipher, key: &[u8]) -> Result<LessSafeKey, CryptoError> {
    let algorithm = match cipher {
        Cipher::Aes128Gcm => &AES_128_GCM,
        Cipher::Aes256Gcm => &AES_256_GCM,
        // Callers send CCM to RustCrypto before they get here.
        Cipher::Aes128Ccm | Cipher::Aes256Ccm => return Err(CryptoError::BadKeyLength),
    };
    if key.len() != cipher.key_len() {
        return Err(CryptoError::BadKeyLength);
    }
    let unbound = UnboundKey::new(algorithm, key).map_err(|_| CryptoError::BadKeyLength)?;
    Ok(LessSafeKey::new(unbound))
}

/// Checks and converts a GCM nonce.
fn gcm_nonce(nonce: &[u8]) -> Result<Nonce, CryptoError> {
    Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::BadNonceLength)
}

/// Seals with a prepared GCM key.
fn gcm_seal(
    key: &LessSafeKey,
    nonce: &[u8],
    aad: &[u8],
    buf: &mut [u8],
) -> Result<[u8; 16], CryptoError> {
    let nonce = gcm_nonce(nonce)?;
    let tag = key
        .seal_in_place_separate_tag(nonce, Aad::from(aad), buf)
        .map_err(|_| CryptoError::TooLarge)?;
    tag_16(tag.as_ref())
}

/// Opens with a prepared GCM key.
fn gcm_open(
    key: &LessSafeKey,
    nonce: &[u8],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; 16],
) -> Result<(), CryptoError> {
    let nonce = gcm_nonce(nonce)?;
    key.open_in_place_separate_tag(nonce, Aad::from(aad), tag, buf)
        .map(|_| ())
        .map_err(|_| CryptoError::Auth)
}

/// AES-GCM from AWS-LC; AES-CCM from RustCrypto (AWS-LC has no CCM).
pub(super) struct AwsLcAead;

impl AeadProvider for AwsLcAead {
    fn seal_in_place(
        &self,
        cipher: Cipher,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16], CryptoError> {
        if !cipher.is_gcm() {
            return RustCryptoAead.seal_in_place(cipher, key, nonce, aad, buf);
        }
        gcm_seal(&gcm_key(cipher, key)?, nonce, aad, buf)
    }

    fn open_in_place(
        &self,
        cipher: Cipher,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CryptoError> {
        if !cipher.is_gcm() {
            return RustCryptoAead.open_in_place(cipher, key, nonce, aad, buf, tag);
        }
        gcm_open(&gcm_key(cipher, key)?, nonce, aad, buf, tag)
    }

    fn prepare(&self, cipher: Cipher, key: &[u8]) -> Result<Box<dyn PreparedAead>, CryptoError> {
        if !cipher.is_gcm() {
            return Ok(Box::new(RustCryptoPrepared::new(cipher, key)?));
        }
        Ok(Box::new(AwsLcPrepared {
            cipher,
            key: gcm_key(cipher, key)?,
        }))
    }
}

/// An AES-GCM key with AWS-LC's key schedule (and GHASH table) already computed.
struct AwsLcPrepared {
    /// Aes128Gcm or Aes256Gcm.
    cipher: Cipher,
    /// The keyed AEAD.
    key: LessSafeKey,
}

impl PreparedAead for AwsLcPrepared {
    fn cipher(&self) -> Cipher {
        self.cipher
    }

    fn seal_in_place(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16], CryptoError> {
        gcm_seal(&self.key, nonce, aad, buf)
    }

    fn open_in_place(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CryptoError> {
        gcm_open(&self.key, nonce, aad, buf, tag)
    }
}

/// SHA-512 from AWS-LC.
pub(super) struct AwsLcHash;

impl HashProvider for AwsLcHash {
    fn sha512(&self, parts: &[&[u8]]) -> [u8; 64] {
        let mut ctx = digest::Context::new(&digest::SHA512);
        for part in parts {
            ctx.update(part);
        }
        let mut out = [0u8; 64];
        out.copy_from_slice(ctx.finish().as_ref());
        out
    }
}
