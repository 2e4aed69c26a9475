//! Change notification of the POSIX backend.
//!
//! The backend reports its own operations itself, with the precise completion filter, and
//! learns of changes made by other programs from one inotify descriptor per share, read by one
//! tokio task (readiness through `AsyncFd`, the reading and the walks of new directories on the
//! blocking pool): no thread per watch. A directory gets a kernel watch while some watch needs
//! to see inside it (a tree watch: every directory below it, up to `inotify::MAX_KERNEL_WATCHES`).
//!
//! The kernel also sees this server's own changes. An operation first marks the paths it
//! touches as in flight ([`Notifier::begin`]); once it is done, [`Op::finish`] reads what the
//! kernel queued meanwhile, drops the echoes of those paths (whether the reader task or the
//! operation reads them), and reports the operation's own changes.

use super::blocking;
use super::inotify::{Found, Kernel};
use super::resolve::Root;
use super::sys;
use crate::names::fold;
use crate::{ChangeAction, ChangeSink, VfsResult, Watch, Watchers};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};

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
            // The side tree is not part of the share's namespace: a change of a stream's data
            // file is the stream's (`file:stream`), and its directories are nothing.
            if super::streams::in_side_tree(path) {
                if let Some(stream) = super::streams::stream_path(path) {
                    n.watchers.dispatch(&stream, *action, *filter);
                }
                continue;
            }
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
            k.add_tree(&r, &r.notify().watchers, &dir);
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
    let k = Arc::new(Kernel::new(fd));
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
