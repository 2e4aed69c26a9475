//! Paging of a directory listing taken once per open handle.

use crate::{DirEntry, FileStat, VfsResult};
use std::sync::{Arc, Mutex};

/// A directory's entries, sorted by name, each with its metadata.
pub(crate) type Listing = Arc<Vec<(String, FileStat)>>;

/// The listing one open directory handle pages through: taken at the first `read_dir` and again
/// whenever the listing restarts (cookie 0), so cookies stay stable in between.
#[derive(Default)]
pub(crate) struct ListingCache {
    current: Mutex<Option<Listing>>,
}

impl ListingCache {
    /// Entries after `cookie`, at most `max`, taking a fresh listing with `build` if needed.
    pub(crate) fn read(
        &self,
        cookie: u64,
        max: usize,
        build: impl FnOnce() -> VfsResult<Vec<(String, FileStat)>>,
    ) -> VfsResult<Vec<DirEntry>> {
        let cached = self.lock().clone();
        let listing = match cached {
            Some(l) if cookie != 0 => l,
            _ => {
                let fresh = Arc::new(build()?);
                *self.lock() = Some(fresh.clone());
                fresh
            }
        };
        Ok(page(&listing, cookie, max))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Listing>> {
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Up to `max` entries of `listing` after `cookie` (cookie = index + 1 of the last entry sent).
pub(crate) fn page(listing: &[(String, FileStat)], cookie: u64, max: usize) -> Vec<DirEntry> {
    let start = usize::try_from(cookie).unwrap_or(usize::MAX);
    listing
        .iter()
        .enumerate()
        .skip(start)
        .take(max)
        .map(|(i, (name, stat))| DirEntry {
            name: name.clone(),
            stat: stat.clone(),
            cookie: i as u64 + 1,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_resume_after_cookie() {
        let l: Vec<(String, FileStat)> = (0..5)
            .map(|i| (format!("f{i}"), FileStat::default()))
            .collect();
        let a = page(&l, 0, 2);
        assert_eq!(
            a.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
            ["f0", "f1"]
        );
        let b = page(&l, a[1].cookie, 10);
        assert_eq!(
            b.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
            ["f2", "f3", "f4"]
        );
        assert!(page(&l, b[2].cookie, 10).is_empty());
        assert!(page(&l, u64::MAX, 10).is_empty());
    }
}
