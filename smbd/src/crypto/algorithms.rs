//! Wire identifiers of the signing algorithms and ciphers.

/// Signing algorithm ids (MS-SMB2 2.2.3.1.7): 0 HMAC-SHA256, 1 AES-CMAC, 2 AES-GMAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    /// HMAC-SHA256 truncated to 16 bytes (dialects 2.0.2 and 2.1).
    HmacSha256,
    /// AES-128-CMAC (dialects 3.0, 3.0.2, and 3.1.1 by default).
    AesCmac,
    /// AES-128-GMAC (3.1.1 with SMB2_SIGNING_CAPABILITIES).
    AesGmac,
}

impl SigningAlgorithm {
    /// Maps a SigningAlgorithms wire value; `None` for an unknown id.
    pub fn from_wire(id: u16) -> Option<Self> {
        match id {
            0 => Some(Self::HmacSha256),
            1 => Some(Self::AesCmac),
            2 => Some(Self::AesGmac),
            _ => None,
        }
    }

    /// The SigningAlgorithms wire value.
    pub fn to_wire(self) -> u16 {
        match self {
            Self::HmacSha256 => 0,
            Self::AesCmac => 1,
            Self::AesGmac => 2,
        }
    }
}

/// Cipher ids (MS-SMB2 2.2.3.1.2): 1 AES-128-CCM, 2 AES-128-GCM, 3 AES-256-CCM, 4 AES-256-GCM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cipher {
    /// AES-128-CCM (the only cipher of dialects 3.0 and 3.0.2).
    Aes128Ccm,
    /// AES-128-GCM.
    Aes128Gcm,
    /// AES-256-CCM.
    Aes256Ccm,
    /// AES-256-GCM.
    Aes256Gcm,
}

impl Cipher {
    /// Maps a Ciphers wire value; `None` for an unknown id (0 means "no common cipher").
    pub fn from_wire(id: u16) -> Option<Self> {
        match id {
            1 => Some(Self::Aes128Ccm),
            2 => Some(Self::Aes128Gcm),
            3 => Some(Self::Aes256Ccm),
            4 => Some(Self::Aes256Gcm),
            _ => None,
        }
    }

    /// The Ciphers wire value.
    pub fn to_wire(self) -> u16 {
        match self {
            Self::Aes128Ccm => 1,
            Self::Aes128Gcm => 2,
            Self::Aes256Ccm => 3,
            Self::Aes256Gcm => 4,
        }
    }

    /// Key length in bytes: 16 for AES-128, 32 for AES-256.
    pub fn key_len(self) -> usize {
        match self {
            Self::Aes128Ccm | Self::Aes128Gcm => 16,
            Self::Aes256Ccm | Self::Aes256Gcm => 32,
        }
    }

    /// Nonce length in bytes (2.2.41): 11 for CCM, 12 for GCM.
    pub fn nonce_len(self) -> usize {
        match self {
            Self::Aes128Ccm | Self::Aes256Ccm => 11,
            Self::Aes128Gcm | Self::Aes256Gcm => 12,
        }
    }

    /// Whether this is a GCM cipher (as opposed to CCM).
    pub fn is_gcm(self) -> bool {
        matches!(self, Self::Aes128Gcm | Self::Aes256Gcm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_ids_round_trip() {
        for id in 0..3 {
            let alg = SigningAlgorithm::from_wire(id).unwrap();
            assert_eq!(alg.to_wire(), id);
        }
        assert_eq!(SigningAlgorithm::from_wire(3), None);
    }

    #[test]
    fn cipher_ids_round_trip() {
        for id in 1..5 {
            let c = Cipher::from_wire(id).unwrap();
            assert_eq!(c.to_wire(), id);
        }
        assert_eq!(Cipher::from_wire(0), None);
        assert_eq!(Cipher::from_wire(5), None);
        assert_eq!(Cipher::Aes256Gcm.key_len(), 32);
        assert_eq!(Cipher::Aes128Ccm.key_len(), 16);
        assert_eq!(Cipher::Aes256Ccm.nonce_len(), 11);
        assert_eq!(Cipher::Aes128Gcm.nonce_len(), 12);
    }
}
