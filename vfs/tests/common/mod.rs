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

/// Runs the behaviour tests it names (functions of the calling file taking `&fs`) on every
/// backend: `MemFs`, `PosixFs`, and `PosixFs` resolving paths without openat2, each in a module
/// of that name; `$tag` names the temporary folders of the POSIX runs.
#[allow(unused_macros)]
macro_rules! on_every_backend {
    ($tag:literal; $($t:ident)*) => {
        on_every_backend!(@suite mem, (vfs::mem::MemFs::new(), ()); $($t)*);
        on_every_backend!(@suite posix, {
            let dir = crate::common::TempDir::new(concat!($tag, "-posix"));
            (vfs::posix::PosixFs::new(dir.0.clone()).unwrap(), dir)
        }; $($t)*);
        on_every_backend!(@suite posix_no_openat2, {
            let dir = crate::common::TempDir::new(concat!($tag, "-walk"));
            (
                vfs::posix::PosixFs::new_without_openat2(dir.0.clone()).unwrap(),
                dir,
            )
        }; $($t)*);
    };
    (@suite $name:ident, $make:expr; $($t:ident)*) => {
        mod $name {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $t() {
                    let (fs, _guard) = $make;
                    super::$t(&fs).await;
                }
            )*
        }
    };
}

/// A watch's sink that records every change, for the change-notify tests.
#[derive(Default)]
pub struct Log(pub std::sync::Mutex<Vec<(String, vfs::ChangeAction, u32)>>);

impl vfs::ChangeSink for Log {
    fn change(&self, name: &str, action: vfs::ChangeAction, filter: u32) {
        self.0
            .lock()
            .unwrap()
            .push((name.to_owned(), action, filter));
    }
    fn overflow(&self) {}
}

impl Log {
    /// The (name, action) pairs so far.
    pub fn names(&self) -> Vec<(String, vfs::ChangeAction)> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|e| (e.0.clone(), e.1))
            .collect()
    }

    /// Waits (up to 2 s) until `n` changes arrived; the (name, action) pairs.
    pub async fn wait_for(&self, n: usize) -> Vec<(String, vfs::ChangeAction)> {
        for _ in 0..200 {
            if self.0.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        self.names()
    }
}
