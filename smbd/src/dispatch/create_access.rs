//! The access step of CREATE (MS-SMB2 3.3.5.9, MS-FSA 2.1.5.1): probe the target without side
//! effects, check the desired access against its descriptor (or, for a new file, the parent's
//! FILE_ADD_FILE / FILE_ADD_SUBDIRECTORY), and compute a new file's inherited descriptor.

use acl::{GenericMapping, SecurityDescriptor};

use super::security::{self, Subject};
use crate::access::{
    FILE_ADD_FILE, FILE_ADD_SUBDIRECTORY, FILE_APPEND_DATA, FILE_DELETE_CHILD, FILE_WRITE_DATA,
};
use crate::proto::NtStatus;
use crate::state::Share;
use vfs::{Disposition, Kind, OpenOptions, Opened, VfsError};

/// What MAXIMUM_ALLOWED does not grant on a read-only file (MS-FSA 2.1.5.1.2.1).
const READ_ONLY_WITHHELD: u32 = FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_DELETE_CHILD;

/// The outcome of the access step.
pub(crate) struct Authorized {
    /// Access granted on the open.
    pub granted: u32,
    /// What MxAc reports.
    pub maximal: u32,
    /// The existing object, opened read-only while probing.
    pub existing: Option<Opened>,
    /// The descriptor to store on a newly created object.
    pub new_sd: Option<SecurityDescriptor>,
}

/// Runs the access step for `path` on `share`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn authorize(
    share: &Share,
    fs: &dyn vfs::Vfs,
    path: &str,
    disposition: Disposition,
    kind: Kind,
    desired: u32,
    creator_sd: Option<&SecurityDescriptor>,
    who: &Subject<'_>,
    share_max: u32,
    want_maximal: bool,
) -> Result<Authorized, NtStatus> {
    match fs.open(path, &OpenOptions::read_existing()).await {
        Ok(existing) => {
            if disposition == Disposition::Create {
                return Err(NtStatus::OBJECT_NAME_COLLISION);
            }
            let is_dir = existing.stat.is_dir;
            let sd = security::descriptor(share, &existing.file, &existing.path, is_dir).await;
            let overwrites = matches!(
                disposition,
                Disposition::Overwrite | Disposition::OverwriteIf | Disposition::Supersede
            );
            let read_only = !is_dir && existing.stat.attributes & vfs::attr::READONLY != 0;
            if read_only
                && (overwrites
                    || GenericMapping::FILE.map(desired) & (FILE_WRITE_DATA | FILE_APPEND_DATA)
                        != 0)
            {
                // A read-only file is neither written nor overwritten (MS-FSA 2.1.5.1.2.1).
                return Err(NtStatus::ACCESS_DENIED);
            }
            if overwrites {
                // Overwriting or superseding replaces the data: it needs the right to write it,
                // whatever the open asks for (MS-FSA 2.1.5.1.2).
                security::check(&sd, None, who, FILE_WRITE_DATA, share_max)?;
            }
            // The parent's FILE_DELETE_CHILD and FILE_LIST_DIRECTORY add to what MAXIMUM_ALLOWED
            // and MxAc report.
            let parent = if (want_maximal || desired & crate::access::MAXIMUM_ALLOWED != 0)
                && !existing.path.is_empty()
            {
                Some(parent_descriptor(share, fs, &existing.path).await)
            } else {
                None
            };
            let granted = match security::check(&sd, parent.as_ref(), who, desired, share_max) {
                Ok(g) => g,
                Err(e)
                    if desired & (crate::access::DELETE | crate::access::FILE_READ_ATTRIBUTES)
                        != 0
                        && !existing.path.is_empty() =>
                {
                    let parent = parent_descriptor(share, fs, &existing.path).await;
                    security::check(&sd, Some(&parent), who, desired, share_max).map_err(|_| e)?
                }
                Err(e) => return Err(e),
            };
            // MAXIMUM_ALLOWED on a read-only file leaves out the rights to change its data
            // (MS-FSA 2.1.5.1.2.1).
            let granted = if read_only && desired & crate::access::MAXIMUM_ALLOWED != 0 {
                granted & !READ_ONLY_WITHHELD
            } else {
                granted
            };
            let maximal = if want_maximal {
                security::maximal(&sd, parent.as_ref(), who, share_max)
            } else {
                0
            };
            Ok(Authorized {
                granted,
                maximal,
                existing: Some(existing),
                new_sd: None,
            })
        }
        Err(VfsError::NotFound)
            if disposition != Disposition::Open && disposition != Disposition::Overwrite =>
        {
            if path.is_empty() {
                return Err(NtStatus::ACCESS_DENIED);
            }
            let parent = parent_descriptor(share, fs, path).await;
            let is_dir = kind == Kind::Directory;
            let need = if is_dir {
                FILE_ADD_SUBDIRECTORY
            } else {
                FILE_ADD_FILE
            };
            security::check(&parent, None, who, need, share_max)?;
            let new_sd = acl::inherit(
                &parent,
                creator_sd,
                who.token,
                is_dir,
                &GenericMapping::FILE,
            );
            // The creator gets what it asked for on the object it creates.
            let granted = security::check(&new_sd, None, who, desired, share_max)
                .unwrap_or_else(|_| GenericMapping::FILE.map(desired) & share_max);
            let maximal = security::maximal(&new_sd, Some(&parent), who, share_max);
            Ok(Authorized {
                granted,
                maximal,
                existing: None,
                new_sd: Some(new_sd),
            })
        }
        Err(e) => Err(NtStatus::from(&e)),
    }
}

/// The descriptor of the parent directory of `path`.
async fn parent_descriptor(share: &Share, fs: &dyn vfs::Vfs, path: &str) -> SecurityDescriptor {
    let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
    match fs.open(parent, &OpenOptions::read_existing()).await {
        Ok(o) => security::descriptor(share, &o.file, &o.path, true).await,
        Err(_) => security::default_descriptor(share, parent, true).await,
    }
}
