//! Named data streams of the memory backend: each stream is a node in no directory, listed in
//! its file's node by folded name.

use super::file::MemFile;
use super::tree::{Data, ROOT, Tree};
use super::{MemFs, existing_action};
use crate::names::{fold, join, split_path};
use crate::streams::{StreamFile, check_stream_name, stream_stat};
use crate::{
    ChangeAction, CreateAction, Disposition, Kind, OpenOptions, Opened, StreamInfo, VfsError,
    VfsResult, filter,
};
use std::sync::Arc;

impl MemFs {
    /// The node of the existing file or directory at `path`, and its path as stored.
    fn base_of(tree: &Tree, path: &str) -> VfsResult<(u64, String)> {
        let comps = split_path(path)?;
        if comps.is_empty() {
            return Ok((ROOT, String::new()));
        }
        let l = tree.locate(&comps)?;
        let id = l.existing.ok_or(VfsError::NotFound)?;
        Ok((id, join(&l.parent_path, &tree.node(id)?.name)))
    }

    /// See [`crate::Vfs::open_stream`].
    pub(crate) fn open_stream_now(
        &self,
        path: &str,
        stream: &str,
        opts: &OpenOptions,
    ) -> VfsResult<Opened> {
        check_stream_name(stream)?;
        if opts.kind == Kind::Directory {
            return Err(VfsError::NotADirectory);
        }
        let mut tree = self.lock();
        let (base, base_path) = Self::base_of(&tree, path)?;
        let existing = tree.node(base)?.streams.get(&fold(stream)).copied();
        let (id, action) = match existing {
            Some(id) => {
                if opts.disposition == Disposition::Create {
                    return Err(VfsError::Exists);
                }
                let action = existing_action(opts.disposition);
                if action != CreateAction::Opened {
                    let node = tree.node_mut(id)?;
                    node.data = Data::File(Vec::new());
                    node.reserved = opts.allocation_size;
                }
                (id, action)
            }
            None => {
                if matches!(opts.disposition, Disposition::Open | Disposition::Overwrite) {
                    return Err(VfsError::NotFound);
                }
                let id = tree.create_stream(base, stream);
                tree.node_mut(id)?.reserved = opts.allocation_size;
                (id, CreateAction::Created)
            }
        };
        let stat = stream_stat(tree.node(base)?.stat(base), &tree.node(id)?.stat(id));
        let named = format!("{base_path}:{}", tree.node(id)?.name);
        let file = StreamFile::new(
            Arc::new(MemFile::new(
                self.tree.clone(),
                base,
                self.watchers.clone(),
                false,
            )),
            // Changes of the stream's bytes report as the stream's (`file:stream`).
            Arc::new(MemFile::new(
                self.tree.clone(),
                id,
                self.watchers.clone(),
                action == CreateAction::Created,
            )),
        );
        drop(tree);
        match action {
            CreateAction::Created => {
                self.watchers
                    .dispatch(&named, ChangeAction::Added, filter::STREAM_NAME)
            }
            CreateAction::Opened => {}
            _ => self.watchers.dispatch(
                &named,
                ChangeAction::Modified,
                filter::STREAM_SIZE | filter::STREAM_WRITE,
            ),
        }
        Ok(Opened {
            file: Arc::new(file),
            action,
            stat,
            path: base_path,
            stream_id: id,
        })
    }

    /// See [`crate::Vfs::list_streams`].
    pub(crate) fn list_streams_now(&self, path: &str) -> VfsResult<Vec<StreamInfo>> {
        let tree = self.lock();
        let (base, _) = Self::base_of(&tree, path)?;
        let mut out = Vec::new();
        for &id in tree.node(base)?.streams.values() {
            let node = tree.node(id)?;
            let st = node.stat(id);
            out.push(StreamInfo {
                name: node.name.clone(),
                size: st.size,
                allocation_size: st.allocation_size,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// See [`crate::Vfs::remove_stream`].
    pub(crate) fn remove_stream_now(&self, path: &str, stream: &str) -> VfsResult<()> {
        check_stream_name(stream)?;
        let mut tree = self.lock();
        let (base, base_path) = Self::base_of(&tree, path)?;
        let id = tree
            .node_mut(base)?
            .streams
            .remove(&fold(stream))
            .ok_or(VfsError::NotFound)?;
        let node = tree.node_mut(id)?;
        node.nlink = 0;
        let named = format!("{base_path}:{}", node.name);
        drop(tree);
        self.watchers
            .dispatch(&named, ChangeAction::Removed, filter::STREAM_NAME);
        Ok(())
    }

    /// See [`crate::Vfs::rename_stream`].
    pub(crate) fn rename_stream_now(
        &self,
        path: &str,
        from: &str,
        to: &str,
        replace: bool,
    ) -> VfsResult<()> {
        check_stream_name(from)?;
        check_stream_name(to)?;
        let mut tree = self.lock();
        let (base, base_path) = Self::base_of(&tree, path)?;
        let streams = &tree.node(base)?.streams;
        let src = *streams.get(&fold(from)).ok_or(VfsError::NotFound)?;
        let dst = streams.get(&fold(to)).copied();
        match dst {
            Some(d) if d != src && !replace => return Err(VfsError::Exists),
            Some(d) if d != src => tree.node_mut(d)?.nlink = 0,
            _ => {}
        }
        let node = tree.node_mut(base)?;
        node.streams.remove(&fold(from));
        node.streams.insert(fold(to), src);
        let old = std::mem::replace(&mut tree.node_mut(src)?.name, to.to_owned());
        drop(tree);
        let f = filter::STREAM_NAME;
        self.watchers
            .dispatch(&format!("{base_path}:{old}"), ChangeAction::Removed, f);
        self.watchers
            .dispatch(&format!("{base_path}:{to}"), ChangeAction::Added, f);
        Ok(())
    }
}
