//! NTLM message codec (MS-NLMP 2.2): NEGOTIATE, CHALLENGE and AUTHENTICATE messages, AV_PAIRs
//! and the VERSION structure.
//!
//! Parsers check every offset and length against the message before slicing and never panic.

/// The 8-byte signature every NTLM message starts with (MS-NLMP 2.2.1).
pub const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// NegotiateFlags bits (MS-NLMP 2.2.2.5).
pub mod flags {
    /// NTLMSSP_NEGOTIATE_UNICODE (A).
    pub const UNICODE: u32 = 0x0000_0001;
    /// NTLM_NEGOTIATE_OEM (B).
    pub const OEM: u32 = 0x0000_0002;
    /// NTLMSSP_REQUEST_TARGET (C).
    pub const REQUEST_TARGET: u32 = 0x0000_0004;
    /// NTLMSSP_NEGOTIATE_SIGN (D).
    pub const SIGN: u32 = 0x0000_0010;
    /// NTLMSSP_NEGOTIATE_SEAL (E).
    pub const SEAL: u32 = 0x0000_0020;
    /// NTLMSSP_NEGOTIATE_LM_KEY (G).
    pub const LM_KEY: u32 = 0x0000_0080;
    /// NTLMSSP_NEGOTIATE_NTLM (H).
    pub const NTLM: u32 = 0x0000_0200;
    /// Anonymous connection (J).
    pub const ANONYMOUS: u32 = 0x0000_0800;
    /// NTLMSSP_NEGOTIATE_ALWAYS_SIGN (M).
    pub const ALWAYS_SIGN: u32 = 0x0000_8000;
    /// NTLMSSP_TARGET_TYPE_DOMAIN (N).
    pub const TARGET_TYPE_DOMAIN: u32 = 0x0001_0000;
    /// NTLMSSP_TARGET_TYPE_SERVER (O).
    pub const TARGET_TYPE_SERVER: u32 = 0x0002_0000;
    /// NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY (P).
    pub const EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
    /// NTLMSSP_NEGOTIATE_TARGET_INFO (S).
    pub const TARGET_INFO: u32 = 0x0080_0000;
    /// NTLMSSP_NEGOTIATE_VERSION (T).
    pub const VERSION: u32 = 0x0200_0000;
    /// NTLMSSP_NEGOTIATE_128 (U).
    pub const NEG_128: u32 = 0x2000_0000;
    /// NTLMSSP_NEGOTIATE_KEY_EXCH (V).
    pub const KEY_EXCH: u32 = 0x4000_0000;
    /// NTLMSSP_NEGOTIATE_56 (W).
    pub const NEG_56: u32 = 0x8000_0000;
}

/// AV_PAIR identifiers (MS-NLMP 2.2.2.1).
pub mod av_id {
    /// MsvAvEOL.
    pub const EOL: u16 = 0;
    /// MsvAvNbComputerName.
    pub const NB_COMPUTER_NAME: u16 = 1;
    /// MsvAvNbDomainName.
    pub const NB_DOMAIN_NAME: u16 = 2;
    /// MsvAvDnsComputerName.
    pub const DNS_COMPUTER_NAME: u16 = 3;
    /// MsvAvDnsDomainName.
    pub const DNS_DOMAIN_NAME: u16 = 4;
    /// MsvAvFlags.
    pub const FLAGS: u16 = 6;
    /// MsvAvTimestamp.
    pub const TIMESTAMP: u16 = 7;
    /// MsvAvSingleHost.
    pub const SINGLE_HOST: u16 = 8;
    /// MsvAvTargetName: the SPN the client meant to authenticate to.
    pub const TARGET_NAME: u16 = 9;
    /// MsvAvChannelBindings: MD5 of the client's gss_channel_bindings_struct.
    pub const CHANNEL_BINDINGS: u16 = 10;
}

/// MsvAvFlags bit: the AUTHENTICATE message carries a MIC (MS-NLMP 2.2.2.1).
pub const AV_FLAG_MIC_PRESENT: u32 = 0x0000_0002;

/// Offset of the MIC field in an AUTHENTICATE message (MS-NLMP 2.2.1.3).
pub const MIC_OFFSET: usize = 72;

/// Why an NTLM message could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageError {
    /// The message is shorter than its fixed header.
    TooShort,
    /// The signature is not "NTLMSSP\0".
    BadSignature,
    /// The MessageType is not the one expected at this step.
    WrongMessageType,
    /// A payload field's offset and length point outside the message.
    FieldOutOfBounds,
    /// A Unicode string field has an odd length or invalid UTF-16.
    BadUnicodeString,
    /// An AV_PAIR list is truncated or lacks MsvAvEOL.
    BadAvPairs,
}

impl MessageError {
    /// A fixed description of the violation.
    pub fn describe(self) -> &'static str {
        match self {
            Self::TooShort => "NTLM message shorter than its header",
            Self::BadSignature => "NTLM signature is not NTLMSSP",
            Self::WrongMessageType => "NTLM message type unexpected at this step",
            Self::FieldOutOfBounds => "NTLM field points outside the message",
            Self::BadUnicodeString => "NTLM string is not valid UTF-16LE",
            Self::BadAvPairs => "NTLM AV_PAIR list malformed",
        }
    }
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    let b = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Reads the (Len, MaxLen, Offset) field descriptor at `at` and returns the bytes it names.
fn payload_field(msg: &[u8], at: usize) -> Result<&[u8], MessageError> {
    let len = usize::from(u16_at(msg, at).ok_or(MessageError::TooShort)?);
    let offset = u32_at(msg, at + 4).ok_or(MessageError::TooShort)? as usize;
    if len == 0 {
        return Ok(&[]);
    }
    let end = offset
        .checked_add(len)
        .ok_or(MessageError::FieldOutOfBounds)?;
    msg.get(offset..end).ok_or(MessageError::FieldOutOfBounds)
}

/// The offset of a non-empty payload field, used to find where the payload starts.
fn field_offset(msg: &[u8], at: usize) -> Option<usize> {
    let len = u16_at(msg, at)?;
    if len == 0 {
        None
    } else {
        u32_at(msg, at + 4).map(|o| o as usize)
    }
}

fn check_header(msg: &[u8], min_len: usize, msg_type: u32) -> Result<(), MessageError> {
    if msg.len() < min_len {
        return Err(MessageError::TooShort);
    }
    if msg.get(..8) != Some(&SIGNATURE[..]) {
        return Err(MessageError::BadSignature);
    }
    if u32_at(msg, 8) != Some(msg_type) {
        return Err(MessageError::WrongMessageType);
    }
    Ok(())
}

/// Whether `data` starts like a raw NTLMSSP message.
pub fn is_ntlmssp(data: &[u8]) -> bool {
    data.starts_with(SIGNATURE)
}

/// Decodes a UTF-16LE string.
pub fn utf16le_to_string(bytes: &[u8]) -> Result<String, MessageError> {
    let chunks = bytes.chunks_exact(2);
    if !chunks.remainder().is_empty() {
        return Err(MessageError::BadUnicodeString);
    }
    let units = chunks.map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| MessageError::BadUnicodeString)
}

/// Encodes a string as UTF-16LE.
pub fn string_to_utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Decodes a string field as Unicode or OEM (taken as Latin-1) depending on the flags.
pub fn decode_string(bytes: &[u8], unicode: bool) -> Result<String, MessageError> {
    if unicode {
        utf16le_to_string(bytes)
    } else {
        Ok(bytes.iter().map(|&b| char::from(b)).collect())
    }
}

/// A parsed NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1); only the flags matter to the acceptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiateMessage {
    /// The client's NegotiateFlags.
    pub flags: u32,
}

impl NegotiateMessage {
    /// Parses a NEGOTIATE message. The domain and workstation fields are optional (old clients
    /// send only the first 16 bytes) and ignored.
    pub fn parse(msg: &[u8]) -> Result<Self, MessageError> {
        check_header(msg, 16, 1)?;
        let flags = u32_at(msg, 12).ok_or(MessageError::TooShort)?;
        Ok(Self { flags })
    }
}

/// One AV_PAIR (MS-NLMP 2.2.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvPair<'a> {
    /// AvId.
    pub id: u16,
    /// The value bytes.
    pub value: &'a [u8],
}

/// Parses an AV_PAIR list up to MsvAvEOL; bytes after the EOL are ignored.
pub fn parse_av_pairs(data: &[u8]) -> Result<Vec<AvPair<'_>>, MessageError> {
    let mut pairs = Vec::new();
    let mut at = 0usize;
    loop {
        let id = u16_at(data, at).ok_or(MessageError::BadAvPairs)?;
        let len = usize::from(u16_at(data, at + 2).ok_or(MessageError::BadAvPairs)?);
        let start = at + 4;
        let value = data
            .get(start..start + len)
            .ok_or(MessageError::BadAvPairs)?;
        if id == av_id::EOL {
            return Ok(pairs);
        }
        pairs.push(AvPair { id, value });
        at = start + len;
    }
}

/// Appends one AV_PAIR.
pub fn push_av_pair(out: &mut Vec<u8>, id: u16, value: &[u8]) {
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&(value.len().min(usize::from(u16::MAX)) as u16).to_le_bytes());
    out.extend_from_slice(&value[..value.len().min(usize::from(u16::MAX))]);
}

/// The VERSION structure the server advertises (MS-NLMP 2.2.2.10): Windows 10 / Server 2022
/// numbering, NTLMSSP_REVISION_W2K3.
pub const SERVER_VERSION: [u8; 8] = [10, 0, 0x7C, 0x4F, 0, 0, 0, 0x0F];

/// The fields of a CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2) the server sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeMessage {
    /// NegotiateFlags chosen by the server.
    pub flags: u32,
    /// The 8-byte server challenge.
    pub server_challenge: [u8; 8],
    /// TargetName (already encoded, UTF-16LE).
    pub target_name: Vec<u8>,
    /// TargetInfo AV_PAIR list (already encoded, ending in MsvAvEOL).
    pub target_info: Vec<u8>,
}

/// Size of the fixed part of a CHALLENGE message including VERSION.
const CHALLENGE_HEADER: usize = 56;

impl ChallengeMessage {
    /// Encodes the message; the Version field is always present.
    pub fn encode(&self) -> Vec<u8> {
        let name_off = CHALLENGE_HEADER;
        let info_off = name_off + self.target_name.len();
        let mut out = Vec::with_capacity(info_off + self.target_info.len());
        out.extend_from_slice(SIGNATURE);
        out.extend_from_slice(&2u32.to_le_bytes());
        push_field(&mut out, self.target_name.len(), name_off);
        out.extend_from_slice(&self.flags.to_le_bytes());
        out.extend_from_slice(&self.server_challenge);
        out.extend_from_slice(&[0; 8]);
        push_field(&mut out, self.target_info.len(), info_off);
        out.extend_from_slice(&SERVER_VERSION);
        out.extend_from_slice(&self.target_name);
        out.extend_from_slice(&self.target_info);
        out
    }

    /// Parses a CHALLENGE message (used by tests and the fuzz targets).
    pub fn parse(msg: &[u8]) -> Result<Self, MessageError> {
        check_header(msg, 48, 2)?;
        let target_name = payload_field(msg, 12)?.to_vec();
        let flags = u32_at(msg, 20).ok_or(MessageError::TooShort)?;
        let mut server_challenge = [0u8; 8];
        server_challenge.copy_from_slice(msg.get(24..32).ok_or(MessageError::TooShort)?);
        let target_info = payload_field(msg, 40)?.to_vec();
        Ok(Self {
            flags,
            server_challenge,
            target_name,
            target_info,
        })
    }
}

/// Appends a (Len, MaxLen, Offset) field descriptor.
pub fn push_field(out: &mut Vec<u8>, len: usize, offset: usize) {
    let len = len.min(usize::from(u16::MAX)) as u16;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(offset as u32).to_le_bytes());
}

/// A parsed AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3), borrowing from the raw message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthenticateMessage<'a> {
    /// LmChallengeResponse.
    pub lm_response: &'a [u8],
    /// NtChallengeResponse.
    pub nt_response: &'a [u8],
    /// DomainName (raw, Unicode or OEM per flags).
    pub domain: &'a [u8],
    /// UserName (raw).
    pub user: &'a [u8],
    /// Workstation (raw).
    pub workstation: &'a [u8],
    /// EncryptedRandomSessionKey.
    pub encrypted_session_key: &'a [u8],
    /// NegotiateFlags.
    pub flags: u32,
    /// Offset where the payload starts (lowest offset of any non-empty field), which tells
    /// whether the Version and MIC fields are present.
    pub payload_start: usize,
}

/// Size of the fixed AUTHENTICATE header without Version and MIC.
const AUTHENTICATE_MIN: usize = 64;

impl<'a> AuthenticateMessage<'a> {
    /// Parses an AUTHENTICATE message.
    pub fn parse(msg: &'a [u8]) -> Result<Self, MessageError> {
        check_header(msg, AUTHENTICATE_MIN, 3)?;
        let payload_start = [12, 20, 28, 36, 44, 52]
            .iter()
            .filter_map(|&at| field_offset(msg, at))
            .min()
            .unwrap_or(msg.len());
        Ok(Self {
            lm_response: payload_field(msg, 12)?,
            nt_response: payload_field(msg, 20)?,
            domain: payload_field(msg, 28)?,
            user: payload_field(msg, 36)?,
            workstation: payload_field(msg, 44)?,
            encrypted_session_key: payload_field(msg, 52)?,
            flags: u32_at(msg, 60).ok_or(MessageError::TooShort)?,
            payload_start,
        })
    }

    /// Whether the fixed header is long enough to hold the 16-byte MIC at offset 72.
    pub fn has_mic_room(&self, msg_len: usize) -> bool {
        self.payload_start >= MIC_OFFSET + 16 && msg_len >= MIC_OFFSET + 16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_round_trip() {
        let mut info = Vec::new();
        push_av_pair(
            &mut info,
            av_id::NB_DOMAIN_NAME,
            &string_to_utf16le("Domain"),
        );
        push_av_pair(&mut info, av_id::EOL, &[]);
        let c = ChallengeMessage {
            flags: 0xE28A_8233,
            server_challenge: [1, 2, 3, 4, 5, 6, 7, 8],
            target_name: string_to_utf16le("Server"),
            target_info: info,
        };
        let enc = c.encode();
        assert_eq!(ChallengeMessage::parse(&enc).unwrap(), c);
        let pairs = parse_av_pairs(&c.target_info).unwrap();
        assert_eq!(pairs.len(), 1);
        assert_eq!(utf16le_to_string(pairs[0].value).unwrap(), "Domain");
    }

    #[test]
    fn parsers_reject_garbage_without_panicking() {
        assert_eq!(
            NegotiateMessage::parse(b"NTLMSSP"),
            Err(MessageError::TooShort)
        );
        assert_eq!(
            NegotiateMessage::parse(b"NTLMSSX\0\x01\0\0\0\0\0\0\0"),
            Err(MessageError::BadSignature)
        );
        assert_eq!(
            NegotiateMessage::parse(b"NTLMSSP\0\x03\0\0\0\0\0\0\0"),
            Err(MessageError::WrongMessageType)
        );
        let mut auth = vec![0u8; 64];
        auth[..8].copy_from_slice(SIGNATURE);
        auth[8] = 3;
        // NtChallengeResponse: length 100 at offset 0xFFFF_FFF0.
        auth[20] = 100;
        auth[24..28].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        assert_eq!(
            AuthenticateMessage::parse(&auth),
            Err(MessageError::FieldOutOfBounds)
        );
        assert_eq!(
            parse_av_pairs(&[1, 0, 5, 0, 1]),
            Err(MessageError::BadAvPairs)
        );
        assert_eq!(parse_av_pairs(&[]), Err(MessageError::BadAvPairs));
        assert_eq!(
            utf16le_to_string(&[0x41]),
            Err(MessageError::BadUnicodeString)
        );
        assert_eq!(
            utf16le_to_string(&[0x00, 0xD8]),
            Err(MessageError::BadUnicodeString)
        );
    }
}
