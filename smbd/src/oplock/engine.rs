//! The caching state of one file: its opens, their oplocks and the leases they carry, and the
//! break check every contending operation runs (MS-FSA 2.1.4.12).

use std::time::{Duration, SystemTime};

use super::lease::{Breaking, Lease};
use super::request::{Attempt, BreakNotice, Holder, OpenRequest, Verdict};
use super::state::{LeaseId, LeaseKey, LeaseState, OpenId};
use crate::proto::oplock::OplockLevel;

/// One open of the file as the engine keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OpenEntry {
    pub(super) id: OpenId,
    pub(super) client_guid: [u8; 16],
    /// Attribute and security access only.
    pub(super) stat: bool,
    /// The key of the lease the open carries.
    pub(super) lease: Option<LeaseKey>,
    /// The open's oplock (NONE for lease opens); while breaking, the level before the break.
    pub(super) level: OplockLevel,
    pub(super) breaking: Option<Breaking>,
}

impl OpenEntry {
    pub(super) fn lease_id(&self) -> Option<LeaseId> {
        self.lease.map(|key| LeaseId {
            client_guid: self.client_guid,
            key,
        })
    }

    /// Breaks the oplock to at most `target` (R: level II, or none) (MS-SMB2 3.3.4.6,
    /// MS-FSA 2.1.4.12): a level II oplock goes to none at once, no acknowledgment expected;
    /// an exclusive or batch one waits for the acknowledgment. During a break, only the
    /// requirement narrows.
    pub(super) fn break_to(&mut self, target: LeaseState, now: SystemTime) -> Option<BreakNotice> {
        let target = target & LeaseState::R;
        if let Some(b) = &mut self.breaking {
            b.required = b.required & target;
            return None;
        }
        let from = LeaseState::of_oplock(self.level);
        let ack_required = self.level != OplockLevel::LEVEL_II;
        if ack_required {
            self.breaking = Some(Breaking::new(target, now));
        } else {
            self.level = OplockLevel::NONE;
        }
        Some(BreakNotice {
            holder: Holder::Oplock(self.id),
            from,
            to: target,
            ack_required,
            epoch: 0,
            opens: vec![self.id],
        })
    }
}

/// Who performs an operation, so that it does not break its own caching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Actor {
    /// The open the operation goes through (none for a CREATE not yet granted).
    pub(super) open: Option<OpenId>,
    /// The lease the operation comes under.
    pub(super) lease: Option<LeaseId>,
}

impl Actor {
    pub(super) fn of_request(req: &OpenRequest) -> Self {
        Self {
            open: None,
            lease: req.lease_id(),
        }
    }

    /// Whether the actor's own oplock is left alone: always, except that a write or lock
    /// through an open with a level II oplock breaks it too (smbtorture `oplock.batch1`,
    /// `oplock.brl1`: "self break to none").
    fn spares(&self, o: &OpenEntry, c: Contention) -> bool {
        self.open == Some(o.id) && !(c == Contention::Data && o.level == OplockLevel::LEVEL_II)
    }
}

/// What an operation asks of the caching others hold (MS-FSA 2.1.4.12 BreakCacheState).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Contention {
    /// An open (case OPEN): write caching goes; all caching when the open overwrites.
    Open { overwrite: bool },
    /// An open that failed the share-mode check (case OPEN_BREAK_H, MS-FSA 2.1.5.1.2): handle
    /// caching goes, so holders may close their cached handles.
    Sharing,
    /// Data changes by others: WRITE, byte-range LOCK, end of file, allocation and valid data
    /// length (cases WRITE, LOCK_CONTROL, SET_INFORMATION): all caching goes.
    Data,
    /// Name changes: rename, hard link, delete disposition (case SET_INFORMATION): handle
    /// caching goes.
    Handle,
    /// A change to a child of a directory (flag PARENT_OBJECT): the directory's caching goes.
    Parent,
}

impl Contention {
    /// The most caching a holder keeps.
    fn keep(self) -> LeaseState {
        match self {
            Self::Open { overwrite: false } => LeaseState::RH,
            Self::Sharing | Self::Handle => LeaseState::RW,
            Self::Open { overwrite: true } | Self::Data | Self::Parent => LeaseState::NONE,
        }
    }

    /// The caching whose break the operation waits for (MS-FSA 2.1.4.12 NeedToWait).
    fn waits_on(self) -> LeaseState {
        match self {
            Self::Open { .. } | Self::Data => LeaseState::W,
            Self::Sharing | Self::Handle => LeaseState::H,
            Self::Parent => LeaseState::NONE,
        }
    }

    /// Whether an open also waits for breaks in progress: always when it needs nothing more
    /// of the holder, and on a retry (smbtorture `lease.breaking1`, `lease.breaking3`).
    fn waits_on_breaking(self, drops: bool, attempt: Attempt) -> bool {
        matches!(self, Self::Open { .. } | Self::Sharing) && (!drops || attempt == Attempt::Retry)
    }
}

/// The caching state of one file: every open of it (with or without an oplock), their
/// oplocks, and the leases their keys name. It lives in the server's per-file entry and is
/// changed under that entry's lock; each operation returns what the caller must do (send
/// breaks, wait, answer) and never does I/O or reads a clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCaching {
    pub(super) opens: Vec<OpenEntry>,
    pub(super) leases: Vec<Lease>,
    pub(super) timeout: Duration,
}

impl Default for FileCaching {
    /// No opens yet, and Windows' break timeout ([`super::DEFAULT_BREAK_TIMEOUT`]).
    fn default() -> Self {
        Self::new(super::DEFAULT_BREAK_TIMEOUT)
    }
}

impl FileCaching {
    /// No opens yet; unacknowledged breaks are forced after `break_timeout` (Windows: 35 s,
    /// [`super::DEFAULT_BREAK_TIMEOUT`]).
    pub fn new(break_timeout: Duration) -> Self {
        Self {
            opens: Vec::new(),
            leases: Vec::new(),
            timeout: break_timeout,
        }
    }

    /// How long a holder has to acknowledge a break.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether no open is registered.
    pub fn is_empty(&self) -> bool {
        self.opens.is_empty()
    }

    /// The lease `id`, if an open of this file carries it.
    pub fn lease(&self, id: &LeaseId) -> Option<&Lease> {
        self.leases.iter().find(|l| l.id() == *id)
    }

    /// The lease an open carries.
    pub fn lease_of(&self, open: OpenId) -> Option<&Lease> {
        let id = self.entry(open)?.lease_id()?;
        self.lease(&id)
    }

    /// The oplock level of an open (its level before the break while one is in progress).
    pub fn oplock_level(&self, open: OpenId) -> Option<OplockLevel> {
        self.entry(open).map(|o| o.level)
    }

    /// Whether any break waits for an acknowledgment.
    pub fn breaks_in_progress(&self) -> bool {
        self.leases.iter().any(|l| l.breaking().is_some())
            || self.opens.iter().any(|o| o.breaking.is_some())
    }

    pub(super) fn entry(&self, open: OpenId) -> Option<&OpenEntry> {
        self.opens.iter().find(|o| o.id == open)
    }

    /// The actor for an operation through `open` (an unknown open breaks as a stranger).
    pub(super) fn actor(&self, open: OpenId) -> Actor {
        Actor {
            open: Some(open),
            lease: self.entry(open).and_then(OpenEntry::lease_id),
        }
    }

    /// Breaks what `c` needs of every holder but the actor and says whether to wait.
    pub(super) fn contend(
        &mut self,
        actor: Actor,
        c: Contention,
        attempt: Attempt,
        now: SystemTime,
    ) -> Verdict {
        self.contend_holders(actor, c, attempt, now, true)
    }

    /// [`Self::contend`], leaving leases alone unless `leases`.
    pub(super) fn contend_holders(
        &mut self,
        actor: Actor,
        c: Contention,
        attempt: Attempt,
        now: SystemTime,
        leases: bool,
    ) -> Verdict {
        let mut v = Verdict::default();
        for lease in self.leases.iter_mut().filter(|_| leases) {
            if Some(lease.id()) == actor.lease {
                continue;
            }
            let held = lease.state();
            let drops = held & c.keep() != held;
            if drops {
                v.notices.extend(lease.break_to(c.keep(), now));
            }
            v.wait |= held.intersects(c.waits_on())
                || (lease.breaking().is_some() && c.waits_on_breaking(drops, attempt));
        }
        for open in self.opens.iter_mut() {
            if open.level == OplockLevel::NONE || actor.spares(open, c) {
                continue;
            }
            let held = LeaseState::of_oplock(open.level);
            let drops = held & c.keep() != held;
            if drops {
                v.notices.extend(open.break_to(c.keep(), now));
            }
            v.wait |= held.intersects(c.waits_on())
                || (open.breaking.is_some() && c.waits_on_breaking(drops, attempt));
        }
        v
    }
}
