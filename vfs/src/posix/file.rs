//! An open file or directory of the POSIX backend. Each operation is one `spawn_blocking` job.

use super::errors::{is_no_xattr, map_io};
use super::meta::{self, DosInfo, build_stat, read_dos, write_dos};
use super::resolve::{Root, cstr, fd_dir_path};
use super::sys::{self, XattrTarget};
use super::{blocking, data};
use crate::listing::ListingCache;
use crate::names::join;
use crate::{
    ChangeAction, DataRange, DirEntry, FileRef, FileStat, SetTimes, VfsError, VfsFile, VfsResult,
    attr, filetime_to_unix, filter, unix_to_filetime,
};
use async_trait::async_trait;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Largest xattr value (XATTR_SIZE_MAX).
const MAX_META_VALUE: usize = 65_536;

/// What the descriptor of a handle can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// O_PATH: metadata only (directories and attribute-only opens).
    PathOnly,
    /// O_RDONLY.
    Read,
    /// O_RDWR.
    ReadWrite,
}

/// The state of one open handle.
pub(crate) struct Handle {
    root: Arc<Root>,
    pub(super) file: File,
    path: String,
    pub(super) is_dir: bool,
    pub(super) access: Access,
    listing: ListingCache,
    /// The handle created its file and has not changed it since (see [`Handle::reporting`]).
    initial: AtomicBool,
}

/// One open file or directory.
pub(crate) struct PosixFile {
    h: Arc<Handle>,
}

impl PosixFile {
    /// Wraps an open descriptor; `path` is the on-disk path relative to the root.
    pub(crate) fn new(
        root: Arc<Root>,
        fd: OwnedFd,
        path: String,
        is_dir: bool,
        access: Access,
        created: bool,
    ) -> Self {
        Self {
            h: Arc::new(Handle {
                root,
                file: File::from(fd),
                path,
                is_dir,
                access,
                listing: ListingCache::default(),
                initial: AtomicBool::new(created),
            }),
        }
    }

    /// Runs `op`, a change of this file, and reports it as `filter` to the watches (after
    /// dropping the kernel's echo of it). The creator's first metadata write (its descriptor)
    /// is part of the creation and reports nothing.
    fn reporting<T>(
        h: &Handle,
        filter: u32,
        op: impl FnOnce(&Handle) -> VfsResult<T>,
    ) -> VfsResult<T> {
        let first = h.initial.swap(false, Ordering::Relaxed);
        let n = h.root.notify();
        let path = if n.watched() {
            n.path_of(h.root.fd(), h.file.as_fd())
        } else {
            None
        };
        let Some(path) = path else {
            return op(h);
        };
        let token = n.begin(&h.root, &[path.as_str()]);
        let r = op(h);
        if let Some(t) = token {
            let quiet = first && filter & (filter::SECURITY | filter::EA) != 0;
            match (&r, quiet) {
                (Ok(_), false) => t.finish(&[(path.as_str(), ChangeAction::Modified, filter)]),
                _ => t.finish(&[]),
            }
        }
        r
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Handle) -> VfsResult<T> + Send + 'static,
    ) -> VfsResult<T> {
        let h = self.h.clone();
        blocking(move || f(&h)).await
    }
}

/// Largest read tried from the page cache on the calling thread.
const INLINE_READ_MAX: usize = 64 * 1024;

impl Handle {
    /// Current metadata of the handle.
    pub(crate) fn stat(&self) -> VfsResult<FileStat> {
        let st = sys::fstatx(self.file.as_fd()).map_err(map_io)?;
        Ok(build_stat(
            &st,
            read_dos(XattrTarget::Fd(self.file.as_fd())).as_ref(),
        ))
    }

    pub(super) fn dos(&self) -> VfsResult<DosInfo> {
        let st = sys::fstatx(self.file.as_fd()).map_err(map_io)?;
        let stored = read_dos(XattrTarget::Fd(self.file.as_fd()));
        let stat = build_stat(&st, stored.as_ref());
        Ok(DosInfo {
            attributes: stat.attributes & attr::STORED,
            creation: stat.creation_time,
            reserved: stored.map_or(0, |d| d.reserved),
            ea_size: stored.map_or(0, |d| d.ea_size),
        })
    }

    pub(super) fn writable_file(&self) -> VfsResult<()> {
        if self.is_dir {
            return Err(VfsError::IsADirectory);
        }
        if self.access != Access::ReadWrite {
            return Err(VfsError::AccessDenied);
        }
        Ok(())
    }

    fn read_at(&self, offset: u64, len: usize, headroom: usize) -> VfsResult<Vec<u8>> {
        if self.is_dir {
            return Err(VfsError::IsADirectory);
        }
        if offset > i64::MAX as u64 {
            return Ok(vec![0u8; headroom]);
        }
        // Never allocate more than the file holds past `offset`, whatever `len` asks.
        let len = self.available(offset, len).map_err(map_io)?;
        // Only the headroom is zeroed; the data is read straight into the spare capacity
        // (zeroing megabytes that are overwritten at once showed up in profiles).
        let mut buf = Vec::with_capacity(headroom + len);
        buf.resize(headroom, 0);
        let mut got = 0;
        while got < len {
            match sys::pread_append(self.file.as_fd(), &mut buf, len - got, offset + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) => return Err(map_io(e)),
            }
        }
        Ok(buf)
    }

    /// A small read served from the page cache on the calling thread, without a blocking-pool
    /// job (a thread hand-off costs more than the copy). `Ok(None)` when any of the range is
    /// not cached, or for a directory: the caller takes the ordinary path.
    fn read_cached(&self, offset: u64, len: usize, headroom: usize) -> VfsResult<Option<Vec<u8>>> {
        if self.is_dir || len > INLINE_READ_MAX || offset > i64::MAX as u64 {
            return Ok(None);
        }
        let mut buf = Vec::with_capacity(headroom + len);
        buf.resize(headroom, 0);
        let mut got = 0;
        while got < len {
            match sys::pread_append_cached(
                self.file.as_fd(),
                &mut buf,
                len - got,
                offset + got as u64,
            ) {
                Ok(Some(0)) => break,
                Ok(Some(n)) => got += n,
                Ok(None) => return Ok(None),
                Err(e) => return Err(map_io(e)),
            }
        }
        Ok(Some(buf))
    }

    /// Bytes a send of `len` at `offset` covers now; `Unsupported` for handles without data
    /// access (directories, O_PATH), which take the ordinary read path and its errors.
    fn send_range_len(&self, offset: u64, len: usize) -> io::Result<usize> {
        if self.is_dir || self.access == Access::PathOnly {
            return Err(io::ErrorKind::Unsupported.into());
        }
        if offset > i64::MAX as u64 {
            return Ok(0);
        }
        self.available(offset, len)
    }

    /// `len` cut to what the file holds past `offset` now.
    fn available(&self, offset: u64, len: usize) -> io::Result<usize> {
        let size = self.file.metadata()?.len();
        Ok(len.min(usize::try_from(size.saturating_sub(offset)).unwrap_or(usize::MAX)))
    }

    fn send_range_to(&self, sock: BorrowedFd<'_>, offset: u64, len: usize) -> io::Result<usize> {
        if self.is_dir || self.access == Access::PathOnly {
            return Err(io::ErrorKind::Unsupported.into());
        }
        if offset > i64::MAX as u64 || len == 0 {
            return Ok(0);
        }
        match sys::sendfile(sock, self.file.as_fd(), offset, len) {
            // This file system or socket cannot take sendfile: the caller reads instead.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
                Err(io::ErrorKind::Unsupported.into())
            }
            other => other,
        }
    }

    /// Whether every page of the range is in the page cache (`false` when unknown).
    fn is_cached(&self, offset: u64, len: usize) -> bool {
        const PAGE: u64 = 4096;
        if len == 0 {
            return true;
        }
        let first = offset / PAGE;
        let last = offset.saturating_add(len as u64 - 1) / PAGE;
        sys::cached_pages(self.file.as_fd(), offset, len as u64).is_ok_and(|n| n > last - first)
    }

    fn write_at(&self, offset: u64, data: &[u8]) -> VfsResult<usize> {
        self.writable_file()?;
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or(VfsError::TooLarge)?;
        if end > i64::MAX as u64 {
            return Err(VfsError::TooLarge);
        }
        self.file.write_all_at(data, offset).map_err(map_io)?;
        Ok(data.len())
    }

    fn flush(&self) -> VfsResult<()> {
        if self.is_dir || self.access == Access::PathOnly {
            return Ok(());
        }
        self.file.sync_all().map_err(map_io)
    }

    fn set_len(&self, len: u64) -> VfsResult<()> {
        self.writable_file()?;
        if len > i64::MAX as u64 {
            return Err(VfsError::TooLarge);
        }
        self.file.set_len(len).map_err(map_io)
    }

    fn allocate(&self, len: u64) -> VfsResult<()> {
        self.writable_file()?;
        let dos = DosInfo {
            reserved: len,
            ..self.dos()?
        };
        let len = i64::try_from(len).map_err(|_| VfsError::TooLarge)?;
        self.keeping_change_time(|| write_dos(self.file.as_fd(), &dos))?;
        if len == 0 {
            return Ok(());
        }
        match sys::fallocate(self.file.as_fd(), true, 0, len) {
            Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => Ok(()),
            other => other.map_err(map_io),
        }
    }

    fn set_times(&self, times: SetTimes) -> VfsResult<()> {
        self.keeping_change_time(|| {
            if let Some(creation) = times.creation {
                let dos = DosInfo {
                    creation,
                    ..self.dos()?
                };
                write_dos(self.file.as_fd(), &dos)?;
            }
            let atime = times.last_access.map(filetime_to_unix);
            let mtime = times.last_write.map(filetime_to_unix);
            if atime.is_some() || mtime.is_some() {
                sys::set_file_times(self.file.as_fd(), atime, mtime).map_err(map_io)?;
            }
            Ok(())
        })?;
        if let Some(change) = times.change {
            // Set last: every change above moved the real ctime.
            let st = sys::fstatx(self.file.as_fd()).map_err(map_io)?;
            super::change_time::set(meta::dev_ino(&st), change, ctime(&st));
        }
        Ok(())
    }

    fn overwrite(&self, attributes: u32, allocation_size: u64, supersede: bool) -> VfsResult<()> {
        if self.is_dir {
            return Err(VfsError::IsADirectory);
        }
        self.writable_file()?;
        let cur = self.dos()?;
        self.file.set_len(0).map_err(map_io)?;
        let creation = if supersede {
            super::ops::created_at(self.file.as_fd())?
        } else {
            cur.creation
        };
        // The extended attributes stay; CREATE replaces them through `set_eas`.
        let dos = DosInfo {
            attributes: (attributes & attr::SETTABLE) | attr::ARCHIVE,
            creation,
            reserved: allocation_size,
            ea_size: cur.ea_size,
        };
        write_dos(self.file.as_fd(), &dos)?;
        self.allocate(allocation_size)
    }

    fn set_attributes(&self, attributes: u32) -> VfsResult<()> {
        let cur = self.dos()?;
        let dos = DosInfo {
            attributes: (attributes & attr::SETTABLE) | (cur.attributes & attr::SPARSE_FILE),
            ..cur
        };
        self.keeping_change_time(|| write_dos(self.file.as_fd(), &dos))
    }

    fn set_sparse(&self, sparse: bool) -> VfsResult<()> {
        if self.is_dir {
            return Err(VfsError::IsADirectory);
        }
        let cur = self.dos()?;
        let attributes = if sparse {
            cur.attributes | attr::SPARSE_FILE
        } else {
            cur.attributes & !attr::SPARSE_FILE
        };
        let dos = DosInfo { attributes, ..cur };
        write_dos(self.file.as_fd(), &dos)
    }

    /// Runs a metadata update that moves the real ctime without voiding a ChangeTime a client
    /// set explicitly (NTFS keeps such a time until the data changes).
    pub(super) fn keeping_change_time<T>(&self, op: impl FnOnce() -> VfsResult<T>) -> VfsResult<T> {
        let fd = self.file.as_fd();
        let before = sys::fstatx(fd).map_err(map_io)?;
        let key = meta::dev_ino(&before);
        let kept = super::change_time::active(key, ctime(&before));
        let out = op()?;
        if let Some(change) = kept {
            let after = sys::fstatx(fd).map_err(map_io)?;
            super::change_time::set(key, change, ctime(&after));
        }
        Ok(out)
    }

    /// Lists the directory once: sorted by name, "." and ".." excluded, symlinks followed only
    /// when they resolve inside the root, other special files and unreadable entries skipped.
    fn snapshot(&self) -> VfsResult<Vec<(String, FileStat)>> {
        if !self.is_dir {
            return Err(VfsError::NotADirectory);
        }
        let dir = self.file.as_fd();
        let mut out = Vec::new();
        for entry in std::fs::read_dir(fd_dir_path(dir)).map_err(map_io)? {
            let entry = entry.map_err(map_io)?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if self.path.is_empty() && name == super::streams::SIDE_DIR {
                continue;
            }
            let Ok(cname) = cstr(&name) else { continue };
            let Ok(st) = sys::statx(dir, &cname, libc::AT_SYMLINK_NOFOLLOW) else {
                continue;
            };
            let stat = if meta::is_symlink(&st) {
                match self.follow_inside(&name) {
                    Some(s) => s,
                    None => continue,
                }
            } else if meta::is_dir(&st) || meta::is_file(&st) {
                build_stat(&st, read_dos(XattrTarget::NoFollowAt(dir, &cname)).as_ref())
            } else {
                continue;
            };
            out.push((name, stat));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn follow_inside(&self, name: &str) -> Option<FileStat> {
        let fd = self
            .root
            .open_beneath(&join(&self.path, name), libc::O_PATH)
            .ok()?;
        let st = sys::fstatx(fd.as_fd()).ok()?;
        if !(meta::is_dir(&st) || meta::is_file(&st)) {
            return None;
        }
        Some(build_stat(
            &st,
            read_dos(XattrTarget::Fd(fd.as_fd())).as_ref(),
        ))
    }

    fn read_dir(&self, cookie: u64, max: usize) -> VfsResult<Vec<DirEntry>> {
        self.listing.read(cookie, max, || self.snapshot())
    }

    fn get_meta(&self, name: &str) -> VfsResult<Option<Vec<u8>>> {
        let key = meta::meta_xattr_name(name)?;
        match sys::get_xattr(XattrTarget::Fd(self.file.as_fd()), &key) {
            Ok(v) => Ok(v),
            Err(e) if is_no_xattr(&e) => Ok(None),
            Err(e) => Err(map_io(e)),
        }
    }

    fn set_meta(&self, name: &str, value: &[u8]) -> VfsResult<()> {
        let key = meta::meta_xattr_name(name)?;
        if value.len() > MAX_META_VALUE {
            return Err(VfsError::TooLarge);
        }
        self.keeping_change_time(|| match sys::set_xattr(self.file.as_fd(), &key, value) {
            Ok(()) => Ok(()),
            Err(e) if is_no_xattr(&e) => Err(VfsError::Unsupported),
            Err(e) if e.raw_os_error() == Some(libc::E2BIG) => Err(VfsError::TooLarge),
            Err(e) => Err(map_io(e)),
        })
    }
}

#[async_trait]
impl VfsFile for PosixFile {
    async fn symlink_target(&self) -> VfsResult<Option<String>> {
        self.run(|h| {
            let st = sys::fstatx(h.file.as_fd()).map_err(map_io)?;
            if !meta::is_symlink(&st) {
                return Ok(None);
            }
            let t = sys::readlinkat(h.file.as_fd(), c"").map_err(map_io)?;
            Ok(String::from_utf8(t).ok())
        })
        .await
    }

    fn data_fd(&self) -> Option<BorrowedFd<'_>> {
        (!self.h.is_dir && self.h.access != Access::PathOnly).then(|| self.h.file.as_fd())
    }

    async fn copy_range_from(
        &self,
        src: &FileRef,
        src_offset: u64,
        dst_offset: u64,
        len: u64,
    ) -> VfsResult<u64> {
        let Some(fd) = src.data_fd() else {
            return Err(VfsError::AccessDenied);
        };
        let src_fd = fd.try_clone_to_owned().map_err(map_io)?;
        self.run(move |h| data::copy(h, src_fd, src_offset, dst_offset, len))
            .await
    }

    async fn clone_range_from(
        &self,
        src: &FileRef,
        src_offset: u64,
        dst_offset: u64,
        len: u64,
    ) -> VfsResult<()> {
        let Some(fd) = src.data_fd() else {
            return Err(VfsError::AccessDenied);
        };
        let src_fd = fd.try_clone_to_owned().map_err(map_io)?;
        self.run(move |h| data::clone(h, src_fd, src_offset, dst_offset, len))
            .await
    }

    async fn set_sparse(&self, sparse: bool) -> VfsResult<()> {
        self.run(move |h| h.set_sparse(sparse)).await
    }

    async fn zero_range(&self, offset: u64, len: u64, deallocate: bool) -> VfsResult<()> {
        self.run(move |h| data::zero(h, offset, len, deallocate))
            .await
    }

    async fn allocated_ranges(
        &self,
        offset: u64,
        len: u64,
        max: usize,
    ) -> VfsResult<Vec<DataRange>> {
        self.run(move |h| data::ranges(h, offset, len, max)).await
    }

    async fn stat(&self) -> VfsResult<FileStat> {
        self.run(Handle::stat).await
    }

    async fn read_at(&self, offset: u64, len: usize) -> VfsResult<Vec<u8>> {
        self.run(move |h| h.read_at(offset, len, 0)).await
    }

    async fn read_at_with_headroom(
        &self,
        offset: u64,
        len: usize,
        headroom: usize,
    ) -> VfsResult<Vec<u8>> {
        if let Some(buf) = self.h.read_cached(offset, len, headroom)? {
            return Ok(buf);
        }
        self.run(move |h| h.read_at(offset, len, headroom)).await
    }

    fn send_range_len(&self, offset: u64, len: usize) -> io::Result<usize> {
        self.h.send_range_len(offset, len)
    }

    fn send_range_to(&self, sock: BorrowedFd<'_>, offset: u64, len: usize) -> io::Result<usize> {
        self.h.send_range_to(sock, offset, len)
    }

    fn is_cached(&self, offset: u64, len: usize) -> bool {
        self.h.is_cached(offset, len)
    }

    async fn write_at(&self, offset: u64, data: Vec<u8>) -> VfsResult<usize> {
        let f = filter::LAST_WRITE | filter::SIZE;
        self.run(move |h| Self::reporting(h, f, |h| h.write_at(offset, &data)))
            .await
    }

    async fn write_bytes(&self, offset: u64, data: bytes::Bytes) -> VfsResult<usize> {
        let f = filter::LAST_WRITE | filter::SIZE;
        self.run(move |h| Self::reporting(h, f, |h| h.write_at(offset, &data)))
            .await
    }

    async fn flush(&self) -> VfsResult<()> {
        self.run(Handle::flush).await
    }

    async fn set_len(&self, len: u64) -> VfsResult<()> {
        let f = filter::LAST_WRITE | filter::SIZE;
        self.run(move |h| Self::reporting(h, f, |h| h.set_len(len)))
            .await
    }

    async fn allocate(&self, len: u64) -> VfsResult<()> {
        self.run(move |h| Self::reporting(h, 0, |h| h.allocate(len)))
            .await
    }

    async fn overwrite(
        &self,
        attributes: u32,
        allocation_size: u64,
        supersede: bool,
    ) -> VfsResult<()> {
        let f = filter::ATTRIBUTES | filter::SIZE | filter::LAST_WRITE;
        self.run(move |h| {
            Self::reporting(h, f, |h| {
                h.overwrite(attributes, allocation_size, supersede)
            })
        })
        .await
    }

    async fn set_times(&self, times: SetTimes) -> VfsResult<()> {
        let f = filter::times(&times);
        self.run(move |h| Self::reporting(h, f, |h| h.set_times(times)))
            .await
    }

    async fn set_attributes(&self, attributes: u32) -> VfsResult<()> {
        self.run(move |h| Self::reporting(h, filter::ATTRIBUTES, |h| h.set_attributes(attributes)))
            .await
    }

    async fn read_dir(&self, cookie: u64, max: usize) -> VfsResult<Vec<DirEntry>> {
        self.run(move |h| h.read_dir(cookie, max)).await
    }

    async fn get_meta(&self, name: &str) -> VfsResult<Option<Vec<u8>>> {
        let name = name.to_owned();
        self.run(move |h| h.get_meta(&name)).await
    }

    async fn set_meta(&self, name: &str, value: Vec<u8>) -> VfsResult<()> {
        let name = name.to_owned();
        let f = filter::meta(&name);
        self.run(move |h| Self::reporting(h, f, |h| h.set_meta(&name, &value)))
            .await
    }

    async fn get_eas(&self) -> VfsResult<Vec<crate::Ea>> {
        self.run(super::eas::get).await
    }

    async fn set_eas(&self, changes: Vec<crate::Ea>) -> VfsResult<()> {
        self.run(move |h| Self::reporting(h, filter::EA, |h| super::eas::set(h, changes)))
            .await
    }
}

/// The real ctime of a statx result as FILETIME.
fn ctime(st: &libc::statx) -> u64 {
    unix_to_filetime(st.stx_ctime.tv_sec, st.stx_ctime.tv_nsec)
}
