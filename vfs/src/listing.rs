//! Paging of a directory listing taken once per open handle.

use crate::{DirEntry, FileStat};

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
        let l: Vec<(String, FileStat)> = (0..5).map(|i| (format!("f{i}"), FileStat::default())).collect();
        let a = page(&l, 0, 2);
        assert_eq!(a.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["f0", "f1"]);
        let b = page(&l, a[1].cookie, 10);
        assert_eq!(b.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["f2", "f3", "f4"]);
        assert!(page(&l, b[2].cookie, 10).is_empty());
        assert!(page(&l, u64::MAX, 10).is_empty());
    }
}
