//! The client side of NTLMv2 (MS-NLMP 3.1.5): NEGOTIATE, then AUTHENTICATE with NTOWFv2,
//! NTProofStr and KEY_EXCH. Sent as raw NTLMSSP, which both our server and Samba accept.
//!
//! The primitives (HMAC-MD5, RC4, NTOWFv2) come from the acceptor crate; the message
//! construction is the client's mirror of MS-NLMP 2.2.1.1 and 2.2.1.3.

use acceptor::ntlm::crypto::{hmac_md5, ntowf_v2, rc4_16};
use acceptor::ntlm::messages::{ChallengeMessage, parse_av_pairs};
use md4::{Digest, Md4};

/// NTLMSSP signature.
const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";
/// Flags of our NEGOTIATE (MS-NLMP 2.2.2.5): UNICODE, REQUEST_TARGET, SIGN, SEAL, NTLM,
/// ALWAYS_SIGN, EXTENDED_SESSIONSECURITY, TARGET_INFO, VERSION, 128, KEY_EXCH, 56.
const NEGOTIATE_FLAGS: u32 = 0xE288_8235;
/// NTLMSSP_NEGOTIATE_KEY_EXCH.
const KEY_EXCH: u32 = 0x4000_0000;
/// MsvAvTimestamp.
const AV_TIMESTAMP: u16 = 7;
/// Our VERSION field (MS-NLMP 2.2.2.10): 10.0, NTLMSSP_REVISION_W2K3.
const VERSION: [u8; 8] = [10, 0, 0, 0, 0, 0, 0, 0x0F];

/// Why the NTLM exchange could not go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NtlmClientError {
    /// The server's CHALLENGE message did not parse.
    BadChallenge,
    /// Its TargetInfo AV_PAIR list did not parse.
    BadTargetInfo,
}

/// The NT hash: MD4 of the UTF-16LE password.
pub fn nt_hash(password: &str) -> [u8; 16] {
    let mut h = Md4::new();
    for unit in password.encode_utf16() {
        h.update(unit.to_le_bytes());
    }
    h.finalize().into()
}

/// Builds the NEGOTIATE_MESSAGE (2.2.1.1): no domain or workstation, a VERSION.
pub fn negotiate_message() -> Vec<u8> {
    let mut m = Vec::with_capacity(40);
    m.extend_from_slice(SIGNATURE);
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&NEGOTIATE_FLAGS.to_le_bytes());
    push_field(&mut m, 0, 40);
    push_field(&mut m, 0, 40);
    m.extend_from_slice(&VERSION);
    m
}

/// Appends a (Len, MaxLen, BufferOffset) field.
fn push_field(out: &mut Vec<u8>, len: usize, offset: usize) {
    let len = u16::try_from(len).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&u32::try_from(offset).unwrap_or(0).to_le_bytes());
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// The random inputs of one AUTHENTICATE, injected so tests are deterministic.
#[derive(Debug, Clone, Copy)]
pub struct Randomness {
    /// The 8-byte client challenge.
    pub client_challenge: [u8; 8],
    /// The exported session key sent under KEY_EXCH.
    pub session_key: [u8; 16],
    /// FILETIME to use when the server sent no MsvAvTimestamp.
    pub now: u64,
}

/// The AUTHENTICATE message and the exported session key it establishes.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The AUTHENTICATE_MESSAGE bytes.
    pub message: Vec<u8>,
    /// ExportedSessionKey: the SMB session key.
    pub session_key: [u8; 16],
}

/// Builds the AUTHENTICATE_MESSAGE (2.2.1.3) answering `challenge` (3.1.5.1.2, 3.3.2).
pub fn authenticate(
    challenge: &[u8],
    user: &str,
    domain: &str,
    password: &str,
    rnd: &Randomness,
) -> Result<Authenticated, NtlmClientError> {
    let ch = ChallengeMessage::parse(challenge).map_err(|_| NtlmClientError::BadChallenge)?;
    let pairs = parse_av_pairs(&ch.target_info).map_err(|_| NtlmClientError::BadTargetInfo)?;
    let timestamp = pairs
        .iter()
        .find(|p| p.id == AV_TIMESTAMP)
        .and_then(|p| p.value.try_into().ok())
        .map_or(rnd.now, u64::from_le_bytes);

    let key = ntowf_v2(&nt_hash(password), user, domain);
    // temp = Responserversion, HiResponserversion, Z(6), Time, ClientChallenge, Z(4),
    // ServerName (the AV pairs), Z(4).
    let mut temp = vec![1u8, 1, 0, 0, 0, 0, 0, 0];
    temp.extend_from_slice(&timestamp.to_le_bytes());
    temp.extend_from_slice(&rnd.client_challenge);
    temp.extend_from_slice(&[0; 4]);
    temp.extend_from_slice(&ch.target_info);
    temp.extend_from_slice(&[0; 4]);
    let proof = hmac_md5(&key, &[&ch.server_challenge, &temp]);
    let mut nt_response = proof.to_vec();
    nt_response.extend_from_slice(&temp);
    let session_base_key = hmac_md5(&key, &[&proof]);

    let (flags, session_key, encrypted_key) = if ch.flags & KEY_EXCH != 0 {
        let mut enc = rnd.session_key;
        rc4_16(&session_base_key, &mut enc);
        (NEGOTIATE_FLAGS & ch.flags, rnd.session_key, enc.to_vec())
    } else {
        (NEGOTIATE_FLAGS & ch.flags, session_base_key, Vec::new())
    };

    let lm = [0u8; 24];
    let domain = utf16(domain);
    let user = utf16(user);
    let workstation = utf16("PERF");
    // Header: 64 bytes of fields, VERSION (8), MIC (16, left zero: no MsvAvFlags MIC bit).
    let mut off = 88usize;
    let mut m = Vec::with_capacity(off + nt_response.len() + 128);
    m.extend_from_slice(SIGNATURE);
    m.extend_from_slice(&3u32.to_le_bytes());
    let payloads: [&[u8]; 6] = [
        &lm,
        &nt_response,
        &domain,
        &user,
        &workstation,
        &encrypted_key,
    ];
    for p in payloads {
        push_field(&mut m, p.len(), off);
        off += p.len();
    }
    m.extend_from_slice(&flags.to_le_bytes());
    m.extend_from_slice(&VERSION);
    m.extend_from_slice(&[0; 16]);
    for p in payloads {
        m.extend_from_slice(p);
    }
    Ok(Authenticated {
        message: m,
        session_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MS-NLMP 4.2.1: the NT hash of "Password" is a4f49c406510bdcab6824ee7c30fd852.
    #[test]
    fn nt_hash_matches_ms_nlmp_4_2_1() {
        assert_eq!(
            nt_hash("Password"),
            [
                0xa4, 0xf4, 0x9c, 0x40, 0x65, 0x10, 0xbd, 0xca, 0xb6, 0x82, 0x4e, 0xe7, 0xc3, 0x0f,
                0xd8, 0x52
            ]
        );
    }

    /// MS-NLMP 4.2.4.1.3 / 4.2.4.2.2: with user "User", domain "Domain", password
    /// "Password", server challenge 0123456789abcdef, client challenge aa*8, time 0 and the
    /// 4.2.4 AV pairs, NTProofStr is 68cd0ab851e51c96aabc927bebef6a1c.
    #[test]
    fn nt_proof_matches_ms_nlmp_4_2_4() {
        let mut info = Vec::new();
        acceptor::ntlm::messages::push_av_pair(&mut info, 2, &utf16("Domain"));
        acceptor::ntlm::messages::push_av_pair(&mut info, 1, &utf16("Server"));
        info.extend_from_slice(&[0, 0, 0, 0]);
        let ch = ChallengeMessage {
            flags: 0xe28a_8233,
            server_challenge: [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef],
            target_name: utf16("Domain"),
            target_info: info,
        };
        let rnd = Randomness {
            client_challenge: [0xaa; 8],
            session_key: [0x55; 16],
            now: 0,
        };
        let a = authenticate(&ch.encode(), "User", "Domain", "Password", &rnd).unwrap();
        let nt_off = u32::from_le_bytes(a.message[24..28].try_into().unwrap()) as usize;
        assert_eq!(
            &a.message[nt_off..nt_off + 16],
            &[
                0x68, 0xcd, 0x0a, 0xb8, 0x51, 0xe5, 0x1c, 0x96, 0xaa, 0xbc, 0x92, 0x7b, 0xeb, 0xef,
                0x6a, 0x1c
            ]
        );
        // 4.2.4.2.3: EncryptedSessionKey = c5dad2544fc9799094ce1ce90bc9d03e.
        let key_off = u32::from_le_bytes(a.message[56..60].try_into().unwrap()) as usize;
        assert_eq!(
            &a.message[key_off..key_off + 16],
            &[
                0xc5, 0xda, 0xd2, 0x54, 0x4f, 0xc9, 0x79, 0x90, 0x94, 0xce, 0x1c, 0xe9, 0x0b, 0xc9,
                0xd0, 0x3e
            ]
        );
    }

    #[test]
    fn garbage_challenge_is_an_error() {
        let rnd = Randomness {
            client_challenge: [0; 8],
            session_key: [0; 16],
            now: 0,
        };
        assert_eq!(
            authenticate(b"NTLMSSP\0\x02", "u", "d", "p", &rnd).unwrap_err(),
            NtlmClientError::BadChallenge
        );
    }
}
