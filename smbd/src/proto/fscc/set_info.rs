//! SET_INFO input decoders for file information classes (MS-FSCC 2.4).

use super::utf16::utf16le_decode;
use super::wire::{get_i64, get_u8, get_u32};
use super::{FileInfoClass, FsccError};

/// FILE_BASIC_INFORMATION as a client sets it (MS-FSCC 2.4.7).
///
/// Each time is a FILETIME, or 0 = leave unchanged, -1 = stop updating it for this open
/// (treated as unchanged), -2 = resume updating it (also no change now). Values below -2 are
/// rejected while decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BasicInfo {
    /// CreationTime.
    pub creation: i64,
    /// LastAccessTime.
    pub last_access: i64,
    /// LastWriteTime.
    pub last_write: i64,
    /// ChangeTime.
    pub change: i64,
    /// FileAttributes; 0 = leave unchanged.
    pub attributes: u32,
}

impl BasicInfo {
    /// The times to store: positive values become `Some`, 0, -1 and -2 leave a time alone.
    pub fn to_set_times(&self) -> vfs::SetTimes {
        fn time(v: i64) -> Option<u64> {
            u64::try_from(v).ok().filter(|&t| t > 0)
        }
        vfs::SetTimes {
            creation: time(self.creation),
            last_access: time(self.last_access),
            last_write: time(self.last_write),
            change: time(self.change),
        }
    }
}

/// A decoded SET_INFO request for one file information class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetFileInfo {
    /// FileBasicInformation (4).
    Basic(BasicInfo),
    /// FileRenameInformation (10), SMB2 TYPE_2 layout; `file_name` is as the client sent it.
    Rename {
        /// ReplaceIfExists.
        replace_if_exists: bool,
        /// The new name, share-relative.
        file_name: String,
    },
    /// FileLinkInformation (11), SMB2 TYPE_2 layout.
    Link {
        /// ReplaceIfExists.
        replace_if_exists: bool,
        /// The link name, share-relative.
        file_name: String,
    },
    /// FileDispositionInformation (13).
    Disposition {
        /// DeletePending requested.
        delete: bool,
    },
    /// FileDispositionInformationEx (64): FILE_DISPOSITION_* flags.
    DispositionEx {
        /// Flags as sent.
        flags: u32,
    },
    /// FileEndOfFileInformation (20).
    EndOfFile(u64),
    /// FileAllocationInformation (19).
    Allocation(u64),
    /// FilePositionInformation (14).
    Position(u64),
    /// FileModeInformation (16).
    Mode(u32),
    /// FileValidDataLengthInformation (39).
    ValidDataLength(u64),
    /// FileShortNameInformation (40).
    ShortName(String),
    /// FileFullEaInformation (15): the FILE_FULL_EA_INFORMATION list, checked
    /// ([`super::decode_full_ea_list`]).
    FullEa(Vec<vfs::Ea>),
}

/// FileModeInformation flags a client may set: FILE_WRITE_THROUGH, FILE_SEQUENTIAL_ONLY,
/// FILE_NO_INTERMEDIATE_BUFFERING, FILE_SYNCHRONOUS_IO_ALERT, FILE_SYNCHRONOUS_IO_NONALERT,
/// FILE_DELETE_ON_CLOSE (MS-FSCC 2.4.26).
const MODE_VALID_BITS: u32 = 0x0000_0002 | 0x0000_0004 | 0x0000_0008 | 0x10 | 0x20 | 0x1000;

/// Offset of FileName in FILE_RENAME_INFORMATION_TYPE_2 / FILE_LINK_INFORMATION_TYPE_2.
const RENAME_NAME_OFFSET: usize = 20;

/// Decodes a SET_INFO input buffer of `class`.
///
/// A buffer shorter than the fixed part is [`FsccError::InfoLengthMismatch`]; bad values
/// (name length past the buffer, odd or invalid UTF-16, empty rename target, negative sizes,
/// times below -2, unknown mode bits) are [`FsccError::InvalidParameter`]; classes that cannot
/// be set are [`FsccError::InvalidClass`]. Trailing bytes past the structure are ignored.
pub fn decode_set_file_info(class: FileInfoClass, buf: &[u8]) -> Result<SetFileInfo, FsccError> {
    match class {
        FileInfoClass::FILE_BASIC_INFORMATION => decode_basic(buf).map(SetFileInfo::Basic),
        FileInfoClass::FILE_RENAME_INFORMATION => {
            let (replace_if_exists, file_name) = decode_rename(buf)?;
            Ok(SetFileInfo::Rename {
                replace_if_exists,
                file_name,
            })
        }
        FileInfoClass::FILE_LINK_INFORMATION => {
            let (replace_if_exists, file_name) = decode_rename(buf)?;
            Ok(SetFileInfo::Link {
                replace_if_exists,
                file_name,
            })
        }
        FileInfoClass::FILE_DISPOSITION_INFORMATION => {
            let v = get_u8(buf, 0).ok_or(FsccError::InfoLengthMismatch)?;
            Ok(SetFileInfo::Disposition { delete: v != 0 })
        }
        FileInfoClass::FILE_DISPOSITION_INFORMATION_EX => {
            let flags = get_u32(buf, 0).ok_or(FsccError::InfoLengthMismatch)?;
            Ok(SetFileInfo::DispositionEx { flags })
        }
        FileInfoClass::FILE_END_OF_FILE_INFORMATION => size(buf).map(SetFileInfo::EndOfFile),
        FileInfoClass::FILE_ALLOCATION_INFORMATION => size(buf).map(SetFileInfo::Allocation),
        FileInfoClass::FILE_POSITION_INFORMATION => size(buf).map(SetFileInfo::Position),
        FileInfoClass::FILE_VALID_DATA_LENGTH_INFORMATION => {
            size(buf).map(SetFileInfo::ValidDataLength)
        }
        FileInfoClass::FILE_MODE_INFORMATION => {
            let mode = get_u32(buf, 0).ok_or(FsccError::InfoLengthMismatch)?;
            if mode & !MODE_VALID_BITS != 0 {
                return Err(FsccError::InvalidParameter);
            }
            Ok(SetFileInfo::Mode(mode))
        }
        FileInfoClass::FILE_SHORT_NAME_INFORMATION => {
            let len = get_u32(buf, 0).ok_or(FsccError::InfoLengthMismatch)?;
            let name = slice_name(buf, 4, len)?;
            Ok(SetFileInfo::ShortName(utf16le_decode(name)?))
        }
        FileInfoClass::FILE_FULL_EA_INFORMATION => {
            // NextEntryOffset, Flags, EaNameLength, EaValueLength: the fixed part of one entry.
            if buf.len() < 8 {
                return Err(FsccError::InfoLengthMismatch);
            }
            super::decode_full_ea_list(buf).map(SetFileInfo::FullEa)
        }
        _ => Err(FsccError::InvalidClass),
    }
}

/// FILE_BASIC_INFORMATION: four times, attributes, 4 reserved bytes (40 in all).
fn decode_basic(buf: &[u8]) -> Result<BasicInfo, FsccError> {
    if buf.len() < 40 {
        return Err(FsccError::InfoLengthMismatch);
    }
    let time = |at| -> Result<i64, FsccError> {
        let t = get_i64(buf, at).ok_or(FsccError::InfoLengthMismatch)?;
        if t < -2 {
            return Err(FsccError::InvalidParameter);
        }
        Ok(t)
    };
    Ok(BasicInfo {
        creation: time(0)?,
        last_access: time(8)?,
        last_write: time(16)?,
        change: time(24)?,
        attributes: get_u32(buf, 32).ok_or(FsccError::InfoLengthMismatch)?,
    })
}

/// FILE_RENAME_INFORMATION_TYPE_2 (MS-FSCC 2.4.42.2): ReplaceIfExists u8, 7 reserved,
/// RootDirectory u64 (ignored: SMB2 names are share-relative), FileNameLength u32, FileName.
fn decode_rename(buf: &[u8]) -> Result<(bool, String), FsccError> {
    if buf.len() < RENAME_NAME_OFFSET {
        return Err(FsccError::InfoLengthMismatch);
    }
    let replace = get_u8(buf, 0).ok_or(FsccError::InfoLengthMismatch)? != 0;
    let len = get_u32(buf, 16).ok_or(FsccError::InfoLengthMismatch)?;
    if len == 0 {
        return Err(FsccError::InvalidParameter);
    }
    let name = slice_name(buf, RENAME_NAME_OFFSET, len)?;
    Ok((replace, utf16le_decode(name)?))
}

/// The `len` name bytes at `at`; past the end of `buf` is [`FsccError::InvalidParameter`].
fn slice_name(buf: &[u8], at: usize, len: u32) -> Result<&[u8], FsccError> {
    let len = usize::try_from(len).map_err(|_| FsccError::InvalidParameter)?;
    let end = at.checked_add(len).ok_or(FsccError::InvalidParameter)?;
    buf.get(at..end).ok_or(FsccError::InvalidParameter)
}

/// A signed 64-bit size or offset that must not be negative.
fn size(buf: &[u8]) -> Result<u64, FsccError> {
    let v = get_i64(buf, 0).ok_or(FsccError::InfoLengthMismatch)?;
    u64::try_from(v).map_err(|_| FsccError::InvalidParameter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_util::hex;

    fn dec(class: FileInfoClass, b: &[u8]) -> Result<SetFileInfo, FsccError> {
        decode_set_file_info(class, b)
    }

    #[test]
    fn basic() {
        let b = hex(
            "0100000000000000 0000000000000000 ffffffffffffffff feffffffffffffff \
             21000000 00000000",
        );
        let want = BasicInfo {
            creation: 1,
            last_access: 0,
            last_write: -1,
            change: -2,
            attributes: 0x21,
        };
        assert_eq!(
            dec(FileInfoClass::FILE_BASIC_INFORMATION, &b),
            Ok(SetFileInfo::Basic(want))
        );
        let times = want.to_set_times();
        assert_eq!(times.creation, Some(1));
        assert_eq!(times.last_access, None);
        assert_eq!(times.last_write, None);
        assert_eq!(times.change, None);
        assert_eq!(
            dec(FileInfoClass::FILE_BASIC_INFORMATION, &b[..39]),
            Err(FsccError::InfoLengthMismatch)
        );
        let mut bad = b.clone();
        bad[..8].copy_from_slice(&(-3i64).to_le_bytes());
        assert_eq!(
            dec(FileInfoClass::FILE_BASIC_INFORMATION, &bad),
            Err(FsccError::InvalidParameter)
        );
    }

    #[test]
    fn rename_and_link() {
        // ReplaceIfExists=1, reserved, RootDirectory=0, FileNameLength=10, "d\b.t".
        let b = hex("01 00000000000000 0000000000000000 0a000000 6400 5c00 6200 2e00 7400");
        assert_eq!(
            dec(FileInfoClass::FILE_RENAME_INFORMATION, &b),
            Ok(SetFileInfo::Rename {
                replace_if_exists: true,
                file_name: "d\\b.t".into()
            })
        );
        let mut l = b.clone();
        l[0] = 0;
        assert_eq!(
            dec(FileInfoClass::FILE_LINK_INFORMATION, &l),
            Ok(SetFileInfo::Link {
                replace_if_exists: false,
                file_name: "d\\b.t".into()
            })
        );
        for class in [
            FileInfoClass::FILE_RENAME_INFORMATION,
            FileInfoClass::FILE_LINK_INFORMATION,
        ] {
            assert_eq!(dec(class, &b[..19]), Err(FsccError::InfoLengthMismatch));
            // Name runs past the buffer.
            assert_eq!(dec(class, &b[..29]), Err(FsccError::InvalidParameter));
            // Odd name length.
            let mut odd = b.clone();
            odd[16] = 9;
            assert_eq!(dec(class, &odd), Err(FsccError::InvalidParameter));
            // Empty name.
            let mut empty = b[..20].to_vec();
            empty[16] = 0;
            assert_eq!(dec(class, &empty), Err(FsccError::InvalidParameter));
            // Huge length must not allocate or overflow.
            let mut huge = b.clone();
            huge[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
            assert_eq!(dec(class, &huge), Err(FsccError::InvalidParameter));
            // Unpaired surrogate.
            let mut sur = b[..22].to_vec();
            sur[16] = 2;
            sur[20..22].copy_from_slice(&[0x00, 0xD8]);
            assert_eq!(dec(class, &sur), Err(FsccError::InvalidParameter));
        }
    }

    #[test]
    fn disposition() {
        assert_eq!(
            dec(FileInfoClass::FILE_DISPOSITION_INFORMATION, &[1]),
            Ok(SetFileInfo::Disposition { delete: true })
        );
        assert_eq!(
            dec(FileInfoClass::FILE_DISPOSITION_INFORMATION, &[0]),
            Ok(SetFileInfo::Disposition { delete: false })
        );
        assert_eq!(
            dec(FileInfoClass::FILE_DISPOSITION_INFORMATION, &[]),
            Err(FsccError::InfoLengthMismatch)
        );
        assert_eq!(
            dec(
                FileInfoClass::FILE_DISPOSITION_INFORMATION_EX,
                &hex("13000000")
            ),
            Ok(SetFileInfo::DispositionEx { flags: 0x13 })
        );
        assert_eq!(
            dec(FileInfoClass::FILE_DISPOSITION_INFORMATION_EX, &[1, 0, 0]),
            Err(FsccError::InfoLengthMismatch)
        );
    }

    #[test]
    fn sizes_and_offsets() {
        let b = hex("0010000000000000");
        let neg = hex("ffffffffffffffff");
        type Make = fn(u64) -> SetFileInfo;
        let cases: [(FileInfoClass, Make); 4] = [
            (
                FileInfoClass::FILE_END_OF_FILE_INFORMATION,
                SetFileInfo::EndOfFile,
            ),
            (
                FileInfoClass::FILE_ALLOCATION_INFORMATION,
                SetFileInfo::Allocation,
            ),
            (
                FileInfoClass::FILE_POSITION_INFORMATION,
                SetFileInfo::Position,
            ),
            (
                FileInfoClass::FILE_VALID_DATA_LENGTH_INFORMATION,
                SetFileInfo::ValidDataLength,
            ),
        ];
        for (class, make) in cases {
            assert_eq!(dec(class, &b), Ok(make(0x1000)), "{class:?}");
            assert_eq!(dec(class, &b[..7]), Err(FsccError::InfoLengthMismatch));
            assert_eq!(dec(class, &neg), Err(FsccError::InvalidParameter));
        }
    }

    #[test]
    fn mode() {
        assert_eq!(
            dec(FileInfoClass::FILE_MODE_INFORMATION, &hex("22000000")),
            Ok(SetFileInfo::Mode(0x22))
        );
        assert_eq!(
            dec(FileInfoClass::FILE_MODE_INFORMATION, &hex("01000000")),
            Err(FsccError::InvalidParameter)
        );
        assert_eq!(
            dec(FileInfoClass::FILE_MODE_INFORMATION, &[0, 0]),
            Err(FsccError::InfoLengthMismatch)
        );
    }

    #[test]
    fn short_name_and_ea() {
        assert_eq!(
            dec(
                FileInfoClass::FILE_SHORT_NAME_INFORMATION,
                &hex("04000000 4100 7e00")
            ),
            Ok(SetFileInfo::ShortName("A~".into()))
        );
        assert_eq!(
            dec(FileInfoClass::FILE_SHORT_NAME_INFORMATION, &[4, 0, 0]),
            Err(FsccError::InfoLengthMismatch)
        );
        assert_eq!(
            dec(
                FileInfoClass::FILE_SHORT_NAME_INFORMATION,
                &hex("06000000 4100")
            ),
            Err(FsccError::InvalidParameter)
        );
        let ea = hex("00000000 00 01 0100 41 00 5a");
        assert_eq!(
            dec(FileInfoClass::FILE_FULL_EA_INFORMATION, &ea),
            Ok(SetFileInfo::FullEa(vec![vfs::Ea::new(b"A", b"Z")]))
        );
        assert_eq!(
            dec(FileInfoClass::FILE_FULL_EA_INFORMATION, &ea[..7]),
            Err(FsccError::InfoLengthMismatch)
        );
    }

    #[test]
    fn unsettable_classes() {
        for class in [
            FileInfoClass::FILE_ALL_INFORMATION,
            FileInfoClass::FILE_STANDARD_INFORMATION,
            FileInfoClass::FILE_DIRECTORY_INFORMATION,
            FileInfoClass(0),
            FileInfoClass(250),
        ] {
            assert_eq!(dec(class, &[0; 64]), Err(FsccError::InvalidClass));
        }
    }
}
