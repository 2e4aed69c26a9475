//! An open handle on a memory node.

use super::lock_tree;
use super::tree::{BLOCK, Data, MAX_FILE_SIZE, Tree};
use crate::listing::ListingCache;
use crate::names::now_filetime;
use crate::{
    ChangeAction, DirEntry, FileRef, FileStat, SetTimes, VfsError, VfsFile, VfsResult, Watchers,
    attr, filter,
};
use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// One open memory file or directory.
pub(crate) struct MemFile {
    tree: Arc<Mutex<Tree>>,
    id: u64,
    /// The directory listing taken at the first `read_dir` (or the last restart).
    listing: ListingCache,
    /// Where changes made through the handle are reported.
    watchers: Arc<Watchers>,
    /// The handle created its file and has not changed it since: the creator's first metadata
    /// (its descriptor) is part of the creation, not a change of its own.
    initial: AtomicBool,
}

impl MemFile {
    /// A handle on node `id`; `created` when the open created it.
    pub(crate) fn new(
        tree: Arc<Mutex<Tree>>,
        id: u64,
        watchers: Arc<Watchers>,
        created: bool,
    ) -> Self {
        Self {
            tree,
            id,
            listing: ListingCache::default(),
            watchers,
            initial: AtomicBool::new(created),
        }
    }

    /// Reports a change of this file to the watches (nothing when unwatched or unlinked).
    fn report(&self, filter: u32) {
        self.initial.store(false, Ordering::Relaxed);
        if self.watchers.is_empty() || filter == 0 {
            return;
        }
        let path = lock_tree(&self.tree).path_of(self.id);
        if let Some(path) = path {
            self.watchers
                .dispatch(&path, ChangeAction::Modified, filter);
        }
    }

    fn snapshot(&self) -> VfsResult<Vec<(String, FileStat)>> {
        let tree = lock_tree(&self.tree);
        let Data::Dir(children) = &tree.node(self.id)?.data else {
            return Err(VfsError::NotADirectory);
        };
        let mut out = Vec::with_capacity(children.len());
        for &child in children.values() {
            let node = tree.node(child)?;
            out.push((node.name.clone(), node.stat(child)));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn with_file<T>(&self, f: impl FnOnce(&mut Vec<u8>) -> VfsResult<T>) -> VfsResult<T> {
        let mut tree = lock_tree(&self.tree);
        match &mut tree.node_mut(self.id)?.data {
            Data::File(bytes) => f(bytes),
            Data::Dir(_) => Err(VfsError::IsADirectory),
        }
    }

    fn touch_write(&self) -> VfsResult<()> {
        let now = now_filetime();
        let mut tree = lock_tree(&self.tree);
        let node = tree.node_mut(self.id)?;
        node.write = now;
        node.change = now;
        Ok(())
    }
}

/// Checks that `offset + len` stays within the memory backend's file size limit.
fn end_of(offset: u64, len: usize) -> VfsResult<usize> {
    let end = offset.checked_add(len as u64).ok_or(VfsError::TooLarge)?;
    if end > MAX_FILE_SIZE {
        return Err(VfsError::TooLarge);
    }
    usize::try_from(end).map_err(|_| VfsError::TooLarge)
}

#[async_trait]
impl VfsFile for MemFile {
    async fn stat(&self) -> VfsResult<FileStat> {
        let tree = lock_tree(&self.tree);
        Ok(tree.node(self.id)?.stat(self.id))
    }

    async fn read_at(&self, offset: u64, len: usize) -> VfsResult<Vec<u8>> {
        self.with_file(|bytes| {
            let start = usize::try_from(offset)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            let end = start.saturating_add(len).min(bytes.len());
            Ok(bytes.get(start..end).unwrap_or_default().to_vec())
        })
    }

    async fn write_at(&self, offset: u64, data: Vec<u8>) -> VfsResult<usize> {
        let end = end_of(offset, data.len())?;
        let start = end - data.len();
        let grew = self.with_file(|bytes| {
            let grew = bytes.len() < end;
            if grew {
                bytes.resize(end, 0);
            }
            if let Some(dst) = bytes.get_mut(start..end) {
                dst.copy_from_slice(&data);
            }
            Ok(grew)
        })?;
        self.touch_write()?;
        let size = if grew { filter::SIZE } else { 0 };
        self.report(filter::LAST_WRITE | size);
        Ok(data.len())
    }

    async fn flush(&self) -> VfsResult<()> {
        lock_tree(&self.tree).node(self.id).map(drop)
    }

    async fn set_len(&self, len: u64) -> VfsResult<()> {
        let new_len = end_of(len, 0)?;
        self.with_file(|bytes| {
            bytes.resize(new_len, 0);
            Ok(())
        })?;
        self.touch_write()?;
        self.report(filter::SIZE | filter::LAST_WRITE);
        Ok(())
    }

    async fn allocate(&self, len: u64) -> VfsResult<()> {
        end_of(len, 0)?;
        let mut tree = lock_tree(&self.tree);
        let node = tree.node_mut(self.id)?;
        if node.is_dir() {
            return Err(VfsError::IsADirectory);
        }
        node.reserved = node.reserved.max(len.div_ceil(BLOCK) * BLOCK);
        Ok(())
    }

    async fn overwrite(
        &self,
        attributes: u32,
        allocation_size: u64,
        supersede: bool,
    ) -> VfsResult<()> {
        let now = now_filetime();
        let mut tree = lock_tree(&self.tree);
        let node = tree.node_mut(self.id)?;
        if node.is_dir() {
            return Err(VfsError::IsADirectory);
        }
        node.data = Data::File(Vec::new());
        node.attributes = (attributes & attr::SETTABLE) | attr::ARCHIVE;
        node.reserved = allocation_size;
        node.write = now;
        node.change = now;
        if supersede {
            node.creation = now;
        }
        drop(tree);
        self.report(filter::ATTRIBUTES | filter::SIZE | filter::LAST_WRITE);
        Ok(())
    }

    async fn set_times(&self, times: SetTimes) -> VfsResult<()> {
        let mut tree = lock_tree(&self.tree);
        let node = tree.node_mut(self.id)?;
        if let Some(t) = times.creation {
            node.creation = t;
        }
        if let Some(t) = times.last_access {
            node.access = t;
        }
        if let Some(t) = times.last_write {
            node.write = t;
        }
        if let Some(t) = times.change {
            node.change = t;
        }
        drop(tree);
        self.report(filter::times(&times));
        Ok(())
    }

    async fn set_attributes(&self, attributes: u32) -> VfsResult<()> {
        let mut tree = lock_tree(&self.tree);
        let node = tree.node_mut(self.id)?;
        node.attributes = (attributes & attr::SETTABLE) | (node.attributes & attr::SPARSE_FILE);
        node.change = now_filetime();
        drop(tree);
        self.report(filter::ATTRIBUTES);
        Ok(())
    }

    async fn set_sparse(&self, sparse: bool) -> VfsResult<()> {
        let mut tree = lock_tree(&self.tree);
        let node = tree.node_mut(self.id)?;
        if node.is_dir() {
            return Err(VfsError::IsADirectory);
        }
        node.attributes = if sparse {
            node.attributes | attr::SPARSE_FILE
        } else {
            node.attributes & !attr::SPARSE_FILE
        };
        node.change = now_filetime();
        Ok(())
    }

    async fn clone_range_from(
        &self,
        src: &FileRef,
        src_offset: u64,
        dst_offset: u64,
        len: u64,
    ) -> VfsResult<()> {
        // Memory files share nothing: a clone is a copy, which is what a reader can tell.
        self.copy_range_from(src, src_offset, dst_offset, len)
            .await
            .map(drop)
    }

    async fn read_dir(&self, cookie: u64, max: usize) -> VfsResult<Vec<DirEntry>> {
        self.listing.read(cookie, max, || self.snapshot())
    }

    async fn get_meta(&self, name: &str) -> VfsResult<Option<Vec<u8>>> {
        let tree = lock_tree(&self.tree);
        Ok(tree.node(self.id)?.meta.get(name).cloned())
    }

    async fn set_meta(&self, name: &str, value: Vec<u8>) -> VfsResult<()> {
        lock_tree(&self.tree)
            .node_mut(self.id)?
            .meta
            .insert(name.to_owned(), value);
        if self.initial.swap(false, Ordering::Relaxed) {
            return Ok(());
        }
        self.report(filter::meta(name));
        Ok(())
    }

    async fn get_eas(&self) -> VfsResult<Vec<crate::Ea>> {
        Ok(lock_tree(&self.tree).node(self.id)?.eas.clone())
    }

    async fn set_eas(&self, changes: Vec<crate::Ea>) -> VfsResult<()> {
        {
            let mut tree = lock_tree(&self.tree);
            let node = tree.node_mut(self.id)?;
            crate::ea::apply(&mut node.eas, changes)?;
            node.change = now_filetime();
        }
        if self.initial.swap(false, Ordering::Relaxed) {
            return Ok(());
        }
        self.report(filter::EA);
        Ok(())
    }
}
