//! CREATE (MS-SMB2 2.2.13, 2.2.14) with create contexts (2.2.13.2), and CLOSE (2.2.15, 2.2.16).

use super::codec::{DecodeError, Reader, WriteLe, utf16le};
use super::header::HEADER_LEN;

/// CreateOptions bits (MS-SMB2 2.2.13).
pub mod options {
    /// FILE_DIRECTORY_FILE.
    pub const DIRECTORY_FILE: u32 = 0x0000_0001;
    /// FILE_WRITE_THROUGH.
    pub const WRITE_THROUGH: u32 = 0x0000_0002;
    /// FILE_NON_DIRECTORY_FILE.
    pub const NON_DIRECTORY_FILE: u32 = 0x0000_0040;
    /// FILE_NO_EA_KNOWLEDGE: the opener does not understand extended attributes.
    pub const NO_EA_KNOWLEDGE: u32 = 0x0000_0200;
    /// FILE_DELETE_ON_CLOSE.
    pub const DELETE_ON_CLOSE: u32 = 0x0000_1000;
    /// FILE_OPEN_FOR_BACKUP_INTENT.
    pub const OPEN_FOR_BACKUP_INTENT: u32 = 0x0000_4000;
    /// FILE_OPEN_BY_FILE_ID.
    pub const OPEN_BY_FILE_ID: u32 = 0x0000_2000;
    /// FILE_OPEN_REPARSE_POINT.
    pub const OPEN_REPARSE_POINT: u32 = 0x0020_0000;
}

/// A create context: its name and data (MS-SMB2 2.2.13.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateContext<'a> {
    /// The context's name, e.g. `MxAc`.
    pub name: &'a [u8],
    /// The context's data.
    pub data: &'a [u8],
}

/// Most create contexts one request may carry.
const MAX_CONTEXTS: usize = 32;

/// A decoded CREATE request.
#[derive(Debug, Clone)]
pub struct CreateRequest<'a> {
    /// RequestedOplockLevel.
    pub oplock_level: u8,
    /// ImpersonationLevel.
    pub impersonation_level: u32,
    /// DesiredAccess.
    pub desired_access: u32,
    /// FileAttributes.
    pub file_attributes: u32,
    /// ShareAccess.
    pub share_access: u32,
    /// CreateDisposition.
    pub disposition: u32,
    /// CreateOptions.
    pub options: u32,
    /// The name, relative to the share root, with backslashes.
    pub name: String,
    /// Create contexts.
    pub contexts: Vec<CreateContext<'a>>,
}

impl<'a> CreateRequest<'a> {
    /// Decodes the request; `msg` starts at the SMB2 header and ends at this message's end.
    pub fn decode(msg: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::at_pos(msg, HEADER_LEN);
        if r.u16("StructureSize")? != 57 {
            return Err(DecodeError::invalid("StructureSize"));
        }
        r.skip(1, "SecurityFlags")?;
        let oplock_level = r.u8("RequestedOplockLevel")?;
        let impersonation_level = r.u32("ImpersonationLevel")?;
        r.skip(16, "SmbCreateFlags/Reserved")?;
        let desired_access = r.u32("DesiredAccess")?;
        let file_attributes = r.u32("FileAttributes")?;
        let share_access = r.u32("ShareAccess")?;
        let disposition = r.u32("CreateDisposition")?;
        let options = r.u32("CreateOptions")?;
        let name_off = r.u16("NameOffset")? as usize;
        let name_len = r.u16("NameLength")? as usize;
        let ctx_off = r.u32("CreateContextsOffset")? as usize;
        let ctx_len = r.u32("CreateContextsLength")? as usize;
        let name = utf16le(r.at(name_off, name_len, "Name")?, "Name")?;
        let contexts = decode_contexts(r.at(ctx_off, ctx_len, "CreateContexts")?)?;
        Ok(Self {
            oplock_level,
            impersonation_level,
            desired_access,
            file_attributes,
            share_access,
            disposition,
            options,
            name,
            contexts,
        })
    }

    /// The data of the context named `name`, if present.
    pub fn context(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.contexts
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.data)
    }
}

/// Decodes a chain of create contexts (each 8-byte aligned, linked by Next).
pub fn decode_contexts(buf: &[u8]) -> Result<Vec<CreateContext<'_>>, DecodeError> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < buf.len() {
        if out.len() == MAX_CONTEXTS {
            return Err(DecodeError::invalid("CreateContexts count"));
        }
        let mut r = Reader::at_pos(buf, pos);
        let next = r.u32("Next")? as usize;
        let name_off = r.u16("NameOffset")? as usize;
        let name_len = r.u16("NameLength")? as usize;
        r.skip(2, "Reserved")?;
        let data_off = r.u16("DataOffset")? as usize;
        let data_len = r.u32("DataLength")? as usize;
        let end = if next == 0 {
            buf.len()
        } else {
            pos.checked_add(next).ok_or(DecodeError::bounds("Next"))?
        };
        if end > buf.len() || (next != 0 && next < 16) {
            return Err(DecodeError::bounds("Next"));
        }
        let this = &buf[pos..end];
        let cr = Reader::new(this);
        let name = cr.at(name_off, name_len, "Context Name")?;
        let data = cr.at(data_off, data_len, "Context Data")?;
        out.push(CreateContext { name, data });
        if next == 0 {
            break;
        }
        pos = end;
    }
    Ok(out)
}

/// A create context to send back in the response.
#[derive(Debug, Clone)]
pub struct ResponseContext {
    /// Name (4 bytes for the standard tags).
    pub name: Vec<u8>,
    /// Data.
    pub data: Vec<u8>,
}

/// The CREATE response (MS-SMB2 2.2.14).
#[derive(Debug, Clone, Default)]
pub struct CreateResponse {
    /// OplockLevel granted.
    pub oplock_level: u8,
    /// CreateAction.
    pub create_action: u32,
    /// CreationTime.
    pub creation_time: u64,
    /// LastAccessTime.
    pub last_access_time: u64,
    /// LastWriteTime.
    pub last_write_time: u64,
    /// ChangeTime.
    pub change_time: u64,
    /// AllocationSize.
    pub allocation_size: u64,
    /// EndofFile.
    pub end_of_file: u64,
    /// FileAttributes.
    pub file_attributes: u32,
    /// FileId persistent part.
    pub persistent_id: u64,
    /// FileId volatile part.
    pub volatile_id: u64,
    /// Create contexts to return.
    pub contexts: Vec<ResponseContext>,
}

impl CreateResponse {
    /// Appends the body; `base` is the position of this message's header in `out`.
    pub fn encode(&self, out: &mut Vec<u8>, base: usize) {
        out.put_u16(89);
        out.push(self.oplock_level);
        out.push(0);
        out.put_u32(self.create_action);
        out.put_u64(self.creation_time);
        out.put_u64(self.last_access_time);
        out.put_u64(self.last_write_time);
        out.put_u64(self.change_time);
        out.put_u64(self.allocation_size);
        out.put_u64(self.end_of_file);
        out.put_u32(self.file_attributes);
        out.put_u32(0);
        out.put_u64(self.persistent_id);
        out.put_u64(self.volatile_id);
        let ctx_pos = out.len();
        out.put_u32(0);
        out.put_u32(0);
        if self.contexts.is_empty() {
            out.push(0);
            return;
        }
        out.pad_to(8);
        let start = out.len();
        let mut prev: Option<usize> = None;
        for c in &self.contexts {
            while !(out.len() - start).is_multiple_of(8) {
                out.push(0);
            }
            let here = out.len();
            if let Some(p) = prev {
                let delta = (here - p) as u32;
                out.patch_u32(p, delta);
            }
            prev = Some(here);
            out.put_u32(0);
            out.put_u16(16);
            out.put_u16(c.name.len() as u16);
            out.put_u16(0);
            let data_off_pos = out.len();
            out.put_u16(0);
            out.put_u32(c.data.len() as u32);
            out.extend_from_slice(&c.name);
            while !(out.len() - here).is_multiple_of(8) {
                out.push(0);
            }
            let data_off = (out.len() - here) as u16;
            out.patch_u16(data_off_pos, if c.data.is_empty() { 0 } else { data_off });
            out.extend_from_slice(&c.data);
        }
        out.patch_u32(ctx_pos, (start - base) as u32);
        out.patch_u32(ctx_pos + 4, (out.len() - start) as u32);
    }
}

/// SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB.
pub const CLOSE_FLAG_POSTQUERY_ATTRIB: u16 = 0x0001;

/// A file id: persistent and volatile parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FileId {
    /// Persistent part.
    pub persistent: u64,
    /// Volatile part.
    pub volatile: u64,
}

impl FileId {
    /// The all-ones id that refers to the previous operation's file in a related compound.
    pub const RELATED: Self = Self {
        persistent: u64::MAX,
        volatile: u64::MAX,
    };

    /// Reads a 16-byte file id.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            persistent: r.u64("FileId.Persistent")?,
            volatile: r.u64("FileId.Volatile")?,
        })
    }
}

/// Decodes a CLOSE request: flags and file id.
pub fn decode_close(msg: &[u8]) -> Result<(u16, FileId), DecodeError> {
    let mut r = Reader::at_pos(msg, HEADER_LEN);
    if r.u16("StructureSize")? != 24 {
        return Err(DecodeError::invalid("StructureSize"));
    }
    let flags = r.u16("Flags")?;
    r.skip(4, "Reserved")?;
    Ok((flags, FileId::read(&mut r)?))
}

/// Appends a CLOSE response; `stat` is `Some` when POSTQUERY_ATTRIB was asked.
pub fn encode_close_response(out: &mut Vec<u8>, stat: Option<&vfs::FileStat>) {
    out.put_u16(60);
    out.put_u16(if stat.is_some() {
        CLOSE_FLAG_POSTQUERY_ATTRIB
    } else {
        0
    });
    out.put_u32(0);
    match stat {
        Some(s) => {
            out.put_u64(s.creation_time);
            out.put_u64(s.last_access_time);
            out.put_u64(s.last_write_time);
            out.put_u64(s.change_time);
            out.put_u64(s.allocation_size);
            out.put_u64(s.size);
            out.put_u32(s.attributes);
        }
        None => out.extend_from_slice(&[0; 52]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_contexts_decode_back() {
        let resp = CreateResponse {
            contexts: vec![
                ResponseContext {
                    name: b"MxAc".to_vec(),
                    data: vec![0; 8],
                },
                ResponseContext {
                    name: b"QFid".to_vec(),
                    data: vec![1; 32],
                },
            ],
            ..Default::default()
        };
        let mut out = vec![0u8; HEADER_LEN];
        resp.encode(&mut out, 0);
        let mut r = Reader::at_pos(&out, HEADER_LEN + 80);
        let off = r.u32("o").unwrap() as usize;
        let len = r.u32("l").unwrap() as usize;
        let ctxs = decode_contexts(&out[off..off + len]).unwrap();
        assert_eq!(ctxs.len(), 2);
        assert_eq!(ctxs[0].name, b"MxAc");
        assert_eq!(ctxs[1].data, &[1; 32][..]);
    }

    #[test]
    fn hostile_contexts_are_errors() {
        let mut b = vec![0u8; 24];
        b[0] = 1; // Next = 1: too small
        assert!(decode_contexts(&b).is_err());
        let mut b = vec![0u8; 16];
        b[4] = 200; // name offset out of bounds
        b[6] = 4;
        assert!(decode_contexts(&b).is_err());
    }
}
