//! The in-memory tree: nodes addressed by id, directories mapping folded names to children.

use crate::names::{fold, join, now_filetime};
use crate::short_names::{self, ShortNames};
use crate::{FileStat, VfsError, VfsResult, attr};
use std::collections::HashMap;

/// Id of the root directory.
pub(crate) const ROOT: u64 = 1;
/// Largest file the memory backend holds (writes and `set_len` past it are `TooLarge`).
pub(crate) const MAX_FILE_SIZE: u64 = 256 << 20;
/// Allocation unit reported for memory files.
pub(crate) const BLOCK: u64 = 4096;

/// The contents of a node.
pub(crate) enum Data {
    /// A file's bytes.
    File(Vec<u8>),
    /// A directory: folded name -> child id.
    Dir(HashMap<String, u64>),
}

/// One file or directory.
pub(crate) struct Node {
    /// The name as created (case preserved).
    pub(crate) name: String,
    /// Parent directory id (the root is its own parent).
    pub(crate) parent: u64,
    /// Contents.
    pub(crate) data: Data,
    /// Stored DOS attributes (STORED bits only).
    pub(crate) attributes: u32,
    /// FILETIME stamps.
    pub(crate) creation: u64,
    pub(crate) access: u64,
    pub(crate) write: u64,
    pub(crate) change: u64,
    /// Named metadata blobs.
    pub(crate) meta: HashMap<String, Vec<u8>>,
    /// Extended attributes, in the order they were added.
    pub(crate) eas: Vec<crate::Ea>,
    /// Space reserved by `allocate`.
    pub(crate) reserved: u64,
    /// Names the node has in directories (hard links); 0 once removed from every directory
    /// (open handles keep working).
    pub(crate) nlink: u32,
    /// Named data streams: folded name -> the node holding the stream's bytes (a node in no
    /// directory, named as the stream was created).
    pub(crate) streams: HashMap<String, u64>,
}

impl Node {
    fn new(name: &str, parent: u64, is_dir: bool, attributes: u32) -> Self {
        let now = now_filetime();
        Self {
            name: name.to_owned(),
            parent,
            data: if is_dir {
                Data::Dir(HashMap::new())
            } else {
                Data::File(Vec::new())
            },
            attributes: attributes & attr::SETTABLE,
            creation: now,
            access: now,
            write: now,
            change: now,
            meta: HashMap::new(),
            eas: Vec::new(),
            reserved: 0,
            nlink: 1,
            streams: HashMap::new(),
        }
    }

    /// Whether this node is a directory.
    pub(crate) fn is_dir(&self) -> bool {
        matches!(self.data, Data::Dir(_))
    }

    /// Metadata as the trait reports it.
    pub(crate) fn stat(&self, id: u64) -> FileStat {
        let (size, is_dir) = match &self.data {
            Data::File(v) => (v.len() as u64, false),
            Data::Dir(_) => (0, true),
        };
        let mut attributes = self.attributes & attr::STORED;
        if is_dir {
            attributes |= attr::DIRECTORY;
        }
        if attributes == 0 {
            attributes = attr::NORMAL;
        }
        FileStat {
            size,
            allocation_size: size
                .div_ceil(BLOCK)
                .saturating_mul(BLOCK)
                .max(self.reserved),
            creation_time: self.creation,
            last_access_time: self.access,
            last_write_time: self.write,
            change_time: self.change,
            attributes,
            file_id: id,
            volume: 0,
            links: self.nlink,
            ea_size: crate::ea::ea_size(&self.eas),
            is_dir,
        }
    }
}

/// Where a path's last component is, or would be.
pub(crate) struct Located {
    /// Parent directory id.
    pub(crate) parent: u64,
    /// Parent path as stored.
    pub(crate) parent_path: String,
    /// The existing child, if any.
    pub(crate) existing: Option<u64>,
    /// The folded name the existing child is filed under in its directory.
    pub(crate) key: String,
}

/// All nodes of one memory filesystem.
pub(crate) struct Tree {
    nodes: HashMap<u64, Node>,
    next_id: u64,
}

impl Tree {
    /// A tree holding only an empty root.
    pub(crate) fn new() -> Self {
        let mut nodes = HashMap::new();
        nodes.insert(ROOT, Node::new("", ROOT, true, 0));
        Self {
            nodes,
            next_id: ROOT + 1,
        }
    }

    /// The node `id` (NotFound if it vanished).
    pub(crate) fn node(&self, id: u64) -> VfsResult<&Node> {
        self.nodes.get(&id).ok_or(VfsError::NotFound)
    }

    /// The node `id`, mutably.
    pub(crate) fn node_mut(&mut self, id: u64) -> VfsResult<&mut Node> {
        self.nodes.get_mut(&id).ok_or(VfsError::NotFound)
    }

    /// The child of directory `dir` whose name folds like `name` or, failing that, whose short
    /// name `name` is, with the folded name it is filed under.
    pub(crate) fn child_named(&self, dir: u64, name: &str) -> Option<(u64, String)> {
        let Data::Dir(children) = &self.nodes.get(&dir)?.data else {
            return None;
        };
        let folded = fold(name);
        if let Some(&id) = children.get(&folded) {
            return Some((id, folded));
        }
        if !short_names::looks_generated(name) {
            return None;
        }
        // The memory backend indexes a directory's short names only when asked.
        let index = ShortNames::from_names(children.keys().map(String::as_str));
        let long = index.long_of(name)?;
        children.get(long).map(|&id| (id, long.to_owned()))
    }

    /// The child of directory `dir` named `name` (see [`Tree::child_named`]).
    pub(crate) fn child(&self, dir: u64, name: &str) -> Option<u64> {
        self.child_named(dir, name).map(|(id, _)| id)
    }

    /// The short name of `name`, a name in directory `dir`.
    pub(crate) fn short_name_in(&self, dir: u64, name: &str) -> Option<String> {
        if short_names::is_8_3(name) {
            return None;
        }
        match &self.nodes.get(&dir)?.data {
            Data::Dir(children) => {
                ShortNames::from_names(children.keys().map(String::as_str)).short_of(name)
            }
            Data::File(_) => None,
        }
    }

    /// Walks directory components; a missing one or a file on the way is `PathNotFound`.
    pub(crate) fn resolve_dir(&self, comps: &[&str]) -> VfsResult<(u64, String)> {
        let mut cur = ROOT;
        let mut path = String::new();
        for comp in comps {
            let next = self.child(cur, comp).ok_or(VfsError::PathNotFound)?;
            let node = self.node(next)?;
            if !node.is_dir() {
                return Err(VfsError::PathNotFound);
            }
            path = join(&path, &node.name);
            cur = next;
        }
        Ok((cur, path))
    }

    /// Locates the last of non-empty `comps`.
    pub(crate) fn locate(&self, comps: &[&str]) -> VfsResult<Located> {
        let (last, dirs) = comps.split_last().ok_or(VfsError::InvalidName)?;
        let (parent, parent_path) = self.resolve_dir(dirs)?;
        let found = self.child_named(parent, last);
        Ok(Located {
            parent,
            parent_path,
            existing: found.as_ref().map(|(id, _)| *id),
            key: found.map_or_else(|| fold(last), |(_, key)| key),
        })
    }

    /// Creates `name` in directory `parent`.
    pub(crate) fn create(&mut self, parent: u64, name: &str, is_dir: bool, attributes: u32) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.nodes
            .insert(id, Node::new(name, parent, is_dir, attributes));
        if let Some(Node {
            data: Data::Dir(children),
            ..
        }) = self.nodes.get_mut(&parent)
        {
            children.insert(fold(name), id);
        }
        id
    }

    /// Creates the data node of stream `name` of node `base` (in no directory).
    pub(crate) fn create_stream(&mut self, base: u64, name: &str) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.nodes.insert(id, Node::new(name, base, false, 0));
        if let Some(node) = self.nodes.get_mut(&base) {
            node.streams.insert(fold(name), id);
        }
        id
    }

    /// Removes the name `name` of directory `parent`, which names `id`. The node stays for
    /// handles still open on it; when it keeps other names, one of them becomes its own.
    pub(crate) fn unlink(&mut self, parent: u64, name: &str, id: u64) -> VfsResult<()> {
        let key = fold(name);
        if let Data::Dir(children) = &mut self.node_mut(parent)?.data {
            children.remove(&key);
        }
        let node = self.node_mut(id)?;
        node.nlink = node.nlink.saturating_sub(1);
        node.change = now_filetime();
        if node.nlink > 0
            && node.parent == parent
            && fold(&node.name) == key
            && let Some((dir, other)) = self.other_name(id)
        {
            let node = self.node_mut(id)?;
            node.parent = dir;
            node.name = other;
        }
        Ok(())
    }

    /// Some name of `id` in a directory, for a node that lost the one it had. Directories key
    /// children by folded name only, so that name comes back folded.
    fn other_name(&self, id: u64) -> Option<(u64, String)> {
        self.nodes.iter().find_map(|(&dir, n)| match &n.data {
            Data::Dir(children) => children
                .iter()
                .find(|&(_, &c)| c == id)
                .map(|(k, _)| (dir, k.clone())),
            Data::File(_) => None,
        })
    }

    /// Adds the name `name` in directory `parent` for `id` (a new hard link, or the new name of
    /// a rename), which becomes the node's own name.
    pub(crate) fn link(&mut self, id: u64, parent: u64, name: &str) -> VfsResult<()> {
        let now = now_filetime();
        let node = self.node_mut(id)?;
        node.name = name.to_owned();
        node.parent = parent;
        node.nlink += 1;
        node.change = now;
        if let Data::Dir(children) = &mut self.node_mut(parent)?.data {
            children.insert(fold(name), id);
        }
        Ok(())
    }

    /// The path of `id` as stored, `None` once it is no longer linked into the tree. A named
    /// stream's node is `file:stream`.
    pub(crate) fn path_of(&self, id: u64) -> Option<String> {
        let node = self.nodes.get(&id)?;
        if id != ROOT
            && node.nlink > 0
            && let Some(base) = self.nodes.get(&node.parent)
            && base.streams.get(&fold(&node.name)) == Some(&id)
        {
            return Some(format!("{}:{}", self.path_of(node.parent)?, node.name));
        }
        let mut names = Vec::new();
        let mut cur = id;
        while cur != ROOT {
            let node = self.nodes.get(&cur)?;
            if node.nlink == 0 {
                return None;
            }
            names.push(node.name.as_str());
            cur = node.parent;
        }
        names.reverse();
        Some(names.join("/"))
    }

    /// Whether `ancestor` is `id` or one of its parents.
    pub(crate) fn is_within(&self, id: u64, ancestor: u64) -> bool {
        let mut cur = id;
        loop {
            if cur == ancestor {
                return true;
            }
            match self.nodes.get(&cur) {
                Some(n) if cur != ROOT => cur = n.parent,
                _ => return false,
            }
        }
    }

    /// Bytes held by all files (for `fs_info`).
    pub(crate) fn used_bytes(&self) -> u64 {
        self.nodes
            .values()
            .map(|n| match &n.data {
                Data::File(v) => (v.len() as u64).max(n.reserved),
                Data::Dir(_) => 0,
            })
            .sum()
    }
}
