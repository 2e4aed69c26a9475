//! The operations that contend for a file's caching (MS-FSA 2.1.4.12 cases), and CLOSE.

use std::time::SystemTime;

use super::engine::{Actor, Contention, FileCaching};
use super::request::{Attempt, OpenRequest, Verdict};
use super::state::{LeaseId, LeaseKey, OpenId};
use crate::access::READ_CONTROL;

/// What a CLOSE changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Closed {
    /// The lease that ended with its last open. (Claims in the server's
    /// [`super::LeaseTable`] are per open: the close of every open that claimed one gives
    /// it back, and this one's was the last.)
    pub lease_released: Option<LeaseId>,
    /// Whether the open had a break in progress (of its oplock, or of the lease it ended):
    /// an operation waiting for it can go on.
    pub ended_a_break: bool,
}

impl FileCaching {
    /// The break check of a CREATE whose share-mode check passed (MS-FSA 2.1.5.1.2 then
    /// 2.1.4.12 case OPEN). Other holders lose write caching (oplocks: exclusive and batch
    /// go to level II), or all caching when the open overwrites (FILE_SUPERSEDE,
    /// FILE_OVERWRITE, FILE_OVERWRITE_IF). The open waits when write caching was broken or
    /// a break it needs is in progress. A stat open breaks nothing and never waits. The
    /// opener's own lease (same ClientGuid and key) is never broken.
    pub fn check_open(&mut self, req: &OpenRequest, attempt: Attempt, now: SystemTime) -> Verdict {
        let c = Contention::Open {
            overwrite: req.overwrites(),
        };
        if req.breaks_nothing() {
            // READ_CONTROL makes a stat open for leases (smbtorture `lease.statopen4`) but
            // still breaks oplocks (`oplock.statopen1`).
            if req.access & READ_CONTROL == 0 {
                return Verdict::default();
            }
            return self.contend_holders(Actor::of_request(req), c, attempt, now, false);
        }
        self.contend(Actor::of_request(req), c, attempt, now)
    }

    /// The break check of a CREATE whose share-mode check failed (MS-FSA 2.1.5.1.2: before
    /// a sharing violation is returned, holders of handle caching are asked to give it up,
    /// since their cached handles may be what conflicts). Leases lose H (RWH goes to RW:
    /// smbtorture `lease.sharing_violation`), a batch oplock goes to level II
    /// (`oplock.batch5`); an exclusive oplock has no handle caching and is not broken
    /// (`oplock.exclusive1`). With `wait`, the caller waits and then redoes the share-mode
    /// check; without, it fails the CREATE with STATUS_SHARING_VIOLATION.
    pub fn check_sharing_violation(
        &mut self,
        req: &OpenRequest,
        attempt: Attempt,
        now: SystemTime,
    ) -> Verdict {
        self.contend(Actor::of_request(req), Contention::Sharing, attempt, now)
    }

    /// Before a WRITE through `open` (MS-FSA 2.1.4.12 case WRITE): others' caching is broken
    /// to none; read caching (level II, R, RH) without waiting; the writer's own level II
    /// oplock breaks too, its own lease and exclusive oplock do not (smbtorture
    /// `lease.nobreakself`, `oplock.batch1`, `oplock.batch21`).
    pub fn on_write(&mut self, open: OpenId, now: SystemTime) -> Verdict {
        self.contend(self.actor(open), Contention::Data, Attempt::First, now)
    }

    /// Before a byte-range LOCK through `open` (case LOCK_CONTROL): as [`Self::on_write`]
    /// (smbtorture `lease.lock1`, `oplock.brl1`).
    pub fn on_lock(&mut self, open: OpenId, now: SystemTime) -> Verdict {
        self.contend(self.actor(open), Contention::Data, Attempt::First, now)
    }

    /// Before a SET_INFO of end of file, allocation size or valid data length through `open`
    /// (case SET_INFORMATION): as [`Self::on_write`] (smbtorture `oplock.batch11`,
    /// `oplock.batch12`). Attribute and time changes (FileBasicInformation) break nothing on
    /// the file itself; they change the parent directory: see [`Self::on_child_change`].
    pub fn on_set_size(&mut self, open: OpenId, now: SystemTime) -> Verdict {
        self.contend(self.actor(open), Contention::Data, Attempt::First, now)
    }

    /// Before a rename or hard link of the file through `open` (case SET_INFORMATION,
    /// FileRenameInformation / FileLinkInformation): others lose handle caching, and the
    /// rename waits for that (smbtorture `lease.rename_wait`). The renamer's own caching stays
    /// (`oplock.batch19`).
    pub fn on_rename(&mut self, open: OpenId, now: SystemTime) -> Verdict {
        self.contend(self.actor(open), Contention::Handle, Attempt::First, now)
    }

    /// Before the file is marked for deletion through `open` (FileDispositionInformation, or
    /// a CREATE with FILE_DELETE_ON_CLOSE): as [`Self::on_rename`].
    pub fn on_delete(&mut self, open: OpenId, now: SystemTime) -> Verdict {
        self.contend(self.actor(open), Contention::Handle, Attempt::First, now)
    }

    /// On this directory's state, when a child is created, renamed, deleted, or has its data,
    /// size or attributes changed (MS-FSA 2.1.4.12 flag PARENT_OBJECT): directory leases are
    /// broken to none without waiting, except the one whose key the actor gave as its parent
    /// lease key (smbtorture `lease.v2_request`: a create with the right parent key does not
    /// break the directory's lease, one without does).
    pub fn on_child_change(
        &mut self,
        client_guid: [u8; 16],
        parent_key: Option<LeaseKey>,
        now: SystemTime,
    ) -> Verdict {
        let actor = Actor {
            open: None,
            lease: parent_key.map(|key| LeaseId { client_guid, key }),
        };
        self.contend(actor, Contention::Parent, Attempt::First, now)
    }

    /// Forgets a closed open: its oplock (and any break of it) ends, and it leaves its lease,
    /// which ends with its last open (MS-SMB2 3.3.4.17, 3.3.5.10). An open not registered is
    /// ignored.
    pub fn on_close(&mut self, open: OpenId) -> Closed {
        let Some(pos) = self.opens.iter().position(|o| o.id == open) else {
            return Closed::default();
        };
        let entry = self.opens.remove(pos);
        let mut closed = Closed {
            lease_released: None,
            ended_a_break: entry.breaking.is_some(),
        };
        let Some(id) = entry.lease_id() else {
            return closed;
        };
        if let Some(i) = self.leases.iter().position(|l| l.id() == id)
            && self.leases[i].remove_open(open)
        {
            let lease = self.leases.remove(i);
            closed.ended_a_break = lease.breaking().is_some();
            closed.lease_released = Some(id);
        }
        closed
    }
}
