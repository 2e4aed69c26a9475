//! File name tunneling, as NTFS does it: when a name that has a short name leaves a directory
//! (removed, or renamed away), the pair is remembered for [`TUNNEL_AGE`]; a file created (or
//! renamed in) under that short name in the same directory within that time gets the long
//! name back. Programs that save by writing a new file under the short name and removing the
//! old one (and smbtorture `smb2.mangle`, which removes a file and creates it again by its
//! short name) keep the long name.

use crate::names::fold_name;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a removed name is remembered: Windows' MaximumTunnelEntryAgeInSeconds default.
pub(crate) const TUNNEL_AGE: Duration = Duration::from_secs(15);
/// Entries kept at most (the oldest goes first).
const TUNNEL_CAP: usize = 1024;

/// Recently removed long names by (directory, folded short name). `D` identifies a directory.
pub(crate) struct Tunnel<D> {
    entries: Mutex<HashMap<(D, String), (String, Instant)>>,
}

impl<D> Default for Tunnel<D> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<D: Hash + Eq + Clone> Tunnel<D> {
    /// Remembers that `long`, whose short name is `short`, left directory `dir` now.
    pub(crate) fn record(&self, dir: D, short: &str, long: &str) {
        let now = Instant::now();
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        e.retain(|_, (_, at)| now.duration_since(*at) < TUNNEL_AGE);
        if e.len() >= TUNNEL_CAP
            && let Some(oldest) = e
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(k, _)| k.clone())
        {
            e.remove(&oldest);
        }
        e.insert((dir, fold_name(short)), (long.to_owned(), now));
    }

    /// The long name a new `name` in `dir` takes: the one removed from `dir` under the short
    /// name `name` less than [`TUNNEL_AGE`] ago, if any.
    pub(crate) fn long_name(&self, dir: D, name: &str) -> Option<String> {
        let e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        e.get(&(dir, fold_name(name)))
            .filter(|(_, at)| at.elapsed() < TUNNEL_AGE)
            .map(|(long, _)| long.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_per_directory_and_case_aside() {
        let t = Tunnel::default();
        t.record(1u64, "LONGN~1.TXT", "Long name.txt");
        assert_eq!(
            t.long_name(1, "longn~1.txt").as_deref(),
            Some("Long name.txt")
        );
        assert_eq!(t.long_name(2, "LONGN~1.TXT"), None);
        assert_eq!(t.long_name(1, "OTHER~1.TXT"), None);
    }

    #[test]
    fn bounded() {
        let t = Tunnel::default();
        for i in 0..TUNNEL_CAP + 10 {
            t.record(i, "S~1", "long");
        }
        assert!(t.entries.lock().unwrap().len() <= TUNNEL_CAP);
    }
}
