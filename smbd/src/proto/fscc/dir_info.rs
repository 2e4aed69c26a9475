//! QUERY_DIRECTORY output: chained, 8-byte aligned directory entries (MS-FSCC 2.4.8-2.4.21,
//! 2.4.10, 2.4.14, 2.4.38 and siblings).

use super::SHORT_NAME_MAX;
use super::file_info::{file_id_128, wire_attributes};
use super::utf16::{utf16le_encode, utf16le_len};
use super::wire::{align8, patch_u32, put_u8, put_u16, put_u32, put_u64, put_zeros};
use super::{FileInfoClass, FsccError};
use vfs::FileStat;

/// How the fields after FileNameLength are laid out for one directory class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// FILE_DIRECTORY_INFORMATION: the name follows FileNameLength.
    Directory,
    /// FILE_FULL_DIR_INFORMATION: EaSize.
    Full,
    /// FILE_BOTH_DIR_INFORMATION: EaSize, short name.
    Both,
    /// FILE_NAMES_INFORMATION: only index, length and name.
    Names,
    /// FILE_ID_BOTH_DIR_INFORMATION: EaSize, short name, Reserved2, 64-bit FileId.
    IdBoth,
    /// FILE_ID_FULL_DIR_INFORMATION: EaSize, Reserved, 64-bit FileId.
    IdFull,
    /// FILE_ID_EXTD_DIR_INFORMATION: EaSize, ReparsePointTag, 128-bit FileId.
    IdExtd,
    /// FILE_ID_EXTD_BOTH_DIR_INFORMATION: as IdExtd, then a short name.
    IdExtdBoth,
    /// FILE_ID_64_EXTD_DIR_INFORMATION: EaSize, ReparsePointTag, 64-bit FileId.
    Id64Extd,
    /// FILE_ID_64_EXTD_BOTH_DIR_INFORMATION: as Id64Extd, then a short name.
    Id64ExtdBoth,
    /// FILE_ID_ALL_EXTD_DIR_INFORMATION: EaSize, ReparsePointTag, 64-bit and 128-bit FileId.
    IdAllExtd,
    /// FILE_ID_ALL_EXTD_BOTH_DIR_INFORMATION: as IdAllExtd, then a short name.
    IdAllExtdBoth,
}

impl Layout {
    fn of(class: FileInfoClass) -> Option<Self> {
        let l = match class {
            FileInfoClass::FILE_DIRECTORY_INFORMATION => Self::Directory,
            FileInfoClass::FILE_FULL_DIRECTORY_INFORMATION => Self::Full,
            FileInfoClass::FILE_BOTH_DIRECTORY_INFORMATION => Self::Both,
            FileInfoClass::FILE_NAMES_INFORMATION => Self::Names,
            FileInfoClass::FILE_ID_BOTH_DIRECTORY_INFORMATION => Self::IdBoth,
            FileInfoClass::FILE_ID_FULL_DIRECTORY_INFORMATION => Self::IdFull,
            FileInfoClass::FILE_ID_EXTD_DIRECTORY_INFORMATION => Self::IdExtd,
            FileInfoClass::FILE_ID_EXTD_BOTH_DIRECTORY_INFORMATION => Self::IdExtdBoth,
            FileInfoClass::FILE_ID_64_EXTD_DIRECTORY_INFORMATION => Self::Id64Extd,
            FileInfoClass::FILE_ID_64_EXTD_BOTH_DIRECTORY_INFORMATION => Self::Id64ExtdBoth,
            FileInfoClass::FILE_ID_ALL_EXTD_DIRECTORY_INFORMATION => Self::IdAllExtd,
            FileInfoClass::FILE_ID_ALL_EXTD_BOTH_DIRECTORY_INFORMATION => Self::IdAllExtdBoth,
            _ => return None,
        };
        Some(l)
    }

    /// FieldOffset(FileName): the size of an entry without its name.
    fn fixed_size(self) -> usize {
        match self {
            Self::Names => 12,
            Self::Directory => 64,
            Self::Full => 68,
            Self::IdFull => 80,
            Self::Both => 94,
            Self::IdBoth => 104,
            Self::IdExtd => 88,
            Self::IdExtdBoth => 114,
            Self::Id64Extd => 80,
            Self::Id64ExtdBoth => 106,
            Self::IdAllExtd => 96,
            Self::IdAllExtdBoth => 122,
        }
    }
}

/// Size of one entry of `class` without its name (FieldOffset(FileName)), or `None` for a
/// class that is not a directory class. MS-FSA 2.1.5.6.3 fails a buffer smaller than this with
/// STATUS_INFO_LENGTH_MISMATCH.
pub fn dir_entry_fixed_size(class: FileInfoClass) -> Option<usize> {
    Layout::of(class).map(Layout::fixed_size)
}

/// Builds a QUERY_DIRECTORY output buffer one entry at a time, never exceeding `max_len`.
#[derive(Debug)]
pub struct DirListWriter {
    layout: Layout,
    max_len: usize,
    buf: Vec<u8>,
    last_entry: Option<usize>,
}

impl DirListWriter {
    /// Starts an empty listing of `class` entries limited to `max_len` bytes (the client's
    /// OutputBufferLength). Non-directory classes are [`FsccError::InvalidClass`].
    pub fn new(class: FileInfoClass, max_len: usize) -> Result<Self, FsccError> {
        let layout = Layout::of(class).ok_or(FsccError::InvalidClass)?;
        Ok(Self {
            layout,
            max_len,
            buf: Vec::new(),
            last_entry: None,
        })
    }

    /// Appends one entry for `name` without a short name (see [`DirListWriter::push_named`]).
    pub fn push(&mut self, name: &str, stat: &FileStat, file_index: u32) -> bool {
        self.push_named(name, None, stat, file_index)
    }

    /// Appends one entry for `name`, with its 8.3 `short` name in the classes that carry one
    /// (`None`: ShortNameLength 0, as for a name that is already valid 8.3), aligned to 8 bytes
    /// after the previous entry, whose NextEntryOffset is pointed at it. Returns false,
    /// appending nothing, if the entry would not fit in `max_len`. EaSize is `stat.ea_size`;
    /// ReparsePointTag is always empty; the FileId fields come from `stat.file_id`.
    pub fn push_named(
        &mut self,
        name: &str,
        short: Option<&str>,
        stat: &FileStat,
        file_index: u32,
    ) -> bool {
        let name_len = utf16le_len(name);
        let Ok(name_len32) = u32::try_from(name_len) else {
            return false;
        };
        let start = match self.last_entry {
            Some(_) => align8(self.buf.len()),
            None => 0,
        };
        let end = start
            .saturating_add(self.layout.fixed_size())
            .saturating_add(name_len);
        if end > self.max_len {
            return false;
        }
        if let Some(prev) = self.last_entry {
            self.buf.resize(start, 0);
            patch_u32(&mut self.buf, prev, (start - prev) as u32);
        }
        self.buf.reserve(end - start);
        self.write_entry(name, short, name_len32, stat, file_index);
        debug_assert_eq!(self.buf.len(), end);
        self.last_entry = Some(start);
        true
    }

    /// Whether no entry has been appended.
    pub fn is_empty(&self) -> bool {
        self.last_entry.is_none()
    }

    /// The bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// The finished buffer: the last entry's NextEntryOffset is 0 and nothing follows it.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }

    fn write_entry(
        &mut self,
        name: &str,
        short: Option<&str>,
        name_len: u32,
        st: &FileStat,
        file_index: u32,
    ) {
        let out = &mut self.buf;
        put_u32(out, 0); // NextEntryOffset, patched when another entry follows.
        put_u32(out, file_index);
        if self.layout == Layout::Names {
            put_u32(out, name_len);
            utf16le_encode(name, out);
            return;
        }
        put_u64(out, st.creation_time);
        put_u64(out, st.last_access_time);
        put_u64(out, st.last_write_time);
        put_u64(out, st.change_time);
        put_u64(out, if st.is_dir { 0 } else { st.size });
        put_u64(out, st.allocation_size);
        put_u32(out, wire_attributes(st));
        put_u32(out, name_len);
        match self.layout {
            Layout::Directory | Layout::Names => {}
            Layout::Full => put_u32(out, st.ea_size),
            Layout::Both => {
                put_u32(out, st.ea_size);
                put_short_name(out, short);
            }
            Layout::IdBoth => {
                put_u32(out, st.ea_size);
                put_short_name(out, short);
                put_u16(out, 0); // Reserved2
                put_u64(out, st.file_id);
            }
            Layout::IdFull => {
                put_u32(out, st.ea_size);
                put_u32(out, 0); // Reserved
                put_u64(out, st.file_id);
            }
            Layout::IdExtd | Layout::IdExtdBoth => {
                put_u32(out, st.ea_size);
                put_u32(out, 0); // ReparsePointTag
                out.extend_from_slice(&file_id_128(st.file_id));
                if self.layout == Layout::IdExtdBoth {
                    put_short_name(out, short);
                }
            }
            Layout::Id64Extd | Layout::Id64ExtdBoth => {
                put_u32(out, st.ea_size);
                put_u32(out, 0); // ReparsePointTag
                put_u64(out, st.file_id);
                if self.layout == Layout::Id64ExtdBoth {
                    put_short_name(out, short);
                }
            }
            Layout::IdAllExtd | Layout::IdAllExtdBoth => {
                put_u32(out, st.ea_size);
                put_u32(out, 0); // ReparsePointTag
                put_u64(out, st.file_id);
                out.extend_from_slice(&file_id_128(st.file_id));
                if self.layout == Layout::IdAllExtdBoth {
                    put_short_name(out, short);
                }
            }
        }
        utf16le_encode(name, out);
    }
}

/// The 8.3 name field: ShortNameLength, one reserved byte, 24 bytes of ShortName. Names that
/// already fit 8.3 (and "." and "..") carry none, as on NTFS; others carry the short name the
/// backend gives them (the one FileAlternateNameInformation reports). A short name is ASCII of
/// at most [`SHORT_NAME_MAX`] characters; anything else is left out.
fn put_short_name(out: &mut Vec<u8>, short: Option<&str>) {
    let short = short
        .filter(|s| s.len() <= SHORT_NAME_MAX && s.is_ascii())
        .unwrap_or("");
    put_u8(out, (short.len() * 2) as u8); // ShortNameLength in bytes (at most 24).
    put_u8(out, 0);
    for b in short.bytes() {
        put_u16(out, u16::from(b));
    }
    put_zeros(out, 24 - short.len() * 2);
}

#[cfg(test)]
mod tests {
    use super::super::wire::get_u32;
    use super::*;
    use crate::crypto::test_util::hex;
    use vfs::attr;

    fn stat() -> FileStat {
        FileStat {
            size: 5,
            allocation_size: 4096,
            creation_time: 1,
            last_access_time: 2,
            last_write_time: 3,
            change_time: 4,
            attributes: attr::ARCHIVE,
            file_id: 0x0102_0304_0506_0708,
            volume: 0,
            links: 1,
            ea_size: 0,
            is_dir: false,
        }
    }

    const ALL_DIR_CLASSES: [FileInfoClass; 12] = [
        FileInfoClass::FILE_DIRECTORY_INFORMATION,
        FileInfoClass::FILE_FULL_DIRECTORY_INFORMATION,
        FileInfoClass::FILE_BOTH_DIRECTORY_INFORMATION,
        FileInfoClass::FILE_NAMES_INFORMATION,
        FileInfoClass::FILE_ID_BOTH_DIRECTORY_INFORMATION,
        FileInfoClass::FILE_ID_FULL_DIRECTORY_INFORMATION,
        FileInfoClass::FILE_ID_EXTD_DIRECTORY_INFORMATION,
        FileInfoClass::FILE_ID_EXTD_BOTH_DIRECTORY_INFORMATION,
        FileInfoClass::FILE_ID_64_EXTD_DIRECTORY_INFORMATION,
        FileInfoClass::FILE_ID_64_EXTD_BOTH_DIRECTORY_INFORMATION,
        FileInfoClass::FILE_ID_ALL_EXTD_DIRECTORY_INFORMATION,
        FileInfoClass::FILE_ID_ALL_EXTD_BOTH_DIRECTORY_INFORMATION,
    ];

    fn one(class: FileInfoClass, name: &str) -> Vec<u8> {
        let mut w = DirListWriter::new(class, 65536).unwrap();
        assert!(w.push(name, &stat(), 0));
        w.finish()
    }

    const COMMON: &str = "00000000 00000000 0100000000000000 0200000000000000 0300000000000000 \
                          0400000000000000 0500000000000000 0010000000000000 20000000 02000000";

    #[test]
    fn directory_information_vector() {
        let mut want = hex(COMMON);
        want.extend(hex("6100"));
        assert_eq!(one(FileInfoClass::FILE_DIRECTORY_INFORMATION, "a"), want);
    }

    #[test]
    fn id_both_vector() {
        let mut want = hex(COMMON);
        want.extend(hex("00000000 00 00")); // EaSize, ShortNameLength, Reserved1
        want.extend([0u8; 24]);
        want.extend(hex("0000 0807060504030201 6100"));
        assert_eq!(
            one(FileInfoClass::FILE_ID_BOTH_DIRECTORY_INFORMATION, "a"),
            want
        );
    }

    #[test]
    fn short_name_field() {
        let mut w =
            DirListWriter::new(FileInfoClass::FILE_BOTH_DIRECTORY_INFORMATION, 65536).unwrap();
        assert!(w.push_named("a long name", Some("A1B2C3~1"), &stat(), 0));
        let out = w.finish();
        let field = &out[hex(COMMON).len() + 4..];
        assert_eq!(field[0], 16, "ShortNameLength");
        assert_eq!(&field[2..6], &hex("4100 3100")[..]);
        assert_eq!(&field[18..26], &[0u8; 8][..]);
        // Nothing that is not a short name goes out.
        let mut w =
            DirListWriter::new(FileInfoClass::FILE_BOTH_DIRECTORY_INFORMATION, 65536).unwrap();
        assert!(w.push_named("x", Some("way too long to be 8.3"), &stat(), 0));
        assert_eq!(w.finish()[hex(COMMON).len() + 4], 0);
    }

    #[test]
    fn id_full_and_extd_vectors() {
        let mut want = hex(COMMON);
        want.extend(hex("00000000 00000000 0807060504030201 6100"));
        assert_eq!(
            one(FileInfoClass::FILE_ID_FULL_DIRECTORY_INFORMATION, "a"),
            want
        );
        let mut want = hex(COMMON);
        want.extend(hex(
            "00000000 00000000 0807060504030201 0000000000000000 6100",
        ));
        assert_eq!(
            one(FileInfoClass::FILE_ID_EXTD_DIRECTORY_INFORMATION, "a"),
            want
        );
        let mut want = hex(COMMON);
        want.extend(hex(
            "00000000 00000000 0807060504030201 0807060504030201 0000000000000000 6100",
        ));
        assert_eq!(
            one(FileInfoClass::FILE_ID_ALL_EXTD_DIRECTORY_INFORMATION, "a"),
            want
        );
    }

    #[test]
    fn names_vector() {
        let mut w = DirListWriter::new(FileInfoClass::FILE_NAMES_INFORMATION, 100).unwrap();
        assert!(w.push("ab", &stat(), 7));
        assert_eq!(w.finish(), hex("00000000 07000000 04000000 6100 6200"));
    }

    #[test]
    fn fixed_sizes_and_name_offset() {
        let want = [64, 68, 94, 12, 104, 80, 88, 114, 80, 106, 96, 122];
        for (class, size) in ALL_DIR_CLASSES.into_iter().zip(want) {
            assert_eq!(dir_entry_fixed_size(class), Some(size), "{class:?}");
            let out = one(class, "xyz");
            assert_eq!(out.len(), size + 6, "{class:?}");
            assert_eq!(&out[size..], hex("780079007a00"), "{class:?}");
            let len_at = if size == 12 { 8 } else { 60 };
            assert_eq!(get_u32(&out, len_at), Some(6), "{class:?}");
        }
    }

    #[test]
    fn chaining_alignment_and_cut() {
        let class = FileInfoClass::FILE_BOTH_DIRECTORY_INFORMATION;
        // Entry sizes: 94 + 2 = 96, 94 + 4 = 98 (padded to 104), 94 + 6 = 100.
        let mut w = DirListWriter::new(class, 96 + 104 + 100).unwrap();
        assert!(w.is_empty());
        assert!(w.push("a", &stat(), 0));
        assert!(w.push("bb", &stat(), 0));
        assert!(!w.is_empty());
        assert!(w.push("ccc", &stat(), 0));
        let len = w.len();
        assert!(!w.push("d", &stat(), 0), "no room for a fourth entry");
        assert_eq!(w.len(), len);
        let out = w.finish();
        assert_eq!(out.len(), 300);
        assert_eq!(get_u32(&out, 0), Some(96));
        assert_eq!(get_u32(&out, 96), Some(104));
        assert_eq!(get_u32(&out, 200), Some(0));
        // Padding after the second entry is zero.
        assert_eq!(out[96 + 98..200], [0u8; 6]);
        assert_eq!(out[200 + 94..], hex("630063006300"));
    }

    #[test]
    fn first_entry_too_big_and_exact_fit() {
        let class = FileInfoClass::FILE_DIRECTORY_INFORMATION;
        let mut w = DirListWriter::new(class, 65).unwrap();
        assert!(!w.push("ab", &stat(), 0));
        assert!(w.is_empty());
        assert!(w.finish().is_empty());
        let mut w = DirListWriter::new(class, 66).unwrap();
        assert!(w.push("a", &stat(), 0));
        // The next entry would start at 72: 72 + 66 > 137.
        let mut w2 = DirListWriter::new(class, 137).unwrap();
        assert!(w2.push("a", &stat(), 0));
        assert!(!w2.push("b", &stat(), 0));
        let mut w3 = DirListWriter::new(class, 138).unwrap();
        assert!(w3.push("a", &stat(), 0));
        assert!(w3.push("b", &stat(), 0));
        assert_eq!(w3.finish().len(), 138);
        assert_eq!(w.finish().len(), 66);
    }

    #[test]
    fn directories_report_zero_size() {
        let dir = FileStat {
            is_dir: true,
            size: 99,
            attributes: attr::NORMAL,
            ..stat()
        };
        let mut w = DirListWriter::new(FileInfoClass::FILE_DIRECTORY_INFORMATION, 1000).unwrap();
        assert!(w.push(".", &dir, 0));
        let out = w.finish();
        assert_eq!(out[40..48], [0u8; 8]);
        assert_eq!(get_u32(&out, 56), Some(attr::DIRECTORY));
    }

    #[test]
    fn non_directory_classes_rejected() {
        for class in [
            FileInfoClass::FILE_BASIC_INFORMATION,
            FileInfoClass::FILE_ALL_INFORMATION,
            FileInfoClass(0),
            FileInfoClass(255),
        ] {
            assert_eq!(
                DirListWriter::new(class, 100).err(),
                Some(FsccError::InvalidClass)
            );
            assert_eq!(dir_entry_fixed_size(class), None);
        }
    }
}
