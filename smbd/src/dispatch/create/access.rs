//! The access step of CREATE (MS-SMB2 3.3.5.9, MS-FSA 2.1.5.1), decided on the object that is
//! opened: the target is opened (without side effects) or created first, and the desired access
//! is checked against *that* object's descriptor, so no other file can take its place between a
//! check and an open. A new object needs the parent's FILE_ADD_FILE / FILE_ADD_SUBDIRECTORY
//! before it is created (exclusively) and gets its inherited descriptor at once; a create that
//! loses a race with another creator is checked again as an open of the existing object (or
//! fails with OBJECT_NAME_COLLISION for disposition Create). Overwriting an existing file is
//! left to the caller, on the handle returned here, once its share-mode claim is registered.

use acl::{GenericMapping, SecurityDescriptor};

use super::super::security::{self, Subject};
use crate::access::{
    FILE_ADD_FILE, FILE_ADD_SUBDIRECTORY, FILE_APPEND_DATA, FILE_DELETE_CHILD, FILE_WRITE_DATA,
    MAXIMUM_ALLOWED,
};
use crate::proto::NtStatus;
use crate::state::Share;
use vfs::{Disposition, Kind, OpenOptions, Opened, VfsError};

/// What MAXIMUM_ALLOWED does not grant on a read-only file (MS-FSA 2.1.5.1.2.1).
const READ_ONLY_WITHHELD: u32 = FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_DELETE_CHILD;

/// How often a name that vanishes again after a lost create race is tried.
const ATTEMPTS: usize = 4;

/// What CREATE asks for, as the access step needs it.
pub(crate) struct Wanted<'a> {
    /// The share.
    pub share: &'a Share,
    /// Its backend.
    pub fs: &'a dyn vfs::Vfs,
    /// The vfs path.
    pub path: &'a str,
    /// CreateDisposition.
    pub disposition: Disposition,
    /// The kind of object required.
    pub kind: Kind,
    /// DesiredAccess as sent.
    pub desired: u32,
    /// FileAttributes for a new or overwritten file.
    pub attributes: u32,
    /// AllocationSize (AlSi) for a new or overwritten file.
    pub allocation_size: u64,
    /// FILE_DELETE_ON_CLOSE.
    pub delete_on_close: bool,
    /// The SecD create context.
    pub creator_sd: Option<&'a SecurityDescriptor>,
    /// Who asks.
    pub who: &'a Subject<'a>,
    /// The share-level maximum.
    pub share_max: u32,
    /// Whether MxAc was asked for.
    pub want_maximal: bool,
    /// FILE_OPEN_REPARSE_POINT: a symbolic link is opened itself.
    pub open_reparse_point: bool,
}

/// The outcome of the access step.
pub(crate) struct Authorized {
    /// Access granted on the open.
    pub granted: u32,
    /// What MxAc reports.
    pub maximal: u32,
    /// The object the access was decided on: opened, or just created.
    pub opened: Opened,
    /// For an existing file under an overwrite disposition: overwrite it (`false`) or
    /// supersede it (`true`) once the open is registered.
    pub overwrite: Option<bool>,
}

/// A new or overwritten file that would be read-only cannot be deleted on close: refused
/// before the file is created or its data destroyed (MS-FSA 2.1.5.1.1, 2.1.5.1.2.2).
fn read_only_delete_on_close(w: &Wanted<'_>) -> Result<(), NtStatus> {
    if w.delete_on_close && w.attributes & vfs::attr::READONLY != 0 {
        return Err(NtStatus::CANNOT_DELETE);
    }
    Ok(())
}

/// Whether overwriting a file whose stored attributes are `existing` with `requested` would
/// clear its HIDDEN or SYSTEM attribute: an overwrite or supersede must restate them, or it is
/// refused with ACCESS_DENIED (MS-FSA 2.1.5.1.2.1; smbtorture smb2.openattr).
fn drops_hidden_or_system(existing: u32, requested: u32) -> bool {
    use vfs::attr::{HIDDEN, SYSTEM};
    [HIDDEN, SYSTEM]
        .into_iter()
        .any(|bit| existing & bit != 0 && requested & bit == 0)
}

fn overwrites(d: Disposition) -> bool {
    matches!(
        d,
        Disposition::Overwrite | Disposition::OverwriteIf | Disposition::Supersede
    )
}

/// Opens or creates the target of `w` and decides the access on that very object.
pub(crate) async fn open_checked(w: &Wanted<'_>) -> Result<Authorized, NtStatus> {
    let creates = !matches!(w.disposition, Disposition::Open | Disposition::Overwrite);
    // The existing object is opened as the open will use it, but without any side effect:
    // writable when the open may write (its rights are decided below).
    let mapped = GenericMapping::FILE.map(w.desired);
    let probe = OpenOptions {
        write: overwrites(w.disposition)
            || mapped & (FILE_WRITE_DATA | FILE_APPEND_DATA | MAXIMUM_ALLOWED) != 0,
        reparse_point: w.open_reparse_point,
        ..OpenOptions::read_existing()
    };
    for _ in 0..ATTEMPTS {
        match w.fs.open(w.path, &probe).await {
            Ok(existing) => return check_existing(w, existing).await,
            Err(VfsError::NotFound) if creates => {
                if let Some(created) = create_new(w).await? {
                    return Ok(created);
                }
                // Lost the race to another creator: check again as an open of its file.
            }
            Err(e) => return Err(NtStatus::from(&e)),
        }
    }
    Err(NtStatus::SHARING_VIOLATION)
}

/// The access to an existing object.
async fn check_existing(w: &Wanted<'_>, existing: Opened) -> Result<Authorized, NtStatus> {
    let (share, fs, who, desired, share_max) = (w.share, w.fs, w.who, w.desired, w.share_max);
    if w.disposition == Disposition::Create {
        return Err(NtStatus::OBJECT_NAME_COLLISION);
    }
    let is_dir = existing.stat.is_dir;
    let sd = security::descriptor(share, &existing.file, &existing.path, is_dir).await;
    let overwrites = overwrites(w.disposition);
    let read_only = !is_dir && existing.stat.attributes & vfs::attr::READONLY != 0;
    if read_only
        && (overwrites
            || GenericMapping::FILE.map(desired) & (FILE_WRITE_DATA | FILE_APPEND_DATA) != 0)
    {
        // A read-only file is neither written nor overwritten (MS-FSA 2.1.5.1.2.1).
        return Err(NtStatus::ACCESS_DENIED);
    }
    if overwrites && !is_dir && drops_hidden_or_system(existing.stat.attributes, w.attributes) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if overwrites {
        // Overwriting or superseding replaces the data: it needs the right to write it,
        // whatever the open asks for (MS-FSA 2.1.5.1.2).
        security::check(&sd, None, who, FILE_WRITE_DATA, share_max)?;
    }
    // The parent's FILE_DELETE_CHILD and FILE_LIST_DIRECTORY add to what MAXIMUM_ALLOWED
    // and MxAc report.
    let parent = if (w.want_maximal || desired & MAXIMUM_ALLOWED != 0) && !existing.path.is_empty()
    {
        Some(parent_descriptor(share, fs, &existing.path).await)
    } else {
        None
    };
    let granted = match security::check(&sd, parent.as_ref(), who, desired, share_max) {
        Ok(g) => g,
        Err(e)
            if desired & (crate::access::DELETE | crate::access::FILE_READ_ATTRIBUTES) != 0
                && !existing.path.is_empty() =>
        {
            let parent = parent_descriptor(share, fs, &existing.path).await;
            security::check(&sd, Some(&parent), who, desired, share_max).map_err(|_| e)?
        }
        Err(e) => return Err(e),
    };
    // MAXIMUM_ALLOWED on a read-only file leaves out the rights to change its data
    // (MS-FSA 2.1.5.1.2.1).
    let granted = if read_only && desired & MAXIMUM_ALLOWED != 0 {
        granted & !READ_ONLY_WITHHELD
    } else {
        granted
    };
    // The kind of object, checked after the access as before.
    let wrong_kind = match (w.kind, is_dir) {
        (Kind::Directory, _) if overwrites => Some(VfsError::IsADirectory),
        (Kind::File, true) => Some(VfsError::IsADirectory),
        (Kind::Directory, false) => Some(VfsError::NotADirectory),
        (_, true) if overwrites => Some(VfsError::IsADirectory),
        _ => None,
    };
    if let Some(e) = wrong_kind {
        return Err(NtStatus::from(&e));
    }
    if overwrites {
        read_only_delete_on_close(w)?;
    }
    let maximal = if w.want_maximal {
        security::maximal(&sd, parent.as_ref(), who, share_max)
    } else {
        0
    };
    Ok(Authorized {
        granted,
        maximal,
        opened: existing,
        overwrite: overwrites.then_some(w.disposition == Disposition::Supersede),
    })
}

/// Creates the target exclusively after checking the parent; `None` when another creator got
/// there first and the caller should look again (never for disposition Create, which fails).
async fn create_new(w: &Wanted<'_>) -> Result<Option<Authorized>, NtStatus> {
    let (share, fs, who, share_max) = (w.share, w.fs, w.who, w.share_max);
    if w.path.is_empty() {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let parent = parent_descriptor(share, fs, w.path).await;
    let is_dir = w.kind == Kind::Directory;
    let need = if is_dir {
        FILE_ADD_SUBDIRECTORY
    } else {
        FILE_ADD_FILE
    };
    security::check(&parent, None, who, need, share_max)?;
    if is_dir && overwrites(w.disposition) {
        // MS-FSA 2.1.5.1: a directory cannot be overwritten or superseded.
        return Err(NtStatus::from(&VfsError::IsADirectory));
    }
    if !is_dir {
        read_only_delete_on_close(w)?;
    }
    let new_sd = acl::inherit(
        &parent,
        w.creator_sd,
        who.token,
        is_dir,
        &GenericMapping::FILE,
    );
    let opts = OpenOptions {
        disposition: Disposition::Create,
        kind: w.kind,
        read: true,
        write: true,
        attributes: w.attributes,
        allocation_size: w.allocation_size,
        reparse_point: false,
    };
    let created = match fs.open(w.path, &opts).await {
        Ok(o) => o,
        Err(VfsError::Exists) if w.disposition != Disposition::Create => return Ok(None),
        Err(e) => return Err(NtStatus::from(&e)),
    };
    security::store(&created.file, &new_sd).await?;
    // The creator gets what it asked for on the object it creates.
    let granted = security::check(&new_sd, None, who, w.desired, share_max)
        .unwrap_or_else(|_| GenericMapping::FILE.map(w.desired) & share_max);
    let maximal = security::maximal(&new_sd, Some(&parent), who, share_max);
    Ok(Some(Authorized {
        granted,
        maximal,
        opened: created,
        overwrite: None,
    }))
}

/// The descriptor of the parent directory of `path`.
async fn parent_descriptor(share: &Share, fs: &dyn vfs::Vfs, path: &str) -> SecurityDescriptor {
    let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
    match fs.open(parent, &OpenOptions::read_existing()).await {
        Ok(o) => security::descriptor(share, &o.file, &o.path, true).await,
        Err(_) => security::default_descriptor(share, parent, true).await,
    }
}
