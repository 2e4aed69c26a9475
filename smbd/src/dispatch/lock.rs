//! LOCK (MS-SMB2 3.3.5.14): byte-range locks, shared or exclusive, taken and released through
//! the file's entry in the server's file table.
//!
//! A request either unlocks (its first element says so, and every element must be a plain
//! unlock; those done before a failing one stay done, 3.3.5.14.1) or locks (every element a
//! shared or exclusive lock; all or nothing, 3.3.5.14.2). Only a request of one element may
//! block: without SMB2_LOCKFLAG_FAIL_IMMEDIATELY a lock that meets another waits for its range
//! (see [`super::lock_wait`]) instead of failing with STATUS_LOCK_NOT_GRANTED. Resilient (and,
//! once they exist, durable) opens answer replayed requests from Open.LockSequenceArray.

use super::create::conflict_status;
use super::lock_wait::{self, Wait};
use super::{Ctx, HResult, Reply, bad_request};
use crate::proto::NtStatus;
use crate::proto::io::{LockElement, decode_lock, lock_flags};
use crate::proto::negotiate::{Dialect, caps};
use crate::state::files::{ByteLock, FileEntry};
use crate::state::lock_sequence::{SequenceSlot, Verified};
use crate::state::opens::Open;

/// LOCK.
pub(crate) async fn lock(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    let req = decode_lock(ctx.msg).map_err(bad_request)?;
    let open = ctx.open(req.file_id)?;
    let entry = open.entry.clone().ok_or(NtStatus::INVALID_DEVICE_REQUEST)?;
    let unlocking = req.locks[0].flags & lock_flags::UNLOCK != 0;
    if !unlocking
        && ctx
            .security
            .as_ref()
            .is_some_and(|sec| super::check::expired(ctx, sec))
    {
        // An expired session may release its locks, not take new ones (Windows; smbtorture
        // smb2.session.expire2s).
        return Err(NtStatus::NETWORK_SESSION_EXPIRED);
    }
    let slot = match verify_sequence(ctx, &open, req.lock_sequence) {
        Verified::Replay => {
            encode_lock_response(out);
            return Ok(Reply::Done(NtStatus::SUCCESS));
        }
        Verified::Proceed(slot) => slot,
    };
    let wait = if unlocking {
        unlock(&open, &entry, &req.locks)?;
        None
    } else {
        // Others' caching of the file goes first (MS-FSA 2.1.4.12 LOCK_CONTROL).
        super::caching::before(&ctx.conn.server, &open, super::caching::Op::Lock).await;
        take(ctx, &open, &entry, &req.locks)?
    };
    match wait {
        None => {
            if let Some(slot) = slot {
                open.record_lock_sequence(slot);
            }
            if open.durability().is_some_and(|d| d.persistent) {
                // A persistent open's locks survive a restart: stored before the answer.
                super::persistent::save(&ctx.conn.server, &open).await;
            }
            encode_lock_response(out);
            Ok(Reply::Done(NtStatus::SUCCESS))
        }
        Some(wait) => lock_wait::pend(ctx, open, entry, wait, slot).await,
    }
}

/// Lock sequence verification (MS-SMB2 3.3.5.14), for the opens and connections it applies to:
/// never on 2.0.2, whose LockSequence is reserved.
fn verify_sequence(ctx: &Ctx<'_>, open: &Open, lock_sequence: u32) -> Verified {
    let neg = ctx.conn.negotiated();
    if neg.dialect.is_none_or(|d| d == Dialect::Smb202) {
        return Verified::Proceed(None);
    }
    let multichannel = neg.is_smb3() && neg.server_caps & caps::MULTI_CHANNEL != 0;
    if !open.verifies_lock_sequence(multichannel) {
        return Verified::Proceed(None);
    }
    open.verify_lock_sequence(lock_sequence)
}

/// Releases each element's lock in order; the first that fails ends the request, and those
/// released before it stay released (MS-SMB2 3.3.5.14.1).
fn unlock(open: &Open, entry: &FileEntry, elements: &[LockElement]) -> Result<(), NtStatus> {
    for el in elements {
        if el.flags != lock_flags::UNLOCK {
            return Err(NtStatus::INVALID_PARAMETER);
        }
        entry
            .unlock(open.uid, el.offset, el.length)
            .map_err(conflict_status)?;
    }
    Ok(())
}

/// Takes every element's lock or none (MS-SMB2 3.3.5.14.2). Elements are judged in order: the
/// first one that is invalid or cannot be granted decides the status. A lone blocking element
/// that meets another lock waits, when its request stands alone in its frame; the wait is
/// returned.
fn take(
    ctx: &Ctx<'_>,
    open: &Open,
    entry: &FileEntry,
    elements: &[LockElement],
) -> Result<Option<Wait>, NtStatus> {
    let max = ctx.server().settings().limits.max_locks_per_file;
    let mut locks = Vec::with_capacity(elements.len());
    let mut invalid = None;
    for el in elements {
        match byte_lock(open.uid, el, elements.len()) {
            Ok(l) => locks.push(l),
            Err(status) => {
                invalid = Some(status);
                break;
            }
        }
    }
    if let Some(status) = invalid {
        // A refusal among the elements before the invalid one comes first; nothing is taken.
        entry
            .check_all(&locks, max)
            .map_err(|(_, c)| conflict_status(c))?;
        return Err(status);
    }
    let blocking = elements[0].flags & lock_flags::FAIL_IMMEDIATELY == 0;
    if blocking && ctx.alone {
        let id = ctx.server().next_id();
        return match entry.lock_or_wait(locks[0], max, id) {
            Ok(None) => Ok(None),
            Ok(Some(granted)) => Ok(Some(Wait {
                id,
                lock: locks[0],
                granted,
            })),
            Err(c) => Err(conflict_status(c)),
        };
    }
    // Only a request alone in its frame waits (its handler sends the interim response ahead of
    // everything else); inside a compound chain a blocking lock that meets another fails now.
    entry
        .lock_all(&locks, max)
        .map_err(|(_, c)| conflict_status(c))?;
    Ok(None)
}

/// The lock an element asks for: shared or exclusive, with or without FAIL_IMMEDIATELY (which
/// a request of several elements must carry on each), over a range that does not wrap past
/// the last offset (MS-FSA 2.1.5.7: STATUS_INVALID_LOCK_RANGE).
fn byte_lock(owner: u64, el: &LockElement, count: usize) -> Result<ByteLock, NtStatus> {
    let blocking = el.flags & lock_flags::FAIL_IMMEDIATELY == 0;
    let exclusive = match el.flags & !lock_flags::FAIL_IMMEDIATELY {
        lock_flags::SHARED => false,
        lock_flags::EXCLUSIVE => true,
        _ => return Err(NtStatus::INVALID_PARAMETER),
    };
    if blocking && count > 1 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if el.length > 0 && el.offset.checked_add(el.length - 1).is_none() {
        return Err(NtStatus::INVALID_LOCK_RANGE);
    }
    Ok(ByteLock {
        owner,
        offset: el.offset,
        length: el.length,
        exclusive,
    })
}

/// The LOCK response body (MS-SMB2 2.2.27): StructureSize 4, Reserved.
pub(super) fn encode_lock_response(out: &mut Vec<u8>) {
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
}

/// Remembers the sequence of a lock request that succeeded after waiting.
pub(super) fn record(open: &Open, slot: Option<SequenceSlot>) {
    if let Some(slot) = slot {
        open.record_lock_sequence(slot);
    }
}
