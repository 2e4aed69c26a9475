//! SP800-108 key derivation and the SMB 3.x session keys (MS-SMB2 3.1.4.2, 3.3.5.5.3).

use super::{Cipher, CryptoProvider};

/// Dialect 3.0 (the first that derives keys).
const DIALECT_300: u16 = 0x0300;
/// Dialect 3.1.1 (labels change and the preauth hash becomes the context).
const DIALECT_311: u16 = 0x0311;

// Labels and contexts of MS-SMB2 3.3.5.5.3, each with its terminating NUL (the length of
// the "string" the spec passes includes it).
const LABEL_30_SIGN: &[u8] = b"SMB2AESCMAC\0";
const CONTEXT_30_SIGN: &[u8] = b"SmbSign\0";
const LABEL_30_APP: &[u8] = b"SMB2APP\0";
const CONTEXT_30_APP: &[u8] = b"SmbRpc\0";
const LABEL_30_CIPHER: &[u8] = b"SMB2AESCCM\0";
/// Context of the server's EncryptionKey (server to client) in 3.0/3.0.2.
const CONTEXT_30_SERVER_OUT: &[u8] = b"ServerOut\0";
/// Context of the server's DecryptionKey (client to server) in 3.0/3.0.2; note the space.
const CONTEXT_30_SERVER_IN: &[u8] = b"ServerIn \0";
const LABEL_311_SIGN: &[u8] = b"SMBSigningKey\0";
const LABEL_311_APP: &[u8] = b"SMBAppKey\0";
/// Label of the server's EncryptionKey (server to client) in 3.1.1.
const LABEL_311_S2C: &[u8] = b"SMBS2CCipherKey\0";
/// Label of the server's DecryptionKey (client to server) in 3.1.1.
const LABEL_311_C2S: &[u8] = b"SMBC2SCipherKey\0";

/// SP800-108 counter-mode KDF with HMAC-SHA256 (r = 32, L = `out_bits`), as SMB uses it:
/// each block is HMAC(key, i || label || 0x00 || context || L), i and L big-endian u32.
/// `label` and `context` are passed as SMB defines them (SMB's labels end in their own NUL,
/// before the separator byte). Returns `ceil(out_bits / 8)` bytes.
pub fn kdf(p: &CryptoProvider, key: &[u8], label: &[u8], context: &[u8], out_bits: u32) -> Vec<u8> {
    let out_len = (out_bits as usize).div_ceil(8);
    let l = out_bits.to_be_bytes();
    let mut out = Vec::with_capacity(out_len);
    let mut counter: u32 = 1;
    while out.len() < out_len {
        let block = p
            .mac
            .hmac_sha256(key, &[&counter.to_be_bytes(), label, &[0], context, &l]);
        let take = block.len().min(out_len - out.len());
        out.extend_from_slice(&block[..take]);
        counter = counter.wrapping_add(1);
    }
    out
}

/// The keys of one session (MS-SMB2 3.3.1.8 / 3.3.5.5.3), from the server's point of view.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKeys {
    /// Session.SigningKey (for 2.x: the session key itself, 16 bytes).
    pub signing: Vec<u8>,
    /// Session.EncryptionKey: encrypts server-to-client messages ("ServerOut",
    /// "SMBS2CCipherKey"). Empty for 2.x.
    pub encryption: Vec<u8>,
    /// Session.DecryptionKey: decrypts client-to-server messages ("ServerIn ",
    /// "SMBC2SCipherKey"). Empty for 2.x.
    pub decryption: Vec<u8>,
    /// Session.ApplicationKey, handed to RPC (for 2.x: the session key itself).
    pub application: Vec<u8>,
}

impl core::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Keys are secrets: show only their lengths.
        f.debug_struct("SessionKeys")
            .field("signing_len", &self.signing.len())
            .field("encryption_len", &self.encryption.len())
            .field("decryption_len", &self.decryption.len())
            .field("application_len", &self.application.len())
            .finish()
    }
}

/// Derives a session's keys (MS-SMB2 3.3.5.5.3; the client's mirror is 3.2.5.3.1).
///
/// `dialect` is the wire value (0x0202, 0x0210, 0x0300, 0x0302, 0x0311). `session_key` is the
/// full GSS session key. `preauth` is the session's 3.1.1 preauth integrity hash (ignored
/// before 3.1.1; a 3.1.1 caller must pass it, None is treated as 64 zero bytes). `cipher` is
/// Connection.CipherId (None: no encryption negotiated, 128-bit lengths are used).
///
/// * Session.SessionKey is the first 16 bytes of `session_key`, zero-padded if shorter.
/// * Before 3.0: signing = application = Session.SessionKey, no encryption keys.
/// * Signing and application keys: KDF over Session.SessionKey with L = 128 (the signing
///   algorithms are all AES-128 or HMAC based, whatever the cipher).
/// * Encryption and decryption keys: for AES-256 ciphers, KDF over the full session key
///   (Session.FullSessionKey) with L = 256, giving 32 bytes; otherwise KDF over
///   Session.SessionKey with L = 128.
pub fn derive_session_keys(
    p: &CryptoProvider,
    dialect: u16,
    session_key: &[u8],
    preauth: Option<&[u8; 64]>,
    cipher: Option<Cipher>,
) -> SessionKeys {
    let mut key16 = [0u8; 16];
    let n = session_key.len().min(16);
    key16[..n].copy_from_slice(&session_key[..n]);

    if dialect < DIALECT_300 {
        return SessionKeys {
            signing: key16.to_vec(),
            encryption: Vec::new(),
            decryption: Vec::new(),
            application: key16.to_vec(),
        };
    }

    let wide = matches!(cipher, Some(c) if c.key_len() == 32);
    let (cipher_key, cipher_bits): (&[u8], u32) = if wide {
        (session_key, 256)
    } else {
        (&key16, 128)
    };

    if dialect >= DIALECT_311 {
        let zero = [0u8; 64];
        let context: &[u8] = preauth.unwrap_or(&zero);
        SessionKeys {
            signing: kdf(p, &key16, LABEL_311_SIGN, context, 128),
            encryption: kdf(p, cipher_key, LABEL_311_S2C, context, cipher_bits),
            decryption: kdf(p, cipher_key, LABEL_311_C2S, context, cipher_bits),
            application: kdf(p, &key16, LABEL_311_APP, context, 128),
        }
    } else {
        SessionKeys {
            signing: kdf(p, &key16, LABEL_30_SIGN, CONTEXT_30_SIGN, 128),
            encryption: kdf(
                p,
                cipher_key,
                LABEL_30_CIPHER,
                CONTEXT_30_SERVER_OUT,
                cipher_bits,
            ),
            decryption: kdf(
                p,
                cipher_key,
                LABEL_30_CIPHER,
                CONTEXT_30_SERVER_IN,
                cipher_bits,
            ),
            application: kdf(p, &key16, LABEL_30_APP, CONTEXT_30_APP, 128),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_util::each_provider_test;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    /// Independent construction of SP800-108 section 5.1 straight on the `hmac` crate.
    fn reference_kdf(key: &[u8], label: &[u8], context: &[u8], bits: u32) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 1u32..=bits.div_ceil(256) {
            let mut input = Vec::new();
            input.extend_from_slice(&i.to_be_bytes());
            input.extend_from_slice(label);
            input.push(0);
            input.extend_from_slice(context);
            input.extend_from_slice(&bits.to_be_bytes());
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
            mac.update(&input);
            out.extend_from_slice(&mac.finalize().into_bytes());
        }
        out.truncate((bits / 8) as usize);
        out
    }

    fn kdf_matches_reference_construction(p: &CryptoProvider) {
        let key: Vec<u8> = (0..32).collect();
        for bits in [128, 256, 384, 512] {
            assert_eq!(
                kdf(p, &key, b"Label\0", b"Ctx", bits),
                reference_kdf(&key, b"Label\0", b"Ctx", bits),
                "{bits} bits"
            );
        }
    }

    fn dialect_2x_uses_padded_session_key(p: &CryptoProvider) {
        let keys = derive_session_keys(p, 0x0210, &[1, 2, 3], None, None);
        let mut want = vec![0u8; 16];
        want[..3].copy_from_slice(&[1, 2, 3]);
        assert_eq!(keys.signing, want);
        assert_eq!(keys.application, want);
        assert!(keys.encryption.is_empty() && keys.decryption.is_empty());
        let long: Vec<u8> = (0..32).collect();
        let keys = derive_session_keys(p, 0x0202, &long, None, None);
        assert_eq!(keys.signing, long[..16].to_vec());
    }

    fn aes256_ciphers_get_32_byte_keys_from_the_full_session_key(p: &CryptoProvider) {
        let full: Vec<u8> = (0..32).collect();
        let preauth = [7u8; 64];
        for cipher in [Cipher::Aes256Ccm, Cipher::Aes256Gcm] {
            let keys = derive_session_keys(p, 0x0311, &full, Some(&preauth), Some(cipher));
            assert_eq!(keys.encryption.len(), 32);
            assert_eq!(keys.decryption.len(), 32);
            assert_eq!(keys.signing.len(), 16);
            assert_eq!(keys.application.len(), 16);
            assert_eq!(
                keys.encryption,
                reference_kdf(&full, b"SMBS2CCipherKey\0", &preauth, 256)
            );
            assert_eq!(
                keys.decryption,
                reference_kdf(&full, b"SMBC2SCipherKey\0", &preauth, 256)
            );
            // Signing stays a 128-bit derivation over the 16-byte Session.SessionKey.
            assert_eq!(
                keys.signing,
                reference_kdf(&full[..16], b"SMBSigningKey\0", &preauth, 128)
            );
        }
        // A 128-bit cipher only uses the first 16 bytes of a longer key.
        let keys = derive_session_keys(p, 0x0311, &full, Some(&preauth), Some(Cipher::Aes128Gcm));
        assert_eq!(
            keys.encryption,
            reference_kdf(&full[..16], b"SMBS2CCipherKey\0", &preauth, 128)
        );
    }

    fn debug_hides_keys(p: &CryptoProvider) {
        let keys = derive_session_keys(p, 0x0300, &[0xAB; 16], None, None);
        let text = format!("{keys:?}");
        assert!(text.contains("signing_len: 16") && !text.contains('['));
    }

    each_provider_test!(
        kdf_matches_reference_construction,
        dialect_2x_uses_padded_session_key,
        aes256_ciphers_get_32_byte_keys_from_the_full_session_key,
        debug_hides_keys
    );
}
