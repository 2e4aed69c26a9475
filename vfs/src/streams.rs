//! Named data streams, as both backends serve them: a handle on a stream is the stream's data
//! joined to its file, whose times, attributes and metadata it shares (MS-FSA 2.1.1.3 File and
//! 2.1.1.4 Stream).

use crate::{DirEntry, FileRef, FileStat, SetTimes, VfsError, VfsFile, VfsResult};
use async_trait::async_trait;
use std::io;
use std::os::fd::BorrowedFd;

/// Longest stream name, in UTF-16 code units (as a file name component).
const MAX_STREAM_NAME: usize = 255;

/// Checks a stream name as the backends store it: not empty, at most 255 UTF-16 code units,
/// none of `/`, `\`, `:` or NUL (MS-FSCC 2.1.5.3). Anything else, control characters and
/// wildcards included, is a valid stream name.
pub fn check_stream_name(name: &str) -> VfsResult<()> {
    if name.is_empty()
        || name.encode_utf16().count() > MAX_STREAM_NAME
        || name.contains(['/', '\\', ':', '\0'])
    {
        return Err(VfsError::InvalidName);
    }
    Ok(())
}

/// An open named stream: `data` holds the bytes, `base` is a handle on the file (or directory)
/// the stream belongs to.
pub(crate) struct StreamFile {
    base: FileRef,
    data: FileRef,
}

impl StreamFile {
    /// Joins the stream's data handle to its file's handle.
    pub(crate) fn new(base: FileRef, data: FileRef) -> Self {
        Self { base, data }
    }
}

/// The file's metadata `base` with the size and allocation of the stream `data`.
pub(crate) fn stream_stat(mut base: FileStat, data: &FileStat) -> FileStat {
    base.size = data.size;
    base.allocation_size = data.allocation_size;
    base.is_dir = false;
    base
}

#[async_trait]
impl VfsFile for StreamFile {
    async fn stat(&self) -> VfsResult<FileStat> {
        let data = self.data.stat().await?;
        Ok(stream_stat(self.base.stat().await?, &data))
    }

    async fn read_at(&self, offset: u64, len: usize) -> VfsResult<Vec<u8>> {
        self.data.read_at(offset, len).await
    }

    async fn read_at_with_headroom(
        &self,
        offset: u64,
        len: usize,
        headroom: usize,
    ) -> VfsResult<Vec<u8>> {
        self.data.read_at_with_headroom(offset, len, headroom).await
    }

    fn send_range_len(&self, offset: u64, len: usize) -> io::Result<usize> {
        self.data.send_range_len(offset, len)
    }

    fn send_range_to(&self, sock: BorrowedFd<'_>, offset: u64, len: usize) -> io::Result<usize> {
        self.data.send_range_to(sock, offset, len)
    }

    fn is_cached(&self, offset: u64, len: usize) -> bool {
        self.data.is_cached(offset, len)
    }

    async fn write_at(&self, offset: u64, data: Vec<u8>) -> VfsResult<usize> {
        self.data.write_at(offset, data).await
    }

    async fn write_bytes(&self, offset: u64, data: bytes::Bytes) -> VfsResult<usize> {
        self.data.write_bytes(offset, data).await
    }

    async fn flush(&self) -> VfsResult<()> {
        self.data.flush().await
    }

    async fn set_len(&self, len: u64) -> VfsResult<()> {
        self.data.set_len(len).await
    }

    async fn allocate(&self, len: u64) -> VfsResult<()> {
        self.data.allocate(len).await
    }

    /// Overwriting a stream empties it and reserves `allocation_size`; the file's attributes
    /// and times are left alone.
    async fn overwrite(
        &self,
        _attributes: u32,
        allocation_size: u64,
        _supersede: bool,
    ) -> VfsResult<()> {
        self.data.set_len(0).await?;
        if allocation_size > 0 {
            self.data.allocate(allocation_size).await?;
        }
        Ok(())
    }

    async fn set_times(&self, times: SetTimes) -> VfsResult<()> {
        self.base.set_times(times).await
    }

    async fn set_attributes(&self, attributes: u32) -> VfsResult<()> {
        self.base.set_attributes(attributes).await
    }

    async fn read_dir(&self, _cookie: u64, _max: usize) -> VfsResult<Vec<DirEntry>> {
        Err(VfsError::NotADirectory)
    }

    async fn get_meta(&self, name: &str) -> VfsResult<Option<Vec<u8>>> {
        self.base.get_meta(name).await
    }

    async fn set_meta(&self, name: &str, value: Vec<u8>) -> VfsResult<()> {
        self.base.set_meta(name, value).await
    }

    async fn get_eas(&self) -> VfsResult<Vec<crate::Ea>> {
        self.base.get_eas().await
    }

    async fn set_eas(&self, changes: Vec<crate::Ea>) -> VfsResult<()> {
        self.base.set_eas(changes).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names() {
        assert!(check_stream_name("Zone.Identifier").is_ok());
        assert!(check_stream_name("\u{5}Stream\n One").is_ok());
        assert!(check_stream_name("?Stream*").is_ok());
        for bad in ["", "a:b", "a/b", "a\\b", "a\0b"] {
            assert!(check_stream_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_stream_name(&"x".repeat(256)).is_err());
    }
}
