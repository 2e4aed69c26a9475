//! The credit window of a connection (MS-SMB2 3.3.1.1 CommandSequenceWindow, 3.3.5.2.3).

use std::collections::VecDeque;

/// Which message ids a client may use next, and how many credits to grant.
///
/// The window `low..high` never spans more than `max` ids, whatever the client does: a client
/// that leaves one id unused stops getting credits once the window reaches the ceiling, rather
/// than making the server remember ever more used ids beyond the gap. Used ids are one flag
/// each in `used` (at most `max` bytes), allocated only while ids arrive out of order.
#[derive(Debug)]
pub struct CreditWindow {
    /// Lowest message id not yet used.
    low: u64,
    /// One past the highest message id granted.
    high: u64,
    /// `used[i]` tells whether id `low + i` was used (the first is always false).
    used: VecDeque<bool>,
    /// Ids of the window already used.
    used_count: u64,
    /// Most credits outstanding at once, and the widest the window may be.
    max: u64,
}

/// Why a message id was refused; the connection is then dropped (MS-SMB2 3.3.5.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditError {
    /// The id (or one of a multi-credit request's ids) is outside the granted window.
    OutsideWindow,
    /// The id was already used.
    Reused,
}

impl CreditWindow {
    /// A new window granting message id 0 only, with `max` credits at most outstanding.
    pub fn new(max: u16) -> Self {
        Self {
            low: 0,
            high: 1,
            used: VecDeque::new(),
            used_count: 0,
            max: u64::from(max.max(1)),
        }
    }

    /// Consumes `charge` ids from `message_id` (a charge of 0 counts as 1).
    pub fn consume(&mut self, message_id: u64, charge: u16) -> Result<(), CreditError> {
        let charge = u64::from(charge.max(1));
        let end = message_id
            .checked_add(charge)
            .ok_or(CreditError::OutsideWindow)?;
        if message_id < self.low || end > self.high {
            return Err(CreditError::OutsideWindow);
        }
        // Inside the window, which spans at most `max` (a u16) ids: the offsets fit.
        let first = (message_id - self.low) as usize;
        let last = (end - self.low) as usize;
        if self
            .used
            .range(first.min(self.used.len())..last.min(self.used.len()))
            .any(|u| *u)
        {
            return Err(CreditError::Reused);
        }
        if self.used.len() < last {
            self.used.resize(last, false);
        }
        for u in self.used.range_mut(first..last) {
            *u = true;
        }
        self.used_count += charge;
        while self.used.front() == Some(&true) {
            self.used.pop_front();
            self.low += 1;
            self.used_count -= 1;
        }
        if self.used.is_empty() && self.used.capacity() > 256 {
            self.used = VecDeque::new();
        }
        Ok(())
    }

    /// Whether every message id below `id` has been used (their requests have arrived).
    pub fn used_all_before(&self, id: u64) -> bool {
        self.low >= id
    }

    /// Credits outstanding: granted ids not used yet.
    pub fn outstanding(&self) -> u64 {
        self.high - self.low - self.used_count
    }

    /// Grants up to `requested` credits (at least 1 when none are outstanding), returning the
    /// number granted. Neither the outstanding credits nor the window's span pass the ceiling.
    pub fn grant(&mut self, requested: u16) -> u16 {
        let room = self.max.saturating_sub(self.high - self.low);
        let mut give = u64::from(requested).min(room);
        if give == 0 && self.outstanding() == 0 {
            give = 1;
        }
        self.high += give;
        give as u16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_moves_and_refuses_reuse() {
        let mut w = CreditWindow::new(8);
        w.consume(0, 0).unwrap();
        assert_eq!(w.grant(4), 4);
        w.consume(2, 1).unwrap();
        w.consume(1, 1).unwrap();
        assert_eq!(w.consume(1, 1), Err(CreditError::OutsideWindow));
        assert_eq!(w.consume(5, 1), Err(CreditError::OutsideWindow));
        w.consume(3, 2).unwrap();
        assert_eq!(w.outstanding(), 0);
        assert_eq!(w.grant(100), 8);
        assert_eq!(w.grant(100), 0);
    }

    #[test]
    fn out_of_order_ids_are_accepted_once() {
        let mut w = CreditWindow::new(16);
        w.consume(0, 1).unwrap();
        w.grant(10);
        w.consume(5, 1).unwrap();
        assert_eq!(w.consume(5, 1), Err(CreditError::Reused));
        w.consume(1, 4).unwrap();
        assert_eq!(w.outstanding(), 5);
    }

    /// A client that never uses one id cannot make the window (and what the server remembers
    /// of it) grow past the ceiling: grants stop until the gap is used.
    #[test]
    fn an_unused_id_bounds_the_window() {
        let mut w = CreditWindow::new(64);
        w.consume(0, 1).unwrap();
        assert_eq!(w.grant(64), 64);
        // Id 1 is held back; every other id is used and more credits asked for.
        let mut next = 2;
        for _ in 0..10_000 {
            if w.consume(next, 1).is_err() {
                break;
            }
            next += 1;
            w.grant(64);
        }
        assert_eq!(w.high - w.low, 64, "the window stops at the ceiling");
        assert!(w.used.len() <= 64);
        assert_eq!(w.consume(next, 1), Err(CreditError::OutsideWindow));
        // Using the gap moves the window on and grants resume.
        w.consume(1, 1).unwrap();
        assert_eq!(w.outstanding(), 0);
        assert_eq!(w.grant(64), 64);
    }
}
