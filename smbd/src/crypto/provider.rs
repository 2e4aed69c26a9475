//! The provider traits: the swappable cryptographic primitives.
//!
//! Every method takes slices (a message may be given as several pieces) so that no
//! implementation forces the caller to allocate or to join buffers.

use super::{Cipher, CryptoError};

/// Message authentication codes used for SMB2 signing and key derivation.
pub trait MacProvider: Send + Sync {
    /// HMAC-SHA256 (RFC 2104) of the concatenation of `parts` under `key` (any length).
    fn hmac_sha256(&self, key: &[u8], parts: &[&[u8]]) -> [u8; 32];
    /// AES-128-CMAC (RFC 4493) of the concatenation of `parts`; `key` must be 16 bytes.
    fn aes_cmac(&self, key: &[u8], parts: &[&[u8]]) -> Result<[u8; 16], CryptoError>;
    /// AES-128-GMAC (RFC 4543: GCM with empty plaintext, `parts` as AAD) with a 12-byte
    /// nonce; `key` must be 16 bytes.
    fn aes_gmac(
        &self,
        key: &[u8],
        nonce: &[u8; 12],
        parts: &[&[u8]],
    ) -> Result<[u8; 16], CryptoError>;
}

/// Authenticated encryption for the four SMB ciphers, in place with a detached 16-byte tag.
pub trait AeadProvider: Send + Sync {
    /// Encrypts `buf` in place under `key` (`cipher.key_len()` bytes) and `nonce`
    /// (`cipher.nonce_len()` bytes), authenticating `aad` as well; returns the tag.
    fn seal_in_place(
        &self,
        cipher: Cipher,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16], CryptoError>;
    /// Checks `tag` over `aad` and the ciphertext in `buf`, and decrypts `buf` in place.
    /// On [`CryptoError::Auth`] the content of `buf` is unspecified and must not be used.
    fn open_in_place(
        &self,
        cipher: Cipher,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CryptoError>;
    /// Runs the key schedule of `key` for `cipher` once and returns an object that seals and
    /// opens under it, for a caller that keeps it per session (the per-call methods above
    /// redo the key schedule every time). Errors: [`CryptoError::BadKeyLength`].
    fn prepare(&self, cipher: Cipher, key: &[u8]) -> Result<Box<dyn PreparedAead>, CryptoError>;
}

/// An AEAD bound to one cipher and key (see [`AeadProvider::prepare`]).
pub trait PreparedAead: Send + Sync {
    /// The cipher this key was prepared for.
    fn cipher(&self) -> Cipher;
    /// Like [`AeadProvider::seal_in_place`] with the prepared cipher and key.
    fn seal_in_place(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16], CryptoError>;
    /// Like [`AeadProvider::open_in_place`] with the prepared cipher and key.
    fn open_in_place(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CryptoError>;
}

/// Hash functions.
pub trait HashProvider: Send + Sync {
    /// SHA-512 of the concatenation of `parts`.
    fn sha512(&self, parts: &[&[u8]]) -> [u8; 64];
}

/// A source of random bytes (nonces, challenges, GUIDs).
pub trait RandomSource: Send + Sync {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError>;
}

/// A complete set of primitives, in the style of rustls's `CryptoProvider`.
pub struct CryptoProvider {
    /// HMAC-SHA256, AES-128-CMAC and AES-128-GMAC.
    pub mac: &'static dyn MacProvider,
    /// AES-CCM and AES-GCM, 128- and 256-bit.
    pub aead: &'static dyn AeadProvider,
    /// SHA-512.
    pub hash: &'static dyn HashProvider,
    /// Random bytes.
    pub random: &'static dyn RandomSource,
}

impl core::fmt::Debug for CryptoProvider {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CryptoProvider").finish_non_exhaustive()
    }
}
