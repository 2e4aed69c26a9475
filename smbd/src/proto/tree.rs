//! TREE_CONNECT (MS-SMB2 2.2.9, 2.2.10).

use super::codec::{DecodeError, Reader, WriteLe, utf16le};
use super::header::HEADER_LEN;

/// SMB2_TREE_CONNECT_FLAG_EXTENSION_PRESENT (3.1.1).
const FLAG_EXTENSION_PRESENT: u16 = 0x0004;

/// Share types (MS-SMB2 2.2.10).
pub mod share_type {
    /// SMB2_SHARE_TYPE_DISK.
    pub const DISK: u8 = 0x01;
    /// SMB2_SHARE_TYPE_PIPE.
    pub const PIPE: u8 = 0x02;
}

/// Share flags (MS-SMB2 2.2.10).
pub mod share_flags {
    /// SMB2_SHAREFLAG_MANUAL_CACHING.
    pub const MANUAL_CACHING: u32 = 0x0000;
    /// SMB2_SHAREFLAG_NO_CACHING.
    pub const NO_CACHING: u32 = 0x0030;
    /// SMB2_SHAREFLAG_ENCRYPT_DATA.
    pub const ENCRYPT_DATA: u32 = 0x8000;
}

/// A decoded TREE_CONNECT request: the UNC path `\\server\share`.
#[derive(Debug, Clone)]
pub struct TreeConnectRequest {
    /// Flags.
    pub flags: u16,
    /// The path.
    pub path: String,
}

impl TreeConnectRequest {
    /// Decodes the request; `msg` starts at the SMB2 header.
    pub fn decode(msg: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::at_pos(msg, HEADER_LEN);
        if r.u16("StructureSize")? != 9 {
            return Err(DecodeError::invalid("StructureSize"));
        }
        let flags = r.u16("Flags")?;
        let mut off = r.u16("PathOffset")? as usize;
        let mut len = r.u16("PathLength")? as usize;
        if flags & FLAG_EXTENSION_PRESENT != 0 {
            // MS-SMB2 2.2.9.1: the offsets are then in the extension, relative to the header.
            let mut e = Reader::at_pos(msg, HEADER_LEN + 8);
            let _tcon_ctx_off = e.u32("TreeConnectContextOffset")?;
            let _tcon_ctx_count = e.u16("TreeConnectContextCount")?;
            e.skip(10, "Reserved")?;
            off = e.u32("PathOffset")? as usize;
            len = e.u16("PathLength")? as usize;
        }
        let path = utf16le(r.at(off, len, "Path")?, "Path")?;
        Ok(Self { flags, path })
    }

    /// The share name: the last component of the UNC path.
    pub fn share_name(&self) -> &str {
        let p = self.path.trim_end_matches('\\');
        p.rsplit('\\').next().unwrap_or(p)
    }
}

/// SMB2_SHARE_CAP_CONTINUOUS_AVAILABILITY (MS-SMB2 2.2.10 Capabilities).
pub const SHARE_CAP_CONTINUOUS_AVAILABILITY: u32 = 0x0000_0010;

/// Appends a TREE_CONNECT response body (MS-SMB2 2.2.10).
pub fn encode_tree_connect_response(
    out: &mut Vec<u8>,
    share_type: u8,
    flags: u32,
    capabilities: u32,
    max_access: u32,
) {
    out.put_u16(16);
    out.push(share_type);
    out.push(0);
    out.put_u32(flags);
    out.put_u32(capabilities);
    out.put_u32(max_access);
}
