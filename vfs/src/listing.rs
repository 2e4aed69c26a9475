//! Paging of a directory listing taken once per open handle.

use crate::short_names::ShortNames;
use crate::{DirEntry, FileStat, VfsResult};
use std::sync::{Arc, Mutex};

/// One entry of a listing: its name, metadata and short name.
pub(crate) type Listed = (String, FileStat, Option<String>);

/// A directory's entries, sorted by name, each with its metadata and its short name (given
/// among all the names listed, as [`ShortNames`] does for lookups).
pub(crate) type Listing = Arc<Vec<Listed>>;

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
                let fresh = Arc::new(with_short_names(build()?));
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

/// The entries of a directory with their short names.
fn with_short_names(entries: Vec<(String, FileStat)>) -> Vec<Listed> {
    let index = ShortNames::from_names(entries.iter().map(|(n, _)| n.as_str()));
    entries
        .into_iter()
        .map(|(name, stat)| {
            let short = index.short_of(&name);
            (name, stat, short)
        })
        .collect()
}

/// Up to `max` entries of `listing` after `cookie` (cookie = index + 1 of the last entry sent).
pub(crate) fn page(listing: &[Listed], cookie: u64, max: usize) -> Vec<DirEntry> {
    let start = usize::try_from(cookie).unwrap_or(usize::MAX);
    listing
        .iter()
        .enumerate()
        .skip(start)
        .take(max)
        .map(|(i, (name, stat, short))| DirEntry {
            name: name.clone(),
            stat: stat.clone(),
            short_name: short.clone(),
            cookie: i as u64 + 1,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_resume_after_cookie() {
        let l = with_short_names(
            (0..5)
                .map(|i| (format!("f{i}"), FileStat::default()))
                .collect(),
        );
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

    #[test]
    fn entries_carry_short_names() {
        let l = with_short_names(vec![
            ("a long name.txt".into(), FileStat::default()),
            ("short.txt".into(), FileStat::default()),
        ]);
        let p = page(&l, 0, 10);
        assert_eq!(
            p[0].short_name,
            crate::short_names::alone("a long name.txt")
        );
        assert_eq!(p[1].short_name, None);
    }
}
