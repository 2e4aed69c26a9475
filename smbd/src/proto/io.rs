//! READ (MS-SMB2 2.2.19, 2.2.20), WRITE (2.2.21, 2.2.22), FLUSH (2.2.17, 2.2.18) and
//! LOCK (2.2.26, 2.2.27).

use super::codec::{DecodeError, Reader, WriteLe};
use super::create::FileId;
use super::header::HEADER_LEN;

/// A decoded READ request.
#[derive(Debug, Clone, Copy)]
pub struct ReadRequest {
    /// Length to read.
    pub length: u32,
    /// Offset in the file.
    pub offset: u64,
    /// The file.
    pub file_id: FileId,
    /// MinimumCount.
    pub minimum_count: u32,
}

impl ReadRequest {
    /// Decodes the request.
    pub fn decode(msg: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::at_pos(msg, HEADER_LEN);
        if r.u16("StructureSize")? != 49 {
            return Err(DecodeError::invalid("StructureSize"));
        }
        r.skip(2, "Padding/Flags")?;
        let length = r.u32("Length")?;
        let offset = r.u64("Offset")?;
        let file_id = FileId::read(&mut r)?;
        let minimum_count = r.u32("MinimumCount")?;
        Ok(Self {
            length,
            offset,
            file_id,
            minimum_count,
        })
    }
}

/// Offset of the data in a READ response, from the header.
pub const READ_DATA_OFFSET: u8 = 0x50;

/// Appends a READ response header (the data follows, appended by the caller).
pub fn encode_read_response_prefix(out: &mut Vec<u8>, data_len: u32) {
    out.put_u16(17);
    out.push(READ_DATA_OFFSET);
    out.push(0);
    out.put_u32(data_len);
    out.put_u32(0);
    out.put_u32(0);
}

/// A decoded WRITE request; `data` borrows the message.
#[derive(Debug, Clone, Copy)]
pub struct WriteRequest<'a> {
    /// Offset in the file (u64::MAX = append).
    pub offset: u64,
    /// The file.
    pub file_id: FileId,
    /// Flags (write-through).
    pub flags: u32,
    /// The data.
    pub data: &'a [u8],
}

impl<'a> WriteRequest<'a> {
    /// Decodes the request.
    pub fn decode(msg: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::at_pos(msg, HEADER_LEN);
        if r.u16("StructureSize")? != 49 {
            return Err(DecodeError::invalid("StructureSize"));
        }
        let data_off = r.u16("DataOffset")? as usize;
        let len = r.u32("Length")? as usize;
        let offset = r.u64("Offset")?;
        let file_id = FileId::read(&mut r)?;
        r.skip(12, "Channel/RemainingBytes/WriteChannelInfo")?;
        let flags = r.u32("Flags")?;
        let data = r.at(data_off, len, "Buffer")?;
        Ok(Self {
            offset,
            file_id,
            flags,
            data,
        })
    }
}

/// Appends a WRITE response body.
pub fn encode_write_response(out: &mut Vec<u8>, count: u32) {
    out.put_u16(17);
    out.put_u16(0);
    out.put_u32(count);
    out.put_u32(0);
    out.put_u16(0);
    out.put_u16(0);
}

/// Decodes a FLUSH request: the file id.
pub fn decode_flush(msg: &[u8]) -> Result<FileId, DecodeError> {
    let mut r = Reader::at_pos(msg, HEADER_LEN);
    if r.u16("StructureSize")? != 24 {
        return Err(DecodeError::invalid("StructureSize"));
    }
    r.skip(6, "Reserved")?;
    FileId::read(&mut r)
}

/// Appends a FLUSH response body.
pub fn encode_flush_response(out: &mut Vec<u8>) {
    out.put_u16(4);
    out.put_u16(0);
}

/// LOCK element flags (MS-SMB2 2.2.26.1).
pub mod lock_flags {
    /// SMB2_LOCKFLAG_SHARED_LOCK.
    pub const SHARED: u32 = 0x01;
    /// SMB2_LOCKFLAG_EXCLUSIVE_LOCK.
    pub const EXCLUSIVE: u32 = 0x02;
    /// SMB2_LOCKFLAG_UNLOCK.
    pub const UNLOCK: u32 = 0x04;
    /// SMB2_LOCKFLAG_FAIL_IMMEDIATELY.
    pub const FAIL_IMMEDIATELY: u32 = 0x10;
}

/// One LOCK element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockElement {
    /// Offset.
    pub offset: u64,
    /// Length.
    pub length: u64,
    /// Flags.
    pub flags: u32,
}

/// Most lock elements one request may carry.
const MAX_LOCKS: usize = 4096;

/// A LOCK request (MS-SMB2 2.2.26).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockRequest {
    /// LockSequenceNumber (low 4 bits) and LockSequenceIndex (the 28 bits above); Reserved on
    /// 2.0.2.
    pub lock_sequence: u32,
    /// FileId.
    pub file_id: FileId,
    /// The lock elements, at least one.
    pub locks: Vec<LockElement>,
}

/// Decodes a LOCK request: its sequence, file id and elements.
pub fn decode_lock(msg: &[u8]) -> Result<LockRequest, DecodeError> {
    let mut r = Reader::at_pos(msg, HEADER_LEN);
    if r.u16("StructureSize")? != 48 {
        return Err(DecodeError::invalid("StructureSize"));
    }
    let count = r.u16("LockCount")? as usize;
    if count == 0 || count > MAX_LOCKS || r.remaining() < 20 + count * 24 {
        return Err(DecodeError::invalid("LockCount"));
    }
    let lock_sequence = r.u32("LockSequence")?;
    let file_id = FileId::read(&mut r)?;
    let mut locks = Vec::with_capacity(count);
    for _ in 0..count {
        let offset = r.u64("Offset")?;
        let length = r.u64("Length")?;
        let flags = r.u32("Flags")?;
        r.skip(4, "Reserved")?;
        locks.push(LockElement {
            offset,
            length,
            flags,
        });
    }
    Ok(LockRequest {
        lock_sequence,
        file_id,
        locks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_util::hex;

    /// A LOCK request of smbtorture smb2.lock.valid-request: LockSequence 0x123ab1, one
    /// exclusive fail-immediately element over the whole offset range.
    #[test]
    fn lock_request_vector() {
        let mut msg = vec![0u8; HEADER_LEN];
        msg.extend_from_slice(&hex(concat!(
            "3000",
            "0100",
            "b13a1200",
            "0100000000000000",
            "0200000000000000",
            "ffffffffffffffff",
            "ffffffffffffffff",
            "12000000",
            "00000000",
        )));
        let req = decode_lock(&msg).expect("lock");
        assert_eq!(req.lock_sequence, 0x0012_3ab1);
        assert_eq!((req.file_id.persistent, req.file_id.volatile), (1, 2));
        assert_eq!(
            req.locks,
            vec![LockElement {
                offset: u64::MAX,
                length: u64::MAX,
                flags: lock_flags::EXCLUSIVE | lock_flags::FAIL_IMMEDIATELY,
            }]
        );
        // No element, or fewer bytes than the count says: refused.
        msg[HEADER_LEN + 2] = 0;
        assert!(decode_lock(&msg).is_err());
        msg[HEADER_LEN + 2] = 2;
        assert!(decode_lock(&msg).is_err());
    }
}
