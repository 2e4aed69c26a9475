//! SET_INFO FileRenameInformation (MS-SMB2 3.3.5.21.1, MS-FSA 2.1.5.14.11) and
//! FileLinkInformation (MS-FSA 2.1.5.14.6): the checks at the source and at the destination
//! (shared: a new link is checked at its destination as a rename is), the rename or link
//! itself, and for a rename the move of the file's path in its entry (one place, so every open
//! of the file follows it).

use crate::access::{DELETE, FILE_ADD_FILE, FILE_ADD_SUBDIRECTORY};
use crate::dispatch::{Ctx, path, security};
use crate::proto::NtStatus;
use crate::state::files::{FileKey, SHARE_READ, SHARE_WRITE};
use crate::state::opens::Open;
use vfs::{OpenOptions, VfsError};

/// The parent directory of a vfs path ("" for the root).
fn parent_of(p: &str) -> &str {
    p.rsplit_once('/').map_or("", |(d, _)| d)
}

/// What a SET_INFO does with the new name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NewName {
    /// FileRenameInformation: the file moves there.
    Rename,
    /// FileLinkInformation: the file gets it as another name (a hard link).
    Link,
}

/// Renames the file of `open` (which holds DELETE) to `target`, or links it there.
pub(super) async fn rename(
    ctx: &Ctx<'_>,
    open: &Open,
    replace: bool,
    target: &str,
    what: NewName,
) -> Result<(), NtStatus> {
    if what == NewName::Link && open.is_dir {
        return Err(NtStatus::FILE_IS_A_DIRECTORY);
    }
    let fs = open.share.vfs.clone().ok_or(NtStatus::INVALID_PARAMETER)?;
    let entry = open.entry.as_ref().ok_or(NtStatus::INVALID_PARAMETER)?;
    if target.starts_with(':') {
        return super::rename_stream::rename_stream(open, replace, target).await;
    }
    if entry.is_stream() {
        // A stream moves only within its file (smbtorture smb2.streams.rename2 for a
        // `file:stream` target).
        return Err(if target.contains(':') {
            NtStatus::SHARING_VIOLATION
        } else {
            NtStatus::INVALID_PARAMETER
        });
    }
    if ctx.server().files.stream_opens(entry) > 0 {
        // A file whose streams are open stays where it is (smbtorture
        // smb2.streams.basefile-rename-with-open-stream).
        return Err(NtStatus::ACCESS_DENIED);
    }
    let to = path::to_vfs_path(target.trim_start_matches('\\'))?;
    let from = entry.path();
    if to.is_empty() || from.is_empty() {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if what == NewName::Link {
        // The name links the file the path names now: it must be this open's file (not so for
        // an open of a snapshot, whose file lives elsewhere).
        match fs.stat(&from).await {
            Ok(st) if st.file_id == entry.file_id() => {}
            _ => return Err(NtStatus::ACCESS_DENIED),
        }
    }
    if to == from {
        return match what {
            NewName::Rename => Ok(()),
            NewName::Link if replace => Ok(()),
            NewName::Link => Err(NtStatus::OBJECT_NAME_COLLISION),
        };
    }
    let server = ctx.server();
    let files = &server.files;
    let share = open.share.index;
    let sec = ctx.security.clone().ok_or(NtStatus::USER_SESSION_DELETED)?;
    let who = security::Subject::of(server, &sec);
    let share_max = ctx.tree()?.max_access;

    // The destination directory must let the subject add the entry (MS-FSA 2.1.5.14.11: the
    // target directory is opened for FILE_ADD_FILE or FILE_ADD_SUBDIRECTORY), same directory
    // or not.
    let to_dir = match fs.open(parent_of(&to), &OpenOptions::read_existing()).await {
        Ok(d) if d.stat.is_dir => d,
        Ok(_) | Err(VfsError::NotFound | VfsError::PathNotFound | VfsError::NotADirectory) => {
            return Err(NtStatus::OBJECT_PATH_NOT_FOUND);
        }
        Err(e) => return Err(NtStatus::from(&e)),
    };
    let dir_sd = security::descriptor(&open.share, &to_dir.file, &to_dir.path, true).await;
    let add = if open.is_dir {
        FILE_ADD_SUBDIRECTORY
    } else {
        FILE_ADD_FILE
    };
    security::check(&dir_sd, None, &who, add, share_max)?;

    // An existing target: another file is replaced only when asked, never a directory, never a
    // read-only file, never one that is open, and only with the right to delete it.
    let mut target_claim = None;
    match fs.open(&to, &OpenOptions::read_existing()).await {
        Ok(t) if t.stat.file_id == entry.file_id() => {
            // The same file: a case change of a rename, or a name the file already has.
            if what == NewName::Link {
                return if replace {
                    Ok(())
                } else {
                    Err(NtStatus::OBJECT_NAME_COLLISION)
                };
            }
        }
        Ok(t) => {
            if !replace {
                return Err(NtStatus::OBJECT_NAME_COLLISION);
            }
            if t.stat.is_dir || t.stat.attributes & vfs::attr::READONLY != 0 {
                return Err(NtStatus::ACCESS_DENIED);
            }
            let t_sd = security::descriptor(&open.share, &t.file, &t.path, false).await;
            security::check(&t_sd, Some(&dir_sd), &who, DELETE, share_max)?;
            // Hold the target as an exclusive DELETE open while it is replaced, as Windows
            // does: refused if anyone has it open, and no one opens it meanwhile.
            let key = FileKey::of(share, &t.stat);
            let uid = server.next_id();
            let claim = files
                .claim(key, &t.path, uid, DELETE, 0)
                .map_err(|_| NtStatus::ACCESS_DENIED)?;
            if claim.entry().holders() > 1 {
                return Err(NtStatus::ACCESS_DENIED);
            }
            target_claim = Some(claim);
        }
        Err(VfsError::NotFound) => {}
        Err(VfsError::PathNotFound | VfsError::NotADirectory) => {
            return Err(NtStatus::OBJECT_PATH_NOT_FOUND);
        }
        Err(e) => return Err(NtStatus::from(&e)),
    }
    let result = match what {
        NewName::Rename => rename_checked(ctx, open, &fs, &from, &to, replace).await,
        NewName::Link => fs.link(&from, &to, replace).await.map_err(|e| match e {
            VfsError::Exists => NtStatus::OBJECT_NAME_COLLISION,
            VfsError::NotFound => NtStatus::OBJECT_PATH_NOT_FOUND,
            other => NtStatus::from(&other),
        }),
    };
    drop(target_claim);
    result
}

/// The checks at the source, the rename, and the move of the paths in the table.
async fn rename_checked(
    ctx: &Ctx<'_>,
    open: &Open,
    fs: &std::sync::Arc<dyn vfs::Vfs>,
    from: &str,
    to: &str,
    replace: bool,
) -> Result<(), NtStatus> {
    let files = &ctx.server().files;
    let share = open.share.index;
    let entry = open.entry.as_ref().ok_or(NtStatus::INVALID_PARAMETER)?;
    // Renaming takes the parent directory as an open with DELETE access that shares read and
    // write but not delete (MS-FSA 2.1.5.14.11): the renaming session's own opens of the parent
    // must allow that (smbtorture smb2.rename.*delete_access*), and another client's open of
    // the parent that holds DELETE refuses a file's rename (smb2.oplock.batch20). Interop:
    // other clients' opens count no further, as Samba checks them only within its process:
    // smbtorture smb2.notify.mask-change and rec rename files beside another client's watch
    // that does not share delete, and notify-inotify renames a directory beside another
    // client's open of its parent with DELETE, each expecting success.
    let session_id = open.session_id;
    let opens = &ctx.server().opens;
    if let Ok(st) = fs.stat(parent_of(from)).await
        && let Some(p) = files.get(FileKey::of(share, &st))
    {
        let counted: Vec<u64> = p
            .holder_uids()
            .into_iter()
            .filter(|uid| {
                opens.get(*uid).is_some_and(|o| {
                    o.session_id == session_id || (!open.is_dir && o.access & DELETE != 0)
                })
            })
            .collect();
        if p.would_conflict_with(DELETE, SHARE_READ | SHARE_WRITE, |uid| {
            counted.contains(&uid)
        }) {
            return Err(NtStatus::SHARING_VIOLATION);
        }
    }
    if open.is_dir && files.has_open_below(share, from) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    fs.rename(from, to, replace).await.map_err(|e| match e {
        VfsError::Exists => NtStatus::OBJECT_NAME_COLLISION,
        VfsError::NotFound => NtStatus::OBJECT_PATH_NOT_FOUND,
        other => NtStatus::from(&other),
    })?;
    // The new path as stored (the directories on the way in their on-disk case).
    let stored = match fs.open(to, &OpenOptions::read_existing()).await {
        Ok(o) if o.stat.file_id == entry.file_id() => o.path,
        _ => to.to_owned(),
    };
    files.renamed(entry, from, &stored);
    Ok(())
}
