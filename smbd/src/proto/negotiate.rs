//! NEGOTIATE (MS-SMB2 2.2.3, 2.2.4) with negotiate contexts (2.2.3.1), and the SMB1
//! multi-protocol negotiate older clients open with (MS-SMB2 3.3.5.3.1).

use super::codec::{DecodeError, Reader, WriteLe};
use super::header::HEADER_LEN;

crate::wire_enum! {
    /// SMB2 dialect revisions.
    pub struct Dialect(u16) {
        /// SMB 2.0.2.
        Smb202 = 0x0202,
        /// SMB 2.1.
        Smb210 = 0x0210,
        /// SMB 3.0.
        Smb300 = 0x0300,
        /// SMB 3.0.2.
        Smb302 = 0x0302,
        /// SMB 3.1.1.
        Smb311 = 0x0311,
        /// The SMB 2.??? wildcard answered to an SMB1 negotiate.
        Wildcard = 0x02FF,
    }
}

impl Dialect {
    /// Whether this dialect is in the SMB 3.x family.
    pub fn is_smb3(self) -> bool {
        self.0 >= 0x0300 && self != Self::Wildcard
    }
}

/// Security mode bits (MS-SMB2 2.2.3).
pub mod security_mode {
    /// SMB2_NEGOTIATE_SIGNING_ENABLED.
    pub const SIGNING_ENABLED: u16 = 0x0001;
    /// SMB2_NEGOTIATE_SIGNING_REQUIRED.
    pub const SIGNING_REQUIRED: u16 = 0x0002;
}

/// Global capability bits (MS-SMB2 2.2.3).
pub mod caps {
    /// SMB2_GLOBAL_CAP_DFS.
    pub const DFS: u32 = 0x01;
    /// SMB2_GLOBAL_CAP_LEASING.
    pub const LEASING: u32 = 0x02;
    /// SMB2_GLOBAL_CAP_LARGE_MTU.
    pub const LARGE_MTU: u32 = 0x04;
    /// SMB2_GLOBAL_CAP_MULTI_CHANNEL.
    pub const MULTI_CHANNEL: u32 = 0x08;
    /// SMB2_GLOBAL_CAP_PERSISTENT_HANDLES.
    pub const PERSISTENT_HANDLES: u32 = 0x10;
    /// SMB2_GLOBAL_CAP_DIRECTORY_LEASING.
    pub const DIRECTORY_LEASING: u32 = 0x20;
    /// SMB2_GLOBAL_CAP_ENCRYPTION.
    pub const ENCRYPTION: u32 = 0x40;
}

/// Negotiate context types (MS-SMB2 2.2.3.1).
pub mod ctx {
    /// SMB2_PREAUTH_INTEGRITY_CAPABILITIES.
    pub const PREAUTH_INTEGRITY: u16 = 0x0001;
    /// SMB2_ENCRYPTION_CAPABILITIES.
    pub const ENCRYPTION: u16 = 0x0002;
    /// SMB2_COMPRESSION_CAPABILITIES.
    pub const COMPRESSION: u16 = 0x0003;
    /// SMB2_NETNAME_NEGOTIATE_CONTEXT_ID.
    pub const NETNAME: u16 = 0x0005;
    /// SMB2_TRANSPORT_CAPABILITIES.
    pub const TRANSPORT: u16 = 0x0006;
    /// SMB2_RDMA_TRANSFORM_CAPABILITIES.
    pub const RDMA_TRANSFORM: u16 = 0x0007;
    /// SMB2_SIGNING_CAPABILITIES.
    pub const SIGNING: u16 = 0x0008;
}

/// SHA-512, the only preauth integrity hash (MS-SMB2 2.2.3.1.1).
pub const HASH_SHA512: u16 = 0x0001;

/// A decoded NEGOTIATE request.
#[derive(Debug, Clone, Default)]
pub struct NegotiateRequest {
    /// SecurityMode.
    pub security_mode: u16,
    /// Capabilities.
    pub capabilities: u32,
    /// ClientGuid.
    pub client_guid: [u8; 16],
    /// Offered dialects.
    pub dialects: Vec<Dialect>,
    /// Hash algorithms of the preauth context (3.1.1), if it was sent.
    pub preauth_hashes: Option<Vec<u16>>,
    /// Ciphers of the encryption context, if it was sent.
    pub ciphers: Option<Vec<u16>>,
    /// Signing algorithms of the signing context, if it was sent.
    pub signing_algorithms: Option<Vec<u16>>,
}

/// Most dialects a request may list; more is refused as invalid.
const MAX_DIALECTS: usize = 64;

impl NegotiateRequest {
    /// Decodes a NEGOTIATE request; `msg` starts at the SMB2 header.
    pub fn decode(msg: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::at_pos(msg, HEADER_LEN);
        if r.u16("StructureSize")? != 36 {
            return Err(DecodeError::invalid("StructureSize"));
        }
        let count = r.u16("DialectCount")? as usize;
        if count == 0 || count > MAX_DIALECTS {
            return Err(DecodeError::invalid("DialectCount"));
        }
        let security_mode = r.u16("SecurityMode")?;
        r.skip(2, "Reserved")?;
        let capabilities = r.u32("Capabilities")?;
        let client_guid = r.guid("ClientGuid")?;
        let ctx_offset = r.u32("NegotiateContextOffset")? as usize;
        let ctx_count = r.u16("NegotiateContextCount")? as usize;
        r.skip(2, "Reserved2")?;
        let mut dialects = Vec::with_capacity(count);
        for _ in 0..count {
            dialects.push(Dialect(r.u16("Dialects")?));
        }
        let mut req = Self {
            security_mode,
            capabilities,
            client_guid,
            dialects,
            ..Self::default()
        };
        if req.dialects.contains(&Dialect::Smb311) && ctx_count > 0 {
            req.decode_contexts(msg, ctx_offset, ctx_count)?;
        }
        Ok(req)
    }

    fn decode_contexts(
        &mut self,
        msg: &[u8],
        offset: usize,
        count: usize,
    ) -> Result<(), DecodeError> {
        let mut pos = offset;
        for i in 0..count {
            if i > 0 {
                pos = pos.next_multiple_of(8);
            }
            let mut r = Reader::at_pos(msg, pos);
            if pos > msg.len() {
                return Err(DecodeError::bounds("NegotiateContext"));
            }
            let kind = r.u16("ContextType")?;
            let len = r.u16("DataLength")? as usize;
            r.skip(4, "Reserved")?;
            let data = r.take(len, "NegotiateContext Data")?;
            pos = r.pos();
            let mut d = Reader::new(data);
            match kind {
                ctx::PREAUTH_INTEGRITY => {
                    let n = d.u16("HashAlgorithmCount")? as usize;
                    let _salt_len = d.u16("SaltLength")?;
                    if n == 0 {
                        return Err(DecodeError::invalid("HashAlgorithmCount"));
                    }
                    self.preauth_hashes = Some(read_u16_list(&mut d, n, "HashAlgorithms")?);
                }
                ctx::ENCRYPTION => {
                    let n = d.u16("CipherCount")? as usize;
                    if n == 0 {
                        return Err(DecodeError::invalid("CipherCount"));
                    }
                    self.ciphers = Some(read_u16_list(&mut d, n, "Ciphers")?);
                }
                ctx::SIGNING => {
                    let n = d.u16("SigningAlgorithmCount")? as usize;
                    if n == 0 {
                        return Err(DecodeError::invalid("SigningAlgorithmCount"));
                    }
                    self.signing_algorithms = Some(read_u16_list(&mut d, n, "SigningAlgorithms")?);
                }
                // Unknown and unsupported contexts are ignored (MS-SMB2 3.3.5.4).
                _ => {}
            }
        }
        Ok(())
    }
}

fn read_u16_list(
    r: &mut Reader<'_>,
    n: usize,
    what: &'static str,
) -> Result<Vec<u16>, DecodeError> {
    if r.remaining() < n * 2 {
        return Err(DecodeError::truncated(what));
    }
    (0..n).map(|_| r.u16(what)).collect()
}

/// The NEGOTIATE response (MS-SMB2 2.2.4).
#[derive(Debug, Clone, Default)]
pub struct NegotiateResponse {
    /// SecurityMode.
    pub security_mode: u16,
    /// DialectRevision.
    pub dialect: Dialect,
    /// ServerGuid.
    pub server_guid: [u8; 16],
    /// Capabilities.
    pub capabilities: u32,
    /// MaxTransactSize.
    pub max_transact_size: u32,
    /// MaxReadSize.
    pub max_read_size: u32,
    /// MaxWriteSize.
    pub max_write_size: u32,
    /// SystemTime (FILETIME).
    pub system_time: u64,
    /// The security blob (SPNEGO NegTokenInit2).
    pub security_buffer: Vec<u8>,
    /// 3.1.1: the preauth salt to send (32 bytes).
    pub preauth_salt: Option<[u8; 32]>,
    /// 3.1.1: the chosen cipher (0 = none in common), when the client sent the context.
    pub cipher: Option<u16>,
    /// 3.1.1: the chosen signing algorithm, when the client sent the context.
    pub signing_algorithm: Option<u16>,
}

impl NegotiateResponse {
    /// Appends the body (after the header).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let base = out.len() - HEADER_LEN;
        out.put_u16(65);
        out.put_u16(self.security_mode);
        out.put_u16(self.dialect.0);
        let ctx_count_pos = out.len();
        out.put_u16(0);
        out.extend_from_slice(&self.server_guid);
        out.put_u32(self.capabilities);
        out.put_u32(self.max_transact_size);
        out.put_u32(self.max_read_size);
        out.put_u32(self.max_write_size);
        out.put_u64(self.system_time);
        out.put_u64(0);
        let sec_pos = out.len();
        out.put_u16(0);
        out.put_u16(self.security_buffer.len() as u16);
        let ctx_off_pos = out.len();
        out.put_u32(0);
        let sec_off = out.len() - base;
        out.extend_from_slice(&self.security_buffer);
        out.patch_u16(sec_pos, sec_off as u16);
        if self.dialect != Dialect::Smb311 {
            if self.security_buffer.is_empty() {
                out.push(0);
            }
            return;
        }
        let mut count = 0u16;
        let mut first = true;
        let mut begin_ctx = |out: &mut Vec<u8>, kind: u16, data: &[u8]| {
            while !(out.len() - base).is_multiple_of(8) {
                out.push(0);
            }
            if first {
                let off = (out.len() - base) as u32;
                out.patch_u32(ctx_off_pos, off);
                first = false;
            }
            out.put_u16(kind);
            out.put_u16(data.len() as u16);
            out.put_u32(0);
            out.extend_from_slice(data);
            count += 1;
        };
        if let Some(salt) = &self.preauth_salt {
            let mut d = Vec::new();
            d.put_u16(1);
            d.put_u16(32);
            d.put_u16(HASH_SHA512);
            d.extend_from_slice(salt);
            begin_ctx(out, ctx::PREAUTH_INTEGRITY, &d);
        }
        if let Some(c) = self.cipher {
            let mut d = Vec::new();
            d.put_u16(1);
            d.put_u16(c);
            begin_ctx(out, ctx::ENCRYPTION, &d);
        }
        if let Some(s) = self.signing_algorithm {
            let mut d = Vec::new();
            d.put_u16(1);
            d.put_u16(s);
            begin_ctx(out, ctx::SIGNING, &d);
        }
        out.patch_u16(ctx_count_pos, count);
    }
}

/// Which SMB2 dialect an SMB1 NEGOTIATE asks for, if any (MS-SMB2 3.3.5.3.1): `Wildcard` when it
/// lists "SMB 2.???", `Smb202` when it lists only "SMB 2.002", `None` when it offers no SMB2.
pub fn smb1_negotiate_dialect(msg: &[u8]) -> Option<Dialect> {
    // SMB1 header is 32 bytes; command 0x72 is NEGOTIATE.
    if msg.len() < 35 || msg[4] != 0x72 {
        return None;
    }
    let word_count = msg[32] as usize;
    let bc_pos = 33 + word_count * 2;
    let mut r = Reader::at_pos(msg, bc_pos);
    let byte_count = r.u16("ByteCount").ok()? as usize;
    let bytes = r.take(byte_count.min(r.remaining()), "Dialects").ok()?;
    let mut wildcard = false;
    let mut two = false;
    for d in bytes.split(|b| *b == 0) {
        let name = d.strip_prefix(&[0x02]).unwrap_or(d);
        match name {
            b"SMB 2.???" => wildcard = true,
            b"SMB 2.002" => two = true,
            _ => {}
        }
    }
    if wildcard {
        Some(Dialect::Wildcard)
    } else if two {
        Some(Dialect::Smb202)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Header;

    fn request(dialects: &[u16], contexts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut m = Vec::new();
        Header::default().encode(&mut m);
        m.put_u16(36);
        m.put_u16(dialects.len() as u16);
        m.put_u16(1);
        m.put_u16(0);
        m.put_u32(0x7f);
        m.extend_from_slice(&[7; 16]);
        let off_pos = m.len();
        m.put_u32(0);
        m.put_u16(contexts.len() as u16);
        m.put_u16(0);
        for d in dialects {
            m.put_u16(*d);
        }
        for (i, (kind, data)) in contexts.iter().enumerate() {
            m.pad_to(8);
            if i == 0 {
                let l = m.len() as u32;
                m.patch_u32(off_pos, l);
            }
            m.put_u16(*kind);
            m.put_u16(data.len() as u16);
            m.put_u32(0);
            m.extend_from_slice(data);
        }
        m
    }

    #[test]
    fn decodes_contexts_and_ignores_unknown() {
        let mut pre = Vec::new();
        pre.put_u16(1);
        pre.put_u16(2);
        pre.put_u16(1);
        pre.extend_from_slice(&[1, 2]);
        let mut enc = Vec::new();
        enc.put_u16(2);
        enc.put_u16(2);
        enc.put_u16(1);
        let m = request(
            &[0x0202, 0x0311],
            &[(1, pre), (0x99, vec![1, 2, 3]), (2, enc)],
        );
        let r = NegotiateRequest::decode(&m).unwrap();
        assert_eq!(r.dialects, vec![Dialect::Smb202, Dialect::Smb311]);
        assert_eq!(r.preauth_hashes, Some(vec![1]));
        assert_eq!(r.ciphers, Some(vec![2, 1]));
        assert_eq!(r.client_guid, [7; 16]);
        for cut in 0..m.len() {
            let _ = NegotiateRequest::decode(&m[..cut]);
        }
    }

    #[test]
    fn smb1_negotiate_detection() {
        let mut m = vec![0xFF, b'S', b'M', b'B', 0x72];
        m.resize(32, 0);
        m.push(0);
        let dialects = b"\x02NT LM 0.12\0\x02SMB 2.002\0\x02SMB 2.???\0";
        m.extend_from_slice(&(dialects.len() as u16).to_le_bytes());
        m.extend_from_slice(dialects);
        assert_eq!(smb1_negotiate_dialect(&m), Some(Dialect::Wildcard));
        assert_eq!(smb1_negotiate_dialect(&m[..20]), None);
    }
}
