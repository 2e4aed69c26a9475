//! LOCK (MS-SMB2 3.3.5.14): byte-range locks, shared or exclusive. Blocking requests are
//! answered at once (LOCK_NOT_GRANTED) rather than queued.

use super::{Ctx, HResult, Reply, bad_request};
use crate::proto::NtStatus;
use crate::proto::io::{decode_lock, lock_flags};
use crate::state::files::ByteLock;

/// LOCK.
pub(crate) fn lock(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    let (id, locks) = decode_lock(ctx.msg).map_err(bad_request)?;
    let open = ctx.open(id)?;
    let entry = open
        .entry
        .as_ref()
        .ok_or(NtStatus::INVALID_DEVICE_REQUEST)?;
    let unlocking = locks[0].flags & lock_flags::UNLOCK != 0;
    let mut wanted = Vec::with_capacity(locks.len());
    for l in &locks {
        let flags = l.flags & !lock_flags::FAIL_IMMEDIATELY;
        let valid = if unlocking {
            flags == lock_flags::UNLOCK
        } else {
            flags == lock_flags::SHARED || flags == lock_flags::EXCLUSIVE
        };
        if !valid || (l.length > 0 && l.offset.checked_add(l.length - 1).is_none()) {
            return Err(NtStatus::INVALID_PARAMETER);
        }
        wanted.push(ByteLock {
            owner: open.uid,
            offset: l.offset,
            length: l.length,
            exclusive: flags == lock_flags::EXCLUSIVE,
        });
    }
    if unlocking {
        for l in &wanted {
            entry
                .unlock(open.uid, l.offset, l.length)
                .map_err(super::create::conflict_status)?;
        }
    } else {
        // All or nothing, within the per-file cap (STATUS_INSUFFICIENT_RESOURCES beyond it).
        let max = ctx.conn.server.settings.limits.max_locks_per_file;
        entry
            .lock_all(&wanted, max)
            .map_err(|(_, c)| super::create::conflict_status(c))?;
    }
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    Ok(Reply::Done(NtStatus::SUCCESS))
}
