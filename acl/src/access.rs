//! Access mask bits and the generic mapping for files and directories (MS-DTYP 2.4.3,
//! MS-SMB2 2.2.13.1).

/// FILE_READ_DATA / FILE_LIST_DIRECTORY.
pub const FILE_READ_DATA: u32 = 0x0000_0001;
/// FILE_WRITE_DATA / FILE_ADD_FILE.
pub const FILE_WRITE_DATA: u32 = 0x0000_0002;
/// FILE_APPEND_DATA / FILE_ADD_SUBDIRECTORY.
pub const FILE_APPEND_DATA: u32 = 0x0000_0004;
/// FILE_READ_EA.
pub const FILE_READ_EA: u32 = 0x0000_0008;
/// FILE_WRITE_EA.
pub const FILE_WRITE_EA: u32 = 0x0000_0010;
/// FILE_EXECUTE / FILE_TRAVERSE.
pub const FILE_EXECUTE: u32 = 0x0000_0020;
/// FILE_DELETE_CHILD.
pub const FILE_DELETE_CHILD: u32 = 0x0000_0040;
/// FILE_READ_ATTRIBUTES.
pub const FILE_READ_ATTRIBUTES: u32 = 0x0000_0080;
/// FILE_WRITE_ATTRIBUTES.
pub const FILE_WRITE_ATTRIBUTES: u32 = 0x0000_0100;
/// DELETE.
pub const DELETE: u32 = 0x0001_0000;
/// READ_CONTROL.
pub const READ_CONTROL: u32 = 0x0002_0000;
/// WRITE_DAC.
pub const WRITE_DAC: u32 = 0x0004_0000;
/// WRITE_OWNER.
pub const WRITE_OWNER: u32 = 0x0008_0000;
/// SYNCHRONIZE.
pub const SYNCHRONIZE: u32 = 0x0010_0000;
/// ACCESS_SYSTEM_SECURITY.
pub const ACCESS_SYSTEM_SECURITY: u32 = 0x0100_0000;
/// MAXIMUM_ALLOWED.
pub const MAXIMUM_ALLOWED: u32 = 0x0200_0000;
/// GENERIC_ALL.
pub const GENERIC_ALL: u32 = 0x1000_0000;
/// GENERIC_EXECUTE.
pub const GENERIC_EXECUTE: u32 = 0x2000_0000;
/// GENERIC_WRITE.
pub const GENERIC_WRITE: u32 = 0x4000_0000;
/// GENERIC_READ.
pub const GENERIC_READ: u32 = 0x8000_0000;

/// FILE_ALL_ACCESS: every specific and standard right of a file.
pub const FILE_ALL_ACCESS: u32 = 0x001F_01FF;
/// FILE_GENERIC_READ.
pub const FILE_GENERIC_READ: u32 = 0x0012_0089;
/// FILE_GENERIC_WRITE.
pub const FILE_GENERIC_WRITE: u32 = 0x0012_0116;
/// FILE_GENERIC_EXECUTE.
pub const FILE_GENERIC_EXECUTE: u32 = 0x0012_00A0;

/// Rights that modify data or metadata, refused on a read-only share.
pub const WRITE_RIGHTS: u32 = FILE_WRITE_DATA
    | FILE_APPEND_DATA
    | FILE_WRITE_EA
    | FILE_DELETE_CHILD
    | FILE_WRITE_ATTRIBUTES
    | DELETE
    | WRITE_DAC
    | WRITE_OWNER;

/// Maps the generic bits of `mask` to file rights (MS-DTYP 2.5.3.1 with the file mapping).
pub fn map_generic(mask: u32) -> u32 {
    let mut m = mask & !(GENERIC_ALL | GENERIC_EXECUTE | GENERIC_WRITE | GENERIC_READ);
    if mask & GENERIC_READ != 0 {
        m |= FILE_GENERIC_READ;
    }
    if mask & GENERIC_WRITE != 0 {
        m |= FILE_GENERIC_WRITE;
    }
    if mask & GENERIC_EXECUTE != 0 {
        m |= FILE_GENERIC_EXECUTE;
    }
    if mask & GENERIC_ALL != 0 {
        m |= FILE_ALL_ACCESS;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_mapping() {
        assert_eq!(map_generic(GENERIC_READ), FILE_GENERIC_READ);
        assert_eq!(map_generic(GENERIC_ALL | SYNCHRONIZE), FILE_ALL_ACCESS);
        assert_eq!(map_generic(FILE_READ_DATA), FILE_READ_DATA);
    }
}
