//! NTLMv1 and NTLMv1 with extended session security (MS-NLMP 3.3.1), the server's side:
//! checking a 24-byte NT response and deriving the key exchange key (3.4.5.1).
//!
//! Accepted only when the configuration says so (`allow_ntlmv1`): a v1 response is DES of the
//! NT hash under a challenge, which an eavesdropper can crack offline, and it has no AV_PAIRs,
//! so no MIC, target name or channel bindings protect the exchange.

use des::Des;
use des::cipher::{BlockEncrypt, KeyInit};
use md4::{Digest, Md4};
use rc4::{Rc4, StreamCipher, consts::U16};
use subtle::ConstantTimeEq;

use super::crypto::{hmac_md5, md5};

/// The length of an NTLMv1 NT (and LM) response.
pub const RESPONSE_LEN: usize = 24;

/// A DES key from 7 bytes (56 bits): each output byte carries 7 key bits above an unused
/// parity bit (MS-NLMP 6, DES(); the cipher ignores the parity bits).
fn des_key(seven: &[u8; 7]) -> [u8; 8] {
    let mut bits = 0u64;
    for b in seven {
        bits = (bits << 8) | u64::from(*b);
    }
    let mut out = [0u8; 8];
    for (i, o) in out.iter_mut().enumerate() {
        let shift = 49 - 7 * i;
        // Seven bits, then the parity position left clear.
        *o = (((bits >> shift) & 0x7F) as u8) << 1;
    }
    out
}

fn des(key: &[u8; 7], data: &[u8; 8]) -> [u8; 8] {
    let cipher = Des::new(&des_key(key).into());
    let mut block = (*data).into();
    cipher.encrypt_block(&mut block);
    block.into()
}

/// DESL (MS-NLMP 6): the 16-byte key as three 7-byte DES keys (the last two bytes padded
/// with zeros), each encrypting `data`; the three blocks concatenated.
pub fn desl(key: &[u8; 16], data: &[u8; 8]) -> [u8; RESPONSE_LEN] {
    let mut k3 = [0u8; 7];
    k3[..2].copy_from_slice(&key[14..]);
    let mut k1 = [0u8; 7];
    k1.copy_from_slice(&key[..7]);
    let mut k2 = [0u8; 7];
    k2.copy_from_slice(&key[7..14]);
    let mut out = [0u8; RESPONSE_LEN];
    for (chunk, k) in out.chunks_exact_mut(8).zip([k1, k2, k3]) {
        chunk.copy_from_slice(&des(&k, data));
    }
    out
}

/// The challenge the NT response answers: the server's, or with extended session security
/// the first 8 bytes of MD5(server challenge, client challenge), the client challenge being
/// the first 8 bytes of the LM response (MS-NLMP 3.3.1). `None` when ESS is on and the LM
/// response has no client challenge.
fn response_challenge(server: &[u8; 8], lm_response: &[u8], ess: bool) -> Option<[u8; 8]> {
    if !ess {
        return Some(*server);
    }
    let client = lm_response.get(..8)?;
    let digest = md5(&[server, client]);
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    Some(out)
}

/// SessionBaseKey of NTLMv1: MD4 of the NT hash (MS-NLMP 3.3.1).
pub fn session_base_key(nt_hash: &[u8; 16]) -> [u8; 16] {
    Md4::digest(nt_hash).into()
}

/// KXKEY for NTLMv1 (MS-NLMP 3.4.5.1). With extended session security, HMAC-MD5 of the
/// session base key over the server challenge and the client challenge; without it, the
/// session base key itself (this server never offers NEGOTIATE_LM_KEY or
/// REQUEST_NON_NT_SESSION_KEY, the other two cases).
pub fn key_exchange_key(
    base: &[u8; 16],
    server: &[u8; 8],
    lm_response: &[u8],
    ess: bool,
) -> [u8; 16] {
    if ess {
        let client = lm_response.get(..8).unwrap_or(&[]);
        hmac_md5(base, &[server, client])
    } else {
        *base
    }
}

/// Checks an NTLMv1 NT response made with `nt_hash`; on success, the key exchange key.
pub fn verify(
    nt_hash: &[u8; 16],
    server: &[u8; 8],
    lm_response: &[u8],
    nt_response: &[u8],
    ess: bool,
) -> Option<[u8; 16]> {
    let challenge = response_challenge(server, lm_response, ess)?;
    let expected = desl(nt_hash, &challenge);
    if !bool::from(expected.ct_eq(nt_response)) {
        return None;
    }
    let base = session_base_key(nt_hash);
    Some(key_exchange_key(&base, server, lm_response, ess))
}

/// CRC-32 (IEEE 802.3, reflected, as MS-NLMP 6's CRC32()), bit by bit: it runs over a
/// SPNEGO mechanism list once per logon.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in data {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// NTLMSSP message integrity without extended session security (MS-NLMP 3.4.4.1): one RC4
/// handle keyed with the exported session key (SEALKEY, 3.4.5.3, when LM_KEY is not
/// negotiated) and one sequence number, which both directions advance in turn, as Samba's
/// NTLMv1 signing does.
pub struct Ntlm1Signing {
    rc4: Rc4<U16>,
    seq: u32,
}

impl Ntlm1Signing {
    /// The state after authentication, from the exported session key.
    pub fn new(exported: &[u8; 16]) -> Self {
        Self {
            rc4: Rc4::<U16>::new(exported.into()),
            seq: 0,
        }
    }

    /// The next NTLMSSP_MESSAGE_SIGNATURE: version 1, RandomPad 0, then RC4 of the CRC-32 of
    /// `msg` and of the sequence number.
    pub fn sign(&mut self, msg: &[u8]) -> [u8; 16] {
        let mut body = [0u8; 12];
        body[4..8].copy_from_slice(&crc32(msg).to_le_bytes());
        body[8..].copy_from_slice(&self.seq.to_le_bytes());
        // The RandomPad (zero) goes through the handle first, then checksum and number.
        self.rc4.apply_keystream(&mut body);
        self.seq = self.seq.wrapping_add(1);
        let mut sig = [0u8; 16];
        sig[..4].copy_from_slice(&1u32.to_le_bytes());
        sig[8..].copy_from_slice(&body[4..]);
        sig
    }

    /// Checks a received signature: version, checksum and sequence number (the RandomPad is
    /// not checked: senders differ on whether they send it encrypted or zero).
    pub fn verify(&mut self, msg: &[u8], signature: &[u8]) -> bool {
        let expected = self.sign(msg);
        let (Some(version), Some(rest)) = (signature.get(..4), signature.get(8..16)) else {
            return false;
        };
        bool::from(expected[..4].ct_eq(version) & expected[8..].ct_eq(rest))
            && signature.len() == 16
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nt_hash;

    use crate::krb5::crypto::tests::hex;

    const SERVER_CHALLENGE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];

    /// MS-NLMP 4.2.2 (NTLM v1 Authentication): user "User", domain "Domain", password
    /// "Password", server challenge 0123456789abcdef. 4.2.2.1.2 NTOWFv1, 4.2.2.1.3 the session
    /// base key, 4.2.2.2.1 the NTLMv1 response.
    #[test]
    fn ms_nlmp_4_2_2_ntlmv1() {
        let hash = nt_hash("Password");
        assert_eq!(
            hash.to_vec(),
            hex("a4 f4 9c 40 65 10 bd ca b6 82 4e e7 c3 0f d8 52")
        );
        assert_eq!(
            session_base_key(&hash).to_vec(),
            hex("d8 72 62 b0 cd e4 b1 cb 74 99 be cc cd f1 07 84")
        );
        let response = desl(&hash, &SERVER_CHALLENGE);
        assert_eq!(
            response.to_vec(),
            hex("67 c4 30 11 f3 02 98 a2 ad 35 ec e6 4f 16 33 1c 44 bd be d9 27 84 1f 94")
        );
        // Without ESS the key exchange key is the session base key.
        let kx = verify(&hash, &SERVER_CHALLENGE, &[0; 24], &response, false).unwrap();
        assert_eq!(kx, session_base_key(&hash));
        assert_eq!(
            verify(
                &nt_hash("password"),
                &SERVER_CHALLENGE,
                &[0; 24],
                &response,
                false
            ),
            None
        );
    }

    /// MS-NLMP 4.2.3 (NTLM v1 with Client Challenge, i.e. extended session security): client
    /// challenge aaaaaaaaaaaaaaaa in the LM response (4.2.3.2.1), 4.2.3.2.2 the NTLMv1
    /// response, 4.2.3.1.2 the key exchange key.
    #[test]
    fn ms_nlmp_4_2_3_ntlmv1_with_client_challenge() {
        let hash = nt_hash("Password");
        let mut lm = [0u8; 24];
        lm[..8].fill(0xaa);
        let expected =
            hex("75 37 f8 03 ae 36 71 28 ca 45 82 04 bd e7 ca f8 1e 97 ed 26 83 26 72 32");
        let kx = verify(&hash, &SERVER_CHALLENGE, &lm, &expected, true).expect("response matches");
        assert_eq!(
            kx.to_vec(),
            hex("eb 93 42 9a 8b d9 52 f8 b8 9c 55 b8 7f 47 5e dc")
        );
        // The same response without ESS, or with another client challenge, does not match.
        assert_eq!(
            verify(&hash, &SERVER_CHALLENGE, &lm, &expected, false),
            None
        );
        lm[0] = 0xab;
        assert_eq!(verify(&hash, &SERVER_CHALLENGE, &lm, &expected, true), None);
        assert_eq!(verify(&hash, &SERVER_CHALLENGE, &[], &expected, true), None);
    }

    #[test]
    fn crc32_check_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    /// MS-NLMP 4.2.2.4 (GSS_WrapEx examples, NTLMv1 without extended session security): the
    /// exported key is the random session key 55 55 ..., the plaintext "Plaintext" in
    /// UTF-16LE is sealed through the handle, then signed (CRC-32 of the plaintext,
    /// sequence number 0) through the same handle.
    #[test]
    fn ms_nlmp_4_2_2_4_ntlm1_signature() {
        let key = [0x55u8; 16];
        let msg = crate::ntlm::messages::string_to_utf16le("Plaintext");
        let mut state = Ntlm1Signing::new(&key);
        let mut sealed = msg.clone();
        state.rc4.apply_keystream(&mut sealed);
        assert_eq!(
            sealed,
            hex("56 fe 04 d8 61 f9 31 9a f0 d7 23 8a 2e 3b 4d 45 7f b8")
        );
        let sig = state.sign(&msg);
        assert_eq!(
            sig.to_vec(),
            hex("01 00 00 00 00 00 00 00 09 dc d1 df 2e 45 9d 36")
        );
    }

    #[test]
    fn ntlm1_signature_shares_one_handle() {
        let key = [0x55u8; 16];
        let msg = crate::ntlm::messages::string_to_utf16le("Plaintext");
        let mut signer = Ntlm1Signing::new(&key);
        let sig = signer.sign(&msg);
        assert_eq!(sig[..8], [1, 0, 0, 0, 0, 0, 0, 0]);
        // The receiver with its own copy of the state verifies it, and the next signature
        // (the reply) uses the next sequence number and keystream on both sides.
        let mut receiver = Ntlm1Signing::new(&key);
        assert!(receiver.verify(&msg, &sig));
        let reply = receiver.sign(b"reply");
        assert!(signer.verify(b"reply", &reply));
        assert_ne!(reply[8..], sig[8..]);
        let mut other = Ntlm1Signing::new(&key);
        assert!(!other.verify(b"other", &sig));
    }
}
