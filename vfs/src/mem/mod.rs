//! In-memory backend, for the server's unit tests: a tree behind one mutex, nothing persisted.
//!
//! A removed file stays readable through handles already open on it, as on POSIX.
//!
//! Watches see every change made through the filesystem, whoever makes it: a test that changes
//! a `MemFs` directly plays the part of a local program changing the share folder.

mod file;
mod streams;
mod tree;

use crate::names::{check_directory_disposition, join, now_filetime, split_path};
use crate::tunnel::Tunnel;
use crate::{
    ChangeAction, ChangeSink, CreateAction, Disposition, FileStat, FsInfo, Kind, OpenOptions,
    Opened, StreamInfo, Vfs, VfsError, VfsResult, Watch, Watchers, attr, filter,
};
use async_trait::async_trait;
use file::MemFile;
use std::sync::{Arc, Mutex, MutexGuard};
use tree::{Data, ROOT, Tree};

/// Total size the memory backend reports, in bytes.
const CAPACITY: u64 = 4 << 30;

/// An in-memory filesystem.
#[derive(Clone)]
pub struct MemFs {
    tree: Arc<Mutex<Tree>>,
    watchers: Arc<Watchers>,
    /// Snapshots by name ([`MemFs::add_snapshot`]).
    snapshots: Arc<Mutex<std::collections::BTreeMap<String, Self>>>,
    /// Short names freed a moment ago, by directory id.
    tunnel: Arc<Tunnel<u64>>,
}

impl Default for MemFs {
    fn default() -> Self {
        Self::new()
    }
}

impl MemFs {
    /// An empty filesystem (just the root directory).
    pub fn new() -> Self {
        Self {
            tree: Arc::new(Mutex::new(Tree::new())),
            watchers: Arc::default(),
            snapshots: Arc::default(),
            tunnel: Arc::default(),
        }
    }

    /// Adds `fs` as the snapshot `name` (an `@GMT-…` name) of this filesystem.
    pub fn add_snapshot(&self, name: &str, fs: Self) {
        self.snapshots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_owned(), fs);
    }

    fn lock(&self) -> MutexGuard<'_, Tree> {
        lock_tree(&self.tree)
    }

    fn opened(
        &self,
        tree: &Tree,
        id: u64,
        action: CreateAction,
        path: String,
    ) -> VfsResult<Opened> {
        let stat = tree.node(id)?.stat(id);
        let created = action == CreateAction::Created;
        let file = MemFile::new(self.tree.clone(), id, self.watchers.clone(), created);
        Ok(Opened {
            file: Arc::new(file),
            action,
            stat,
            path,
            stream_id: 0,
        })
    }
}

/// Locks the tree, recovering from a panicked holder (the tree stays consistent per operation).
pub(crate) fn lock_tree(tree: &Mutex<Tree>) -> MutexGuard<'_, Tree> {
    tree.lock().unwrap_or_else(|p| p.into_inner())
}

/// What an existing object gets for `disposition` (`Create` was refused before).
pub(crate) fn existing_action(disposition: Disposition) -> CreateAction {
    match disposition {
        Disposition::Open | Disposition::OpenIf | Disposition::Create => CreateAction::Opened,
        Disposition::Overwrite | Disposition::OverwriteIf => CreateAction::Overwritten,
        Disposition::Supersede => CreateAction::Superseded,
    }
}

/// Checks an existing object against the requested kind.
fn check_kind(kind: Kind, is_dir: bool) -> VfsResult<()> {
    match (kind, is_dir) {
        (Kind::File, true) => Err(VfsError::IsADirectory),
        (Kind::Directory, false) => Err(VfsError::NotADirectory),
        _ => Ok(()),
    }
}

#[async_trait]
impl Vfs for MemFs {
    async fn open(&self, path: &str, opts: &OpenOptions) -> VfsResult<Opened> {
        let opened = self.open_locked(path, opts)?;
        let (action, filter) = match opened.action {
            CreateAction::Opened => return Ok(opened),
            CreateAction::Created => (ChangeAction::Added, filter::name(opened.stat.is_dir)),
            CreateAction::Overwritten | CreateAction::Superseded => (
                ChangeAction::Modified,
                filter::ATTRIBUTES | filter::SIZE | filter::LAST_WRITE,
            ),
        };
        self.watchers.dispatch(&opened.path, action, filter);
        Ok(opened)
    }

    async fn stat(&self, path: &str) -> VfsResult<FileStat> {
        let comps = split_path(path)?;
        let tree = self.lock();
        let id = if comps.is_empty() {
            ROOT
        } else {
            tree.locate(&comps)?.existing.ok_or(VfsError::NotFound)?
        };
        Ok(tree.node(id)?.stat(id))
    }

    async fn rename(&self, from: &str, to: &str, replace: bool) -> VfsResult<()> {
        let (old, new, is_dir, same_dir) = self.rename_locked(from, to, replace)?;
        let f = filter::name(is_dir);
        if same_dir {
            self.watchers
                .dispatch(&old, ChangeAction::RenamedOldName, f);
            self.watchers
                .dispatch(&new, ChangeAction::RenamedNewName, f);
        } else {
            self.watchers.dispatch(&old, ChangeAction::Removed, f);
            self.watchers.dispatch(&new, ChangeAction::Added, f);
        }
        if !is_dir {
            self.watchers
                .dispatch(&new, ChangeAction::Modified, filter::RENAMED_FILE);
        }
        Ok(())
    }

    async fn remove(&self, path: &str) -> VfsResult<()> {
        let (disk, is_dir) = self.remove_locked(path)?;
        self.watchers
            .dispatch(&disk, ChangeAction::Removed, filter::name(is_dir));
        Ok(())
    }

    async fn short_name(&self, path: &str) -> VfsResult<Option<String>> {
        let comps = split_path(path)?;
        if comps.is_empty() {
            return Ok(None);
        }
        let tree = self.lock();
        let l = tree.locate(&comps)?;
        let id = l.existing.ok_or(VfsError::NotFound)?;
        // The node's own name, in the case it was created with.
        let name = &tree.node(id)?.name;
        let name = if crate::names::fold(name) == l.key {
            name
        } else {
            &l.key
        };
        Ok(tree.short_name_in(l.parent, name))
    }

    async fn fs_info(&self) -> VfsResult<FsInfo> {
        let used = self.lock().used_bytes();
        let total = CAPACITY / tree::BLOCK;
        let free = CAPACITY.saturating_sub(used) / tree::BLOCK;
        Ok(FsInfo {
            block_size: tree::BLOCK as u32,
            total_blocks: total,
            available_blocks: free,
            free_blocks: free,
            serial: 0x4d45_4d46,
        })
    }

    async fn watch(
        &self,
        dir: &str,
        recursive: bool,
        sink: Arc<dyn ChangeSink>,
    ) -> VfsResult<Watch> {
        if !self.stat(dir).await?.is_dir {
            return Err(VfsError::NotADirectory);
        }
        Ok(self.watchers.watch(dir, recursive, sink, || {}))
    }

    async fn open_stream(&self, path: &str, stream: &str, opts: &OpenOptions) -> VfsResult<Opened> {
        self.open_stream_now(path, stream, opts)
    }

    async fn list_streams(&self, path: &str) -> VfsResult<Vec<StreamInfo>> {
        self.list_streams_now(path)
    }

    async fn remove_stream(&self, path: &str, stream: &str) -> VfsResult<()> {
        self.remove_stream_now(path, stream)
    }

    async fn rename_stream(
        &self,
        path: &str,
        from: &str,
        to: &str,
        replace: bool,
    ) -> VfsResult<()> {
        self.rename_stream_now(path, from, to, replace)
    }

    async fn snapshots(&self) -> VfsResult<Vec<String>> {
        let snaps = self.snapshots.lock().unwrap_or_else(|p| p.into_inner());
        Ok(snaps.keys().rev().cloned().collect())
    }

    async fn snapshot(&self, name: &str) -> VfsResult<Arc<dyn Vfs>> {
        let snaps = self.snapshots.lock().unwrap_or_else(|p| p.into_inner());
        match snaps.get(name) {
            Some(fs) => Ok(Arc::new(fs.clone())),
            None => Err(VfsError::NotFound),
        }
    }

    async fn link(&self, existing: &str, new: &str, replace: bool) -> VfsResult<()> {
        let from = split_path(existing)?;
        let to = split_path(new)?;
        if from.is_empty() || to.is_empty() {
            return Err(VfsError::AccessDenied);
        }
        let mut tree = self.lock();
        let src = tree.locate(&from)?.existing.ok_or(VfsError::NotFound)?;
        if tree.node(src)?.is_dir() {
            return Err(VfsError::IsADirectory);
        }
        let dst = tree.locate(&to)?;
        let name = to.last().copied().unwrap_or_default();
        match dst.existing {
            Some(target) if target == src => return Ok(()),
            Some(_) if !replace => return Err(VfsError::Exists),
            Some(target) => {
                if tree.node(target)?.is_dir() {
                    return Err(VfsError::AccessDenied);
                }
                tree.unlink(dst.parent, &dst.key, target)?;
            }
            None => {}
        }
        tree.link(src, dst.parent, name)?;
        let added = tree.path_of(src).unwrap_or_default();
        drop(tree);
        self.watchers
            .dispatch(&added, ChangeAction::Added, filter::name(false));
        Ok(())
    }
}

impl MemFs {
    /// CREATE under the tree lock (see [`Vfs::open`]).
    fn open_locked(&self, path: &str, opts: &OpenOptions) -> VfsResult<Opened> {
        let comps = split_path(path)?;
        check_directory_disposition(opts)?;
        let mut tree = self.lock();
        let located = if comps.is_empty() {
            None
        } else {
            Some(tree.locate(&comps)?)
        };
        let existing = match &located {
            None => Some(ROOT),
            Some(l) => l.existing,
        };
        match existing {
            Some(id) => {
                let node = tree.node(id)?;
                let is_dir = node.is_dir();
                let disk_path = match &located {
                    Some(l) => join(&l.parent_path, &node.name),
                    None => String::new(),
                };
                if opts.disposition == Disposition::Create {
                    return Err(VfsError::Exists);
                }
                check_kind(opts.kind, is_dir)?;
                let action = existing_action(opts.disposition);
                if action != CreateAction::Opened {
                    if is_dir {
                        return Err(VfsError::IsADirectory);
                    }
                    let now = now_filetime();
                    let node = tree.node_mut(id)?;
                    node.data = Data::File(Vec::new());
                    node.attributes = (opts.attributes & attr::SETTABLE) | attr::ARCHIVE;
                    node.reserved = opts.allocation_size;
                    node.write = now;
                    node.change = now;
                    if action == CreateAction::Superseded {
                        node.creation = now;
                    }
                }
                self.opened(&tree, id, action, disk_path)
            }
            None => {
                if matches!(opts.disposition, Disposition::Open | Disposition::Overwrite) {
                    return Err(VfsError::NotFound);
                }
                let (Some(l), Some(name)) = (located, comps.last()) else {
                    return Err(VfsError::NotFound);
                };
                let name = &self.new_name(&tree, l.parent, name);
                let is_dir = opts.kind == Kind::Directory;
                let attributes = if is_dir {
                    opts.attributes
                } else {
                    opts.attributes | attr::ARCHIVE
                };
                let id = tree.create(l.parent, name, is_dir, attributes);
                if !is_dir {
                    tree.node_mut(id)?.reserved = opts.allocation_size;
                }
                self.opened(&tree, id, CreateAction::Created, join(&l.parent_path, name))
            }
        }
    }

    /// Renames under the tree lock: the old and new paths as stored, whether it is a
    /// directory, and whether it stayed in its directory.
    fn rename_locked(
        &self,
        from: &str,
        to: &str,
        replace: bool,
    ) -> VfsResult<(String, String, bool, bool)> {
        let from_comps = split_path(from)?;
        let to_comps = split_path(to)?;
        if from_comps.is_empty() || to_comps.is_empty() {
            return Err(VfsError::AccessDenied);
        }
        let mut tree = self.lock();
        let src = tree
            .locate(&from_comps)?
            .existing
            .ok_or(VfsError::NotFound)?;
        let dst = tree.locate(&to_comps)?;
        let asked = to_comps.last().copied().unwrap_or_default();
        let new_name = match dst.existing {
            Some(_) => asked.to_owned(),
            None => self.new_name(&tree, dst.parent, asked),
        };
        let new_name = new_name.as_str();
        if tree.is_within(dst.parent, src) {
            return Err(VfsError::AccessDenied);
        }
        match dst.existing {
            Some(target) if target == src => {}
            Some(target) => {
                if !replace {
                    return Err(VfsError::Exists);
                }
                if tree.node(target)?.is_dir() {
                    return Err(VfsError::AccessDenied);
                }
                tree.unlink(dst.parent, &dst.key, target)?;
            }
            None => {}
        }
        let old = tree.path_of(src).unwrap_or_default();
        let src_loc = tree.locate(&from_comps)?;
        let src_parent = src_loc.parent;
        let short = tree.short_name_in(src_parent, &src_loc.key);
        let src_name = tree.node(src)?.name.clone();
        tree.unlink(src_parent, &src_loc.key, src)?;
        if src_parent != dst.parent || src_loc.key != crate::names::fold(new_name) {
            self.tunnel_removed(src_parent, short, &src_name);
        }
        tree.link(src, dst.parent, new_name)?;
        let new = tree.path_of(src).unwrap_or_default();
        let is_dir = tree.node(src)?.is_dir();
        Ok((old, new, is_dir, src_parent == dst.parent))
    }

    /// Removes under the tree lock: the path as stored and whether it was a directory.
    fn remove_locked(&self, path: &str) -> VfsResult<(String, bool)> {
        let comps = split_path(path)?;
        if comps.is_empty() {
            return Err(VfsError::AccessDenied);
        }
        let mut tree = self.lock();
        let located = tree.locate(&comps)?;
        let id = located.existing.ok_or(VfsError::NotFound)?;
        if let Data::Dir(children) = &tree.node(id)?.data
            && !children.is_empty()
        {
            return Err(VfsError::NotEmpty);
        }
        let is_dir = tree.node(id)?.is_dir();
        let disk = tree.path_of(id).unwrap_or_default();
        let short = tree.short_name_in(located.parent, &located.key);
        let name = tree.node(id)?.name.clone();
        tree.unlink(located.parent, &located.key, id)?;
        self.tunnel_removed(located.parent, short, &name);
        Ok((disk, is_dir))
    }

    /// The name a new entry `asked` of directory `dir` gets: the long name a short name freed a
    /// moment ago had (tunneling), else `asked`.
    fn new_name(&self, tree: &Tree, dir: u64, asked: &str) -> String {
        if crate::short_names::looks_generated(asked)
            && let Some(long) = self.tunnel.long_name(dir, asked)
            && tree.child(dir, &long).is_none()
        {
            return long;
        }
        asked.to_owned()
    }

    /// Remembers that `name`, whose short name was `short`, left directory `dir`.
    fn tunnel_removed(&self, dir: u64, short: Option<String>, name: &str) {
        if let Some(short) = short {
            self.tunnel.record(dir, &short, name);
        }
    }
}
