//! Oplocks and leases as the handlers use them: what a CREATE asks for, its admission to the
//! file (with the breaks it causes and the waits for their acknowledgment), the checks before
//! writes, locks, size changes, renames and deletes, and what a durable open keeps.

use std::sync::Arc;

use crate::oplock::{self, Ask, Attempt, LeaseGrant, LeaseRequest, OpenRequest, Verdict};
use crate::proto::NtStatus;
use crate::proto::create::{CreateRequest, ResponseContext};
use crate::proto::oplock::OplockLevel;
use crate::state::ServerContext;
use crate::state::files::{Admission, Admit, Claim, FileEntry};
use crate::state::opens::Open;

use super::create::Contexts;

/// The caching an open was granted (or holds), as the CREATE response reports it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Granted {
    /// OplockLevel of the CREATE response (0xFF for a lease).
    pub oplock_level: u8,
    /// The lease response context, for a lease.
    pub lease: Option<crate::proto::create_contexts::Lease>,
    /// Whether the grant allows a durable handle (a batch oplock, or a lease with handle
    /// caching: MS-SMB2 3.3.5.9.6, 3.3.5.9.10).
    pub durable_ok: bool,
}

impl Granted {
    fn of(g: &oplock::Granted) -> Self {
        match g {
            oplock::Granted::Nothing => Self::default(),
            oplock::Granted::Oplock(level) => Self {
                oplock_level: level.0,
                lease: None,
                durable_ok: *level == OplockLevel::BATCH,
            },
            oplock::Granted::Lease(l) => Self::of_lease(l),
        }
    }

    fn of_lease(l: &LeaseGrant) -> Self {
        Self {
            oplock_level: OplockLevel::LEASE.0,
            lease: Some(l.context()),
            durable_ok: l.state.contains(oplock::LeaseState::H),
        }
    }

    /// Whether a durable handle may be granted with this caching.
    pub(crate) fn allows_durable(&self) -> bool {
        self.durable_ok
    }

    /// The response contexts that describe the caching.
    pub(crate) fn contexts(&self) -> Vec<ResponseContext> {
        self.lease
            .iter()
            .map(|l| {
                let mut data = Vec::with_capacity(52);
                l.encode(&mut data);
                ResponseContext {
                    name: b"RqLs".to_vec(),
                    data,
                }
            })
            .collect()
    }
}

/// What a CREATE asks for (MS-SMB2 3.3.5.9): a lease when RequestedOplockLevel is LEASE and a
/// lease context came (2.1 and later), an oplock otherwise.
pub(crate) fn ask(req: &CreateRequest<'_>, cx: &Contexts, leasing: bool) -> Ask {
    let level = OplockLevel(req.oplock_level);
    if level == OplockLevel::LEASE {
        return match &cx.lease {
            Some(l) if leasing => Ask::Lease(LeaseRequest::from_context(l)),
            _ => Ask::Nothing,
        };
    }
    match level {
        OplockLevel::LEVEL_II | OplockLevel::EXCLUSIVE | OplockLevel::BATCH => Ask::Oplock(level),
        _ => Ask::Nothing,
    }
}

/// Admits an open to its file: the share-mode check, the breaks it causes (sent, and waited
/// for when they must be acknowledged: the CREATE then goes async with an interim response,
/// and a CANCEL signalled on `cancel` ends it with STATUS_CANCELLED) and the caching granted. Refusals are SHARING_VIOLATION, DELETE_PENDING, or
/// INVALID_PARAMETER for a lease key the client uses on another file.
pub(crate) async fn admit(
    server: &Arc<ServerContext>,
    a: &Admit<'_>,
    cancel: Option<&tokio::sync::Notify>,
) -> Result<(Claim, Granted), NtStatus> {
    let mut attempt = Attempt::First;
    loop {
        let now = server.clock.now();
        let admission = server
            .files
            .admit(a, attempt, now)
            .map_err(|e| e.nt_status())?;
        match admission {
            Admission::Admitted {
                claim,
                granted,
                notices,
            } => {
                super::breaks::send(server, claim.entry(), notices);
                return Ok((claim, Granted::of(&granted)));
            }
            Admission::Refused { conflict, notices } => {
                if let Some(e) = server.files.get(a.key) {
                    super::breaks::send(server, &e, notices);
                }
                return Err(super::create::conflict_status(conflict));
            }
            Admission::Wait {
                entry,
                seen,
                notices,
            } => {
                super::breaks::send(server, &entry, notices);
                match cancel {
                    Some(c) => tokio::select! {
                        () = wait(server, &entry, seen) => {}
                        () = c.notified() => return Err(NtStatus::CANCELLED),
                    },
                    None => wait(server, &entry, seen).await,
                }
                attempt = Attempt::Retry;
            }
        }
    }
}

/// Waits for the file to change (an acknowledgment, a close, a break timing out); at the
/// latest one break timeout later, when the timeout is applied here too.
async fn wait(server: &ServerContext, entry: &FileEntry, seen: u64) {
    let timeout = entry.caching(false, |c, _| c.timeout());
    tokio::select! {
        () = entry.wait_change(seen) => {}
        () = server.clock.sleep(timeout) => {
            let now = server.clock.now();
            entry.caching(true, |c, _| c.poll_timeout(now));
        }
    }
}

/// An operation through an open that contends for its file's caching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// WRITE.
    Write,
    /// LOCK.
    Lock,
    /// A change of end of file or allocation size.
    SetSize,
    /// A rename or link.
    Rename,
    /// Marking the file for deletion.
    Delete,
}

/// Breaks what `op` through `open` must break before it runs, and waits for the
/// acknowledgments it needs.
pub(crate) async fn before(server: &Arc<ServerContext>, open: &Open, op: Op) {
    let Some(entry) = open.entry.clone() else {
        return;
    };
    for _ in 0..4 {
        let now = server.clock.now();
        let (v, seen): (Verdict, u64) = {
            let seen = entry.version();
            let v = entry.caching(false, |c, _| match op {
                Op::Write => c.on_write(open.uid, now),
                Op::Lock => c.on_lock(open.uid, now),
                Op::SetSize => c.on_set_size(open.uid, now),
                Op::Rename => c.on_rename(open.uid, now),
                Op::Delete => c.on_delete(open.uid, now),
            });
            (v, seen)
        };
        let wait_needed = v.wait;
        super::breaks::send(server, &entry, v.notices);
        if !wait_needed {
            return;
        }
        wait(server, &entry, seen).await;
    }
}

/// Whether `open` holds the caching a durable handle needs (a batch oplock, or a lease with
/// handle caching, MS-SMB2 3.3.5.9.6 / 3.3.7.1).
pub(crate) fn keeps_durable(open: &Open) -> bool {
    held_by(open).durable_ok
}

/// The caching `open` holds now.
pub(crate) fn held_by(open: &Open) -> Granted {
    let Some(entry) = &open.entry else {
        return Granted::default();
    };
    entry.caching(false, |c, _| {
        if let Some(l) = c.lease_of(open.uid) {
            return Granted::of_lease(&LeaseGrant {
                key: l.id().key,
                state: l.state(),
                epoch: l.epoch(),
                parent: l.parent_key(),
                breaking: l.breaking().is_some(),
                version: l.version(),
            });
        }
        match c.oplock_level(open.uid) {
            Some(level) => Granted::of(&oplock::Granted::Oplock(level)),
            None => Granted::default(),
        }
    })
}

/// The lease rules of a durable reconnect (MS-SMB2 3.3.5.9.7, 3.3.5.9.12): an open with a lease
/// is reconnected only by its client with the same lease key, and an open without one only
/// by a request without one.
pub(crate) fn check_reconnect(
    open: &Open,
    cx: &Contexts,
    client_guid: [u8; 16],
    name: &str,
) -> Result<(), NtStatus> {
    let Some(entry) = &open.entry else {
        return Ok(());
    };
    let key = entry.caching(false, |c, _| c.lease_of(open.uid).map(|l| l.id()));
    match (key, &cx.lease) {
        (Some(id), Some(l)) if id.key.0 == l.key && id.client_guid == client_guid => {
            if vfs::fold_name(&open.path()) != vfs::fold_name(name) {
                return Err(NtStatus::INVALID_PARAMETER);
            }
            Ok(())
        }
        (None, None) => Ok(()),
        _ => Err(NtStatus::OBJECT_NAME_NOT_FOUND),
    }
}

/// The engine's view of an open being created.
pub(crate) fn request(
    client_guid: [u8; 16],
    access: u32,
    disposition: u32,
    is_directory: bool,
    ask: Ask,
) -> OpenRequest {
    OpenRequest {
        client_guid,
        access,
        disposition,
        is_directory,
        ask,
    }
}
