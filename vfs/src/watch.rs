//! Change notification across the storage seam (MS-FSA 2.1.5.11, 2.1.4.1): what changed, where,
//! and the registry of directory watches both backends report to.
//!
//! A backend reports every change made through it (its own operations, with the precise
//! completion filter) and, where it can see them, changes made by others (the POSIX backend reads
//! inotify). Each change is a path relative to the share root; [`Watchers::dispatch`] hands it
//! to every watch of a directory that holds it (a tree watch: at any depth), named relative to
//! that directory.

use crate::names::fold;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// FILE_NOTIFY_CHANGE_* completion filter bits (MS-SMB2 2.2.35, MS-FSCC 2.4.42).
pub mod filter {
    /// FILE_NOTIFY_CHANGE_FILE_NAME: a file created, removed or renamed.
    pub const FILE_NAME: u32 = 0x0001;
    /// FILE_NOTIFY_CHANGE_DIR_NAME: a directory created, removed or renamed.
    pub const DIR_NAME: u32 = 0x0002;
    /// FILE_NOTIFY_CHANGE_ATTRIBUTES.
    pub const ATTRIBUTES: u32 = 0x0004;
    /// FILE_NOTIFY_CHANGE_SIZE.
    pub const SIZE: u32 = 0x0008;
    /// FILE_NOTIFY_CHANGE_LAST_WRITE.
    pub const LAST_WRITE: u32 = 0x0010;
    /// FILE_NOTIFY_CHANGE_LAST_ACCESS.
    pub const LAST_ACCESS: u32 = 0x0020;
    /// FILE_NOTIFY_CHANGE_CREATION.
    pub const CREATION: u32 = 0x0040;
    /// FILE_NOTIFY_CHANGE_EA.
    pub const EA: u32 = 0x0080;
    /// FILE_NOTIFY_CHANGE_SECURITY.
    pub const SECURITY: u32 = 0x0100;
    /// FILE_NOTIFY_CHANGE_STREAM_NAME.
    pub const STREAM_NAME: u32 = 0x0200;
    /// FILE_NOTIFY_CHANGE_STREAM_SIZE.
    pub const STREAM_SIZE: u32 = 0x0400;
    /// FILE_NOTIFY_CHANGE_STREAM_WRITE.
    pub const STREAM_WRITE: u32 = 0x0800;
    /// Every defined bit.
    pub const ALL: u32 = 0x0fff;
    /// What a renamed file reports under its new name beside the name change: Windows sets
    /// its ARCHIVE attribute (smbtorture smb2.notify.mask-change expects the MODIFIED).
    pub const RENAMED_FILE: u32 = ATTRIBUTES;
    /// The name bit for an object: DIR_NAME for a directory, FILE_NAME for a file.
    pub fn name(is_dir: bool) -> u32 {
        if is_dir { DIR_NAME } else { FILE_NAME }
    }

    /// The bits a change of times reports (MS-FSA 2.1.5.14.2): one per time set; the change
    /// time alone reports nothing.
    pub fn times(t: &crate::SetTimes) -> u32 {
        let mut f = 0;
        if t.creation.is_some() {
            f |= CREATION;
        }
        if t.last_access.is_some() {
            f |= LAST_ACCESS;
        }
        if t.last_write.is_some() {
            f |= LAST_WRITE;
        }
        f
    }

    /// The bit a change of the named metadata blob reports: SECURITY for the descriptor, EA
    /// for anything else.
    pub fn meta(name: &str) -> u32 {
        if name == "security.sd" { SECURITY } else { EA }
    }
}

/// What happened to a name (FILE_NOTIFY_INFORMATION Action, MS-FSCC 2.7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeAction {
    /// FILE_ACTION_ADDED.
    Added,
    /// FILE_ACTION_REMOVED.
    Removed,
    /// FILE_ACTION_MODIFIED.
    Modified,
    /// FILE_ACTION_RENAMED_OLD_NAME.
    RenamedOldName,
    /// FILE_ACTION_RENAMED_NEW_NAME.
    RenamedNewName,
    /// FILE_ACTION_ADDED_STREAM.
    AddedStream,
    /// FILE_ACTION_REMOVED_STREAM.
    RemovedStream,
    /// FILE_ACTION_MODIFIED_STREAM.
    ModifiedStream,
}

impl ChangeAction {
    /// The wire value.
    pub fn code(self) -> u32 {
        match self {
            Self::Added => 1,
            Self::Removed => 2,
            Self::Modified => 3,
            Self::RenamedOldName => 4,
            Self::RenamedNewName => 5,
            Self::AddedStream => 6,
            Self::RemovedStream => 7,
            Self::ModifiedStream => 8,
        }
    }
}

/// A change of a named stream as NTFS reports it (MS-FSCC 2.7.1): a stream added or removed
/// is FILE_ACTION_ADDED_STREAM / REMOVED_STREAM under FILE_NOTIFY_CHANGE_STREAM_NAME, and a
/// change of its data FILE_ACTION_MODIFIED_STREAM under STREAM_SIZE and STREAM_WRITE. The
/// file's own attributes, times and metadata are the file's changes, not the stream's, and
/// drop out (a filter of 0: nothing to report).
pub(crate) fn stream_change(action: ChangeAction, f: u32) -> (ChangeAction, u32) {
    let mut out = 0;
    if f & (filter::FILE_NAME | filter::DIR_NAME | filter::STREAM_NAME) != 0 {
        out |= filter::STREAM_NAME;
    }
    if f & (filter::SIZE | filter::STREAM_SIZE) != 0 {
        out |= filter::STREAM_SIZE;
    }
    if f & (filter::LAST_WRITE | filter::STREAM_WRITE) != 0 {
        out |= filter::STREAM_WRITE;
    }
    let action = match action {
        ChangeAction::Added | ChangeAction::RenamedNewName => ChangeAction::AddedStream,
        ChangeAction::Removed | ChangeAction::RenamedOldName => ChangeAction::RemovedStream,
        ChangeAction::Modified => ChangeAction::ModifiedStream,
        other => other,
    };
    (action, out)
}

/// Where a watch's changes go. Called from any thread, possibly with backend locks held: keep
/// it short and never call back into the backend.
pub trait ChangeSink: Send + Sync + 'static {
    /// `name` (relative to the watched directory, `/`-separated) changed as `action`;
    /// `filter` holds the FILE_NOTIFY_CHANGE_* bits the change matches.
    fn change(&self, name: &str, action: ChangeAction, filter: u32);

    /// Changes were lost (the kernel's queue overflowed): the watcher must re-read the directory.
    fn overflow(&self);
}

/// A registered watch; dropping it ends the watch.
pub struct Watch {
    end: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl Watch {
    /// A watch that runs `end` when dropped.
    pub fn new(end: impl FnOnce() + Send + Sync + 'static) -> Self {
        Self {
            end: Some(Box::new(end)),
        }
    }

    /// A watch that never reports (a backend that cannot watch).
    pub fn inert() -> Self {
        Self { end: None }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(end) = self.end.take() {
            end();
        }
    }
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watch")
    }
}

/// One registered watch.
struct Watcher {
    id: u64,
    /// The watched directory's components, folded ("" = the root: none).
    dir: Vec<String>,
    recursive: bool,
    sink: Arc<dyn ChangeSink>,
}

/// The watches of one share, and the one place changes are matched to them.
#[derive(Default)]
pub struct Watchers {
    list: Mutex<Vec<Watcher>>,
    next: AtomicU64,
    live: AtomicUsize,
}

/// A directory path as folded components.
fn folded_comps(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|c| !c.is_empty())
        .map(fold)
        .collect()
}

impl Watchers {
    fn lock(&self) -> MutexGuard<'_, Vec<Watcher>> {
        self.list.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a watch of directory `dir` (and, `recursive`, everything below it); returns
    /// its id for [`Watchers::remove`].
    pub fn add(&self, dir: &str, recursive: bool, sink: Arc<dyn ChangeSink>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().push(Watcher {
            id,
            dir: folded_comps(dir),
            recursive,
            sink,
        });
        self.live.fetch_add(1, Ordering::Release);
        id
    }

    /// Ends watch `id`.
    pub fn remove(&self, id: u64) {
        let mut list = self.lock();
        let before = list.len();
        list.retain(|w| w.id != id);
        if list.len() != before {
            self.live.fetch_sub(1, Ordering::Release);
        }
    }

    /// Whether no watch is registered (a cheap check before any work to report a change).
    pub fn is_empty(&self) -> bool {
        self.live.load(Ordering::Acquire) == 0
    }

    /// Whether some watch needs to see changes directly inside directory `dir`.
    pub fn covers_dir(&self, dir: &str) -> bool {
        let comps = folded_comps(dir);
        self.lock().iter().any(|w| {
            comps.len() >= w.dir.len()
                && comps[..w.dir.len()] == w.dir[..]
                && (w.recursive || comps.len() == w.dir.len())
        })
    }

    /// Reports that `path` (relative to the share root) changed to every watch that holds it.
    /// A path whose last component names a stream (`file:stream`) reports the change as the
    /// stream's (see [`stream_change`]).
    pub fn dispatch(&self, path: &str, action: ChangeAction, filter: u32) {
        if self.is_empty() {
            return;
        }
        let last = path.rsplit('/').next().unwrap_or(path);
        let (action, filter) = if last.contains(':') {
            stream_change(action, filter)
        } else {
            (action, filter)
        };
        if filter == 0 {
            return;
        }
        let raw: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
        let comps: Vec<String> = raw.iter().map(|c| fold(c)).collect();
        let targets: Vec<(Arc<dyn ChangeSink>, String)> = self
            .lock()
            .iter()
            .filter(|w| {
                comps.len() > w.dir.len()
                    && comps[..w.dir.len()] == w.dir[..]
                    && (w.recursive || comps.len() == w.dir.len() + 1)
            })
            .map(|w| (w.sink.clone(), raw[w.dir.len()..].join("/")))
            .collect();
        for (sink, name) in targets {
            sink.change(&name, action, filter);
        }
    }

    /// Tells every watch that changes were lost.
    pub fn overflow_all(&self) {
        let sinks: Vec<Arc<dyn ChangeSink>> = self.lock().iter().map(|w| w.sink.clone()).collect();
        for s in sinks {
            s.overflow();
        }
    }

    /// Registers a watch and wraps it in a [`Watch`] that removes it when dropped, after which
    /// `ended` runs (a backend's clean-up of kernel watches).
    pub fn watch(
        self: &Arc<Self>,
        dir: &str,
        recursive: bool,
        sink: Arc<dyn ChangeSink>,
        ended: impl FnOnce() + Send + Sync + 'static,
    ) -> Watch {
        let id = self.add(dir, recursive, sink);
        let me = self.clone();
        Watch::new(move || {
            me.remove(id);
            ended();
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Log(Mutex<Vec<(String, ChangeAction, u32)>>);

    impl ChangeSink for Log {
        fn change(&self, name: &str, action: ChangeAction, filter: u32) {
            self.0
                .lock()
                .unwrap()
                .push((name.to_owned(), action, filter));
        }
        fn overflow(&self) {}
    }

    #[test]
    fn dispatch_names_relative_to_the_watch() {
        let w = Arc::new(Watchers::default());
        let flat = Arc::new(Log::default());
        let tree = Arc::new(Log::default());
        let _a = w.watch("Dir", false, flat.clone(), || {});
        let _b = w.watch("", true, tree.clone(), || {});
        w.dispatch("dir/x", ChangeAction::Added, filter::FILE_NAME);
        w.dispatch("dir/sub/y", ChangeAction::Removed, filter::FILE_NAME);
        w.dispatch("dir", ChangeAction::Modified, filter::ATTRIBUTES);
        let flat = flat.0.lock().unwrap().clone();
        assert_eq!(
            flat,
            vec![("x".into(), ChangeAction::Added, filter::FILE_NAME)]
        );
        let names: Vec<String> = tree.0.lock().unwrap().iter().map(|e| e.0.clone()).collect();
        assert_eq!(names, ["dir/x", "dir/sub/y", "dir"]);
        assert!(w.covers_dir("dir/sub"));
    }

    #[test]
    fn dropping_the_watch_ends_it() {
        let w = Arc::new(Watchers::default());
        let log = Arc::new(Log::default());
        let watch = w.watch("", false, log.clone(), || {});
        drop(watch);
        assert!(w.is_empty());
        w.dispatch("x", ChangeAction::Added, filter::FILE_NAME);
        assert!(log.0.lock().unwrap().is_empty());
    }
}
