//! The Kerberos cryptosystem (RFC 3961): the AES enctypes of RFC 3962 and RFC 8009 and, only
//! when the configuration allows it, rc4-hmac of RFC 4757.
//!
//! A [`Key`] is a protocol key of one enctype. `encrypt`/`decrypt` implement the enctype's
//! authenticated encryption with a key usage number; `checksum`/`verify_checksum` implement
//! the keyed checksum type that goes with the enctype.

pub mod aes_cts;
pub mod nfold;
pub mod rc4_hmac;
pub mod sha1_aes;
pub mod sha2_aes;
#[cfg(test)]
pub(crate) mod tests;

/// Why a cryptographic operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CryptoError {
    /// The enctype is not implemented (or RC4 was not allowed).
    UnsupportedEnctype(i32),
    /// The checksum type is not implemented or does not fit the key.
    UnsupportedChecksum(i32),
    /// The key has the wrong length for its enctype.
    BadKeyLength,
    /// The ciphertext is shorter than a confounder and an integrity tag.
    CiphertextTooShort,
    /// The integrity tag does not match: wrong key or modified ciphertext.
    IntegrityFailure,
    /// The string-to-key parameters are invalid (e.g. zero iterations).
    BadS2kParams,
}

/// An encryption type number (RFC 3961 section 8, IANA registry); unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Etype(pub i32);

impl Etype {
    /// aes128-cts-hmac-sha1-96 (RFC 3962).
    pub const AES128_SHA1: Self = Self(17);
    /// aes256-cts-hmac-sha1-96 (RFC 3962).
    pub const AES256_SHA1: Self = Self(18);
    /// aes128-cts-hmac-sha256-128 (RFC 8009).
    pub const AES128_SHA256: Self = Self(19);
    /// aes256-cts-hmac-sha384-192 (RFC 8009).
    pub const AES256_SHA384: Self = Self(20);
    /// rc4-hmac (RFC 4757).
    pub const RC4_HMAC: Self = Self(23);

    /// The key length in bytes, for the enctypes implemented here.
    pub fn key_len(self) -> Option<usize> {
        match self {
            Self::AES128_SHA1 | Self::AES128_SHA256 | Self::RC4_HMAC => Some(16),
            Self::AES256_SHA1 | Self::AES256_SHA384 => Some(32),
            _ => None,
        }
    }

    /// The checksum type that goes with this enctype (RFC 3961 section 6, RFC 4757, RFC 8009).
    pub fn checksum_type(self) -> Option<i32> {
        match self {
            Self::AES128_SHA1 => Some(CKSUM_HMAC_SHA1_96_AES128),
            Self::AES256_SHA1 => Some(CKSUM_HMAC_SHA1_96_AES256),
            Self::AES128_SHA256 => Some(CKSUM_HMAC_SHA256_128_AES128),
            Self::AES256_SHA384 => Some(CKSUM_HMAC_SHA384_192_AES256),
            Self::RC4_HMAC => Some(CKSUM_HMAC_MD5),
            _ => None,
        }
    }
}

/// hmac-sha1-96-aes128 (RFC 3962).
pub const CKSUM_HMAC_SHA1_96_AES128: i32 = 15;
/// hmac-sha1-96-aes256 (RFC 3962).
pub const CKSUM_HMAC_SHA1_96_AES256: i32 = 16;
/// hmac-sha256-128-aes128 (RFC 8009).
pub const CKSUM_HMAC_SHA256_128_AES128: i32 = 19;
/// hmac-sha384-192-aes256 (RFC 8009).
pub const CKSUM_HMAC_SHA384_192_AES256: i32 = 20;
/// HMAC-MD5 keyed checksum of rc4-hmac (RFC 4757 section 4).
pub const CKSUM_HMAC_MD5: i32 = -138;

/// A protocol key of one enctype.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    etype: Etype,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("etype", &self.etype)
            .finish_non_exhaustive()
    }
}

impl Key {
    /// A key from its raw bytes; the length must fit the enctype.
    pub fn new(etype: Etype, bytes: &[u8]) -> Result<Self, CryptoError> {
        let len = etype
            .key_len()
            .ok_or(CryptoError::UnsupportedEnctype(etype.0))?;
        if bytes.len() != len {
            return Err(CryptoError::BadKeyLength);
        }
        Ok(Self {
            etype,
            bytes: bytes.to_vec(),
        })
    }

    /// The key's enctype.
    pub fn etype(&self) -> Etype {
        self.etype
    }

    /// The raw key bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// string-to-key: the key for `password` and `salt`. `iterations` overrides the enctype's
    /// default PBKDF2 count (4096 for RFC 3962, 32768 for RFC 8009); RC4 ignores the salt and
    /// uses the NT hash.
    pub fn from_password(
        etype: Etype,
        password: &str,
        salt: &[u8],
        iterations: Option<u32>,
    ) -> Result<Self, CryptoError> {
        if iterations == Some(0) {
            return Err(CryptoError::BadS2kParams);
        }
        let bytes = match etype {
            Etype::AES128_SHA1 | Etype::AES256_SHA1 => sha1_aes::string_to_key(
                password.as_bytes(),
                salt,
                iterations.unwrap_or(sha1_aes::DEFAULT_ITERATIONS),
                etype.key_len().unwrap_or(16),
            )?,
            Etype::AES128_SHA256 | Etype::AES256_SHA384 => sha2_aes::string_to_key(
                etype,
                password.as_bytes(),
                salt,
                iterations.unwrap_or(sha2_aes::DEFAULT_ITERATIONS),
            )?,
            Etype::RC4_HMAC => crate::nt_hash(password).to_vec(),
            other => return Err(CryptoError::UnsupportedEnctype(other.0)),
        };
        Self::new(etype, &bytes)
    }

    /// Encrypts `plaintext` for `usage` with a random confounder.
    pub fn encrypt(&self, usage: u32, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut confounder = [0u8; 16];
        getrandom::getrandom(&mut confounder).map_err(|_| CryptoError::BadS2kParams)?;
        self.encrypt_with_confounder(usage, plaintext, &confounder)
    }

    /// Encrypts `plaintext` for `usage` with the given confounder (16 bytes for AES, the first
    /// 8 are used for RC4); for known-answer tests and callers with their own randomness.
    pub fn encrypt_with_confounder(
        &self,
        usage: u32,
        plaintext: &[u8],
        confounder: &[u8; 16],
    ) -> Result<Vec<u8>, CryptoError> {
        match self.etype {
            Etype::AES128_SHA1 | Etype::AES256_SHA1 => {
                sha1_aes::encrypt(&self.bytes, usage, confounder, plaintext)
            }
            Etype::AES128_SHA256 | Etype::AES256_SHA384 => {
                sha2_aes::encrypt(self.etype, &self.bytes, usage, confounder, plaintext)
            }
            Etype::RC4_HMAC => {
                let mut conf8 = [0u8; 8];
                conf8.copy_from_slice(&confounder[..8]);
                Ok(rc4_hmac::encrypt(&self.bytes, usage, &conf8, plaintext))
            }
            other => Err(CryptoError::UnsupportedEnctype(other.0)),
        }
    }

    /// Decrypts and checks the integrity of `ciphertext` for `usage`; returns the plaintext
    /// without the confounder.
    pub fn decrypt(&self, usage: u32, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self.etype {
            Etype::AES128_SHA1 | Etype::AES256_SHA1 => {
                sha1_aes::decrypt(&self.bytes, usage, ciphertext)
            }
            Etype::AES128_SHA256 | Etype::AES256_SHA384 => {
                sha2_aes::decrypt(self.etype, &self.bytes, usage, ciphertext)
            }
            Etype::RC4_HMAC => rc4_hmac::decrypt(&self.bytes, usage, ciphertext),
            other => Err(CryptoError::UnsupportedEnctype(other.0)),
        }
    }

    /// The keyed checksum of `data` for `usage`, of this enctype's checksum type.
    pub fn checksum(&self, usage: u32, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self.etype {
            Etype::AES128_SHA1 | Etype::AES256_SHA1 => sha1_aes::checksum(&self.bytes, usage, data),
            Etype::AES128_SHA256 | Etype::AES256_SHA384 => {
                sha2_aes::checksum(self.etype, &self.bytes, usage, data)
            }
            Etype::RC4_HMAC => Ok(rc4_hmac::checksum(&self.bytes, usage, data).to_vec()),
            other => Err(CryptoError::UnsupportedEnctype(other.0)),
        }
    }

    /// Checks a checksum of type `cksumtype` over `data` in constant time; the type must be the
    /// one that goes with this key's enctype.
    pub fn verify_checksum(
        &self,
        cksumtype: i32,
        usage: u32,
        data: &[u8],
        expected: &[u8],
    ) -> Result<(), CryptoError> {
        if self.etype.checksum_type() != Some(cksumtype) {
            return Err(CryptoError::UnsupportedChecksum(cksumtype));
        }
        let mine = self.checksum(usage, data)?;
        if ct_eq(&mine, expected) {
            Ok(())
        } else {
            Err(CryptoError::IntegrityFailure)
        }
    }
}

/// Constant-time equality of two byte strings (lengths are not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// The 5-byte derivation constant of RFC 3961 section 5.3: the usage (big-endian) and a byte.
pub fn usage_constant(usage: u32, which: u8) -> [u8; 5] {
    let u = usage.to_be_bytes();
    [u[0], u[1], u[2], u[3], which]
}
