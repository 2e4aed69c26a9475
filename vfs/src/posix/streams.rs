//! Named data streams of the POSIX backend, kept in a side tree inside the share folder.
//!
//! The streams of the file or directory at on-disk path `P` are the regular files `:NAME` of the
//! directory `.smbd-streams/P` (the share root's own streams are in `.smbd-streams` itself). A
//! `:` never starts a file name a client can give, so a stream never meets the mirror directory
//! of a child. The side tree is plain files and directories: `cp -a`, rsync and tar of the share
//! folder carry the streams along, with no size limit (xattrs are limited to one block on ext4).
//! Renames and removes of a file by this server move or remove its side directory too; the side
//! tree is never listed and no SMB path reaches it ([`check_not_side`]). Every step is an
//! `openat` relative to a descriptor below the root, with `O_NOFOLLOW`, so a symlink planted in
//! the side tree leads nowhere.

use super::errors::map_io;
use super::file::{Access, PosixFile};
use super::meta::{self, build_stat, read_dos};
use super::ops::{existing_action, reserve};
use super::resolve::{Root, cstr, fd_dir_path};
use super::sys::{self, XattrTarget};
use crate::names::{fold, join, split_path};
use crate::streams::{StreamFile, check_stream_name, stream_stat};
use crate::{
    ChangeAction, CreateAction, Disposition, Kind, OpenOptions, Opened, StreamInfo, VfsError,
    VfsResult, filter,
};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

/// The side tree's directory in the share root.
pub(crate) const SIDE_DIR: &str = ".smbd-streams";
/// Mode of the side tree's directories and stream files (the share's owner only).
const SIDE_DIR_MODE: u32 = 0o700;
const STREAM_MODE: u32 = 0o600;
/// Flags of a directory step in the side tree.
const DIR_STEP: libc::c_int = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW;

/// Refuses a path into the side tree: no SMB path reaches it.
pub(crate) fn check_not_side(comps: &[&str]) -> VfsResult<()> {
    if comps.first().is_some_and(|c| fold(c) == fold(SIDE_DIR)) {
        return Err(VfsError::InvalidName);
    }
    Ok(())
}

/// Whether the on-disk path `path` (relative to the share root) lies in the side tree, which
/// change notify never reports.
pub(crate) fn in_side_tree(path: &str) -> bool {
    let first = path.split('/').find(|c| !c.is_empty()).unwrap_or("");
    fold(first) == fold(SIDE_DIR)
}

/// The stream a side-tree path names, as change notify reports it: `.smbd-streams/P/:NAME`
/// is `P:NAME`; `None` for the side tree's directories.
pub(crate) fn stream_path(side: &str) -> Option<String> {
    let rest = side.trim_start_matches('/');
    let rest = rest.split_once('/').map_or("", |(_, r)| r);
    let (parent, last) = rest.rsplit_once('/').unwrap_or(("", rest));
    last.starts_with(':').then(|| format!("{parent}{last}"))
}

/// Reports changes of streams (`file:stream` paths) to the share's watches.
fn report(root: &Root, changes: &[(&str, ChangeAction, u32)]) {
    if let Some(op) = root.notify().begin(root, &[]) {
        op.finish(changes);
    }
}

/// The disk name of stream `name`.
fn disk_name(name: &str) -> String {
    format!(":{name}")
}

/// The existing file or directory at `path`: its on-disk path and an O_PATH descriptor.
fn base(root: &Root, path: &str) -> VfsResult<(String, OwnedFd)> {
    let comps = split_path(path)?;
    check_not_side(&comps)?;
    let disk = if comps.is_empty() {
        String::new()
    } else {
        let loc = root.locate(&comps)?;
        join(&loc.parent_path, &loc.disk.ok_or(VfsError::NotFound)?)
    };
    let fd = root.open_beneath(&disk, libc::O_PATH).map_err(map_io)?;
    let st = sys::fstatx(fd.as_fd()).map_err(map_io)?;
    if !(meta::is_dir(&st) || meta::is_file(&st)) {
        return Err(VfsError::AccessDenied);
    }
    Ok((disk, fd))
}

/// The side directory of on-disk path `disk`; with `create`, missing directories are made.
/// `None` when it does not exist (and was not to be made).
fn side_dir(root: &Root, disk: &str, create: bool) -> VfsResult<Option<OwnedFd>> {
    let mut cur = root
        .open_beneath("", libc::O_PATH | libc::O_DIRECTORY)
        .map_err(map_io)?;
    let steps = std::iter::once(SIDE_DIR).chain(disk.split('/').filter(|c| !c.is_empty()));
    for step in steps {
        let name = cstr(step)?;
        let next = match sys::openat(cur.as_fd(), &name, DIR_STEP, 0) {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) && create => {
                match sys::mkdirat(cur.as_fd(), &name, SIDE_DIR_MODE) {
                    Err(e) if e.raw_os_error() != Some(libc::EEXIST) => return Err(map_io(e)),
                    _ => {}
                }
                sys::openat(cur.as_fd(), &name, DIR_STEP, 0).map_err(map_io)?
            }
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {
                return Ok(None);
            }
            Err(e) => return Err(map_io(e)),
        };
        cur = next;
    }
    Ok(Some(cur))
}

/// The disk names of the stream files in side directory `dir`.
fn stream_files(dir: BorrowedFd<'_>) -> VfsResult<Vec<String>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fd_dir_path(dir)).map_err(map_io)? {
        let entry = entry.map_err(map_io)?;
        if let Ok(name) = entry.file_name().into_string()
            && name.starts_with(':')
        {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

/// The disk name of the stream of `dir` whose name folds like `name`.
fn find(dir: BorrowedFd<'_>, name: &str) -> VfsResult<Option<String>> {
    let exact = disk_name(name);
    match sys::statx(dir, &cstr(&exact)?, libc::AT_SYMLINK_NOFOLLOW) {
        Ok(_) => return Ok(Some(exact)),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
        Err(e) => return Err(map_io(e)),
    }
    let folded = fold(name);
    Ok(stream_files(dir)?
        .into_iter()
        .find(|n| fold(&n[1..]) == folded))
}

/// See [`crate::Vfs::open_stream`].
pub(crate) fn open(
    root: &Arc<Root>,
    path: &str,
    stream: &str,
    opts: &OpenOptions,
) -> VfsResult<Opened> {
    check_stream_name(stream)?;
    if opts.kind == Kind::Directory {
        return Err(VfsError::NotADirectory);
    }
    let (disk, base_fd) = base(root, path)?;
    let creates = !matches!(opts.disposition, Disposition::Open | Disposition::Overwrite);
    let side = side_dir(root, &disk, creates)?.ok_or(VfsError::NotFound)?;
    let (name, fd, action) = match find(side.as_fd(), stream)? {
        Some(name) => {
            if opts.disposition == Disposition::Create {
                return Err(VfsError::Exists);
            }
            let action = existing_action(opts.disposition);
            let mut flags = libc::O_RDWR | libc::O_NOFOLLOW | libc::O_NOCTTY;
            if action != CreateAction::Opened {
                flags |= libc::O_TRUNC;
            }
            let fd = sys::openat(side.as_fd(), &cstr(&name)?, flags, 0).map_err(map_io)?;
            (name, fd, action)
        }
        None => {
            if matches!(opts.disposition, Disposition::Open | Disposition::Overwrite) {
                return Err(VfsError::NotFound);
            }
            let name = disk_name(stream);
            let flags =
                libc::O_CREAT | libc::O_EXCL | libc::O_RDWR | libc::O_NOFOLLOW | libc::O_NOCTTY;
            let fd =
                sys::openat(side.as_fd(), &cstr(&name)?, flags, STREAM_MODE).map_err(
                    |e| match e.raw_os_error() {
                        Some(libc::ENAMETOOLONG) => VfsError::InvalidName,
                        _ => map_io(e),
                    },
                )?;
            (name, fd, CreateAction::Created)
        }
    };
    let data_st = sys::fstatx(fd.as_fd()).map_err(map_io)?;
    if !meta::is_file(&data_st) {
        return Err(VfsError::AccessDenied);
    }
    if action != CreateAction::Opened {
        reserve(fd.as_fd(), opts.allocation_size)?;
    }
    let base_st = sys::fstatx(base_fd.as_fd()).map_err(map_io)?;
    let base_stat = build_stat(
        &base_st,
        read_dos(XattrTarget::Fd(base_fd.as_fd())).as_ref(),
    );
    let data_stat = build_stat(&data_st, None);
    let stat = stream_stat(base_stat, &data_stat);
    let side_path = join(&join(SIDE_DIR, &disk), &name);
    let data = PosixFile::new(root.clone(), fd, side_path, false, Access::ReadWrite, false);
    let is_dir = meta::is_dir(&base_st);
    let base_file = PosixFile::new(
        root.clone(),
        base_fd,
        disk.clone(),
        is_dir,
        Access::PathOnly,
        false,
    );
    let named = format!("{disk}{name}");
    match action {
        CreateAction::Created => report(
            root,
            &[(named.as_str(), ChangeAction::Added, filter::STREAM_NAME)],
        ),
        CreateAction::Opened => {}
        _ => report(
            root,
            &[(
                named.as_str(),
                ChangeAction::Modified,
                filter::STREAM_SIZE | filter::STREAM_WRITE,
            )],
        ),
    }
    Ok(Opened {
        file: Arc::new(StreamFile::new(Arc::new(base_file), Arc::new(data))),
        action,
        stat,
        path: disk,
        stream_id: data_st.stx_ino,
    })
}

/// See [`crate::Vfs::list_streams`].
pub(crate) fn list(root: &Root, path: &str) -> VfsResult<Vec<StreamInfo>> {
    let (disk, _) = base(root, path)?;
    let Some(side) = side_dir(root, &disk, false)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for name in stream_files(side.as_fd())? {
        let Ok(st) = sys::statx(side.as_fd(), &cstr(&name)?, libc::AT_SYMLINK_NOFOLLOW) else {
            continue;
        };
        if !meta::is_file(&st) || check_stream_name(&name[1..]).is_err() {
            continue;
        }
        let stat = build_stat(&st, None);
        out.push(StreamInfo {
            name: name[1..].to_owned(),
            size: stat.size,
            allocation_size: stat.allocation_size,
        });
    }
    Ok(out)
}

/// See [`crate::Vfs::remove_stream`].
pub(crate) fn remove(root: &Root, path: &str, stream: &str) -> VfsResult<()> {
    check_stream_name(stream)?;
    let (disk, _) = base(root, path)?;
    let side = side_dir(root, &disk, false)?.ok_or(VfsError::NotFound)?;
    let name = find(side.as_fd(), stream)?.ok_or(VfsError::NotFound)?;
    sys::unlinkat(side.as_fd(), &cstr(&name)?, false).map_err(map_io)?;
    let named = format!("{disk}{name}");
    report(
        root,
        &[(named.as_str(), ChangeAction::Removed, filter::STREAM_NAME)],
    );
    Ok(())
}

/// See [`crate::Vfs::rename_stream`].
pub(crate) fn rename(
    root: &Root,
    path: &str,
    from: &str,
    to: &str,
    replace: bool,
) -> VfsResult<()> {
    check_stream_name(from)?;
    check_stream_name(to)?;
    let (disk, _) = base(root, path)?;
    let side = side_dir(root, &disk, false)?.ok_or(VfsError::NotFound)?;
    let src = find(side.as_fd(), from)?.ok_or(VfsError::NotFound)?;
    let dir = side.as_fd();
    if let Some(dst) = find(dir, to)?
        && dst != src
    {
        if !replace {
            return Err(VfsError::Exists);
        }
        sys::unlinkat(dir, &cstr(&dst)?, false).map_err(map_io)?;
    }
    let dst = disk_name(to);
    sys::renameat2(dir, &cstr(&src)?, dir, &cstr(&dst)?, false).map_err(map_io)?;
    let (old, new) = (format!("{disk}{src}"), format!("{disk}{dst}"));
    report(
        root,
        &[
            (old.as_str(), ChangeAction::Removed, filter::STREAM_NAME),
            (new.as_str(), ChangeAction::Added, filter::STREAM_NAME),
        ],
    );
    Ok(())
}

/// Removes the side directory of the file or directory that was at on-disk path `disk`, with
/// everything below it (best effort: the file is gone already).
pub(crate) fn forget(root: &Root, disk: &str) {
    let (parent, name) = split_last(disk);
    if let Ok(Some(dir)) = side_dir(root, parent, false) {
        let _ = remove_tree(dir.as_fd(), name);
    }
}

/// Moves the side directory of `from` to that of `to` (on-disk paths) after the file moved;
/// whatever side directory `to` had (a replaced file's) goes first.
pub(crate) fn moved(root: &Root, from: &str, to: &str) -> VfsResult<()> {
    let (from_parent, from_name) = split_last(from);
    let (to_parent, to_name) = split_last(to);
    let Some(src_dir) = side_dir(root, from_parent, false)? else {
        forget(root, to);
        return Ok(());
    };
    let from_c = cstr(from_name)?;
    if sys::statx(src_dir.as_fd(), &from_c, libc::AT_SYMLINK_NOFOLLOW).is_err() {
        forget(root, to);
        return Ok(());
    }
    if fold(from) != fold(to) {
        forget(root, to);
    }
    let dst_dir = side_dir(root, to_parent, true)?.ok_or(VfsError::NotFound)?;
    sys::renameat2(
        src_dir.as_fd(),
        &from_c,
        dst_dir.as_fd(),
        &cstr(to_name)?,
        false,
    )
    .map_err(map_io)
}

/// `disk` split into its parent and last component ("" and the name at the root).
fn split_last(disk: &str) -> (&str, &str) {
    disk.rsplit_once('/').unwrap_or(("", disk))
}

/// Removes `name` in `dir` and, for a directory, everything below it, never following a
/// symlink.
fn remove_tree(dir: BorrowedFd<'_>, name: &str) -> std::io::Result<()> {
    let c = std::ffi::CString::new(name).map_err(|_| std::io::ErrorKind::InvalidInput)?;
    let st = sys::statx(dir, &c, libc::AT_SYMLINK_NOFOLLOW)?;
    if !meta::is_dir(&st) {
        return sys::unlinkat(dir, &c, false);
    }
    let sub = sys::openat(dir, &c, DIR_STEP, 0)?;
    for entry in std::fs::read_dir(fd_dir_path(sub.as_fd()))? {
        if let Ok(child) = entry?.file_name().into_string() {
            remove_tree(sub.as_fd(), &child)?;
        }
    }
    sys::unlinkat(dir, &c, true)
}
