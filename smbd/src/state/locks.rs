//! The byte-range locks of one file (MS-FSA 2.1.5.7 ByteRangeLockList, 2.1.5.8 unlock, 2.1.4.10
//! conflicts with I/O) and the queue of blocking lock requests waiting for a range to come free
//! (MS-SMB2 3.3.5.14.2). Plain data: [`super::files::FileEntry`] keeps one under its lock, next
//! to the opens that own the locks, and is the only way to change it.
//!
//! Waiters are served first come, first served: whenever locks are released, the queue is walked
//! in arrival order and every waiter whose lock now fits is granted (its lock taken on its
//! behalf) and woken.

use std::collections::VecDeque;

use tokio::sync::oneshot;

use super::files::FileConflict;

/// A byte-range lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteLock {
    /// The open that holds it.
    pub owner: u64,
    /// First byte.
    pub offset: u64,
    /// Length in bytes; a zero-length lock covers no byte but still conflicts with locks that
    /// straddle its offset.
    pub length: u64,
    /// Exclusive (true) or shared.
    pub exclusive: bool,
}

impl ByteLock {
    /// The last byte, for a lock of at least one byte whose range does not wrap (the LOCK
    /// handler refuses those with STATUS_INVALID_LOCK_RANGE).
    fn last(&self) -> u64 {
        self.offset.saturating_add(self.length - 1)
    }

    /// Whether the lock covers any byte of the I/O range `offset`, `length` (zero-length
    /// locks and I/O cover none).
    fn covers(&self, offset: u64, length: u64) -> bool {
        if self.length == 0 || length == 0 {
            return false;
        }
        let io_last = offset.saturating_add(length - 1);
        self.offset <= io_last && offset <= self.last()
    }

    /// Whether two locks' ranges meet. Two zero-length locks never do; a zero-length lock at
    /// X meets a range that holds both X-1 and X (the range starts before X and reaches it).
    fn meets(&self, o: &Self) -> bool {
        match (self.length, o.length) {
            (0, 0) => false,
            (0, _) => o.offset < self.offset && self.offset <= o.last(),
            (_, 0) => self.offset < o.offset && o.offset <= self.last(),
            _ => self.offset <= o.last() && o.offset <= self.last(),
        }
    }
}

/// Whether the new lock `l` cannot be granted beside the held lock `held`: the ranges meet and
/// either is exclusive, except that an open may stack a shared lock on its own exclusive one.
fn refuses(held: &ByteLock, l: &ByteLock) -> bool {
    let stacks = held.exclusive && !l.exclusive && held.owner == l.owner;
    held.meets(l) && (l.exclusive || held.exclusive) && !stacks
}

/// How a wait for a lock ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitEnd {
    /// The lock was granted: it is held now.
    Granted,
    /// The waiting open left the file; nothing is held.
    Dropped,
}

/// A blocking lock request waiting for its range.
#[derive(Debug)]
struct Waiter {
    id: u64,
    lock: ByteLock,
    wake: oneshot::Sender<WaitEnd>,
}

/// The locks held on one file and the requests waiting for one.
#[derive(Debug, Default)]
pub struct RangeLocks {
    held: Vec<ByteLock>,
    waiting: VecDeque<Waiter>,
}

impl RangeLocks {
    /// The first lock of `locks` that could not be taken, with the reason, had they been taken
    /// in order (each later one checked against the earlier ones too), with at most `max`
    /// locks held or waited for. Nothing changes.
    pub fn first_refusal(&self, locks: &[ByteLock], max: usize) -> Option<(usize, FileConflict)> {
        let used = self.held.len() + self.waiting.len();
        for (i, l) in locks.iter().enumerate() {
            if used + i >= max {
                return Some((i, FileConflict::TooManyLocks));
            }
            if self.refused(l, &locks[..i]) {
                return Some((i, FileConflict::Locked));
            }
        }
        None
    }

    /// Whether a held lock, or one of `earlier`, is in the way of `l`.
    fn refused(&self, l: &ByteLock, earlier: &[ByteLock]) -> bool {
        self.held.iter().chain(earlier).any(|h| refuses(h, l))
    }

    /// Takes every lock of `locks` or none (see [`RangeLocks::first_refusal`]).
    pub fn lock_all(
        &mut self,
        locks: &[ByteLock],
        max: usize,
    ) -> Result<(), (usize, FileConflict)> {
        if let Some(refused) = self.first_refusal(locks, max) {
            return Err(refused);
        }
        self.held.extend_from_slice(locks);
        Ok(())
    }

    /// Takes `lock`, or queues it as waiter `id` when a held lock is in the way: the receiver
    /// learns when the wait ends. Beyond `max` locks (held or waited for) it is refused
    /// outright.
    pub fn lock_or_wait(
        &mut self,
        lock: ByteLock,
        max: usize,
        id: u64,
    ) -> Result<Option<oneshot::Receiver<WaitEnd>>, FileConflict> {
        match self.first_refusal(&[lock], max) {
            None => {
                self.held.push(lock);
                Ok(None)
            }
            Some((_, FileConflict::Locked)) => {
                let (wake, rx) = oneshot::channel();
                self.waiting.push_back(Waiter { id, lock, wake });
                Ok(Some(rx))
            }
            Some((_, c)) => Err(c),
        }
    }

    /// Removes waiter `id` from the queue; false when it is not there (granted or dropped).
    pub fn cancel_wait(&mut self, id: u64) -> bool {
        let before = self.waiting.len();
        self.waiting.retain(|w| w.id != id);
        self.waiting.len() != before
    }

    /// Releases `owner`'s lock of exactly `offset` and `length`, its exclusive one first when
    /// it holds both kinds there (MS-FSA 2.1.5.8), and wakes the waiters that now fit.
    pub fn unlock(&mut self, owner: u64, offset: u64, length: u64) -> Result<(), FileConflict> {
        let mine = |l: &ByteLock| l.owner == owner && l.offset == offset && l.length == length;
        let pos = self
            .held
            .iter()
            .position(|l| mine(l) && l.exclusive)
            .or_else(|| self.held.iter().position(mine))
            .ok_or(FileConflict::NotLocked)?;
        self.held.remove(pos);
        self.grant_waiters();
        Ok(())
    }

    /// Releases a lock equal to `lock`, if held (a granted wait given back), and wakes the
    /// waiters that now fit.
    pub fn release(&mut self, lock: &ByteLock) {
        if let Some(pos) = self.held.iter().position(|l| l == lock) {
            self.held.remove(pos);
            self.grant_waiters();
        }
    }

    /// Drops every lock and waiter of `owner` (its open is leaving the file) and wakes the
    /// waiters that now fit; its own waiters learn [`WaitEnd::Dropped`].
    pub fn release_owner(&mut self, owner: u64) {
        self.held.retain(|l| l.owner != owner);
        let (gone, stay): (Vec<_>, Vec<_>) =
            self.waiting.drain(..).partition(|w| w.lock.owner == owner);
        self.waiting = stay.into();
        for w in gone {
            let _ = w.wake.send(WaitEnd::Dropped);
        }
        self.grant_waiters();
    }

    /// Grants, in arrival order, every waiter whose lock fits beside the held ones (and those
    /// granted before it in this pass). A waiter already counts against the cap, so granting
    /// it never passes the cap.
    fn grant_waiters(&mut self) {
        let mut i = 0;
        while i < self.waiting.len() {
            let lock = self.waiting[i].lock;
            if !self.refused(&lock, &[])
                && let Some(w) = self.waiting.remove(i)
            {
                self.held.push(lock);
                // A waiter whose task is gone leaves its lock held until its open closes or
                // its task gives it back; the send failing changes nothing here.
                let _ = w.wake.send(WaitEnd::Granted);
            } else {
                i += 1;
            }
        }
    }

    /// Whether I/O by `owner` on the range conflicts with a lock (MS-FSA 2.1.4.10): a read
    /// with another open's exclusive lock; a write with that or with any shared lock, the
    /// writer's own included.
    pub fn io_conflicts(&self, owner: u64, offset: u64, length: u64, write: bool) -> bool {
        self.held
            .iter()
            .any(|l| l.covers(offset, length) && if l.exclusive { l.owner != owner } else { write })
    }

    /// How many locks are held.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// How many requests wait.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bl(owner: u64, offset: u64, length: u64, exclusive: bool) -> ByteLock {
        ByteLock {
            owner,
            offset,
            length,
            exclusive,
        }
    }

    fn take(r: &mut RangeLocks, l: ByteLock) -> Result<(), FileConflict> {
        r.lock_all(&[l], 100).map_err(|(_, c)| c)
    }

    #[test]
    fn shared_and_exclusive() {
        let mut r = RangeLocks::default();
        take(&mut r, bl(1, 0, 10, true)).unwrap();
        assert!(take(&mut r, bl(2, 5, 10, false)).is_err());
        take(&mut r, bl(2, 10, 10, false)).unwrap();
        take(&mut r, bl(3, 10, 10, false)).unwrap();
        assert!(r.io_conflicts(2, 0, 1, false));
        assert!(!r.io_conflicts(1, 0, 1, true));
        assert_eq!(r.unlock(1, 0, 9), Err(FileConflict::NotLocked));
        r.unlock(1, 0, 10).unwrap();
        assert!(!r.io_conflicts(2, 0, 1, true));
        // A shared lock stops writes, its owner's too, but no reads.
        assert!(r.io_conflicts(2, 12, 1, true));
        assert!(!r.io_conflicts(2, 12, 1, false));
    }

    /// An open may stack shared locks on its own exclusive lock, and nothing else: not an
    /// exclusive on its shared, not two exclusives, not another open's shared.
    #[test]
    fn stacking() {
        let mut r = RangeLocks::default();
        take(&mut r, bl(1, 0, 10, true)).unwrap();
        take(&mut r, bl(1, 0, 10, false)).unwrap();
        take(&mut r, bl(1, 0, 10, false)).unwrap();
        assert!(take(&mut r, bl(2, 0, 10, false)).is_err());
        assert!(take(&mut r, bl(1, 0, 10, true)).is_err());
        // The exclusive goes first: another open may then share.
        r.unlock(1, 0, 10).unwrap();
        take(&mut r, bl(2, 0, 10, false)).unwrap();
        let mut s = RangeLocks::default();
        take(&mut s, bl(1, 0, 10, false)).unwrap();
        assert!(take(&mut s, bl(1, 0, 10, true)).is_err());
    }

    /// A zero-length lock at X meets only ranges holding both X-1 and X (smbtorture
    /// smb2.lock.zerobytelength), whoever owns them; two zero-length locks never meet.
    #[test]
    fn zero_length_locks() {
        for owner in [1, 2] {
            for (offset, length, refused) in [
                (10, 0, false),
                (9, 1, false),
                (10, 1, false),
                (11, 1, false),
                (9, 2, true),
                (10, 2, false),
                (9, 3, true),
            ] {
                for zero_first in [true, false] {
                    let mut r = RangeLocks::default();
                    let (a, b) = (bl(1, 10, 0, true), bl(owner, offset, length, true));
                    let (a, b) = if zero_first { (a, b) } else { (b, a) };
                    take(&mut r, a).unwrap();
                    assert_eq!(take(&mut r, b).is_err(), refused, "{offset}/{length}");
                }
            }
        }
        // Zero-length locks hide no byte from I/O.
        let mut r = RangeLocks::default();
        take(&mut r, bl(1, 5, 0, true)).unwrap();
        assert!(!r.io_conflicts(2, 0, 10, true));
    }

    #[test]
    fn the_last_byte_of_the_offset_range() {
        let mut r = RangeLocks::default();
        take(&mut r, bl(1, u64::MAX, 1, true)).unwrap();
        assert!(take(&mut r, bl(2, u64::MAX, 1, true)).is_err());
        assert!(take(&mut r, bl(2, u64::MAX - 1, 2, true)).is_err());
        take(&mut r, bl(2, u64::MAX - 1, 1, true)).unwrap();
        assert!(r.io_conflicts(2, u64::MAX - 5, 10, false));
    }

    #[test]
    fn requests_are_all_or_nothing_and_capped() {
        let mut r = RangeLocks::default();
        r.lock_all(&[bl(1, 0, 1, true), bl(1, 1, 1, true)], 3)
            .unwrap();
        assert_eq!(
            r.lock_all(&[bl(1, 2, 1, true), bl(1, 3, 1, true)], 3),
            Err((1, FileConflict::TooManyLocks))
        );
        assert_eq!(r.held(), 2);
        // A later lock of the same request that clashes with an earlier one refuses both.
        assert_eq!(
            r.lock_all(&[bl(1, 10, 5, true), bl(2, 12, 1, false)], 10),
            Err((1, FileConflict::Locked))
        );
        assert_eq!(r.held(), 2);
    }

    /// Waiters are granted in arrival order as ranges come free; shared waiters together.
    #[test]
    fn waiters_first_come_first_served() {
        let mut r = RangeLocks::default();
        take(&mut r, bl(1, 0, 10, true)).unwrap();
        let mut a = r
            .lock_or_wait(bl(2, 0, 10, true), 100, 20)
            .unwrap()
            .unwrap();
        let mut b = r
            .lock_or_wait(bl(3, 5, 1, false), 100, 30)
            .unwrap()
            .unwrap();
        let mut c = r
            .lock_or_wait(bl(4, 5, 1, false), 100, 40)
            .unwrap()
            .unwrap();
        assert_eq!(r.waiting(), 3);
        r.unlock(1, 0, 10).unwrap();
        assert_eq!(a.try_recv(), Ok(WaitEnd::Granted));
        assert!(b.try_recv().is_err() && c.try_recv().is_err());
        r.unlock(2, 0, 10).unwrap();
        assert_eq!(b.try_recv(), Ok(WaitEnd::Granted));
        assert_eq!(c.try_recv(), Ok(WaitEnd::Granted));
        assert_eq!((r.held(), r.waiting()), (2, 0));
    }

    #[test]
    fn waiters_leave_with_their_open_or_when_cancelled() {
        let mut r = RangeLocks::default();
        take(&mut r, bl(1, 0, 10, true)).unwrap();
        let mut a = r
            .lock_or_wait(bl(2, 0, 10, true), 100, 20)
            .unwrap()
            .unwrap();
        let mut b = r
            .lock_or_wait(bl(3, 0, 10, true), 100, 30)
            .unwrap()
            .unwrap();
        assert!(r.cancel_wait(30));
        assert!(!r.cancel_wait(30));
        r.release_owner(2);
        assert_eq!(a.try_recv(), Ok(WaitEnd::Dropped));
        assert!(b.try_recv().is_err());
        // The holder leaving frees the range for the next waiter.
        let mut c = r
            .lock_or_wait(bl(3, 0, 10, true), 100, 31)
            .unwrap()
            .unwrap();
        r.release_owner(1);
        assert_eq!(c.try_recv(), Ok(WaitEnd::Granted));
        r.release(&bl(3, 0, 10, true));
        assert_eq!(r.held(), 0);
    }
}
