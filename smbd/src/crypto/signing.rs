//! SMB2 message signing and verification (MS-SMB2 3.1.4.1, 3.1.5.1).

use subtle::ConstantTimeEq;

use std::sync::Arc;

use super::{Cipher, CryptoError, CryptoProvider, PreparedAead, SigningAlgorithm};

/// Length of the SMB2 header.
const HEADER_LEN: usize = 64;
/// Offset of the 16-byte Signature field in the SMB2 header.
const SIGNATURE_OFFSET: usize = 48;
/// Offset of the Command field.
const COMMAND_OFFSET: usize = 12;
/// Offset of the Flags field.
const FLAGS_OFFSET: usize = 16;
/// Offset of the MessageId field.
const MESSAGE_ID_OFFSET: usize = 24;
/// SMB2_FLAGS_SERVER_TO_REDIR: the message is a response, so its sender is the server.
const FLAG_SERVER_TO_REDIR: u32 = 0x0000_0001;
/// The SMB2 CANCEL command code.
const COMMAND_CANCEL: u16 = 0x000C;

/// Builds the AES-GMAC nonce of MS-SMB2 3.1.4.1 from a 64-byte header: MessageId (8 bytes,
/// as on the wire), then a 32-bit little-endian word whose bit 0 is set when the sender is
/// the server (SMB2_FLAGS_SERVER_TO_REDIR) and bit 1 when the message is a CANCEL request.
fn gmac_nonce(header: &[u8; HEADER_LEN]) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce[..8].copy_from_slice(&header[MESSAGE_ID_OFFSET..MESSAGE_ID_OFFSET + 8]);
    let flags = u32::from_le_bytes([
        header[FLAGS_OFFSET],
        header[FLAGS_OFFSET + 1],
        header[FLAGS_OFFSET + 2],
        header[FLAGS_OFFSET + 3],
    ]);
    let command = u16::from_le_bytes([header[COMMAND_OFFSET], header[COMMAND_OFFSET + 1]]);
    let from_server = flags & FLAG_SERVER_TO_REDIR != 0;
    if from_server {
        nonce[8] |= 0x01;
    }
    if command == COMMAND_CANCEL && !from_server {
        nonce[8] |= 0x02;
    }
    nonce
}

/// Computes the 16-byte signature over `parts` (the message with its Signature zeroed).
fn compute(
    p: &CryptoProvider,
    alg: SigningAlgorithm,
    key: &[u8],
    header: &[u8; HEADER_LEN],
    parts: &[&[u8]],
) -> Result<[u8; 16], CryptoError> {
    match alg {
        SigningAlgorithm::HmacSha256 => {
            let full = p.mac.hmac_sha256(key, parts);
            let mut sig = [0u8; 16];
            sig.copy_from_slice(&full[..16]);
            Ok(sig)
        }
        SigningAlgorithm::AesCmac => p.mac.aes_cmac(key, parts),
        SigningAlgorithm::AesGmac => p.mac.aes_gmac(key, &gmac_nonce(header), parts),
    }
}

/// Copies the first 64 bytes of `msg` (the caller has checked the length).
fn header_of(msg: &[u8]) -> Result<[u8; HEADER_LEN], CryptoError> {
    msg.get(..HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or(CryptoError::Short)
}

/// Signs one SMB2 message in place (the header is at `msg[0..64]` and must already carry
/// SMB2_FLAGS_SIGNED): zeroes the 16-byte Signature field at offset 48, computes the MAC over
/// the whole message and writes it there. In a compound chain, pass each message (with its
/// padding up to NextCommand) separately. The AES-GMAC nonce is derived from the header's
/// MessageId, its SERVER_TO_REDIR flag and whether it is a CANCEL request.
///
/// Errors: [`CryptoError::Short`] if `msg` is shorter than 64 bytes,
/// [`CryptoError::BadKeyLength`] if an AES algorithm gets a key that is not 16 bytes.
pub fn sign_message(
    p: &CryptoProvider,
    alg: SigningAlgorithm,
    key: &[u8],
    msg: &mut [u8],
) -> Result<(), CryptoError> {
    let mut header = header_of(msg)?;
    header[SIGNATURE_OFFSET..].fill(0);
    msg[SIGNATURE_OFFSET..HEADER_LEN].fill(0);
    let sig = compute(p, alg, key, &header, &[&*msg])?;
    msg[SIGNATURE_OFFSET..HEADER_LEN].copy_from_slice(&sig);
    Ok(())
}

/// Verifies a received message's signature in constant time without modifying `msg`: the
/// MAC is fed the header up to the Signature, sixteen zero bytes, then the rest. Returns
/// false if `msg` is shorter than 64 bytes, the key is unusable or the signature differs.
pub fn verify_message(p: &CryptoProvider, alg: SigningAlgorithm, key: &[u8], msg: &[u8]) -> bool {
    let Ok(header) = header_of(msg) else {
        return false;
    };
    let zero = [0u8; 16];
    let parts: [&[u8]; 3] = [&msg[..SIGNATURE_OFFSET], &zero, &msg[HEADER_LEN..]];
    match compute(p, alg, key, &header, &parts) {
        Ok(expected) => bool::from(expected.ct_eq(&header[SIGNATURE_OFFSET..])),
        Err(_) => false,
    }
}

/// A session's signing key with its key schedule run once: AES-GMAC through an AES-128-GCM
/// key prepared with [`AeadProvider::prepare`] (GMAC is GCM with an empty plaintext and the
/// message as AAD), so signing and verifying a message set up no key and join no pieces.
/// HMAC-SHA256 and AES-CMAC go through the provider's MACs with the message as one piece.
///
/// [`AeadProvider::prepare`]: super::AeadProvider::prepare
#[derive(Clone)]
pub struct SigningKey {
    alg: SigningAlgorithm,
    key: Vec<u8>,
    gmac: Option<Arc<dyn PreparedAead>>,
}

impl SigningKey {
    /// Prepares `key` for `alg`. A key the algorithm cannot use is kept as it is, and every
    /// signature with it fails as [`sign_message`] would.
    pub fn new(p: &CryptoProvider, alg: SigningAlgorithm, key: &[u8]) -> Self {
        let gmac = (alg == SigningAlgorithm::AesGmac && key.len() == 16)
            .then(|| p.aead.prepare(Cipher::Aes128Gcm, key).ok())
            .flatten()
            .map(Arc::from);
        Self {
            alg,
            key: key.to_vec(),
            gmac,
        }
    }

    /// The algorithm.
    pub fn alg(&self) -> SigningAlgorithm {
        self.alg
    }

    /// The MAC of `msg`, whose Signature field the caller has zeroed.
    fn mac(&self, p: &CryptoProvider, msg: &[u8]) -> Result<[u8; 16], CryptoError> {
        let header = header_of(msg)?;
        match &self.gmac {
            Some(aead) => aead.seal_in_place(&gmac_nonce(&header), msg, &mut []),
            None => compute(p, self.alg, &self.key, &header, &[msg]),
        }
    }

    /// Signs one message in place, as [`sign_message`] does.
    pub fn sign(&self, p: &CryptoProvider, msg: &mut [u8]) -> Result<(), CryptoError> {
        header_of(msg)?;
        msg[SIGNATURE_OFFSET..HEADER_LEN].fill(0);
        let sig = self.mac(p, msg)?;
        msg[SIGNATURE_OFFSET..HEADER_LEN].copy_from_slice(&sig);
        Ok(())
    }

    /// Verifies in constant time a received message whose Signature field was taken out
    /// (see [`take_signature`]) and zeroed; `expected` is the signature it carried.
    pub fn verify_zeroed(&self, p: &CryptoProvider, msg: &[u8], expected: &[u8; 16]) -> bool {
        match self.mac(p, msg) {
            Ok(mac) => bool::from(mac.ct_eq(expected)),
            Err(_) => false,
        }
    }

    /// Verifies a received message with its signature in place, as [`verify_message`].
    pub fn verify(&self, p: &CryptoProvider, msg: &[u8]) -> bool {
        verify_message(p, self.alg, &self.key, msg)
    }
}

/// Takes the 16-byte Signature out of a message (at least 64 bytes) and zeroes the field,
/// so the message can be verified as one piece with [`SigningKey::verify_zeroed`].
pub fn take_signature(msg: &mut [u8]) -> Option<[u8; 16]> {
    let field = msg.get_mut(SIGNATURE_OFFSET..HEADER_LEN)?;
    let mut sig = [0u8; 16];
    sig.copy_from_slice(field);
    field.fill(0);
    Some(sig)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_util::each_provider_test;

    const ALGS: [SigningAlgorithm; 3] = [
        SigningAlgorithm::HmacSha256,
        SigningAlgorithm::AesCmac,
        SigningAlgorithm::AesGmac,
    ];

    fn sample_message(flags: u32, command: u16, message_id: u64) -> Vec<u8> {
        let mut msg = vec![0u8; 100];
        msg[..4].copy_from_slice(b"\xfeSMB");
        msg[4] = 64;
        msg[COMMAND_OFFSET..COMMAND_OFFSET + 2].copy_from_slice(&command.to_le_bytes());
        msg[FLAGS_OFFSET..FLAGS_OFFSET + 4].copy_from_slice(&(flags | 0x8).to_le_bytes());
        msg[MESSAGE_ID_OFFSET..MESSAGE_ID_OFFSET + 8].copy_from_slice(&message_id.to_le_bytes());
        for (i, b) in msg[HEADER_LEN..].iter_mut().enumerate() {
            *b = i as u8;
        }
        msg
    }

    fn sign_then_verify_each_algorithm_and_detect_tampering(p: &CryptoProvider) {
        let key = [0x42u8; 16];
        for alg in ALGS {
            let mut msg = sample_message(1, 8, 7);
            msg[SIGNATURE_OFFSET..HEADER_LEN].fill(0xEE); // stale signature is overwritten
            sign_message(p, alg, &key, &mut msg).unwrap();
            assert_ne!(&msg[SIGNATURE_OFFSET..HEADER_LEN], &[0u8; 16]);
            assert!(verify_message(p, alg, &key, &msg), "{alg:?}");

            for at in [0usize, 20, SIGNATURE_OFFSET, 70, 99] {
                let mut bad = msg.clone();
                bad[at] ^= 0x01;
                assert!(!verify_message(p, alg, &key, &bad), "{alg:?} {at}");
            }
            let mut wrong_key = key;
            wrong_key[0] ^= 1;
            assert!(!verify_message(p, alg, &wrong_key, &msg));
            assert!(!verify_message(p, alg, &key, &msg[..63]));
        }
    }

    fn short_message_and_bad_key_are_errors(p: &CryptoProvider) {
        let mut short = [0u8; 63];
        assert_eq!(
            sign_message(p, SigningAlgorithm::AesCmac, &[0; 16], &mut short),
            Err(CryptoError::Short)
        );
        let mut msg = sample_message(0, 1, 1);
        assert_eq!(
            sign_message(p, SigningAlgorithm::AesGmac, &[0; 15], &mut msg),
            Err(CryptoError::BadKeyLength)
        );
        assert!(!verify_message(p, SigningAlgorithm::AesCmac, &[0; 3], &msg));
    }

    #[test]
    fn gmac_nonce_carries_message_id_role_and_cancel() {
        let req = sample_message(0, 5, 0x0102_0304_0506_0708);
        let nonce = gmac_nonce(&header_of(&req).unwrap());
        assert_eq!(nonce, [8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0]);
        let resp = sample_message(FLAG_SERVER_TO_REDIR, 5, 9);
        assert_eq!(gmac_nonce(&header_of(&resp).unwrap())[8..], [1, 0, 0, 0]);
        let cancel = sample_message(0, COMMAND_CANCEL, 9);
        assert_eq!(gmac_nonce(&header_of(&cancel).unwrap())[8..], [2, 0, 0, 0]);
    }

    /// The GMAC signature of a response differs from the same bytes sent as a request: the
    /// role bit is part of the nonce, so a reflected message does not verify.
    fn gmac_role_bit_changes_signature(p: &CryptoProvider) {
        let key = [9u8; 16];
        let mut resp = sample_message(FLAG_SERVER_TO_REDIR, 5, 3);
        sign_message(p, SigningAlgorithm::AesGmac, &key, &mut resp).unwrap();
        let mut as_request = resp.clone();
        as_request[FLAGS_OFFSET] &= !1;
        let mut resigned = as_request.clone();
        sign_message(p, SigningAlgorithm::AesGmac, &key, &mut resigned).unwrap();
        assert_ne!(
            resigned[SIGNATURE_OFFSET..HEADER_LEN],
            resp[SIGNATURE_OFFSET..HEADER_LEN]
        );
    }

    /// A prepared key signs exactly as [`sign_message`] and verifies a message whose
    /// signature was taken out; tampering and a wrong signature are refused.
    fn prepared_key_agrees_with_per_call_signing(p: &CryptoProvider) {
        let key = [0x33u8; 16];
        for alg in ALGS {
            let prepared = SigningKey::new(p, alg, &key);
            assert_eq!(prepared.alg(), alg);
            for len in [64usize, 100, 4096] {
                let mut msg = sample_message(1, 8, 11);
                msg.resize(len, 0x5A);
                let mut reference = msg.clone();
                sign_message(p, alg, &key, &mut reference).unwrap();
                prepared.sign(p, &mut msg).unwrap();
                assert_eq!(msg, reference, "{alg:?} {len}");
                assert!(prepared.verify(p, &msg));
                let sig = take_signature(&mut msg).unwrap();
                assert!(prepared.verify_zeroed(p, &msg, &sig), "{alg:?} {len}");
                let mut wrong = sig;
                wrong[3] ^= 0x80;
                assert!(!prepared.verify_zeroed(p, &msg, &wrong));
                msg[len - 1] ^= 1;
                assert!(!prepared.verify_zeroed(p, &msg, &sig));
            }
        }
        assert!(take_signature(&mut [0u8; 63]).is_none());
        let bad = SigningKey::new(p, SigningAlgorithm::AesGmac, &[0; 15]);
        let mut msg = sample_message(0, 1, 1);
        assert_eq!(bad.sign(p, &mut msg), Err(CryptoError::BadKeyLength));
        assert!(!bad.verify_zeroed(p, &msg, &[0; 16]));
        assert_eq!(
            SigningKey::new(p, SigningAlgorithm::AesCmac, &key).sign(p, &mut [0u8; 10]),
            Err(CryptoError::Short)
        );
    }

    each_provider_test!(
        prepared_key_agrees_with_per_call_signing,
        sign_then_verify_each_algorithm_and_detect_tampering,
        short_message_and_bad_key_are_errors,
        gmac_role_bit_changes_signature
    );
}
