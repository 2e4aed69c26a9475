//! NTLMv2 cryptography (MS-NLMP 3.3.2, 3.4.4, 3.4.5): NTOWFv2, the NTProofStr check, session
//! keys, key exchange, signing and sealing keys and the message signature.

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use rc4::{KeyInit, Rc4, StreamCipher, consts::U16};
use subtle::ConstantTimeEq;

use super::messages::{flags, string_to_utf16le};

type HmacMd5 = Hmac<Md5>;

/// HMAC-MD5 over the concatenation of `parts`.
pub fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacMd5 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// MD5 over the concatenation of `parts`.
pub fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// RC4 with a 16-byte key applied to `data` in place (a fresh cipher state).
pub fn rc4_16(key: &[u8; 16], data: &mut [u8]) {
    let mut c = Rc4::<U16>::new(key.into());
    c.apply_keystream(data);
}

/// Upper-cases a string one character at a time, keeping characters whose upper case is not a
/// single character (Windows' RtlUpcaseUnicodeChar is a one-to-one mapping).
pub fn upcase(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut up = c.to_uppercase();
            match (up.next(), up.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        })
        .collect()
}

/// NTOWFv2 (MS-NLMP 3.3.2): HMAC_MD5(NT hash, UNICODE(Uppercase(user) || domain)).
pub fn ntowf_v2(nt_hash: &[u8; 16], user: &str, domain: &str) -> [u8; 16] {
    let u = string_to_utf16le(&upcase(user));
    let d = string_to_utf16le(domain);
    hmac_md5(nt_hash, &[&u, &d])
}

/// The minimum NTLMv2 response: NTProofStr (16) and the fixed part of the client challenge
/// (RespType, HiRespType, reserved, TimeStamp, ChallengeFromClient, reserved: 28).
pub const NTLMV2_RESPONSE_MIN: usize = 16 + 28;

/// Checks an NTLMv2 NtChallengeResponse in constant time and returns the SessionBaseKey.
///
/// `response` is the whole NtChallengeResponse (NTProofStr followed by the client challenge
/// blob, MS-NLMP 2.2.2.8).
pub fn verify_ntlmv2(
    response_key_nt: &[u8; 16],
    server_challenge: &[u8; 8],
    response: &[u8],
) -> Option<[u8; 16]> {
    let (proof, temp) = response.split_at_checked(16)?;
    let expected = hmac_md5(response_key_nt, &[server_challenge, temp]);
    if bool::from(expected.ct_eq(proof)) {
        Some(hmac_md5(response_key_nt, &[&expected]))
    } else {
        None
    }
}

/// Recovers the ExportedSessionKey: with KEY_EXCH it is RC4(KeyExchangeKey,
/// EncryptedRandomSessionKey); otherwise it is the KeyExchangeKey (MS-NLMP 3.2.5.1.2). For
/// NTLMv2 the KeyExchangeKey is the SessionBaseKey (MS-NLMP 3.4.5.1).
pub fn exported_session_key(
    key_exchange_key: &[u8; 16],
    neg_flags: u32,
    encrypted: &[u8],
) -> Option<[u8; 16]> {
    if neg_flags & flags::KEY_EXCH == 0 {
        return Some(*key_exchange_key);
    }
    let mut key: [u8; 16] = encrypted.try_into().ok()?;
    rc4_16(key_exchange_key, &mut key);
    Some(key)
}

/// Computes the AUTHENTICATE MIC: HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE ||
/// AUTHENTICATE with the MIC field zeroed) (MS-NLMP 3.1.5.1.2, 3.2.5.1.2).
pub fn compute_mic(
    exported: &[u8; 16],
    negotiate: &[u8],
    challenge: &[u8],
    authenticate_zeroed: &[u8],
) -> [u8; 16] {
    hmac_md5(exported, &[negotiate, challenge, authenticate_zeroed])
}

const CLIENT_SIGN: &[u8] = b"session key to client-to-server signing key magic constant\0";
const SERVER_SIGN: &[u8] = b"session key to server-to-client signing key magic constant\0";
const CLIENT_SEAL: &[u8] = b"session key to client-to-server sealing key magic constant\0";
const SERVER_SEAL: &[u8] = b"session key to server-to-client sealing key magic constant\0";

/// Which side's keys to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client to server (the client signs, the server verifies).
    ClientToServer,
    /// Server to client.
    ServerToClient,
}

/// SIGNKEY (MS-NLMP 3.4.5.2), extended session security only.
pub fn sign_key(exported: &[u8; 16], dir: Direction) -> [u8; 16] {
    let magic = match dir {
        Direction::ClientToServer => CLIENT_SIGN,
        Direction::ServerToClient => SERVER_SIGN,
    };
    md5(&[exported, magic])
}

/// SEALKEY (MS-NLMP 3.4.5.3), extended session security only: the key is cut to 16, 7 or 5
/// bytes by NEGOTIATE_128 / NEGOTIATE_56 before hashing with the magic constant.
pub fn seal_key(exported: &[u8; 16], neg_flags: u32, dir: Direction) -> [u8; 16] {
    let magic = match dir {
        Direction::ClientToServer => CLIENT_SEAL,
        Direction::ServerToClient => SERVER_SEAL,
    };
    let len = if neg_flags & flags::NEG_128 != 0 {
        16
    } else if neg_flags & flags::NEG_56 != 0 {
        7
    } else {
        5
    };
    md5(&[&exported[..len], magic])
}

/// Message integrity for one direction with extended session security (MS-NLMP 3.4.4.2), or
/// NTLMv1's without it (3.4.4.1, [`super::v1::Ntlm1Signing`], shared by both directions).
///
/// The RC4 sealing state runs across messages, as the specification's sealing handle does.
pub struct SigningContext {
    sign_key: [u8; 16],
    seal: Option<Rc4<U16>>,
    ntlm1: Option<std::sync::Arc<std::sync::Mutex<super::v1::Ntlm1Signing>>>,
}

impl SigningContext {
    /// A direction of NTLMv1 signing without extended session security: both directions use
    /// `shared`, one RC4 handle and one sequence number, in the order messages are signed.
    pub fn ntlm1(shared: std::sync::Arc<std::sync::Mutex<super::v1::Ntlm1Signing>>) -> Self {
        Self {
            sign_key: [0; 16],
            seal: None,
            ntlm1: Some(shared),
        }
    }

    /// The context for `dir` derived from the exported session key and negotiated flags.
    pub fn new(exported: &[u8; 16], neg_flags: u32, dir: Direction) -> Self {
        let seal = (neg_flags & flags::KEY_EXCH != 0)
            .then(|| Rc4::<U16>::new((&seal_key(exported, neg_flags, dir)).into()));
        Self {
            sign_key: sign_key(exported, dir),
            seal,
            ntlm1: None,
        }
    }

    /// Encrypts `data` in place with the sealing handle (used before signing a sealed message).
    pub fn seal_in_place(&mut self, data: &mut [u8]) {
        if let Some(rc4) = self.seal.as_mut() {
            rc4.apply_keystream(data);
        }
    }

    /// The 16-byte NTLMSSP_MESSAGE_SIGNATURE over `msg` with sequence number `seq`.
    pub fn sign(&mut self, seq: u32, msg: &[u8]) -> [u8; 16] {
        if let Some(shared) = &self.ntlm1 {
            let mut state = shared
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            return state.sign(msg);
        }
        let seq_bytes = seq.to_le_bytes();
        let mac = hmac_md5(&self.sign_key, &[&seq_bytes, msg]);
        let mut checksum = [0u8; 8];
        checksum.copy_from_slice(&mac[..8]);
        if let Some(rc4) = self.seal.as_mut() {
            rc4.apply_keystream(&mut checksum);
        }
        let mut sig = [0u8; 16];
        sig[..4].copy_from_slice(&1u32.to_le_bytes());
        sig[4..12].copy_from_slice(&checksum);
        sig[12..].copy_from_slice(&seq_bytes);
        sig
    }

    /// Checks a received signature in constant time.
    pub fn verify(&mut self, seq: u32, msg: &[u8], signature: &[u8]) -> bool {
        if let Some(shared) = &self.ntlm1 {
            let mut state = shared
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            return state.verify(msg, signature);
        }
        let expected = self.sign(seq, msg);
        bool::from(expected.ct_eq(signature))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nt_hash;

    use crate::krb5::crypto::tests::hex;

    // MS-NLMP 4.2.1 common values: User "User", UserDom "Domain", Passwd "Password",
    // RandomSessionKey 0x55 * 16, Time 0, ClientChallenge 0xaa * 8,
    // ServerChallenge 01 23 45 67 89 ab cd ef.
    const SERVER_CHALLENGE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];

    /// The NTLMv2 client challenge ("temp") of MS-NLMP 4.2.4.2.2, with the 4.2.4 AV pairs
    /// (MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server", MsvAvEOL).
    fn temp_424() -> Vec<u8> {
        let mut t = hex(
            "01 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 aa aa aa aa aa aa aa aa 00 00 00 00",
        );
        t.extend(hex("02 00 0c 00 44 00 6f 00 6d 00 61 00 69 00 6e 00"));
        t.extend(hex("01 00 0c 00 53 00 65 00 72 00 76 00 65 00 72 00"));
        t.extend(hex("00 00 00 00"));
        t.extend(hex("00 00 00 00"));
        t
    }

    #[test]
    fn ms_nlmp_4_2_4_ntowfv2() {
        // MS-NLMP 4.2.4.1.1 NTOWFv2() and LMOWFv2().
        let key = ntowf_v2(&nt_hash("Password"), "User", "Domain");
        assert_eq!(
            key.to_vec(),
            hex("0c 86 8a 40 3b fd 7a 93 a3 00 1e f2 2e f0 2e 3f")
        );
    }

    #[test]
    fn ms_nlmp_4_2_4_lmv2_response() {
        // MS-NLMP 4.2.4.2.1 LMv2 Response.
        let key = ntowf_v2(&nt_hash("Password"), "User", "Domain");
        let client_challenge = [0xaa; 8];
        let r = hmac_md5(&key, &[&SERVER_CHALLENGE, &client_challenge]);
        let mut lm = r.to_vec();
        lm.extend_from_slice(&client_challenge);
        assert_eq!(
            lm,
            hex("86 c3 50 97 ac 9c ec 10 25 54 76 4a 57 cc cc 19 aa aa aa aa aa aa aa aa")
        );
    }

    #[test]
    fn ms_nlmp_4_2_4_ntv2_response_session_key_and_key_exchange() {
        let key = ntowf_v2(&nt_hash("Password"), "User", "Domain");
        let temp = temp_424();
        // MS-NLMP 4.2.4.2.2 NTLMv2 Response: NTProofStr.
        let proof = hmac_md5(&key, &[&SERVER_CHALLENGE, &temp]);
        assert_eq!(
            proof.to_vec(),
            hex("68 cd 0a b8 51 e5 1c 96 aa bc 92 7b eb ef 6a 1c")
        );
        let mut response = proof.to_vec();
        response.extend_from_slice(&temp);
        // MS-NLMP 4.2.4.1.2 Session Base Key.
        let base = verify_ntlmv2(&key, &SERVER_CHALLENGE, &response).unwrap();
        assert_eq!(
            base.to_vec(),
            hex("8d e4 0c ca db c1 4a 82 f1 5c b0 ad 0d e9 5c a3")
        );
        // MS-NLMP 4.2.4.2.3 Encrypted Session Key: RC4(KeyExchangeKey, RandomSessionKey).
        let mut enc = [0x55u8; 16];
        rc4_16(&base, &mut enc);
        assert_eq!(
            enc.to_vec(),
            hex("c5 da d2 54 4f c9 79 90 94 ce 1c e9 0b c9 d0 3e")
        );
        let flags = flags::KEY_EXCH;
        assert_eq!(exported_session_key(&base, flags, &enc), Some([0x55; 16]));
        assert_eq!(exported_session_key(&base, 0, &enc), Some(base));
        assert_eq!(exported_session_key(&base, flags, &enc[..15]), None);
        // A wrong challenge fails.
        assert!(verify_ntlmv2(&key, &[0; 8], &response).is_none());
        assert!(verify_ntlmv2(&key, &SERVER_CHALLENGE, &response[..10]).is_none());
    }

    #[test]
    fn ms_nlmp_4_2_4_4_gss_wrapex() {
        // MS-NLMP 4.2.4.4 GSS_WrapEx Examples: flags as in 4.2.4 (KEY_EXCH, 56, 128, ...),
        // RandomSessionKey 0x55 * 16, SeqNum 0, plaintext "Plaintext" in UTF-16LE.
        let exported = [0x55u8; 16];
        let neg = 0xe28a_8233;
        assert_eq!(
            seal_key(&exported, neg, Direction::ClientToServer).to_vec(),
            hex("59 f6 00 97 3c c4 96 0a 25 48 0a 7c 19 6e 4c 58")
        );
        assert_eq!(
            sign_key(&exported, Direction::ClientToServer).to_vec(),
            hex("47 88 dc 86 1b 47 82 f3 5d 43 fd 98 fe 1a 2d 39")
        );
        let plaintext = string_to_utf16le("Plaintext");
        let mut ctx = SigningContext::new(&exported, neg, Direction::ClientToServer);
        let mut sealed = plaintext.clone();
        ctx.seal_in_place(&mut sealed);
        assert_eq!(
            sealed,
            hex("54 e5 01 65 bf 19 36 dc 99 60 20 c1 81 1b 0f 06 fb 5f")
        );
        let sig = ctx.sign(0, &plaintext);
        assert_eq!(
            sig.to_vec(),
            hex("01 00 00 00 7f b3 8e c5 c5 5d 49 76 00 00 00 00")
        );
        // The un-RC4'd checksum of the same example.
        let raw = hmac_md5(
            &sign_key(&exported, Direction::ClientToServer),
            &[&[0; 4], &plaintext],
        );
        assert_eq!(raw[..8].to_vec(), hex("70 35 28 51 f2 56 43 09"));
    }

    #[test]
    fn upcase_is_one_to_one() {
        assert_eq!(upcase("user"), "USER");
        assert_eq!(upcase("straße"), "STRAßE");
        assert_eq!(upcase("ärger"), "ÄRGER");
    }
}
