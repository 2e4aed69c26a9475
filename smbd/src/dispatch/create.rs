//! CREATE (MS-SMB2 3.3.5.9) as a pipeline: decode -> validate -> path -> access -> share mode
//! -> open -> contexts -> reply.

use std::sync::{Arc, Mutex};

use super::{Ctx, HResult, Reply, bad_request, create_access, path, security};
use crate::access::{DELETE, MAXIMUM_ALLOWED, WRITE_RIGHTS, map_generic};
use crate::proto::NtStatus;
use crate::proto::codec::WriteLe;
use crate::proto::create::{CreateRequest, CreateResponse, FileId, ResponseContext, options};
use crate::state::files::FileKey;
use crate::state::opens::{NewOpen, Open, OpenKind};
use crate::state::session::Tree;
use vfs::{CreateAction, Disposition, Kind};

/// Access bits a client may ask for (MS-SMB2 2.2.13.1); others are refused.
const VALID_ACCESS: u32 = 0xF31F_01FF;
/// CreateOptions bits the server refuses with NOT_SUPPORTED: FILE_CREATE_TREE_CONNECTION,
/// FILE_OPEN_BY_FILE_ID and FILE_RESERVE_OPFILTER (MS-SMB2 3.3.5.9; smbtorture gentest).
const UNSUPPORTED_OPTIONS: u32 = 0x0010_2080;
/// CreateOptions bits that are invalid (the top byte).
const INVALID_OPTIONS: u32 = 0xFF00_0000;
/// CreateOptions bits that FileModeInformation reports (MS-FSCC 2.4.26).
const MODE_OPTIONS: u32 = 0x0000_103E;
/// Valid FILE_ATTRIBUTE_* bits on create.
const VALID_ATTRIBUTES: u32 = 0x0000_7FB7;

fn disposition(v: u32) -> Result<Disposition, NtStatus> {
    Ok(match v {
        0 => Disposition::Supersede,
        1 => Disposition::Open,
        2 => Disposition::Create,
        3 => Disposition::OpenIf,
        4 => Disposition::Overwrite,
        5 => Disposition::OverwriteIf,
        _ => return Err(NtStatus::INVALID_PARAMETER),
    })
}

fn action_code(a: CreateAction) -> u32 {
    match a {
        CreateAction::Superseded => 0,
        CreateAction::Opened => 1,
        CreateAction::Created => 2,
        CreateAction::Overwritten => 3,
    }
}

/// CREATE.
pub(crate) async fn create(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    let req = CreateRequest::decode(ctx.msg).map_err(bad_request)?;
    let tree = ctx.tree()?.clone();
    if req.impersonation_level > 3 {
        return Err(NtStatus(0xC000_00A5)); // STATUS_BAD_IMPERSONATION_LEVEL
    }
    let disp = disposition(req.disposition)?;
    if req.options & options::DIRECTORY_FILE != 0 && req.options & options::NON_DIRECTORY_FILE != 0
    {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if req.options & INVALID_OPTIONS != 0 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if req.options & UNSUPPORTED_OPTIONS != 0 {
        return Err(NtStatus::NOT_SUPPORTED);
    }
    if req.desired_access & !VALID_ACCESS != 0 || req.desired_access == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if req.file_attributes & !VALID_ATTRIBUTES != 0 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let desired = map_generic(req.desired_access);
    if req.options & options::DELETE_ON_CLOSE != 0 && desired & DELETE == 0 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if req.contexts.iter().any(|c| c.name.len() < 4) {
        // MS-SMB2 2.2.13.2: context names are at least four bytes (smbtorture smb2.create.blob).
        return Err(NtStatus::INVALID_PARAMETER);
    }
    // A session at its cap of opens is refused before anything is created or changed.
    ctx.session()?
        .has_room_for_open(&ctx.server().settings.limits)?;
    if tree.share.is_ipc() {
        let granted = if desired & MAXIMUM_ALLOWED != 0 {
            tree.max_access
        } else {
            desired
        };
        return open_pipe(ctx, out, &tree, &req, granted);
    }
    if req.context(b"TWrp").is_some() {
        return Err(NtStatus::OBJECT_NAME_NOT_FOUND);
    }
    let vpath = path::to_vfs_path(&req.name)?;
    let creates = !matches!(disp, Disposition::Open);
    if tree.share.read_only
        && (desired & WRITE_RIGHTS != 0 || (creates && disp != Disposition::OpenIf))
    {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let fs = tree.share.vfs.clone().ok_or(NtStatus::INTERNAL_ERROR)?;
    let server = ctx.conn.server.clone();
    let kind = if req.options & options::DIRECTORY_FILE != 0 {
        Kind::Directory
    } else if req.options & options::NON_DIRECTORY_FILE != 0 {
        Kind::File
    } else {
        Kind::Any
    };
    let creator_sd = match req.context(b"SecD") {
        Some(b) => {
            Some(acl::SecurityDescriptor::decode(b).map_err(|_| security::INVALID_SECURITY_DESCR)?)
        }
        None => None,
    };
    let sec = ctx.security.clone().ok_or(NtStatus::USER_SESSION_DELETED)?;
    let who = security::Subject::of(&server, &sec)
        .with_backup_intent(req.options & options::OPEN_FOR_BACKUP_INTENT != 0);
    if let Some(sd) = &creator_sd {
        // The owner, group and SACL a creator may give follow SET_INFO's rules.
        security::check_settable(sd, security::parts_present(sd), &who)?;
    }
    let allocation_size = req
        .context(b"AlSi")
        .and_then(|d| d.get(..8))
        .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or_default()));
    let auth = create_access::open_checked(&create_access::Wanted {
        share: &tree.share,
        fs: fs.as_ref(),
        path: &vpath,
        disposition: disp,
        kind,
        desired: req.desired_access,
        attributes: req.file_attributes,
        allocation_size,
        delete_on_close: req.options & options::DELETE_ON_CLOSE != 0,
        creator_sd: creator_sd.as_ref(),
        who: &who,
        share_max: tree.max_access,
        want_maximal: req.context(b"MxAc").is_some(),
    })
    .await?;
    let granted = auth.granted;
    let mut opened = auth.opened;
    let id = new_file_id(&server);
    // The table knows the file by its identity, whatever spelling reached it.
    let key = FileKey::of(tree.share.index, &opened.stat);
    let claim = server
        .files
        .claim(key, &opened.path, id.persistent, granted, req.share_access)
        .map_err(conflict_status)?;
    // Every failure from here on gives the share-mode claim back (dropping it).
    let give_up = |status: NtStatus| Err(status);
    if let Some(supersede) = auth.overwrite {
        let done = opened
            .file
            .overwrite(req.file_attributes, allocation_size, supersede)
            .await;
        match done {
            Ok(()) => match opened.file.stat().await {
                Ok(st) => opened.stat = st,
                Err(e) => return give_up(NtStatus::from(&e)),
            },
            Err(e) => return give_up(NtStatus::from(&e)),
        }
        opened.action = if supersede {
            CreateAction::Superseded
        } else {
            CreateAction::Overwritten
        };
    }
    if req.options & options::DELETE_ON_CLOSE != 0
        && opened.stat.attributes & vfs::attr::READONLY != 0
    {
        return give_up(NtStatus::CANNOT_DELETE);
    }
    let open = Arc::new(Open::new(NewOpen {
        id,
        tree_id: tree.id,
        share: tree.share.clone(),
        kind: OpenKind::File(opened.file),
        name: opened.path,
        is_dir: opened.stat.is_dir,
        access: granted,
        share_access: req.share_access,
        options: req.options,
        mode: req.options & MODE_OPTIONS,
        claim: Some(claim),
    }));
    ctx.insert_open(open)?;
    ctx.created = Some(id);
    let st = &opened.stat;
    let mut contexts = Vec::new();
    if req.context(b"MxAc").is_some() {
        let mut d = Vec::with_capacity(8);
        d.put_u32(0);
        d.put_u32(auth.maximal);
        contexts.push(ResponseContext {
            name: b"MxAc".to_vec(),
            data: d,
        });
    }
    if req.context(b"QFid").is_some() {
        let mut d = Vec::with_capacity(32);
        d.put_u64(st.file_id);
        d.put_u64(0);
        d.put_u64(tree.share.index as u64 + 1);
        d.put_u64(0);
        contexts.push(ResponseContext {
            name: b"QFid".to_vec(),
            data: d,
        });
    }
    let resp = CreateResponse {
        oplock_level: 0,
        create_action: action_code(opened.action),
        creation_time: st.creation_time,
        last_access_time: st.last_access_time,
        last_write_time: st.last_write_time,
        change_time: st.change_time,
        allocation_size: st.allocation_size,
        end_of_file: st.size,
        file_attributes: st.attributes,
        persistent_id: id.persistent,
        volatile_id: id.volatile,
        contexts,
    };
    resp.encode(out, 0);
    Ok(Reply::Done(NtStatus::SUCCESS))
}

/// A new file id: a persistent part, unique for the server's life (the open's identity in the
/// server's open table, kept across a durable reconnect), and a distinct volatile part (the
/// handle of this open on its session).
fn new_file_id(server: &crate::state::ServerContext) -> FileId {
    FileId {
        persistent: server.next_id(),
        volatile: server.next_id(),
    }
}

/// Maps a share-mode or lock conflict to its status.
pub(crate) fn conflict_status(c: crate::state::files::FileConflict) -> NtStatus {
    use crate::state::files::FileConflict as C;
    match c {
        C::Sharing => NtStatus::SHARING_VIOLATION,
        C::DeletePending => NtStatus::DELETE_PENDING,
        C::Locked => NtStatus::LOCK_NOT_GRANTED,
        C::NotLocked => NtStatus::RANGE_NOT_LOCKED,
        C::TooManyLocks => NtStatus::INSUFFICIENT_RESOURCES,
    }
}

fn open_pipe(
    ctx: &mut Ctx<'_>,
    out: &mut Vec<u8>,
    tree: &Arc<Tree>,
    req: &CreateRequest<'_>,
    granted: u32,
) -> HResult {
    let name = req.name.trim_start_matches('\\');
    let pipe = crate::rpc::Pipe::open(name, ctx.conn.server.identity.clone())
        .ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
    let id = new_file_id(ctx.server());
    let open = Arc::new(Open::new(NewOpen {
        id,
        tree_id: tree.id,
        share: tree.share.clone(),
        kind: OpenKind::Pipe(Mutex::new(pipe)),
        name: name.to_string(),
        is_dir: false,
        access: granted,
        share_access: req.share_access,
        options: req.options & !options::DELETE_ON_CLOSE,
        mode: req.options & MODE_OPTIONS,
        claim: None,
    }));
    ctx.insert_open(open)?;
    ctx.created = Some(id);
    let resp = CreateResponse {
        create_action: 1,
        allocation_size: 4096,
        file_attributes: vfs::attr::NORMAL,
        persistent_id: id.persistent,
        volatile_id: id.volatile,
        ..CreateResponse::default()
    };
    resp.encode(out, 0);
    Ok(Reply::Done(NtStatus::SUCCESS))
}
