//! Data operations of the POSIX backend beyond read and write: in-kernel copies
//! (copy_file_range), reflinks (FICLONERANGE), hole punching and the data/hole map
//! (SEEK_DATA/SEEK_HOLE). Each runs on the blocking pool, on an open handle.

use super::errors::map_io;
use super::file::Handle;
use super::sys;
use crate::{DataRange, VfsError, VfsResult};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::FileExt;

/// The buffer of a copy the kernel cannot do itself.
const BOUNCE: u64 = 1 << 20;

/// Checks that `offset + len` stays within what an `off_t` holds.
fn end_within(offset: u64, len: u64) -> VfsResult<u64> {
    offset
        .checked_add(len)
        .filter(|&e| e <= i64::MAX as u64)
        .ok_or(VfsError::TooLarge)
}

/// (device, inode) of a descriptor.
fn identity(fd: BorrowedFd<'_>) -> VfsResult<((u64, u64), u64)> {
    let st = sys::fstatx(fd).map_err(map_io)?;
    Ok((super::meta::dev_ino(&st), st.stx_size))
}

/// Copies `len` bytes of `src` at `src_off` to `h` at `dst_off`; see
/// [`crate::VfsFile::copy_range_from`].
pub(super) fn copy(
    h: &Handle,
    src: OwnedFd,
    src_off: u64,
    dst_off: u64,
    len: u64,
) -> VfsResult<u64> {
    h.writable_file()?;
    end_within(src_off, len)?;
    end_within(dst_off, len)?;
    let (src_id, src_size) = identity(src.as_fd())?;
    let (dst_id, _) = identity(h.file.as_fd())?;
    let len = len.min(src_size.saturating_sub(src_off));
    let overlap = src_id == dst_id && src_off < dst_off + len && dst_off < src_off + len;
    if overlap {
        return bounce(src.as_fd(), h, src_off, dst_off, len);
    }
    let mut done = 0;
    while done < len {
        let piece = usize::try_from(len - done).unwrap_or(usize::MAX);
        match sys::copy_file_range(
            src.as_fd(),
            (src_off + done) as i64,
            h.file.as_fd(),
            (dst_off + done) as i64,
            piece,
        ) {
            Ok(0) => break,
            Ok(n) => done += n as u64,
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
            // Another file system, or one without the call: copy through a buffer.
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EXDEV | libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)
                ) =>
            {
                return bounce(src.as_fd(), h, src_off + done, dst_off + done, len - done)
                    .map(|n| done + n);
            }
            Err(e) => return Err(map_io(e)),
        }
    }
    Ok(done)
}

/// Copies through a user-space buffer, as memmove does: when the target lies after the source
/// in one file, from the end backwards, so no byte is overwritten before it is read.
fn bounce(src: BorrowedFd<'_>, h: &Handle, src_off: u64, dst_off: u64, len: u64) -> VfsResult<u64> {
    let src = std::fs::File::from(src.try_clone_to_owned().map_err(map_io)?);
    let mut buf = vec![0u8; len.min(BOUNCE) as usize];
    let backwards = dst_off > src_off;
    let mut done = 0;
    while done < len {
        let piece = (len - done).min(BOUNCE);
        let at = if backwards { len - done - piece } else { done };
        let part = &mut buf[..piece as usize];
        let n = read_full(&src, part, src_off + at)?;
        h.file
            .write_all_at(&part[..n], dst_off + at)
            .map_err(map_io)?;
        if n < part.len() {
            // The source shrank meanwhile: what was copied is what counts.
            return Ok(done + n as u64);
        }
        done += piece;
    }
    Ok(done)
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_full(f: &std::fs::File, buf: &mut [u8], offset: u64) -> VfsResult<usize> {
    let mut got = 0;
    while got < buf.len() {
        match f.read_at(&mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(map_io(e)),
        }
    }
    Ok(got)
}

/// Shares `len` bytes of `src` at `src_off` into `h` at `dst_off` (FICLONERANGE).
pub(super) fn clone(
    h: &Handle,
    src: OwnedFd,
    src_off: u64,
    dst_off: u64,
    len: u64,
) -> VfsResult<()> {
    h.writable_file()?;
    end_within(src_off, len)?;
    end_within(dst_off, len)?;
    if len == 0 {
        return Ok(());
    }
    match sys::clone_range(src.as_fd(), src_off, h.file.as_fd(), dst_off, len) {
        Ok(()) => Ok(()),
        // No shared extents here (ext4, tmpfs, another file system, unaligned ranges).
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EOPNOTSUPP | libc::ENOTTY | libc::EXDEV | libc::EINVAL | libc::ENOSYS)
            ) =>
        {
            Err(VfsError::Unsupported)
        }
        Err(e) => Err(map_io(e)),
    }
}

/// Makes the range below the end of file read as zeros: a punched hole when `deallocate`, or
/// zeros written where the file system cannot punch (and when not asked to).
pub(super) fn zero(h: &Handle, offset: u64, len: u64, deallocate: bool) -> VfsResult<()> {
    h.writable_file()?;
    let size = h.file.metadata().map_err(map_io)?.len();
    let end = offset.saturating_add(len).min(size);
    if end <= offset {
        return Ok(());
    }
    let punched = if deallocate {
        sys::punch_hole(h.file.as_fd(), offset as i64, (end - offset) as i64)
    } else {
        Err(std::io::Error::from_raw_os_error(libc::EOPNOTSUPP))
    };
    match punched {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => {
            let zeros = vec![0u8; (end - offset).min(BOUNCE) as usize];
            let mut at = offset;
            while at < end {
                let n = (end - at).min(BOUNCE) as usize;
                h.file.write_all_at(&zeros[..n], at).map_err(map_io)?;
                at += n as u64;
            }
            Ok(())
        }
        Err(e) => Err(map_io(e)),
    }
}

/// The data ranges within `len` bytes at `offset`, at most `max`, clipped to the query and
/// to the end of file.
pub(super) fn ranges(h: &Handle, offset: u64, len: u64, max: usize) -> VfsResult<Vec<DataRange>> {
    if h.is_dir {
        return Err(VfsError::IsADirectory);
    }
    let size = h.file.metadata().map_err(map_io)?.len();
    let end = offset.saturating_add(len).min(size);
    let fd = h.file.as_fd();
    let mut out = Vec::new();
    let mut pos = offset;
    while pos < end && out.len() < max {
        let data = match sys::seek_data_or_hole(fd, pos as i64, true) {
            Ok(Some(d)) => d,
            Ok(None) => break,
            // Without SEEK_DATA every byte counts as data.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => pos,
            Err(e) => return Err(map_io(e)),
        };
        if data >= end {
            break;
        }
        let hole = match sys::seek_data_or_hole(fd, data as i64, false) {
            Ok(Some(h)) => h,
            Ok(None) => size,
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => size,
            Err(e) => return Err(map_io(e)),
        };
        let stop = hole.min(end);
        out.push(DataRange {
            offset: data,
            length: stop - data,
        });
        pos = stop;
    }
    Ok(out)
}
