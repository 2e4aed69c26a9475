//! Previous versions: the TWrp create context (MS-SMB2 2.2.13.2.7, 3.3.5.9) opens a file as it
//! was in the share's snapshot of that time, read-only.

use std::sync::Arc;

use crate::proto::NtStatus;
use crate::state::session::Tree;
use vfs::VfsError;

/// The snapshot of the tree's share taken at `timestamp` (FILETIME, to the second), as a
/// read-only tree; OBJECT_NAME_NOT_FOUND when there is none of that time.
pub(super) async fn fs_at(tree: &Tree, timestamp: u64) -> Result<Arc<dyn vfs::Vfs>, NtStatus> {
    let fs = tree
        .share
        .vfs
        .as_ref()
        .ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
    let name = vfs::snapshots::snapshot_name(timestamp);
    match fs.snapshot(&name).await {
        Ok(snap) => Ok(Arc::new(vfs::ReadOnlyFs::new(snap))),
        Err(VfsError::NotFound) => Err(NtStatus::OBJECT_NAME_NOT_FOUND),
        Err(e) => Err(NtStatus::from(&e)),
    }
}
