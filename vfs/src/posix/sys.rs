//! The only module with `unsafe` code: small safe wrappers over the Linux system calls the POSIX
//! backend needs (openat2, openat, statx, mkdirat, unlinkat, renameat2, xattrs, fallocate,
//! utimensat, fstatvfs, pread, sendfile, cachestat, copy_file_range, FICLONERANGE, SEEK_DATA,
//! linkat, readlinkat, symlinkat). Each wrapper checks its result and returns `io::Result`.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU8, Ordering};

/// Largest extended attribute value Linux allows (XATTR_SIZE_MAX).
const XATTR_SIZE_MAX: usize = 65_536;

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn owned(fd: libc::c_long) -> io::Result<OwnedFd> {
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let raw = RawFd::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: the kernel just returned this descriptor to us and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// `/proc/self/fd/N`: a path naming exactly the object behind `fd`.
pub(crate) fn proc_path(fd: BorrowedFd<'_>) -> CString {
    CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap_or_default()
}

/// openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS: `path` may not leave `dir`.
pub(crate) fn openat2_beneath(
    dir: BorrowedFd<'_>,
    path: &CStr,
    flags: libc::c_int,
    mode: u32,
) -> io::Result<OwnedFd> {
    // SAFETY: open_how is plain integers; all-zero is a valid value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.mode = if flags & libc::O_CREAT != 0 {
        u64::from(mode)
    } else {
        0
    };
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: valid fd, NUL-terminated path, pointer and size of a live open_how.
    let r = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir.as_raw_fd(),
            path.as_ptr(),
            &how as *const libc::open_how,
            size_of::<libc::open_how>(),
        )
    };
    owned(r)
}

/// openat(2) relative to `dir` (which may be an O_PATH descriptor).
pub(crate) fn openat(
    dir: BorrowedFd<'_>,
    name: &CStr,
    flags: libc::c_int,
    mode: u32,
) -> io::Result<OwnedFd> {
    // SAFETY: valid fd and NUL-terminated name.
    let r = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            flags | libc::O_CLOEXEC,
            mode,
        )
    };
    owned(libc::c_long::from(r))
}

/// open(2) of an absolute path (used only for `/proc/self/fd/N` reopens).
pub(crate) fn open_path(path: &CStr, flags: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: NUL-terminated path.
    let r = unsafe { libc::open(path.as_ptr(), flags | libc::O_CLOEXEC) };
    owned(libc::c_long::from(r))
}

/// statx(2) of `name` in `dir`; an empty name with AT_EMPTY_PATH stats `dir` itself.
pub(crate) fn statx(
    dir: BorrowedFd<'_>,
    name: &CStr,
    flags: libc::c_int,
) -> io::Result<libc::statx> {
    // SAFETY: statx is plain integers; all-zero is valid and the kernel fills it.
    let mut st: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: valid fd, NUL-terminated name, pointer to a live statx.
    check(unsafe {
        libc::statx(
            dir.as_raw_fd(),
            name.as_ptr(),
            flags | libc::AT_STATX_SYNC_AS_STAT,
            libc::STATX_BASIC_STATS | libc::STATX_BTIME,
            &mut st,
        )
    })?;
    Ok(st)
}

/// statx(2) of the object behind `fd` itself.
pub(crate) fn fstatx(fd: BorrowedFd<'_>) -> io::Result<libc::statx> {
    statx(fd, c"", libc::AT_EMPTY_PATH)
}

/// mkdirat(2).
pub(crate) fn mkdirat(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> io::Result<()> {
    // SAFETY: valid fd and NUL-terminated name.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) }).map(drop)
}

/// unlinkat(2); `dir_flag` removes a directory (AT_REMOVEDIR).
pub(crate) fn unlinkat(dir: BorrowedFd<'_>, name: &CStr, remove_dir: bool) -> io::Result<()> {
    let flags = if remove_dir { libc::AT_REMOVEDIR } else { 0 };
    // SAFETY: valid fd and NUL-terminated name.
    check(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), flags) }).map(drop)
}

/// renameat2(2); `no_replace` sets RENAME_NOREPLACE.
pub(crate) fn renameat2(
    from_dir: BorrowedFd<'_>,
    from: &CStr,
    to_dir: BorrowedFd<'_>,
    to: &CStr,
    no_replace: bool,
) -> io::Result<()> {
    let flags = if no_replace {
        libc::RENAME_NOREPLACE
    } else {
        0
    };
    // SAFETY: valid fds and NUL-terminated names.
    check(unsafe {
        libc::renameat2(
            from_dir.as_raw_fd(),
            from.as_ptr(),
            to_dir.as_raw_fd(),
            to.as_ptr(),
            flags,
        )
    })
    .map(drop)
}

/// Where an extended attribute lives.
#[derive(Clone, Copy)]
pub(crate) enum XattrTarget<'a> {
    /// An open descriptor (an O_PATH one is read through its /proc path).
    Fd(BorrowedFd<'a>),
    /// A path whose last component is not followed if it is a symlink.
    NoFollowPath(&'a CStr),
    /// An entry of a directory, not followed if it is a symlink.
    NoFollowAt(BorrowedFd<'a>, &'a CStr),
}

/// Reads an extended attribute; `None` when it is absent.
pub(crate) fn get_xattr(target: XattrTarget<'_>, name: &CStr) -> io::Result<Option<Vec<u8>>> {
    match target {
        XattrTarget::NoFollowAt(dir, entry) => {
            if let Some(r) = get_xattr_at(dir, entry, libc::AT_SYMLINK_NOFOLLOW, name) {
                return r;
            }
            let path = CString::new([proc_path(dir).as_bytes(), b"/", entry.to_bytes()].concat())
                .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
            get_xattr_once(XattrTarget::NoFollowPath(&path), name)
        }
        _ => match get_xattr_once(target, name) {
            Err(e) if e.raw_os_error() == Some(libc::EBADF) => {
                let XattrTarget::Fd(fd) = target else {
                    return Err(e);
                };
                // An O_PATH descriptor (which getxattrat refuses too): its /proc path.
                get_xattr_follow(&proc_path(fd), name)
            }
            other => other,
        },
    }
}

/// getxattrat(2) (Linux 6.13): 0 unknown, 1 available, 2 missing (ENOSYS).
static GETXATTRAT: AtomicU8 = AtomicU8::new(0);

/// The syscall number of getxattrat, the same on every architecture (new syscalls share one
/// table since 424).
const SYS_GETXATTRAT: libc::c_long = 464;

/// `struct xattr_args` of getxattrat(2).
#[repr(C)]
struct XattrArgs {
    value: u64,
    size: u32,
    flags: u32,
}

/// Reads `name` of `path` relative to `dir` with getxattrat(2); `None` when the kernel lacks
/// it (the caller falls back).
fn get_xattr_at(
    dir: BorrowedFd<'_>,
    path: &CStr,
    at_flags: libc::c_int,
    name: &CStr,
) -> Option<io::Result<Option<Vec<u8>>>> {
    if GETXATTRAT.load(Ordering::Relaxed) == 2 {
        return None;
    }
    let r = xattr_read_loop(|buf, len| {
        let mut args = XattrArgs {
            value: buf as u64,
            size: u32::try_from(len).unwrap_or(u32::MAX),
            flags: 0,
        };
        // SAFETY: valid fd; NUL-terminated path and name; args points to a live XattrArgs of
        // the size passed, whose value is valid for `size` bytes (or null with size 0).
        let r = unsafe {
            libc::syscall(
                SYS_GETXATTRAT,
                dir.as_raw_fd(),
                path.as_ptr(),
                at_flags as libc::c_uint,
                name.as_ptr(),
                &mut args as *mut XattrArgs,
                size_of::<XattrArgs>(),
            )
        };
        r as libc::ssize_t
    });
    match &r {
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
            GETXATTRAT.store(2, Ordering::Relaxed);
            None
        }
        // A seccomp filter may refuse unknown syscalls with EPERM, which is also a real answer
        // for some objects: let the older call decide this one.
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => None,
        _ => {
            GETXATTRAT.store(1, Ordering::Relaxed);
            Some(r)
        }
    }
}

fn get_xattr_follow(path: &CStr, name: &CStr) -> io::Result<Option<Vec<u8>>> {
    xattr_read_loop(|buf, len| {
        // SAFETY: NUL-terminated strings; buf is valid for len bytes (or null with len 0).
        unsafe { libc::getxattr(path.as_ptr(), name.as_ptr(), buf, len) }
    })
}

fn get_xattr_once(target: XattrTarget<'_>, name: &CStr) -> io::Result<Option<Vec<u8>>> {
    match target {
        XattrTarget::Fd(fd) => xattr_read_loop(|buf, len| {
            // SAFETY: valid fd, NUL-terminated name; buf is valid for len bytes (or null, 0).
            unsafe { libc::fgetxattr(fd.as_raw_fd(), name.as_ptr(), buf, len) }
        }),
        XattrTarget::NoFollowPath(path) => xattr_read_loop(|buf, len| {
            // SAFETY: NUL-terminated strings; buf is valid for len bytes (or null, 0).
            unsafe { libc::lgetxattr(path.as_ptr(), name.as_ptr(), buf, len) }
        }),
        XattrTarget::NoFollowAt(..) => get_xattr(target, name),
    }
}

/// Bytes tried on the first read: DOS attributes and most descriptors fit, so one call does.
const XATTR_FIRST_TRY: usize = 512;

/// Reads into a small buffer first; when the value is larger, asks the size, allocates at most
/// XATTR_SIZE_MAX, reads, and retries if it grew meanwhile.
fn xattr_read_loop(
    mut call: impl FnMut(*mut libc::c_void, usize) -> libc::ssize_t,
) -> io::Result<Option<Vec<u8>>> {
    let mut first = [0u8; XATTR_FIRST_TRY];
    let got = call(first.as_mut_ptr().cast(), first.len());
    if got >= 0 {
        let n = usize::try_from(got).unwrap_or(0).min(first.len());
        return Ok(Some(first[..n].to_vec()));
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::ENODATA) => return Ok(None),
        Some(libc::ERANGE) => {}
        _ => return Err(e),
    }
    for _ in 0..4 {
        let size = call(std::ptr::null_mut(), 0);
        if size < 0 {
            let e = io::Error::last_os_error();
            return if e.raw_os_error() == Some(libc::ENODATA) {
                Ok(None)
            } else {
                Err(e)
            };
        }
        let size = usize::try_from(size).unwrap_or(0).min(XATTR_SIZE_MAX);
        let mut buf = vec![0u8; size];
        let got = call(buf.as_mut_ptr().cast(), buf.len());
        if got < 0 {
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::ERANGE) => continue,
                Some(libc::ENODATA) => return Ok(None),
                _ => return Err(e),
            }
        }
        buf.truncate(usize::try_from(got).unwrap_or(0));
        return Ok(Some(buf));
    }
    Err(io::Error::from_raw_os_error(libc::ERANGE))
}

/// Writes an extended attribute on `fd` (an O_PATH one through its /proc path).
pub(crate) fn set_xattr(fd: BorrowedFd<'_>, name: &CStr, value: &[u8]) -> io::Result<()> {
    // SAFETY: valid fd, NUL-terminated name, value valid for its length.
    let r = unsafe {
        libc::fsetxattr(
            fd.as_raw_fd(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    match check(r) {
        Err(e) if e.raw_os_error() == Some(libc::EBADF) => {
            let path = proc_path(fd);
            // SAFETY: NUL-terminated strings, value valid for its length.
            let r = unsafe {
                libc::setxattr(
                    path.as_ptr(),
                    name.as_ptr(),
                    value.as_ptr().cast(),
                    value.len(),
                    0,
                )
            };
            check(r).map(drop)
        }
        other => other.map(drop),
    }
}

/// fallocate(2).
pub(crate) fn fallocate(
    fd: BorrowedFd<'_>,
    keep_size: bool,
    offset: i64,
    len: i64,
) -> io::Result<()> {
    let mode = if keep_size {
        libc::FALLOC_FL_KEEP_SIZE
    } else {
        0
    };
    // SAFETY: valid fd; plain integers.
    check(unsafe { libc::fallocate(fd.as_raw_fd(), mode, offset, len) }).map(drop)
}

/// Sets access and modification times (seconds, nanoseconds); `None` leaves one unchanged.
pub(crate) fn set_file_times(
    fd: BorrowedFd<'_>,
    atime: Option<(i64, u32)>,
    mtime: Option<(i64, u32)>,
) -> io::Result<()> {
    let spec = |t: Option<(i64, u32)>| match t {
        Some((s, ns)) => libc::timespec {
            tv_sec: s,
            tv_nsec: libc::c_long::from(ns.min(999_999_999)),
        },
        None => libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_OMIT,
        },
    };
    let times = [spec(atime), spec(mtime)];
    // SAFETY: valid fd and a live array of two timespecs.
    match check(unsafe { libc::futimens(fd.as_raw_fd(), times.as_ptr()) }) {
        Err(e) if e.raw_os_error() == Some(libc::EBADF) => {
            let path = proc_path(fd);
            // SAFETY: NUL-terminated path and a live array of two timespecs.
            check(unsafe { libc::utimensat(libc::AT_FDCWD, path.as_ptr(), times.as_ptr(), 0) })
                .map(drop)
        }
        other => other.map(drop),
    }
}

/// fstatvfs(3) of the filesystem holding `fd`.
pub(crate) fn fstatvfs(fd: BorrowedFd<'_>) -> io::Result<libc::statvfs> {
    // SAFETY: statvfs is plain integers; all-zero is valid.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: valid fd and pointer to a live statvfs.
    check(unsafe { libc::fstatvfs(fd.as_raw_fd(), &mut st) })?;
    Ok(st)
}

/// Like [`pread_append`] but only from the page cache: preadv2(2) with RWF_NOWAIT, which
/// fails with EAGAIN instead of waiting for the disk. `Ok(None)`: the data is not (all) cached,
/// or this file system cannot tell; read it the ordinary way.
pub(crate) fn pread_append_cached(
    fd: BorrowedFd<'_>,
    buf: &mut Vec<u8>,
    max: usize,
    offset: u64,
) -> io::Result<Option<usize>> {
    match preadv2_append(fd, buf, max, offset, libc::RWF_NOWAIT) {
        Ok(n) => Ok(Some(n)),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EAGAIN | libc::EOPNOTSUPP | libc::ENOSYS | libc::EINVAL)
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// pread(2) into the spare capacity of `buf` (at most `max` bytes, never past its capacity),
/// without zeroing it first; the bytes read are appended. Returns how many were read (0 at
/// end of file). Retries on EINTR.
pub(crate) fn pread_append(
    fd: BorrowedFd<'_>,
    buf: &mut Vec<u8>,
    max: usize,
    offset: u64,
) -> io::Result<usize> {
    preadv2_append(fd, buf, max, offset, 0)
}

/// preadv2(2) with `flags` into the spare capacity of `buf` (at most `max` bytes, never past
/// its capacity); the bytes read are appended. With no flags it is pread(2). Retries on EINTR.
fn preadv2_append(
    fd: BorrowedFd<'_>,
    buf: &mut Vec<u8>,
    max: usize,
    offset: u64,
    flags: libc::c_int,
) -> io::Result<usize> {
    let want = max.min(buf.capacity() - buf.len());
    if want == 0 {
        return Ok(0);
    }
    let off =
        libc::off_t::try_from(offset).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let spare = buf.spare_capacity_mut();
    let iov = libc::iovec {
        iov_base: spare.as_mut_ptr().cast(),
        iov_len: want,
    };
    loop {
        // SAFETY: `iov` describes writable memory of `want` bytes owned by `buf`; the kernel
        // writes at most that much into it.
        let r = unsafe { libc::preadv2(fd.as_raw_fd(), &iov, 1, off, flags) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        let n = usize::try_from(r).unwrap_or(0).min(want);
        // SAFETY: the kernel initialised the first `n` bytes of the spare capacity.
        unsafe { buf.set_len(buf.len() + n) };
        return Ok(n);
    }
}

/// Most bytes Linux moves in one sendfile(2) call.
const SENDFILE_MAX: usize = 0x7fff_f000;

/// sendfile(2): up to `len` bytes of `file` at `offset` written to `out` without passing
/// through user space. Returns how many were sent (0 at end of file); `WouldBlock` when `out`
/// is a non-blocking socket without room. Retries on EINTR.
pub(crate) fn sendfile(
    out: BorrowedFd<'_>,
    file: BorrowedFd<'_>,
    offset: u64,
    len: usize,
) -> io::Result<usize> {
    let start =
        libc::off_t::try_from(offset).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let len = len.min(SENDFILE_MAX);
    loop {
        let mut off = start;
        // SAFETY: valid descriptors and a pointer to a live off_t the kernel updates.
        let r = unsafe { libc::sendfile(out.as_raw_fd(), file.as_raw_fd(), &mut off, len) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        return Ok(usize::try_from(r).unwrap_or(0).min(len));
    }
}

/// cachestat(2)'s number: the same on every architecture (Linux 6.5's unified table).
const SYS_CACHESTAT: libc::c_long = 451;

/// `struct cachestat_range` of cachestat(2).
#[repr(C)]
struct CachestatRange {
    off: u64,
    len: u64,
}

/// `struct cachestat` of cachestat(2).
#[repr(C)]
#[derive(Default)]
struct Cachestat {
    nr_cache: u64,
    nr_dirty: u64,
    nr_writeback: u64,
    nr_evicted: u64,
    nr_recently_evicted: u64,
}

/// How many pages of `len` bytes at `offset` of `fd` are in the page cache (cachestat(2),
/// Linux 6.5+; an error on older kernels).
pub(crate) fn cached_pages(fd: BorrowedFd<'_>, offset: u64, len: u64) -> io::Result<u64> {
    let range = CachestatRange { off: offset, len };
    let mut st = Cachestat::default();
    // SAFETY: valid fd, pointers to a live range and a live result of the kernel's layout.
    let r = unsafe {
        libc::syscall(
            SYS_CACHESTAT,
            fd.as_raw_fd(),
            &range as *const CachestatRange,
            &mut st as *mut Cachestat,
            0u32,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st.nr_cache)
}

/// inotify_init1(2): a non-blocking, close-on-exec inotify descriptor.
pub(crate) fn inotify_init() -> io::Result<OwnedFd> {
    // SAFETY: no pointers; the result is a new descriptor or -1.
    let r = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
    owned(libc::c_long::from(r))
}

/// inotify_add_watch(2) on the object behind `target` (through its /proc path): the watch
/// descriptor.
pub(crate) fn inotify_add_watch(
    fd: BorrowedFd<'_>,
    target: BorrowedFd<'_>,
    mask: u32,
) -> io::Result<i32> {
    let path = proc_path(target);
    // SAFETY: valid inotify fd and NUL-terminated path.
    check(unsafe { libc::inotify_add_watch(fd.as_raw_fd(), path.as_ptr(), mask) })
}

/// inotify_rm_watch(2).
pub(crate) fn inotify_rm_watch(fd: BorrowedFd<'_>, wd: i32) -> io::Result<()> {
    // SAFETY: plain integers.
    check(unsafe { libc::inotify_rm_watch(fd.as_raw_fd(), wd) }).map(drop)
}

/// read(2) into `buf`: the bytes read (`WouldBlock` when a non-blocking descriptor has none).
pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: valid fd; the pointer and length describe a live, writable buffer.
    let r = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r as usize)
}

/// readlink(2) of the /proc path of `fd`: where the object behind it is now.
pub(crate) fn fd_location(fd: BorrowedFd<'_>) -> io::Result<std::path::PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let path = proc_path(fd);
    std::fs::read_link(std::ffi::OsStr::from_bytes(path.as_bytes()))
}

/// Registers `fd` with tokio's reactor for readability (must run inside a runtime).
pub(crate) fn async_readable(fd: OwnedFd) -> io::Result<tokio::io::unix::AsyncFd<OwnedFd>> {
    // SAFETY: the OwnedFd owns the descriptor; the AsyncFd keeps it, and nothing else closes or
    // replaces it while it is registered.
    unsafe { tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }
        .map_err(io::Error::from)
}

/// fallocate(2) with FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE: deallocates the range, which
/// then reads as zeros, without changing the size.
pub(crate) fn punch_hole(fd: BorrowedFd<'_>, offset: i64, len: i64) -> io::Result<()> {
    let mode = libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE;
    // SAFETY: valid fd; plain integers.
    check(unsafe { libc::fallocate(fd.as_raw_fd(), mode, offset, len) }).map(drop)
}

/// copy_file_range(2) of up to `len` bytes from `src` at `src_off` to `dst` at `dst_off`;
/// returns the bytes copied (0 at the end of the source).
pub(crate) fn copy_file_range(
    src: BorrowedFd<'_>,
    src_off: i64,
    dst: BorrowedFd<'_>,
    dst_off: i64,
    len: usize,
) -> io::Result<usize> {
    let (mut so, mut d) = (src_off, dst_off);
    // SAFETY: valid fds; the offsets are locals the kernel updates.
    let r =
        unsafe { libc::copy_file_range(src.as_raw_fd(), &mut so, dst.as_raw_fd(), &mut d, len, 0) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// ioctl(FICLONERANGE): `len` bytes of `dst` at `dst_off` share the extents of `src` at
/// `src_off` (0 = to the end of the source).
pub(crate) fn clone_range(
    src: BorrowedFd<'_>,
    src_off: u64,
    dst: BorrowedFd<'_>,
    dst_off: u64,
    len: u64,
) -> io::Result<()> {
    let arg = libc::file_clone_range {
        src_fd: i64::from(src.as_raw_fd()),
        src_offset: src_off,
        src_length: len,
        dest_offset: dst_off,
    };
    // SAFETY: valid fds; the argument is a live, initialised struct the kernel only reads.
    check(unsafe { libc::ioctl(dst.as_raw_fd(), libc::FICLONERANGE, &arg) }).map(drop)
}

/// lseek(2) with SEEK_DATA (`data`) or SEEK_HOLE from `offset`; `None` at ENXIO (no data, or
/// no hole, at or past `offset` before the end of file).
pub(crate) fn seek_data_or_hole(
    fd: BorrowedFd<'_>,
    offset: i64,
    data: bool,
) -> io::Result<Option<u64>> {
    let whence = if data {
        libc::SEEK_DATA
    } else {
        libc::SEEK_HOLE
    };
    // SAFETY: valid fd; plain integers. The file position moves, which no caller relies on
    // (every other access is positional).
    let r = unsafe { libc::lseek(fd.as_raw_fd(), offset, whence) };
    if r >= 0 {
        return Ok(Some(r as u64));
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::ENXIO) {
        Ok(None)
    } else {
        Err(e)
    }
}

/// linkat(2) without following a symlink at `from`.
pub(crate) fn linkat(
    from_dir: BorrowedFd<'_>,
    from: &CStr,
    to_dir: BorrowedFd<'_>,
    to: &CStr,
) -> io::Result<()> {
    // SAFETY: valid fds and NUL-terminated names.
    check(unsafe {
        libc::linkat(
            from_dir.as_raw_fd(),
            from.as_ptr(),
            to_dir.as_raw_fd(),
            to.as_ptr(),
            0,
        )
    })
    .map(drop)
}

/// readlinkat(2): the target of the symbolic link `name` in `dir` (at most PATH_MAX bytes).
pub(crate) fn readlinkat(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: valid fd, NUL-terminated name, and a buffer of the length passed.
    let r = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    buf.truncate(r as usize);
    Ok(buf)
}

/// symlinkat(2): `name` in `dir` becomes a symbolic link to `target`.
pub(crate) fn symlinkat(target: &CStr, dir: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    // SAFETY: NUL-terminated strings and a valid fd.
    check(unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) }).map(drop)
}
