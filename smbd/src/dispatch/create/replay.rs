//! The replay step of CREATE (MS-SMB2 3.3.5.9.10 with SMB2_FLAGS_REPLAY_OPERATION): a client
//! that lost the answer to a durable v2 CREATE (a broken connection, another channel) sends it
//! again with the same CreateGuid, and is answered with the open it already has instead of a
//! second open. The oplock or lease reported follows what the replay asks for, within what the
//! open holds; the open itself does not change.

use std::sync::Arc;
use std::time::Duration;

use super::super::{Ctx, HResult, Reply, caching};
use super::contexts::{Contexts, DurableAsk};
use crate::proto::NtStatus;
use crate::proto::create::CreateRequest;
use crate::proto::header::flags;
use crate::proto::oplock::OplockLevel;
use crate::state::opens::{CreateUnderWay, Open};
use crate::state::session::Tree;

/// Answers a CREATE whose CreateGuid names an open this client already has, if it does: a
/// replay (SMB2_FLAGS_REPLAY_OPERATION) of the CREATE of a connected open still eligible gets
/// that open; a persistent open waiting for its client is reclaimed by a replay; a CREATE that
/// is not a replay gets STATUS_DUPLICATE_OBJECTID (smbtorture replay.replay5, replay6).
pub(super) async fn step(
    ctx: &mut Ctx<'_>,
    out: &mut Vec<u8>,
    tree: &Arc<Tree>,
    req: &CreateRequest<'_>,
    cx: &Contexts,
) -> Option<HResult> {
    let Some(DurableAsk::V2(q)) = cx.durable else {
        return None;
    };
    let replay = ctx.hdr.flags & flags::REPLAY_OPERATION != 0;
    let client = ctx.conn.negotiated().client_guid;
    let user = ctx.security.as_ref()?.auth.token.user.clone();
    let server = ctx.conn.server.clone();
    // Only the user's own opens: a ClientGuid and a CreateGuid are the client's to choose,
    // so they name nothing of another user's.
    let open = server.opens.find(|o| {
        o.owner.client_guid == client
            && o.owner.user == user
            && o.create_guid() == Some(q.create_guid)
    })?;
    let persistent = open.durability().is_some_and(|d| d.persistent);
    match (open.disconnected_at().is_some(), replay) {
        (false, true) if open.replay_eligible() => Some(answer(ctx, out, &open, req, cx)),
        (false, false) => Some(Err(NtStatus::DUPLICATE_OBJECTID)),
        (true, false) if persistent => Some(Err(NtStatus::DUPLICATE_OBJECTID)),
        (true, true) if persistent => Some(reclaim(ctx, out, tree, &open, req, cx).await),
        _ => None,
    }
}

/// Reclaims a persistent open waiting for its client by a replay of its CREATE, and answers
/// it as that CREATE was answered.
async fn reclaim(
    ctx: &mut Ctx<'_>,
    out: &mut Vec<u8>,
    tree: &Arc<Tree>,
    open: &Arc<Open>,
    req: &CreateRequest<'_>,
    cx: &Contexts,
) -> HResult {
    let server = ctx.conn.server.clone();
    let user = ctx
        .security
        .as_ref()
        .ok_or(NtStatus::USER_SESSION_DELETED)?
        .auth
        .token
        .user
        .clone();
    let old = server.opens.reclaim(open.id.persistent, |o| {
        if !Arc::ptr_eq(&o.share, &tree.share) {
            return Err(NtStatus::OBJECT_NAME_NOT_FOUND);
        }
        if o.owner.user != user {
            return Err(NtStatus::ACCESS_DENIED);
        }
        Ok(())
    })?;
    let moved = super::durable::take_over(ctx, tree, &old).await?;
    answer(ctx, out, &moved, req, cx)
}

/// Marks a durable v2 CREATE as under way until the returned guard drops. A replay of one that
/// has not finished (it waits for a break) is refused with STATUS_FILE_NOT_AVAILABLE, as Samba
/// answers (smbtorture replay.dhv2-pending*-sane; Windows answers ACCESS_DENIED).
pub(super) fn begin(ctx: &Ctx<'_>, cx: &Contexts) -> Result<Option<CreateUnderWay>, NtStatus> {
    let Some(DurableAsk::V2(q)) = cx.durable else {
        return Ok(None);
    };
    let client = ctx.conn.negotiated().client_guid;
    match ctx.conn.server.opens.begin_create(client, q.create_guid) {
        Some(g) => Ok(Some(g)),
        None if ctx.hdr.flags & flags::REPLAY_OPERATION != 0 => Err(NtStatus::FILE_NOT_AVAILABLE),
        None => Ok(None),
    }
}

/// How strong an oplock level is.
fn rank(level: u8) -> u8 {
    match OplockLevel(level) {
        OplockLevel::LEVEL_II => 1,
        OplockLevel::EXCLUSIVE => 2,
        OplockLevel::BATCH => 3,
        _ => 0,
    }
}

/// Answers a replayed CREATE with `open` (no second open is made).
pub(super) fn answer(
    ctx: &mut Ctx<'_>,
    out: &mut Vec<u8>,
    open: &Arc<Open>,
    req: &CreateRequest<'_>,
    cx: &Contexts,
) -> HResult {
    let (action, stat) = open.created().ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
    let held = caching::held_by(open);
    let mut contexts = Vec::new();
    let (level, durable_ok) = if req.oplock_level == OplockLevel::LEASE.0 {
        let same_key = matches!((&held.lease, &cx.lease), (Some(h), Some(r)) if h.key == r.key);
        if !same_key {
            // A replay must name the lease the open has (smbtorture
            // replay.replay-dhv2-oplock-lease, replay-dhv2-lease3).
            return Err(NtStatus::ACCESS_DENIED);
        }
        contexts.extend(held.contexts());
        (OplockLevel::LEASE.0, held.durable_ok)
    } else {
        let level = if rank(req.oplock_level) <= rank(held.oplock_level) {
            req.oplock_level
        } else {
            held.oplock_level
        };
        (level, OplockLevel(level) == OplockLevel::BATCH)
    };
    let durability = open.durability();
    if durable_ok || durability.is_some_and(|d| d.persistent) {
        let timeout = durability.map_or(Duration::ZERO, |d| d.timeout);
        contexts.push(super::reply::dh2q(
            timeout,
            durability.is_some_and(|d| d.persistent),
        ));
    }
    ctx.created = Some(open.id);
    super::reply::encode_open(out, open, &stat, action, level, contexts);
    tracing::debug!(
        file = open.id.persistent,
        "replayed CREATE answered with its open"
    );
    Ok(Reply::Done(NtStatus::SUCCESS))
}
