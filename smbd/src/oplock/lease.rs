//! A lease on one file (MS-SMB2 3.3.1.12 Lease) and the steps of its breaks (3.3.4.7,
//! 3.3.5.22.2), and the break-in-progress record oplocks share with it.

use std::time::{Duration, SystemTime};

use super::ack::AckError;
use super::request::{BreakNotice, Holder, LeaseGrant, LeaseRequest};
use super::state::{LeaseId, LeaseKey, LeaseState, LeaseVersion, OpenId};

/// A break in progress: sent, not yet acknowledged (MS-SMB2 3.3.1.12 Lease.Breaking,
/// Lease.BreakToLeaseState; 3.3.1.10 Open.OplockState Breaking).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Breaking {
    /// The caching the last notification asked the holder to keep at most; an acknowledgment
    /// may accept it or less.
    pub notified: LeaseState,
    /// The caching the operations that contended since need the holder to keep at most.
    /// Contention arriving during a break narrows this without a new notification; what the
    /// acknowledgment leaves above it is broken in a further step (smbtorture
    /// `lease.breaking3`).
    pub required: LeaseState,
    /// When the notification was sent: the acknowledgment timer runs from here.
    pub since: SystemTime,
}

impl Breaking {
    /// A break just notified.
    pub(super) fn new(to: LeaseState, now: SystemTime) -> Self {
        Self {
            notified: to,
            required: to,
            since: now,
        }
    }

    /// When the holder is downgraded without its acknowledgment.
    pub(super) fn deadline(&self, timeout: Duration) -> Option<SystemTime> {
        self.since.checked_add(timeout)
    }
}

/// A lease: caching granted to a client for one file, shared by every open that carries the
/// lease's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    id: LeaseId,
    version: LeaseVersion,
    parent: Option<LeaseKey>,
    state: LeaseState,
    epoch: u16,
    breaking: Option<Breaking>,
    opens: Vec<OpenId>,
}

impl Lease {
    /// A new lease in `state` for the request `req` (MS-SMB2 3.3.5.9.8, 3.3.5.9.11). A version
    /// 2 lease starts one epoch above the client's (smbtorture `lease.v2_epoch1`) and keeps
    /// the parent key it was asked with.
    pub(super) fn new(id: LeaseId, req: &LeaseRequest, state: LeaseState) -> Self {
        let v2 = req.version == LeaseVersion::V2;
        Self {
            id,
            version: req.version,
            parent: req.parent.filter(|_| v2),
            state,
            epoch: if v2 { req.epoch.wrapping_add(1) } else { 0 },
            breaking: None,
            opens: Vec::new(),
        }
    }

    /// The lease's identity.
    pub fn id(&self) -> LeaseId {
        self.id
    }

    /// The version of the context the lease was created with.
    pub fn version(&self) -> LeaseVersion {
        self.version
    }

    /// The parent directory's lease key (version 2 leases created with one).
    pub fn parent_key(&self) -> Option<LeaseKey> {
        self.parent
    }

    /// The current state (while breaking: the state before the break).
    pub fn state(&self) -> LeaseState {
        self.state
    }

    /// The epoch (MS-SMB2 3.3.1.12 Lease.Epoch; always 0 for a version 1 lease).
    pub fn epoch(&self) -> u16 {
        self.epoch
    }

    /// The break in progress, if any.
    pub fn breaking(&self) -> Option<Breaking> {
        self.breaking
    }

    /// The opens that carry the lease's key.
    pub fn opens(&self) -> &[OpenId] {
        &self.opens
    }

    /// Adds an open to the lease.
    pub(super) fn add_open(&mut self, open: OpenId) {
        self.opens.push(open);
    }

    /// Removes an open; true when none is left (the lease then ends).
    pub(super) fn remove_open(&mut self, open: OpenId) -> bool {
        self.opens.retain(|o| *o != open);
        self.opens.is_empty()
    }

    /// What a CREATE that joined or made the lease reports.
    pub(super) fn grant(&self) -> LeaseGrant {
        LeaseGrant {
            key: self.id.key,
            state: self.state,
            epoch: self.epoch,
            parent: self.parent,
            breaking: self.breaking.is_some(),
            version: self.version,
        }
    }

    /// Raises the state on a CREATE asking for more (MS-SMB2 3.3.5.9.8); a server-side change,
    /// so a version 2 epoch moves (smbtorture `lease.v2_epoch2`).
    pub(super) fn upgrade(&mut self, to: LeaseState) {
        self.state = to;
        self.bump_epoch();
    }

    fn bump_epoch(&mut self) {
        if self.version == LeaseVersion::V2 {
            self.epoch = self.epoch.wrapping_add(1);
        }
    }

    fn notice(&self, from: LeaseState, to: LeaseState, ack_required: bool) -> BreakNotice {
        BreakNotice {
            holder: Holder::Lease(self.id),
            from,
            to,
            ack_required,
            epoch: self.epoch,
            opens: self.opens.clone(),
        }
    }

    /// Breaks the lease to at most `target` (MS-SMB2 3.3.4.7). A break from a state with
    /// write or handle caching waits for an acknowledgment; a break of read caching alone
    /// takes effect at once and asks for none (smbtorture `lease.breaking5`). A lease already
    /// breaking only has its requirement narrowed: no second notification, no new epoch
    /// (smbtorture `lease.breaking3`).
    pub(super) fn break_to(&mut self, target: LeaseState, now: SystemTime) -> Option<BreakNotice> {
        if let Some(b) = &mut self.breaking {
            b.required = b.required & target;
            return None;
        }
        let from = self.state;
        let to = (from & target).grantable_or_none();
        if to == from {
            return None;
        }
        self.bump_epoch();
        if from.intersects(LeaseState::W | LeaseState::H) {
            self.breaking = Some(Breaking::new(to, now));
            Some(self.notice(from, to, true))
        } else {
            self.state = to;
            Some(self.notice(from, to, false))
        }
    }

    /// Takes the client's acknowledgment of `acked` (MS-SMB2 3.3.5.22.2): no break in progress
    /// is STATUS_UNSUCCESSFUL; a state that is not a grantable subset of the one notified is
    /// STATUS_REQUEST_NOT_ACCEPTED (smbtorture `lease.breaking2`). When contention arrived
    /// during the break, what the acknowledged state keeps beyond the requirement is broken
    /// at once in a further step, through R while H or W remains, with the same epoch
    /// (smbtorture `lease.breaking3`, `lease.v2_breaking3`).
    pub(super) fn acknowledge(
        &mut self,
        acked: LeaseState,
        now: SystemTime,
    ) -> Result<Option<BreakNotice>, AckError> {
        let b = self.breaking.ok_or(AckError::LeaseNotBreaking)?;
        if !b.notified.contains(acked) || !acked.is_grantable() {
            return Err(AckError::StateNotAccepted);
        }
        self.state = acked;
        self.breaking = None;
        if b.required.contains(acked) {
            return Ok(None);
        }
        if acked.intersects(LeaseState::W | LeaseState::H) {
            let next = (b.required & acked) | LeaseState::R;
            self.breaking = Some(Breaking {
                notified: next,
                required: b.required,
                since: now,
            });
            Ok(Some(self.notice(acked, next, true)))
        } else {
            self.state = b.required & acked;
            Ok(Some(self.notice(acked, self.state, false)))
        }
    }

    /// Downgrades the lease to none when its break has gone unacknowledged for `timeout`
    /// (MS-SMB2 3.3.2.5; smbtorture `lease.timeout` finds the lease at none afterwards).
    /// Returns the state it had.
    pub(super) fn expire(&mut self, now: SystemTime, timeout: Duration) -> Option<LeaseState> {
        let due = self.breaking?.deadline(timeout)?;
        if now < due {
            return None;
        }
        let from = self.state;
        self.state = LeaseState::NONE;
        self.breaking = None;
        Some(from)
    }
}
