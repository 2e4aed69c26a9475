//! Change notification of the POSIX backend.
//!
//! The backend reports its own operations itself, with the precise completion filter, and
//! learns of changes made by other programs from one inotify descriptor per share, read by one
//! tokio task (readiness through `AsyncFd`, the reading and the walks of new directories on the
//! blocking pool): no thread per watch. A directory gets a kernel watch while some watch needs
//! to see inside it (a tree watch: every directory below it, up to [`MAX_KERNEL_WATCHES`]).
//!
//! The kernel also sees this server's own changes. An operation first marks the paths it
//! touches as in flight ([`Notifier::begin`]); once it is done, [`Op::finish`] reads what the
//! kernel queued meanwhile, drops the echoes of those paths (whether the reader task or the
//! operation reads them), and reports the operation's own changes.

use super::blocking;
use super::resolve::Root;
use super::sys;
use crate::names::{fold, join};
use crate::{ChangeAction, ChangeSink, VfsResult, Watch, Watchers, filter};
use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
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
enum Found {
    Change(String, ChangeAction, u32),
    Overflow,
}

/// The kernel watches of a share: watch descriptor <-> on-disk directory path.
#[derive(Default)]
struct Dirs {
    by_wd: HashMap<i32, String>,
    by_path: HashMap<String, i32>,
    /// Folded paths that operations of this server are changing right now.
    in_flight: Vec<String>,
}

impl Dirs {
    fn forget(&mut self, wd: i32) {
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
struct Kernel {
    fd: AsyncFd<OwnedFd>,
    dirs: Mutex<Dirs>,
}

/// The change notification state of one share.
pub(crate) struct Notifier {
    watchers: Arc<Watchers>,
    /// Whether to watch the share folder for changes by other programs.
    kernel_enabled: AtomicBool,
    kernel: OnceLock<Option<Arc<Kernel>>>,
    /// The root's absolute path, to name a handle's file from its descriptor.
    root_abs: OnceLock<Option<PathBuf>>,
}

impl Default for Notifier {
    fn default() -> Self {
        Self {
            watchers: Arc::default(),
            kernel_enabled: AtomicBool::new(true),
            kernel: OnceLock::new(),
            root_abs: OnceLock::new(),
        }
    }
}

/// An operation of this server under way (see [`Notifier::begin`]).
pub(crate) struct Op<'a> {
    root: &'a Root,
    touched: Vec<String>,
}

impl Notifier {
    /// Turns the watching of changes by other programs on or off (before the first watch).
    pub(crate) fn set_kernel(&self, on: bool) {
        self.kernel_enabled.store(on, Ordering::Relaxed);
    }

    fn kernel(&self) -> Option<&Arc<Kernel>> {
        self.kernel.get().and_then(Option::as_ref)
    }

    /// Whether some watch is registered.
    pub(crate) fn watched(&self) -> bool {
        !self.watchers.is_empty()
    }

    /// Marks `paths` (as the operation names them) as being changed by this server; `None`
    /// when nobody watches, so an unwatched share pays one atomic load.
    pub(crate) fn begin<'a>(&self, root: &'a Root, paths: &[&str]) -> Option<Op<'a>> {
        if self.watchers.is_empty() {
            return None;
        }
        let touched: Vec<String> = paths.iter().map(|p| fold(p)).collect();
        if let Some(k) = self.kernel() {
            k.lock().in_flight.extend(touched.iter().cloned());
        }
        Some(Op { root, touched })
    }

    /// The path of the object behind `fd` relative to the root, `None` once it is deleted or
    /// outside the root.
    pub(crate) fn path_of(&self, root: BorrowedFd<'_>, fd: BorrowedFd<'_>) -> Option<String> {
        let base = self
            .root_abs
            .get_or_init(|| sys::fd_location(root).ok())
            .as_ref()?;
        let here = sys::fd_location(fd).ok()?;
        let rel = here.strip_prefix(base).ok()?.to_str()?.to_owned();
        (!rel.ends_with(" (deleted)")).then_some(rel)
    }

    fn deliver(&self, found: Vec<Found>) {
        for f in found {
            match f {
                Found::Change(path, action, filter) => {
                    self.watchers.dispatch(&path, action, filter)
                }
                Found::Overflow => self.watchers.overflow_all(),
            }
        }
    }
}

impl Op<'_> {
    /// The operation is done: drops the kernel's echoes of it and reports `changes` (paths
    /// relative to the root, as stored).
    pub(crate) fn finish(self, changes: &[(&str, ChangeAction, u32)]) {
        let n = self.root.notify();
        if let Some(k) = n.kernel() {
            let found = k.read_all(self.root, &n.watchers, &self.touched);
            let mut dirs = k.lock();
            for t in &self.touched {
                if let Some(i) = dirs.in_flight.iter().position(|p| p == t) {
                    dirs.in_flight.swap_remove(i);
                }
            }
            drop(dirs);
            n.deliver(found);
        }
        for (path, action, filter) in changes {
            if *filter != 0 {
                n.watchers.dispatch(path, *action, *filter);
            }
        }
    }
}

/// Starts a watch of the on-disk directory `dir` (see [`crate::Vfs::watch`]).
pub(crate) async fn watch(
    root: &Arc<Root>,
    dir: String,
    recursive: bool,
    sink: Arc<dyn ChangeSink>,
) -> VfsResult<Watch> {
    let n = root.notify();
    let kernel = n
        .kernel
        .get_or_init(|| start_kernel(root, n.kernel_enabled.load(Ordering::Relaxed)))
        .clone();
    let weak = Arc::downgrade(root);
    let watch = n.watchers.watch(&dir, recursive, sink, move || {
        if let Some(root) = weak.upgrade() {
            root.notify().prune();
        }
    });
    if let Some(k) = kernel {
        let r = root.clone();
        blocking(move || {
            k.add_tree(&r, &dir);
            Ok(())
        })
        .await?;
    }
    Ok(watch)
}

impl Notifier {
    /// Removes the kernel watches no watch needs any more.
    fn prune(&self) {
        let Some(k) = self.kernel() else {
            return;
        };
        let mut dirs = k.lock();
        let stale: Vec<(i32, String)> = dirs
            .by_wd
            .iter()
            .filter(|(_, p)| !self.watchers.covers_dir(p))
            .map(|(wd, p)| (*wd, p.clone()))
            .collect();
        for (wd, _) in stale {
            let _ = sys::inotify_rm_watch(k.fd.get_ref().as_fd(), wd);
            dirs.forget(wd);
        }
    }
}

/// Opens the inotify descriptor and starts its reader; `None` when turned off or unavailable.
fn start_kernel(root: &Arc<Root>, enabled: bool) -> Option<Arc<Kernel>> {
    if !enabled || tokio::runtime::Handle::try_current().is_err() {
        return None;
    }
    // Without inotify, changes by other programs go unseen; the server's own still report.
    let fd = sys::inotify_init().and_then(sys::async_readable).ok()?;
    let k = Arc::new(Kernel {
        fd,
        dirs: Mutex::default(),
    });
    tokio::spawn(reader(k.clone(), Arc::downgrade(root)));
    Some(k)
}

/// The one task that reads a share's inotify descriptor.
async fn reader(k: Arc<Kernel>, root: Weak<Root>) {
    loop {
        let Ok(mut guard) = k.fd.readable().await else {
            return;
        };
        let Some(r) = root.upgrade() else {
            return;
        };
        let k2 = k.clone();
        let found = tokio::task::spawn_blocking(move || {
            let found = k2.read_all(&r, &r.notify().watchers, &[]);
            r.notify().deliver(found);
        })
        .await;
        guard.clear_ready();
        if found.is_err() {
            return;
        }
    }
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
    fn lock(&self) -> MutexGuard<'_, Dirs> {
        self.dirs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads every queued event and turns it into changes, dropping those on `touched` or
    /// in-flight paths (this server's own, reported precisely by the operation).
    fn read_all(&self, root: &Root, watchers: &Watchers, touched: &[String]) -> Vec<Found> {
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
    fn add_tree(&self, root: &Root, dir: &str) {
        let watchers = root.notify().watchers.clone();
        let mut dirs = self.lock();
        self.walk(root, &mut dirs, &watchers, dir);
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
                if watchers.covers_dir(&p) {
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
