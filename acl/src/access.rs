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

/// The four generic rights of one object class and the specific rights each stands for
/// (MS-DTYP 2.5.3.1 GENERIC_MAPPING).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GenericMapping {
    /// What GENERIC_READ means.
    pub read: u32,
    /// What GENERIC_WRITE means.
    pub write: u32,
    /// What GENERIC_EXECUTE means.
    pub execute: u32,
    /// What GENERIC_ALL means.
    pub all: u32,
}

impl GenericMapping {
    /// Files (the I/O manager's file object mapping).
    pub const FILE: Self = Self {
        read: FILE_GENERIC_READ,
        write: FILE_GENERIC_WRITE,
        execute: FILE_GENERIC_EXECUTE,
        all: FILE_ALL_ACCESS,
    };
    /// Directories: Windows uses the file object mapping for them too.
    pub const DIRECTORY: Self = Self::FILE;

    /// Replaces the generic bits of `mask` with the rights they stand for.
    pub fn map(&self, mask: u32) -> u32 {
        let mut m = mask & !(GENERIC_ALL | GENERIC_EXECUTE | GENERIC_WRITE | GENERIC_READ);
        for (bit, rights) in [
            (GENERIC_READ, self.read),
            (GENERIC_WRITE, self.write),
            (GENERIC_EXECUTE, self.execute),
            (GENERIC_ALL, self.all),
        ] {
            if mask & bit != 0 {
                m |= rights;
            }
        }
        m
    }
}

/// Privileges held by the caller that the access check honours (a subset of MS-LSAD's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Privileges(pub u32);

impl Privileges {
    /// No privileges.
    pub const NONE: Self = Self(0);
    /// SeSecurityPrivilege: ACCESS_SYSTEM_SECURITY (read and write the SACL).
    pub const SECURITY: Self = Self(0x1);
    /// SeBackupPrivilege, to be passed only for opens with FILE_OPEN_FOR_BACKUP_INTENT:
    /// grants [`BACKUP_RIGHTS`].
    pub const BACKUP: Self = Self(0x2);
    /// SeRestorePrivilege, to be passed only for opens with FILE_OPEN_FOR_BACKUP_INTENT:
    /// grants [`RESTORE_RIGHTS`].
    pub const RESTORE: Self = Self(0x4);
    /// SeTakeOwnershipPrivilege: WRITE_OWNER.
    pub const TAKE_OWNERSHIP: Self = Self(0x8);

    /// Whether every privilege of `other` is held.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Privileges {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// What SeBackupPrivilege grants to a backup-intent open: every read right.
pub const BACKUP_RIGHTS: u32 =
    READ_CONTROL | ACCESS_SYSTEM_SECURITY | FILE_GENERIC_READ | FILE_EXECUTE;
/// What SeRestorePrivilege grants to a backup-intent open: every write right.
pub const RESTORE_RIGHTS: u32 = WRITE_DAC
    | WRITE_OWNER
    | ACCESS_SYSTEM_SECURITY
    | FILE_GENERIC_WRITE
    | FILE_ADD_FILE
    | FILE_ADD_SUBDIRECTORY
    | DELETE;
/// FILE_ADD_FILE (directories; same bit as FILE_WRITE_DATA).
pub const FILE_ADD_FILE: u32 = FILE_WRITE_DATA;
/// FILE_ADD_SUBDIRECTORY (directories; same bit as FILE_APPEND_DATA).
pub const FILE_ADD_SUBDIRECTORY: u32 = FILE_APPEND_DATA;
/// FILE_LIST_DIRECTORY (directories; same bit as FILE_READ_DATA).
pub const FILE_LIST_DIRECTORY: u32 = FILE_READ_DATA;
/// FILE_TRAVERSE (directories; same bit as FILE_EXECUTE).
pub const FILE_TRAVERSE: u32 = FILE_EXECUTE;
/// The "Modify" right set (0x1301BF) that Windows shows as M in icacls.
pub const FILE_MODIFY: u32 = FILE_GENERIC_READ | FILE_GENERIC_WRITE | FILE_GENERIC_EXECUTE | DELETE;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_mapping() {
        assert_eq!(map_generic(GENERIC_READ), FILE_GENERIC_READ);
        assert_eq!(map_generic(GENERIC_ALL | SYNCHRONIZE), FILE_ALL_ACCESS);
        assert_eq!(map_generic(FILE_READ_DATA), FILE_READ_DATA);
        assert_eq!(
            GenericMapping::FILE.map(GENERIC_READ | GENERIC_EXECUTE),
            0x0012_00A9
        );
        assert_eq!(
            GenericMapping::FILE.map(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | DELETE),
            0x0013_01BF
        );
        assert_eq!(FILE_MODIFY, 0x0013_01BF);
        assert_eq!(GenericMapping::DIRECTORY.map(GENERIC_ALL), FILE_ALL_ACCESS);
    }
}
