//! The configuration's named choices: signing and encryption policies, ciphers and signing
//! algorithms, each spelled in the file as a lower-case word.

use std::fmt;

/// A choice spelled in the configuration file as one of a fixed set of words.
pub trait Named: Copy + Sized + 'static {
    /// Every value, in the order the words are listed in error messages.
    const ALL: &'static [Self];

    /// The word that names this value in the configuration file.
    fn name(self) -> &'static str;

    /// The value named by `word` (case-insensitive), if any.
    fn from_name(word: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.name().eq_ignore_ascii_case(word))
    }

    /// The allowed words as prose: `a, b or c`.
    fn expected() -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|v| v.name()).collect();
        match names.split_last() {
            None => String::new(),
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        }
    }
}

/// Whether the server requires signed messages (MS-SMB2 3.3.1.5 RequireMessageSigning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SigningPolicy {
    /// Signing is offered, and used when the client asks for it.
    #[default]
    Enabled,
    /// Every session must sign (guest and anonymous sessions excepted by the protocol).
    Required,
}

impl Named for SigningPolicy {
    const ALL: &'static [Self] = &[Self::Required, Self::Enabled];

    fn name(self) -> &'static str {
        match self {
            Self::Enabled => "enabled",
            Self::Required => "required",
        }
    }
}

/// Whether traffic is encrypted, server-wide or for one share (MS-SMB2 3.3.1.5 EncryptData,
/// RejectUnencryptedAccess; 3.3.1.6 Share.EncryptData).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EncryptPolicy {
    /// No encryption unless the other level asks for it.
    #[default]
    Off,
    /// Encrypt for clients that can; let older clients in unencrypted.
    Desired,
    /// Encrypt, and refuse clients that cannot.
    Required,
}

impl Named for EncryptPolicy {
    const ALL: &'static [Self] = &[Self::Required, Self::Desired, Self::Off];

    fn name(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Desired => "desired",
            Self::Required => "required",
        }
    }
}

/// An encryption cipher the server may choose (MS-SMB2 2.2.3.1.2); the server maps these to its
/// wire identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cipher {
    /// AES-128-CCM.
    Aes128Ccm,
    /// AES-128-GCM.
    Aes128Gcm,
    /// AES-256-CCM.
    Aes256Ccm,
    /// AES-256-GCM.
    Aes256Gcm,
}

impl Cipher {
    /// The default preference order: fastest first, then the stronger keys, then CCM.
    pub const DEFAULT_ORDER: [Self; 4] = [
        Self::Aes128Gcm,
        Self::Aes256Gcm,
        Self::Aes128Ccm,
        Self::Aes256Ccm,
    ];
}

impl Named for Cipher {
    const ALL: &'static [Self] = &[
        Self::Aes128Gcm,
        Self::Aes256Gcm,
        Self::Aes128Ccm,
        Self::Aes256Ccm,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Aes128Ccm => "aes-128-ccm",
            Self::Aes128Gcm => "aes-128-gcm",
            Self::Aes256Ccm => "aes-256-ccm",
            Self::Aes256Gcm => "aes-256-gcm",
        }
    }
}

/// A signing algorithm the server may choose (MS-SMB2 2.2.3.1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlg {
    /// HMAC-SHA256 (SMB 2.0.2 and 2.1).
    HmacSha256,
    /// AES-128-CMAC (SMB 3.x).
    AesCmac,
    /// AES-128-GMAC (SMB 3.1.1 with the signing capabilities context).
    AesGmac,
}

impl SigningAlg {
    /// The default preference order: GMAC, then CMAC, then HMAC-SHA256.
    pub const DEFAULT_ORDER: [Self; 3] = [Self::AesGmac, Self::AesCmac, Self::HmacSha256];
}

impl Named for SigningAlg {
    const ALL: &'static [Self] = &[Self::AesGmac, Self::AesCmac, Self::HmacSha256];

    fn name(self) -> &'static str {
        match self {
            Self::HmacSha256 => "hmac-sha256",
            Self::AesCmac => "aes-cmac",
            Self::AesGmac => "aes-gmac",
        }
    }
}

macro_rules! display_by_name {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    )*};
}

display_by_name!(SigningPolicy, EncryptPolicy, Cipher, SigningAlg);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Cipher::ALL {
            assert_eq!(Cipher::from_name(c.name()), Some(*c));
        }
        for a in SigningAlg::ALL {
            assert_eq!(SigningAlg::from_name(a.name()), Some(*a));
        }
        assert_eq!(
            EncryptPolicy::from_name("DESIRED"),
            Some(EncryptPolicy::Desired)
        );
        assert_eq!(SigningPolicy::from_name("yes"), None);
    }

    #[test]
    fn expected_lists() {
        assert_eq!(EncryptPolicy::expected(), "required, desired or off");
        assert_eq!(SigningPolicy::expected(), "required or enabled");
    }
}
