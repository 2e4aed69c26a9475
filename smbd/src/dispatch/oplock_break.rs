//! OPLOCK_BREAK: the client's acknowledgment of an oplock break (MS-SMB2 3.3.5.22.1) or of a
//! lease break (3.3.5.22.2).

use super::{Ctx, HResult, Reply, bad_request};
use crate::oplock::{LeaseId, LeaseKey, LeaseState};
use crate::proto::NtStatus;
use crate::proto::oplock::{BreakAcknowledgment, LeaseBreakAck, OplockBreak};

/// OPLOCK_BREAK.
pub(crate) fn oplock_break(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    let ack = BreakAcknowledgment::decode(ctx.msg).map_err(bad_request)?;
    let server = ctx.conn.server.clone();
    let now = server.clock.now();
    match ack {
        BreakAcknowledgment::Oplock(b) => {
            let open = ctx.open(b.file_id)?;
            let entry = open
                .entry
                .clone()
                .ok_or(NtStatus::INVALID_OPLOCK_PROTOCOL)?;
            let acked = entry
                .caching(true, |c, _| c.ack_oplock(open.uid, b.level, now))
                .map_err(|e| e.nt_status())?;
            super::breaks::send(&server, &entry, acked.notices);
            OplockBreak {
                level: acked.state.oplock_level(),
                file_id: open.id,
            }
            .encode(out);
        }
        BreakAcknowledgment::Lease(l) => {
            let id = LeaseId {
                client_guid: ctx.conn.negotiated().client_guid,
                key: LeaseKey(l.key),
            };
            let entry = server
                .files
                .entry_of_lease(&id)
                .ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
            // The lease must have an open of this user: a ClientGuid and a lease key are the
            // client's to choose, so they must not reach another user's lease.
            let user = ctx
                .security
                .as_ref()
                .ok_or(NtStatus::USER_SESSION_DELETED)?
                .auth
                .token
                .user
                .clone();
            let opens: Vec<u64> = entry
                .caching(false, |c, _| c.lease(&id).map(|l| l.opens().to_vec()))
                .unwrap_or_default();
            let mine = opens
                .iter()
                .filter_map(|o| server.opens.get(*o))
                .any(|o| o.owner.user == user);
            if !mine {
                return Err(NtStatus::OBJECT_NAME_NOT_FOUND);
            }
            let acked = entry
                .caching(true, |c, _| {
                    c.ack_lease(id, LeaseState::from_bits(l.state), now)
                })
                .map_err(|e| e.nt_status())?;
            super::breaks::send(&server, &entry, acked.notices);
            LeaseBreakAck {
                flags: 0,
                key: l.key,
                state: acked.state.bits(),
            }
            .encode(out);
        }
    }
    Ok(Reply::Done(NtStatus::SUCCESS))
}
