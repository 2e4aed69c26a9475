//! Per-directory map from folded name to on-disk name, so a case-insensitive miss does not scan
//! the directory each time. Keyed by the directory's (device, inode), valid while the directory's
//! modification time (ns) is unchanged, bounded by evicting the least recently used directory.
//!
//! This server's own creates and removes update an entry in place ([`CaseCache::apply`]) when
//! it was current just before the change, instead of forcing a rescan of the whole directory on
//! the next miss (which made every create in a directory of N entries cost O(N)). An external
//! change that lands in the same instant as ours could be missed that way, or hidden by a coarse
//! mtime tick; so an entry kept current by updates alone is rescanned once it is
//! [`MAX_INCREMENTAL_AGE`] old.
//!
//! An entry also answers short names ([`ShortNames`]): the index is built from the names held
//! the first time a short name is asked of the directory, and kept up to date by the same
//! in-place changes.

use crate::names::fold;
use crate::short_names::ShortNames;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long an entry may live on in-place updates before the next miss rescans the directory.
pub(crate) const MAX_INCREMENTAL_AGE: Duration = Duration::from_secs(2);

/// (device, inode) of a directory.
pub(crate) type DirKey = (u64, u64);

/// A directory's modification time in nanoseconds.
pub(crate) type Mtime = i128;

struct Names {
    mtime: Mtime,
    /// Folded name -> (on-disk name kept, number of on-disk names that fold alike).
    map: HashMap<String, (String, u32)>,
    used: u64,
    /// When the directory was last scanned.
    scanned: Instant,
    /// The short names of the names held, once asked for.
    shorts: Option<ShortNames>,
}

impl Names {
    /// The short-name index of these names, built on first use.
    fn shorts(&mut self) -> &ShortNames {
        let map = &self.map;
        self.shorts.get_or_insert_with(|| {
            let mut s = ShortNames::default();
            // The streams side tree is never listed, so it takes no digit.
            for (kept, count) in map.values().filter(|(k, _)| k != super::streams::SIDE_DIR) {
                for _ in 0..*count {
                    s.add(kept);
                }
            }
            s
        })
    }
}

/// A change this server made to a directory.
pub(crate) enum Change<'a> {
    /// `name` was created.
    Added(&'a str),
    /// `name` was removed.
    Removed(&'a str),
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
                Lookup::Hit(n.map.get(folded).map(|(name, _)| name.clone()))
            }
            _ => Lookup::Stale,
        }
    }

    /// The on-disk name whose short name is `short` in directory `key` whose current mtime is
    /// `mtime`: `Hit(None)` when none has it.
    pub(crate) fn lookup_short(&mut self, key: DirKey, mtime: Mtime, short: &str) -> Lookup {
        self.tick += 1;
        match self.dirs.get_mut(&key) {
            Some(n) if n.mtime == mtime => {
                n.used = self.tick;
                let long = n.shorts().long_of(short).map(str::to_owned);
                Lookup::Hit(long.and_then(|l| n.map.get(&l).map(|(name, _)| name.clone())))
            }
            _ => Lookup::Stale,
        }
    }

    /// The short name of `name` in directory `key` whose current mtime is `mtime`: `None`
    /// when the entry is absent or out of date.
    pub(crate) fn short_of(
        &mut self,
        key: DirKey,
        mtime: Mtime,
        name: &str,
    ) -> Option<Option<String>> {
        self.tick += 1;
        match self.dirs.get_mut(&key) {
            Some(n) if n.mtime == mtime => {
                n.used = self.tick;
                Some(n.shorts().short_of(name))
            }
            _ => None,
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
        let mut map: HashMap<String, (String, u32)> = HashMap::new();
        for name in names {
            add_name(&mut map, name);
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
                scanned: Instant::now(),
                shorts: None,
            },
        );
    }

    /// Records `change`, made by this server in directory `key`, whose mtime was `before` just
    /// before it and is `after` now. The entry is updated in place only if it was current at
    /// `before` and was scanned less than [`MAX_INCREMENTAL_AGE`] ago; otherwise it is dropped.
    pub(crate) fn apply(&mut self, key: DirKey, before: Mtime, after: Mtime, change: Change<'_>) {
        let Some(n) = self.dirs.get_mut(&key) else {
            return;
        };
        let usable = n.mtime == before && n.scanned.elapsed() < MAX_INCREMENTAL_AGE;
        let applied = usable
            && match change {
                Change::Added(name) => {
                    add_name(&mut n.map, name.to_owned());
                    if let Some(s) = n.shorts.as_mut() {
                        s.add(name);
                    }
                    true
                }
                Change::Removed(name) => {
                    let folded = fold(name);
                    match n.map.get(&folded) {
                        // The only name of its fold: gone.
                        Some((kept, 1)) if kept == name => {
                            n.map.remove(&folded);
                            if let Some(s) = n.shorts.as_mut() {
                                s.remove(name);
                            }
                            true
                        }
                        // Others fold alike: which one is kept now needs a scan.
                        Some(_) => false,
                        // Not known: the entry was wrong.
                        None => false,
                    }
                }
            };
        if applied {
            n.mtime = after;
        } else {
            self.dirs.remove(&key);
        }
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

/// Adds an on-disk name; of several that fold alike the smallest is kept, so the choice is
/// stable.
fn add_name(map: &mut HashMap<String, (String, u32)>, name: String) {
    let entry = map.entry(fold(&name)).or_insert_with(|| (name.clone(), 0));
    entry.1 += 1;
    if name < entry.0 {
        entry.0 = name;
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

    #[test]
    fn own_changes_update_in_place() {
        let mut c = CaseCache::new(4);
        c.insert((1, 1), 5, ["a".to_owned()]);
        c.apply((1, 1), 5, 6, Change::Added("New.txt"));
        assert!(
            matches!(c.lookup((1, 1), 6, "NEW.TXT"), Lookup::Hit(Some(ref n)) if n == "New.txt")
        );
        c.apply((1, 1), 6, 7, Change::Removed("a"));
        assert!(matches!(c.lookup((1, 1), 7, "A"), Lookup::Hit(None)));
        // Not current before the change (someone else changed it): dropped.
        c.apply((1, 1), 8, 9, Change::Added("b"));
        assert!(matches!(c.lookup((1, 1), 9, "B"), Lookup::Stale));
    }

    #[test]
    fn short_names_follow_own_changes() {
        let long = "A long file name.txt";
        let short = crate::short_names::alone(long).unwrap();
        let mut c = CaseCache::new(4);
        c.insert((1, 1), 5, ["x".to_owned()]);
        assert!(matches!(
            c.lookup_short((1, 1), 5, &short),
            Lookup::Hit(None)
        ));
        c.apply((1, 1), 5, 6, Change::Added(long));
        assert!(matches!(c.lookup_short((1, 1), 6, &short), Lookup::Hit(Some(ref n)) if n == long));
        assert_eq!(c.short_of((1, 1), 6, long), Some(Some(short.clone())));
        assert_eq!(c.short_of((1, 1), 6, "x"), Some(None));
        assert_eq!(c.short_of((1, 1), 7, "x"), None, "out of date");
        c.apply((1, 1), 6, 7, Change::Removed(long));
        assert!(matches!(
            c.lookup_short((1, 1), 7, &short),
            Lookup::Hit(None)
        ));
    }

    #[test]
    fn removing_one_of_two_names_that_fold_alike_rescans() {
        let mut c = CaseCache::new(4);
        c.insert((1, 1), 5, ["X".to_owned(), "x".to_owned()]);
        assert!(matches!(c.lookup((1, 1), 5, "X"), Lookup::Hit(Some(ref n)) if n == "X"));
        c.apply((1, 1), 5, 6, Change::Removed("X"));
        assert!(matches!(c.lookup((1, 1), 6, "X"), Lookup::Stale));
        // A removal the entry does not know of also drops it.
        c.insert((1, 1), 6, ["x".to_owned()]);
        c.apply((1, 1), 6, 7, Change::Removed("zz"));
        assert!(matches!(c.lookup((1, 1), 7, "X"), Lookup::Stale));
    }
}
