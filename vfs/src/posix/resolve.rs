//! Confined, case-insensitive path resolution beneath the share root.
//!
//! Every open goes through [`Root::open_beneath`]: openat2(2) with RESOLVE_BENEATH |
//! RESOLVE_NO_MAGICLINKS relative to the root's O_PATH descriptor, so symlinks that stay inside
//! the root work and ones that leave it fail (EXDEV -> `Escape`). Without openat2 (ENOSYS) the
//! path is walked one component at a time with O_NOFOLLOW and symlinks are refused.

use super::case_cache::{CaseCache, Change, DirKey, Lookup, Mtime};
use super::errors::map_io;
use super::meta::{dev_ino, is_symlink, mtime_ns};
use super::sys;
use crate::names::{fold, join};
use crate::short_names;
use crate::tunnel::Tunnel;
use crate::{VfsError, VfsResult};
use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Directories whose names the case cache holds at most.
const CASE_CACHE_DIRS: usize = 4096;
/// Locks that serialise this server's changes of one directory (chosen by inode).
const CHANGE_STRIPES: usize = 64;

/// A name as a C string (names never hold NUL: paths are checked first).
pub(crate) fn cstr(name: &str) -> VfsResult<CString> {
    CString::new(name).map_err(|_| VfsError::InvalidName)
}

/// `/proc/self/fd/N` as a filesystem path.
pub(crate) fn fd_dir_path(fd: BorrowedFd<'_>) -> std::path::PathBuf {
    Path::new(OsStr::from_bytes(sys::proc_path(fd).as_bytes())).to_path_buf()
}

/// Where the last component of a path is, or would be.
pub(crate) struct Located {
    /// The parent directory (O_PATH).
    pub(crate) parent: OwnedFd,
    /// The parent's path in on-disk case.
    pub(crate) parent_path: String,
    /// The last component as the client gave it, or, when nothing has that name and it is a
    /// short name freed a moment ago, the long name that had it (tunneling).
    pub(crate) name: String,
    /// The existing entry's on-disk name, if one folds alike.
    pub(crate) disk: Option<String>,
}

/// The share root and the state shared by all opens beneath it.
pub(crate) struct Root {
    fd: OwnedFd,
    cache: Mutex<CaseCache>,
    change_locks: [Mutex<()>; CHANGE_STRIPES],
    openat2: AtomicBool,
    notify: super::notify::Notifier,
    tunnel: Tunnel<DirKey>,
}

impl Root {
    /// Wraps an O_PATH descriptor of the root; probes openat2 unless told not to use it.
    pub(crate) fn new(fd: OwnedFd, try_openat2: bool) -> Self {
        let usable = try_openat2
            && match sys::openat2_beneath(fd.as_fd(), c".", libc::O_PATH | libc::O_DIRECTORY, 0) {
                Ok(_) => true,
                Err(e) => !matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)),
            };
        Self {
            fd,
            cache: Mutex::new(CaseCache::new(CASE_CACHE_DIRS)),
            change_locks: std::array::from_fn(|_| Mutex::new(())),
            openat2: AtomicBool::new(usable),
            notify: super::notify::Notifier::default(),
            tunnel: Tunnel::default(),
        }
    }

    /// The share's change notification state.
    pub(crate) fn notify(&self) -> &super::notify::Notifier {
        &self.notify
    }

    /// Whether paths resolve with openat2 (symlinks inside the root followed); without it every
    /// symlink is refused.
    pub(crate) fn uses_openat2(&self) -> bool {
        self.openat2.load(Ordering::Relaxed)
    }

    /// The root descriptor.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    fn cache(&self) -> MutexGuard<'_, CaseCache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens the on-disk relative path `disk` ("" = the root) with `flags`, never leaving the root.
    pub(crate) fn open_beneath(&self, disk: &str, flags: libc::c_int) -> io::Result<OwnedFd> {
        let rel = if disk.is_empty() { "." } else { disk };
        let c = CString::new(rel).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        if self.openat2.load(Ordering::Relaxed) {
            match sys::openat2_beneath(self.fd(), &c, flags, 0) {
                Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
                    self.openat2.store(false, Ordering::Relaxed);
                }
                other => return other,
            }
        }
        self.walk_no_symlinks(disk, flags)
    }

    /// The fallback: one openat per component, O_NOFOLLOW everywhere, symlinks refused (ELOOP).
    fn walk_no_symlinks(&self, disk: &str, flags: libc::c_int) -> io::Result<OwnedFd> {
        if disk.is_empty() {
            return sys::openat(self.fd(), c".", flags, 0);
        }
        let comps: Vec<&str> = disk.split('/').collect();
        let mut cur: Option<OwnedFd> = None;
        for (i, comp) in comps.iter().enumerate() {
            if comp.is_empty() || *comp == "." || *comp == ".." {
                return Err(io::Error::from_raw_os_error(libc::EXDEV));
            }
            let name =
                CString::new(*comp).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
            let dir = cur.as_ref().map_or(self.fd(), |f| f.as_fd());
            let last = i + 1 == comps.len();
            let fd = if last {
                sys::openat(dir, &name, flags | libc::O_NOFOLLOW, 0)?
            } else {
                sys::openat(
                    dir,
                    &name,
                    libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW,
                    0,
                )?
            };
            if last && flags & libc::O_PATH != 0 && is_symlink(&sys::fstatx(fd.as_fd())?) {
                return Err(io::Error::from_raw_os_error(libc::ELOOP));
            }
            cur = Some(fd);
        }
        cur.ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
    }

    /// The on-disk name in `dir` that folds like `name`: the exact name if present (one statx),
    /// else through the case cache; failing that, for a name of the generated short form, the
    /// name whose short name it is. `None` if there is none.
    pub(crate) fn find_name(&self, dir: BorrowedFd<'_>, name: &str) -> VfsResult<Option<String>> {
        match sys::statx(dir, &cstr(name)?, libc::AT_SYMLINK_NOFOLLOW) {
            Ok(_) => return Ok(Some(name.to_owned())),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(e) => return Err(map_io(e)),
        }
        let folded = fold(name);
        let hit = |l: Lookup| match l {
            Lookup::Hit(found) => Some(found),
            Lookup::Stale => None,
        };
        let found = self
            .cached(dir, |c, key, mtime| hit(c.lookup(key, mtime, &folded)))?
            .flatten();
        if found.is_some() || !short_names::looks_generated(name) {
            return Ok(found);
        }
        Ok(self
            .cached(dir, |c, key, mtime| hit(c.lookup_short(key, mtime, name)))?
            .flatten())
    }

    /// The short name of `disk`, a name in directory `dir` (see [`crate::short_names`]).
    pub(crate) fn short_name(&self, dir: BorrowedFd<'_>, disk: &str) -> VfsResult<Option<String>> {
        if short_names::is_8_3(disk) {
            return Ok(None);
        }
        let found = self.cached(dir, |c, key, mtime| c.short_of(key, mtime, disk))?;
        Ok(found.unwrap_or_else(|| short_names::alone(disk)))
    }

    /// Asks `ask` of the case cache's current entry for directory `dir` (`None` from it: absent
    /// or out of date), scanning the directory into the cache when needed. `None` only if the
    /// entry went again before it could be asked.
    fn cached<T>(
        &self,
        dir: BorrowedFd<'_>,
        ask: impl Fn(&mut CaseCache, DirKey, Mtime) -> Option<T>,
    ) -> VfsResult<Option<T>> {
        let (key, mtime) = self.dir_version(dir).map_err(map_io)?;
        if let Some(found) = ask(&mut self.cache(), key, mtime) {
            return Ok(Some(found));
        }
        // Rescan with this directory's changes held off, so that the names listed are exactly
        // those of the mtime recorded with them; a scan finished meanwhile by another thread
        // is used instead of a second one.
        let _serial = self.change_lock(key);
        let (_, mtime) = self.dir_version(dir).map_err(map_io)?;
        if let Some(found) = ask(&mut self.cache(), key, mtime) {
            return Ok(Some(found));
        }
        let names = list_names(dir)?;
        let mut cache = self.cache();
        cache.insert(key, mtime, names);
        Ok(ask(&mut cache, key, mtime))
    }

    /// Remembers that `disk`, whose short name was `short`, left directory `dir` (tunneling,
    /// see [`crate::tunnel`]).
    pub(crate) fn tunnel_removed(&self, dir: BorrowedFd<'_>, short: Option<&str>, disk: &str) {
        if let (Some(short), Ok((key, _))) = (short, self.dir_version(dir)) {
            self.tunnel.record(key, short, disk);
        }
    }

    /// Forgets the cached names of directory `dir` (after this server changed it).
    pub(crate) fn invalidate(&self, dir: BorrowedFd<'_>) {
        if let Ok((key, _)) = self.dir_version(dir) {
            self.cache().invalidate(key);
        }
    }

    /// The lock that serialises this server's changes and rescans of directory `key`.
    fn change_lock(&self, key: DirKey) -> MutexGuard<'_, ()> {
        let stripe = (key.0 ^ key.1.rotate_left(17)) as usize % CHANGE_STRIPES;
        self.change_locks[stripe]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// The identity and mtime of directory `dir`.
    fn dir_version(&self, dir: BorrowedFd<'_>) -> io::Result<(DirKey, Mtime)> {
        sys::fstatx(dir).map(|st| (dev_ino(&st), mtime_ns(&st)))
    }

    /// Runs `op`, a change of directory `dir` by this server, and records it in the case cache
    /// in place ([`CaseCache::apply`]). Changes of one directory are serialised here (by a lock
    /// stripe of its inode; the kernel serialises them anyway) so that the versions taken
    /// before and after belong to this change alone.
    pub(crate) fn changing<T>(
        &self,
        dir: BorrowedFd<'_>,
        change: Change<'_>,
        op: impl FnOnce() -> io::Result<T>,
    ) -> io::Result<T> {
        let Ok((key, _)) = self.dir_version(dir) else {
            return op();
        };
        let _serial = self.change_lock(key);
        let before = self.dir_version(dir);
        let result = op()?;
        match (before, self.dir_version(dir)) {
            (Ok((k, was)), Ok((now_key, now))) if k == now_key => {
                self.cache().apply(k, was, now, change)
            }
            _ => self.cache().invalidate(key),
        }
        Ok(result)
    }

    /// Opens the directory named by `comps` (O_PATH) and returns its on-disk path. A missing
    /// component, or one that is not a directory, is `PathNotFound`.
    pub(crate) fn resolve_dir(&self, comps: &[&str]) -> VfsResult<(OwnedFd, String)> {
        let given = comps.join("/");
        let dir_flags = libc::O_PATH | libc::O_DIRECTORY;
        match self.open_beneath(&given, dir_flags) {
            Ok(fd) => return Ok((fd, given)),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {}
            Err(e) => return Err(map_io(e)),
        }
        let mut cur = self.open_beneath("", dir_flags).map_err(map_io)?;
        let mut path = String::new();
        for comp in comps {
            let disk = self
                .find_name(cur.as_fd(), comp)?
                .ok_or(VfsError::PathNotFound)?;
            path = join(&path, &disk);
            cur = self
                .open_beneath(&path, dir_flags)
                .map_err(|e| match e.raw_os_error() {
                    Some(libc::ENOENT | libc::ENOTDIR) => VfsError::PathNotFound,
                    _ => map_io(e),
                })?;
        }
        Ok((cur, path))
    }

    /// Resolves the parent of non-empty `comps` and looks up the last component in it.
    pub(crate) fn locate(&self, comps: &[&str]) -> VfsResult<Located> {
        let (name, dirs) = comps.split_last().ok_or(VfsError::InvalidName)?;
        let (parent, parent_path) = self.resolve_dir(dirs)?;
        let disk = self.find_name(parent.as_fd(), name)?;
        let mut name = (*name).to_owned();
        if disk.is_none() && short_names::looks_generated(&name) {
            // A short name freed a moment ago brings its long name back (tunneling).
            let tunneled = match self.dir_version(parent.as_fd()) {
                Ok((key, _)) => self.tunnel.long_name(key, &name),
                Err(_) => None,
            };
            if let Some(long) = tunneled
                && self.find_name(parent.as_fd(), &long)?.is_none()
            {
                name = long;
            }
        }
        Ok(Located {
            parent,
            parent_path,
            name,
            disk,
        })
    }
}

/// The UTF-8 names in directory `dir` (others cannot be named by a client and are skipped).
fn list_names(dir: BorrowedFd<'_>) -> VfsResult<Vec<String>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fd_dir_path(dir)).map_err(map_io)? {
        let entry = entry.map_err(map_io)?;
        if let Ok(name) = entry.file_name().into_string() {
            out.push(name);
        }
    }
    Ok(out)
}
