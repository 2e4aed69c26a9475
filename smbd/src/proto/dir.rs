//! QUERY_DIRECTORY (MS-SMB2 2.2.33, 2.2.34) and CHANGE_NOTIFY (2.2.35, 2.2.36).

use super::codec::{DecodeError, Reader, WriteLe, put_utf16le, utf16le};
use super::create::FileId;
use super::header::HEADER_LEN;

/// QUERY_DIRECTORY flags.
pub mod qd_flags {
    /// SMB2_RESTART_SCANS.
    pub const RESTART_SCANS: u8 = 0x01;
    /// SMB2_RETURN_SINGLE_ENTRY.
    pub const RETURN_SINGLE_ENTRY: u8 = 0x02;
    /// SMB2_INDEX_SPECIFIED.
    pub const INDEX_SPECIFIED: u8 = 0x04;
    /// SMB2_REOPEN.
    pub const REOPEN: u8 = 0x10;
}

/// A decoded QUERY_DIRECTORY request.
#[derive(Debug, Clone)]
pub struct QueryDirectoryRequest {
    /// FileInformationClass.
    pub class: u8,
    /// Flags.
    pub flags: u8,
    /// FileIndex.
    pub file_index: u32,
    /// The directory.
    pub file_id: FileId,
    /// The search pattern (empty = keep the previous one / "*").
    pub pattern: String,
    /// OutputBufferLength.
    pub output_len: u32,
}

impl QueryDirectoryRequest {
    /// Decodes the request.
    pub fn decode(msg: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::at_pos(msg, HEADER_LEN);
        if r.u16("StructureSize")? != 33 {
            return Err(DecodeError::invalid("StructureSize"));
        }
        let class = r.u8("FileInformationClass")?;
        let flags = r.u8("Flags")?;
        let file_index = r.u32("FileIndex")?;
        let file_id = FileId::read(&mut r)?;
        let off = r.u16("FileNameOffset")? as usize;
        let len = r.u16("FileNameLength")? as usize;
        let output_len = r.u32("OutputBufferLength")?;
        let pattern = utf16le(r.at(off, len, "FileName")?, "FileName")?;
        Ok(Self {
            class,
            flags,
            file_index,
            file_id,
            pattern,
            output_len,
        })
    }
}

/// Appends a response carrying an output buffer at offset 72 (QUERY_DIRECTORY, QUERY_INFO and
/// CHANGE_NOTIFY share this layout: StructureSize 9, offset u16, length u32).
pub fn encode_buffer_response(out: &mut Vec<u8>, data: &[u8]) {
    out.put_u16(9);
    out.put_u16(if data.is_empty() {
        0
    } else {
        (HEADER_LEN + 8) as u16
    });
    out.put_u32(data.len() as u32);
    out.extend_from_slice(data);
    if data.is_empty() {
        out.push(0);
    }
}

/// A decoded CHANGE_NOTIFY request.
#[derive(Debug, Clone, Copy)]
pub struct ChangeNotifyRequest {
    /// Flags (watch tree).
    pub flags: u16,
    /// OutputBufferLength.
    pub output_len: u32,
    /// The directory.
    pub file_id: FileId,
    /// CompletionFilter.
    pub filter: u32,
}

impl ChangeNotifyRequest {
    /// Decodes the request.
    pub fn decode(msg: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::at_pos(msg, HEADER_LEN);
        if r.u16("StructureSize")? != 32 {
            return Err(DecodeError::invalid("StructureSize"));
        }
        let flags = r.u16("Flags")?;
        let output_len = r.u32("OutputBufferLength")?;
        let file_id = FileId::read(&mut r)?;
        let filter = r.u32("CompletionFilter")?;
        Ok(Self {
            flags,
            output_len,
            file_id,
            filter,
        })
    }
}

/// SMB2_WATCH_TREE in a CHANGE_NOTIFY request's Flags (MS-SMB2 2.2.35).
pub const WATCH_TREE: u16 = 0x0001;

/// FILE_NOTIFY_INFORMATION entries (MS-FSCC 2.7.1) for `(action, name)` pairs: each entry
/// 4-byte aligned, NextEntryOffset 0 on the last.
pub fn encode_notify_information<'a>(changes: impl IntoIterator<Item = (u32, &'a str)>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut last_start: Option<usize> = None;
    for (action, name) in changes {
        let start = out.len();
        if let Some(prev) = last_start {
            let next = (start - prev) as u32;
            out[prev..prev + 4].copy_from_slice(&next.to_le_bytes());
        }
        out.put_u32(0);
        out.put_u32(action);
        let len_at = out.len();
        out.put_u32(0);
        put_utf16le(&mut out, name);
        let name_len = (out.len() - len_at - 4) as u32;
        out[len_at..len_at + 4].copy_from_slice(&name_len.to_le_bytes());
        last_start = Some(start);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    out
}

#[cfg(test)]
mod notify_tests {
    use super::*;

    #[test]
    fn notify_information_layout() {
        let b = encode_notify_information([(1, "ab"), (2, "c")]);
        assert_eq!(
            b,
            [
                16, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, b'a', 0, b'b', 0, //
                0, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, b'c', 0, 0, 0,
            ]
        );
    }
}
