//! Client-side SMB2 message bodies: request encoders and response decoders (MS-SMB2 2.2).
//!
//! The server crate's `proto` decodes requests and encodes responses; a client needs the
//! mirror image, written here. Every encoder returns the body that follows the 64-byte header
//! (offsets inside the body count from the start of the header, as SMB2 requires). Decoders
//! take the whole message (header included) and check every offset and length.

use smbd::proto::codec::{put_utf16le, utf16le_len};
use smbd::proto::{DecodeError, Reader, WriteLe};

/// Size of the SMB2 header that precedes every body.
const HDR: usize = 64;

/// Negotiate capabilities (2.2.3): LARGE_MTU and ENCRYPTION.
pub const CAP_LARGE_MTU: u32 = 0x04;
/// SMB2_GLOBAL_CAP_MULTI_CHANNEL: the client may bind more connections to a session.
pub const CAP_MULTI_CHANNEL: u32 = 0x08;
/// SMB2_GLOBAL_CAP_ENCRYPTION (3.0 and 3.0.2 only).
pub const CAP_ENCRYPTION: u32 = 0x40;
/// SMB2_SESSION_FLAG_BINDING (2.2.5): the SESSION_SETUP binds this connection to an existing
/// session as another channel.
pub const SESSION_FLAG_BINDING: u8 = 0x01;
/// SMB2_NEGOTIATE_SIGNING_ENABLED.
pub const SIGNING_ENABLED: u16 = 0x01;
/// SMB2_NEGOTIATE_SIGNING_REQUIRED.
pub const SIGNING_REQUIRED: u16 = 0x02;

/// What a client offers in NEGOTIATE (2.2.3 and its contexts 2.2.3.1).
#[derive(Debug, Clone)]
pub struct NegotiateOffer {
    /// Dialects, e.g. `[0x0311]`.
    pub dialects: Vec<u16>,
    /// SecurityMode.
    pub security_mode: u16,
    /// ClientGuid.
    pub client_guid: [u8; 16],
    /// Capabilities (LARGE_MTU and ENCRYPTION, plus MULTI_CHANNEL for a client that binds).
    pub capabilities: u32,
    /// Preauth salt (3.1.1).
    pub salt: [u8; 32],
    /// Cipher ids to offer, most preferred first (3.1.1).
    pub ciphers: Vec<u16>,
    /// Signing algorithm ids to offer (3.1.1).
    pub signing: Vec<u16>,
}

/// Appends one negotiate context (2.2.3.1), 8-byte aligned first.
fn push_context(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.pad_to(8);
    out.put_u16(kind);
    out.put_u16(u16::try_from(data.len()).unwrap_or(u16::MAX));
    out.put_u32(0);
    out.extend_from_slice(data);
}

/// Encodes a NEGOTIATE request body (2.2.3). `out` already holds the 64-byte header.
pub fn negotiate(out: &mut Vec<u8>, o: &NegotiateOffer) {
    let has_311 = o.dialects.contains(&0x0311);
    out.put_u16(36);
    out.put_u16(u16::try_from(o.dialects.len()).unwrap_or(0));
    out.put_u16(o.security_mode);
    out.put_u16(0);
    out.put_u32(o.capabilities);
    out.extend_from_slice(&o.client_guid);
    let ctx_offset_at = out.len();
    out.put_u64(0); // NegotiateContextOffset/Count/Reserved2, or ClientStartTime
    for d in &o.dialects {
        out.put_u16(*d);
    }
    if !has_311 {
        return;
    }
    out.pad_to(8);
    let ctx_offset = out.len();
    let mut preauth = Vec::new();
    preauth.put_u16(1); // HashAlgorithmCount
    preauth.put_u16(32); // SaltLength
    preauth.put_u16(1); // SHA-512
    preauth.extend_from_slice(&o.salt);
    push_context(out, 1, &preauth);
    let mut count = 1u16;
    if !o.ciphers.is_empty() {
        let mut enc = Vec::new();
        enc.put_u16(u16::try_from(o.ciphers.len()).unwrap_or(0));
        for c in &o.ciphers {
            enc.put_u16(*c);
        }
        push_context(out, 2, &enc);
        count += 1;
    }
    if !o.signing.is_empty() {
        let mut sig = Vec::new();
        sig.put_u16(u16::try_from(o.signing.len()).unwrap_or(0));
        for s in &o.signing {
            sig.put_u16(*s);
        }
        push_context(out, 8, &sig);
        count += 1;
    }
    out.patch_u32(ctx_offset_at, u32::try_from(ctx_offset).unwrap_or(0));
    out.patch_u16(ctx_offset_at + 4, count);
}

/// The fields of a NEGOTIATE response (2.2.4) this client uses.
#[derive(Debug, Clone, Default)]
pub struct NegotiateReply {
    /// SecurityMode of the server.
    pub security_mode: u16,
    /// DialectRevision.
    pub dialect: u16,
    /// Capabilities.
    pub capabilities: u32,
    /// MaxTransactSize.
    pub max_transact: u32,
    /// MaxReadSize.
    pub max_read: u32,
    /// MaxWriteSize.
    pub max_write: u32,
    /// The cipher chosen in ENCRYPTION_CAPABILITIES (3.1.1), 0 if none.
    pub cipher: u16,
    /// The signing algorithm chosen in SIGNING_CAPABILITIES (3.1.1), if sent.
    pub signing: Option<u16>,
}

/// Decodes a NEGOTIATE response (2.2.4) and its contexts.
pub fn negotiate_reply(msg: &[u8]) -> Result<NegotiateReply, DecodeError> {
    let mut r = Reader::at_pos(msg, HDR);
    if r.u16("StructureSize")? != 65 {
        return Err(DecodeError::invalid("StructureSize"));
    }
    let security_mode = r.u16("SecurityMode")?;
    let dialect = r.u16("DialectRevision")?;
    let ctx_count = r.u16("NegotiateContextCount")?;
    r.skip(16, "ServerGuid")?;
    let capabilities = r.u32("Capabilities")?;
    let max_transact = r.u32("MaxTransactSize")?;
    let max_read = r.u32("MaxReadSize")?;
    let max_write = r.u32("MaxWriteSize")?;
    r.skip(16, "SystemTime")?;
    r.skip(4, "SecurityBuffer")?;
    let ctx_offset = r.u32("NegotiateContextOffset")?;
    let mut reply = NegotiateReply {
        security_mode,
        dialect,
        capabilities,
        max_transact,
        max_read,
        max_write,
        cipher: 0,
        signing: None,
    };
    if dialect != 0x0311 {
        return Ok(reply);
    }
    let mut pos = usize::try_from(ctx_offset).map_err(|_| DecodeError::bounds("ctx"))?;
    for _ in 0..ctx_count {
        pos = pos.div_ceil(8) * 8;
        let mut c = Reader::at_pos(msg, pos);
        let kind = c.u16("ContextType")?;
        let len = usize::from(c.u16("DataLength")?);
        c.skip(4, "Reserved")?;
        let mut d = Reader::new(c.take(len, "context Data")?);
        match kind {
            2 => {
                d.u16("CipherCount")?;
                reply.cipher = d.u16("Cipher")?;
            }
            8 => {
                d.u16("SigningAlgorithmCount")?;
                reply.signing = Some(d.u16("SigningAlgorithm")?);
            }
            _ => {}
        }
        pos = c.pos();
    }
    Ok(reply)
}

/// Encodes a SESSION_SETUP request body (2.2.5) carrying `blob`; `flags` is 0 or
/// [`SESSION_FLAG_BINDING`].
pub fn session_setup(out: &mut Vec<u8>, flags: u8, security_mode: u8, blob: &[u8]) {
    out.put_u16(25);
    out.push(flags);
    out.push(security_mode);
    out.put_u32(0); // Capabilities
    out.put_u32(0); // Channel
    out.put_u16(u16::try_from(HDR + 24).unwrap_or(0));
    out.put_u16(u16::try_from(blob.len()).unwrap_or(0));
    out.put_u64(0); // PreviousSessionId
    out.extend_from_slice(blob);
}

/// Decodes a SESSION_SETUP response (2.2.6): (SessionFlags, security blob).
pub fn session_setup_reply(msg: &[u8]) -> Result<(u16, &[u8]), DecodeError> {
    let mut r = Reader::at_pos(msg, HDR);
    r.u16("StructureSize")?;
    let flags = r.u16("SessionFlags")?;
    let off = usize::from(r.u16("SecurityBufferOffset")?);
    let len = usize::from(r.u16("SecurityBufferLength")?);
    let blob = if len == 0 {
        &[][..]
    } else {
        r.at(off, len, "SecurityBuffer")?
    };
    Ok((flags, blob))
}

/// Encodes a TREE_CONNECT request body (2.2.9) for `\\server\share`.
pub fn tree_connect(out: &mut Vec<u8>, unc: &str) {
    out.put_u16(9);
    out.put_u16(0);
    out.put_u16(u16::try_from(HDR + 8).unwrap_or(0));
    out.put_u16(u16::try_from(utf16le_len(unc)).unwrap_or(0));
    put_utf16le(out, unc);
}

/// Encodes an ECHO request body (2.2.28).
pub fn echo(out: &mut Vec<u8>) {
    out.put_u16(4);
    out.put_u16(0);
}

/// A CREATE request (2.2.13), without create contexts.
#[derive(Debug, Clone, Copy)]
pub struct Create<'a> {
    /// Path relative to the share root, `\`-separated.
    pub name: &'a str,
    /// DesiredAccess.
    pub access: u32,
    /// FileAttributes.
    pub attributes: u32,
    /// ShareAccess.
    pub share: u32,
    /// CreateDisposition.
    pub disposition: u32,
    /// CreateOptions.
    pub options: u32,
}

/// FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE.
pub const SHARE_ALL: u32 = 7;
/// FILE_OPEN.
pub const FILE_OPEN: u32 = 1;
/// FILE_CREATE.
pub const FILE_CREATE: u32 = 2;
/// FILE_OPEN_IF.
pub const FILE_OPEN_IF: u32 = 3;
/// FILE_OVERWRITE_IF.
pub const FILE_OVERWRITE_IF: u32 = 5;
/// FILE_DIRECTORY_FILE.
pub const OPT_DIRECTORY: u32 = 0x01;
/// FILE_NON_DIRECTORY_FILE.
pub const OPT_NON_DIRECTORY: u32 = 0x40;
/// GENERIC_READ | GENERIC_WRITE as FILE_* rights: read/write data, attributes and EAs.
pub const ACCESS_RW: u32 = 0x0012_019F;
/// FILE_READ_DATA | FILE_READ_ATTRIBUTES | SYNCHRONIZE | READ_CONTROL (a directory listing).
pub const ACCESS_READ: u32 = 0x0012_0089;
/// FILE_READ_ATTRIBUTES.
pub const ACCESS_READ_ATTRIBUTES: u32 = 0x80;
/// DELETE | FILE_READ_ATTRIBUTES.
pub const ACCESS_DELETE: u32 = 0x0001_0080;

/// Encodes a CREATE request body.
pub fn create(out: &mut Vec<u8>, c: &Create<'_>) {
    out.put_u16(57);
    out.push(0); // SecurityFlags
    out.push(0); // RequestedOplockLevel: none
    out.put_u32(2); // ImpersonationLevel: Impersonation
    out.put_u64(0);
    out.put_u64(0);
    out.put_u32(c.access);
    out.put_u32(c.attributes);
    out.put_u32(c.share);
    out.put_u32(c.disposition);
    out.put_u32(c.options);
    out.put_u16(u16::try_from(HDR + 56).unwrap_or(0));
    out.put_u16(u16::try_from(utf16le_len(c.name)).unwrap_or(0));
    out.put_u32(0);
    out.put_u32(0);
    if c.name.is_empty() {
        out.push(0);
    } else {
        put_utf16le(out, c.name);
    }
}

/// The fields of a CREATE response (2.2.14) this client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Created {
    /// FileId (persistent, volatile).
    pub file_id: [u8; 16],
    /// EndofFile.
    pub end_of_file: u64,
}

/// Decodes a CREATE response.
pub fn create_reply(msg: &[u8]) -> Result<Created, DecodeError> {
    let mut r = Reader::at_pos(msg, HDR);
    if r.u16("StructureSize")? != 89 {
        return Err(DecodeError::invalid("StructureSize"));
    }
    r.skip(46, "times and sizes")?;
    let end_of_file = r.u64("EndofFile")?;
    r.skip(8, "FileAttributes")?;
    let file_id = r.guid("FileId")?;
    Ok(Created {
        file_id,
        end_of_file,
    })
}

/// The FileId that, in a related compound, means "the file of the previous request".
pub const RELATED_FILE_ID: [u8; 16] = [0xFF; 16];

/// Encodes a CLOSE request body (2.2.15).
pub fn close(out: &mut Vec<u8>, file_id: &[u8; 16]) {
    out.put_u16(24);
    out.put_u16(0);
    out.put_u32(0);
    out.extend_from_slice(file_id);
}

/// Encodes a READ request body (2.2.19).
pub fn read(out: &mut Vec<u8>, file_id: &[u8; 16], offset: u64, len: u32) {
    out.put_u16(49);
    out.push(0x50); // Padding: data right after the response header and body
    out.push(0);
    out.put_u32(len);
    out.put_u64(offset);
    out.extend_from_slice(file_id);
    out.put_u32(0); // MinimumCount
    out.put_u32(0); // Channel
    out.put_u32(0); // RemainingBytes
    out.put_u32(0); // ReadChannelInfoOffset/Length
    out.push(0);
}

/// Decodes a READ response (2.2.20): the data.
pub fn read_reply(msg: &[u8]) -> Result<&[u8], DecodeError> {
    let mut r = Reader::at_pos(msg, HDR);
    r.u16("StructureSize")?;
    let off = usize::from(r.u8("DataOffset")?);
    r.skip(1, "Reserved")?;
    let len = usize::try_from(r.u32("DataLength")?).map_err(|_| DecodeError::bounds("len"))?;
    if len == 0 {
        return Ok(&[]);
    }
    r.at(off, len, "Data")
}

/// The fixed part of a WRITE request body, up to the data.
pub const WRITE_FIXED: usize = 48;

/// Encodes a WRITE request body (2.2.21) header part; the caller appends `len` data bytes.
pub fn write_prefix(out: &mut Vec<u8>, file_id: &[u8; 16], offset: u64, len: u32) {
    out.put_u16(49);
    out.put_u16(u16::try_from(HDR + WRITE_FIXED).unwrap_or(0));
    out.put_u32(len);
    out.put_u64(offset);
    out.extend_from_slice(file_id);
    out.put_u32(0); // Channel
    out.put_u32(0); // RemainingBytes
    out.put_u32(0); // WriteChannelInfoOffset/Length
    out.put_u32(0); // Flags
}

/// Decodes a WRITE response (2.2.22): Count.
pub fn write_reply(msg: &[u8]) -> Result<u32, DecodeError> {
    let mut r = Reader::at_pos(msg, HDR);
    r.u16("StructureSize")?;
    r.skip(2, "Reserved")?;
    r.u32("Count")
}

/// FileIdBothDirectoryInformation (MS-FSCC 2.4.17).
pub const FILE_ID_BOTH_DIRECTORY_INFORMATION: u8 = 37;
/// SMB2_RESTART_SCANS.
pub const RESTART_SCANS: u8 = 0x01;

/// Encodes a QUERY_DIRECTORY request body (2.2.33) for `pattern`.
pub fn query_directory(out: &mut Vec<u8>, file_id: &[u8; 16], flags: u8, pattern: &str, max: u32) {
    out.put_u16(33);
    out.push(FILE_ID_BOTH_DIRECTORY_INFORMATION);
    out.push(flags);
    out.put_u32(0);
    out.extend_from_slice(file_id);
    out.put_u16(u16::try_from(HDR + 32).unwrap_or(0));
    out.put_u16(u16::try_from(utf16le_len(pattern)).unwrap_or(0));
    out.put_u32(max);
    put_utf16le(out, pattern);
}

/// Decodes a QUERY_DIRECTORY, QUERY_INFO or IOCTL-style buffer response (2.2.34, 2.2.38):
/// StructureSize 9, OutputBufferOffset u16, OutputBufferLength u32.
pub fn buffer_reply(msg: &[u8]) -> Result<&[u8], DecodeError> {
    let mut r = Reader::at_pos(msg, HDR);
    r.u16("StructureSize")?;
    let off = usize::from(r.u16("OutputBufferOffset")?);
    let len =
        usize::try_from(r.u32("OutputBufferLength")?).map_err(|_| DecodeError::bounds("len"))?;
    if len == 0 {
        return Ok(&[]);
    }
    r.at(off, len, "OutputBuffer")
}

/// Counts the entries of a directory information buffer by following NextEntryOffset.
pub fn count_dir_entries(buf: &[u8]) -> Result<usize, DecodeError> {
    let mut n = 0usize;
    let mut pos = 0usize;
    loop {
        let mut r = Reader::at_pos(buf, pos);
        let next =
            usize::try_from(r.u32("NextEntryOffset")?).map_err(|_| DecodeError::bounds("next"))?;
        n += 1;
        if next == 0 {
            return Ok(n);
        }
        pos = pos
            .checked_add(next)
            .filter(|p| *p < buf.len())
            .ok_or(DecodeError::bounds("NextEntryOffset"))?;
    }
}

/// SMB2_0_INFO_FILE.
pub const INFO_FILE: u8 = 1;
/// FileNetworkOpenInformation (MS-FSCC 2.4.29), 56 bytes.
pub const FILE_NETWORK_OPEN_INFORMATION: u8 = 34;
/// FileDispositionInformation (MS-FSCC 2.4.11).
pub const FILE_DISPOSITION_INFORMATION: u8 = 13;

/// Encodes a QUERY_INFO request body (2.2.37).
pub fn query_info(out: &mut Vec<u8>, file_id: &[u8; 16], info_type: u8, class: u8, max: u32) {
    out.put_u16(41);
    out.push(info_type);
    out.push(class);
    out.put_u32(max);
    out.put_u16(0); // InputBufferOffset
    out.put_u16(0);
    out.put_u32(0); // InputBufferLength
    out.put_u32(0); // AdditionalInformation
    out.put_u32(0); // Flags
    out.extend_from_slice(file_id);
}

/// Encodes a SET_INFO request body (2.2.39) carrying `data`.
pub fn set_info(out: &mut Vec<u8>, file_id: &[u8; 16], info_type: u8, class: u8, data: &[u8]) {
    out.put_u16(33);
    out.push(info_type);
    out.push(class);
    out.put_u32(u32::try_from(data.len()).unwrap_or(0));
    out.put_u16(u16::try_from(HDR + 32).unwrap_or(0));
    out.put_u16(0);
    out.put_u32(0);
    out.extend_from_slice(file_id);
    out.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_header(body: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut m = vec![0u8; HDR];
        body(&mut m);
        m
    }

    #[test]
    fn negotiate_request_has_aligned_contexts() {
        let offer = NegotiateOffer {
            dialects: vec![0x0202, 0x0311],
            security_mode: SIGNING_ENABLED,
            client_guid: [1; 16],
            capabilities: CAP_LARGE_MTU | CAP_MULTI_CHANNEL,
            salt: [2; 32],
            ciphers: vec![2, 4],
            signing: vec![2],
        };
        let m = with_header(|m| negotiate(m, &offer));
        // The server's own decoder accepts what we send.
        let req = smbd::proto::negotiate::NegotiateRequest::decode(&m).unwrap();
        assert_eq!(req.dialects.len(), 2);
        assert_eq!(req.capabilities, CAP_LARGE_MTU | CAP_MULTI_CHANNEL);
        let off = u32::from_le_bytes(m[HDR + 28..HDR + 32].try_into().unwrap()) as usize;
        assert_eq!(off % 8, 0);
        assert_eq!(u16::from_le_bytes([m[HDR + 32], m[HDR + 33]]), 3);
    }

    #[test]
    fn binding_session_setup_decodes_with_the_server_codec() {
        let m = with_header(|m| session_setup(m, SESSION_FLAG_BINDING, 1, b"NTLMSSP\0"));
        let req = smbd::proto::session::SessionSetupRequest::decode(&m).unwrap();
        assert_eq!(req.flags, smbd::proto::session::SESSION_FLAG_BINDING);
        assert_eq!(req.security_buffer, b"NTLMSSP\0");
        assert_eq!(req.previous_session_id, 0);
    }

    #[test]
    fn create_and_read_requests_decode_with_the_server_codecs() {
        let m = with_header(|m| {
            create(
                m,
                &Create {
                    name: "dir\\file.txt",
                    access: ACCESS_RW,
                    attributes: 0x80,
                    share: SHARE_ALL,
                    disposition: FILE_OPEN_IF,
                    options: OPT_NON_DIRECTORY,
                },
            )
        });
        let c = smbd::proto::create::CreateRequest::decode(&m).unwrap();
        assert_eq!(c.desired_access, ACCESS_RW);
        let m = with_header(|m| read(m, &[3; 16], 4096, 65536));
        let r = smbd::proto::io::ReadRequest::decode(&m).unwrap();
        assert_eq!((r.offset, r.length), (4096, 65536));
        let m = with_header(|m| {
            write_prefix(m, &[3; 16], 8, 3);
            m.extend_from_slice(b"abc");
        });
        let w = smbd::proto::io::WriteRequest::decode(&m).unwrap();
        assert_eq!(w.offset, 8);
    }

    #[test]
    fn truncated_replies_are_errors_not_panics() {
        for n in 0..HDR + 20 {
            let m = vec![0x41u8; n];
            let _ = negotiate_reply(&m);
            let _ = create_reply(&m);
            let _ = read_reply(&m);
            let _ = buffer_reply(&m);
            let _ = session_setup_reply(&m);
        }
        assert!(count_dir_entries(&[8, 0, 0, 0, 0, 0, 0, 0, 0xFF]).is_err());
        assert_eq!(count_dir_entries(&[0, 0, 0, 0]).unwrap(), 1);
    }

    #[test]
    fn read_reply_bounds_are_checked() {
        let mut m = vec![0u8; HDR];
        m.put_u16(17);
        m.push(80);
        m.push(0);
        m.put_u32(4);
        m.put_u64(0);
        m.extend_from_slice(b"data");
        assert_eq!(read_reply(&m).unwrap(), b"data");
        m.truncate(m.len() - 1);
        assert!(read_reply(&m).is_err());
    }
}
