//! The replay cache (RFC 4120 3.2.3): authenticators seen within the clock skew, bounded in
//! memory and in time.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// Default capacity.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// A bounded cache of authenticator fingerprints.
pub struct ReplayCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    seen: HashMap<[u8; 32], i64>,
    order: VecDeque<([u8; 32], i64)>,
}

impl std::fmt::Debug for ReplayCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayCache")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl Default for ReplayCache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

/// The fingerprint of an authenticator: client, ctime, cusec and the authenticator ciphertext.
pub fn fingerprint(client: &str, ctime: i64, cusec: u32, cipher: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update((client.len() as u64).to_be_bytes());
    h.update(client.as_bytes());
    h.update(ctime.to_be_bytes());
    h.update(cusec.to_be_bytes());
    h.update(cipher);
    h.finalize().into()
}

impl ReplayCache {
    /// A cache holding at most `capacity` entries (the oldest are dropped beyond that).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Records `fp` seen at `now`; false if it was already seen. Entries older than `skew`
    /// seconds are dropped first (an authenticator that old fails the skew check anyway).
    pub fn check_and_insert(&self, fp: [u8; 32], now: i64, skew: i64) -> bool {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let inner = &mut *g;
        while let Some(&(old, t)) = inner.order.front() {
            if t >= now - skew && inner.order.len() < self.capacity {
                break;
            }
            inner.order.pop_front();
            if inner.seen.get(&old) == Some(&t) {
                inner.seen.remove(&old);
            }
        }
        if inner.seen.contains_key(&fp) {
            return false;
        }
        inner.seen.insert(fp, now);
        inner.order.push_back((fp, now));
        true
    }

    /// Number of entries held.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|g| g.seen.len()).unwrap_or(0)
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_replays_and_expires_and_bounds() {
        let c = ReplayCache::new(3);
        let a = fingerprint("alice@R", 100, 1, b"x");
        assert!(c.check_and_insert(a, 100, 300));
        assert!(!c.check_and_insert(a, 101, 300));
        // After the skew window the entry is gone.
        assert!(c.check_and_insert(a, 1000, 300));
        for i in 0..10 {
            c.check_and_insert(fingerprint("b", i, 0, b""), 1000, 300);
        }
        assert!(c.len() <= 3);
    }
}
