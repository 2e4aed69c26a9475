//! SET_INFO FileRenameInformation with a `:stream` target (MS-FSA 2.1.5.14.11.1): a named
//! stream renamed within its file, or moved into the file's unnamed data stream.

use crate::dispatch::path::{self, Stream};
use crate::proto::NtStatus;
use crate::state::opens::Open;
use vfs::{Disposition, Kind, OpenOptions, VfsError};

/// Largest stream moved into the unnamed data stream (it is copied through memory).
const MAX_MOVE_TO_DATA: u64 = 16 << 20;

/// Renames the stream of `open` to the stream `target` names (`:name`, `:name:$DATA` or
/// `::$DATA`).
pub(super) async fn rename_stream(
    open: &Open,
    replace: bool,
    target: &str,
) -> Result<(), NtStatus> {
    let fs = open.share.vfs.clone().ok_or(NtStatus::INVALID_PARAMETER)?;
    let entry = open.entry.as_ref().ok_or(NtStatus::INVALID_PARAMETER)?;
    let t = path::to_vfs_target(target, open.share.streams)?;
    if !t.path.is_empty() {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let path = entry.path();
    match t.stream {
        Stream::Named(to) => {
            if !entry.is_stream() {
                return Err(NtStatus::INVALID_PARAMETER);
            }
            let from = entry.stream_name();
            if from == to {
                return Ok(());
            }
            fs.rename_stream(&path, &from, &to, replace)
                .await
                .map_err(|e| match e {
                    VfsError::Exists => NtStatus::OBJECT_NAME_COLLISION,
                    other => NtStatus::from(&other),
                })?;
            entry.set_stream_name(&to);
            Ok(())
        }
        Stream::UnnamedData if entry.is_stream() => into_data(open, &fs, &path).await,
        Stream::UnnamedData => Ok(()),
        _ => Err(NtStatus::INVALID_PARAMETER),
    }
}

/// Moves the stream of `open` into its file's unnamed data stream, which must be empty.
async fn into_data(
    open: &Open,
    fs: &std::sync::Arc<dyn vfs::Vfs>,
    path: &str,
) -> Result<(), NtStatus> {
    let entry = open.entry.as_ref().ok_or(NtStatus::INVALID_PARAMETER)?;
    let f = open.file().ok_or(NtStatus::INVALID_PARAMETER)?;
    let size = f.stat().await.map_err(NtStatus::from)?.size;
    let opts = OpenOptions {
        disposition: Disposition::Open,
        kind: Kind::File,
        write: true,
        ..OpenOptions::read_existing()
    };
    let base = fs.open(path, &opts).await.map_err(NtStatus::from)?;
    if base.stat.size != 0 {
        return Err(NtStatus::OBJECT_NAME_COLLISION);
    }
    if size > MAX_MOVE_TO_DATA {
        return Err(NtStatus::NOT_SUPPORTED);
    }
    let data = f.read_at(0, size as usize).await.map_err(NtStatus::from)?;
    base.file.write_at(0, data).await.map_err(NtStatus::from)?;
    fs.remove_stream(path, &entry.stream_name())
        .await
        .map_err(NtStatus::from)
}
