//! The stream step of CREATE (MS-FSA 2.1.5.1, MS-FSCC 2.1.5): what a name's stream part asks
//! of the object, and the open of a named data stream once the access to its file is decided.
//! A stream is opened through its file: the file is opened (or created, when the stream is)
//! and the access checked against the file's descriptor by the access step, then the stream
//! is opened or created on that file. An overwrite of an existing stream is left, like a
//! file's, to after the share-mode claim.

use super::access::Authorized;
use crate::dispatch::path::Stream;
use crate::proto::NtStatus;
use vfs::{CreateAction, Disposition, Kind, OpenOptions};

/// How the access step must open the object for a name's stream part: the kind required and
/// the disposition for the file.
pub(super) fn object_request(
    stream: &Stream,
    kind: Kind,
    disposition: Disposition,
) -> Result<(Kind, Disposition), NtStatus> {
    Ok(match stream {
        Stream::None => (kind, disposition),
        // `::$DATA` is a file's data: a directory has none.
        Stream::UnnamedData if kind == Kind::Directory => return Err(NtStatus::NOT_A_DIRECTORY),
        Stream::UnnamedData => (Kind::File, disposition),
        Stream::Index if kind == Kind::File => return Err(NtStatus::FILE_IS_A_DIRECTORY),
        Stream::Index => (Kind::Directory, disposition),
        // A stream is never a directory; its file is opened, or created with the stream.
        Stream::Named(_) if kind == Kind::Directory => return Err(NtStatus::NOT_A_DIRECTORY),
        Stream::Named(_) => {
            let file = match disposition {
                Disposition::Open | Disposition::Overwrite => Disposition::Open,
                _ => Disposition::OpenIf,
            };
            (Kind::Any, file)
        }
    })
}

/// Opens the named stream `name` of the file `auth` opened, with the CREATE's `disposition`;
/// the result takes the file's place in `auth`.
pub(super) async fn open_named(
    fs: &dyn vfs::Vfs,
    auth: &mut Authorized,
    name: &str,
    disposition: Disposition,
    attributes: u32,
    allocation_size: u64,
) -> Result<(), NtStatus> {
    let overwrites = matches!(
        disposition,
        Disposition::Overwrite | Disposition::OverwriteIf | Disposition::Supersede
    );
    // The data is destroyed only once the open holds its claim (as for a file).
    let opening = match disposition {
        Disposition::Overwrite => Disposition::Open,
        Disposition::OverwriteIf | Disposition::Supersede => Disposition::OpenIf,
        d => d,
    };
    let opts = OpenOptions {
        disposition: opening,
        kind: Kind::Any,
        read: true,
        write: true,
        attributes,
        allocation_size,
        reparse_point: false,
    };
    let opened = fs
        .open_stream(&auth.opened.path, name, &opts)
        .await
        .map_err(|e| NtStatus::from(&e))?;
    auth.overwrite = (overwrites && opened.action == CreateAction::Opened)
        .then_some(disposition == Disposition::Supersede);
    auth.opened = opened;
    Ok(())
}

/// After a file is overwritten or superseded: its named streams go (MS-FSA 2.1.5.1.2.1;
/// smbtorture smb2.streams.create-disposition).
pub(super) async fn drop_all(fs: &dyn vfs::Vfs, path: &str) {
    let Ok(streams) = fs.list_streams(path).await else {
        return;
    };
    for s in streams {
        if let Err(e) = fs.remove_stream(path, &s.name).await {
            tracing::info!(path, stream = %s.name, error = %e, "removing a stream on overwrite failed");
        }
    }
}
