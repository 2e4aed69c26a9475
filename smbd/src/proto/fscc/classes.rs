//! Wire codes of the file (MS-FSCC 2.4) and file system (MS-FSCC 2.5) information classes.
//!
//! Open enums: any `u8` is representable, and unknown values print as hex.

use std::fmt;

/// A FILE_INFORMATION_CLASS value (MS-FSCC 2.4).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileInfoClass(pub u8);

impl FileInfoClass {
    /// FileDirectoryInformation (MS-FSCC 2.4).
    pub const FILE_DIRECTORY_INFORMATION: Self = Self(1);
    /// FileFullDirectoryInformation (MS-FSCC 2.4).
    pub const FILE_FULL_DIRECTORY_INFORMATION: Self = Self(2);
    /// FileBothDirectoryInformation (MS-FSCC 2.4).
    pub const FILE_BOTH_DIRECTORY_INFORMATION: Self = Self(3);
    /// FileBasicInformation (MS-FSCC 2.4).
    pub const FILE_BASIC_INFORMATION: Self = Self(4);
    /// FileStandardInformation (MS-FSCC 2.4).
    pub const FILE_STANDARD_INFORMATION: Self = Self(5);
    /// FileInternalInformation (MS-FSCC 2.4).
    pub const FILE_INTERNAL_INFORMATION: Self = Self(6);
    /// FileEaInformation (MS-FSCC 2.4).
    pub const FILE_EA_INFORMATION: Self = Self(7);
    /// FileAccessInformation (MS-FSCC 2.4).
    pub const FILE_ACCESS_INFORMATION: Self = Self(8);
    /// FileNameInformation (MS-FSCC 2.4).
    pub const FILE_NAME_INFORMATION: Self = Self(9);
    /// FileRenameInformation (MS-FSCC 2.4).
    pub const FILE_RENAME_INFORMATION: Self = Self(10);
    /// FileLinkInformation (MS-FSCC 2.4).
    pub const FILE_LINK_INFORMATION: Self = Self(11);
    /// FileNamesInformation (MS-FSCC 2.4).
    pub const FILE_NAMES_INFORMATION: Self = Self(12);
    /// FileDispositionInformation (MS-FSCC 2.4).
    pub const FILE_DISPOSITION_INFORMATION: Self = Self(13);
    /// FilePositionInformation (MS-FSCC 2.4).
    pub const FILE_POSITION_INFORMATION: Self = Self(14);
    /// FileFullEaInformation (MS-FSCC 2.4).
    pub const FILE_FULL_EA_INFORMATION: Self = Self(15);
    /// FileModeInformation (MS-FSCC 2.4).
    pub const FILE_MODE_INFORMATION: Self = Self(16);
    /// FileAlignmentInformation (MS-FSCC 2.4).
    pub const FILE_ALIGNMENT_INFORMATION: Self = Self(17);
    /// FileAllInformation (MS-FSCC 2.4).
    pub const FILE_ALL_INFORMATION: Self = Self(18);
    /// FileAllocationInformation (MS-FSCC 2.4).
    pub const FILE_ALLOCATION_INFORMATION: Self = Self(19);
    /// FileEndOfFileInformation (MS-FSCC 2.4).
    pub const FILE_END_OF_FILE_INFORMATION: Self = Self(20);
    /// FileAlternateNameInformation (MS-FSCC 2.4).
    pub const FILE_ALTERNATE_NAME_INFORMATION: Self = Self(21);
    /// FileStreamInformation (MS-FSCC 2.4).
    pub const FILE_STREAM_INFORMATION: Self = Self(22);
    /// FilePipeInformation (MS-FSCC 2.4).
    pub const FILE_PIPE_INFORMATION: Self = Self(23);
    /// FilePipeLocalInformation (MS-FSCC 2.4).
    pub const FILE_PIPE_LOCAL_INFORMATION: Self = Self(24);
    /// FilePipeRemoteInformation (MS-FSCC 2.4).
    pub const FILE_PIPE_REMOTE_INFORMATION: Self = Self(25);
    /// FileMailslotQueryInformation (MS-FSCC 2.4).
    pub const FILE_MAILSLOT_QUERY_INFORMATION: Self = Self(26);
    /// FileMailslotSetInformation (MS-FSCC 2.4).
    pub const FILE_MAILSLOT_SET_INFORMATION: Self = Self(27);
    /// FileCompressionInformation (MS-FSCC 2.4).
    pub const FILE_COMPRESSION_INFORMATION: Self = Self(28);
    /// FileObjectIdInformation (MS-FSCC 2.4).
    pub const FILE_OBJECT_ID_INFORMATION: Self = Self(29);
    /// FileMoveClusterInformation (MS-FSCC 2.4).
    pub const FILE_MOVE_CLUSTER_INFORMATION: Self = Self(31);
    /// FileQuotaInformation (MS-FSCC 2.4).
    pub const FILE_QUOTA_INFORMATION: Self = Self(32);
    /// FileReparsePointInformation (MS-FSCC 2.4).
    pub const FILE_REPARSE_POINT_INFORMATION: Self = Self(33);
    /// FileNetworkOpenInformation (MS-FSCC 2.4).
    pub const FILE_NETWORK_OPEN_INFORMATION: Self = Self(34);
    /// FileAttributeTagInformation (MS-FSCC 2.4).
    pub const FILE_ATTRIBUTE_TAG_INFORMATION: Self = Self(35);
    /// FileTrackingInformation (MS-FSCC 2.4).
    pub const FILE_TRACKING_INFORMATION: Self = Self(36);
    /// FileIdBothDirectoryInformation (MS-FSCC 2.4).
    pub const FILE_ID_BOTH_DIRECTORY_INFORMATION: Self = Self(37);
    /// FileIdFullDirectoryInformation (MS-FSCC 2.4).
    pub const FILE_ID_FULL_DIRECTORY_INFORMATION: Self = Self(38);
    /// FileValidDataLengthInformation (MS-FSCC 2.4).
    pub const FILE_VALID_DATA_LENGTH_INFORMATION: Self = Self(39);
    /// FileShortNameInformation (MS-FSCC 2.4).
    pub const FILE_SHORT_NAME_INFORMATION: Self = Self(40);
    /// FileIoPriorityHintInformation (MS-FSCC 2.4).
    pub const FILE_IO_PRIORITY_HINT_INFORMATION: Self = Self(43);
    /// FileSfioReserveInformation (MS-FSCC 2.4).
    pub const FILE_SFIO_RESERVE_INFORMATION: Self = Self(44);
    /// FileSfioVolumeInformation (MS-FSCC 2.4).
    pub const FILE_SFIO_VOLUME_INFORMATION: Self = Self(45);
    /// FileHardLinkInformation (MS-FSCC 2.4).
    pub const FILE_HARD_LINK_INFORMATION: Self = Self(46);
    /// FileNormalizedNameInformation (MS-FSCC 2.4).
    pub const FILE_NORMALIZED_NAME_INFORMATION: Self = Self(48);
    /// FileIdGlobalTxDirectoryInformation (MS-FSCC 2.4).
    pub const FILE_ID_GLOBAL_TX_DIRECTORY_INFORMATION: Self = Self(50);
    /// FileStandardLinkInformation (MS-FSCC 2.4).
    pub const FILE_STANDARD_LINK_INFORMATION: Self = Self(54);
    /// FileRenameInformationBypassAccessCheck (MS-FSCC 2.4).
    pub const FILE_RENAME_INFORMATION_BYPASS_ACCESS_CHECK: Self = Self(56);
    /// FileLinkInformationBypassAccessCheck (MS-FSCC 2.4).
    pub const FILE_LINK_INFORMATION_BYPASS_ACCESS_CHECK: Self = Self(57);
    /// FileIdInformation (MS-FSCC 2.4).
    pub const FILE_ID_INFORMATION: Self = Self(59);
    /// FileIdExtdDirectoryInformation (MS-FSCC 2.4).
    pub const FILE_ID_EXTD_DIRECTORY_INFORMATION: Self = Self(60);
    /// FileHardLinkFullIdInformation (MS-FSCC 2.4).
    pub const FILE_HARD_LINK_FULL_ID_INFORMATION: Self = Self(62);
    /// FileIdExtdBothDirectoryInformation (MS-FSCC 2.4).
    pub const FILE_ID_EXTD_BOTH_DIRECTORY_INFORMATION: Self = Self(63);
    /// FileDispositionInformationEx (MS-FSCC 2.4).
    pub const FILE_DISPOSITION_INFORMATION_EX: Self = Self(64);
    /// FileRenameInformationEx (MS-FSCC 2.4).
    pub const FILE_RENAME_INFORMATION_EX: Self = Self(65);
    /// FileRenameInformationExBypassAccessCheck (MS-FSCC 2.4).
    pub const FILE_RENAME_INFORMATION_EX_BYPASS_ACCESS_CHECK: Self = Self(66);
    /// FileDesiredStorageClassInformation (MS-FSCC 2.4).
    pub const FILE_DESIRED_STORAGE_CLASS_INFORMATION: Self = Self(67);
    /// FileStatInformation (MS-FSCC 2.4).
    pub const FILE_STAT_INFORMATION: Self = Self(68);
    /// FileMemoryPartitionInformation (MS-FSCC 2.4).
    pub const FILE_MEMORY_PARTITION_INFORMATION: Self = Self(69);
    /// FileStatLxInformation (MS-FSCC 2.4).
    pub const FILE_STAT_LX_INFORMATION: Self = Self(70);
    /// FileCaseSensitiveInformation (MS-FSCC 2.4).
    pub const FILE_CASE_SENSITIVE_INFORMATION: Self = Self(71);
    /// FileLinkInformationEx (MS-FSCC 2.4).
    pub const FILE_LINK_INFORMATION_EX: Self = Self(72);
    /// FileLinkInformationExBypassAccessCheck (MS-FSCC 2.4).
    pub const FILE_LINK_INFORMATION_EX_BYPASS_ACCESS_CHECK: Self = Self(73);
    /// FileStorageReserveIdInformation (MS-FSCC 2.4).
    pub const FILE_STORAGE_RESERVE_ID_INFORMATION: Self = Self(74);
    /// FileCaseSensitiveInformationForceAccessCheck (MS-FSCC 2.4).
    pub const FILE_CASE_SENSITIVE_INFORMATION_FORCE_ACCESS_CHECK: Self = Self(75);
    /// FileKnownFolderInformation (MS-FSCC 2.4).
    pub const FILE_KNOWN_FOLDER_INFORMATION: Self = Self(76);
    /// FileStatBasicInformation (MS-FSCC 2.4).
    pub const FILE_STAT_BASIC_INFORMATION: Self = Self(77);
    /// FileId64ExtdDirectoryInformation (MS-FSCC 2.4).
    pub const FILE_ID_64_EXTD_DIRECTORY_INFORMATION: Self = Self(78);
    /// FileId64ExtdBothDirectoryInformation (MS-FSCC 2.4).
    pub const FILE_ID_64_EXTD_BOTH_DIRECTORY_INFORMATION: Self = Self(79);
    /// FileIdAllExtdDirectoryInformation (MS-FSCC 2.4).
    pub const FILE_ID_ALL_EXTD_DIRECTORY_INFORMATION: Self = Self(80);
    /// FileIdAllExtdBothDirectoryInformation (MS-FSCC 2.4).
    pub const FILE_ID_ALL_EXTD_BOTH_DIRECTORY_INFORMATION: Self = Self(81);

    /// The class name as MS-FSCC spells it, if the value is known.
    pub fn name(self) -> Option<&'static str> {
        let n = match self.0 {
            1 => "FileDirectoryInformation",
            2 => "FileFullDirectoryInformation",
            3 => "FileBothDirectoryInformation",
            4 => "FileBasicInformation",
            5 => "FileStandardInformation",
            6 => "FileInternalInformation",
            7 => "FileEaInformation",
            8 => "FileAccessInformation",
            9 => "FileNameInformation",
            10 => "FileRenameInformation",
            11 => "FileLinkInformation",
            12 => "FileNamesInformation",
            13 => "FileDispositionInformation",
            14 => "FilePositionInformation",
            15 => "FileFullEaInformation",
            16 => "FileModeInformation",
            17 => "FileAlignmentInformation",
            18 => "FileAllInformation",
            19 => "FileAllocationInformation",
            20 => "FileEndOfFileInformation",
            21 => "FileAlternateNameInformation",
            22 => "FileStreamInformation",
            23 => "FilePipeInformation",
            24 => "FilePipeLocalInformation",
            25 => "FilePipeRemoteInformation",
            26 => "FileMailslotQueryInformation",
            27 => "FileMailslotSetInformation",
            28 => "FileCompressionInformation",
            29 => "FileObjectIdInformation",
            31 => "FileMoveClusterInformation",
            32 => "FileQuotaInformation",
            33 => "FileReparsePointInformation",
            34 => "FileNetworkOpenInformation",
            35 => "FileAttributeTagInformation",
            36 => "FileTrackingInformation",
            37 => "FileIdBothDirectoryInformation",
            38 => "FileIdFullDirectoryInformation",
            39 => "FileValidDataLengthInformation",
            40 => "FileShortNameInformation",
            43 => "FileIoPriorityHintInformation",
            44 => "FileSfioReserveInformation",
            45 => "FileSfioVolumeInformation",
            46 => "FileHardLinkInformation",
            48 => "FileNormalizedNameInformation",
            50 => "FileIdGlobalTxDirectoryInformation",
            54 => "FileStandardLinkInformation",
            56 => "FileRenameInformationBypassAccessCheck",
            57 => "FileLinkInformationBypassAccessCheck",
            59 => "FileIdInformation",
            60 => "FileIdExtdDirectoryInformation",
            62 => "FileHardLinkFullIdInformation",
            63 => "FileIdExtdBothDirectoryInformation",
            64 => "FileDispositionInformationEx",
            65 => "FileRenameInformationEx",
            66 => "FileRenameInformationExBypassAccessCheck",
            67 => "FileDesiredStorageClassInformation",
            68 => "FileStatInformation",
            69 => "FileMemoryPartitionInformation",
            70 => "FileStatLxInformation",
            71 => "FileCaseSensitiveInformation",
            72 => "FileLinkInformationEx",
            73 => "FileLinkInformationExBypassAccessCheck",
            74 => "FileStorageReserveIdInformation",
            75 => "FileCaseSensitiveInformationForceAccessCheck",
            76 => "FileKnownFolderInformation",
            77 => "FileStatBasicInformation",
            78 => "FileId64ExtdDirectoryInformation",
            79 => "FileId64ExtdBothDirectoryInformation",
            80 => "FileIdAllExtdDirectoryInformation",
            81 => "FileIdAllExtdBothDirectoryInformation",
            _ => return None,
        };
        Some(n)
    }
}

impl fmt::Debug for FileInfoClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "FileInfoClass({:#04x})", self.0),
        }
    }
}

/// A FS_INFORMATION_CLASS value (MS-FSCC 2.5).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FsInfoClass(pub u8);

impl FsInfoClass {
    /// FileFsVolumeInformation (MS-FSCC 2.5).
    pub const FILE_FS_VOLUME_INFORMATION: Self = Self(1);
    /// FileFsLabelInformation (MS-FSCC 2.5).
    pub const FILE_FS_LABEL_INFORMATION: Self = Self(2);
    /// FileFsSizeInformation (MS-FSCC 2.5).
    pub const FILE_FS_SIZE_INFORMATION: Self = Self(3);
    /// FileFsDeviceInformation (MS-FSCC 2.5).
    pub const FILE_FS_DEVICE_INFORMATION: Self = Self(4);
    /// FileFsAttributeInformation (MS-FSCC 2.5).
    pub const FILE_FS_ATTRIBUTE_INFORMATION: Self = Self(5);
    /// FileFsControlInformation (MS-FSCC 2.5).
    pub const FILE_FS_CONTROL_INFORMATION: Self = Self(6);
    /// FileFsFullSizeInformation (MS-FSCC 2.5).
    pub const FILE_FS_FULL_SIZE_INFORMATION: Self = Self(7);
    /// FileFsObjectIdInformation (MS-FSCC 2.5).
    pub const FILE_FS_OBJECT_ID_INFORMATION: Self = Self(8);
    /// FileFsDriverPathInformation (MS-FSCC 2.5).
    pub const FILE_FS_DRIVER_PATH_INFORMATION: Self = Self(9);
    /// FileFsVolumeFlagsInformation (MS-FSCC 2.5).
    pub const FILE_FS_VOLUME_FLAGS_INFORMATION: Self = Self(10);
    /// FileFsSectorSizeInformation (MS-FSCC 2.5).
    pub const FILE_FS_SECTOR_SIZE_INFORMATION: Self = Self(11);
    /// FileFsDataCopyInformation (MS-FSCC 2.5).
    pub const FILE_FS_DATA_COPY_INFORMATION: Self = Self(12);
    /// FileFsMetadataSizeInformation (MS-FSCC 2.5).
    pub const FILE_FS_METADATA_SIZE_INFORMATION: Self = Self(13);
    /// FileFsFullSizeInformationEx (MS-FSCC 2.5).
    pub const FILE_FS_FULL_SIZE_INFORMATION_EX: Self = Self(14);

    /// The class name as MS-FSCC spells it, if the value is known.
    pub fn name(self) -> Option<&'static str> {
        let n = match self.0 {
            1 => "FileFsVolumeInformation",
            2 => "FileFsLabelInformation",
            3 => "FileFsSizeInformation",
            4 => "FileFsDeviceInformation",
            5 => "FileFsAttributeInformation",
            6 => "FileFsControlInformation",
            7 => "FileFsFullSizeInformation",
            8 => "FileFsObjectIdInformation",
            9 => "FileFsDriverPathInformation",
            10 => "FileFsVolumeFlagsInformation",
            11 => "FileFsSectorSizeInformation",
            12 => "FileFsDataCopyInformation",
            13 => "FileFsMetadataSizeInformation",
            14 => "FileFsFullSizeInformationEx",
            _ => return None,
        };
        Some(n)
    }
}

impl fmt::Debug for FsInfoClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "FsInfoClass({:#04x})", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(FileInfoClass::FILE_DIRECTORY_INFORMATION.0, 1);
        assert_eq!(FileInfoClass::FILE_ALL_INFORMATION.0, 18);
        assert_eq!(FileInfoClass::FILE_NETWORK_OPEN_INFORMATION.0, 34);
        assert_eq!(FileInfoClass::FILE_ID_EXTD_DIRECTORY_INFORMATION.0, 60);
        assert_eq!(FileInfoClass::FILE_DISPOSITION_INFORMATION_EX.0, 64);
        assert_eq!(FileInfoClass::FILE_ID_ALL_EXTD_DIRECTORY_INFORMATION.0, 80);
        assert_eq!(FsInfoClass::FILE_FS_FULL_SIZE_INFORMATION.0, 7);
        assert_eq!(FsInfoClass::FILE_FS_SECTOR_SIZE_INFORMATION.0, 11);
    }

    #[test]
    fn debug_prints_names_and_hex() {
        assert_eq!(
            format!("{:?}", FileInfoClass::FILE_BASIC_INFORMATION),
            "FileBasicInformation"
        );
        assert_eq!(format!("{:?}", FileInfoClass(0xC8)), "FileInfoClass(0xc8)");
        assert_eq!(format!("{:?}", FsInfoClass(0x63)), "FsInfoClass(0x63)");
        assert_eq!(
            format!("{:?}", FsInfoClass::FILE_FS_VOLUME_INFORMATION),
            "FileFsVolumeInformation"
        );
    }
}
