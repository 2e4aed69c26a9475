//! The reply-contexts step of CREATE: the response contexts for what the request asked
//! (MS-SMB2 2.2.14.2).

use crate::proto::codec::WriteLe;
use crate::proto::create::ResponseContext;
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
