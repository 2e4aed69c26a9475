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

    /// The locks `owner` holds.
    pub fn held_by(&self, owner: u64) -> Vec<ByteLock> {
        self.held
            .iter()
            .filter(|l| l.owner == owner)
            .copied()
            .collect()
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
mod tests;
