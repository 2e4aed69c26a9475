//! The reply-contexts step of CREATE: the response contexts for what the request asked
//! (MS-SMB2 2.2.14.2).

use std::time::Duration;

use crate::proto::codec::WriteLe;
use crate::proto::create::{CreateResponse, ResponseContext};
use crate::proto::create_contexts::{DHANDLE_FLAG_PERSISTENT, DurableRequestV2};
use crate::state::opens::Open;
use crate::state::session::Tree;

use super::contexts::Contexts;

/// The response contexts of a disk open: MxAc (the maximal access) and QFid (the on-disk id).
pub(super) fn contexts(
    cx: &Contexts,
    tree: &Tree,
    st: &vfs::FileStat,
    maximal: u32,
) -> Vec<ResponseContext> {
    let mut contexts = Vec::new();
    if cx.maximal_access {
        let mut d = Vec::with_capacity(8);
        d.put_u32(0);
        d.put_u32(maximal);
        contexts.push(ResponseContext {
            name: b"MxAc".to_vec(),
            data: d,
        });
    }
    if cx.query_on_disk_id {
        let mut d = Vec::with_capacity(32);
        d.put_u64(st.file_id);
        d.put_u64(0);
        d.put_u64(tree.share.index as u64 + 1);
        d.put_u64(0);
        contexts.push(ResponseContext {
            name: b"QFid".to_vec(),
            data: d,
        });
    }
    contexts
}

/// The DH2Q response context (MS-SMB2 2.2.14.2.12): the timeout granted, and whether the handle
/// is persistent.
pub(super) fn dh2q(timeout: Duration, persistent: bool) -> ResponseContext {
    let mut data = Vec::with_capacity(8);
    let ms = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
    let flags = if persistent {
        DHANDLE_FLAG_PERSISTENT
    } else {
        0
    };
    DurableRequestV2::encode_response(&mut data, ms, flags);
    ResponseContext {
        name: b"DH2Q".to_vec(),
        data,
    }
}

/// Appends the CREATE response for `open` (an open handed back by a reconnect or a replay):
/// its ids, the file's state `st`, CreateAction `action`, `oplock_level` and `contexts`.
pub(super) fn encode_open(
    out: &mut Vec<u8>,
    open: &Open,
    st: &vfs::FileStat,
    action: u32,
    oplock_level: u8,
    contexts: Vec<ResponseContext>,
) {
    CreateResponse {
        oplock_level,
        create_action: action,
        creation_time: st.creation_time,
        last_access_time: st.last_access_time,
        last_write_time: st.last_write_time,
        change_time: st.change_time,
        allocation_size: st.allocation_size,
        end_of_file: st.size,
        file_attributes: st.attributes,
        persistent_id: open.id.persistent,
        volatile_id: open.id.volatile,
        contexts,
    }
    .encode(out, 0);
}
