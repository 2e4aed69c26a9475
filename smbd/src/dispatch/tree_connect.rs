//! TREE_CONNECT (MS-SMB2 3.3.5.7) and TREE_DISCONNECT (3.3.5.8).

use std::sync::Arc;

use super::{Ctx, HResult, Reply, bad_request};
use crate::access::{FILE_ALL_ACCESS, WRITE_RIGHTS};
use crate::proto::NtStatus;
use crate::proto::session::{decode_fixed4, encode_fixed4};
use crate::proto::tree::{
    SHARE_CAP_CONTINUOUS_AVAILABILITY, TreeConnectRequest, encode_tree_connect_response,
    share_flags, share_type,
};
use crate::state::EncryptMode;
use crate::state::session::Tree;

/// SMB2_SHAREFLAG_ACCESS_BASED_DIRECTORY_ENUM (MS-SMB2 2.2.10).
const ACCESS_BASED_DIRECTORY_ENUM: u32 = 0x0000_0800;

/// TREE_CONNECT: attaches a share to the session; the audit log records the outcome (event
/// 5140).
pub(crate) fn tree_connect(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    let req = TreeConnectRequest::decode(ctx.msg).map_err(bad_request)?;
    let result = connect(ctx, out, &req);
    let status = match &result {
        Ok(_) => NtStatus::SUCCESS,
        Err(s) => *s,
    };
    let mut details = vec![("share", req.share_name().to_string())];
    if result.is_ok() {
        details.push(("tree", format!("{:#x}", ctx.hdr.tree_id)));
    }
    ctx.audit(crate::audit::Event::ShareAccess, status, details);
    result
}

fn connect(ctx: &mut Ctx<'_>, out: &mut Vec<u8>, req: &TreeConnectRequest) -> HResult {
    let session = ctx.session()?.clone();
    let sec = ctx.security.clone().ok_or(NtStatus::USER_SESSION_DELETED)?;
    let share = ctx.server().share(req.share_name()).ok_or_else(|| {
        tracing::info!(peer = %ctx.conn.peer, path = %req.path, "tree connect to unknown share");
        NtStatus::BAD_NETWORK_NAME
    })?;
    if sec.is_null && !share.is_ipc() {
        // An anonymous (or guest) session reaches IPC$ only.
        tracing::info!(peer = %ctx.conn.peer, share = %share.name, "tree connect refused: anonymous session");
        return Err(NtStatus::ACCESS_DENIED);
    }
    let neg = ctx.conn.negotiated();
    let server_encrypt = ctx.server().settings().encrypt;
    let wants_encrypt = share.encrypt != EncryptMode::Off || server_encrypt != EncryptMode::Off;
    let required =
        share.encrypt == EncryptMode::Required || server_encrypt == EncryptMode::Required;
    let can = neg.can_encrypt() && !sec.is_null;
    if required && !can {
        tracing::info!(peer = %ctx.conn.peer, share = %share.name, "tree connect refused: encryption required");
        return Err(NtStatus::ACCESS_DENIED);
    }
    let encrypt_data = wants_encrypt && can && !share.is_ipc();
    let who = super::security::Subject::of(ctx.server(), &sec);
    let mut max_access = super::security::share_access(&share, &who) & FILE_ALL_ACCESS;
    if share.read_only {
        max_access &= !WRITE_RIGHTS;
    }
    if max_access == 0 {
        tracing::info!(peer = %ctx.conn.peer, share = %share.name, "tree connect refused by share permissions");
        return Err(NtStatus::ACCESS_DENIED);
    }
    let id = session.next_tree_id();
    let tree = Arc::new(Tree {
        id,
        share: share.clone(),
        encrypt_data,
        max_access,
    });
    session.insert_tree(tree, &ctx.server().settings().limits)?;
    ctx.hdr.tree_id = id;
    let (kind, mut flags) = if share.is_ipc() {
        (share_type::PIPE, share_flags::NO_CACHING)
    } else {
        (share_type::DISK, share_flags::MANUAL_CACHING)
    };
    if encrypt_data {
        flags |= share_flags::ENCRYPT_DATA;
    }
    if share.access_based_enumeration {
        flags |= ACCESS_BASED_DIRECTORY_ENUM;
    }
    // Continuous availability is a 3.x capability (MS-SMB2 3.3.5.7).
    let caps = if share.continuous_availability && neg.is_smb3() {
        SHARE_CAP_CONTINUOUS_AVAILABILITY
    } else {
        0
    };
    encode_tree_connect_response(out, kind, flags, caps, max_access);
    Ok(Reply::Done(NtStatus::SUCCESS))
}

/// TREE_DISCONNECT: closes the tree's opens and forgets it.
pub(crate) async fn tree_disconnect(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    decode_fixed4(ctx.msg).map_err(bad_request)?;
    let session = ctx.session()?.clone();
    let tree = ctx.tree()?.clone();
    session.remove_tree(tree.id);
    super::close::close_all(ctx.conn, &session, Some(tree.id));
    encode_fixed4(out);
    Ok(Reply::Done(NtStatus::SUCCESS))
}

/// Ends every tree whose share is no longer served as it was (a reload removed or changed
/// it): the tree is forgotten, so the client's next request on it gets NETWORK_NAME_DELETED
/// and it connects again, and its opens close. Returns how many trees ended.
pub fn end_trees_of_unserved_shares(ctx: &Arc<crate::state::ServerContext>) -> usize {
    let served = ctx.shares();
    let mut ended = 0;
    for session in ctx.sessions.all() {
        let conn = session
            .bound_channels()
            .into_iter()
            .find_map(|id| ctx.channels.get(id))
            .and_then(|c| c.into_any().downcast::<crate::conn::Connection>().ok());
        for tree in session.trees() {
            if served.iter().any(|s| Arc::ptr_eq(s, &tree.share)) {
                continue;
            }
            session.remove_tree(tree.id);
            ended += 1;
            match &conn {
                Some(conn) => super::close::close_all(conn, &session, Some(tree.id)),
                None => tracing::warn!(
                    tree = tree.id,
                    "tree of a session without a connection left its opens"
                ),
            }
        }
    }
    ended
}
