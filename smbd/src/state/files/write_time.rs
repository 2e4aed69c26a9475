//! When a file's LastWriteTime moves, as Windows moves it (MS-FSA 2.1.4.17 and 2.1.5.14.2; Samba
//! emulates the same): pure state, the time of day passed in.
//!
//! - A write does not move the write time at once: the first write through an open moves it
//!   [`UPDATE_DELAY`] later, to the time it then is. Further writes through that open move it
//!   only when the open closes, to the time of the close.
//! - FLUSH and a SET_INFO of basic or end-of-file information bring a pending move forward to
//!   the time they run (nothing is pending after them).
//! - A write time set explicitly through an open is sticky: writes through that open no longer
//!   move it. -1 (MS-FSCC 2.4.7) freezes it the same way without setting it, -2 thaws it.
//!
//! The file system moves its own modification time on every write, so while the server holds
//! the write time it reports its own value ([`WriteTimes::reported`]), and when the last open
//! of the file closes it leaves its value on disk ([`WriteTimes::closed`]). The delayed move is
//! evaluated lazily: whenever the state is asked, every move due by then has happened, at the
//! time it was due.

use std::collections::HashMap;

/// How long after an open's first write the write time moves: two seconds, as Windows and
/// Samba ("smbd:writetimeupdatedelay").
pub const UPDATE_DELAY: u64 = 2 * 10_000_000;

/// One open's part in the file's write time.
#[derive(Debug, Default, Clone, Copy)]
struct OpenWrites {
    /// The open has written: its one delayed move is scheduled or done.
    triggered: bool,
    /// When the delayed move is due (FILETIME), until it happens.
    due: Option<u64>,
    /// Written since the write time last moved: the close moves it.
    dirty: bool,
    /// The open set the write time, or froze it: its writes do not move it.
    sticky: bool,
}

/// The write time of one file as its opens move it.
#[derive(Debug, Default)]
pub struct WriteTimes {
    /// The write time the server reports instead of the file system's, while it holds one.
    held: Option<u64>,
    opens: HashMap<u64, OpenWrites>,
}

impl WriteTimes {
    /// Makes every delayed move due by `now` happen, at the time it was due (the last of
    /// them, when several opens' moves are due).
    fn settle(&mut self, now: u64) {
        let mut moved = None;
        for o in self.opens.values_mut() {
            if let Some(due) = o.due.filter(|&d| d <= now) {
                o.due = None;
                o.dirty = false;
                moved = moved.max(Some(due));
            }
        }
        if moved.is_some() {
            self.held = moved;
        }
    }

    /// Whether a write through open `uid` needs the file's metadata before it: the write time
    /// the file system has ([`Self::wrote`]'s `before`) while the server holds none, and the
    /// attributes at the open's first write (which sets ARCHIVE).
    pub fn needs_baseline(&self, uid: u64) -> bool {
        self.held.is_none()
            || !self
                .opens
                .get(&uid)
                .is_some_and(|o| o.triggered || o.sticky)
    }

    /// Open `uid` wrote at `now`; `before` is the file system's write time before the write
    /// (read when [`Self::needs_baseline`]). Returns whether this is the open's first write
    /// (the one that schedules its delayed move).
    pub fn wrote(&mut self, uid: u64, before: Option<u64>, now: u64) -> bool {
        self.settle(now);
        if self.held.is_none() {
            self.held = before;
        }
        let o = self.opens.entry(uid).or_default();
        if o.sticky {
            return false;
        }
        o.dirty = true;
        if o.triggered {
            return false;
        }
        o.triggered = true;
        o.due = Some(now.saturating_add(UPDATE_DELAY));
        true
    }

    /// FLUSH or SET_INFO through open `uid` at `now`: a pending move of the open happens now.
    /// Returns the new write time when it moved.
    pub fn flushed(&mut self, uid: u64, now: u64) -> Option<u64> {
        self.settle(now);
        let o = self.opens.get_mut(&uid)?;
        if o.sticky || !o.dirty {
            return None;
        }
        o.dirty = false;
        o.due = None;
        self.held = Some(now);
        Some(now)
    }

    /// Open `uid` set the write time to `time`: held from now on, and the open's writes no
    /// longer move it.
    pub fn set(&mut self, uid: u64, time: u64, now: u64) {
        self.settle(now);
        let o = self.opens.entry(uid).or_default();
        *o = OpenWrites {
            sticky: true,
            ..OpenWrites::default()
        };
        self.held = Some(time);
    }

    /// Open `uid` froze (-1) or thawed (-2) the write time: its writes stop or resume moving
    /// it. Freezing holds the time the file shows now (`current`).
    pub fn freeze(&mut self, uid: u64, frozen: bool, current: u64, now: u64) {
        self.settle(now);
        if frozen && self.held.is_none() {
            self.held = Some(current);
        }
        let o = self.opens.entry(uid).or_default();
        o.sticky = frozen;
        if frozen {
            o.dirty = false;
            o.due = None;
        }
    }

    /// The write time to report, given the file system's.
    pub fn reported(&mut self, on_disk: u64, now: u64) -> u64 {
        self.settle(now);
        self.held.unwrap_or(on_disk)
    }

    /// Open `uid` closed at `now`, leaving `others` opens of the file. Returns the write time
    /// to leave on disk: the close's own when the open wrote since the last move, or the held
    /// one when this was the last open (the file system moved its own on every write).
    pub fn closed(&mut self, uid: u64, others: usize, now: u64) -> Option<u64> {
        self.settle(now);
        let o = self.opens.remove(&uid).unwrap_or_default();
        if o.dirty && !o.sticky {
            self.held = Some(now);
        }
        let held = self.held;
        if others == 0 {
            self.held = None;
            self.opens.clear();
            return held;
        }
        if o.dirty && !o.sticky { held } else { None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 10_000_000;

    #[test]
    fn first_write_moves_the_time_two_seconds_later() {
        let mut w = WriteTimes::default();
        assert!(w.needs_baseline(1));
        assert!(w.wrote(1, Some(100 * S), 101 * S));
        assert_eq!(w.reported(101 * S + 1, 102 * S), 100 * S);
        assert_eq!(w.reported(101 * S + 1, 104 * S), 103 * S);
        // Nothing written since: the close leaves the moved time.
        assert_eq!(w.closed(1, 0, 105 * S), Some(103 * S));
    }

    #[test]
    fn later_writes_move_it_at_close() {
        let mut w = WriteTimes::default();
        w.wrote(1, Some(100 * S), 101 * S);
        assert!(!w.wrote(1, None, 104 * S));
        assert_eq!(w.reported(0, 107 * S), 103 * S);
        assert_eq!(w.closed(1, 0, 109 * S), Some(109 * S));
    }

    #[test]
    fn flush_brings_the_move_forward_and_set_times_stick() {
        let mut w = WriteTimes::default();
        w.wrote(1, Some(100 * S), 101 * S);
        assert_eq!(w.flushed(1, 101 * S + 5), Some(101 * S + 5));
        assert_eq!(w.flushed(1, 102 * S), None);
        w.set(2, 500 * S, 102 * S);
        assert_eq!(w.reported(0, 110 * S), 500 * S);
        assert_eq!(w.closed(2, 1, 111 * S), None);
        assert_eq!(w.closed(1, 0, 112 * S), Some(500 * S));
    }

    #[test]
    fn frozen_open_does_not_move_it() {
        let mut w = WriteTimes::default();
        w.freeze(1, true, 100 * S, 100 * S);
        assert!(!w.wrote(1, None, 101 * S));
        assert_eq!(w.reported(0, 110 * S), 100 * S);
        w.freeze(1, false, 100 * S, 110 * S);
        assert!(w.wrote(1, None, 111 * S));
        assert_eq!(w.reported(0, 114 * S), 113 * S);
    }
}
