//! The durable step of CREATE: whether a new open is durable (MS-SMB2 3.3.5.9.6 DHnQ,
//! 3.3.5.9.10 DH2Q) and the reconnect of a preserved one (3.3.5.9.7 DHnC, 3.3.5.9.12 DH2C).

use std::sync::Arc;
use std::time::Duration;

use super::super::{Ctx, HResult, Reply, caching};
use super::contexts::{Contexts, DurableAsk, Reconnect};
use crate::proto::NtStatus;
use crate::proto::create::{CreateRequest, ResponseContext};
use crate::proto::create_contexts::{DHANDLE_FLAG_PERSISTENT, DurableRequestV1, DurableRequestV2};
use crate::state::opens::{Durability, Open};
use crate::state::session::Tree;

/// How long a v1 durable open is kept after its connection is lost.
pub(crate) const V1_TIMEOUT: Duration = Duration::from_secs(60);
/// The timeout of a v2 durable open that asks for none (Windows: 60 s).
pub(crate) const V2_DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest timeout a v2 durable open gets, whatever it asks (Windows: 300 s).
pub(crate) const V2_MAX_TIMEOUT: Duration = Duration::from_secs(300);

/// Makes `open` durable when the request asked and the open's caching allows it, or
/// persistent when a 3.x client asks on a continuously available share (stored before the
/// CREATE is answered); returns the response context to add.
pub(super) async fn grant(
    ctx: &Ctx<'_>,
    open: &Open,
    cx: &Contexts,
    caching: &caching::Granted,
) -> Option<ResponseContext> {
    let ask = cx.durable?;
    if let DurableAsk::V2(q) = ask
        && q.persistent()
        && open.share.continuous_availability
        // The handle store restores opens of files by path; a named stream's open stays
        // merely durable.
        && !open.entry.as_ref().is_some_and(|e| e.is_stream())
        && ctx.conn.negotiated().is_smb3()
        && let Some(c) = grant_persistent(ctx, open, cx, q).await
    {
        return Some(c);
    }
    // A durable handle needs a batch oplock or a lease with handle caching.
    if !caching.allows_durable() {
        return None;
    }
    let (durability, data) = match ask {
        DurableAsk::V1 => {
            let mut d = Vec::with_capacity(8);
            DurableRequestV1::encode_response(&mut d);
            (
                Durability {
                    version: 1,
                    timeout: V1_TIMEOUT,
                    persistent: false,
                    create_guid: None,
                    app_instance: cx.app_instance.map(|a| a.0),
                },
                ResponseContext {
                    name: b"DHnQ".to_vec(),
                    data: d,
                },
            )
        }
        DurableAsk::V2(q) => {
            let timeout = v2_timeout(q);
            (
                Durability {
                    version: 2,
                    timeout,
                    persistent: false,
                    create_guid: Some(q.create_guid),
                    app_instance: cx.app_instance.map(|a| a.0),
                },
                super::reply::dh2q(timeout, false),
            )
        }
    };
    open.set_durability(Some(durability));
    Some(data)
}

/// The timeout a DH2Q gets: the server's default for none, capped at the longest.
fn v2_timeout(q: DurableRequestV2) -> Duration {
    match q.timeout_ms {
        0 => V2_DEFAULT_TIMEOUT,
        ms => Duration::from_millis(u64::from(ms)).min(V2_MAX_TIMEOUT),
    }
}

/// Closes the opens of an earlier instance of the same application (MS-SMB2 3.3.5.9.13): same
/// AppInstanceId, same share and path, made by another client (ClientGuid) of the same user
/// (another user's opens are out of reach). Their clients are not told (smbtorture
/// durable-v2-open.app-instance: no break, the old handle is simply closed). Returns whether
/// closing one deleted the file.
pub(super) async fn replace_app_instance(
    ctx: &Ctx<'_>,
    tree: &Tree,
    path: &str,
    app: [u8; 16],
) -> bool {
    let server = &ctx.conn.server;
    let folded = vfs::fold_name(path);
    let client = ctx.conn.negotiated().client_guid;
    let Some(user) = ctx.security.as_ref().map(|s| s.auth.token.user.clone()) else {
        return false;
    };
    let old = server.opens.evict(&server.sessions, |o| {
        o.owner.client_guid != client
            && o.owner.user == user
            && o.durability().is_some_and(|d| d.app_instance == Some(app))
            && Arc::ptr_eq(&o.share, &tree.share)
            && vfs::fold_name(&o.path()) == folded
    });
    let mut deleted = false;
    for o in old {
        tracing::debug!(
            file = o.id.persistent,
            "open of an earlier application instance closed"
        );
        deleted |= super::super::close::finish(ctx.conn, &o).await;
    }
    deleted
}

/// A new open of a file that a disconnected durable open holds closes that open first, as its
/// client can no longer be asked to give up its oplock or lease: the new open then finds the
/// file as the durable open leaves it (deleted, when it was to be deleted on close; smbtorture
/// durable-open.delete_on_close1, open2-oplock). A disconnected persistent handle is kept for
/// its client instead, and the new open is refused with STATUS_FILE_NOT_AVAILABLE (MS-SMB2
/// 3.3.5.9). An open for attributes only leaves both alone, and so does an open of the same
/// client with the waiting open's lease key (it breaks nothing of its own lease). Called once
/// the new open passed its access check; returns whether closing one deleted the file.
pub(super) async fn purge_disconnected(
    ctx: &Ctx<'_>,
    tree: &Tree,
    path: &str,
    desired: u32,
    lease_key: Option<[u8; 16]>,
) -> Result<bool, NtStatus> {
    const STAT_ONLY: u32 = crate::access::FILE_READ_ATTRIBUTES
        | crate::access::FILE_WRITE_ATTRIBUTES
        | crate::access::SYNCHRONIZE
        | crate::access::READ_CONTROL;
    if desired & !STAT_ONLY == 0 {
        return Ok(false);
    }
    let server = &ctx.conn.server;
    let folded = vfs::fold_name(path);
    let same_file =
        |o: &Open| Arc::ptr_eq(&o.share, &tree.share) && vfs::fold_name(&o.path()) == folded;
    if server
        .opens
        .find(|o| {
            o.disconnected_at().is_some()
                && o.durability().is_some_and(|d| d.persistent)
                && same_file(o)
        })
        .is_some()
    {
        return Err(NtStatus::FILE_NOT_AVAILABLE);
    }
    let client = ctx.conn.negotiated().client_guid;
    let own_lease = |o: &Open| {
        let held = caching::held_by(o).lease.map(|l| l.key);
        held.is_some() && held == lease_key && o.owner.client_guid == client
    };
    let old = server.opens.purge_disconnected(|o| {
        o.durability().is_some_and(|d| !d.persistent) && same_file(o) && !own_lease(o)
    });
    let mut deleted = false;
    for o in old {
        tracing::debug!(
            file = o.id.persistent,
            "disconnected durable open closed by a new open"
        );
        deleted |= o.end().await;
    }
    Ok(deleted)
}

/// A persistent handle (MS-SMB2 3.3.5.9.10): durable whatever its caching, and in the handle
/// store before the CREATE is answered; `None` when the store refused it.
async fn grant_persistent(
    ctx: &Ctx<'_>,
    open: &Open,
    cx: &Contexts,
    q: DurableRequestV2,
) -> Option<ResponseContext> {
    let timeout = v2_timeout(q);
    open.set_durability(Some(Durability {
        version: 2,
        timeout,
        persistent: true,
        create_guid: Some(q.create_guid),
        app_instance: cx.app_instance.map(|a| a.0),
    }));
    if !super::super::persistent::save(&ctx.conn.server, open).await {
        open.set_durability(None);
        return None;
    }
    Some(super::reply::dh2q(timeout, true))
}

/// Reconnects the preserved open a DHnC or DH2C names to this session and tree, and answers
/// the CREATE with it.
pub(super) async fn reconnect(
    ctx: &mut Ctx<'_>,
    out: &mut Vec<u8>,
    tree: &Arc<Tree>,
    req: &CreateRequest<'_>,
    cx: &Contexts,
    rc: Reconnect,
) -> HResult {
    let sec = ctx.security.clone().ok_or(NtStatus::USER_SESSION_DELETED)?;
    let client_guid = ctx.conn.negotiated().client_guid;
    let (file_id, create_guid) = match rc {
        Reconnect::V1(c) => (c.file_id, None),
        Reconnect::V2(c) => (c.file_id, Some(c.create_guid)),
    };
    let wants_persistent = matches!(rc, Reconnect::V2(c) if c.flags & DHANDLE_FLAG_PERSISTENT != 0);
    let server = ctx.conn.server.clone();
    let name = super::super::path::to_vfs_path(&req.name)?;
    let old = server.opens.reclaim(file_id.persistent, |o| {
        let Some(d) = o.durability() else {
            return Err(NtStatus::OBJECT_NAME_NOT_FOUND);
        };
        if d.persistent != wants_persistent {
            return Err(NtStatus::OBJECT_NAME_NOT_FOUND);
        }
        // DH2C names the open by its CreateGuid too (a v1 open has none: zero).
        if let Some(guid) = create_guid
            && d.create_guid.unwrap_or_default() != guid
        {
            return Err(NtStatus::OBJECT_NAME_NOT_FOUND);
        }
        if !Arc::ptr_eq(&o.share, &tree.share) {
            return Err(NtStatus::OBJECT_NAME_NOT_FOUND);
        }
        // With a lease: the same client, key and name (MS-SMB2 3.3.5.9.7); otherwise the
        // name is not looked at (smbtorture durable-open.reopen2).
        caching::check_reconnect(o, cx, client_guid, &name)?;
        if o.owner.user != sec.auth.token.user {
            return Err(NtStatus::ACCESS_DENIED);
        }
        Ok(())
    })?;
    let open = take_over(ctx, tree, &old).await?;
    let stat = match open.file() {
        Some(f) => f.stat().await.map_err(|e| NtStatus::from(&e))?,
        None => return Err(NtStatus::OBJECT_NAME_NOT_FOUND),
    };
    ctx.created = Some(open.id);
    let granted = caching::held_by(&open);
    super::reply::encode_open(
        out,
        &open,
        &stat,
        1,
        granted.oplock_level,
        granted.contexts(),
    );
    Ok(Reply::Done(NtStatus::SUCCESS))
}

/// Moves an open reclaimed from the table (`old`) onto this request's session and tree, as
/// the same open with the same ids; a persistent one is stored again, connected.
pub(super) async fn take_over(
    ctx: &Ctx<'_>,
    tree: &Tree,
    old: &Open,
) -> Result<Arc<Open>, NtStatus> {
    let open = old
        .reconnected(old.id.volatile, tree.id, ctx.hdr.session_id)
        .ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
    let open = Arc::new(open);
    let server = &ctx.conn.server;
    let session = ctx.session()?.clone();
    server
        .opens
        .restore(&session, open.clone(), &server.settings().limits)?;
    if open.durability().is_some_and(|d| d.persistent) {
        super::super::persistent::save(server, &open).await;
    }
    Ok(open)
}
