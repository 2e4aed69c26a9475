//! Signing, encryption and key derivation of the SMB2/3 channel, behind a provider.
//!
//! The primitives (MACs, AEADs, SHA-512, randomness) are reached only through a
//! [`CryptoProvider`], a struct of `&'static dyn Trait` objects, so they can be swapped:
//! [`DEFAULT_PROVIDER`] takes each primitive from the implementation measured fastest on
//! x86-64 (AWS-LC or RustCrypto; `src/bin/crypto-bench.rs` measures them),
//! [`RUSTCRYPTO_PROVIDER`] and [`AWS_LC_PROVIDER`] are the two whole families, and
//! [`NULL_PROVIDER`] is an insecure stand-in for fuzzing and benchmarks. On top of the provider this module implements the SMB
//! constructions: key derivation (MS-SMB2 3.1.4.2, 3.3.5.5.3), message signing
//! (3.1.4.1, 3.1.5.1), the transform header and encryption (2.2.41, 3.1.4.3, 3.3.5.2.1.1) and
//! the 3.1.1 pre-authentication integrity hash (3.3.5.4, 3.3.5.5).

mod algorithms;
mod aws;
mod default;
mod kdf;
mod null;
mod preauth;
mod provider;
mod rustcrypto;
mod signing;
mod transform;

#[cfg(test)]
mod kat;
#[cfg(test)]
pub(crate) mod test_util;
#[cfg(test)]
mod vectors;

pub use algorithms::{Cipher, SigningAlgorithm};
pub use aws::AWS_LC_PROVIDER;
pub use default::DEFAULT_PROVIDER;
pub use kdf::{SessionKeys, derive_session_keys, kdf};
pub use null::NULL_PROVIDER;
pub use preauth::preauth_update;
pub use provider::{
    AeadProvider, CryptoProvider, HashProvider, MacProvider, PreparedAead, RandomSource,
};
pub use rustcrypto::RUSTCRYPTO_PROVIDER;
pub use signing::{SigningKey, sign_message, take_signature, verify_message};
pub use transform::{
    TRANSFORM_HEADER_LEN, TransformHeader, decrypt_in_place, decrypt_in_place_prepared,
    decrypt_message, encrypt_in_place, encrypt_in_place_prepared, encrypt_message,
};

/// Why a cryptographic operation or the parsing of a transform message failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CryptoError {
    /// The input is shorter than the structure it must hold (e.g. < 52 bytes for a
    /// transform header, < 64 bytes for a message to sign).
    Short,
    /// The transform header's ProtocolId is not 0xFD 'S' 'M' 'B'.
    BadProtocolId,
    /// The transform header's Flags/EncryptionAlgorithm field is not 0x0001 (encrypted).
    BadFlags,
    /// OriginalMessageSize does not equal the length of the ciphertext that follows.
    SizeMismatch,
    /// The AEAD tag (transform Signature) did not authenticate the message.
    Auth,
    /// A key has the wrong length for the algorithm it is used with.
    BadKeyLength,
    /// A nonce has the wrong length for the cipher it is used with.
    BadNonceLength,
    /// The message is too large for the cipher (or for OriginalMessageSize, a u32).
    TooLarge,
    /// The random source failed.
    Random,
}

impl core::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let text = match self {
            Self::Short => "input too short",
            Self::BadProtocolId => "transform header has a wrong ProtocolId",
            Self::BadFlags => "transform header Flags is not 'encrypted'",
            Self::SizeMismatch => "OriginalMessageSize does not match the ciphertext length",
            Self::Auth => "message authentication failed",
            Self::BadKeyLength => "key has the wrong length for the algorithm",
            Self::BadNonceLength => "nonce has the wrong length for the cipher",
            Self::TooLarge => "message too large",
            Self::Random => "random source failed",
        };
        f.write_str(text)
    }
}

impl std::error::Error for CryptoError {}
