//! The deadlines of a connection's reader, without I/O: the time and what the reader is doing
//! go in, the next time to look and the verdict come out.
//!
//! - **Handshake** (`handshake_timeout`): counted from the connection; when it passes, the
//!   connection must have negotiated and authenticated a session, or it is closed. Looked at
//!   once, so a connection that negotiates and then only echoes is closed all the same.
//! - **Partial frame** (`frame_timeout`): counted from when the reader first had to wait in the
//!   middle of a frame (right after its first bytes came), however many bytes trickle in after.
//! - **Idle** (`idle_timeout`, once the handshake is done): counted from when the reader began
//!   to wait for a frame. When it passes, a connection that holds nothing (no open, no pending
//!   or running request) is closed; one that does is looked at again an idle period later.
//!
//! The driver arms one timer at [`Deadlines::next`] and calls [`Deadlines::check`] when it
//! fires; nothing is reset per frame. A timer that fires early (the reader's state moved on)
//! only leads to a new [`Deadlines::next`].

use tokio::time::Instant;

use super::frames::Wait;
use crate::limits::Limits;

/// What the deadlines ask of the connection when they pass.
pub(super) trait Watched {
    /// Whether the connection has negotiated and authenticated a session.
    fn handshake_done(&self) -> bool;
    /// Whether closing it would lose an open or a request under way.
    fn busy(&self) -> bool;
}

/// The deadlines of one connection (small: every connection's reader holds one).
#[derive(Debug)]
pub(super) struct Deadlines<'a> {
    limits: &'a Limits,
    /// When the handshake must be done, until it is seen done.
    handshake: Option<Instant>,
    /// Idle time counts from no earlier than this: moved to the time of an idle check that
    /// found the connection busy.
    idle_from: Instant,
}

impl<'a> Deadlines<'a> {
    /// The deadlines of a connection made at `now`.
    pub(super) fn new(limits: &'a Limits, now: Instant) -> Self {
        Self {
            limits,
            handshake: Some(now + limits.handshake_timeout),
            idle_from: now,
        }
    }

    /// When to look next, given what the reader does; `None` when nothing can expire.
    pub(super) fn next(&self, wait: Wait, now: Instant) -> Option<Instant> {
        let due = match wait {
            Wait::MidFrame(since) => Some(since + self.limits.frame_timeout),
            // The idle period starts when the reader waits; while it does not (a frame is
            // being handed over), look again a period from now.
            Wait::Idle(since) if self.handshake.is_none() => self.idle_due(since),
            Wait::No if self.handshake.is_none() => self.idle_due(now),
            Wait::Idle(_) | Wait::No => None,
        };
        match (self.handshake, due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn idle_due(&self, since: Instant) -> Option<Instant> {
        let idle = self.limits.idle_timeout?;
        Some(since.max(self.idle_from) + idle)
    }

    /// Looks at the deadlines at `now`: `Err` with the reason when the connection must close.
    pub(super) fn check(
        &mut self,
        now: Instant,
        wait: Wait,
        conn: &impl Watched,
    ) -> Result<(), &'static str> {
        if self.handshake.is_some_and(|at| now >= at) {
            if !conn.handshake_done() {
                return Err("handshake timeout");
            }
            self.handshake = None;
        }
        match wait {
            Wait::MidFrame(since) if now >= since + self.limits.frame_timeout => {
                Err("frame timeout")
            }
            Wait::Idle(since) if self.handshake.is_none() => {
                match self.idle_due(since) {
                    Some(due) if now >= due => {
                        if !conn.busy() {
                            return Err("idle timeout");
                        }
                        self.idle_from = now;
                    }
                    _ => {}
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::time::Duration;

    #[derive(Default)]
    struct Conn {
        done: Cell<bool>,
        busy: Cell<bool>,
    }

    impl Watched for Conn {
        fn handshake_done(&self) -> bool {
            self.done.get()
        }
        fn busy(&self) -> bool {
            self.busy.get()
        }
    }

    fn limits() -> Limits {
        Limits {
            handshake_timeout: Duration::from_secs(30),
            frame_timeout: Duration::from_secs(10),
            idle_timeout: Some(Duration::from_secs(100)),
            ..Limits::default()
        }
    }

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn the_handshake_deadline_holds_whatever_the_traffic() {
        let t0 = Instant::now();
        let limits = limits();
        let mut d = Deadlines::new(&limits, t0);
        let conn = Conn::default();
        // Frames keep coming (the reader never waits long): the deadline does not move.
        assert_eq!(
            d.next(Wait::Idle(t0 + 29 * S), t0 + 29 * S),
            Some(t0 + 30 * S)
        );
        assert_eq!(d.check(t0 + 29 * S, Wait::No, &conn), Ok(()));
        assert_eq!(
            d.check(t0 + 30 * S, Wait::Idle(t0 + 29 * S), &conn),
            Err("handshake timeout")
        );
        // Done in time: the deadline is gone and idleness counts instead.
        let mut d = Deadlines::new(&limits, t0);
        conn.done.set(true);
        assert_eq!(d.check(t0 + 30 * S, Wait::Idle(t0 + 5 * S), &conn), Ok(()));
        assert_eq!(
            d.next(Wait::Idle(t0 + 5 * S), t0 + 30 * S),
            Some(t0 + 105 * S)
        );
    }

    #[test]
    fn a_partial_frame_must_end_in_time() {
        let t0 = Instant::now();
        let limits = limits();
        let mut d = Deadlines::new(&limits, t0);
        let conn = Conn::default();
        let w = Wait::MidFrame(t0 + 2 * S);
        assert_eq!(d.next(w, t0 + 2 * S), Some(t0 + 12 * S));
        assert_eq!(d.check(t0 + 11 * S, w, &conn), Ok(()));
        assert_eq!(d.check(t0 + 12 * S, w, &conn), Err("frame timeout"));
        // Before the handshake, the earlier of the two deadlines.
        assert_eq!(d.next(Wait::MidFrame(t0 + 25 * S), t0), Some(t0 + 30 * S));
    }

    #[test]
    fn idleness_closes_only_what_holds_nothing() {
        let t0 = Instant::now();
        let limits = limits();
        let mut d = Deadlines::new(&limits, t0);
        let conn = Conn::default();
        conn.done.set(true);
        conn.busy.set(true);
        let w = Wait::Idle(t0 + 40 * S);
        assert_eq!(d.check(t0 + 30 * S, w, &conn), Ok(()));
        assert_eq!(d.next(w, t0 + 30 * S), Some(t0 + 140 * S));
        // Busy at the deadline: looked at again a period later.
        assert_eq!(d.check(t0 + 140 * S, w, &conn), Ok(()));
        assert_eq!(d.next(w, t0 + 140 * S), Some(t0 + 240 * S));
        conn.busy.set(false);
        assert_eq!(d.check(t0 + 239 * S, w, &conn), Ok(()));
        assert_eq!(d.check(t0 + 240 * S, w, &conn), Err("idle timeout"));
        // Never, when there is no idle timeout and nothing else to wait for.
        let never = Limits {
            idle_timeout: None,
            ..limits
        };
        let mut d = Deadlines::new(&never, t0);
        assert_eq!(d.check(t0 + 30 * S, Wait::No, &conn), Ok(()));
        assert_eq!(d.next(Wait::Idle(t0 + 30 * S), t0 + 30 * S), None);
    }
}
