//! Extended attributes over SMB2: QUERY_INFO FileFullEaInformation (MS-FSA 2.1.5.12.12, with
//! the SL_* flags of MS-SMB2 2.2.37), SET_INFO FileFullEaInformation (MS-FSA 2.1.5.15.5) and
//! the EAs of the ExtA create context (MS-SMB2 2.2.13.2.1).
//!
//! Names under `smbd.` are the server's own metadata namespace: none is ever listed, and a
//! client setting one is refused (ACCESS_DENIED), whatever the backend stores. Names under
//! `$KERNEL.` only kernel-mode callers may set, which a remote client never is.

use std::sync::atomic::Ordering;

use crate::access::{FILE_READ_EA, FILE_WRITE_EA};
use crate::proto::NtStatus;
use crate::proto::fscc::{EaListWriter, FsccError, decode_get_ea_list};
use crate::state::opens::Open;
use vfs::{CreateAction, Ea, FileRef, VfsError};

/// The server's private namespace (its xattrs are `user.smbd.*`).
const PRIVATE_PREFIX: &[u8] = b"smbd.";
/// EAs only the kernel may set (MS-FSA 2.1.5.15.5 notes).
const KERNEL_PREFIX: &[u8] = b"$kernel.";

/// QUERY_INFO Flags for FileFullEaInformation (MS-SMB2 2.2.37).
pub(crate) mod flags {
    /// SL_RESTART_SCAN: start from the first EA.
    pub(crate) const RESTART_SCAN: u32 = 0x1;
    /// SL_RETURN_SINGLE_ENTRY: return one EA at most.
    pub(crate) const RETURN_SINGLE_ENTRY: u32 = 0x2;
    /// SL_INDEX_SPECIFIED: start from the 1-based index in AdditionalInformation.
    pub(crate) const INDEX_SPECIFIED: u32 = 0x4;
}

fn starts_with_folded(name: &[u8], prefix: &[u8]) -> bool {
    name.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// Whether `name` is one of the server's own (never listed).
fn is_private(name: &[u8]) -> bool {
    starts_with_folded(name, PRIVATE_PREFIX)
}

/// The status of an EA list that does not decode.
pub(crate) fn list_status(e: FsccError) -> NtStatus {
    NtStatus(e.nt_status())
}

/// Checks that a client may set every EA of `list`: none in the server's namespace or the
/// kernel's (ACCESS_DENIED), and the whole list within the size a file may hold
/// (EA_TOO_LARGE).
pub(crate) fn check_settable(list: &[Ea]) -> Result<(), NtStatus> {
    if list
        .iter()
        .any(|e| is_private(&e.name) || starts_with_folded(&e.name, KERNEL_PREFIX))
    {
        return Err(NtStatus::ACCESS_DENIED);
    }
    vfs::ea::apply(&mut Vec::new(), list.to_vec()).map_err(|e| vfs_status(&e))
}

/// The status of a failed EA change.
fn vfs_status(e: &VfsError) -> NtStatus {
    match e {
        VfsError::TooLarge => NtStatus::EA_TOO_LARGE,
        VfsError::InvalidName => NtStatus::INVALID_EA_NAME,
        VfsError::Unsupported => NtStatus::EAS_NOT_SUPPORTED,
        other => NtStatus::from(other),
    }
}

/// Applies `list` to the file of `f`; with `replace`, every EA it had goes first (a CREATE
/// that overwrites or supersedes the file).
pub(crate) async fn apply(f: &FileRef, list: Vec<Ea>, replace: bool) -> Result<(), NtStatus> {
    let mut changes = Vec::new();
    if replace {
        let old = f.get_eas().await.map_err(|e| vfs_status(&e))?;
        changes.extend(old.into_iter().map(|e| Ea {
            value: Vec::new(),
            ..e
        }));
    }
    changes.extend(list);
    if changes.is_empty() {
        return Ok(());
    }
    f.set_eas(changes).await.map_err(|e| vfs_status(&e))
}

/// Whether the file holds an EA flagged FILE_NEED_EA.
async fn needs_ea_knowledge(f: &FileRef) -> bool {
    f.get_eas()
        .await
        .is_ok_and(|l| l.iter().any(|e| e.flags & vfs::ea::FILE_NEED_EA != 0))
}

/// The EA step of a CREATE of a file or directory (not a named stream), once `f` is open and
/// `action` done: a new file gets the ExtA context's EAs; an overwritten or superseded one
/// loses its EAs for them (MS-FSA 2.1.5.1.2.1); an existing file holding a FILE_NEED_EA EA is
/// refused to an opener without EA knowledge (MS-FSA 2.1.5.1.2, ACCESS_DENIED).
pub(crate) async fn on_create(
    f: &FileRef,
    action: CreateAction,
    eas: Option<&[Ea]>,
    no_ea_knowledge: bool,
) -> Result<(), NtStatus> {
    let list = eas.map(<[Ea]>::to_vec).unwrap_or_default();
    match action {
        CreateAction::Opened if no_ea_knowledge && needs_ea_knowledge(f).await => {
            Err(NtStatus::ACCESS_DENIED)
        }
        CreateAction::Opened => Ok(()),
        CreateAction::Created => apply(f, list, false).await,
        CreateAction::Overwritten | CreateAction::Superseded => apply(f, list, true).await,
    }
}

/// SET_INFO FileFullEaInformation on `open`.
pub(crate) async fn set(open: &Open, list: Vec<Ea>) -> Result<(), NtStatus> {
    if open.access & FILE_WRITE_EA == 0 || open.share.read_only {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let f = open.file().ok_or(NtStatus::INVALID_PARAMETER)?;
    check_settable(&list)?;
    let st = f.stat().await.map_err(NtStatus::from)?;
    if st.attributes & vfs::attr::REPARSE_POINT != 0 {
        return Err(NtStatus::EAS_NOT_SUPPORTED);
    }
    apply(f, list, false).await
}

/// What a FileFullEaInformation query asks (MS-SMB2 2.2.37).
pub(crate) struct Query<'a> {
    /// The FILE_GET_EA_INFORMATION list (InputBuffer); empty for a scan.
    pub input: &'a [u8],
    /// SL_* flags.
    pub flags: u32,
    /// AdditionalInformation: the 1-based EaIndex with SL_INDEX_SPECIFIED.
    pub index: u32,
    /// OutputBufferLength.
    pub max_len: usize,
}

/// QUERY_INFO FileFullEaInformation on `open`: the entries and the status to answer with
/// (SUCCESS, or BUFFER_OVERFLOW when more remain).
pub(crate) async fn query(open: &Open, q: &Query<'_>) -> Result<(Vec<u8>, NtStatus), NtStatus> {
    if open.access & FILE_READ_EA == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let f = open.file().ok_or(NtStatus::INVALID_PARAMETER)?;
    let mut list = f.get_eas().await.map_err(|e| vfs_status(&e))?;
    list.retain(|e| !is_private(&e.name));
    let single = q.flags & flags::RETURN_SINGLE_ENTRY != 0;
    let mut w = EaListWriter::new(q.max_len);
    if !q.input.is_empty() {
        let names = decode_get_ea_list(q.input).map_err(list_status)?;
        if list.is_empty() {
            return Err(NtStatus::NO_EAS_ON_FILE);
        }
        let wanted = if single { &names[..1] } else { &names[..] };
        for (i, name) in wanted.iter().enumerate() {
            // A name the file lacks comes back with an empty value.
            let found = list.iter().find(|e| e.is_named(name));
            let ea = found.cloned().unwrap_or_else(|| Ea::new(name, &[]));
            if !w.push(&ea) {
                return cut(w, i == 0);
            }
        }
        return Ok((w.finish(), NtStatus::SUCCESS));
    }
    if list.is_empty() {
        return Err(NtStatus::NO_EAS_ON_FILE);
    }
    let start = if q.flags & flags::INDEX_SPECIFIED != 0 {
        match q.index as usize {
            0 => return Err(NtStatus::NONEXISTENT_EA_ENTRY),
            i if i == list.len() + 1 => return Err(NtStatus::NO_MORE_EAS),
            i if i > list.len() => return Err(NtStatus::NONEXISTENT_EA_ENTRY),
            i => i - 1,
        }
    } else if q.flags & flags::RESTART_SCAN != 0 {
        0
    } else {
        open.next_ea.load(Ordering::Relaxed) as usize
    };
    if start >= list.len() {
        return Err(NtStatus::NO_MORE_EAS);
    }
    let mut next = start;
    for ea in &list[start..] {
        if !w.push(ea) {
            break;
        }
        next += 1;
        if single {
            break;
        }
    }
    open.next_ea.store(next as u32, Ordering::Relaxed);
    if next == start {
        return Err(NtStatus::BUFFER_TOO_SMALL);
    }
    let status = if next < list.len() && !single {
        NtStatus::BUFFER_OVERFLOW
    } else {
        NtStatus::SUCCESS
    };
    Ok((w.finish(), status))
}

/// The answer of a listed query whose entries did not all fit.
fn cut(w: EaListWriter, none_fit: bool) -> Result<(Vec<u8>, NtStatus), NtStatus> {
    if none_fit {
        Err(NtStatus::BUFFER_TOO_SMALL)
    } else {
        Ok((w.finish(), NtStatus::BUFFER_OVERFLOW))
    }
}
