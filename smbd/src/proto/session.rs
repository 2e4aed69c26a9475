//! SESSION_SETUP (MS-SMB2 2.2.5, 2.2.6) and LOGOFF (2.2.7, 2.2.8).

use super::codec::{DecodeError, Reader, WriteLe};
use super::header::HEADER_LEN;

/// SESSION_SETUP request flag: bind an existing session to a new channel.
pub const SESSION_FLAG_BINDING: u8 = 0x01;

/// SessionFlags of the response (MS-SMB2 2.2.6).
pub mod session_flags {
    /// SMB2_SESSION_FLAG_IS_GUEST.
    pub const IS_GUEST: u16 = 0x0001;
    /// SMB2_SESSION_FLAG_IS_NULL.
    pub const IS_NULL: u16 = 0x0002;
    /// SMB2_SESSION_FLAG_ENCRYPT_DATA.
    pub const ENCRYPT_DATA: u16 = 0x0004;
}

/// A decoded SESSION_SETUP request.
#[derive(Debug, Clone)]
pub struct SessionSetupRequest<'a> {
    /// Flags (binding).
    pub flags: u8,
    /// SecurityMode.
    pub security_mode: u8,
    /// Capabilities.
    pub capabilities: u32,
    /// PreviousSessionId.
    pub previous_session_id: u64,
    /// The security blob.
    pub security_buffer: &'a [u8],
}

impl<'a> SessionSetupRequest<'a> {
    /// Decodes the request; `msg` starts at the SMB2 header.
    pub fn decode(msg: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::at_pos(msg, HEADER_LEN);
        if r.u16("StructureSize")? != 25 {
            return Err(DecodeError::invalid("StructureSize"));
        }
        let flags = r.u8("Flags")?;
        let security_mode = r.u8("SecurityMode")?;
        let capabilities = r.u32("Capabilities")?;
        r.skip(4, "Channel")?;
        let off = r.u16("SecurityBufferOffset")? as usize;
        let len = r.u16("SecurityBufferLength")? as usize;
        let previous_session_id = r.u64("PreviousSessionId")?;
        let security_buffer = r.at(off, len, "SecurityBuffer")?;
        Ok(Self {
            flags,
            security_mode,
            capabilities,
            previous_session_id,
            security_buffer,
        })
    }
}

/// Appends a SESSION_SETUP response body.
pub fn encode_session_setup_response(out: &mut Vec<u8>, session_flags: u16, blob: &[u8]) {
    out.put_u16(9);
    out.put_u16(session_flags);
    out.put_u16((HEADER_LEN + 8) as u16);
    out.put_u16(blob.len() as u16);
    out.extend_from_slice(blob);
    if blob.is_empty() {
        out.push(0);
    }
}

/// Checks a LOGOFF, ECHO or TREE_DISCONNECT request: a 4-byte body with the given StructureSize.
pub fn decode_fixed4(msg: &[u8]) -> Result<(), DecodeError> {
    let mut r = Reader::at_pos(msg, HEADER_LEN);
    if r.u16("StructureSize")? != 4 {
        return Err(DecodeError::invalid("StructureSize"));
    }
    r.u16("Reserved")?;
    Ok(())
}

/// Appends the 4-byte body of LOGOFF, ECHO and TREE_DISCONNECT responses.
pub fn encode_fixed4(out: &mut Vec<u8>) {
    out.put_u16(4);
    out.put_u16(0);
}

/// Appends an SMB2 ERROR response body (MS-SMB2 2.2.2) with no error data.
pub fn encode_error(out: &mut Vec<u8>) {
    out.put_u16(9);
    out.push(0);
    out.push(0);
    out.put_u32(0);
    out.push(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// LOGOFF, ECHO and TREE_DISCONNECT bodies are 4 bytes of StructureSize 4: a wrong size or
    /// a cut body is refused.
    #[test]
    fn fixed4_bodies_are_checked() {
        let mut msg = vec![0u8; HEADER_LEN];
        msg.extend_from_slice(&[4, 0, 0, 0]);
        assert!(decode_fixed4(&msg).is_ok());
        assert!(decode_fixed4(&msg[..HEADER_LEN + 2]).is_err(), "cut body");
        assert!(decode_fixed4(&msg[..HEADER_LEN]).is_err(), "no body");
        msg[HEADER_LEN] = 0;
        assert!(decode_fixed4(&msg).is_err(), "StructureSize 0");
    }
}
