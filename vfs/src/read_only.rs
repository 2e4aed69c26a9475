//! A read-only view of a backend, for snapshots: opens are made without write access and
//! nothing is created, overwritten, renamed, linked or removed.

use crate::{Disposition, FileStat, FsInfo, OpenOptions, Opened, Vfs, VfsError, VfsResult};
use async_trait::async_trait;
use std::sync::Arc;

/// `inner`, read-only.
pub struct ReadOnlyFs {
    inner: Arc<dyn Vfs>,
}

impl ReadOnlyFs {
    /// A read-only view of `inner`.
    pub fn new(inner: Arc<dyn Vfs>) -> Self {
        Self { inner }
    }
}

#[async_trait]
impl Vfs for ReadOnlyFs {
    async fn open(&self, path: &str, opts: &OpenOptions) -> VfsResult<Opened> {
        match opts.disposition {
            Disposition::Open | Disposition::OpenIf => {}
            _ => return Err(VfsError::AccessDenied),
        }
        let opts = OpenOptions {
            disposition: Disposition::Open,
            write: false,
            ..opts.clone()
        };
        self.inner.open(path, &opts).await
    }

    async fn stat(&self, path: &str) -> VfsResult<FileStat> {
        self.inner.stat(path).await
    }

    async fn rename(&self, _from: &str, _to: &str, _replace: bool) -> VfsResult<()> {
        Err(VfsError::AccessDenied)
    }

    async fn remove(&self, _path: &str) -> VfsResult<()> {
        Err(VfsError::AccessDenied)
    }

    async fn fs_info(&self) -> VfsResult<FsInfo> {
        self.inner.fs_info().await
    }

    async fn link(&self, _existing: &str, _new: &str, _replace: bool) -> VfsResult<()> {
        Err(VfsError::AccessDenied)
    }
}
