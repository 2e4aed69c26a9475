//! The symbolic link error response of CREATE (MS-SMB2 2.2.2.2.1, 3.3.5.9): a path that meets
//! a POSIX symbolic link the backend does not follow (one leading out of the share) is answered
//! STATUS_STOPPED_ON_SYMLINK with the link's target and how much of the path lies past it, so
//! the client may resolve it on its side. The server never follows such a link.

use std::sync::Arc;

use super::super::{Ctx, HResult, Reply, path};
use crate::proto::NtStatus;
use crate::proto::create::CreateRequest;
use crate::proto::fsctl::{encode_error_with_data, encode_symlink_error};
use crate::proto::negotiate::Dialect;
use crate::state::session::Tree;
use vfs::{OpenOptions, VfsError};

/// Answers a CREATE whose open stopped at a symbolic link: the error response with the link,
/// found again by a plain open of the same path. Should the link have gone meanwhile, the
/// path is refused as one leaving the share.
pub(super) async fn answer(
    ctx: &Ctx<'_>,
    out: &mut Vec<u8>,
    tree: &Arc<Tree>,
    req: &CreateRequest<'_>,
) -> HResult {
    let vpath = path::to_vfs_path(&req.name)?;
    let fs = tree.share.vfs.clone().ok_or(NtStatus::ACCESS_DENIED)?;
    let stop = match fs.open(&vpath, &OpenOptions::read_existing()).await {
        Err(VfsError::Symlink(stop)) => stop,
        _ => return Err(NtStatus::ACCESS_DENIED),
    };
    let data = encode_symlink_error(unparsed_len(&vpath, stop.component), &stop.target);
    let contexts = ctx.conn.negotiated().dialect == Some(Dialect::Smb311);
    encode_error_with_data(out, &data, contexts);
    Ok(Reply::Done(NtStatus::STOPPED_ON_SYMLINK))
}

/// UnparsedPathLength: the bytes (UTF-16) of the path after component `link`, with the
/// separator before them; 0 when the link is the last component.
fn unparsed_len(vpath: &str, link: usize) -> u16 {
    let rest: Vec<&str> = vpath.split('/').skip(link + 1).collect();
    if rest.is_empty() {
        return 0;
    }
    let units: usize = rest.iter().map(|c| 1 + c.encode_utf16().count()).sum();
    u16::try_from(units * 2).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unparsed_part_of_the_path() {
        assert_eq!(unparsed_len("link", 0), 0);
        assert_eq!(unparsed_len("link/a/bc", 0), 10); // "\a\bc"
        assert_eq!(unparsed_len("d/link/x", 1), 4);
        assert_eq!(unparsed_len("d/link", 1), 0);
    }
}
