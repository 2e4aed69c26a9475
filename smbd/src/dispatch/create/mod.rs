//! CREATE (MS-SMB2 3.3.5.9) as a pipeline of named steps: contexts ([`contexts`], every
//! create context typed once) -> a durable reconnect ([`durable`]) or a replay ([`replay`])
//! answers at once -> validate ([`validate`]) -> path -> an earlier application instance's
//! open closed -> access ([`access`]: open or create the object, check the descriptor on it)
//! -> share mode, oplock and lease (the file table's admission, breaks and their waits) ->
//! overwrite -> durable or persistent ([`durable`]) -> open (into the session's and server's
//! tables) -> reply contexts ([`reply`]).

mod access;
mod contexts;
mod durable;
mod quota;
mod replay;
mod reply;
mod snapshot;
mod stream;
mod symlink;
mod validate;

use std::sync::{Arc, Mutex};

use super::{Ctx, HResult, Reply, bad_request, caching, path, security};
use crate::access::{MAXIMUM_ALLOWED, WRITE_RIGHTS};
use crate::proto::NtStatus;
use crate::proto::create::{CreateRequest, CreateResponse, FileId, options};
use crate::state::files::{Admit, FileKey};
use crate::state::opens::{NewOpen, Open, OpenKind, Owner};
use crate::state::session::Tree;
pub(crate) use contexts::Contexts;
use validate::{MODE_OPTIONS, Validated, validate};
use vfs::{CreateAction, Disposition};

/// CREATE.
pub(crate) async fn create(ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> HResult {
    let req = CreateRequest::decode(ctx.msg).map_err(bad_request)?;
    let tree = ctx.tree()?.clone();
    let cx = Contexts::read(&req, ctx.conn.negotiated().is_smb3())?;
    if let Some(rc) = cx.reconnect
        && !tree.share.is_ipc()
    {
        // A reconnect skips the checks of a new open: its fields are not used (MS-SMB2
        // 3.3.5.9.7, smbtorture durable-open.reopen*: the request is otherwise zero).
        return durable::reconnect(ctx, out, &tree, &req, &cx, rc).await;
    }
    if let Some(answered) = replay::step(ctx, out, &tree, &req, &cx).await {
        return answered;
    }
    let _under_way = replay::begin(ctx, &cx)?;
    let v = validate(&req)?;
    // A session at its cap of opens is refused before anything is created or changed.
    ctx.session()?
        .has_room_for_open(&ctx.server().settings().limits)?;
    if tree.share.is_ipc() {
        let granted = if v.desired & MAXIMUM_ALLOWED != 0 {
            tree.max_access
        } else {
            v.desired
        };
        return open_pipe(ctx, out, &tree, &req, granted);
    }
    if super::quota::is_fake_file(&req.name) {
        return quota::open(ctx, out, &tree, &req, &v);
    }
    let (fs, snapshot) = match cx.timewarp {
        Some(ts) => (snapshot::fs_at(&tree, ts).await?, true),
        None => (
            tree.share.vfs.clone().ok_or(NtStatus::INTERNAL_ERROR)?,
            false,
        ),
    };
    let opened = match open_file(ctx, &tree, &req, &v, &cx, fs, snapshot).await {
        Err(NtStatus::STOPPED_ON_SYMLINK) => return symlink::answer(ctx, out, &tree, &req).await,
        other => other?,
    };
    let open = opened.open.clone();
    if req.options & options::DELETE_ON_CLOSE != 0 {
        // Marked for deletion at open: others give up handle caching first (MS-FSA
        // 2.1.4.12; smbtorture lease.unlink).
        caching::before(&ctx.conn.server, &open, caching::Op::Delete).await;
    }
    let caching = opened.caching.clone();
    if let Some(contexts::DurableAsk::V2(q)) = cx.durable {
        open.set_created(
            action_code(opened.action),
            opened.stat.clone(),
            q.create_guid,
        );
    }
    let durable = durable::grant(ctx, &open, &cx, &caching).await;
    ctx.insert_open(open.clone())?;
    ctx.created = Some(open.id);
    let st = &opened.stat;
    let mut contexts = reply::contexts(&cx, &tree, st, opened.maximal);
    contexts.extend(caching.contexts());
    contexts.extend(durable);
    let resp = CreateResponse {
        oplock_level: caching.oplock_level,
        create_action: action_code(opened.action),
        creation_time: st.creation_time,
        last_access_time: st.last_access_time,
        last_write_time: st.last_write_time,
        change_time: st.change_time,
        allocation_size: st.allocation_size,
        end_of_file: st.size,
        file_attributes: st.attributes,
        persistent_id: open.id.persistent,
        volatile_id: open.id.volatile,
        contexts,
    };
    resp.encode(out, 0);
    Ok(Reply::Done(NtStatus::SUCCESS))
}

/// A disk open made by the pipeline, not yet in any table.
struct Made {
    open: Arc<Open>,
    stat: vfs::FileStat,
    action: CreateAction,
    maximal: u32,
    caching: caching::Granted,
}

/// FILE_OPEN_REPARSE_POINT (MS-SMB2 2.2.13 CreateOptions).
const OPEN_REPARSE_POINT: u32 = 0x0020_0000;

/// Rights an open of a snapshot never gets: those that change its name, its place or its
/// descriptor (the data is protected by the read-only view).
const SNAPSHOT_REFUSED: u32 = crate::access::DELETE
    | crate::access::FILE_DELETE_CHILD
    | crate::access::WRITE_DAC
    | crate::access::WRITE_OWNER;

/// The path, access, share-mode and overwrite steps: the open, checked and claimed.
async fn open_file(
    ctx: &Ctx<'_>,
    tree: &Arc<Tree>,
    req: &CreateRequest<'_>,
    v: &Validated,
    cx: &Contexts,
    fs: Arc<dyn vfs::Vfs>,
    snapshot: bool,
) -> Result<Made, NtStatus> {
    let target = path::to_vfs_target(&req.name, tree.share.streams)?;
    let vpath = target.path;
    let (kind, disposition) = stream::object_request(&target.stream, v.kind, v.disposition)?;
    let named = match target.stream {
        path::Stream::Named(n) => Some(n),
        _ => None,
    };
    if named.is_some() && cx.eas.is_some() {
        // EAs belong to the file, not to one of its streams.
        return Err(NtStatus::EAS_NOT_SUPPORTED);
    }
    let creates = !matches!(v.disposition, Disposition::Open);
    let changes =
        v.desired & WRITE_RIGHTS != 0 || (creates && v.disposition != Disposition::OpenIf);
    if snapshot && (creates || v.desired & SNAPSHOT_REFUSED != 0) {
        // Previous versions are read-only: nothing is created, overwritten, deleted, renamed
        // or given another descriptor. An open asking to write data is made, as on Windows and
        // Samba, and each write is refused with MEDIA_WRITE_PROTECTED by the read-only view.
        return Err(NtStatus::MEDIA_WRITE_PROTECTED);
    }
    if tree.share.read_only && changes {
        return Err(NtStatus::ACCESS_DENIED);
    }
    // What the open may be granted: within the share's rights, and in a snapshot none of the
    // rights that act on the name or the descriptor.
    let share_max = if snapshot {
        tree.max_access & !SNAPSHOT_REFUSED
    } else {
        tree.max_access
    };
    let server = ctx.conn.server.clone();
    let sec = ctx.security.clone().ok_or(NtStatus::USER_SESSION_DELETED)?;
    let who = security::Subject::of(&server, &sec)
        .with_backup_intent(req.options & options::OPEN_FOR_BACKUP_INTENT != 0);
    if let Some(sd) = &cx.creator_sd {
        // The owner, group and SACL a creator may give follow SET_INFO's rules.
        security::check_settable(sd, security::parts_present(sd), &who)?;
    }
    let wanted = access::Wanted {
        share: &tree.share,
        fs: fs.as_ref(),
        path: &vpath,
        disposition,
        kind,
        desired: req.desired_access,
        attributes: req.file_attributes,
        allocation_size: cx.allocation_size,
        delete_on_close: req.options & options::DELETE_ON_CLOSE != 0,
        creator_sd: cx.creator_sd.as_ref(),
        who: &who,
        share_max,
        want_maximal: cx.maximal_access,
        open_reparse_point: req.options & OPEN_REPARSE_POINT != 0,
    };
    let mut auth = open_target(fs.as_ref(), &wanted, named.as_deref(), v, req, cx).await?;
    // Only an open its user may make reaches the other opens of the file: an earlier
    // application instance's, and disconnected durable ones. When ending those deleted the
    // file (a delete-on-close open), the open is made again.
    let mut deleted = false;
    if let Some(app) = cx.app_instance
        && cx.durable.is_some()
    {
        deleted |= durable::replace_app_instance(ctx, tree, &vpath, app.0).await;
    }
    let lease_key = cx.lease.map(|l| l.key);
    deleted |= durable::purge_disconnected(ctx, tree, &vpath, v.desired, lease_key).await?;
    if deleted {
        auth = open_target(fs.as_ref(), &wanted, named.as_deref(), v, req, cx).await?;
    }
    let granted = auth.granted;
    let mut opened = auth.opened;
    let id = new_file_id(&server);
    // The table knows the file by its identity, whatever spelling reached it. Every failure
    // from here on drops the claim, which gives it back.
    let key = FileKey::of_stream(tree.share.index, &opened.stat, opened.stream_id);
    let neg = ctx.conn.negotiated();
    let leasing = neg.dialect.is_some_and(|d| d.0 >= 0x0210);
    if opened.stat.is_dir
        && let crate::oplock::Ask::Lease(l) = caching::ask(req, cx, leasing)
    {
        // No directory leases are granted, but a key in use for another file is still
        // refused (smbtorture lease.request).
        let id = crate::oplock::LeaseId {
            client_guid: neg.client_guid,
            key: l.key,
        };
        if server.files.lease_key_elsewhere(&id, key) {
            return Err(NtStatus::INVALID_PARAMETER);
        }
    }
    let ask = caching::ask(req, cx, leasing && !opened.stat.is_dir);
    let request = caching::request(
        neg.client_guid,
        granted,
        req.disposition,
        opened.stat.is_dir,
        ask,
    );
    let (claim, caching) = caching::admit(
        &server,
        &Admit {
            stream: named.as_deref().unwrap_or(""),
            key,
            path: &opened.path,
            uid: id.persistent,
            access: granted,
            share_access: req.share_access,
            request: &request,
        },
        ctx.cancel.as_deref(),
    )
    .await?;
    if let Some(supersede) = auth.overwrite {
        if named.is_none() && server.files.stream_opens(claim.entry()) > 0 {
            // Overwriting a file deletes its streams: not while one is open (MS-FSA
            // 2.1.5.1.2.1).
            return Err(NtStatus::SHARING_VIOLATION);
        }
        opened
            .file
            .overwrite(req.file_attributes, cx.allocation_size, supersede)
            .await
            .map_err(|e| NtStatus::from(&e))?;
        if named.is_none() {
            stream::drop_all(fs.as_ref(), &opened.path).await;
        }
        opened.stat = opened.file.stat().await.map_err(|e| NtStatus::from(&e))?;
        opened.action = if supersede {
            CreateAction::Superseded
        } else {
            CreateAction::Overwritten
        };
    }
    if req.options & options::DELETE_ON_CLOSE != 0
        && opened.stat.attributes & vfs::attr::READONLY != 0
    {
        return Err(NtStatus::CANNOT_DELETE);
    }
    if named.is_none() && !snapshot {
        let no_knowledge = req.options & options::NO_EA_KNOWLEDGE != 0;
        let eas = cx.eas.as_deref();
        super::ea::on_create(&opened.file, opened.action, eas, no_knowledge).await?;
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
        owner: owner(ctx, &sec),
        session_id: ctx.hdr.session_id,
    }));
    let mut stat = opened.stat;
    // Another open may hold the file's write time (writes it has not yet shown).
    super::write_time::report(ctx.server(), &open, &mut stat);
    Ok(Made {
        open,
        stat,
        action: opened.action,
        maximal: auth.maximal,
        caching,
    })
}

/// The access step on the object a CREATE names, then, for a named stream, the stream's open.
async fn open_target(
    fs: &dyn vfs::Vfs,
    wanted: &access::Wanted<'_>,
    named: Option<&str>,
    v: &Validated,
    req: &CreateRequest<'_>,
    cx: &Contexts,
) -> Result<access::Authorized, NtStatus> {
    let mut auth = access::open_checked(wanted).await?;
    if let Some(name) = named {
        let (attributes, alloc) = (req.file_attributes, cx.allocation_size);
        stream::open_named(fs, &mut auth, name, v.disposition, attributes, alloc).await?;
    }
    Ok(auth)
}

/// The owner of an open the session of `ctx` makes.
fn owner(ctx: &Ctx<'_>, sec: &crate::state::session::SessionSecurity) -> Owner {
    Owner {
        user: sec.auth.token.user.clone(),
        client_guid: ctx.conn.negotiated().client_guid,
    }
}

fn action_code(a: CreateAction) -> u32 {
    match a {
        CreateAction::Superseded => 0,
        CreateAction::Opened => 1,
        CreateAction::Created => 2,
        CreateAction::Overwritten => 3,
    }
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
        C::Closed => NtStatus::FILE_CLOSED,
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
    let pipe = crate::rpc::Pipe::open(name, ctx.conn.server.identity())
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
        owner: owner(
            ctx,
            ctx.security
                .as_ref()
                .ok_or(NtStatus::USER_SESSION_DELETED)?,
        ),
        session_id: ctx.hdr.session_id,
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
