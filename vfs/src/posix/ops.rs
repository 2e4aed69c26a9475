//! The blocking bodies of the [`crate::Vfs`] operations of the POSIX backend.

use super::case_cache::Change;
use super::errors::map_io;
use super::file::{Access, PosixFile};
use super::meta::{self, DosInfo, build_stat, dev_ino, read_dos, write_dos};
use super::resolve::{Located, Root, cstr};
use super::streams::{self, check_not_side};
use super::sys::{self, XattrTarget};
use crate::names::{check_directory_disposition, fold, join, split_path};
use crate::{
    ChangeAction, CreateAction, Disposition, FileStat, FsInfo, Kind, OpenOptions, Opened, VfsError,
    VfsResult, attr, filter,
};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

/// Mode of new directories and files, before the process umask.
const DIR_MODE: u32 = 0o777;
const FILE_MODE: u32 = 0o666;

fn check_kind(kind: Kind, is_dir: bool) -> VfsResult<()> {
    match (kind, is_dir) {
        (Kind::File, true) => Err(VfsError::IsADirectory),
        (Kind::Directory, false) => Err(VfsError::NotADirectory),
        _ => Ok(()),
    }
}

/// What an existing object gets for `disposition` (`Create` was refused before).
pub(crate) fn existing_action(disposition: Disposition) -> CreateAction {
    match disposition {
        Disposition::Open | Disposition::OpenIf | Disposition::Create => CreateAction::Opened,
        Disposition::Overwrite | Disposition::OverwriteIf => CreateAction::Overwritten,
        Disposition::Supersede => CreateAction::Superseded,
    }
}

fn stat_fd(fd: BorrowedFd<'_>) -> VfsResult<FileStat> {
    let st = sys::fstatx(fd).map_err(map_io)?;
    Ok(build_stat(&st, read_dos(XattrTarget::Fd(fd)).as_ref()))
}

/// The modification time the file system gave a file it just created or truncated, as the
/// creation time to store: a new file's four times are then one, as on Windows (smbtorture
/// smb2.timestamps compares a CREATE's CreationTime with the LastWriteTime read after it).
pub(crate) fn created_at(fd: BorrowedFd<'_>) -> VfsResult<u64> {
    let st = sys::fstatx(fd).map_err(map_io)?;
    Ok(build_stat(&st, None).last_write_time)
}

fn opened(
    root: &Arc<Root>,
    fd: OwnedFd,
    path: String,
    is_dir: bool,
    access: Access,
    action: CreateAction,
) -> VfsResult<Opened> {
    let stat = stat_fd(fd.as_fd())?;
    Ok(Opened {
        file: Arc::new(PosixFile::new(
            root.clone(),
            fd,
            path.clone(),
            is_dir,
            access,
            action == CreateAction::Created,
        )),
        action,
        stat,
        path,
        stream_id: 0,
    })
}

/// Reserves `len` bytes for a new or overwritten file; unsupported is ignored.
pub(crate) fn reserve(fd: BorrowedFd<'_>, len: u64) -> VfsResult<()> {
    if len == 0 {
        return Ok(());
    }
    let len = i64::try_from(len).map_err(|_| VfsError::TooLarge)?;
    match sys::fallocate(fd, true, 0, len) {
        Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => Ok(()),
        other => other.map_err(map_io),
    }
}

/// CREATE: opens or creates `path` per `opts` (MS-FSA 2.1.5.1), and reports what it changed.
pub(crate) fn open(root: &Arc<Root>, path: &str, opts: &OpenOptions) -> VfsResult<Opened> {
    let op = root.notify().begin(root, &[path]);
    let r = open_quiet(root, path, opts);
    if let Some(op) = op {
        let change = match &r {
            Ok(o) if o.action == CreateAction::Created => {
                Some((ChangeAction::Added, filter::name(o.stat.is_dir)))
            }
            Ok(o) if o.action != CreateAction::Opened => Some((
                ChangeAction::Modified,
                filter::ATTRIBUTES | filter::SIZE | filter::LAST_WRITE,
            )),
            _ => None,
        };
        match (change, &r) {
            (Some((a, f)), Ok(o)) => op.finish(&[(o.path.as_str(), a, f)]),
            _ => op.finish(&[]),
        }
    }
    r
}

fn open_quiet(root: &Arc<Root>, path: &str, opts: &OpenOptions) -> VfsResult<Opened> {
    let comps = split_path(path)?;
    check_not_side(&comps)?;
    check_directory_disposition(opts)?;
    if comps.is_empty() {
        if opts.disposition == Disposition::Create {
            return Err(VfsError::Exists);
        }
        check_kind(opts.kind, true)?;
        if existing_action(opts.disposition) != CreateAction::Opened {
            return Err(VfsError::IsADirectory);
        }
        let fd = root
            .open_beneath("", libc::O_PATH | libc::O_DIRECTORY)
            .map_err(map_io)?;
        return opened(
            root,
            fd,
            String::new(),
            true,
            Access::PathOnly,
            CreateAction::Opened,
        );
    }
    // A create that loses a race with another creator retries once as an open.
    for _ in 0..2 {
        let loc = root.locate(&comps)?;
        match &loc.disk {
            Some(disk) => return open_existing(root, &loc, disk, opts),
            None => match create_new(root, &loc, opts) {
                Err(VfsError::Exists) if opts.disposition != Disposition::Create => continue,
                other => return other,
            },
        }
    }
    Err(VfsError::Exists)
}

fn open_existing(
    root: &Arc<Root>,
    loc: &Located,
    disk: &str,
    opts: &OpenOptions,
) -> VfsResult<Opened> {
    if opts.disposition == Disposition::Create {
        return Err(VfsError::Exists);
    }
    let full = join(&loc.parent_path, disk);
    if opts.reparse_point
        && let Some(link) = open_symlink_itself(loc, disk)?
    {
        if existing_action(opts.disposition) != CreateAction::Opened || opts.kind == Kind::Directory
        {
            return Err(VfsError::AccessDenied);
        }
        return opened(
            root,
            link,
            full,
            false,
            Access::PathOnly,
            CreateAction::Opened,
        );
    }
    let opath = root.open_beneath(&full, libc::O_PATH).map_err(map_io)?;
    let st = sys::fstatx(opath.as_fd()).map_err(map_io)?;
    let is_dir = meta::is_dir(&st);
    if !is_dir && !meta::is_file(&st) {
        return Err(VfsError::AccessDenied);
    }
    check_kind(opts.kind, is_dir)?;
    let action = existing_action(opts.disposition);
    let truncate = action != CreateAction::Opened;
    if truncate && is_dir {
        return Err(VfsError::IsADirectory);
    }
    let access = if is_dir {
        Access::PathOnly
    } else if opts.write || truncate {
        Access::ReadWrite
    } else if opts.read {
        Access::Read
    } else {
        Access::PathOnly
    };
    let fd = match access {
        Access::PathOnly => opath,
        Access::Read | Access::ReadWrite => {
            let mut flags = if access == Access::Read {
                libc::O_RDONLY
            } else {
                libc::O_RDWR
            };
            if truncate {
                flags |= libc::O_TRUNC;
            }
            // Reopen the very inode checked above through its /proc magic link.
            sys::open_path(&sys::proc_path(opath.as_fd()), flags | libc::O_NOCTTY)
                .map_err(map_io)?
        }
    };
    if truncate {
        let stored = read_dos(XattrTarget::Fd(fd.as_fd()));
        let creation = if action == CreateAction::Superseded {
            created_at(fd.as_fd())?
        } else {
            build_stat(&st, stored.as_ref()).creation_time
        };
        // The extended attributes stay; CREATE replaces them through `set_eas`.
        let dos = DosInfo {
            attributes: (opts.attributes & attr::SETTABLE) | attr::ARCHIVE,
            creation,
            reserved: opts.allocation_size,
            ea_size: stored.map_or(0, |d| d.ea_size),
        };
        write_dos(fd.as_fd(), &dos)?;
        reserve(fd.as_fd(), opts.allocation_size)?;
    }
    opened(root, fd, full, is_dir, access, action)
}

/// The symbolic link `disk` in the located directory, opened itself (O_PATH | O_NOFOLLOW);
/// `None` when it is not a link.
fn open_symlink_itself(loc: &Located, disk: &str) -> VfsResult<Option<OwnedFd>> {
    let name = cstr(disk)?;
    let parent = loc.parent.as_fd();
    let st = sys::statx(parent, &name, libc::AT_SYMLINK_NOFOLLOW).map_err(map_io)?;
    if !meta::is_symlink(&st) {
        return Ok(None);
    }
    sys::openat(parent, &name, libc::O_PATH | libc::O_NOFOLLOW, 0)
        .map(Some)
        .map_err(map_io)
}

fn create_new(root: &Arc<Root>, loc: &Located, opts: &OpenOptions) -> VfsResult<Opened> {
    if matches!(opts.disposition, Disposition::Open | Disposition::Overwrite) {
        return Err(VfsError::NotFound);
    }
    let name = cstr(&loc.name)?;
    let parent = loc.parent.as_fd();
    let is_dir = opts.kind == Kind::Directory;
    let (fd, access) = if is_dir {
        root.changing(parent, Change::Added(&loc.name), || {
            sys::mkdirat(parent, &name, DIR_MODE)
        })
        .map_err(map_io)?;
        let fd = sys::openat(
            parent,
            &name,
            libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW,
            0,
        )
        .map_err(map_io)?;
        (fd, Access::PathOnly)
    } else {
        let flags = libc::O_CREAT | libc::O_EXCL | libc::O_RDWR | libc::O_NOCTTY;
        let fd = root
            .changing(parent, Change::Added(&loc.name), || {
                sys::openat(parent, &name, flags, FILE_MODE)
            })
            .map_err(map_io)?;
        (fd, Access::ReadWrite)
    };
    let mut attributes = opts.attributes & attr::SETTABLE;
    if !is_dir {
        attributes |= attr::ARCHIVE;
        reserve(fd.as_fd(), opts.allocation_size)?;
    }
    let dos = DosInfo {
        attributes,
        creation: created_at(fd.as_fd())?,
        reserved: if is_dir { 0 } else { opts.allocation_size },
        ea_size: 0,
    };
    write_dos(fd.as_fd(), &dos)?;
    let path = join(&loc.parent_path, &loc.name);
    opened(root, fd, path, is_dir, access, CreateAction::Created)
}

/// Metadata of `path`.
pub(crate) fn stat(root: &Root, path: &str) -> VfsResult<FileStat> {
    let comps = split_path(path)?;
    check_not_side(&comps)?;
    let full = if comps.is_empty() {
        String::new()
    } else {
        let loc = root.locate(&comps)?;
        let disk = loc.disk.ok_or(VfsError::NotFound)?;
        join(&loc.parent_path, &disk)
    };
    let fd = root.open_beneath(&full, libc::O_PATH).map_err(map_io)?;
    stat_fd(fd.as_fd())
}

fn map_rename(e: std::io::Error) -> VfsError {
    match e.raw_os_error() {
        // Another mount inside the share, or a directory moved into itself.
        Some(libc::EXDEV | libc::EINVAL) => VfsError::AccessDenied,
        _ => map_io(e),
    }
}

/// Renames `from` to `to` (see [`crate::Vfs::rename`]) and reports it: the old and new names
/// in one directory, or a removal and an addition across directories (MS-FSA 2.1.5.14.11).
pub(crate) fn rename(root: &Root, from: &str, to: &str, replace: bool) -> VfsResult<()> {
    let op = root.notify().begin(root, &[from, to]);
    let r = rename_quiet(root, from, to, replace);
    if let Some(op) = op {
        match &r {
            Ok(m) => {
                let f = filter::name(m.is_dir);
                let (old, new) = if m.same_dir {
                    (ChangeAction::RenamedOldName, ChangeAction::RenamedNewName)
                } else {
                    (ChangeAction::Removed, ChangeAction::Added)
                };
                let touched = if m.is_dir { 0 } else { filter::RENAMED_FILE };
                op.finish(&[
                    (m.from.as_str(), old, f),
                    (m.to.as_str(), new, f),
                    (m.to.as_str(), ChangeAction::Modified, touched),
                ]);
            }
            Err(_) => op.finish(&[]),
        }
    }
    r.map(drop)
}

/// What a rename did, in on-disk names.
struct Moved {
    from: String,
    to: String,
    is_dir: bool,
    same_dir: bool,
}

fn rename_quiet(root: &Root, from: &str, to: &str, replace: bool) -> VfsResult<Moved> {
    let from_comps = split_path(from)?;
    let to_comps = split_path(to)?;
    if from_comps.is_empty() || to_comps.is_empty() {
        return Err(VfsError::AccessDenied);
    }
    check_not_side(&from_comps)?;
    check_not_side(&to_comps)?;
    let src = root.locate(&from_comps)?;
    let src_disk = src.disk.as_deref().ok_or(VfsError::NotFound)?;
    let dst = root.locate(&to_comps)?;
    let src_name = cstr(src_disk)?;
    let new_name = cstr(&dst.name)?;
    let (sp, dp) = (src.parent.as_fd(), dst.parent.as_fd());
    let src_st = sys::statx(sp, &src_name, libc::AT_SYMLINK_NOFOLLOW).map_err(map_io)?;
    let src_short = root.short_name(sp, src_disk)?;
    match dst.disk.as_deref() {
        Some(target) => {
            let target_name = cstr(target)?;
            let tst = sys::statx(dp, &target_name, libc::AT_SYMLINK_NOFOLLOW).map_err(map_io)?;
            if dev_ino(&tst) == dev_ino(&src_st) {
                // The same object: a case-only rename, or a no-op.
                let same_dir = sys::fstatx(sp).map(|s| dev_ino(&s)).ok()
                    == sys::fstatx(dp).map(|s| dev_ino(&s)).ok();
                if !(same_dir && src_disk == dst.name) {
                    sys::renameat2(sp, &src_name, dp, &new_name, false).map_err(map_rename)?;
                }
            } else {
                if !replace {
                    return Err(VfsError::Exists);
                }
                if meta::is_dir(&tst) {
                    return Err(VfsError::AccessDenied);
                }
                sys::renameat2(sp, &src_name, dp, &target_name, false).map_err(map_rename)?;
                if target != dst.name {
                    // Take the case the client asked for; the replace itself already happened.
                    let _ = sys::renameat2(dp, &target_name, dp, &new_name, true);
                }
            }
        }
        None => match sys::renameat2(sp, &src_name, dp, &new_name, true) {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                // The filesystem lacks RENAME_NOREPLACE; the lookup above found no target.
                sys::renameat2(sp, &src_name, dp, &new_name, false).map_err(map_rename)?
            }
            other => other.map_err(map_rename)?,
        },
    }
    root.invalidate(sp);
    root.invalidate(dp);
    if fold(src_disk) != fold(&dst.name) || src.parent_path != dst.parent_path {
        root.tunnel_removed(sp, src_short.as_deref(), src_disk);
    }
    // The file moved; its streams follow (the name it now has, in the case asked for).
    let moved = Moved {
        from: join(&src.parent_path, src_disk),
        to: join(&dst.parent_path, &dst.name),
        is_dir: meta::is_dir(&src_st),
        same_dir: src.parent_path == dst.parent_path,
    };
    if moved.from != moved.to {
        // Best effort: the rename itself is done and must not be reported as failed.
        let _ = streams::moved(root, &moved.from, &moved.to);
    }
    Ok(moved)
}

/// After an open refused as leaving the root: the first symbolic link on `path` that cannot be
/// resolved beneath the root (it leads out, or links are not followed at all), as a
/// [`VfsError::Symlink`]; `Escape` when there is none (a `..` or a link that vanished).
pub(crate) fn symlink_on_path(root: &Root, path: &str) -> VfsError {
    let Ok(comps) = split_path(path) else {
        return VfsError::Escape;
    };
    for i in 0..comps.len() {
        let Ok(loc) = root.locate(&comps[..=i]) else {
            break;
        };
        let Some(disk) = loc.disk.as_deref() else {
            break;
        };
        let Ok(name) = cstr(disk) else { break };
        let Ok(st) = sys::statx(loc.parent.as_fd(), &name, libc::AT_SYMLINK_NOFOLLOW) else {
            break;
        };
        if !meta::is_symlink(&st) {
            continue;
        }
        if root
            .open_beneath(&join(&loc.parent_path, disk), libc::O_PATH)
            .is_ok()
        {
            continue; // followed inside the root: not where the path stops
        }
        return match sys::readlinkat(loc.parent.as_fd(), &name) {
            Ok(t) => match String::from_utf8(t) {
                Ok(target) => VfsError::Symlink(crate::SymlinkStop {
                    component: i,
                    target,
                }),
                Err(_) => VfsError::Escape,
            },
            Err(_) => VfsError::Escape,
        };
    }
    VfsError::Escape
}

/// With a target: the empty file at `path` becomes a symbolic link to it; without: the link
/// at `path` becomes an empty file. The new object is made under a temporary name in the same
/// directory and renamed over the old one.
pub(crate) fn swap_symlink(root: &Root, path: &str, target: Option<&str>) -> VfsResult<()> {
    static TEMP: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let comps = split_path(path)?;
    if comps.is_empty() {
        return Err(VfsError::AccessDenied);
    }
    let loc = root.locate(&comps)?;
    let disk = loc.disk.as_deref().ok_or(VfsError::NotFound)?;
    let name = cstr(disk)?;
    let parent = loc.parent.as_fd();
    let st = sys::statx(parent, &name, libc::AT_SYMLINK_NOFOLLOW).map_err(map_io)?;
    match target {
        Some(_) if meta::is_dir(&st) => return Err(VfsError::IsADirectory),
        Some(_) if !meta::is_file(&st) => return Err(VfsError::AccessDenied),
        Some(_) if st.stx_size != 0 => return Err(VfsError::NotEmpty),
        None if !meta::is_symlink(&st) => return Err(VfsError::AccessDenied),
        _ => {}
    }
    let n = TEMP.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temp = cstr(&format!(".smbd-reparse.{}.{n}", std::process::id()))?;
    match target {
        Some(t) => sys::symlinkat(&cstr(t)?, parent, &temp).map_err(map_io)?,
        None => drop(
            sys::openat(
                parent,
                &temp,
                libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_NOCTTY,
                FILE_MODE,
            )
            .map_err(map_io)?,
        ),
    }
    if let Err(e) = sys::renameat2(parent, &temp, parent, &name, false) {
        let _ = sys::unlinkat(parent, &temp, false);
        return Err(map_io(e));
    }
    root.invalidate(parent);
    Ok(())
}

/// Makes `new` a hard link of the file at `existing`; see [`crate::Vfs::link`]. A replaced
/// target is swapped atomically: the link is made under a temporary name, then renamed over it.
pub(crate) fn link(root: &Root, existing: &str, new: &str, replace: bool) -> VfsResult<()> {
    let op = root.notify().begin(root, &[new]);
    let r = link_quiet(root, existing, new, replace);
    if let Some(op) = op {
        match &r {
            Ok(added) if !added.is_empty() => {
                op.finish(&[(added.as_str(), ChangeAction::Added, filter::name(false))])
            }
            _ => op.finish(&[]),
        }
    }
    r.map(drop)
}

fn link_quiet(root: &Root, existing: &str, new: &str, replace: bool) -> VfsResult<String> {
    static TEMP: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let from_comps = split_path(existing)?;
    let to_comps = split_path(new)?;
    if from_comps.is_empty() || to_comps.is_empty() {
        return Err(VfsError::AccessDenied);
    }
    let src = root.locate(&from_comps)?;
    let src_disk = src.disk.as_deref().ok_or(VfsError::NotFound)?;
    let src_name = cstr(src_disk)?;
    let (sp, dst) = (src.parent.as_fd(), root.locate(&to_comps)?);
    let dp = dst.parent.as_fd();
    let src_st = sys::statx(sp, &src_name, libc::AT_SYMLINK_NOFOLLOW).map_err(map_io)?;
    if meta::is_dir(&src_st) {
        return Err(VfsError::IsADirectory);
    }
    if !meta::is_file(&src_st) {
        return Err(VfsError::AccessDenied);
    }
    let new_name = cstr(&dst.name)?;
    match dst.disk.as_deref() {
        None => sys::linkat(sp, &src_name, dp, &new_name).map_err(map_rename)?,
        Some(target) => {
            let target_name = cstr(target)?;
            let tst = sys::statx(dp, &target_name, libc::AT_SYMLINK_NOFOLLOW).map_err(map_io)?;
            if dev_ino(&tst) == dev_ino(&src_st) {
                return Ok(String::new());
            }
            if !replace {
                return Err(VfsError::Exists);
            }
            if meta::is_dir(&tst) {
                return Err(VfsError::AccessDenied);
            }
            let n = TEMP.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let temp = cstr(&format!(".smbd-link.{}.{n}", std::process::id()))?;
            sys::linkat(sp, &src_name, dp, &temp).map_err(map_rename)?;
            if let Err(e) = sys::renameat2(dp, &temp, dp, &target_name, false) {
                let _ = sys::unlinkat(dp, &temp, false);
                return Err(map_rename(e));
            }
            if target != dst.name {
                // Take the case the client asked for; the replace itself already happened.
                let _ = sys::renameat2(dp, &target_name, dp, &new_name, true);
            }
        }
    }
    root.invalidate(dp);
    Ok(join(&dst.parent_path, &dst.name))
}

/// Removes the file or empty directory at `path`, and reports it.
pub(crate) fn remove(root: &Root, path: &str) -> VfsResult<()> {
    let op = root.notify().begin(root, &[path]);
    let r = remove_quiet(root, path);
    if let Some(op) = op {
        match &r {
            Ok((disk, is_dir)) => {
                op.finish(&[(disk.as_str(), ChangeAction::Removed, filter::name(*is_dir))])
            }
            Err(_) => op.finish(&[]),
        }
    }
    r.map(drop)
}

/// The on-disk path of the directory `path` (for a watch).
pub(crate) fn dir_path(root: &Root, path: &str) -> VfsResult<String> {
    let comps = split_path(path)?;
    if comps.is_empty() {
        return Ok(String::new());
    }
    let loc = root.locate(&comps)?;
    let disk = loc.disk.ok_or(VfsError::NotFound)?;
    let full = join(&loc.parent_path, &disk);
    let fd = root
        .open_beneath(&full, libc::O_PATH | libc::O_DIRECTORY)
        .map_err(map_io)?;
    drop(fd);
    Ok(full)
}

fn remove_quiet(root: &Root, path: &str) -> VfsResult<(String, bool)> {
    let comps = split_path(path)?;
    if comps.is_empty() {
        return Err(VfsError::AccessDenied);
    }
    check_not_side(&comps)?;
    let loc = root.locate(&comps)?;
    let disk = loc.disk.as_deref().ok_or(VfsError::NotFound)?;
    let name = cstr(disk)?;
    let parent = loc.parent.as_fd();
    let st = sys::statx(parent, &name, libc::AT_SYMLINK_NOFOLLOW).map_err(map_io)?;
    let short = root.short_name(parent, disk)?;
    root.changing(parent, Change::Removed(disk), || {
        sys::unlinkat(parent, &name, meta::is_dir(&st))
    })
    .map_err(|e| match e.raw_os_error() {
        Some(libc::ENOTEMPTY | libc::EEXIST) => VfsError::NotEmpty,
        _ => map_io(e),
    })?;
    root.tunnel_removed(parent, short.as_deref(), disk);
    if meta::is_dir(&st) || st.stx_nlink <= 1 {
        // The inode is free: a ChangeTime set on it must not show on the next object the
        // file system gives the number to (its real ctime may fall in the same coarse tick).
        super::change_time::forget(dev_ino(&st));
    }
    let full = join(&loc.parent_path, disk);
    streams::forget(root, &full);
    Ok((full, meta::is_dir(&st)))
}

/// The short name of `path` (see [`crate::Vfs::short_name`]).
pub(crate) fn short_name(root: &Root, path: &str) -> VfsResult<Option<String>> {
    let comps = split_path(path)?;
    if comps.is_empty() {
        return Ok(None);
    }
    check_not_side(&comps)?;
    let loc = root.locate(&comps)?;
    let disk = loc.disk.as_deref().ok_or(VfsError::NotFound)?;
    root.short_name(loc.parent.as_fd(), disk)
}

/// Space figures from fstatvfs of the root.
pub(crate) fn fs_info(root: &Root) -> VfsResult<FsInfo> {
    let s = sys::fstatvfs(root.fd()).map_err(map_io)?;
    let fsid: u64 = s.f_fsid;
    Ok(FsInfo {
        block_size: u32::try_from(s.f_frsize).unwrap_or(4096),
        total_blocks: s.f_blocks,
        available_blocks: s.f_bavail,
        free_blocks: s.f_bfree,
        serial: (fsid ^ (fsid >> 32)) as u32,
    })
}
