//! The server-wide count of sessions whose authentication is under way, so that no client can
//! pin unbounded acceptor state before it has proved who it is. A [`HandshakeSlot`] is held by
//! every in-progress exchange and gives its place back when dropped, so the count is the number
//! of live exchanges by construction.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// How often a full sweep for expired exchanges may run when the server-wide cap is reached.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Sessions being authenticated on the whole server.
#[derive(Debug, Default)]
pub struct Handshakes {
    live: AtomicUsize,
    last_sweep: Mutex<Option<SystemTime>>,
}

/// One exchange's place among the server's in-progress sessions.
#[derive(Debug)]
pub struct HandshakeSlot(Arc<Handshakes>);

impl Drop for HandshakeSlot {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Handshakes {
    /// A place for a new exchange, unless `max` are under way.
    pub fn try_acquire(self: &Arc<Self>, max: usize) -> Option<HandshakeSlot> {
        self.live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| HandshakeSlot(self.clone()))
    }

    /// Exchanges under way.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }

    /// Whether a sweep of every connection for expired exchanges may run now (at most once a
    /// second, so a client hammering a full server cannot make each attempt walk every
    /// connection).
    pub fn sweep_due(&self, now: SystemTime) -> bool {
        let mut last = self.last_sweep.lock().unwrap_or_else(|p| p.into_inner());
        let due = last.is_none_or(|t| now.duration_since(t).map_or(true, |d| d >= SWEEP_EVERY));
        if due {
            *last = Some(now);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_and_given_back_on_drop() {
        let h = Arc::new(Handshakes::default());
        let a = h.try_acquire(2).unwrap();
        let _b = h.try_acquire(2).unwrap();
        assert!(h.try_acquire(2).is_none());
        drop(a);
        assert_eq!(h.live(), 1);
        assert!(h.try_acquire(2).is_some());
    }

    #[test]
    fn sweeps_run_at_most_once_a_second() {
        let h = Handshakes::default();
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(100);
        assert!(h.sweep_due(t));
        assert!(!h.sweep_due(t + Duration::from_millis(500)));
        assert!(h.sweep_due(t + Duration::from_secs(1)));
    }
}
