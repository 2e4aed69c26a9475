//! QUERY_INFO encoders for file information classes (MS-FSCC 2.4).

use super::utf16::{utf16le_encode, utf16le_len};
use super::wire::{put_u8, put_u16, put_u32, put_u64, put_zeros};
use super::{FileInfoClass, FsccError};
use vfs::{FileStat, attr};

/// What a QUERY_INFO on one open needs besides the file's metadata.
#[derive(Debug, Clone, Copy)]
pub struct FileInfoContext<'a> {
    /// Metadata of the open file (for pipes, a synthetic stat from the caller).
    pub stat: &'a FileStat,
    /// Path from the share root, backslash separated, no leading backslash; "" for the root.
    pub name: &'a str,
    /// Whether delete-on-close is pending for the file.
    pub delete_pending: bool,
    /// The access mask granted to the open (FileAccessInformation).
    pub access_mask: u32,
    /// The open's current byte offset (FilePositionInformation).
    pub position: u64,
    /// The open's FILE_* mode flags (FileModeInformation).
    pub mode: u32,
    /// Whether the open is a named pipe.
    pub is_pipe: bool,
    /// Serial number of the volume (the same as FileFsVolumeInformation reports), used by
    /// FileIdInformation.
    pub volume_serial: u32,
    /// The name FileAlternateNameInformation reports (the backend's short name, or what the
    /// caller answers for a name without one); `None`: STATUS_OBJECT_NAME_NOT_FOUND.
    pub alternate_name: Option<&'a str>,
}

/// The stream name every regular file reports for its unnamed data stream.
const DATA_STREAM_NAME: &str = "::$DATA";

/// FILE_PIPE_MESSAGE_MODE (MS-FSCC 2.4.33).
const FILE_PIPE_MESSAGE_MODE: u32 = 1;
/// FILE_PIPE_QUEUE_OPERATION (MS-FSCC 2.4.33).
const FILE_PIPE_QUEUE_OPERATION: u32 = 0;
/// FILE_PIPE_MESSAGE_TYPE (MS-FSCC 2.4.34).
const FILE_PIPE_MESSAGE_TYPE: u32 = 1;
/// FILE_PIPE_FULL_DUPLEX (MS-FSCC 2.4.34).
const FILE_PIPE_FULL_DUPLEX: u32 = 2;
/// FILE_PIPE_CONNECTED_STATE (MS-FSCC 2.4.34).
const FILE_PIPE_CONNECTED_STATE: u32 = 3;
/// FILE_PIPE_CLIENT_END (MS-FSCC 2.4.34): the requester holds the client end.
const FILE_PIPE_CLIENT_END: u32 = 0;
/// Quota figure reported for our in-memory pipes.
const PIPE_QUOTA: u32 = 4096;

/// The smallest output buffer a client may offer for `class`, or `None` if this module cannot
/// encode the class.
///
/// For fixed-size classes this is the structure size. For classes with a trailing name it is
/// the size Windows checks, `sizeof()` of the C structure, which includes the first name
/// character rounded up to the structure's alignment (FileNameInformation 8,
/// FileAllInformation 104, FileStreamInformation 32 as MS-FSA 2.1.5.12.29 states).
pub fn file_info_min_size(class: FileInfoClass) -> Option<usize> {
    let n = match class {
        FileInfoClass::FILE_BASIC_INFORMATION => 40,
        FileInfoClass::FILE_STANDARD_INFORMATION => 24,
        FileInfoClass::FILE_INTERNAL_INFORMATION => 8,
        FileInfoClass::FILE_EA_INFORMATION => 4,
        FileInfoClass::FILE_ACCESS_INFORMATION => 4,
        FileInfoClass::FILE_NAME_INFORMATION => 8,
        FileInfoClass::FILE_POSITION_INFORMATION => 8,
        FileInfoClass::FILE_MODE_INFORMATION => 4,
        FileInfoClass::FILE_ALIGNMENT_INFORMATION => 4,
        FileInfoClass::FILE_ALL_INFORMATION => 104,
        FileInfoClass::FILE_ALTERNATE_NAME_INFORMATION => 8,
        FileInfoClass::FILE_STREAM_INFORMATION => 32,
        FileInfoClass::FILE_PIPE_INFORMATION => 8,
        FileInfoClass::FILE_PIPE_LOCAL_INFORMATION => 40,
        FileInfoClass::FILE_COMPRESSION_INFORMATION => 16,
        FileInfoClass::FILE_NETWORK_OPEN_INFORMATION => 56,
        FileInfoClass::FILE_ATTRIBUTE_TAG_INFORMATION => 8,
        FileInfoClass::FILE_NORMALIZED_NAME_INFORMATION => 8,
        FileInfoClass::FILE_STANDARD_LINK_INFORMATION => 12,
        FileInfoClass::FILE_ID_INFORMATION => 24,
        _ => return None,
    };
    Some(n)
}

/// Appends the `class` structure describing the open in `ctx` to `out`.
///
/// Name choices: FileNameInformation and the name part of FileAllInformation carry the path
/// from the share root with a leading backslash (`\dir\file.txt`, `\` for the root), as Windows
/// servers send it over SMB2; FileNormalizedNameInformation carries it without the leading
/// backslash (`dir\file.txt`, empty for the root). Returns [`FsccError::InvalidClass`] for a
/// class this module does not encode, [`FsccError::NotFound`] for FileAlternateNameInformation
/// without an alternate name and [`FsccError::InvalidParameter`] for pipe classes on a non-pipe.
/// On error nothing is appended.
pub fn encode_file_info(
    class: FileInfoClass,
    ctx: &FileInfoContext<'_>,
    out: &mut Vec<u8>,
) -> Result<(), FsccError> {
    let st = ctx.stat;
    match class {
        FileInfoClass::FILE_BASIC_INFORMATION => put_basic(out, st),
        FileInfoClass::FILE_STANDARD_INFORMATION => put_standard(out, ctx),
        FileInfoClass::FILE_INTERNAL_INFORMATION => put_u64(out, st.file_id),
        FileInfoClass::FILE_EA_INFORMATION => put_u32(out, ctx.stat.ea_size),
        FileInfoClass::FILE_ACCESS_INFORMATION => put_u32(out, ctx.access_mask),
        FileInfoClass::FILE_NAME_INFORMATION => put_name(out, &rooted_path(ctx.name)),
        FileInfoClass::FILE_POSITION_INFORMATION => put_u64(out, ctx.position),
        FileInfoClass::FILE_MODE_INFORMATION => put_u32(out, ctx.mode),
        // FILE_BYTE_ALIGNMENT: no alignment requirement.
        FileInfoClass::FILE_ALIGNMENT_INFORMATION => put_u32(out, 0),
        FileInfoClass::FILE_ALL_INFORMATION => put_all(out, ctx),
        FileInfoClass::FILE_ALTERNATE_NAME_INFORMATION => {
            put_name(out, ctx.alternate_name.ok_or(FsccError::NotFound)?)
        }
        FileInfoClass::FILE_STREAM_INFORMATION => put_streams(out, st),
        FileInfoClass::FILE_PIPE_INFORMATION => {
            require_pipe(ctx)?;
            put_u32(out, FILE_PIPE_MESSAGE_MODE);
            put_u32(out, FILE_PIPE_QUEUE_OPERATION);
        }
        FileInfoClass::FILE_PIPE_LOCAL_INFORMATION => {
            require_pipe(ctx)?;
            put_pipe_local(out);
        }
        FileInfoClass::FILE_COMPRESSION_INFORMATION => put_compression(out, st),
        FileInfoClass::FILE_NETWORK_OPEN_INFORMATION => put_network_open(out, st),
        FileInfoClass::FILE_ATTRIBUTE_TAG_INFORMATION => {
            put_u32(out, wire_attributes(st));
            put_u32(out, 0); // ReparseTag: no reparse points.
        }
        FileInfoClass::FILE_NORMALIZED_NAME_INFORMATION => put_name(out, ctx.name),
        FileInfoClass::FILE_STANDARD_LINK_INFORMATION => {
            let links = link_count(ctx);
            put_u32(out, links); // NumberOfAccessibleLinks
            put_u32(out, links); // TotalNumberOfLinks
            put_u8(out, u8::from(ctx.delete_pending));
            put_u8(out, u8::from(st.is_dir));
            put_u16(out, 0);
        }
        FileInfoClass::FILE_ID_INFORMATION => {
            put_u64(out, u64::from(ctx.volume_serial));
            out.extend_from_slice(&file_id_128(st.file_id));
        }
        _ => return Err(FsccError::InvalidClass),
    }
    Ok(())
}

/// FileAttributes as sent: DIRECTORY for directories and NORMAL when nothing else is set.
pub(super) fn wire_attributes(st: &FileStat) -> u32 {
    let mut a = st.attributes;
    if st.is_dir {
        a = (a | attr::DIRECTORY) & !attr::NORMAL;
    }
    if a == 0 {
        a = attr::NORMAL;
    }
    a
}

/// The 128-bit file id (FILE_ID_128) holding the 64-bit id in its low-order bytes.
pub(super) fn file_id_128(id: u64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&id.to_le_bytes());
    b
}

/// End of file as sent: 0 for directories.
fn end_of_file(st: &FileStat) -> u64 {
    if st.is_dir { 0 } else { st.size }
}

/// NumberOfLinks: 1 for directories, one fewer while delete is pending.
fn link_count(ctx: &FileInfoContext<'_>) -> u32 {
    let links = if ctx.stat.is_dir {
        1
    } else {
        ctx.stat.links.max(1)
    };
    if ctx.delete_pending { links - 1 } else { links }
}

/// `\` + the share-relative path.
fn rooted_path(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 1);
    s.push('\\');
    s.push_str(name);
    s
}

fn require_pipe(ctx: &FileInfoContext<'_>) -> Result<(), FsccError> {
    if ctx.is_pipe {
        Ok(())
    } else {
        Err(FsccError::InvalidParameter)
    }
}

/// FILE_BASIC_INFORMATION (MS-FSCC 2.4.7), 40 bytes.
fn put_basic(out: &mut Vec<u8>, st: &FileStat) {
    put_u64(out, st.creation_time);
    put_u64(out, st.last_access_time);
    put_u64(out, st.last_write_time);
    put_u64(out, st.change_time);
    put_u32(out, wire_attributes(st));
    put_u32(out, 0);
}

/// FILE_STANDARD_INFORMATION (MS-FSCC 2.4.47), 24 bytes.
fn put_standard(out: &mut Vec<u8>, ctx: &FileInfoContext<'_>) {
    put_u64(out, ctx.stat.allocation_size);
    put_u64(out, end_of_file(ctx.stat));
    put_u32(out, link_count(ctx));
    put_u8(out, u8::from(ctx.delete_pending));
    put_u8(out, u8::from(ctx.stat.is_dir));
    put_u16(out, 0);
}

/// FILE_NAME_INFORMATION (MS-FSCC 2.4.35): FileNameLength then the UTF-16LE name.
fn put_name(out: &mut Vec<u8>, name: &str) {
    put_u32(out, utf16le_len(name) as u32);
    utf16le_encode(name, out);
}

/// FILE_ALL_INFORMATION (MS-FSCC 2.4.2): Basic 40, Standard 24, Internal 8, Ea 4, Access 4,
/// Position 8, Mode 4, Alignment 4, then FILE_NAME_INFORMATION at offset 96.
fn put_all(out: &mut Vec<u8>, ctx: &FileInfoContext<'_>) {
    put_basic(out, ctx.stat);
    put_standard(out, ctx);
    put_u64(out, ctx.stat.file_id);
    put_u32(out, ctx.stat.ea_size);
    put_u32(out, ctx.access_mask);
    put_u64(out, ctx.position);
    put_u32(out, ctx.mode);
    put_u32(out, 0);
    put_name(out, &rooted_path(ctx.name));
}

/// FILE_STREAM_INFORMATION (MS-FSCC 2.4.49): one `::$DATA` entry for files, none for
/// directories.
fn put_streams(out: &mut Vec<u8>, st: &FileStat) {
    if st.is_dir {
        return;
    }
    put_u32(out, 0); // NextEntryOffset: the only entry.
    put_u32(out, utf16le_len(DATA_STREAM_NAME) as u32);
    put_u64(out, st.size);
    put_u64(out, st.allocation_size);
    utf16le_encode(DATA_STREAM_NAME, out);
}

/// One stream of FileStreamInformation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// The stream's name as reported: `::$DATA`, or `:name:$DATA`.
    pub name: String,
    /// StreamSize.
    pub size: u64,
    /// StreamAllocationSize.
    pub allocation_size: u64,
}

/// FILE_STREAM_INFORMATION (MS-FSCC 2.4.44): the entries in order, each 8-byte aligned,
/// NextEntryOffset 0 on the last. No entries (a directory without named streams) is an empty
/// buffer.
pub fn encode_stream_information(entries: &[StreamEntry], out: &mut Vec<u8>) {
    let start = out.len();
    let mut last_at = None;
    for e in entries {
        while !(out.len() - start).is_multiple_of(8) {
            out.push(0);
        }
        if let Some(at) = last_at {
            let next = (out.len() - at) as u32;
            out[at..at + 4].copy_from_slice(&next.to_le_bytes());
        }
        last_at = Some(out.len());
        put_u32(out, 0);
        put_u32(out, utf16le_len(&e.name) as u32);
        put_u64(out, e.size);
        put_u64(out, e.allocation_size);
        utf16le_encode(&e.name, out);
    }
}

/// FILE_PIPE_LOCAL_INFORMATION (MS-FSCC 2.4.34), 40 bytes, for a connected message pipe.
fn put_pipe_local(out: &mut Vec<u8>) {
    put_u32(out, FILE_PIPE_MESSAGE_TYPE);
    put_u32(out, FILE_PIPE_FULL_DUPLEX);
    put_u32(out, u32::MAX); // MaximumInstances: unlimited.
    put_u32(out, 1); // CurrentInstances
    put_u32(out, PIPE_QUOTA); // InboundQuota
    put_u32(out, 0); // ReadDataAvailable
    put_u32(out, PIPE_QUOTA); // OutboundQuota
    put_u32(out, PIPE_QUOTA); // WriteQuotaAvailable
    put_u32(out, FILE_PIPE_CONNECTED_STATE);
    put_u32(out, FILE_PIPE_CLIENT_END);
}

/// FILE_COMPRESSION_INFORMATION (MS-FSCC 2.4.9), 16 bytes: uncompressed.
fn put_compression(out: &mut Vec<u8>, st: &FileStat) {
    put_u64(out, end_of_file(st)); // CompressedFileSize
    put_u16(out, 0); // COMPRESSION_FORMAT_NONE
    put_u8(out, 0); // CompressionUnitShift
    put_u8(out, 0); // ChunkShift
    put_u8(out, 0); // ClusterShift
    put_zeros(out, 3);
}

/// FILE_NETWORK_OPEN_INFORMATION (MS-FSCC 2.4.36), 56 bytes.
fn put_network_open(out: &mut Vec<u8>, st: &FileStat) {
    put_u64(out, st.creation_time);
    put_u64(out, st.last_access_time);
    put_u64(out, st.last_write_time);
    put_u64(out, st.change_time);
    put_u64(out, st.allocation_size);
    put_u64(out, end_of_file(st));
    put_u32(out, wire_attributes(st));
    put_u32(out, 0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_util::hex;

    fn file_stat() -> FileStat {
        FileStat {
            size: 0x1234,
            allocation_size: 0x2000,
            creation_time: 0x01D9_0000_0000_0001,
            last_access_time: 0x01D9_0000_0000_0002,
            last_write_time: 0x01D9_0000_0000_0003,
            change_time: 0x01D9_0000_0000_0004,
            attributes: attr::ARCHIVE,
            file_id: 0x0011_2233_4455_6677,
            volume: 0,
            links: 1,
            ea_size: 0,
            is_dir: false,
        }
    }

    fn ctx(st: &FileStat) -> FileInfoContext<'_> {
        FileInfoContext {
            stat: st,
            name: "dir\\a.txt",
            delete_pending: false,
            access_mask: 0x0012_019F,
            position: 0x10,
            mode: 0x20,
            is_pipe: false,
            volume_serial: 0xCAFE_BABE,
            alternate_name: Some("A.TXT"),
        }
    }

    fn enc(class: FileInfoClass, c: &FileInfoContext<'_>) -> Result<Vec<u8>, FsccError> {
        let mut out = Vec::new();
        encode_file_info(class, c, &mut out).map(|()| out)
    }

    const BASIC_HEX: &str = "0100000000 00d901 0200000000 00d901 0300000000 00d901 \
                             0400000000 00d901 20000000 00000000";

    #[test]
    fn stream_information_chains_aligned_entries() {
        let entries = [
            StreamEntry {
                name: "::$DATA".into(),
                size: 5,
                allocation_size: 8,
            },
            StreamEntry {
                name: ":ab:$DATA".into(),
                size: 1,
                allocation_size: 2,
            },
        ];
        let mut out = Vec::new();
        encode_stream_information(&entries, &mut out);
        // 24 fixed + 14 name bytes, padded to 40.
        assert_eq!(&out[0..4], &40u32.to_le_bytes());
        assert_eq!(&out[4..8], &14u32.to_le_bytes());
        assert_eq!(&out[40..44], &0u32.to_le_bytes());
        assert_eq!(&out[44..48], &18u32.to_le_bytes());
        assert_eq!(out.len(), 40 + 24 + 18);
        let mut none = Vec::new();
        encode_stream_information(&[], &mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn basic() {
        let st = file_stat();
        let out = enc(FileInfoClass::FILE_BASIC_INFORMATION, &ctx(&st)).unwrap();
        assert_eq!(out.len(), 40);
        assert_eq!(out, hex(BASIC_HEX));
    }

    #[test]
    fn basic_directory_attributes() {
        let st = FileStat {
            attributes: attr::NORMAL,
            is_dir: true,
            ..file_stat()
        };
        let out = enc(FileInfoClass::FILE_BASIC_INFORMATION, &ctx(&st)).unwrap();
        assert_eq!(out[32..36], [0x10, 0, 0, 0]);
    }

    #[test]
    fn standard() {
        let st = file_stat();
        let out = enc(FileInfoClass::FILE_STANDARD_INFORMATION, &ctx(&st)).unwrap();
        assert_eq!(
            out,
            hex("0020000000000000 3412000000000000 01000000 00 00 0000")
        );
        let mut c = ctx(&st);
        c.delete_pending = true;
        let out = enc(FileInfoClass::FILE_STANDARD_INFORMATION, &c).unwrap();
        assert_eq!(
            out,
            hex("0020000000000000 3412000000000000 00000000 01 00 0000")
        );
        let dir = FileStat {
            size: 0,
            allocation_size: 0,
            links: 3,
            is_dir: true,
            ..file_stat()
        };
        let out = enc(FileInfoClass::FILE_STANDARD_INFORMATION, &ctx(&dir)).unwrap();
        assert_eq!(
            out,
            hex("0000000000000000 0000000000000000 01000000 00 01 0000")
        );
    }

    #[test]
    fn small_fixed_classes() {
        let st = file_stat();
        let c = ctx(&st);
        let cases: [(FileInfoClass, &str); 7] = [
            (FileInfoClass::FILE_INTERNAL_INFORMATION, "7766554433221100"),
            (FileInfoClass::FILE_EA_INFORMATION, "00000000"),
            (FileInfoClass::FILE_ACCESS_INFORMATION, "9f011200"),
            (FileInfoClass::FILE_POSITION_INFORMATION, "1000000000000000"),
            (FileInfoClass::FILE_MODE_INFORMATION, "20000000"),
            (FileInfoClass::FILE_ALIGNMENT_INFORMATION, "00000000"),
            (
                FileInfoClass::FILE_ATTRIBUTE_TAG_INFORMATION,
                "2000000000000000",
            ),
        ];
        for (class, want) in cases {
            let out = enc(class, &c).unwrap();
            assert_eq!(out, hex(want), "{class:?}");
            assert_eq!(Some(out.len()), file_info_min_size(class), "{class:?}");
        }
    }

    #[test]
    fn name_and_normalized_name() {
        let st = file_stat();
        let c = ctx(&st);
        let out = enc(FileInfoClass::FILE_NAME_INFORMATION, &c).unwrap();
        // "\dir\a.txt" = 10 UTF-16 units.
        assert_eq!(
            out,
            hex("14000000 5c00 6400 6900 7200 5c00 6100 2e00 7400 7800 7400")
        );
        let out = enc(FileInfoClass::FILE_NORMALIZED_NAME_INFORMATION, &c).unwrap();
        assert_eq!(out[..4], [18, 0, 0, 0]);
        assert_eq!(out[4..6], [b'd', 0]);
        let mut root = c;
        root.name = "";
        let out = enc(FileInfoClass::FILE_NAME_INFORMATION, &root).unwrap();
        assert_eq!(out, hex("02000000 5c00"));
        let out = enc(FileInfoClass::FILE_NORMALIZED_NAME_INFORMATION, &root).unwrap();
        assert_eq!(out, hex("00000000"));
    }

    #[test]
    fn all_information_layout() {
        let st = file_stat();
        let out = enc(FileInfoClass::FILE_ALL_INFORMATION, &ctx(&st)).unwrap();
        let mut want = hex(BASIC_HEX);
        want.extend(hex("0020000000000000 3412000000000000 01000000 00 00 0000"));
        want.extend(hex("7766554433221100")); // Internal
        want.extend(hex("00000000")); // Ea
        want.extend(hex("9f011200")); // Access
        want.extend(hex("1000000000000000")); // Position
        want.extend(hex("20000000")); // Mode
        want.extend(hex("00000000")); // Alignment
        assert_eq!(want.len(), 96);
        want.extend(hex(
            "14000000 5c00 6400 6900 7200 5c00 6100 2e00 7400 7800 7400",
        ));
        assert_eq!(out, want);
    }

    #[test]
    fn alternate_name_not_found_for_root() {
        let st = file_stat();
        let root = FileInfoContext {
            name: "",
            alternate_name: None,
            ..ctx(&st)
        };
        assert_eq!(
            enc(FileInfoClass::FILE_ALTERNATE_NAME_INFORMATION, &root),
            Err(FsccError::NotFound)
        );
        assert_eq!(FsccError::NotFound.nt_status(), 0xC000_0034);
    }

    #[test]
    fn stream_information() {
        let st = file_stat();
        let out = enc(FileInfoClass::FILE_STREAM_INFORMATION, &ctx(&st)).unwrap();
        assert_eq!(
            out,
            hex("00000000 0e000000 3412000000000000 0020000000000000 \
                 3a00 3a00 2400 4400 4100 5400 4100")
        );
        let dir = FileStat {
            is_dir: true,
            ..file_stat()
        };
        assert!(
            enc(FileInfoClass::FILE_STREAM_INFORMATION, &ctx(&dir))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn compression_network_open_id_link() {
        let st = file_stat();
        let c = ctx(&st);
        let out = enc(FileInfoClass::FILE_COMPRESSION_INFORMATION, &c).unwrap();
        assert_eq!(out, hex("3412000000000000 0000 00 00 00 000000"));
        let out = enc(FileInfoClass::FILE_NETWORK_OPEN_INFORMATION, &c).unwrap();
        let mut want = hex(BASIC_HEX)[..32].to_vec();
        want.extend(hex("0020000000000000 3412000000000000 20000000 00000000"));
        assert_eq!(out, want);
        assert_eq!(out.len(), 56);
        let out = enc(FileInfoClass::FILE_ID_INFORMATION, &c).unwrap();
        assert_eq!(
            out,
            hex("bebafeca00000000 7766554433221100 0000000000000000")
        );
        let out = enc(FileInfoClass::FILE_STANDARD_LINK_INFORMATION, &c).unwrap();
        assert_eq!(out, hex("01000000 01000000 00 00 0000"));
    }

    #[test]
    fn pipes() {
        let st = FileStat::default();
        let mut c = ctx(&st);
        assert_eq!(
            enc(FileInfoClass::FILE_PIPE_INFORMATION, &c),
            Err(FsccError::InvalidParameter)
        );
        c.is_pipe = true;
        let out = enc(FileInfoClass::FILE_PIPE_INFORMATION, &c).unwrap();
        assert_eq!(out, hex("01000000 00000000"));
        let out = enc(FileInfoClass::FILE_PIPE_LOCAL_INFORMATION, &c).unwrap();
        assert_eq!(
            out,
            hex("01000000 02000000 ffffffff 01000000 00100000 00000000 \
                 00100000 00100000 03000000 00000000")
        );
    }

    #[test]
    fn unsupported_classes() {
        let st = file_stat();
        let c = ctx(&st);
        for class in [
            FileInfoClass::FILE_DIRECTORY_INFORMATION,
            FileInfoClass::FILE_RENAME_INFORMATION,
            FileInfoClass::FILE_QUOTA_INFORMATION,
            FileInfoClass(0),
            FileInfoClass(200),
        ] {
            let mut out = vec![7];
            assert_eq!(
                encode_file_info(class, &c, &mut out),
                Err(FsccError::InvalidClass)
            );
            assert_eq!(out, [7]);
            assert_eq!(file_info_min_size(class), None);
        }
    }
}
