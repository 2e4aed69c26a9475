//! The replay cache (RFC 4120 3.2.3 and 10, MS-KILE 3.4.5): every authenticator accepted is
//! remembered for as long as it could still be accepted, so that a second presentation fails.
//!
//! Lifetime: an authenticator passes the clock-skew check while `|ctime - now| <= skew`, so it
//! is acceptable until `ctime + skew`. Each entry is kept exactly that long, measured against the
//! `now` the caller passes in (never the system clock), and is dropped only once that time has
//! passed. Entries are never evicted early: when the cache holds `capacity` live entries a new
//! authenticator is refused ([`ReplayError::CacheFull`]) rather than forgetting one that could
//! still be replayed, as RFC 4120 3.2.3 requires of a server that cannot remember. Only
//! authenticators that decrypted under a valid ticket reach the cache, so filling it takes
//! valid credentials.
//!
//! Key: a 16-byte digest ([`AuthenticatorId`]) of the client principal (name and realm), ctime,
//! cusec and the authenticator's ciphertext. The first three are the identity RFC 4120 3.2.3
//! names; the ciphertext (which nobody without the session key can alter) keeps two distinct
//! authenticators a client happened to stamp with the same microsecond apart, as MIT's rcache
//! does. Each entry costs the digest and its ctime (24 bytes) plus the ordered set's overhead.

use std::collections::BTreeSet;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// Default capacity: one million live authenticators (a few tens of MB at most).
pub const DEFAULT_CAPACITY: usize = 1_000_000;

/// The identity of an authenticator in the cache (truncated SHA-256, see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AuthenticatorId([u8; 16]);

/// Why the cache refused an authenticator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayError {
    /// The same authenticator was accepted before and is still inside its window
    /// (KRB_AP_ERR_REPEAT).
    Replayed,
    /// The cache already holds its capacity of live authenticators; refusing is the only way to
    /// keep every one of them detectable.
    CacheFull,
}

impl ReplayError {
    /// A fixed description of the refusal.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Replayed => "authenticator replayed",
            Self::CacheFull => "replay cache full of live authenticators",
        }
    }
}

/// A bounded cache of authenticator identities, each kept until its window closes.
pub struct ReplayCache {
    capacity: usize,
    /// `(ctime, id)` ordered by ctime, so the oldest windows close first.
    seen: Mutex<BTreeSet<(i64, AuthenticatorId)>>,
}

impl std::fmt::Debug for ReplayCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayCache")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

impl Default for ReplayCache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

/// The identity of an authenticator: client principal (`name@REALM`), ctime, cusec and the
/// authenticator ciphertext.
pub fn fingerprint(client: &str, ctime: i64, cusec: u32, cipher: &[u8]) -> AuthenticatorId {
    let mut h = Sha256::new();
    h.update((client.len() as u64).to_be_bytes());
    h.update(client.as_bytes());
    h.update(ctime.to_be_bytes());
    h.update(cusec.to_be_bytes());
    h.update(cipher);
    let full: [u8; 32] = h.finalize().into();
    let mut id = [0u8; 16];
    id.copy_from_slice(&full[..16]);
    AuthenticatorId(id)
}

impl ReplayCache {
    /// A cache holding at most `capacity` live entries (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            seen: Mutex::new(BTreeSet::new()),
        }
    }

    /// Records the authenticator `id` stamped `ctime`, seen at `now` with the allowed `skew`
    /// (all in seconds since 1970). Entries whose window `ctime + skew` ended before `now` are
    /// dropped first; then a live duplicate is [`ReplayError::Replayed`] and a full cache is
    /// [`ReplayError::CacheFull`]. The caller has already checked `|ctime - now| <= skew`.
    pub fn check_and_insert(
        &self,
        id: AuthenticatorId,
        ctime: i64,
        now: i64,
        skew: i64,
    ) -> Result<(), ReplayError> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        // An entry is live while now <= ctime + skew, i.e. ctime >= now - skew.
        let oldest_live = now.saturating_sub(skew);
        while let Some(&(t, _)) = seen.first() {
            if t >= oldest_live {
                break;
            }
            seen.pop_first();
        }
        if seen.contains(&(ctime, id)) {
            return Err(ReplayError::Replayed);
        }
        if seen.len() >= self.capacity {
            return Err(ReplayError::CacheFull);
        }
        seen.insert((ctime, id));
        Ok(())
    }

    /// Number of entries held (some may have expired since the last insertion).
    pub fn len(&self) -> usize {
        self.seen.lock().map(|g| g.len()).unwrap_or(0)
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most live entries the cache holds before refusing new ones.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SKEW: i64 = 300;

    fn id(n: i64) -> AuthenticatorId {
        fingerprint("alice@R", n, 7, b"cipher")
    }

    #[test]
    fn entry_rejects_replays_until_ctime_plus_skew_then_expires() {
        let c = ReplayCache::new(10);
        // The client's clock is a full skew ahead: its window ends at now + 2 * skew.
        let now = 1_000;
        let ctime = now + SKEW;
        let a = fingerprint("alice@R", ctime, 1, b"x");
        assert_eq!(c.check_and_insert(a, ctime, now, SKEW), Ok(()));
        // Still refused at every instant the authenticator would pass the skew check
        // (insertion time + skew has long passed by the end).
        for t in [now + 1, now + SKEW, now + SKEW + 1, ctime + SKEW] {
            assert_eq!(
                c.check_and_insert(a, ctime, t, SKEW),
                Err(ReplayError::Replayed),
                "at {t}"
            );
        }
        // One second later the authenticator fails the skew check anyway; the entry is gone.
        let after = ctime + SKEW + 1;
        assert_eq!(c.check_and_insert(id(after), after, after, SKEW), Ok(()));
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn flood_beyond_capacity_is_refused_and_earlier_entries_still_reject() {
        let c = ReplayCache::new(3);
        let now = 10_000;
        for n in 0..3 {
            assert_eq!(c.check_and_insert(id(now + n), now + n, now, SKEW), Ok(()));
        }
        for n in 3..100 {
            assert_eq!(
                c.check_and_insert(id(now + n), now + n, now, SKEW),
                Err(ReplayError::CacheFull)
            );
        }
        for n in 0..3 {
            assert_eq!(
                c.check_and_insert(id(now + n), now + n, now + 1, SKEW),
                Err(ReplayError::Replayed)
            );
        }
        assert_eq!(c.len(), 3);
        // Once the oldest window closes there is room again, and only for live entries.
        let later = now + SKEW + 1;
        assert_eq!(c.check_and_insert(id(later), later, later, SKEW), Ok(()));
        assert_eq!(
            c.check_and_insert(id(now + 1), now + 1, later, SKEW),
            Err(ReplayError::Replayed)
        );
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn entries_expire_after_their_window_in_ctime_order() {
        let c = ReplayCache::new(100);
        // Inserted out of ctime order: a client behind the server, then one ahead.
        assert_eq!(c.check_and_insert(id(700), 700, 1_000, SKEW), Ok(()));
        assert_eq!(c.check_and_insert(id(1_300), 1_300, 1_000, SKEW), Ok(()));
        assert_eq!(c.check_and_insert(id(1_000), 1_000, 1_000, SKEW), Ok(()));
        // At 1_001 the first window (700 + 300) has closed.
        assert_eq!(c.check_and_insert(id(1_001), 1_001, 1_001, SKEW), Ok(()));
        assert_eq!(c.len(), 3);
        // By 1_601 every earlier window has closed (the last, 1_300's, at 1_600).
        assert_eq!(c.check_and_insert(id(1_601), 1_601, 1_601, SKEW), Ok(()));
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn same_stamp_different_client_or_ciphertext_is_not_a_replay() {
        let c = ReplayCache::new(10);
        let a = fingerprint("alice@R", 5, 1, b"x");
        let b = fingerprint("bob@R", 5, 1, b"x");
        let a2 = fingerprint("alice@R", 5, 1, b"y");
        for x in [a, b, a2] {
            assert_eq!(c.check_and_insert(x, 5, 5, SKEW), Ok(()));
        }
    }
}
