//! The SMB2 TRANSFORM_HEADER and message encryption (MS-SMB2 2.2.41, 3.1.4.3, 3.3.5.2.1.1).
//!
//! Layout (52 bytes, little-endian): ProtocolId 0xFD 'S' 'M' 'B' (0..4), Signature (4..20),
//! Nonce (20..36), OriginalMessageSize (36..40), Reserved (40..42),
//! Flags/EncryptionAlgorithm (42..44), SessionId (44..52). The AEAD's additional data is the
//! header from the Nonce to its end (bytes 20..52); its tag is the Signature.

use super::{Cipher, CryptoError, CryptoProvider, PreparedAead, RandomSource};

/// Length of the transform header.
pub const TRANSFORM_HEADER_LEN: usize = 52;
/// ProtocolId of a transform header.
const PROTOCOL_ID: [u8; 4] = [0xFD, b'S', b'M', b'B'];
/// Flags value "Encrypted" (3.1.1), equal to EncryptionAlgorithm SMB2_ENCRYPTION_AES128_CCM
/// (3.0/3.0.2).
const FLAG_ENCRYPTED: u16 = 0x0001;
/// Start of the additional authenticated data (the Nonce field).
const AAD_OFFSET: usize = 20;

/// The 52-byte SMB2 TRANSFORM_HEADER (2.2.41).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransformHeader {
    /// The AEAD tag over the AAD and the ciphertext.
    pub signature: [u8; 16],
    /// The nonce; only the first `Cipher::nonce_len()` bytes are used, the rest are zero.
    pub nonce: [u8; 16],
    /// Length of the plaintext (the SMB2 message or compound chain).
    pub original_size: u32,
    /// Flags (3.1.1) / EncryptionAlgorithm (3.0.x): 1 means encrypted.
    pub flags: u16,
    /// The session whose keys protect the message.
    pub session_id: u64,
}

impl TransformHeader {
    /// Parses the first 52 bytes of `msg`. Checks the ProtocolId and that Flags is 0x0001;
    /// the Reserved field is ignored.
    pub fn parse(msg: &[u8]) -> Result<Self, CryptoError> {
        let h: &[u8; TRANSFORM_HEADER_LEN] = msg
            .get(..TRANSFORM_HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(CryptoError::Short)?;
        if h[..4] != PROTOCOL_ID {
            return Err(CryptoError::BadProtocolId);
        }
        let flags = u16::from_le_bytes([h[42], h[43]]);
        if flags != FLAG_ENCRYPTED {
            return Err(CryptoError::BadFlags);
        }
        let mut signature = [0u8; 16];
        signature.copy_from_slice(&h[4..20]);
        let mut nonce = [0u8; 16];
        nonce.copy_from_slice(&h[20..36]);
        let mut size = [0u8; 4];
        size.copy_from_slice(&h[36..40]);
        let mut session = [0u8; 8];
        session.copy_from_slice(&h[44..52]);
        Ok(Self {
            signature,
            nonce,
            original_size: u32::from_le_bytes(size),
            flags,
            session_id: u64::from_le_bytes(session),
        })
    }

    /// Writes the 52 header bytes into `out`.
    pub fn write(&self, out: &mut [u8; TRANSFORM_HEADER_LEN]) {
        out[..4].copy_from_slice(&PROTOCOL_ID);
        out[4..20].copy_from_slice(&self.signature);
        out[20..36].copy_from_slice(&self.nonce);
        out[36..40].copy_from_slice(&self.original_size.to_le_bytes());
        out[40..42].fill(0);
        out[42..44].copy_from_slice(&self.flags.to_le_bytes());
        out[44..52].copy_from_slice(&self.session_id.to_le_bytes());
    }

    /// Appends the 52 header bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut bytes = [0u8; TRANSFORM_HEADER_LEN];
        self.write(&mut bytes);
        out.extend_from_slice(&bytes);
    }
}

/// Splits a buffer into its 52-byte header and the body after it.
fn split_header(
    buf: &mut [u8],
) -> Result<(&mut [u8; TRANSFORM_HEADER_LEN], &mut [u8]), CryptoError> {
    if buf.len() < TRANSFORM_HEADER_LEN {
        return Err(CryptoError::Short);
    }
    let (head, body) = buf.split_at_mut(TRANSFORM_HEADER_LEN);
    let head: &mut [u8; TRANSFORM_HEADER_LEN] = head.try_into().map_err(|_| CryptoError::Short)?;
    Ok((head, body))
}

/// Encrypts in place: `buf[52..]` holds the plaintext (one SMB2 message or a compound chain)
/// and `buf[..52]` is room for the transform header, which is filled in (fresh random nonce,
/// OriginalMessageSize, Flags = 1, `session_id`, Signature = tag). This lets a sender that
/// reserves 52 bytes of headroom encrypt without copying.
pub fn encrypt_in_place(
    p: &CryptoProvider,
    cipher: Cipher,
    key: &[u8],
    session_id: u64,
    buf: &mut [u8],
) -> Result<(), CryptoError> {
    seal_transform(p.random, cipher, session_id, buf, |nonce, aad, body| {
        p.aead.seal_in_place(cipher, key, nonce, aad, body)
    })
}

/// [`encrypt_in_place`] under a key prepared once with [`AeadProvider::prepare`]
/// (a session can keep it and skip the key schedule per message); `random` draws the nonce.
///
/// [`AeadProvider::prepare`]: super::AeadProvider::prepare
pub fn encrypt_in_place_prepared(
    random: &dyn RandomSource,
    aead: &dyn PreparedAead,
    session_id: u64,
    buf: &mut [u8],
) -> Result<(), CryptoError> {
    seal_transform(
        random,
        aead.cipher(),
        session_id,
        buf,
        |nonce, aad, body| aead.seal_in_place(nonce, aad, body),
    )
}

/// Fills in the transform header in `buf[..52]` and seals `buf[52..]` with `seal`, which
/// gets the nonce, the AAD and the body.
fn seal_transform(
    random: &dyn RandomSource,
    cipher: Cipher,
    session_id: u64,
    buf: &mut [u8],
    seal: impl FnOnce(&[u8], &[u8], &mut [u8]) -> Result<[u8; 16], CryptoError>,
) -> Result<(), CryptoError> {
    let (head, body) = split_header(buf)?;
    let original_size = u32::try_from(body.len()).map_err(|_| CryptoError::TooLarge)?;
    let nonce_len = cipher.nonce_len();
    let mut nonce = [0u8; 16];
    random.fill(&mut nonce[..nonce_len])?;
    let header = TransformHeader {
        signature: [0; 16],
        nonce,
        original_size,
        flags: FLAG_ENCRYPTED,
        session_id,
    };
    header.write(head);
    let tag = seal(&nonce[..nonce_len], &head[AAD_OFFSET..], body)?;
    head[4..20].copy_from_slice(&tag);
    Ok(())
}

/// Encrypts `plain` (one SMB2 message or a whole compound chain) for `session_id` with a
/// fresh random nonce; returns transform header + ciphertext. The AAD is the transform
/// header from the Nonce (offset 20) to its end (3.1.4.3).
pub fn encrypt_message(
    p: &CryptoProvider,
    cipher: Cipher,
    key: &[u8],
    session_id: u64,
    plain: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut out = Vec::with_capacity(TRANSFORM_HEADER_LEN + plain.len());
    out.resize(TRANSFORM_HEADER_LEN, 0);
    out.extend_from_slice(plain);
    encrypt_in_place(p, cipher, key, session_id, &mut out)?;
    Ok(out)
}

/// Parses the header and checks OriginalMessageSize against the ciphertext length.
fn checked_header(msg: &[u8]) -> Result<TransformHeader, CryptoError> {
    let header = TransformHeader::parse(msg)?;
    let body_len = msg.len() - TRANSFORM_HEADER_LEN;
    if usize::try_from(header.original_size).ok() != Some(body_len) {
        return Err(CryptoError::SizeMismatch);
    }
    Ok(header)
}

/// Decrypts in place: `buf` is a transform message (header + ciphertext); on success
/// `buf[52..]` holds the plaintext and the parsed header is returned (the caller checks its
/// `session_id`). The AAD is taken from the received header bytes.
pub fn decrypt_in_place(
    p: &CryptoProvider,
    cipher: Cipher,
    key: &[u8],
    buf: &mut [u8],
) -> Result<TransformHeader, CryptoError> {
    open_transform(cipher, buf, |nonce, aad, body, tag| {
        p.aead.open_in_place(cipher, key, nonce, aad, body, tag)
    })
}

/// [`decrypt_in_place`] under a key prepared once with [`AeadProvider::prepare`].
///
/// [`AeadProvider::prepare`]: super::AeadProvider::prepare
pub fn decrypt_in_place_prepared(
    aead: &dyn PreparedAead,
    buf: &mut [u8],
) -> Result<TransformHeader, CryptoError> {
    open_transform(aead.cipher(), buf, |nonce, aad, body, tag| {
        aead.open_in_place(nonce, aad, body, tag)
    })
}

/// Checks the transform header of `buf` and opens `buf[52..]` with `open`, which gets the
/// nonce, the AAD, the body and the tag.
fn open_transform(
    cipher: Cipher,
    buf: &mut [u8],
    open: impl FnOnce(&[u8], &[u8], &mut [u8], &[u8; 16]) -> Result<(), CryptoError>,
) -> Result<TransformHeader, CryptoError> {
    let header = checked_header(buf)?;
    let (head, body) = split_header(buf)?;
    let nonce_len = cipher.nonce_len();
    open(
        &header.nonce[..nonce_len],
        &head[AAD_OFFSET..],
        body,
        &header.signature,
    )?;
    Ok(header)
}

/// Decrypts a transform message with `key`; checks OriginalMessageSize against the
/// ciphertext length; returns the plaintext. Authentication failure is [`CryptoError::Auth`].
pub fn decrypt_message(
    p: &CryptoProvider,
    cipher: Cipher,
    key: &[u8],
    msg: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let header = checked_header(msg)?;
    let (head, body) = msg.split_at(TRANSFORM_HEADER_LEN);
    let mut plain = body.to_vec();
    let nonce_len = cipher.nonce_len();
    p.aead.open_in_place(
        cipher,
        key,
        &header.nonce[..nonce_len],
        &head[AAD_OFFSET..],
        &mut plain,
        &header.signature,
    )?;
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_util::each_provider_test;

    const CIPHERS: [Cipher; 4] = [
        Cipher::Aes128Ccm,
        Cipher::Aes128Gcm,
        Cipher::Aes256Ccm,
        Cipher::Aes256Gcm,
    ];

    fn plain() -> Vec<u8> {
        let mut msg = vec![0u8; 150];
        msg[..4].copy_from_slice(b"\xfeSMB");
        for (i, b) in msg[4..].iter_mut().enumerate() {
            *b = (i * 7) as u8;
        }
        msg
    }

    #[test]
    fn header_encode_parse_round_trip() {
        let h = TransformHeader {
            signature: [1; 16],
            nonce: [2; 16],
            original_size: 0x1234,
            flags: 1,
            session_id: 0x1122_3344_5566_7788,
        };
        let mut out = Vec::new();
        h.encode(&mut out);
        assert_eq!(out.len(), TRANSFORM_HEADER_LEN);
        assert_eq!(out[..4], PROTOCOL_ID);
        assert_eq!(TransformHeader::parse(&out), Ok(h));
    }

    #[test]
    fn parse_rejects_bad_input() {
        let mut out = Vec::new();
        TransformHeader {
            signature: [0; 16],
            nonce: [0; 16],
            original_size: 0,
            flags: 1,
            session_id: 1,
        }
        .encode(&mut out);
        for len in 0..TRANSFORM_HEADER_LEN {
            assert_eq!(TransformHeader::parse(&out[..len]), Err(CryptoError::Short));
        }
        let mut bad = out.clone();
        bad[0] = 0xFE;
        assert_eq!(
            TransformHeader::parse(&bad),
            Err(CryptoError::BadProtocolId)
        );
        let mut bad = out.clone();
        bad[42] = 2;
        assert_eq!(TransformHeader::parse(&bad), Err(CryptoError::BadFlags));
    }

    fn encrypt_decrypt_each_cipher_and_detect_tampering(p: &CryptoProvider) {
        let msg = plain();
        for cipher in CIPHERS {
            let key: Vec<u8> = (0..cipher.key_len() as u8).collect();
            let sealed = encrypt_message(p, cipher, &key, 77, &msg).unwrap();
            assert_eq!(sealed.len(), TRANSFORM_HEADER_LEN + msg.len());
            let header = TransformHeader::parse(&sealed).unwrap();
            assert_eq!(header.session_id, 77);
            assert_eq!(header.original_size as usize, msg.len());
            assert!(header.nonce[cipher.nonce_len()..].iter().all(|&b| b == 0));
            assert_ne!(&sealed[TRANSFORM_HEADER_LEN..], &msg[..]);

            let opened = decrypt_message(p, cipher, &key, &sealed).unwrap();
            assert_eq!(opened, msg, "{cipher:?}");
            let mut in_place = sealed.clone();
            let h = decrypt_in_place(p, cipher, &key, &mut in_place).unwrap();
            assert_eq!(h, header);
            assert_eq!(&in_place[TRANSFORM_HEADER_LEN..], &msg[..]);

            // Signature, nonce, session id (AAD) and ciphertext are all covered.
            for at in [4usize, 20, 30, 44, 51, 52, 100, sealed.len() - 1] {
                let mut bad = sealed.clone();
                bad[at] ^= 0x80;
                assert_eq!(
                    decrypt_message(p, cipher, &key, &bad),
                    Err(CryptoError::Auth),
                    "{cipher:?} byte {at}"
                );
            }
            // The reserved field is authenticated too.
            let mut bad = sealed.clone();
            bad[40] = 1;
            assert_eq!(
                decrypt_message(p, cipher, &key, &bad),
                Err(CryptoError::Auth)
            );
        }
    }

    fn size_mismatch_truncation_and_wrong_cipher(p: &CryptoProvider) {
        let key = [3u8; 16];
        let sealed = encrypt_message(p, Cipher::Aes128Gcm, &key, 5, &plain()).unwrap();
        for len in [0, 10, 51] {
            assert_eq!(
                decrypt_message(p, Cipher::Aes128Gcm, &key, &sealed[..len]),
                Err(CryptoError::Short)
            );
        }
        for len in [52, 53, sealed.len() - 1] {
            assert_eq!(
                decrypt_message(p, Cipher::Aes128Gcm, &key, &sealed[..len]),
                Err(CryptoError::SizeMismatch)
            );
        }
        let mut longer = sealed.clone();
        longer.push(0);
        assert_eq!(
            decrypt_message(p, Cipher::Aes128Gcm, &key, &longer),
            Err(CryptoError::SizeMismatch)
        );
        assert_eq!(
            decrypt_message(p, Cipher::Aes128Ccm, &key, &sealed),
            Err(CryptoError::Auth)
        );
        assert_eq!(
            encrypt_message(p, Cipher::Aes256Gcm, &key, 5, b"x"),
            Err(CryptoError::BadKeyLength)
        );
        let mut tiny = [0u8; 51];
        assert_eq!(
            encrypt_in_place(p, Cipher::Aes128Gcm, &key, 5, &mut tiny),
            Err(CryptoError::Short)
        );
    }

    fn empty_plaintext_round_trips(p: &CryptoProvider) {
        let key = [1u8; 32];
        let sealed = encrypt_message(p, Cipher::Aes256Ccm, &key, 1, &[]).unwrap();
        assert_eq!(sealed.len(), TRANSFORM_HEADER_LEN);
        let opened = decrypt_message(p, Cipher::Aes256Ccm, &key, &sealed).unwrap();
        assert!(opened.is_empty());
    }

    /// Arbitrary bytes (with and without a valid header prefix) never panic.
    fn arbitrary_input_is_an_error_not_a_panic(p: &CryptoProvider) {
        let mut state: u32 = 0x1234_5678;
        for len in 0..160usize {
            let mut msg: Vec<u8> = (0..len)
                .map(|_| {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (state >> 24) as u8
                })
                .collect();
            if len >= TRANSFORM_HEADER_LEN && len % 2 == 0 {
                msg[..4].copy_from_slice(&PROTOCOL_ID);
                msg[42..44].copy_from_slice(&1u16.to_le_bytes());
                let size = (len - TRANSFORM_HEADER_LEN) as u32;
                msg[36..40].copy_from_slice(&size.to_le_bytes());
            }
            for cipher in CIPHERS {
                let key = vec![0u8; cipher.key_len()];
                assert!(decrypt_message(p, cipher, &key, &msg).is_err());
                let mut copy = msg.clone();
                assert!(decrypt_in_place(p, cipher, &key, &mut copy).is_err());
            }
        }
    }

    /// The prepared path produces messages the per-call path opens, and the reverse.
    fn prepared_and_per_call_transforms_agree(p: &CryptoProvider) {
        let msg = plain();
        for cipher in CIPHERS {
            let key: Vec<u8> = (0..cipher.key_len() as u8).rev().collect();
            let prepared = p.aead.prepare(cipher, &key).unwrap();
            let mut buf = vec![0u8; TRANSFORM_HEADER_LEN];
            buf.extend_from_slice(&msg);
            encrypt_in_place_prepared(p.random, prepared.as_ref(), 9, &mut buf).unwrap();
            assert_eq!(decrypt_message(p, cipher, &key, &buf).unwrap(), msg);
            let sealed = encrypt_message(p, cipher, &key, 9, &msg).unwrap();
            let mut copy = sealed.clone();
            let header = decrypt_in_place_prepared(prepared.as_ref(), &mut copy).unwrap();
            assert_eq!(header.session_id, 9);
            assert_eq!(&copy[TRANSFORM_HEADER_LEN..], &msg[..]);
            copy = sealed;
            copy[60] ^= 1;
            assert_eq!(
                decrypt_in_place_prepared(prepared.as_ref(), &mut copy),
                Err(CryptoError::Auth)
            );
        }
    }

    each_provider_test!(
        prepared_and_per_call_transforms_agree,
        encrypt_decrypt_each_cipher_and_detect_tampering,
        size_mismatch_truncation_and_wrong_cipher,
        empty_plaintext_round_trips,
        arbitrary_input_is_an_error_not_a_panic
    );
}
