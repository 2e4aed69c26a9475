//! QUERY_INFO encoders for file system information classes (MS-FSCC 2.5).

use super::utf16::{utf16le_encode, utf16le_len};
use super::wire::{put_u8, put_u32, put_u64, put_zeros};
use super::{FsInfoClass, FsccError};
use vfs::FsInfo;

/// What a file system QUERY_INFO needs about the share's volume.
#[derive(Debug, Clone, Copy)]
pub struct FsInfoContext<'a> {
    /// Space figures and serial of the filesystem.
    pub fs: &'a FsInfo,
    /// The volume label (usually the share name).
    pub volume_label: &'a str,
    /// Volume creation time as FILETIME.
    pub volume_created: u64,
    /// The file system name reported to clients, e.g. "NTFS".
    pub fs_name: &'a str,
    /// Whether the share is read-only.
    pub read_only: bool,
    /// The volume's object id (FileFsObjectIdInformation).
    pub object_id: [u8; 16],
    /// Whether the share serves alternate data streams (FILE_NAMED_STREAMS).
    pub named_streams: bool,
}

/// FILE_CASE_PRESERVED_NAMES (MS-FSCC 2.5.1).
const FILE_CASE_PRESERVED_NAMES: u32 = 0x0000_0002;
/// FILE_UNICODE_ON_DISK (MS-FSCC 2.5.1).
const FILE_UNICODE_ON_DISK: u32 = 0x0000_0004;
/// FILE_PERSISTENT_ACLS (MS-FSCC 2.5.1).
const FILE_PERSISTENT_ACLS: u32 = 0x0000_0008;
/// FILE_SUPPORTS_SPARSE_FILES (MS-FSCC 2.5.1).
const FILE_SUPPORTS_SPARSE_FILES: u32 = 0x0000_0040;
/// FILE_NAMED_STREAMS (MS-FSCC 2.5.1).
const FILE_NAMED_STREAMS: u32 = 0x0004_0000;
/// FILE_READ_ONLY_VOLUME (MS-FSCC 2.5.1).
const FILE_READ_ONLY_VOLUME: u32 = 0x0008_0000;
/// FILE_SUPPORTS_HARD_LINKS (MS-FSCC 2.5.1).
const FILE_SUPPORTS_HARD_LINKS: u32 = 0x0040_0000;
/// FILE_SUPPORTS_EXTENDED_ATTRIBUTES (MS-FSCC 2.5.1).
const FILE_SUPPORTS_EXTENDED_ATTRIBUTES: u32 = 0x0080_0000;

/// The FileSystemAttributes we can honour: names keep their case, are Unicode, security
/// descriptors persist, files can be sparse and have hard links and extended attributes. Not
/// claimed: case-sensitive search, object ids, reparse points, block refcounting (whether extents can be shared
/// depends on the file system under the share; FSCTL_DUPLICATE_EXTENTS_TO_FILE is answered
/// NOT_SUPPORTED where they cannot). Named streams are claimed per share
/// ([`fs_attribute_flags`]).
pub const FS_ATTRIBUTES: u32 = FILE_CASE_PRESERVED_NAMES
    | FILE_UNICODE_ON_DISK
    | FILE_PERSISTENT_ACLS
    | FILE_SUPPORTS_SPARSE_FILES
    | FILE_SUPPORTS_HARD_LINKS
    | FILE_SUPPORTS_EXTENDED_ATTRIBUTES;

/// FileSystemAttributes for a share: [`FS_ATTRIBUTES`], plus FILE_READ_ONLY_VOLUME if
/// read-only and FILE_NAMED_STREAMS if it serves streams (clients such as Explorer write
/// `Zone.Identifier` streams only where it is set).
pub fn fs_attribute_flags(read_only: bool, named_streams: bool) -> u32 {
    let mut flags = FS_ATTRIBUTES;
    if read_only {
        flags |= FILE_READ_ONLY_VOLUME;
    }
    if named_streams {
        flags |= FILE_NAMED_STREAMS;
    }
    flags
}

/// MaximumComponentNameLength reported in FileFsAttributeInformation.
const MAX_COMPONENT_NAME_LENGTH: u32 = 255;
/// FILE_DEVICE_DISK (MS-FSCC 2.5.10).
const FILE_DEVICE_DISK: u32 = 0x0000_0007;
/// FILE_READ_ONLY_DEVICE characteristic (MS-FSCC 2.5.10).
const FILE_READ_ONLY_DEVICE: u32 = 0x0000_0002;
/// FILE_DEVICE_IS_MOUNTED characteristic (MS-FSCC 2.5.10).
const FILE_DEVICE_IS_MOUNTED: u32 = 0x0000_0020;
/// SSINFO_FLAGS_ALIGNED_DEVICE (MS-FSCC 2.5.8).
const SSINFO_FLAGS_ALIGNED_DEVICE: u32 = 0x0000_0001;
/// SSINFO_FLAGS_PARTITION_ALIGNED_ON_DEVICE (MS-FSCC 2.5.8).
const SSINFO_FLAGS_PARTITION_ALIGNED_ON_DEVICE: u32 = 0x0000_0002;
/// The sector size we report when the block size allows it.
const SECTOR: u32 = 512;
/// Allocation unit assumed when the backend reports a block size of 0.
const DEFAULT_BLOCK: u32 = 4096;

/// The smallest output buffer a client may offer for `class`, or `None` if this module cannot
/// encode it. Variable classes use the sizes Windows enforces (smbtorture
/// smb2.getinfo.qfs_buffercheck): FileFsVolumeInformation 24 and FileFsAttributeInformation 16.
pub fn fs_info_min_size(class: FsInfoClass) -> Option<usize> {
    let n = match class {
        FsInfoClass::FILE_FS_VOLUME_INFORMATION => 24,
        FsInfoClass::FILE_FS_SIZE_INFORMATION => 24,
        FsInfoClass::FILE_FS_DEVICE_INFORMATION => 8,
        FsInfoClass::FILE_FS_ATTRIBUTE_INFORMATION => 16,
        FsInfoClass::FILE_FS_CONTROL_INFORMATION => 48,
        FsInfoClass::FILE_FS_FULL_SIZE_INFORMATION => 32,
        FsInfoClass::FILE_FS_OBJECT_ID_INFORMATION => 64,
        FsInfoClass::FILE_FS_SECTOR_SIZE_INFORMATION => 28,
        _ => return None,
    };
    Some(n)
}

/// (SectorsPerAllocationUnit, BytesPerSector) for a block size: 512-byte sectors when the
/// block is a multiple of 512 (4096 = 8 * 512), else one sector of the whole block.
fn sector_geometry(block_size: u32) -> (u32, u32) {
    let bs = if block_size == 0 {
        DEFAULT_BLOCK
    } else {
        block_size
    };
    if bs.is_multiple_of(SECTOR) {
        (bs / SECTOR, SECTOR)
    } else {
        (1, bs)
    }
}

/// Appends the `class` structure describing the volume in `ctx` to `out`.
/// Returns [`FsccError::InvalidClass`] (appending nothing) for classes not encoded here.
pub fn encode_fs_info(
    class: FsInfoClass,
    ctx: &FsInfoContext<'_>,
    out: &mut Vec<u8>,
) -> Result<(), FsccError> {
    let fs = ctx.fs;
    let (sectors_per_unit, bytes_per_sector) = sector_geometry(fs.block_size);
    match class {
        // FILE_FS_VOLUME_INFORMATION (MS-FSCC 2.5.9).
        FsInfoClass::FILE_FS_VOLUME_INFORMATION => {
            put_u64(out, ctx.volume_created);
            put_u32(out, fs.serial);
            put_u32(out, utf16le_len(ctx.volume_label) as u32);
            put_u8(out, 0); // SupportsObjects: no object ids.
            put_u8(out, 0);
            utf16le_encode(ctx.volume_label, out);
        }
        // FILE_FS_SIZE_INFORMATION (MS-FSCC 2.5.8).
        FsInfoClass::FILE_FS_SIZE_INFORMATION => {
            put_u64(out, fs.total_blocks);
            put_u64(out, fs.available_blocks);
            put_u32(out, sectors_per_unit);
            put_u32(out, bytes_per_sector);
        }
        // FILE_FS_CONTROL_INFORMATION (MS-FSCC 2.5.2): no quotas, no content indexing.
        FsInfoClass::FILE_FS_CONTROL_INFORMATION => {
            put_u64(out, 0); // FreeSpaceStartFiltering
            put_u64(out, 0); // FreeSpaceThreshold
            put_u64(out, 0); // FreeSpaceStopFiltering
            put_u64(out, u64::MAX); // DefaultQuotaThreshold
            put_u64(out, u64::MAX); // DefaultQuotaLimit
            put_u32(out, 0); // FileSystemControlFlags
            put_u32(out, 0); // Padding
        }
        // FILE_FS_DEVICE_INFORMATION (MS-FSCC 2.5.10).
        FsInfoClass::FILE_FS_DEVICE_INFORMATION => {
            put_u32(out, FILE_DEVICE_DISK);
            let mut ch = FILE_DEVICE_IS_MOUNTED;
            if ctx.read_only {
                ch |= FILE_READ_ONLY_DEVICE;
            }
            put_u32(out, ch);
        }
        // FILE_FS_ATTRIBUTE_INFORMATION (MS-FSCC 2.5.1).
        FsInfoClass::FILE_FS_ATTRIBUTE_INFORMATION => {
            put_u32(out, fs_attribute_flags(ctx.read_only, ctx.named_streams));
            put_u32(out, MAX_COMPONENT_NAME_LENGTH);
            put_u32(out, utf16le_len(ctx.fs_name) as u32);
            utf16le_encode(ctx.fs_name, out);
        }
        // FILE_FS_FULL_SIZE_INFORMATION (MS-FSCC 2.5.4).
        FsInfoClass::FILE_FS_FULL_SIZE_INFORMATION => {
            put_u64(out, fs.total_blocks);
            put_u64(out, fs.available_blocks);
            put_u64(out, fs.free_blocks);
            put_u32(out, sectors_per_unit);
            put_u32(out, bytes_per_sector);
        }
        // FILE_FS_OBJECTID_INFORMATION (MS-FSCC 2.5.6): ObjectId then 48 bytes ExtendedInfo.
        FsInfoClass::FILE_FS_OBJECT_ID_INFORMATION => {
            out.extend_from_slice(&ctx.object_id);
            put_zeros(out, 48);
        }
        // FILE_FS_SECTOR_SIZE_INFORMATION (MS-FSCC 2.5.7).
        FsInfoClass::FILE_FS_SECTOR_SIZE_INFORMATION => {
            put_u32(out, bytes_per_sector); // LogicalBytesPerSector
            put_u32(out, bytes_per_sector); // PhysicalBytesPerSectorForAtomicity
            put_u32(out, bytes_per_sector); // PhysicalBytesPerSectorForPerformance
            put_u32(out, bytes_per_sector); // FileSystemEffectivePhysicalBytesPerSectorForAtomicity
            put_u32(
                out,
                SSINFO_FLAGS_ALIGNED_DEVICE | SSINFO_FLAGS_PARTITION_ALIGNED_ON_DEVICE,
            );
            put_u32(out, 0); // ByteOffsetForSectorAlignment
            put_u32(out, 0); // ByteOffsetForPartitionAlignment
        }
        _ => return Err(FsccError::InvalidClass),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_util::hex;

    const FS: FsInfo = FsInfo {
        block_size: 4096,
        total_blocks: 0x1000,
        available_blocks: 0x300,
        free_blocks: 0x400,
        serial: 0x1234_5678,
    };

    fn ctx(fs: &FsInfo, read_only: bool) -> FsInfoContext<'_> {
        FsInfoContext {
            fs,
            volume_label: "share",
            volume_created: 0x01D9_0000_0000_0000,
            fs_name: "NTFS",
            read_only,
            object_id: [0xAB; 16],
            named_streams: false,
        }
    }

    fn enc(class: FsInfoClass, c: &FsInfoContext<'_>) -> Result<Vec<u8>, FsccError> {
        let mut out = Vec::new();
        encode_fs_info(class, c, &mut out).map(|()| out)
    }

    #[test]
    fn volume() {
        let out = enc(FsInfoClass::FILE_FS_VOLUME_INFORMATION, &ctx(&FS, false)).unwrap();
        assert_eq!(
            out,
            hex("000000000000d901 78563412 0a000000 00 00 7300 6800 6100 7200 6500")
        );
    }

    #[test]
    fn sizes() {
        let c = ctx(&FS, false);
        let out = enc(FsInfoClass::FILE_FS_SIZE_INFORMATION, &c).unwrap();
        assert_eq!(
            out,
            hex("0010000000000000 0003000000000000 08000000 00020000")
        );
        assert_eq!(out.len(), 24);
        let out = enc(FsInfoClass::FILE_FS_FULL_SIZE_INFORMATION, &c).unwrap();
        assert_eq!(
            out,
            hex("0010000000000000 0003000000000000 0004000000000000 08000000 00020000")
        );
        assert_eq!(out.len(), 32);
    }

    #[test]
    fn odd_block_sizes() {
        assert_eq!(sector_geometry(4096), (8, 512));
        assert_eq!(sector_geometry(512), (1, 512));
        assert_eq!(sector_geometry(0), (8, 512));
        assert_eq!(sector_geometry(1000), (1, 1000));
        assert_eq!(sector_geometry(65536), (128, 512));
    }

    #[test]
    fn device() {
        let out = enc(FsInfoClass::FILE_FS_DEVICE_INFORMATION, &ctx(&FS, false)).unwrap();
        assert_eq!(out, hex("07000000 20000000"));
        let out = enc(FsInfoClass::FILE_FS_DEVICE_INFORMATION, &ctx(&FS, true)).unwrap();
        assert_eq!(out, hex("07000000 22000000"));
    }

    #[test]
    fn attribute() {
        let out = enc(FsInfoClass::FILE_FS_ATTRIBUTE_INFORMATION, &ctx(&FS, false)).unwrap();
        assert_eq!(out, hex("4e00c000 ff000000 08000000 4e00 5400 4600 5300"));
        let out = enc(FsInfoClass::FILE_FS_ATTRIBUTE_INFORMATION, &ctx(&FS, true)).unwrap();
        assert_eq!(out[..4], hex("4e00c800"));
    }

    #[test]
    fn object_id_and_sector_size() {
        let c = ctx(&FS, false);
        let out = enc(FsInfoClass::FILE_FS_OBJECT_ID_INFORMATION, &c).unwrap();
        assert_eq!(out.len(), 64);
        assert_eq!(out[..16], [0xAB; 16]);
        assert!(out[16..].iter().all(|&b| b == 0));
        let out = enc(FsInfoClass::FILE_FS_SECTOR_SIZE_INFORMATION, &c).unwrap();
        assert_eq!(
            out,
            hex("00020000 00020000 00020000 00020000 03000000 00000000 00000000")
        );
    }

    #[test]
    fn min_sizes_match_fixed_encodings() {
        let c = ctx(&FS, false);
        for class in [
            FsInfoClass::FILE_FS_SIZE_INFORMATION,
            FsInfoClass::FILE_FS_DEVICE_INFORMATION,
            FsInfoClass::FILE_FS_FULL_SIZE_INFORMATION,
            FsInfoClass::FILE_FS_OBJECT_ID_INFORMATION,
            FsInfoClass::FILE_FS_SECTOR_SIZE_INFORMATION,
        ] {
            assert_eq!(Some(enc(class, &c).unwrap().len()), fs_info_min_size(class));
        }
    }

    #[test]
    fn control_information_is_48_bytes() {
        let c = ctx(&FS, false);
        let out = enc(FsInfoClass::FILE_FS_CONTROL_INFORMATION, &c).unwrap();
        assert_eq!(out.len(), 48);
        assert_eq!(
            fs_info_min_size(FsInfoClass::FILE_FS_CONTROL_INFORMATION),
            Some(48)
        );
    }

    #[test]
    fn unsupported() {
        let c = ctx(&FS, false);
        for class in [FsInfoClass::FILE_FS_LABEL_INFORMATION, FsInfoClass(99)] {
            assert_eq!(enc(class, &c), Err(FsccError::InvalidClass));
            assert_eq!(fs_info_min_size(class), None);
        }
    }
}
