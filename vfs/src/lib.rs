//! The storage seam of the server.
//!
//! [`Vfs`] is what a share is served from; [`VfsFile`] is one open file or directory. Paths are
//! relative to the share root, as components separated by `/`, already checked by the server to
//! hold no empty, `.` or `..` component; backends check again and never reach outside the root.
//! Names are matched case-insensitively and stored case-preserving.

#![deny(unsafe_code)]

pub mod ea;
mod listing;
mod names;
mod read_only;
pub mod short_names;
pub mod snapshots;
mod streams;
mod tunnel;
mod types;
mod watch;

pub use ea::Ea;
pub use names::{fold_char, fold_name};
pub use read_only::ReadOnlyFs;
pub use streams::check_stream_name;
pub use types::*;
pub use watch::{ChangeAction, ChangeSink, Watch, Watchers, filter};

use async_trait::async_trait;
use std::io;
use std::os::fd::BorrowedFd;
use std::sync::Arc;

/// A share's storage backend.
#[async_trait]
pub trait Vfs: Send + Sync + 'static {
    /// Opens or creates `path` with `opts`, following CREATE's disposition semantics
    /// (MS-FSA 2.1.5.1). The empty path is the share root.
    ///
    /// Errors: `NotFound` (last component missing), `PathNotFound` (a directory on the way
    /// missing or a file), `Exists` (Create), `IsADirectory` (a file required, or an
    /// overwrite/supersede of a directory, or `Kind::Directory` with an overwrite/supersede
    /// disposition, which MS-FSA calls an invalid parameter), `NotADirectory` (a directory
    /// required), `Escape`/`InvalidName` (bad path), `Symlink` (a symbolic link on the path
    /// that the backend does not follow: one leading out of the share).
    async fn open(&self, path: &str, opts: &OpenOptions) -> VfsResult<Opened>;

    /// Metadata of `path` without opening it.
    async fn stat(&self, path: &str) -> VfsResult<FileStat>;

    /// Renames `from` to `to`, with its named streams. With `replace`, an existing file at `to`
    /// is replaced (never a non-empty directory) and its streams go with it; without it an
    /// existing target is [`VfsError::Exists`].
    async fn rename(&self, from: &str, to: &str, replace: bool) -> VfsResult<()>;

    /// Removes the file or empty directory at `path`, and its named streams.
    async fn remove(&self, path: &str) -> VfsResult<()>;

    /// Size and free space of the filesystem that holds the share.
    async fn fs_info(&self) -> VfsResult<FsInfo>;

    /// The 8.3 short name of the file or directory at `path` ([`short_names`]: derived from its
    /// name and the other names of its directory); `None` for a name that is already valid 8.3
    /// and for the root. Backends also resolve a path component that is a short name to its
    /// file, and give a file created under a short name that a removal or rename freed in the
    /// last 15 s the long name it had (tunneling). The default derives the name alone, as if
    /// no other name of the directory shared its stem, and resolves nothing.
    async fn short_name(&self, path: &str) -> VfsResult<Option<String>> {
        Ok(path.rsplit('/').next().and_then(short_names::alone))
    }

    /// Opens or creates the named data stream `stream` (MS-FSCC 2.1.5: `file:stream:$DATA`) of
    /// the file or directory at `path`, which must exist (`NotFound`/`PathNotFound`). The
    /// disposition applies to the stream; `Kind::Directory` is `NotADirectory`. Stream names
    /// match case-insensitively and keep the case they were created with; a name holding `/`,
    /// `\\`, `:` or NUL is `InvalidName`. The handle reads and writes the stream's data; its
    /// `stat` is the file's metadata with the stream's size and allocation, and its times,
    /// attributes and metadata blobs are the file's. `Opened::path` is the file's path as
    /// stored and `Opened::stream_id` the stream's id.
    async fn open_stream(&self, path: &str, stream: &str, opts: &OpenOptions) -> VfsResult<Opened>;

    /// The named data streams of the file or directory at `path` (not the unnamed one), in a
    /// stable order.
    async fn list_streams(&self, path: &str) -> VfsResult<Vec<StreamInfo>>;

    /// Removes the named stream `stream` of `path` (`NotFound` if it has none of that name).
    /// Handles already open on it keep working.
    async fn remove_stream(&self, path: &str, stream: &str) -> VfsResult<()>;

    /// Renames stream `from` of `path` to `to`. An existing stream `to` is replaced with
    /// `replace`, else `Exists`. Renaming a stream to a name that folds alike changes its case.
    async fn rename_stream(&self, path: &str, from: &str, to: &str, replace: bool)
    -> VfsResult<()>;

    /// Watches directory `dir` (and, with `recursive`, everything below it): every change made
    /// through this backend, and those made by others where the backend can see them, goes to
    /// `sink` until the returned [`Watch`] is dropped. The default never reports.
    async fn watch(
        &self,
        dir: &str,
        recursive: bool,
        sink: Arc<dyn ChangeSink>,
    ) -> VfsResult<Watch> {
        let _ = (dir, recursive, sink);
        Ok(Watch::inert())
    }

    /// Makes `new` another name (a hard link) of the file at `existing`. With `replace`, an
    /// existing file at `new` is replaced (never a directory); without it an existing name is
    /// [`VfsError::Exists`]. A directory at `existing` is `IsADirectory`. `Unsupported` by
    /// default.
    async fn link(&self, existing: &str, new: &str, replace: bool) -> VfsResult<()> {
        let _ = (existing, new, replace);
        Err(VfsError::Unsupported)
    }

    /// Makes the empty file at `path` a symbolic link to `target` ('/'-separated), swapped in
    /// atomically (FSCTL_SET_REPARSE_POINT). A file with data is `NotEmpty`, a directory
    /// `IsADirectory`. The link is never followed out of the share. `Unsupported` by default.
    async fn make_symlink(&self, path: &str, target: &str) -> VfsResult<()> {
        let _ = (path, target);
        Err(VfsError::Unsupported)
    }

    /// Makes the symbolic link at `path` an empty file (FSCTL_DELETE_REPARSE_POINT), swapped
    /// in atomically. `Unsupported` by default.
    async fn unmake_symlink(&self, path: &str) -> VfsResult<()> {
        let _ = path;
        Err(VfsError::Unsupported)
    }

    /// The names of the share's snapshots (previous versions, [`snapshots::is_snapshot_name`]),
    /// newest first. None by default.
    async fn snapshots(&self) -> VfsResult<Vec<String>> {
        Ok(Vec::new())
    }

    /// The share as it was in snapshot `name` (one of [`Vfs::snapshots`]), which the server
    /// serves read-only. `NotFound` for a name that is not a snapshot (the default).
    async fn snapshot(&self, name: &str) -> VfsResult<Arc<dyn Vfs>> {
        let _ = name;
        Err(VfsError::NotFound)
    }
}

/// The piece a default in-server copy moves at a time.
const COPY_PIECE: u64 = 1 << 20;

/// One open file or directory.
#[async_trait]
pub trait VfsFile: Send + Sync + 'static {
    /// Current metadata.
    async fn stat(&self) -> VfsResult<FileStat>;

    /// Reads up to `len` bytes at `offset`; fewer at end of file, none past it.
    async fn read_at(&self, offset: u64, len: usize) -> VfsResult<Vec<u8>>;

    /// Like [`VfsFile::read_at`], into a buffer whose first `headroom` bytes are reserved (zero)
    /// for the caller's headers, so a reply can be sent without copying the data again.
    async fn read_at_with_headroom(
        &self,
        offset: u64,
        len: usize,
        headroom: usize,
    ) -> VfsResult<Vec<u8>> {
        let data = self.read_at(offset, len).await?;
        let mut v = Vec::with_capacity(headroom + data.len());
        v.resize(headroom, 0);
        v.extend_from_slice(&data);
        Ok(v)
    }

    /// How many bytes [`VfsFile::send_range_to`] can send for `len` bytes at `offset`: `len`
    /// clamped to the end of file as it is now (one fstat, no data read). `Unsupported` when
    /// this handle cannot send to a socket (the default): the caller reads the data instead.
    fn send_range_len(&self, offset: u64, len: usize) -> io::Result<usize> {
        let _ = (offset, len);
        Err(io::ErrorKind::Unsupported.into())
    }

    /// Sends up to `len` bytes at `offset` from the file straight to the socket `sock`
    /// (sendfile(2)), so the data never passes through user space. Returns the bytes sent:
    /// fewer when the socket buffer fills, 0 at end of file. A non-blocking socket without
    /// room gives `WouldBlock`. Blocks on disk I/O when the data is not in the page cache, so
    /// call it where blocking is allowed. `Unsupported` by default and whenever the file or
    /// socket cannot take it (the caller reads the data instead).
    fn send_range_to(&self, sock: BorrowedFd<'_>, offset: u64, len: usize) -> io::Result<usize> {
        let _ = (sock, offset, len);
        Err(io::ErrorKind::Unsupported.into())
    }

    /// Whether the `len` bytes at `offset` are all in the page cache, so reading or sending
    /// them will not wait for the disk (one cheap system call). `false` when unknown.
    fn is_cached(&self, offset: u64, len: usize) -> bool {
        let _ = (offset, len);
        false
    }

    /// Writes all of `data` at `offset`, extending the file as needed; returns bytes written.
    async fn write_at(&self, offset: u64, data: Vec<u8>) -> VfsResult<usize>;

    /// Like [`VfsFile::write_at`], from a shared buffer: a caller whose data is part of a
    /// larger received buffer hands it over without copying it out.
    async fn write_bytes(&self, offset: u64, data: bytes::Bytes) -> VfsResult<usize> {
        self.write_at(offset, data.to_vec()).await
    }

    /// Makes written data and metadata durable (fsync).
    async fn flush(&self) -> VfsResult<()>;

    /// Sets the end of file, truncating or extending with zeros.
    async fn set_len(&self, len: u64) -> VfsResult<()>;

    /// Reserves space so the allocation size is at least `len` without changing the size.
    async fn allocate(&self, len: u64) -> VfsResult<()>;

    /// Overwrites (or, with `supersede`, supersedes) the open file in place, as CREATE's
    /// overwrite dispositions do to an existing file (MS-FSA 2.1.5.1.2): the data goes, the
    /// DOS attributes become `attributes` (SETTABLE bits) plus ARCHIVE, `allocation_size` is
    /// reserved, and superseding also resets the creation time. It acts on this very handle,
    /// so the server can decide access on the object it opened before anything is destroyed.
    /// A directory is `IsADirectory`; the handle must have been opened for writing.
    async fn overwrite(
        &self,
        attributes: u32,
        allocation_size: u64,
        supersede: bool,
    ) -> VfsResult<()>;

    /// Sets the times that are `Some` (FILETIME, 100 ns units since 1601).
    async fn set_times(&self, times: SetTimes) -> VfsResult<()>;

    /// Stores the DOS attributes (FILE_ATTRIBUTE_* less DIRECTORY, which follows the type).
    async fn set_attributes(&self, attributes: u32) -> VfsResult<()>;

    /// Lists a directory: up to `max` entries after resume `cookie` (0 = from the start), in a
    /// stable order; "." and ".." are not included. Each entry carries the cookie that resumes
    /// after it.
    async fn read_dir(&self, cookie: u64, max: usize) -> VfsResult<Vec<DirEntry>>;

    /// Reads the named metadata blob (e.g. "security.sd"); `None` if absent.
    async fn get_meta(&self, name: &str) -> VfsResult<Option<Vec<u8>>>;

    /// Stores the named metadata blob.
    async fn set_meta(&self, name: &str, value: Vec<u8>) -> VfsResult<()>;

    /// The file's extended attributes in the order they were added (MS-FSA 2.1.1.3
    /// File.ExtendedAttributes; a stream's handle gives its file's). None by default.
    async fn get_eas(&self) -> VfsResult<Vec<Ea>> {
        Ok(Vec::new())
    }

    /// Changes the file's extended attributes as one step ([`ea::apply`]): each change replaces
    /// the EA of its name (ASCII case ignored), an empty value removes it; a bad change or a
    /// list past [`ea::MAX_EA_LIST_LEN`] (`TooLarge`) changes nothing. [`FileStat::ea_size`]
    /// follows. Reported to watches as FILE_NOTIFY_CHANGE_EA. `Unsupported` by default.
    async fn set_eas(&self, changes: Vec<Ea>) -> VfsResult<()> {
        let _ = changes;
        Err(VfsError::Unsupported)
    }

    /// The target of the symbolic link this handle is open on (an open with
    /// [`OpenOptions::reparse_point`]), for FSCTL_GET_REPARSE_POINT; `None` for anything else
    /// (the default).
    async fn symlink_target(&self) -> VfsResult<Option<String>> {
        Ok(None)
    }

    /// The descriptor of this open file, for in-kernel copies between two handles of the same
    /// backend (copy_file_range, FICLONERANGE); `None` when there is none (the default).
    fn data_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }

    /// Copies `len` bytes at `src_offset` of `src` to `dst_offset` of this file, extending it
    /// as needed, as a server-side copy does (FSCTL_SRV_COPYCHUNK). Returns the bytes copied:
    /// fewer than `len` only when the source ends first. Overlapping ranges of one file are
    /// copied as if read entirely before writing. The default reads and writes pieces of at
    /// most 1 MiB through the trait.
    async fn copy_range_from(
        &self,
        src: &FileRef,
        src_offset: u64,
        dst_offset: u64,
        len: u64,
    ) -> VfsResult<u64> {
        let mut done = 0;
        while done < len {
            let piece = (len - done).min(COPY_PIECE) as usize;
            let data = src.read_at(src_offset + done, piece).await?;
            if data.is_empty() {
                break;
            }
            let n = data.len() as u64;
            self.write_at(dst_offset + done, data).await?;
            done += n;
        }
        Ok(done)
    }

    /// Makes `len` bytes at `dst_offset` of this file share the storage of `src` at
    /// `src_offset` (a reflink, FSCTL_DUPLICATE_EXTENTS_TO_FILE), extending this file as
    /// needed. `Unsupported` where the storage cannot share extents (the default).
    async fn clone_range_from(
        &self,
        src: &FileRef,
        src_offset: u64,
        dst_offset: u64,
        len: u64,
    ) -> VfsResult<()> {
        let _ = (src, src_offset, dst_offset, len);
        Err(VfsError::Unsupported)
    }

    /// Sets or clears FILE_ATTRIBUTE_SPARSE_FILE (FSCTL_SET_SPARSE). `Unsupported` by default.
    async fn set_sparse(&self, sparse: bool) -> VfsResult<()> {
        let _ = sparse;
        Err(VfsError::Unsupported)
    }

    /// Makes the `len` bytes at `offset` read as zeros without changing the size
    /// (FSCTL_SET_ZERO_DATA): with `deallocate` (a sparse file) as a hole where the storage can
    /// punch one, else written with zeros. Only the part below the end of file is touched. The
    /// default writes zeros through the trait.
    async fn zero_range(&self, offset: u64, len: u64, deallocate: bool) -> VfsResult<()> {
        let _ = deallocate;
        let size = self.stat().await?.size;
        let end = offset.saturating_add(len).min(size);
        let mut at = offset;
        while at < end {
            let piece = (end - at).min(COPY_PIECE);
            self.write_at(at, vec![0; piece as usize]).await?;
            at += piece;
        }
        Ok(())
    }

    /// The ranges holding data within `len` bytes at `offset` (FSCTL_QUERY_ALLOCATED_RANGES),
    /// in order, at most `max` of them (a caller asks for one more than it can send to learn
    /// that the answer is cut). The default reports everything below the end of file as data.
    async fn allocated_ranges(
        &self,
        offset: u64,
        len: u64,
        max: usize,
    ) -> VfsResult<Vec<DataRange>> {
        let size = self.stat().await?.size;
        let end = offset.saturating_add(len).min(size);
        Ok(if end > offset && max > 0 {
            vec![DataRange {
                offset,
                length: end - offset,
            }]
        } else {
            Vec::new()
        })
    }
}

/// A shared handle to an open file.
pub type FileRef = Arc<dyn VfsFile>;

pub mod mem;
pub mod posix;
