//! A minimal NTLMv2 client used only by tests to drive the acceptor end to end.

use crate::ntlm::crypto::{self, Direction, SigningContext};
use crate::ntlm::messages::{self, ChallengeMessage, av_id, flags};

/// Client-side NTLMv2 state for tests.
pub struct TestNtlmClient {
    /// User name to send.
    pub user: String,
    /// Domain to send.
    pub domain: String,
    /// Password to prove.
    pub password: String,
    /// Flags of the NEGOTIATE message.
    pub flags: u32,
    /// Whether to add MsvAvFlags(MIC) and a MIC to the AUTHENTICATE.
    pub with_mic: bool,
    /// Corrupt the MIC after computing it.
    pub corrupt_mic: bool,
    /// The random session key to send with KEY_EXCH.
    pub random_session_key: [u8; 16],
    /// AV_PAIRs added to the NTLMv2 client challenge after the server's (target name, channel
    /// bindings, extra flags).
    pub extra_av: Vec<(u16, Vec<u8>)>,
    /// Leave the Version and MIC fields out of the AUTHENTICATE header (payload at offset 64)
    /// while still announcing a MIC when `with_mic` is set.
    pub omit_mic_field: bool,
    negotiate: Vec<u8>,
    /// The exported session key once AUTHENTICATE has been built.
    pub exported: Option<[u8; 16]>,
    neg_flags: u32,
}

/// A test client for `user`/`domain`/`password` asking for the flags Windows asks for.
pub fn ntlm_self_test_client(user: &str, domain: &str, password: &str) -> TestNtlmClient {
    TestNtlmClient {
        user: user.into(),
        domain: domain.into(),
        password: password.into(),
        flags: 0xe208_8297
            | flags::KEY_EXCH
            | flags::TARGET_INFO
            | flags::ALWAYS_SIGN
            | flags::EXTENDED_SESSIONSECURITY,
        with_mic: true,
        corrupt_mic: false,
        random_session_key: [0x55; 16],
        extra_av: Vec::new(),
        omit_mic_field: false,
        negotiate: Vec::new(),
        exported: None,
        neg_flags: 0,
    }
}

impl TestNtlmClient {
    /// Builds the NEGOTIATE message (with a Version field and no domain/workstation).
    pub fn negotiate(&mut self) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(messages::SIGNATURE);
        m.extend_from_slice(&1u32.to_le_bytes());
        m.extend_from_slice(&(self.flags | flags::VERSION).to_le_bytes());
        messages::push_field(&mut m, 0, 40);
        messages::push_field(&mut m, 0, 40);
        m.extend_from_slice(&messages::SERVER_VERSION);
        self.negotiate = m.clone();
        m
    }

    /// Builds the AUTHENTICATE message answering `challenge`.
    pub fn authenticate(&mut self, challenge: &[u8]) -> Vec<u8> {
        let c = ChallengeMessage::parse(challenge).expect("challenge parses");
        self.neg_flags = c.flags;
        let pairs = messages::parse_av_pairs(&c.target_info).expect("target info parses");
        let timestamp = pairs
            .iter()
            .find(|p| p.id == av_id::TIMESTAMP)
            .map(|p| p.value.to_vec())
            .unwrap_or_else(|| vec![0; 8]);
        let mut av = Vec::new();
        for p in &pairs {
            messages::push_av_pair(&mut av, p.id, p.value);
        }
        for (id, value) in &self.extra_av {
            messages::push_av_pair(&mut av, *id, value);
        }
        if self.with_mic {
            messages::push_av_pair(
                &mut av,
                av_id::FLAGS,
                &messages::AV_FLAG_MIC_PRESENT.to_le_bytes(),
            );
        }
        messages::push_av_pair(&mut av, av_id::EOL, &[]);
        let mut temp = vec![1, 1, 0, 0, 0, 0, 0, 0];
        temp.extend_from_slice(&timestamp);
        temp.extend_from_slice(&[0xaa; 8]);
        temp.extend_from_slice(&[0; 4]);
        temp.extend_from_slice(&av);
        temp.extend_from_slice(&[0; 4]);
        let key = crypto::ntowf_v2(&crate::nt_hash(&self.password), &self.user, &self.domain);
        let proof = crypto::hmac_md5(&key, &[&c.server_challenge, &temp]);
        let base = crypto::hmac_md5(&key, &[&proof]);
        let mut nt = proof.to_vec();
        nt.extend_from_slice(&temp);
        let (exported, enc_key) = if c.flags & flags::KEY_EXCH != 0 {
            let mut k = self.random_session_key;
            crypto::rc4_16(&base, &mut k);
            (self.random_session_key, k.to_vec())
        } else {
            (base, Vec::new())
        };
        self.exported = Some(exported);
        let lm = vec![0u8; 24];
        let domain = messages::string_to_utf16le(&self.domain);
        let user = messages::string_to_utf16le(&self.user);
        let ws = messages::string_to_utf16le("CLIENT");
        let fields: [&[u8]; 6] = [&lm, &nt, &domain, &user, &ws, &enc_key];
        let mut m = Vec::new();
        m.extend_from_slice(messages::SIGNATURE);
        m.extend_from_slice(&3u32.to_le_bytes());
        let mut offset = if self.omit_mic_field { 64 } else { 88 };
        for f in fields {
            messages::push_field(&mut m, f.len(), offset);
            offset += f.len();
        }
        m.extend_from_slice(&c.flags.to_le_bytes());
        if !self.omit_mic_field {
            m.extend_from_slice(&messages::SERVER_VERSION);
            m.extend_from_slice(&[0; 16]);
        }
        for f in fields {
            m.extend_from_slice(f);
        }
        if self.with_mic && !self.omit_mic_field {
            let mut mic = crypto::compute_mic(&exported, &self.negotiate, challenge, &m);
            if self.corrupt_mic {
                mic[0] ^= 1;
            }
            m[72..88].copy_from_slice(&mic);
        }
        m
    }

    /// The client's mechListMIC over `mech_list` (sequence 0).
    pub fn mech_list_mic(&self, mech_list: &[u8]) -> [u8; 16] {
        let exported = self.exported.expect("authenticate first");
        SigningContext::new(&exported, self.neg_flags, Direction::ClientToServer).sign(0, mech_list)
    }

    /// Checks the server's mechListMIC over `mech_list` (sequence 0).
    pub fn verify_server_mic(&self, mech_list: &[u8], mic: &[u8]) -> bool {
        let exported = self.exported.expect("authenticate first");
        SigningContext::new(&exported, self.neg_flags, Direction::ServerToClient)
            .verify(0, mech_list, mic)
    }
}
