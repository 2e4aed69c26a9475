//! A read-only view of a backend, for snapshots: opens are made without write access, nothing
//! is created, overwritten, renamed, linked or removed, and every change through an open file
//! is [`VfsError::ReadOnly`].

use crate::{
    DataRange, DirEntry, Disposition, FileRef, FileStat, FsInfo, OpenOptions, Opened, SetTimes,
    StreamInfo, Vfs, VfsError, VfsFile, VfsResult,
};
use async_trait::async_trait;
use std::io;
use std::os::fd::BorrowedFd;
use std::sync::Arc;

/// `inner`, read-only.
pub struct ReadOnlyFs {
    inner: Arc<dyn Vfs>,
}

impl ReadOnlyFs {
    /// A read-only view of `inner`.
    pub fn new(inner: Arc<dyn Vfs>) -> Self {
        Self { inner }
    }
}

#[async_trait]
impl Vfs for ReadOnlyFs {
    async fn open(&self, path: &str, opts: &OpenOptions) -> VfsResult<Opened> {
        let opts = read_only_open(opts)?;
        let mut opened = self.inner.open(path, &opts).await?;
        opened.file = Arc::new(ReadOnlyFile(opened.file));
        Ok(opened)
    }

    async fn stat(&self, path: &str) -> VfsResult<FileStat> {
        self.inner.stat(path).await
    }

    async fn rename(&self, _from: &str, _to: &str, _replace: bool) -> VfsResult<()> {
        Err(VfsError::AccessDenied)
    }

    async fn remove(&self, _path: &str) -> VfsResult<()> {
        Err(VfsError::AccessDenied)
    }

    async fn fs_info(&self) -> VfsResult<FsInfo> {
        self.inner.fs_info().await
    }

    async fn short_name(&self, path: &str) -> VfsResult<Option<String>> {
        self.inner.short_name(path).await
    }

    async fn link(&self, _existing: &str, _new: &str, _replace: bool) -> VfsResult<()> {
        Err(VfsError::AccessDenied)
    }

    async fn open_stream(&self, path: &str, stream: &str, opts: &OpenOptions) -> VfsResult<Opened> {
        let opts = read_only_open(opts)?;
        let mut opened = self.inner.open_stream(path, stream, &opts).await?;
        opened.file = Arc::new(ReadOnlyFile(opened.file));
        Ok(opened)
    }

    async fn list_streams(&self, path: &str) -> VfsResult<Vec<StreamInfo>> {
        self.inner.list_streams(path).await
    }

    async fn remove_stream(&self, _path: &str, _stream: &str) -> VfsResult<()> {
        Err(VfsError::AccessDenied)
    }

    async fn rename_stream(
        &self,
        _path: &str,
        _from: &str,
        _to: &str,
        _replace: bool,
    ) -> VfsResult<()> {
        Err(VfsError::AccessDenied)
    }
}

/// `opts` for an open of the read-only view: existing objects only, never for writing.
fn read_only_open(opts: &OpenOptions) -> VfsResult<OpenOptions> {
    match opts.disposition {
        Disposition::Open | Disposition::OpenIf => Ok(OpenOptions {
            disposition: Disposition::Open,
            write: false,
            ..opts.clone()
        }),
        _ => Err(VfsError::AccessDenied),
    }
}

/// An open file of a [`ReadOnlyFs`]: reads pass through, changes are [`VfsError::ReadOnly`].
struct ReadOnlyFile(FileRef);

#[async_trait]
impl VfsFile for ReadOnlyFile {
    async fn stat(&self) -> VfsResult<FileStat> {
        self.0.stat().await
    }

    async fn read_at(&self, offset: u64, len: usize) -> VfsResult<Vec<u8>> {
        self.0.read_at(offset, len).await
    }

    async fn read_at_with_headroom(
        &self,
        offset: u64,
        len: usize,
        headroom: usize,
    ) -> VfsResult<Vec<u8>> {
        self.0.read_at_with_headroom(offset, len, headroom).await
    }

    fn send_range_len(&self, offset: u64, len: usize) -> io::Result<usize> {
        self.0.send_range_len(offset, len)
    }

    fn send_range_to(&self, sock: BorrowedFd<'_>, offset: u64, len: usize) -> io::Result<usize> {
        self.0.send_range_to(sock, offset, len)
    }

    fn is_cached(&self, offset: u64, len: usize) -> bool {
        self.0.is_cached(offset, len)
    }

    async fn write_at(&self, _offset: u64, _data: Vec<u8>) -> VfsResult<usize> {
        Err(VfsError::ReadOnly)
    }

    async fn flush(&self) -> VfsResult<()> {
        Ok(())
    }

    async fn set_len(&self, _len: u64) -> VfsResult<()> {
        Err(VfsError::ReadOnly)
    }

    async fn allocate(&self, _len: u64) -> VfsResult<()> {
        Err(VfsError::ReadOnly)
    }

    async fn overwrite(
        &self,
        _attributes: u32,
        _allocation: u64,
        _supersede: bool,
    ) -> VfsResult<()> {
        Err(VfsError::ReadOnly)
    }

    async fn set_times(&self, _times: SetTimes) -> VfsResult<()> {
        Err(VfsError::ReadOnly)
    }

    async fn set_attributes(&self, _attributes: u32) -> VfsResult<()> {
        Err(VfsError::ReadOnly)
    }

    async fn read_dir(&self, cookie: u64, max: usize) -> VfsResult<Vec<DirEntry>> {
        self.0.read_dir(cookie, max).await
    }

    async fn get_meta(&self, name: &str) -> VfsResult<Option<Vec<u8>>> {
        self.0.get_meta(name).await
    }

    async fn set_meta(&self, _name: &str, _value: Vec<u8>) -> VfsResult<()> {
        Err(VfsError::ReadOnly)
    }

    async fn get_eas(&self) -> VfsResult<Vec<crate::Ea>> {
        self.0.get_eas().await
    }

    async fn set_eas(&self, _changes: Vec<crate::Ea>) -> VfsResult<()> {
        Err(VfsError::ReadOnly)
    }

    fn data_fd(&self) -> Option<BorrowedFd<'_>> {
        self.0.data_fd()
    }

    async fn symlink_target(&self) -> VfsResult<Option<String>> {
        self.0.symlink_target().await
    }

    async fn copy_range_from(
        &self,
        _src: &FileRef,
        _src_offset: u64,
        _dst_offset: u64,
        _len: u64,
    ) -> VfsResult<u64> {
        Err(VfsError::ReadOnly)
    }

    async fn clone_range_from(
        &self,
        _src: &FileRef,
        _src_offset: u64,
        _dst_offset: u64,
        _len: u64,
    ) -> VfsResult<()> {
        Err(VfsError::ReadOnly)
    }

    async fn set_sparse(&self, _sparse: bool) -> VfsResult<()> {
        Err(VfsError::ReadOnly)
    }

    async fn zero_range(&self, _offset: u64, _len: u64, _deallocate: bool) -> VfsResult<()> {
        Err(VfsError::ReadOnly)
    }

    async fn allocated_ranges(
        &self,
        offset: u64,
        len: u64,
        max: usize,
    ) -> VfsResult<Vec<DataRange>> {
        self.0.allocated_ranges(offset, len, max).await
    }
}
