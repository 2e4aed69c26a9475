//! The credit window of a connection (MS-SMB2 3.3.1.1 CommandSequenceWindow, 3.3.5.2.3).

use std::collections::BTreeSet;

/// Which message ids a client may use next, and how many credits to grant.
#[derive(Debug)]
pub struct CreditWindow {
    /// Lowest message id not yet used.
    low: u64,
    /// One past the highest message id granted.
    high: u64,
    /// Ids in `low..high` already used.
    used: BTreeSet<u64>,
    /// Most credits outstanding at once.
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
            used: BTreeSet::new(),
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
        if self.used.range(message_id..end).next().is_some() {
            return Err(CreditError::Reused);
        }
        self.used.extend(message_id..end);
        while self.used.remove(&self.low) {
            self.low += 1;
        }
        Ok(())
    }

    /// Credits outstanding: granted ids not used yet.
    pub fn outstanding(&self) -> u64 {
        self.high - self.low - self.used.len() as u64
    }

    /// Grants up to `requested` credits (at least 1 when none are outstanding, none past the
    /// ceiling), returning the number granted.
    pub fn grant(&mut self, requested: u16) -> u16 {
        let room = self.max.saturating_sub(self.outstanding());
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
}
