//! DOS attributes and creation time kept in an extended attribute, named metadata blobs, and the
//! building of [`FileStat`] from statx.
//!
//! `user.smbd.dosattrib` holds: version (u8, = 3), attributes (u32 LE), creation FILETIME (u64 LE),
//! the allocation a client asked for (u64 LE; version 1 lacks it and reads as 0) and the EaSize of
//! the file's extended attributes (u32 LE; versions 1 and 2 lack it and read as 0), kept here so a
//! listing learns it from the one xattr it reads per entry anyway.

use super::errors::{is_no_xattr, map_io};
use super::sys::{self, XattrTarget};
use crate::{FileStat, VfsError, VfsResult, attr, unix_to_filetime};
use std::ffi::{CStr, CString};
use std::os::fd::BorrowedFd;

/// Name of the attribute holding [`DosInfo`].
pub(crate) const DOS_XATTR: &CStr = c"user.smbd.dosattrib";
const DOS_VERSION: u8 = 3;
const DOS_LEN: usize = 25;
/// Longest metadata blob name accepted.
const MAX_META_NAME: usize = 200;

/// What the dosattrib attribute stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DosInfo {
    /// FILE_ATTRIBUTE_* (STORED bits).
    pub(crate) attributes: u32,
    /// Creation time, FILETIME.
    pub(crate) creation: u64,
    /// Allocation a client asked for (CREATE AllocationSize, FileAllocationInformation), so
    /// preallocation past the end of file is reported; 0 when none was asked.
    pub(crate) reserved: u64,
    /// EaSize of the file's extended attributes (`super::eas`); 0 without any.
    pub(crate) ea_size: u32,
}

impl DosInfo {
    /// The stored form.
    pub(crate) fn encode(&self) -> [u8; DOS_LEN] {
        let mut out = [0u8; DOS_LEN];
        out[0] = DOS_VERSION;
        out[1..5].copy_from_slice(&self.attributes.to_le_bytes());
        out[5..13].copy_from_slice(&self.creation.to_le_bytes());
        out[13..21].copy_from_slice(&self.reserved.to_le_bytes());
        out[21..25].copy_from_slice(&self.ea_size.to_le_bytes());
        out
    }

    /// Parses the stored form (version 1 to 3); `None` for an unknown version or a short value.
    pub(crate) fn decode(b: &[u8]) -> Option<Self> {
        let version = *b.first()?;
        if !(1..=DOS_VERSION).contains(&version) {
            return None;
        }
        let attributes = u32::from_le_bytes(b.get(1..5)?.try_into().ok()?);
        let creation = u64::from_le_bytes(b.get(5..13)?.try_into().ok()?);
        let reserved = if version == 1 {
            0
        } else {
            u64::from_le_bytes(b.get(13..21)?.try_into().ok()?)
        };
        let ea_size = if version < 3 {
            0
        } else {
            u32::from_le_bytes(b.get(21..25)?.try_into().ok()?)
        };
        Some(Self {
            attributes,
            creation,
            reserved,
            ea_size,
        })
    }
}

/// Reads the dosattrib attribute; absent, unreadable or unsupported all give `None`.
pub(crate) fn read_dos(target: XattrTarget<'_>) -> Option<DosInfo> {
    sys::get_xattr(target, DOS_XATTR)
        .ok()
        .flatten()
        .and_then(|v| DosInfo::decode(&v))
}

/// Writes the dosattrib attribute; a filesystem without xattrs is silently tolerated.
pub(crate) fn write_dos(fd: BorrowedFd<'_>, info: &DosInfo) -> VfsResult<()> {
    match sys::set_xattr(fd, DOS_XATTR, &info.encode()) {
        Ok(()) => Ok(()),
        Err(e) if is_no_xattr(&e) => Ok(()),
        Err(e) => Err(map_io(e)),
    }
}

/// The xattr name for metadata blob `name` ("user.smbd.<name>"); the name must be printable
/// ASCII without spaces, at most 200 bytes, and not "dosattrib" or "eas" (kept by the backend
/// itself).
pub(crate) fn meta_xattr_name(name: &str) -> VfsResult<CString> {
    let ok = !name.is_empty()
        && name.len() <= MAX_META_NAME
        && name != "dosattrib"
        && name != "eas"
        && name.bytes().all(|b| b.is_ascii_graphic());
    if !ok {
        return Err(VfsError::InvalidName);
    }
    CString::new(format!("user.smbd.{name}")).map_err(|_| VfsError::InvalidName)
}

fn ts(t: &libc::statx_timestamp) -> u64 {
    unix_to_filetime(t.tv_sec, t.tv_nsec)
}

/// Modification time in nanoseconds (the case cache's validator).
pub(crate) fn mtime_ns(st: &libc::statx) -> i128 {
    i128::from(st.stx_mtime.tv_sec) * 1_000_000_000 + i128::from(st.stx_mtime.tv_nsec)
}

/// (device, inode) of a statx result.
pub(crate) fn dev_ino(st: &libc::statx) -> (u64, u64) {
    (
        (u64::from(st.stx_dev_major) << 32) | u64::from(st.stx_dev_minor),
        st.stx_ino,
    )
}

/// Whether statx describes a directory.
pub(crate) fn is_dir(st: &libc::statx) -> bool {
    u32::from(st.stx_mode) & libc::S_IFMT == libc::S_IFDIR
}

/// Whether statx describes a regular file.
pub(crate) fn is_file(st: &libc::statx) -> bool {
    u32::from(st.stx_mode) & libc::S_IFMT == libc::S_IFREG
}

/// Whether statx describes a symbolic link.
pub(crate) fn is_symlink(st: &libc::statx) -> bool {
    u32::from(st.stx_mode) & libc::S_IFMT == libc::S_IFLNK
}

/// The bytes allocated to a file's data: its blocks, but never more than its size or the
/// allocation a client asked for, rounded up to the block size. The cap leaves out what a file
/// system counts in `st_blocks` beside the data (ext4 counts the block holding xattrs that do
/// not fit in the inode, as a stored security descriptor does not), so an empty file shows 0
/// and a one-byte file one block, as on NTFS; a sparse file still shows only its real blocks.
fn data_allocation(st: &libc::statx, reserved: u64) -> u64 {
    let block = u64::from(st.stx_blksize).max(512);
    let round = |n: u64| n.div_ceil(block).saturating_mul(block);
    st.stx_blocks
        .saturating_mul(512)
        .min(round(st.stx_size).max(round(reserved)))
}

/// Builds the trait's metadata. Without stored attributes a file shows ARCHIVE (plus READONLY
/// when no write bit is set); without a stored creation time, birth time or else change time.
pub(crate) fn build_stat(st: &libc::statx, dos: Option<&DosInfo>) -> FileStat {
    let dir = is_dir(st);
    let mut attributes = match dos {
        Some(d) => d.attributes & attr::STORED,
        None if dir => 0,
        None => {
            let ro = if u32::from(st.stx_mode) & 0o222 == 0 {
                attr::READONLY
            } else {
                0
            };
            attr::ARCHIVE | ro
        }
    };
    if dir {
        attributes |= attr::DIRECTORY;
    }
    if is_symlink(st) {
        attributes |= attr::REPARSE_POINT;
    }
    if attributes == 0 {
        attributes = attr::NORMAL;
    }
    let creation_time = match dos {
        Some(d) if d.creation != 0 => d.creation,
        _ if st.stx_mask & libc::STATX_BTIME != 0 => ts(&st.stx_btime),
        _ => ts(&st.stx_ctime),
    };
    FileStat {
        size: if dir { 0 } else { st.stx_size },
        allocation_size: if dir {
            0
        } else {
            data_allocation(st, dos.map_or(0, |d| d.reserved))
        },
        creation_time,
        last_access_time: ts(&st.stx_atime),
        last_write_time: ts(&st.stx_mtime),
        change_time: super::change_time::get(dev_ino(st), ts(&st.stx_ctime)),
        attributes,
        file_id: st.stx_ino,
        volume: dev_ino(st).0,
        links: st.stx_nlink,
        ea_size: dos.map_or(0, |d| d.ea_size),
        is_dir: dir,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dos_round_trip_and_rejects() {
        let d = DosInfo {
            attributes: attr::HIDDEN | attr::ARCHIVE,
            creation: 0x01d9_0000_1234_5678,
            reserved: 0x3000,
            ea_size: 19,
        };
        let enc = d.encode();
        assert_eq!(enc[0], 3);
        assert_eq!(DosInfo::decode(&enc), Some(d));
        assert_eq!(DosInfo::decode(&enc[..24]), None);
        assert_eq!(DosInfo::decode(&[]), None);
        let mut bad = enc;
        bad[0] = 4;
        assert_eq!(DosInfo::decode(&bad), None);
        // Version 1, written before the reserved allocation was kept, still reads.
        let mut v1 = enc[..13].to_vec();
        v1[0] = 1;
        let old = DosInfo::decode(&v1).unwrap();
        assert_eq!((old.creation, old.reserved), (d.creation, 0));
        // Version 2, written before EaSize was kept, reads as no EAs.
        let mut v2 = enc[..21].to_vec();
        v2[0] = 2;
        let old = DosInfo::decode(&v2).unwrap();
        assert_eq!((old.reserved, old.ea_size), (d.reserved, 0));
    }

    #[test]
    fn meta_names() {
        assert_eq!(
            meta_xattr_name("security.sd").unwrap().as_bytes(),
            b"user.smbd.security.sd"
        );
        assert!(meta_xattr_name("").is_err());
        assert!(meta_xattr_name("a b").is_err());
        assert!(meta_xattr_name("dosattrib").is_err());
        assert!(meta_xattr_name("eas").is_err());
        assert!(meta_xattr_name(&"x".repeat(201)).is_err());
    }
}
