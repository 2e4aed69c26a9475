//! The inotify side of the POSIX backend's change notification: one descriptor per share,
//! the map of kernel watches to directories, and the translation of raw events into changes
//! (moves paired into renames, this server's own echoes dropped).

use super::resolve::Root;
use super::sys;
use crate::names::{fold, join};
use crate::{ChangeAction, Watchers, filter};
use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Mutex, MutexGuard};
use tokio::io::unix::AsyncFd;

/// Kernel watches one share holds at most; deeper directories of a big tree go unwatched.
pub(crate) const MAX_KERNEL_WATCHES: usize = 8192;
/// What a kernel watch asks for.
const MASK: u32 = libc::IN_CREATE
    | libc::IN_DELETE
    | libc::IN_MOVED_FROM
    | libc::IN_MOVED_TO
    | libc::IN_MODIFY
    | libc::IN_ATTRIB
    | libc::IN_ONLYDIR
    | libc::IN_EXCL_UNLINK;
/// An external change of inode metadata (chmod, chown, utimes, xattrs) could be any of these.
const ATTRIB_FILTER: u32 =
    filter::ATTRIBUTES | filter::LAST_WRITE | filter::LAST_ACCESS | filter::SECURITY | filter::EA;
/// Bytes read from the inotify descriptor at once.
const READ_CHUNK: usize = 64 * 1024;

/// One change found, to hand to the watches once no lock is held.
pub(super) enum Found {
    Change(String, ChangeAction, u32),
    Overflow,
}

/// The kernel watches of a share: watch descriptor <-> on-disk directory path.
#[derive(Default)]
pub(super) struct Dirs {
    pub(super) by_wd: HashMap<i32, String>,
    by_path: HashMap<String, i32>,
    /// Folded paths that operations of this server are changing right now.
    pub(super) in_flight: Vec<String>,
}

impl Dirs {
    pub(super) fn forget(&mut self, wd: i32) {
        if let Some(p) = self.by_wd.remove(&wd) {
            self.by_path.remove(&p);
        }
    }

    /// Directories at `path` or below it.
    fn under(&self, path: &str) -> Vec<(String, i32)> {
        self.by_path
            .iter()
            .filter(|(p, _)| is_under(p, path))
            .map(|(p, wd)| (p.clone(), *wd))
            .collect()
    }

    /// A watched directory moved from `from` to `to`: its path and those below it follow.
    fn moved(&mut self, from: &str, to: &str) {
        for (p, wd) in self.under(from) {
            let new = format!("{to}{}", &p[from.len()..]);
            self.by_path.remove(&p);
            self.by_path.insert(new.clone(), wd);
            self.by_wd.insert(wd, new);
        }
    }
}

fn is_under(p: &str, dir: &str) -> bool {
    p == dir || (p.len() > dir.len() && p.starts_with(dir) && p.as_bytes()[dir.len()] == b'/')
}

/// One inotify descriptor and the directories it watches.
pub(super) struct Kernel {
    pub(super) fd: AsyncFd<OwnedFd>,
    dirs: Mutex<Dirs>,
}

/// One raw inotify event.
struct Raw {
    wd: i32,
    mask: u32,
    cookie: u32,
    name: String,
}

/// Splits a read of the inotify descriptor into events (names that are not UTF-8 are dropped:
/// no SMB name can refer to them).
fn parse(buf: &[u8], out: &mut Vec<Raw>) {
    let mut at = 0;
    while let Some(head) = buf.get(at..at + 16) {
        let word = |i: usize| u32::from_ne_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        let len = word(12) as usize;
        let Some(name) = buf.get(at + 16..at + 16 + len) else {
            return;
        };
        at += 16 + len;
        let name = name.split(|b| *b == 0).next().unwrap_or_default();
        let Ok(name) = std::str::from_utf8(name) else {
            continue;
        };
        out.push(Raw {
            wd: word(0) as i32,
            mask: word(4),
            cookie: word(8),
            name: name.to_owned(),
        });
    }
}

/// A MOVED_FROM waiting for its MOVED_TO.
struct MovedFrom {
    cookie: u32,
    wd: i32,
    path: String,
    is_dir: bool,
    quiet: bool,
}

impl Kernel {
    /// A kernel over the inotify descriptor `fd`, watching nothing yet.
    pub(super) fn new(fd: AsyncFd<OwnedFd>) -> Self {
        Self {
            fd,
            dirs: Mutex::default(),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Dirs> {
        self.dirs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads every queued event and turns it into changes, dropping those on `touched` or
    /// in-flight paths (this server's own, reported precisely by the operation).
    pub(super) fn read_all(
        &self,
        root: &Root,
        watchers: &Watchers,
        touched: &[String],
    ) -> Vec<Found> {
        let mut dirs = self.lock();
        let mut raw = Vec::new();
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            match sys::read(self.fd.get_ref().as_fd(), &mut buf) {
                Ok(0) => break,
                Ok(n) => parse(&buf[..n], &mut raw),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let mut found = Vec::new();
        let mut from: Option<MovedFrom> = None;
        for e in raw {
            if e.mask & libc::IN_Q_OVERFLOW != 0 {
                found.push(Found::Overflow);
                continue;
            }
            if e.mask & libc::IN_IGNORED != 0 {
                dirs.forget(e.wd);
                continue;
            }
            let Some(dir) = dirs.by_wd.get(&e.wd).cloned() else {
                continue;
            };
            if e.name.is_empty() {
                continue;
            }
            let path = join(&dir, &e.name);
            if super::streams::in_side_tree(&path) {
                continue;
            }
            let folded = fold(&path);
            let quiet = touched.contains(&folded) || dirs.in_flight.contains(&folded);
            let is_dir = e.mask & libc::IN_ISDIR != 0;
            let name_bit = filter::name(is_dir);
            if e.mask & libc::IN_MOVED_TO != 0 {
                match from.take() {
                    Some(f) if f.cookie == e.cookie => {
                        if is_dir {
                            dirs.moved(&f.path, &path);
                        }
                        if !(quiet || f.quiet) {
                            let (old, new) = if f.wd == e.wd {
                                (ChangeAction::RenamedOldName, ChangeAction::RenamedNewName)
                            } else {
                                (ChangeAction::Removed, ChangeAction::Added)
                            };
                            found.push(Found::Change(f.path, old, name_bit));
                            found.push(Found::Change(path.clone(), new, name_bit));
                        }
                    }
                    other => {
                        self.moved_away(&mut dirs, other, &mut found);
                        if !quiet {
                            found.push(Found::Change(path.clone(), ChangeAction::Added, name_bit));
                        }
                    }
                }
                if is_dir {
                    self.add_needed(root, &mut dirs, watchers, &path);
                }
                continue;
            }
            self.moved_away(&mut dirs, from.take(), &mut found);
            let change = if e.mask & libc::IN_MOVED_FROM != 0 {
                from = Some(MovedFrom {
                    cookie: e.cookie,
                    wd: e.wd,
                    path,
                    is_dir,
                    quiet,
                });
                continue;
            } else if e.mask & libc::IN_CREATE != 0 {
                if is_dir {
                    self.add_needed(root, &mut dirs, watchers, &path);
                }
                (ChangeAction::Added, name_bit)
            } else if e.mask & libc::IN_DELETE != 0 {
                (ChangeAction::Removed, name_bit)
            } else if e.mask & libc::IN_MODIFY != 0 {
                (ChangeAction::Modified, filter::LAST_WRITE | filter::SIZE)
            } else if e.mask & libc::IN_ATTRIB != 0 {
                (ChangeAction::Modified, ATTRIB_FILTER)
            } else {
                continue;
            };
            if !quiet {
                found.push(Found::Change(path, change.0, change.1));
            }
        }
        self.moved_away(&mut dirs, from, &mut found);
        found
    }

    /// A MOVED_FROM without its MOVED_TO: the object left the watched directories.
    fn moved_away(&self, dirs: &mut Dirs, from: Option<MovedFrom>, found: &mut Vec<Found>) {
        let Some(f) = from else {
            return;
        };
        if f.is_dir {
            for (_, wd) in dirs.under(&f.path) {
                let _ = sys::inotify_rm_watch(self.fd.get_ref().as_fd(), wd);
                dirs.forget(wd);
            }
        }
        if !f.quiet {
            found.push(Found::Change(
                f.path,
                ChangeAction::Removed,
                filter::name(f.is_dir),
            ));
        }
    }

    /// Watches the new directory `path` and those below it, where some watch needs them.
    fn add_needed(&self, root: &Root, dirs: &mut Dirs, watchers: &Watchers, path: &str) {
        if watchers.covers_dir(path) {
            self.walk(root, dirs, watchers, path);
        }
    }

    /// Watches `dir`, then every directory below it that some watch covers.
    pub(super) fn add_tree(&self, root: &Root, watchers: &Watchers, dir: &str) {
        let mut dirs = self.lock();
        self.walk(root, &mut dirs, watchers, dir);
    }

    fn walk(&self, root: &Root, dirs: &mut Dirs, watchers: &Watchers, dir: &str) {
        let mut stack = vec![dir.to_owned()];
        while let Some(d) = stack.pop() {
            if dirs.by_wd.len() >= MAX_KERNEL_WATCHES {
                return;
            }
            if !dirs.by_path.contains_key(&d) && self.add_one(root, dirs, &d).is_err() {
                continue;
            }
            for sub in subdirs(root, &d) {
                let p = join(&d, &sub);
                if watchers.covers_dir(&p) && !super::streams::in_side_tree(&p) {
                    stack.push(p);
                }
            }
        }
    }

    fn add_one(&self, root: &Root, dirs: &mut Dirs, dir: &str) -> io::Result<()> {
        let fd = root.open_beneath(dir, libc::O_PATH | libc::O_DIRECTORY)?;
        let wd = sys::inotify_add_watch(self.fd.get_ref().as_fd(), fd.as_fd(), MASK)?;
        dirs.forget(wd);
        dirs.by_wd.insert(wd, dir.to_owned());
        dirs.by_path.insert(dir.to_owned(), wd);
        Ok(())
    }
}

/// The names of the directories directly inside `dir` (symlinks are not followed).
fn subdirs(root: &Root, dir: &str) -> Vec<String> {
    let Ok(fd) = root.open_beneath(dir, libc::O_RDONLY | libc::O_DIRECTORY) else {
        return Vec::new();
    };
    let Ok(rd) = std::fs::read_dir(super::resolve::fd_dir_path(fd.as_fd())) else {
        return Vec::new();
    };
    rd.filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect()
}
