//! Plain data exchanged across the storage seam.

use std::fmt;

/// Result of a storage operation.
pub type VfsResult<T> = Result<T, VfsError>;

/// Why a storage operation failed; the server maps each to one NT status.
#[derive(Debug)]
pub enum VfsError {
    /// The last component does not exist.
    NotFound,
    /// An intermediate directory does not exist.
    PathNotFound,
    /// The name exists and the operation needed it not to.
    Exists,
    /// A directory was required and this is a file.
    NotADirectory,
    /// A file was required and this is a directory.
    IsADirectory,
    /// The directory is not empty.
    NotEmpty,
    /// The filesystem refused (permissions, read-only).
    AccessDenied,
    /// The path would leave the share root (`..`, absolute, or a symlink pointing out).
    Escape,
    /// A name holds characters the backend cannot store.
    InvalidName,
    /// No space left on the device.
    NoSpace,
    /// The file is too large, or an offset is out of range.
    TooLarge,
    /// The operation is not supported by this backend.
    Unsupported,
    /// The file is in a read-only view (a snapshot): nothing in it changes.
    ReadOnly,
    /// The path meets a symbolic link the backend does not follow (one leading out of the
    /// share, or any where links cannot be followed safely): the server tells the client about
    /// it instead (STATUS_STOPPED_ON_SYMLINK).
    Symlink(SymlinkStop),
    /// Any other I/O error.
    Io(std::io::Error),
}

impl fmt::Display for VfsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "I/O error: {e}"),
            other => write!(f, "{other:?}"),
        }
    }
}

impl std::error::Error for VfsError {}

/// Where a path met a symbolic link it does not follow, and what the link says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymlinkStop {
    /// Index of the path component that is the link (0 = the first below the root).
    pub component: usize,
    /// The link's target as stored ('/'-separated, absolute or relative to its directory).
    pub target: String,
}

/// FILE_ATTRIBUTE_* bits (MS-FSCC 2.6) used by the backends.
pub mod attr {
    /// FILE_ATTRIBUTE_READONLY.
    pub const READONLY: u32 = 0x0001;
    /// FILE_ATTRIBUTE_HIDDEN.
    pub const HIDDEN: u32 = 0x0002;
    /// FILE_ATTRIBUTE_SYSTEM.
    pub const SYSTEM: u32 = 0x0004;
    /// FILE_ATTRIBUTE_DIRECTORY.
    pub const DIRECTORY: u32 = 0x0010;
    /// FILE_ATTRIBUTE_ARCHIVE.
    pub const ARCHIVE: u32 = 0x0020;
    /// FILE_ATTRIBUTE_NORMAL (only ever alone).
    pub const NORMAL: u32 = 0x0080;
    /// FILE_ATTRIBUTE_TEMPORARY.
    pub const TEMPORARY: u32 = 0x0100;
    /// FILE_ATTRIBUTE_SPARSE_FILE.
    pub const SPARSE_FILE: u32 = 0x0200;
    /// FILE_ATTRIBUTE_REPARSE_POINT.
    pub const REPARSE_POINT: u32 = 0x0400;
    /// FILE_ATTRIBUTE_COMPRESSED.
    pub const COMPRESSED: u32 = 0x0800;
    /// FILE_ATTRIBUTE_OFFLINE.
    pub const OFFLINE: u32 = 0x1000;
    /// FILE_ATTRIBUTE_NOT_CONTENT_INDEXED.
    pub const NOT_CONTENT_INDEXED: u32 = 0x2000;
    /// FILE_ATTRIBUTE_ENCRYPTED.
    pub const ENCRYPTED: u32 = 0x4000;
    /// The bits a client may set and the backends persist.
    pub const SETTABLE: u32 =
        READONLY | HIDDEN | SYSTEM | ARCHIVE | TEMPORARY | OFFLINE | NOT_CONTENT_INDEXED;
    /// The bits the backends persist: [`SETTABLE`] plus SPARSE_FILE, which only FSCTL_SET_SPARSE
    /// changes ([`crate::VfsFile::set_sparse`]).
    pub const STORED: u32 = SETTABLE | SPARSE_FILE;
}

/// Metadata of a file or directory. Times are FILETIME: 100 ns units since 1601-01-01 UTC.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileStat {
    /// End of file in bytes (0 for directories).
    pub size: u64,
    /// Bytes allocated on disk.
    pub allocation_size: u64,
    /// Creation time (kept in metadata; birth time or change time if never set).
    pub creation_time: u64,
    /// Last access time.
    pub last_access_time: u64,
    /// Last write time.
    pub last_write_time: u64,
    /// Last change (metadata) time.
    pub change_time: u64,
    /// FILE_ATTRIBUTE_* bits including DIRECTORY; never 0 (NORMAL when nothing else is set).
    pub attributes: u32,
    /// A stable 64-bit identifier of the file (inode number), unique within its volume.
    pub file_id: u64,
    /// The file system (volume) holding the file: the device number on POSIX, so files of
    /// two file systems mounted inside one share never share an identity (0 in memory).
    pub volume: u64,
    /// Hard link count.
    pub links: u32,
    /// EaSize of the file's extended attributes ([`crate::ea::ea_size`]; 0 without any).
    pub ea_size: u32,
    /// Whether this is a directory.
    pub is_dir: bool,
}

/// Space figures of the filesystem behind a share.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FsInfo {
    /// Allocation unit in bytes.
    pub block_size: u32,
    /// Total blocks.
    pub total_blocks: u64,
    /// Blocks free for an unprivileged user.
    pub available_blocks: u64,
    /// Blocks free in all.
    pub free_blocks: u64,
    /// A stable serial number for the volume.
    pub serial: u32,
}

/// CREATE disposition (MS-SMB2 2.2.13 CreateDisposition).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Replace if it exists, create if not.
    Supersede,
    /// Open only if it exists.
    Open,
    /// Create only if it does not exist.
    Create,
    /// Open if it exists, create if not.
    OpenIf,
    /// Open and truncate if it exists; fail if not.
    Overwrite,
    /// Open and truncate if it exists, create if not.
    OverwriteIf,
}

/// What kind of object the open requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Either a file or a directory.
    Any,
    /// FILE_NON_DIRECTORY_FILE: must be a file.
    File,
    /// FILE_DIRECTORY_FILE: must be a directory (created as one).
    Directory,
}

/// How to open a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOptions {
    /// Create disposition.
    pub disposition: Disposition,
    /// Required object kind.
    pub kind: Kind,
    /// Open for reading data.
    pub read: bool,
    /// Open for writing data.
    pub write: bool,
    /// DOS attributes for a newly created or overwritten file.
    pub attributes: u32,
    /// Initial allocation size for a new file, if any.
    pub allocation_size: u64,
    /// FILE_OPEN_REPARSE_POINT: a symbolic link at the last component is opened itself (its
    /// attributes show FILE_ATTRIBUTE_REPARSE_POINT), not followed.
    pub reparse_point: bool,
}

impl OpenOptions {
    /// Opens an existing object of any kind for reading only.
    pub fn read_existing() -> Self {
        Self {
            disposition: Disposition::Open,
            kind: Kind::Any,
            read: true,
            write: false,
            attributes: 0,
            allocation_size: 0,
            reparse_point: false,
        }
    }
}

/// What CREATE did (MS-SMB2 2.2.14 CreateAction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateAction {
    /// FILE_SUPERSEDED.
    Superseded,
    /// FILE_OPENED.
    Opened,
    /// FILE_CREATED.
    Created,
    /// FILE_OVERWRITTEN.
    Overwritten,
}

/// The result of [`crate::Vfs::open`].
pub struct Opened {
    /// The open file.
    pub file: crate::FileRef,
    /// What was done.
    pub action: CreateAction,
    /// Metadata right after the open.
    pub stat: FileStat,
    /// The path as stored, with each component in its on-disk case (for a named stream, the
    /// path of its file).
    pub path: String,
    /// 0 for a file or directory itself; for a named stream, an id unique among the streams
    /// of the backend and stable while the stream is open (see [`crate::Vfs::open_stream`]).
    pub stream_id: u64,
}

/// One named data stream of a file or directory (MS-FSCC 2.4.44 FileStreamInformation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    /// The stream's name as created (case preserved), without the `:` and `:$DATA` around it.
    pub name: String,
    /// End of stream in bytes.
    pub size: u64,
    /// Bytes allocated to it.
    pub allocation_size: u64,
}

/// Times to set; `None` leaves a time unchanged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetTimes {
    /// Creation time.
    pub creation: Option<u64>,
    /// Last access time.
    pub last_access: Option<u64>,
    /// Last write time.
    pub last_write: Option<u64>,
    /// Change time.
    pub change: Option<u64>,
}

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The name as stored.
    pub name: String,
    /// Its metadata.
    pub stat: FileStat,
    /// Its 8.3 short name (see [`crate::Vfs::short_name`]); `None` when the name is valid 8.3.
    pub short_name: Option<String>,
    /// Cookie that resumes the listing after this entry.
    pub cookie: u64,
}

/// A range of a file holding data (FSCTL_QUERY_ALLOCATED_RANGES): `offset` and `length` in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataRange {
    /// First byte of the range.
    pub offset: u64,
    /// Bytes in the range (never 0).
    pub length: u64,
}

/// Converts Unix seconds and nanoseconds to FILETIME.
pub fn unix_to_filetime(secs: i64, nanos: u32) -> u64 {
    const EPOCH_DIFF_SECS: i64 = 11_644_473_600;
    let t = (secs + EPOCH_DIFF_SECS) as i128 * 10_000_000 + (nanos / 100) as i128;
    t.clamp(0, u64::MAX as i128) as u64
}

/// Converts FILETIME to Unix seconds and nanoseconds.
pub fn filetime_to_unix(ft: u64) -> (i64, u32) {
    const EPOCH_DIFF_SECS: i64 = 11_644_473_600;
    let secs = (ft / 10_000_000) as i64 - EPOCH_DIFF_SECS;
    let nanos = ((ft % 10_000_000) * 100) as u32;
    (secs, nanos)
}
