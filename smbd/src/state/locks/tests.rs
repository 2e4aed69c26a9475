//! Tests of the byte-range lock rules and the waiter queue.

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
