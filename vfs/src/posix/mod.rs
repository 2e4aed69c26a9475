//! Local POSIX (Linux) backend, confined to one directory.
//!
//! Paths are resolved with openat2(2) RESOLVE_BENEATH relative to an O_PATH descriptor of the
//! root (a component-by-component O_NOFOLLOW walk where openat2 is missing), looked up
//! case-insensitively through a per-directory cache, and all blocking work runs in one
//! `spawn_blocking` job per operation. DOS attributes and creation time live in the xattr
//! `user.smbd.dosattrib`, metadata blobs in `user.smbd.<name>`; named streams in a side tree,
//! `.smbd-streams` in the share root (see `streams`). Needs `/proc` (to reopen O_PATH
//! descriptors and list directories by descriptor).

mod case_cache;
mod change_time;
mod data;
mod eas;
mod errors;
mod file;
mod inotify;
mod meta;
mod notify;
mod ops;
mod resolve;
mod streams;
mod sys;

use crate::{
    ChangeSink, FileStat, FsInfo, OpenOptions, Opened, StreamInfo, Vfs, VfsError, VfsResult, Watch,
};
use async_trait::async_trait;
use resolve::Root;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::Arc;

/// A share served from a local directory.
#[derive(Clone)]
pub struct PosixFs {
    root: Arc<Root>,
    /// The directory holding the share's snapshots, one `@GMT-…` folder each.
    snapshot_dir: Option<PathBuf>,
}

impl PosixFs {
    /// Serves the directory `root`, which must exist.
    pub fn new(root: PathBuf) -> io::Result<Self> {
        Self::with_openat2(root, true)
    }

    /// Like [`PosixFs::new`] but never uses openat2, walking paths component by component and
    /// refusing every symlink (what kernels older than 5.6 get; used to test that path).
    pub fn new_without_openat2(root: PathBuf) -> io::Result<Self> {
        Self::with_openat2(root, false)
    }

    /// Turns off (or on) the watching of the share folder for changes by other programs
    /// (inotify); changes made through this backend are reported either way. On by default.
    pub fn with_kernel_notify(self, on: bool) -> Self {
        self.root.notify().set_kernel(on);
        self
    }

    fn with_openat2(root: PathBuf, try_openat2: bool) -> io::Result<Self> {
        let dir = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
            .open(&root)?;
        Ok(Self {
            root: Arc::new(Root::new(OwnedFd::from(dir), try_openat2)),
            snapshot_dir: None,
        })
    }

    /// Serves the `@GMT-YYYY.MM.DD-HH.MM.SS` folders of `dir` (btrfs or ZFS snapshots of the
    /// share folder, or plain copies) as the share's previous versions.
    pub fn with_snapshot_dir(mut self, dir: PathBuf) -> Self {
        self.snapshot_dir = Some(dir);
        self
    }
}

/// Runs blocking filesystem work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> VfsResult<T> + Send + 'static,
) -> VfsResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| VfsError::Io(io::Error::other(e)))?
}

#[async_trait]
impl Vfs for PosixFs {
    async fn open(&self, path: &str, opts: &OpenOptions) -> VfsResult<Opened> {
        let (root, path, opts) = (self.root.clone(), path.to_owned(), opts.clone());
        blocking(move || match ops::open(&root, &path, &opts) {
            // Refused as leaving the root: a symbolic link the client is told about, if one
            // is the reason.
            Err(VfsError::Escape) => Err(ops::symlink_on_path(&root, &path)),
            // Without openat2 a link on the way is refused as a directory that is not there.
            Err(VfsError::PathNotFound) if !root.uses_openat2() => {
                match ops::symlink_on_path(&root, &path) {
                    VfsError::Escape => Err(VfsError::PathNotFound),
                    stop => Err(stop),
                }
            }
            other => other,
        })
        .await
    }

    async fn stat(&self, path: &str) -> VfsResult<FileStat> {
        let (root, path) = (self.root.clone(), path.to_owned());
        blocking(move || ops::stat(&root, &path)).await
    }

    async fn rename(&self, from: &str, to: &str, replace: bool) -> VfsResult<()> {
        let (root, from, to) = (self.root.clone(), from.to_owned(), to.to_owned());
        blocking(move || ops::rename(&root, &from, &to, replace)).await
    }

    async fn remove(&self, path: &str) -> VfsResult<()> {
        let (root, path) = (self.root.clone(), path.to_owned());
        blocking(move || ops::remove(&root, &path)).await
    }

    async fn fs_info(&self) -> VfsResult<FsInfo> {
        let root = self.root.clone();
        blocking(move || ops::fs_info(&root)).await
    }

    async fn short_name(&self, path: &str) -> VfsResult<Option<String>> {
        let (root, path) = (self.root.clone(), path.to_owned());
        blocking(move || ops::short_name(&root, &path)).await
    }

    async fn open_stream(&self, path: &str, stream: &str, opts: &OpenOptions) -> VfsResult<Opened> {
        let (root, path, stream, opts) = (
            self.root.clone(),
            path.to_owned(),
            stream.to_owned(),
            opts.clone(),
        );
        blocking(move || streams::open(&root, &path, &stream, &opts)).await
    }

    async fn list_streams(&self, path: &str) -> VfsResult<Vec<StreamInfo>> {
        let (root, path) = (self.root.clone(), path.to_owned());
        blocking(move || streams::list(&root, &path)).await
    }

    async fn remove_stream(&self, path: &str, stream: &str) -> VfsResult<()> {
        let (root, path, stream) = (self.root.clone(), path.to_owned(), stream.to_owned());
        blocking(move || streams::remove(&root, &path, &stream)).await
    }

    async fn rename_stream(
        &self,
        path: &str,
        from: &str,
        to: &str,
        replace: bool,
    ) -> VfsResult<()> {
        let (root, path, from, to) = (
            self.root.clone(),
            path.to_owned(),
            from.to_owned(),
            to.to_owned(),
        );
        blocking(move || streams::rename(&root, &path, &from, &to, replace)).await
    }

    async fn watch(
        &self,
        dir: &str,
        recursive: bool,
        sink: Arc<dyn ChangeSink>,
    ) -> VfsResult<Watch> {
        let (root, path) = (self.root.clone(), dir.to_owned());
        let disk = blocking(move || ops::dir_path(&root, &path)).await?;
        notify::watch(&self.root, disk, recursive, sink).await
    }

    async fn make_symlink(&self, path: &str, target: &str) -> VfsResult<()> {
        let (root, path, target) = (self.root.clone(), path.to_owned(), target.to_owned());
        blocking(move || ops::swap_symlink(&root, &path, Some(&target))).await
    }

    async fn unmake_symlink(&self, path: &str) -> VfsResult<()> {
        let (root, path) = (self.root.clone(), path.to_owned());
        blocking(move || ops::swap_symlink(&root, &path, None)).await
    }

    async fn snapshots(&self) -> VfsResult<Vec<String>> {
        let Some(dir) = self.snapshot_dir.clone() else {
            return Ok(Vec::new());
        };
        blocking(move || {
            let mut names: Vec<String> = std::fs::read_dir(&dir)
                .map_err(errors::map_io)?
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| crate::snapshots::is_snapshot_name(n) && dir.join(n).is_dir())
                .collect();
            names.sort_unstable_by(|a, b| b.cmp(a));
            Ok(names)
        })
        .await
    }

    async fn snapshot(&self, name: &str) -> VfsResult<Arc<dyn Vfs>> {
        let Some(dir) = &self.snapshot_dir else {
            return Err(VfsError::NotFound);
        };
        if !crate::snapshots::is_snapshot_name(name) {
            return Err(VfsError::NotFound);
        }
        let path = dir.join(name);
        let openat2 = self.root.uses_openat2();
        blocking(move || match Self::with_openat2(path, openat2) {
            Ok(fs) => Ok(Arc::new(fs) as Arc<dyn Vfs>),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(VfsError::NotFound),
            Err(e) => Err(errors::map_io(e)),
        })
        .await
    }

    async fn link(&self, existing: &str, new: &str, replace: bool) -> VfsResult<()> {
        let (root, from, to) = (self.root.clone(), existing.to_owned(), new.to_owned());
        blocking(move || ops::link(&root, &from, &to, replace)).await
    }
}
