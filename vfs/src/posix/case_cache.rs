//! Per-directory map from folded name to on-disk name, so a case-insensitive miss does not scan
//! the directory each time. Keyed by the directory's (device, inode), valid while the directory's
//! modification time (ns) is unchanged, bounded by evicting the least recently used directory.

use crate::names::fold;
use std::collections::HashMap;

/// (device, inode) of a directory.
pub(crate) type DirKey = (u64, u64);

/// A directory's modification time in nanoseconds.
pub(crate) type Mtime = i128;

struct Names {
    mtime: Mtime,
    map: HashMap<String, String>,
    used: u64,
}

/// The result of a cache lookup.
pub(crate) enum Lookup {
    /// The cache is current: the on-disk name, or `None` if no name folds alike.
    Hit(Option<String>),
    /// Absent or out of date: rebuild from the directory.
    Stale,
}

/// The bounded cache.
pub(crate) struct CaseCache {
    dirs: HashMap<DirKey, Names>,
    tick: u64,
    cap: usize,
}

impl CaseCache {
    /// A cache of at most `cap` directories.
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            dirs: HashMap::new(),
            tick: 0,
            cap: cap.max(1),
        }
    }

    /// Looks up `folded` in directory `key` whose current mtime is `mtime`.
    pub(crate) fn lookup(&mut self, key: DirKey, mtime: Mtime, folded: &str) -> Lookup {
        self.tick += 1;
        match self.dirs.get_mut(&key) {
            Some(n) if n.mtime == mtime => {
                n.used = self.tick;
                Lookup::Hit(n.map.get(folded).cloned())
            }
            _ => Lookup::Stale,
        }
    }

    /// Stores the names of directory `key` as of `mtime`. Of several names that fold alike the
    /// smallest is kept, so the choice is stable.
    pub(crate) fn insert(
        &mut self,
        key: DirKey,
        mtime: Mtime,
        names: impl IntoIterator<Item = String>,
    ) {
        let mut map: HashMap<String, String> = HashMap::new();
        for name in names {
            let entry = map.entry(fold(&name)).or_insert_with(|| name.clone());
            if name < *entry {
                *entry = name;
            }
        }
        if !self.dirs.contains_key(&key)
            && self.dirs.len() >= self.cap
            && let Some(oldest) = self
                .dirs
                .iter()
                .min_by_key(|(_, n)| n.used)
                .map(|(k, _)| *k)
        {
            self.dirs.remove(&oldest);
        }
        self.tick += 1;
        self.dirs.insert(
            key,
            Names {
                mtime,
                map,
                used: self.tick,
            },
        );
    }

    /// Forgets directory `key`.
    pub(crate) fn invalidate(&mut self, key: DirKey) {
        self.dirs.remove(&key);
    }

    /// Number of directories held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.dirs.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hit_stale_and_eviction() {
        let mut c = CaseCache::new(2);
        assert!(matches!(c.lookup((1, 1), 5, "A"), Lookup::Stale));
        c.insert((1, 1), 5, ["a".to_owned(), "B".to_owned(), "A".to_owned()]);
        assert!(matches!(c.lookup((1, 1), 5, "A"), Lookup::Hit(Some(ref n)) if n == "A"));
        assert!(matches!(c.lookup((1, 1), 5, "B"), Lookup::Hit(Some(ref n)) if n == "B"));
        assert!(matches!(c.lookup((1, 1), 5, "C"), Lookup::Hit(None)));
        assert!(matches!(c.lookup((1, 1), 6, "A"), Lookup::Stale));
        c.insert((1, 2), 1, []);
        let _ = c.lookup((1, 1), 5, "A");
        c.insert((1, 3), 1, []);
        assert_eq!(c.len(), 2);
        assert!(matches!(c.lookup((1, 2), 1, "X"), Lookup::Stale));
        assert!(matches!(c.lookup((1, 1), 5, "X"), Lookup::Hit(None)));
        c.invalidate((1, 1));
        assert!(matches!(c.lookup((1, 1), 5, "X"), Lookup::Stale));
    }
}
