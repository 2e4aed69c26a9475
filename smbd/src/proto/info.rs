//! QUERY_INFO (MS-SMB2 2.2.37, 2.2.38) and SET_INFO (2.2.39, 2.2.40).

use super::codec::{DecodeError, Reader};
use super::create::FileId;
use super::header::HEADER_LEN;

/// InfoType values.
pub mod info_type {
    /// SMB2_0_INFO_FILE.
    pub const FILE: u8 = 0x01;
    /// SMB2_0_INFO_FILESYSTEM.
    pub const FILESYSTEM: u8 = 0x02;
    /// SMB2_0_INFO_SECURITY.
    pub const SECURITY: u8 = 0x03;
    /// SMB2_0_INFO_QUOTA.
    pub const QUOTA: u8 = 0x04;
}

/// A decoded QUERY_INFO request.
#[derive(Debug, Clone)]
pub struct QueryInfoRequest<'a> {
    /// InfoType.
    pub info_type: u8,
    /// FileInfoClass.
    pub class: u8,
    /// OutputBufferLength.
    pub output_len: u32,
    /// AdditionalInformation (security information bits).
    pub additional: u32,
    /// Flags.
    pub flags: u32,
    /// The file.
    pub file_id: FileId,
    /// Input buffer (quota and EA queries).
    pub input: &'a [u8],
}

impl<'a> QueryInfoRequest<'a> {
    /// Decodes the request.
    pub fn decode(msg: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::at_pos(msg, HEADER_LEN);
        if r.u16("StructureSize")? != 41 {
            return Err(DecodeError::invalid("StructureSize"));
        }
        let info_type = r.u8("InfoType")?;
        let class = r.u8("FileInfoClass")?;
        let output_len = r.u32("OutputBufferLength")?;
        let in_off = r.u16("InputBufferOffset")? as usize;
        r.skip(2, "Reserved")?;
        let in_len = r.u32("InputBufferLength")? as usize;
        let additional = r.u32("AdditionalInformation")?;
        let flags = r.u32("Flags")?;
        let file_id = FileId::read(&mut r)?;
        let input = r.at(in_off, in_len, "InputBuffer")?;
        Ok(Self {
            info_type,
            class,
            output_len,
            additional,
            flags,
            file_id,
            input,
        })
    }
}

/// A decoded SET_INFO request.
#[derive(Debug, Clone)]
pub struct SetInfoRequest<'a> {
    /// InfoType.
    pub info_type: u8,
    /// FileInfoClass.
    pub class: u8,
    /// AdditionalInformation.
    pub additional: u32,
    /// The file.
    pub file_id: FileId,
    /// The buffer.
    pub buffer: &'a [u8],
}

impl<'a> SetInfoRequest<'a> {
    /// Decodes the request.
    pub fn decode(msg: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::at_pos(msg, HEADER_LEN);
        if r.u16("StructureSize")? != 33 {
            return Err(DecodeError::invalid("StructureSize"));
        }
        let info_type = r.u8("InfoType")?;
        let class = r.u8("FileInfoClass")?;
        let len = r.u32("BufferLength")? as usize;
        let off = r.u16("BufferOffset")? as usize;
        r.skip(2, "Reserved")?;
        let additional = r.u32("AdditionalInformation")?;
        let file_id = FileId::read(&mut r)?;
        let buffer = r.at(off, len, "Buffer")?;
        Ok(Self {
            info_type,
            class,
            additional,
            file_id,
            buffer,
        })
    }
}

/// Appends a SET_INFO response body.
pub fn encode_set_info_response(out: &mut Vec<u8>) {
    out.extend_from_slice(&2u16.to_le_bytes());
}
