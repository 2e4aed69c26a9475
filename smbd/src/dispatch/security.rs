//! NT security on every open: the descriptor of a file (stored, or derived from the share
//! root's), the access check against the session's token, inheritance for new files, and the
//! share-level permissions that every check is intersected with.

use acl::{GenericMapping, Privileges, SecurityDescriptor};

use crate::access::{
    DELETE, FILE_DELETE_CHILD, FILE_READ_ATTRIBUTES, FILE_READ_DATA as FILE_LIST_DIRECTORY,
    MAXIMUM_ALLOWED,
};
use crate::proto::NtStatus;
use crate::state::session::SessionSecurity;
use crate::state::{ServerContext, Share};

/// Name of the stored security descriptor in the backend's metadata.
pub(crate) const SD_META: &str = "security.sd";

/// STATUS_INVALID_OWNER.
pub(crate) const INVALID_OWNER: NtStatus = NtStatus(0xC000_005A);
/// STATUS_INVALID_SECURITY_DESCR.
pub(crate) const INVALID_SECURITY_DESCR: NtStatus = NtStatus(0xC000_0079);

/// The token and privileges a session acts with.
pub(crate) struct Subject<'a> {
    /// The token.
    pub token: &'a acl::Token,
    /// Privileges from the configured admin groups.
    pub privileges: Privileges,
    /// Member of an admin group.
    admin: bool,
}

impl<'a> Subject<'a> {
    /// The subject of a session: members of the admin groups hold the security and
    /// take-ownership privileges (and backup/restore, see [`Subject::with_backup_intent`]).
    pub(crate) fn of(server: &ServerContext, sec: &'a SessionSecurity) -> Self {
        let token = &sec.auth.token;
        let admin = server
            .settings()
            .admin_groups
            .iter()
            .any(|g| token.contains(g));
        let privileges = if admin {
            Privileges(Privileges::SECURITY.0 | Privileges::TAKE_OWNERSHIP.0)
        } else {
            Privileges::NONE
        };
        Self {
            token,
            privileges,
            admin,
        }
    }

    /// Backup and restore privileges apply only to opens with FILE_OPEN_FOR_BACKUP_INTENT.
    pub(crate) fn with_backup_intent(mut self, intent: bool) -> Self {
        if intent && self.admin {
            self.privileges =
                Privileges(self.privileges.0 | Privileges::BACKUP.0 | Privileges::RESTORE.0);
        }
        self
    }

    /// Whether the subject may set any owner (an admin holds the restore privilege).
    pub(crate) fn may_set_any_owner(&self) -> bool {
        self.admin
    }
}

/// The descriptor stored on an open file, or the default for `path` on `share`: the root's
/// default for the root, and for anything else what it would have inherited from the root.
pub(crate) async fn descriptor(
    share: &Share,
    file: &vfs::FileRef,
    path: &str,
    is_dir: bool,
) -> SecurityDescriptor {
    if let Ok(Some(bytes)) = file.get_meta(SD_META).await {
        if let Ok(sd) = SecurityDescriptor::decode(&bytes) {
            return sd;
        }
        tracing::warn!(
            path,
            "stored security descriptor does not decode; using the default"
        );
    }
    default_descriptor(share, path, is_dir).await
}

/// The default descriptor of `path` (see [`descriptor`]).
pub(crate) async fn default_descriptor(
    share: &Share,
    path: &str,
    is_dir: bool,
) -> SecurityDescriptor {
    let root = root_descriptor(share).await;
    if path.is_empty() {
        return root;
    }
    let owner = root
        .owner
        .clone()
        .unwrap_or_else(acl::Sid::builtin_administrators);
    let group = root
        .group
        .clone()
        .unwrap_or_else(acl::Sid::builtin_administrators);
    acl::inherit_with_defaults(&root, None, &owner, &group, is_dir, &GenericMapping::FILE)
}

async fn root_descriptor(share: &Share) -> SecurityDescriptor {
    if let Some(fs) = &share.vfs
        && let Ok(o) = fs.open("", &vfs::OpenOptions::read_existing()).await
        && let Ok(Some(bytes)) = o.file.get_meta(SD_META).await
        && let Ok(sd) = SecurityDescriptor::decode(&bytes)
    {
        return sd;
    }
    share.root_default.clone()
}

/// The access granted for `desired` on an object with `sd`, intersected with the share's
/// permissions (`share_max`). `parent` is consulted for DELETE through FILE_DELETE_CHILD.
pub(crate) fn check(
    sd: &SecurityDescriptor,
    parent: Option<&SecurityDescriptor>,
    who: &Subject<'_>,
    desired: u32,
    share_max: u32,
) -> Result<u32, NtStatus> {
    let map = &GenericMapping::FILE;
    let wanted = map.map(desired);
    if wanted & crate::access::ACCESS_SYSTEM_SECURITY != 0
        && !who.privileges.contains(Privileges::SECURITY)
    {
        return Err(NtStatus::PRIVILEGE_NOT_HELD);
    }
    let parent_grants = |bit: u32| {
        parent.is_some_and(|p| {
            acl::access_check_with_privileges(p, who.token, who.privileges, bit, map).is_ok()
        })
    };
    // DELETE may come from the parent's FILE_DELETE_CHILD, FILE_READ_ATTRIBUTES from its
    // FILE_LIST_DIRECTORY (MS-FSA 2.1.5.1.2.1).
    let max = wanted & MAXIMUM_ALLOWED != 0;
    let parent_delete = (max || wanted & DELETE != 0) && parent_grants(FILE_DELETE_CHILD);
    let parent_attrs =
        (max || wanted & FILE_READ_ATTRIBUTES != 0) && parent_grants(FILE_LIST_DIRECTORY);
    // With MAXIMUM_ALLOWED the descriptor is asked for everything it grants (MS-DTYP 2.5.3.2);
    // the other requested bits are compared with that below.
    let mut ask = if max {
        MAXIMUM_ALLOWED | (wanted & crate::access::ACCESS_SYSTEM_SECURITY)
    } else {
        wanted
    };
    if parent_delete {
        ask &= !DELETE;
    }
    if parent_attrs {
        ask &= !FILE_READ_ATTRIBUTES;
    }
    let mut granted =
        match acl::access_check_with_privileges(sd, who.token, who.privileges, ask, map) {
            Ok(g) => g,
            Err(e) => {
                return Err(if e.missing & crate::access::ACCESS_SYSTEM_SECURITY != 0 {
                    NtStatus::PRIVILEGE_NOT_HELD
                } else {
                    NtStatus::ACCESS_DENIED
                });
            }
        };
    if parent_delete {
        granted |= DELETE;
    }
    if parent_attrs {
        granted |= FILE_READ_ATTRIBUTES;
    }
    if max {
        let g = granted & share_max;
        // Bits asked for beside MAXIMUM_ALLOWED must be among those granted.
        if required_with_maximum(desired, g) & !g != 0 {
            return Err(NtStatus::ACCESS_DENIED);
        }
        // MAXIMUM_ALLOWED alone with nothing granted is a refusal.
        if g == 0 {
            return Err(NtStatus::ACCESS_DENIED);
        }
        return Ok(g);
    }
    if granted & !share_max & wanted != 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    Ok(granted & share_max)
}

/// The rights that the bits requested beside MAXIMUM_ALLOWED stand for, given the maximum
/// `granted`: what is not among them fails the open (MS-FSA 2.1.5.1.2.1). Specific and standard
/// bits stand for themselves; a generic bit stands for its file mapping (MS-DTYP 2.5.3.1), in
/// which FILE_EXECUTE is met by FILE_READ_DATA: over SMB the right to read a file's data is the
/// right to run it (a READ needs either, MS-SMB2 3.3.5.12), so a client asking for "the most I
/// can have, including generic execute" on a readable file gets it, as Windows answers.
fn required_with_maximum(desired: u32, granted: u32) -> u32 {
    use crate::access::{FILE_EXECUTE, FILE_READ_DATA, GENERIC_EXECUTE};
    const GENERIC: u32 = 0xF000_0000;
    let explicit = desired & !GENERIC & !MAXIMUM_ALLOWED;
    let mut generic = GenericMapping::FILE.map(desired & GENERIC);
    if desired & GENERIC_EXECUTE != 0 && granted & FILE_READ_DATA != 0 {
        let execute_elsewhere = GenericMapping::FILE.map(desired & GENERIC & !GENERIC_EXECUTE);
        generic &= !(FILE_EXECUTE & !execute_elsewhere);
    }
    explicit | generic
}

/// Everything `who` may do to an object with `sd` (and its parent's grants), within the
/// share's permissions.
pub(crate) fn maximal(
    sd: &SecurityDescriptor,
    parent: Option<&SecurityDescriptor>,
    who: &Subject<'_>,
    share_max: u32,
) -> u32 {
    check(sd, parent, who, MAXIMUM_ALLOWED, share_max).unwrap_or(0)
}

/// The rules on *what* a subject may put into a descriptor, shared by SET_INFO of security
/// and the SecD create context (MS-FSA 2.1.5.16, MS-DTYP 2.5.3.4 / Windows'
/// SepValidOwnerSubjectContext): of the parts named by `parts` (SECINFO bits), the owner must
/// be the user or one of the token's groups unless the subject may set any owner (restore /
/// take-ownership privilege), else STATUS_INVALID_OWNER; a SACL needs the security privilege,
/// else STATUS_PRIVILEGE_NOT_HELD. The rights to change an existing object's descriptor
/// (WRITE_OWNER, WRITE_DAC, ACCESS_SYSTEM_SECURITY on the open) are the caller's to check.
pub(crate) fn check_settable(
    sd: &SecurityDescriptor,
    parts: u32,
    who: &Subject<'_>,
) -> Result<(), NtStatus> {
    use super::query_info::secinfo;
    if parts & secinfo::OWNER != 0 {
        let owner = sd.owner.as_ref().ok_or(INVALID_OWNER)?;
        let allowed =
            *owner == who.token.user || who.token.contains(owner) || who.may_set_any_owner();
        if !allowed {
            return Err(INVALID_OWNER);
        }
    }
    if parts & secinfo::SACL != 0 && !who.privileges.contains(Privileges::SECURITY) {
        return Err(NtStatus::PRIVILEGE_NOT_HELD);
    }
    Ok(())
}

/// The SECINFO parts a descriptor carries (what a SecD create context sets).
pub(crate) fn parts_present(sd: &SecurityDescriptor) -> u32 {
    use super::query_info::secinfo;
    let mut parts = 0;
    if sd.owner.is_some() {
        parts |= secinfo::OWNER;
    }
    if sd.group.is_some() {
        parts |= secinfo::GROUP;
    }
    if sd.dacl.is_some() || sd.control & acl::descriptor::control::DACL_PRESENT != 0 {
        parts |= secinfo::DACL;
    }
    if sd.sacl.is_some() || sd.control & acl::descriptor::control::SACL_PRESENT != 0 {
        parts |= secinfo::SACL;
    }
    parts
}

/// Encodes and stores a descriptor on an open file.
pub(crate) async fn store(file: &vfs::FileRef, sd: &SecurityDescriptor) -> Result<(), NtStatus> {
    let bytes = sd.encode().map_err(|_| INVALID_SECURITY_DESCR)?;
    match file.set_meta(SD_META, bytes).await {
        Ok(()) => Ok(()),
        // A filesystem without xattrs keeps working with defaults.
        Err(vfs::VfsError::Unsupported) => Ok(()),
        Err(e) => Err(NtStatus::from(&e)),
    }
}

/// What a session gets at TREE_CONNECT from the share-level permissions.
pub(crate) fn share_access(share: &Share, who: &Subject<'_>) -> u32 {
    // Privileges do not lift share-level permissions.
    acl::access_check(
        &share.share_sd,
        who.token,
        MAXIMUM_ALLOWED,
        &GenericMapping::FILE,
    )
    .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::*;

    #[test]
    fn generic_execute_with_maximum_is_met_by_read() {
        let read = FILE_GENERIC_READ | WRITE_DAC | DELETE;
        let need = required_with_maximum(MAXIMUM_ALLOWED | GENERIC_EXECUTE, read);
        assert_eq!(need & !read, 0);
        // Without read access, execute is still needed.
        let attrs = READ_CONTROL | SYNCHRONIZE | FILE_READ_ATTRIBUTES;
        let need = required_with_maximum(MAXIMUM_ALLOWED | GENERIC_EXECUTE, attrs);
        assert_eq!(need & !attrs, FILE_EXECUTE);
        // An explicit FILE_EXECUTE is not met by read, nor GENERIC_ALL's execute.
        let need = required_with_maximum(MAXIMUM_ALLOWED | FILE_EXECUTE, read);
        assert_eq!(need & !read, FILE_EXECUTE);
        let need = required_with_maximum(MAXIMUM_ALLOWED | GENERIC_ALL | GENERIC_EXECUTE, read);
        assert_ne!(need & !read & FILE_EXECUTE, 0);
        // Generic write is mapped and refused on a read-only grant.
        let need = required_with_maximum(MAXIMUM_ALLOWED | GENERIC_WRITE, read);
        assert_ne!(need & !read, 0);
        assert_eq!(
            required_with_maximum(MAXIMUM_ALLOWED | GENERIC_READ, read) & !read,
            0
        );
    }
}
