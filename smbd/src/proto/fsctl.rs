//! The input and output buffers of the file system controls the server implements: server-side
//! copy (MS-SMB2 2.2.31.1, 2.2.32.1, 2.2.32.3), sparse files and allocated ranges (MS-FSCC
//! 2.3.31, 2.3.33, 2.3.63, 2.3.64), duplicate extents (MS-FSCC 2.3.8, 2.3.9) and symbolic-link
//! reparse data (MS-FSCC 2.1.2.4). Every decoder checks lengths before it allocates.

use super::codec::{DecodeError, Reader, WriteLe};
use super::create::FileId;

/// Length of a copychunk resume key (MS-SMB2 2.2.32.3).
pub const RESUME_KEY_LEN: usize = 24;

/// The SRV_REQUEST_RESUME_KEY response (MS-SMB2 2.2.32.3): the key, ContextLength 0 and four
/// reserved bytes, 32 in all.
pub fn encode_resume_key(key: &[u8; RESUME_KEY_LEN]) -> Vec<u8> {
    let mut v = Vec::with_capacity(32);
    v.extend_from_slice(key);
    v.put_u32(0);
    v.put_u32(0);
    v
}

/// One SRV_COPYCHUNK (MS-SMB2 2.2.31.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// SourceOffset.
    pub source_offset: u64,
    /// TargetOffset.
    pub target_offset: u64,
    /// Length.
    pub length: u32,
}

/// Why a SRV_COPYCHUNK_COPY was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopychunkError {
    /// The buffer is shorter than its ChunkCount says, or than the fixed part.
    Short,
    /// ChunkCount is over the server's limit.
    TooManyChunks,
}

/// SRV_COPYCHUNK_COPY (MS-SMB2 2.2.31.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopychunkCopy {
    /// SourceKey.
    pub source_key: [u8; RESUME_KEY_LEN],
    /// Chunks.
    pub chunks: Vec<Chunk>,
}

impl CopychunkCopy {
    /// Decodes the input buffer, refusing more than `max_chunks` chunks before allocating any.
    pub fn decode(input: &[u8], max_chunks: u32) -> Result<Self, CopychunkError> {
        let mut r = Reader::new(input);
        let short = |_: DecodeError| CopychunkError::Short;
        let key = r.take(RESUME_KEY_LEN, "SourceKey").map_err(short)?;
        let count = r.u32("ChunkCount").map_err(short)?;
        r.skip(4, "Reserved").map_err(short)?;
        if count > max_chunks {
            return Err(CopychunkError::TooManyChunks);
        }
        let count = count as usize;
        if r.remaining() < count * 24 {
            return Err(CopychunkError::Short);
        }
        let mut chunks = Vec::with_capacity(count);
        for _ in 0..count {
            let source_offset = r.u64("SourceOffset").map_err(short)?;
            let target_offset = r.u64("TargetOffset").map_err(short)?;
            let length = r.u32("Length").map_err(short)?;
            r.skip(4, "Reserved").map_err(short)?;
            chunks.push(Chunk {
                source_offset,
                target_offset,
                length,
            });
        }
        let mut source_key = [0u8; RESUME_KEY_LEN];
        source_key.copy_from_slice(key);
        Ok(Self { source_key, chunks })
    }
}

/// SRV_COPYCHUNK_RESPONSE (MS-SMB2 2.2.32.1): what was copied, or, with
/// STATUS_INVALID_PARAMETER, the server's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CopychunkResponse {
    /// ChunksWritten (or the most chunks per request).
    pub chunks_written: u32,
    /// ChunkBytesWritten (or the largest chunk).
    pub chunk_bytes_written: u32,
    /// TotalBytesWritten (or the most bytes per request).
    pub total_bytes_written: u32,
}

impl CopychunkResponse {
    /// Size of the encoded response.
    pub const LEN: usize = 12;

    /// The encoded response.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(Self::LEN);
        v.put_u32(self.chunks_written);
        v.put_u32(self.chunk_bytes_written);
        v.put_u32(self.total_bytes_written);
        v
    }
}

/// An offset and a length: FILE_ZERO_DATA_INFORMATION (FileOffset, BeyondFinalZero as an end,
/// MS-FSCC 2.3.85) and FILE_ALLOCATED_RANGE_BUFFER (FileOffset, Length, 2.3.52).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetPair {
    /// The first field.
    pub offset: u64,
    /// The second field.
    pub second: u64,
}

impl OffsetPair {
    /// Size of the encoded pair.
    pub const LEN: usize = 16;

    /// Decodes the first 16 bytes of `input` (a longer buffer is accepted, as Windows does).
    pub fn decode(input: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(input);
        Ok(Self {
            offset: r.u64("FileOffset")?,
            second: r.u64("Length")?,
        })
    }

    /// Appends the pair.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u64(self.offset);
        out.put_u64(self.second);
    }
}

/// FSCTL_SET_SPARSE's optional FILE_SET_SPARSE_BUFFER (MS-FSCC 2.3.64): no buffer means set;
/// otherwise the first byte says (a longer buffer is accepted, as Windows does).
pub fn decode_set_sparse(input: &[u8]) -> bool {
    input.first().is_none_or(|&b| b != 0)
}

/// DUPLICATE_EXTENTS_DATA (MS-FSCC 2.3.8) or DUPLICATE_EXTENTS_DATA_EX (2.3.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DuplicateExtents {
    /// The source open (FileHandle).
    pub source: FileId,
    /// SourceFileOffset.
    pub source_offset: u64,
    /// TargetFileOffset.
    pub target_offset: u64,
    /// ByteCount.
    pub byte_count: u64,
}

impl DuplicateExtents {
    /// Decodes DUPLICATE_EXTENTS_DATA (`ex` false) or DUPLICATE_EXTENTS_DATA_EX, whose
    /// StructureSize must be 48.
    pub fn decode(input: &[u8], ex: bool) -> Result<Self, DecodeError> {
        let mut r = Reader::new(input);
        if ex && r.u64("StructureSize")? != 48 {
            return Err(DecodeError::invalid("StructureSize"));
        }
        let source = FileId::read(&mut r)?;
        let source_offset = r.u64("SourceFileOffset")?;
        let target_offset = r.u64("TargetFileOffset")?;
        let byte_count = r.u64("ByteCount")?;
        if ex {
            r.u32("Flags")?;
            r.skip(4, "Reserved")?;
        }
        Ok(Self {
            source,
            source_offset,
            target_offset,
            byte_count,
        })
    }
}

/// NETWORK_INTERFACE_INFO Capability: the interface is RSS capable (MS-SMB2 2.2.32.5).
pub const NETWORK_INTERFACE_RSS_CAPABLE: u32 = 0x1;

/// One NETWORK_INTERFACE_INFO (MS-SMB2 2.2.32.5), the last of its list (Next 0): interface
/// `index`, neither RSS nor RDMA capable, `link_speed` bits per second, and the address as a
/// 128-byte SOCKADDR_STORAGE (AF_INET or AF_INET6, port 0).
pub fn encode_network_interface(index: u32, link_speed: u64, addr: std::net::IpAddr) -> Vec<u8> {
    encode_network_interfaces(&[(index, 0, link_speed, addr)])
}

/// A list of NETWORK_INTERFACE_INFO (MS-SMB2 2.2.32.5), one per `(IfIndex, Capability,
/// LinkSpeed, address)`, each 152 bytes, chained by Next (0 on the last). An IPv6 link-local
/// address carries IfIndex as its ScopeId.
pub fn encode_network_interfaces(entries: &[(u32, u32, u64, std::net::IpAddr)]) -> Vec<u8> {
    const ENTRY: usize = 152;
    let mut v = Vec::with_capacity(ENTRY * entries.len());
    for (i, &(index, capability, link_speed, addr)) in entries.iter().enumerate() {
        let start = v.len();
        v.put_u32(if i + 1 < entries.len() {
            ENTRY as u32
        } else {
            0
        }); // Next
        v.put_u32(index);
        v.put_u32(capability);
        v.put_u32(0); // Reserved
        v.put_u64(link_speed);
        let sockaddr = v.len();
        match addr {
            std::net::IpAddr::V4(a) => {
                v.put_u16(0x0002); // AF_INET
                v.put_u16(0); // Port
                v.extend_from_slice(&a.octets());
            }
            std::net::IpAddr::V6(a) => {
                v.put_u16(0x0017); // AF_INET6
                v.put_u16(0); // Port
                v.put_u32(0); // FlowInfo
                v.extend_from_slice(&a.octets());
                let link_local = a.segments()[0] & 0xFFC0 == 0xFE80;
                v.put_u32(if link_local { index } else { 0 }); // ScopeId
            }
        }
        v.resize(sockaddr + 128, 0);
        debug_assert_eq!(v.len() - start, ENTRY);
    }
    v
}

/// SRV_SNAPSHOT_ARRAY (MS-SMB2 2.2.32.2) of `names`: the names as NUL-terminated UTF-16 and a
/// final NUL, when they fit in `max_out` bytes with the 12-byte header; otherwise the counts
/// and the size needed alone (NumberOfSnapShotsReturned 0).
pub fn encode_snapshot_array(names: &[String], max_out: usize) -> Vec<u8> {
    let mut list = Vec::new();
    for n in names {
        for u in n.encode_utf16() {
            list.put_u16(u);
        }
        list.put_u16(0);
    }
    list.put_u16(0);
    let mut v = Vec::with_capacity(12 + list.len());
    v.put_u32(names.len() as u32);
    let fits = !names.is_empty() && 12 + list.len() <= max_out;
    v.put_u32(if fits { names.len() as u32 } else { 0 });
    v.put_u32(list.len() as u32);
    if fits {
        v.extend_from_slice(&list);
    } else {
        v.put_u16(0);
    }
    v
}

/// SYMLINK_FLAG_RELATIVE (MS-FSCC 2.1.2.4).
const SYMLINK_FLAG_RELATIVE: u32 = 0x1;
/// IO_REPARSE_TAG_SYMLINK (MS-FSCC 2.1.2.1).
pub const IO_REPARSE_TAG_SYMLINK: u32 = 0xA000_000C;

/// The Symbolic Link Error Response (MS-SMB2 2.2.2.2.1) for a POSIX link whose target is
/// `target` ('/'-separated; sent with backslashes, relative unless it starts with '/'), with
/// `unparsed` bytes of the request's path after the link. Substitute and print names are the
/// same.
pub fn encode_symlink_error(unparsed: u16, target: &str) -> Vec<u8> {
    let (name, flags) = symlink_name(target);
    let name_len = name.len() as u16;
    let mut v = Vec::with_capacity(28 + 2 * name.len());
    v.put_u32(24 + 2 * u32::from(name_len)); // SymLinkLength
    v.put_u32(0x4C4D_5953); // SymLinkErrorTag "SYML"
    v.put_u32(IO_REPARSE_TAG_SYMLINK);
    v.put_u16(12 + 2 * name_len); // ReparseDataLength
    v.put_u16(unparsed);
    put_symlink_names(&mut v, &name, flags);
    v
}

/// The symbolic link REPARSE_DATA_BUFFER (MS-FSCC 2.1.2.4) of a POSIX link to `target`, as
/// FSCTL_GET_REPARSE_POINT returns it: the same names and flags as the error response.
pub fn encode_symlink_reparse(target: &str) -> Vec<u8> {
    let (name, flags) = symlink_name(target);
    let name_len = name.len() as u16;
    let mut v = Vec::with_capacity(20 + 2 * name.len());
    v.put_u32(IO_REPARSE_TAG_SYMLINK);
    v.put_u16(12 + 2 * name_len); // ReparseDataLength
    v.put_u16(0); // Reserved
    put_symlink_names(&mut v, &name, flags);
    v
}

/// A link target as sent: UTF-16LE with backslashes (at most 0x7FF0 bytes) and its flags
/// (SYMLINK_FLAG_RELATIVE unless it starts with '/').
fn symlink_name(target: &str) -> (Vec<u8>, u32) {
    let mut name = Vec::new();
    for u in target.replace('/', "\\").encode_utf16() {
        name.put_u16(u);
    }
    name.truncate(0x7FF0);
    let flags = if target.starts_with('/') {
        0
    } else {
        SYMLINK_FLAG_RELATIVE
    };
    (name, flags)
}

/// A REPARSE_DATA_BUFFER's header (MS-FSCC 2.1.2.2): its ReparseTag and its ReparseDataLength
/// bytes of data, which must be in the buffer.
pub fn decode_reparse(input: &[u8]) -> Result<(u32, &[u8]), DecodeError> {
    let mut r = Reader::new(input);
    let tag = r.u32("ReparseTag")?;
    let len = r.u16("ReparseDataLength")? as usize;
    r.skip(2, "Reserved")?;
    Ok((tag, r.take(len, "ReparseData")?))
}

/// The target of symbolic link reparse data (MS-FSCC 2.1.2.4, after the header): the
/// substitute name with '/' for '\\', and whether it is relative (SYMLINK_FLAG_RELATIVE).
pub fn decode_symlink_reparse(data: &[u8]) -> Result<(String, bool), DecodeError> {
    let mut r = Reader::new(data);
    let off = r.u16("SubstituteNameOffset")? as usize;
    let len = r.u16("SubstituteNameLength")? as usize;
    r.skip(4, "PrintName")?;
    let flags = r.u32("Flags")?;
    let names = &data[r.pos()..];
    let name = names
        .get(off..off.saturating_add(len))
        .ok_or(DecodeError::bounds("SubstituteName"))?;
    let target = super::codec::utf16le(name, "SubstituteName")?;
    if target.is_empty() || target.contains('\0') {
        return Err(DecodeError::invalid("SubstituteName"));
    }
    Ok((
        target.replace('\\', "/"),
        flags & SYMLINK_FLAG_RELATIVE != 0,
    ))
}

/// Substitute and print name offsets and lengths (the same name twice), flags, then the names.
fn put_symlink_names(v: &mut Vec<u8>, name: &[u8], flags: u32) {
    let len = name.len() as u16;
    v.put_u16(0); // SubstituteNameOffset
    v.put_u16(len);
    v.put_u16(len); // PrintNameOffset
    v.put_u16(len);
    v.put_u32(flags);
    v.extend_from_slice(name);
    v.extend_from_slice(name);
}

/// An SMB2 ERROR Response body (MS-SMB2 2.2.2) carrying `data`: inside one error context
/// (2.2.2.1, ErrorId SMB2_ERROR_ID_DEFAULT) on 3.1.1, as the ErrorData itself before.
pub fn encode_error_with_data(out: &mut Vec<u8>, data: &[u8], as_context: bool) {
    out.put_u16(9);
    out.push(u8::from(as_context)); // ErrorContextCount
    out.push(0);
    if as_context {
        let padded = data.len().next_multiple_of(8);
        out.put_u32((8 + padded) as u32); // ByteCount
        out.put_u32(data.len() as u32); // ErrorDataLength
        out.put_u32(0); // ErrorId
        out.extend_from_slice(data);
        out.resize(out.len() + padded - data.len(), 0);
    } else {
        out.put_u32(data.len() as u32);
        out.extend_from_slice(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy_input(count: u32, chunks: &[(u64, u64, u32)]) -> Vec<u8> {
        let mut v = vec![0xAA; RESUME_KEY_LEN];
        v.put_u32(count);
        v.put_u32(0);
        for &(s, t, l) in chunks {
            v.put_u64(s);
            v.put_u64(t);
            v.put_u32(l);
            v.put_u32(0);
        }
        v
    }

    #[test]
    fn copychunk_copy() {
        let c = CopychunkCopy::decode(&copy_input(2, &[(0, 4096, 10), (5, 6, 7)]), 256).unwrap();
        assert_eq!(c.source_key, [0xAA; 24]);
        assert_eq!(
            c.chunks,
            vec![
                Chunk {
                    source_offset: 0,
                    target_offset: 4096,
                    length: 10
                },
                Chunk {
                    source_offset: 5,
                    target_offset: 6,
                    length: 7
                }
            ]
        );
        // ChunkCount larger than the chunks present, or than the limit (checked before any
        // allocation, whatever the count claims).
        let short = copy_input(3, &[(0, 0, 1)]);
        assert_eq!(
            CopychunkCopy::decode(&short, 256),
            Err(CopychunkError::Short)
        );
        let huge = copy_input(u32::MAX, &[]);
        assert_eq!(
            CopychunkCopy::decode(&huge, 256),
            Err(CopychunkError::TooManyChunks)
        );
        assert_eq!(
            CopychunkCopy::decode(&[0; 31], 256),
            Err(CopychunkError::Short)
        );
        assert!(
            CopychunkCopy::decode(&copy_input(0, &[]), 256)
                .unwrap()
                .chunks
                .is_empty()
        );
    }

    #[test]
    fn responses() {
        let r = CopychunkResponse {
            chunks_written: 1,
            chunk_bytes_written: 2,
            total_bytes_written: 3,
        };
        assert_eq!(r.encode(), [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]);
        let k = encode_resume_key(&[7; 24]);
        assert_eq!(k.len(), 32);
        assert_eq!(&k[24..], &[0; 8]);
    }

    #[test]
    fn snapshot_array() {
        let names = vec![
            "@GMT-2025.06.30-12.00.00".to_owned(),
            "@GMT-2024.01.01-00.00.00".to_owned(),
        ];
        let full = encode_snapshot_array(&names, 1024);
        // Two names of 24 characters with their NULs, then the final NUL: 102 bytes.
        assert_eq!(&full[..12], &[2, 0, 0, 0, 2, 0, 0, 0, 102, 0, 0, 0]);
        assert_eq!(full.len(), 12 + 102);
        assert_eq!(&full[12..16], &[b'@', 0, b'G', 0]);
        let counts = encode_snapshot_array(&names, 16);
        assert_eq!(&counts[..12], &[2, 0, 0, 0, 0, 0, 0, 0, 102, 0, 0, 0]);
        assert_eq!(counts.len(), 14);
        assert_eq!(
            encode_snapshot_array(&[], 1024),
            [0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn symlink_error() {
        let d = encode_symlink_error(8, "../x");
        // "..\\x": 4 UTF-16 units, twice.
        assert_eq!(d.len(), 28 + 16);
        assert_eq!(&d[..4], &40u32.to_le_bytes());
        assert_eq!(&d[4..8], b"SYML");
        assert_eq!(&d[8..12], &IO_REPARSE_TAG_SYMLINK.to_le_bytes());
        assert_eq!(&d[12..16], &[28, 0, 8, 0]);
        assert_eq!(&d[16..24], &[0, 0, 8, 0, 8, 0, 8, 0]);
        assert_eq!(&d[24..28], &1u32.to_le_bytes());
        assert_eq!(&d[28..36], &[b'.', 0, b'.', 0, b'\\', 0, b'x', 0]);
        assert_eq!(encode_symlink_error(0, "/abs")[24], 0);
        let r = encode_symlink_reparse("../x");
        let (tag, data) = decode_reparse(&r).unwrap();
        assert_eq!(tag, IO_REPARSE_TAG_SYMLINK);
        assert_eq!(
            decode_symlink_reparse(data).unwrap(),
            ("../x".to_owned(), true)
        );
        assert!(decode_reparse(&r[..r.len() - 1]).is_err());
        let mut bad = r.clone();
        bad[10] = 200; // SubstituteNameLength past the names
        assert!(decode_symlink_reparse(decode_reparse(&bad).unwrap().1).is_err());
        assert_eq!(&r[..8], &[0x0C, 0, 0, 0xA0, 28, 0, 0, 0]);
        assert_eq!(&r[8..], &d[16..]);
        let mut out = Vec::new();
        encode_error_with_data(&mut out, &d, true);
        assert_eq!((out[2], out.len()), (1, 8 + 8 + 48));
        assert_eq!(&out[4..8], &56u32.to_le_bytes());
        let mut old = Vec::new();
        encode_error_with_data(&mut old, &d, false);
        assert_eq!((old[2], old.len()), (0, 8 + 44));
    }

    #[test]
    fn network_interface() {
        let v = encode_network_interface(1, 10, std::net::Ipv4Addr::new(10, 0, 0, 2).into());
        assert_eq!(v.len(), 152);
        assert_eq!(&v[..8], &[0, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(&v[24..32], &[2, 0, 0, 0, 10, 0, 0, 2]);
        let v6 = encode_network_interface(1, 10, std::net::Ipv6Addr::LOCALHOST.into());
        assert_eq!((v6.len(), v6[24], v6[47]), (152, 0x17, 1));
    }

    #[test]
    fn network_interface_list() {
        let ll: std::net::IpAddr = "fe80::1".parse().unwrap();
        let v = encode_network_interfaces(&[
            (
                2,
                NETWORK_INTERFACE_RSS_CAPABLE,
                25_000_000_000,
                std::net::Ipv4Addr::new(192, 0, 2, 1).into(),
            ),
            (3, 0, 1_000_000_000, ll),
        ]);
        assert_eq!(v.len(), 304);
        // Next of the first is the entry size; of the last 0.
        assert_eq!(&v[..12], &[152, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(&v[16..24], &25_000_000_000u64.to_le_bytes());
        assert_eq!(&v[152..156], &[0, 0, 0, 0]);
        // The link-local address's ScopeId is its interface index.
        assert_eq!(&v[152 + 24 + 24..152 + 24 + 28], &[3, 0, 0, 0]);
        assert!(encode_network_interfaces(&[]).is_empty());
    }

    #[test]
    fn small_buffers() {
        let mut v = Vec::new();
        OffsetPair {
            offset: 1,
            second: 2,
        }
        .encode(&mut v);
        assert_eq!(
            OffsetPair::decode(&v).unwrap(),
            OffsetPair {
                offset: 1,
                second: 2
            }
        );
        assert!(OffsetPair::decode(&v[..15]).is_err());
        assert!(decode_set_sparse(&[]));
        assert!(decode_set_sparse(&[0xFF, 0]));
        assert!(!decode_set_sparse(&[0]));
        let mut d = Vec::new();
        d.put_u64(48);
        d.extend_from_slice(&[1; 16]);
        d.put_u64(4);
        d.put_u64(5);
        d.put_u64(6);
        d.put_u32(0);
        d.put_u32(0);
        let ex = DuplicateExtents::decode(&d, true).unwrap();
        assert_eq!(
            (ex.source_offset, ex.target_offset, ex.byte_count),
            (4, 5, 6)
        );
        assert_eq!(DuplicateExtents::decode(&d[8..48], false).unwrap(), ex);
        assert!(DuplicateExtents::decode(&d[..47], true).is_err());
        d[0] = 32;
        assert!(DuplicateExtents::decode(&d, true).is_err());
    }
}
