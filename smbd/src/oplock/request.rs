//! What callers hand the engine (an open's request) and what it hands back (breaks to send,
//! whether to wait, what was granted).

use super::state::{LeaseId, LeaseKey, LeaseState, LeaseVersion, OpenId};
use crate::access::{FILE_READ_ATTRIBUTES, FILE_WRITE_ATTRIBUTES, READ_CONTROL, SYNCHRONIZE};
use crate::proto::create_contexts::{
    self, LEASE_FLAG_BREAK_IN_PROGRESS, LEASE_FLAG_PARENT_LEASE_KEY_SET, LeaseV2,
};
use crate::proto::oplock::{
    LeaseBreakNotification, NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED, OplockLevel,
};

/// Access rights that neither read nor change data: an open asking for no others is a "stat
/// open", which breaks no oplock (MS-FSA 2.1.4.12, case OPEN; smbtorture `lease.statopen4`).
const STAT_ACCESS: u32 = FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES | READ_CONTROL | SYNCHRONIZE;

/// Whether an access mask makes a stat open.
pub(super) fn is_stat_access(access: u32) -> bool {
    access & !STAT_ACCESS == 0
}

/// A lease create context as the engine sees it (MS-SMB2 2.2.13.2.8, 2.2.13.2.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseRequest {
    /// The client's key.
    pub key: LeaseKey,
    /// The state asked for.
    pub state: LeaseState,
    /// The context's version.
    pub version: LeaseVersion,
    /// The parent directory's lease key, when the v2 context sets
    /// SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET (ignored otherwise: smbtorture
    /// `lease.v2_flags_parentkey`).
    pub parent: Option<LeaseKey>,
    /// The client's epoch (v2; a new lease starts one above it).
    pub epoch: u16,
}

impl LeaseRequest {
    /// The request a decoded RqLs context makes.
    pub fn from_context(ctx: &create_contexts::Lease) -> Self {
        let parent_set = ctx.flags & LEASE_FLAG_PARENT_LEASE_KEY_SET != 0;
        Self {
            key: LeaseKey(ctx.key),
            state: LeaseState::from_bits(ctx.state),
            version: if ctx.v2.is_some() {
                LeaseVersion::V2
            } else {
                LeaseVersion::V1
            },
            parent: ctx
                .v2
                .filter(|_| parent_set)
                .map(|v| LeaseKey(v.parent_key)),
            epoch: ctx.v2.map_or(0, |v| v.epoch),
        }
    }
}

/// How a CREATE asks for caching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// No oplock and no lease (also what the caller passes for pipes, and for lease contexts
    /// it ignores: a 2.0.2 dialect, or a directory without directory leasing).
    Nothing,
    /// RequestedOplockLevel NONE, LEVEL_II, EXCLUSIVE or BATCH.
    Oplock(OplockLevel),
    /// RequestedOplockLevel LEASE with its context.
    Lease(LeaseRequest),
}

/// An open of the file being created, as the engine needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenRequest {
    /// The ClientGuid of the opener's connection.
    pub client_guid: [u8; 16],
    /// The access granted to the open.
    pub access: u32,
    /// CreateDisposition (MS-SMB2 2.2.13).
    pub disposition: u32,
    /// Whether the file is a directory (no oplocks; leases without W).
    pub is_directory: bool,
    /// The oplock or lease asked for.
    pub ask: Ask,
}

impl OpenRequest {
    /// Whether the open replaces the file's data: FILE_SUPERSEDE (0), FILE_OVERWRITE (4) or
    /// FILE_OVERWRITE_IF (5).
    pub fn overwrites(&self) -> bool {
        matches!(self.disposition, 0 | 4 | 5)
    }

    /// Whether the open breaks nothing: attribute and security access only, and no overwrite
    /// (smbtorture `oplock.exclusive5`: an attribute-only overwrite does break).
    pub fn breaks_nothing(&self) -> bool {
        is_stat_access(self.access) && !self.overwrites()
    }

    /// The lease the open asks for, if any.
    pub fn lease_id(&self) -> Option<LeaseId> {
        match self.ask {
            Ask::Lease(l) => Some(LeaseId {
                client_guid: self.client_guid,
                key: l.key,
            }),
            _ => None,
        }
    }
}

/// Whether a CREATE runs the break check for the first time or again after waiting: a retry
/// also waits for breaks it did not start (smbtorture `lease.breaking3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The first check of this CREATE.
    First,
    /// A check after a wait ended (an acknowledgment, a close or a timeout).
    Retry,
}

/// What an operation must do about caching: the breaks to send, and whether it must wait
/// (for acknowledgments, closes or timeouts) and then check again before going on.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Break notifications to send now.
    pub notices: Vec<BreakNotice>,
    /// Whether the operation must wait before it proceeds.
    pub wait: bool,
}

/// Who holds caching on the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// An open's oplock.
    Oplock(OpenId),
    /// A lease (shared by the opens that carry its key).
    Lease(LeaseId),
}

/// A break to send (MS-SMB2 3.3.4.6 for oplocks, 3.3.4.7 for leases).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakNotice {
    /// Whose caching breaks.
    pub holder: Holder,
    /// The caching held before the break.
    pub from: LeaseState,
    /// The caching it is broken to (for an oplock: R is level II).
    pub to: LeaseState,
    /// Whether the holder must acknowledge (a Lease Break Notification then carries
    /// SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED).
    pub ack_required: bool,
    /// NewEpoch of a lease break (0 for oplocks and version 1 leases).
    pub epoch: u16,
    /// The opens of the lease (or the one open of the oplock): the notification goes to a
    /// connection of one of them.
    pub opens: Vec<OpenId>,
}

impl BreakNotice {
    /// The OplockLevel of an Oplock Break Notification (MS-SMB2 2.2.23.1): level II or none.
    pub fn oplock_level(&self) -> OplockLevel {
        self.to.oplock_level()
    }

    /// The body of the Lease Break Notification, for a lease break.
    pub fn lease_notification(&self) -> Option<LeaseBreakNotification> {
        let Holder::Lease(id) = self.holder else {
            return None;
        };
        Some(LeaseBreakNotification {
            new_epoch: self.epoch,
            flags: if self.ack_required {
                NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED
            } else {
                0
            },
            key: id.key.0,
            current_state: self.from.bits(),
            new_state: self.to.bits(),
        })
    }
}

/// What an open was granted (MS-SMB2 3.3.5.9, 3.3.5.9.8, 3.3.5.9.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granted {
    /// No oplock and no lease context in the response.
    Nothing,
    /// An oplock (possibly NONE).
    Oplock(OplockLevel),
    /// A lease (possibly in state none); the response has OplockLevel LEASE and a lease
    /// context.
    Lease(LeaseGrant),
}

impl Granted {
    /// The response's OplockLevel.
    pub fn oplock_level(&self) -> OplockLevel {
        match self {
            Self::Nothing => OplockLevel::NONE,
            Self::Oplock(level) => *level,
            Self::Lease(_) => OplockLevel::LEASE,
        }
    }
}

/// The lease an open joined or created, as the response context reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseGrant {
    /// The client's key.
    pub key: LeaseKey,
    /// The lease's current state (while breaking: the state before the break).
    pub state: LeaseState,
    /// The lease's epoch (0 for a version 1 lease).
    pub epoch: u16,
    /// The parent lease key the lease was created with (version 2 only).
    pub parent: Option<LeaseKey>,
    /// Whether a break is in progress (SMB2_LEASE_FLAG_BREAK_IN_PROGRESS).
    pub breaking: bool,
    /// The version the lease was created with, which the response context follows whatever
    /// the request's version (smbtorture `lease.v2_epoch2`, `lease.v2_epoch3`).
    pub version: LeaseVersion,
}

impl LeaseGrant {
    /// The response context: SMB2_CREATE_RESPONSE_LEASE (MS-SMB2 2.2.14.2.10) for a version
    /// 1 lease, SMB2_CREATE_RESPONSE_LEASE_V2 (2.2.14.2.11) for a version 2 one.
    pub fn context(&self) -> create_contexts::Lease {
        let mut flags = 0;
        if self.breaking {
            flags |= LEASE_FLAG_BREAK_IN_PROGRESS;
        }
        let v2 = (self.version == LeaseVersion::V2).then(|| {
            if self.parent.is_some() {
                flags |= LEASE_FLAG_PARENT_LEASE_KEY_SET;
            }
            LeaseV2 {
                parent_key: self.parent.map_or([0; 16], |k| k.0),
                epoch: self.epoch,
            }
        });
        create_contexts::Lease {
            key: self.key.0,
            state: self.state.bits(),
            flags,
            v2,
        }
    }
}
