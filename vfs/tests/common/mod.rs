//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use vfs::{Disposition, Kind, OpenOptions, VfsError, VfsResult};

/// A unique temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!(
            "vfs-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Options with a disposition and kind, read-write, no attributes.
pub fn opts(disposition: Disposition, kind: Kind) -> OpenOptions {
    OpenOptions {
        disposition,
        kind,
        read: true,
        write: true,
        attributes: 0,
        allocation_size: 0,
        reparse_point: false,
    }
}

/// The error of a result that must have failed.
pub fn err<T>(r: VfsResult<T>) -> VfsError {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}
