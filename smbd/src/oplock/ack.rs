//! OPLOCK_BREAK acknowledgments (MS-SMB2 3.3.5.22.1, 3.3.5.22.2) and the acknowledgment timer
//! (3.3.2.1 Oplock Break Acknowledgment Timer, 3.3.2.5 Lease Break Acknowledgment Timer).

use std::time::SystemTime;

use super::engine::FileCaching;
use super::request::{BreakNotice, Holder};
use super::state::{LeaseId, LeaseState, OpenId};
use crate::proto::NtStatus;
use crate::proto::oplock::OplockLevel;

/// Why an acknowledgment was refused; each maps to the status MS-SMB2 3.3.5.22 answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckError {
    /// No open of the file has the FileId: STATUS_FILE_CLOSED (3.3.5.22.1).
    NoSuchOpen,
    /// No lease of the client has the key here: STATUS_OBJECT_NAME_NOT_FOUND (3.3.5.22.2).
    NoSuchLease,
    /// The oplock is not breaking (a level II break to none asks for no acknowledgment):
    /// STATUS_INVALID_OPLOCK_PROTOCOL (3.3.5.22.1; smbtorture `oplock.levelii502`).
    OplockNotBreaking,
    /// The acknowledgment names a level above the one the oplock was broken to (exclusive,
    /// batch, or level II after a break to none); the oplock is now none:
    /// STATUS_INVALID_OPLOCK_PROTOCOL (3.3.5.22.1).
    LevelTooHigh,
    /// An oplock acknowledgment with OplockLevel LEASE (the oplock, if breaking, is now none),
    /// or with a level that is no oplock level: STATUS_INVALID_PARAMETER (3.3.5.22.1).
    InvalidLevel,
    /// The lease is not breaking: STATUS_UNSUCCESSFUL (3.3.5.22.2; smbtorture
    /// `lease.breaking5`, `lease.timeout`).
    LeaseNotBreaking,
    /// The lease state is not a grantable subset of the state the break asked for:
    /// STATUS_REQUEST_NOT_ACCEPTED (3.3.5.22.2; smbtorture `lease.breaking2`).
    StateNotAccepted,
}

impl AckError {
    /// The status of the error response.
    pub fn nt_status(self) -> NtStatus {
        match self {
            Self::NoSuchOpen => NtStatus::FILE_CLOSED,
            Self::NoSuchLease => NtStatus::OBJECT_NAME_NOT_FOUND,
            Self::OplockNotBreaking | Self::LevelTooHigh => NtStatus::INVALID_OPLOCK_PROTOCOL,
            Self::InvalidLevel => NtStatus::INVALID_PARAMETER,
            Self::LeaseNotBreaking => NtStatus::UNSUCCESSFUL,
            Self::StateNotAccepted => NtStatus::REQUEST_NOT_ACCEPTED,
        }
    }
}

/// An accepted acknowledgment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acked {
    /// What the response reports: the oplock level (as caching: R is level II) or the lease
    /// state now held.
    pub state: LeaseState,
    /// A further break to send at once, when contention during the break needs more than
    /// was acknowledged.
    pub notices: Vec<BreakNotice>,
}

/// A break forced by the acknowledgment timer: the holder now has no caching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expired {
    /// Whose break timed out.
    pub holder: Holder,
    /// The caching it had.
    pub from: LeaseState,
}

impl FileCaching {
    /// Takes an Oplock Break Acknowledgment for `open` (MS-SMB2 3.3.5.22.1). On success the
    /// oplock is at the acknowledged level (II or none); if operations contended during the
    /// break so that level II cannot stay, a break to none follows at once, without
    /// acknowledgment.
    pub fn ack_oplock(
        &mut self,
        open: OpenId,
        level: OplockLevel,
        now: SystemTime,
    ) -> Result<Acked, AckError> {
        let o = self
            .opens
            .iter_mut()
            .find(|o| o.id == open)
            .ok_or(AckError::NoSuchOpen)?;
        let acked = match level {
            OplockLevel::NONE | OplockLevel::LEVEL_II => LeaseState::of_oplock(level),
            OplockLevel::EXCLUSIVE | OplockLevel::BATCH => LeaseState::RW,
            _ => {
                if level == OplockLevel::LEASE && o.breaking.take().is_some() {
                    o.level = OplockLevel::NONE;
                }
                return Err(AckError::InvalidLevel);
            }
        };
        let b = o.breaking.ok_or(AckError::OplockNotBreaking)?;
        o.breaking = None;
        if !b.notified.contains(acked) {
            o.level = OplockLevel::NONE;
            return Err(AckError::LevelTooHigh);
        }
        o.level = acked.oplock_level();
        let mut notices = Vec::new();
        if !b.required.contains(acked) {
            notices.extend(o.break_to(b.required, now));
        }
        Ok(Acked {
            state: acked,
            notices,
        })
    }

    /// Takes a Lease Break Acknowledgment (MS-SMB2 3.3.5.22.2) for the lease `id` of this
    /// file (the caller finds the file through the [`super::LeaseTable`]; a key it does not
    /// know is STATUS_OBJECT_NAME_NOT_FOUND too).
    pub fn ack_lease(
        &mut self,
        id: LeaseId,
        state: LeaseState,
        now: SystemTime,
    ) -> Result<Acked, AckError> {
        let lease = self
            .leases
            .iter_mut()
            .find(|l| l.id() == id)
            .ok_or(AckError::NoSuchLease)?;
        let notices = lease.acknowledge(state, now)?.into_iter().collect();
        Ok(Acked { state, notices })
    }

    /// Forces the breaks whose acknowledgment is overdue at `now`: the holders lose all
    /// caching (MS-SMB2 3.3.2.1, 3.3.2.5; smbtorture `lease.timeout`, `oplock.batch22a`), and
    /// operations waiting for them can go on.
    pub fn poll_timeout(&mut self, now: SystemTime) -> Vec<Expired> {
        let timeout = self.timeout;
        let mut expired = Vec::new();
        for lease in self.leases.iter_mut() {
            if let Some(from) = lease.expire(now, timeout) {
                expired.push(Expired {
                    holder: Holder::Lease(lease.id()),
                    from,
                });
            }
        }
        for o in self.opens.iter_mut() {
            let Some(due) = o.breaking.and_then(|b| b.deadline(timeout)) else {
                continue;
            };
            if now >= due {
                expired.push(Expired {
                    holder: Holder::Oplock(o.id),
                    from: LeaseState::of_oplock(o.level),
                });
                o.level = OplockLevel::NONE;
                o.breaking = None;
            }
        }
        expired
    }

    /// When [`Self::poll_timeout`] next has work: the earliest acknowledgment deadline.
    pub fn next_deadline(&self) -> Option<SystemTime> {
        let leases = self.leases.iter().filter_map(|l| l.breaking());
        let oplocks = self.opens.iter().filter_map(|o| o.breaking);
        leases
            .chain(oplocks)
            .filter_map(|b| b.deadline(self.timeout))
            .min()
    }
}
