//! CREATE of the quota fake file `$Extend\$Quota:$Q:$INDEX_ALLOCATION` (see
//! [`crate::dispatch::quota`]): opened, never created, for reading and for quota queries.

use std::sync::Arc;

use super::{MODE_OPTIONS, Validated, new_file_id, owner};
use crate::access::{
    DELETE, FILE_GENERIC_READ, MAXIMUM_ALLOWED, SYNCHRONIZE, WRITE_DAC, WRITE_OWNER,
};
use crate::dispatch::quota::QuotaFile;
use crate::dispatch::{Ctx, HResult, Reply};
use crate::proto::NtStatus;
use crate::proto::create::{CreateRequest, CreateResponse, options};
use crate::state::opens::{NewOpen, Open, OpenKind};
use crate::state::session::Tree;
use vfs::Disposition;

/// Rights never granted on the fake file: it is neither removed nor given a descriptor.
const REFUSED: u32 = DELETE | WRITE_DAC | WRITE_OWNER;

/// Opens the quota fake file for `req`: only an open of the existing object, without the
/// rights that would change its name or descriptor.
pub(super) fn open(
    ctx: &mut Ctx<'_>,
    out: &mut Vec<u8>,
    tree: &Arc<Tree>,
    req: &CreateRequest<'_>,
    v: &Validated,
) -> HResult {
    if !matches!(v.disposition, Disposition::Open | Disposition::OpenIf) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let granted = if v.desired & MAXIMUM_ALLOWED != 0 {
        (v.desired & !MAXIMUM_ALLOWED) | FILE_GENERIC_READ | SYNCHRONIZE
    } else {
        v.desired
    };
    if granted & REFUSED != 0 || granted & !tree.max_access != 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let sec = ctx.security.clone().ok_or(NtStatus::USER_SESSION_DELETED)?;
    let id = new_file_id(ctx.server());
    let open = Arc::new(Open::new(NewOpen {
        id,
        tree_id: tree.id,
        share: tree.share.clone(),
        kind: OpenKind::File(QuotaFile::handle()),
        name: QuotaFile::path(),
        is_dir: true,
        access: granted,
        share_access: req.share_access,
        options: req.options & !options::DELETE_ON_CLOSE,
        mode: req.options & MODE_OPTIONS,
        claim: None,
        owner: owner(ctx, &sec),
        session_id: ctx.hdr.session_id,
    }));
    ctx.insert_open(open)?;
    ctx.created = Some(id);
    let st = QuotaFile::stat();
    let resp = CreateResponse {
        create_action: 1,
        file_attributes: st.attributes,
        persistent_id: id.persistent,
        volatile_id: id.volatile,
        ..CreateResponse::default()
    };
    resp.encode(out, 0);
    Ok(Reply::Done(NtStatus::SUCCESS))
}
