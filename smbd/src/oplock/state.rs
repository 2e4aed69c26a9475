//! Caching states and identities: lease state bits (MS-SMB2 2.2.13.2.8), oplock levels seen
//! as the caching they give (MS-FSA 2.1.1.10), lease keys and the ids of leases and opens.

use std::fmt;
use std::ops::{BitAnd, BitOr};

use crate::proto::oplock::OplockLevel;

/// The server's id of an open (any value unique among the opens of the file, such as the
/// volatile file id).
pub type OpenId = u64;

/// A lease state: a combination of SMB2_LEASE_READ_CACHING (R), SMB2_LEASE_HANDLE_CACHING (H)
/// and SMB2_LEASE_WRITE_CACHING (W) (MS-SMB2 2.2.13.2.8). Oplocks are described with the same
/// bits: level II caches reads (R), exclusive reads and writes (RW), batch also the handle
/// (RWH).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LeaseState(u32);

impl LeaseState {
    /// No caching.
    pub const NONE: Self = Self(0);
    /// Read caching.
    pub const R: Self = Self(0x1);
    /// Handle caching.
    pub const H: Self = Self(0x2);
    /// Write caching.
    pub const W: Self = Self(0x4);
    /// Read and handle caching.
    pub const RH: Self = Self(0x3);
    /// Read and write caching.
    pub const RW: Self = Self(0x5);
    /// Read, write and handle caching.
    pub const RWH: Self = Self(0x7);

    /// The state of wire bits; bits other than R, H and W are dropped.
    pub fn from_bits(bits: u32) -> Self {
        Self(bits & Self::RWH.0)
    }

    /// The wire bits.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any bit of `other` is set.
    pub fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// This state without the bits of `other`.
    pub fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// Whether this is a state a lease can be granted in: none, R, RH, RW or RWH. H or W
    /// without R is never granted (smbtorture `lease.request`: H, W and HW get nothing).
    pub fn is_grantable(self) -> bool {
        self.0 == 0 || self.contains(Self::R)
    }

    /// The state, or none if it is not grantable.
    pub fn grantable_or_none(self) -> Self {
        if self.is_grantable() {
            self
        } else {
            Self::NONE
        }
    }

    /// The caching an oplock level gives (MS-FSA 2.1.1.10).
    pub fn of_oplock(level: OplockLevel) -> Self {
        match level {
            OplockLevel::BATCH => Self::RWH,
            OplockLevel::EXCLUSIVE => Self::RW,
            OplockLevel::LEVEL_II => Self::R,
            _ => Self::NONE,
        }
    }

    /// The strongest oplock level within this caching: RWH is batch, RW exclusive, R or RH
    /// level II, anything else none.
    pub fn oplock_level(self) -> OplockLevel {
        if self.contains(Self::RWH) {
            OplockLevel::BATCH
        } else if self.contains(Self::RW) {
            OplockLevel::EXCLUSIVE
        } else if self.contains(Self::R) {
            OplockLevel::LEVEL_II
        } else {
            OplockLevel::NONE
        }
    }
}

impl BitAnd for LeaseState {
    type Output = Self;
    fn bitand(self, rhs: Self) -> Self {
        Self(self.0 & rhs.0)
    }
}

impl BitOr for LeaseState {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl fmt::Display for LeaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("NONE");
        }
        for (bit, c) in [(Self::R, 'R'), (Self::W, 'W'), (Self::H, 'H')] {
            if self.contains(bit) {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for LeaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A client's key of a lease (MS-SMB2 2.2.13.2.8 LeaseKey).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LeaseKey(pub [u8; 16]);

impl fmt::Debug for LeaseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LeaseKey(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// A lease's identity on the server: lease keys are chosen by clients, so a key names a lease
/// only together with the client's ClientGuid (MS-SMB2 3.3.1.4, LeaseTable per client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LeaseId {
    /// The ClientGuid of the client that owns the lease.
    pub client_guid: [u8; 16],
    /// The client's key.
    pub key: LeaseKey,
}

/// The version of the lease create context a lease was created with (MS-SMB2 2.2.13.2.8,
/// 2.2.13.2.10). Version 2 adds the parent lease key and the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseVersion {
    /// SMB2_CREATE_REQUEST_LEASE.
    V1,
    /// SMB2_CREATE_REQUEST_LEASE_V2 (SMB 3.x).
    V2,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_states_with_read_caching_are_grantable() {
        let grantable: Vec<u32> = (0..8)
            .filter(|b| LeaseState::from_bits(*b).is_grantable())
            .collect();
        assert_eq!(grantable, [0, 1, 3, 5, 7]);
        assert_eq!(LeaseState::from_bits(0xF0 | 3), LeaseState::RH);
        assert_eq!(LeaseState::W.grantable_or_none(), LeaseState::NONE);
    }

    #[test]
    fn oplock_levels_map_onto_caching_and_back() {
        for level in [
            OplockLevel::NONE,
            OplockLevel::LEVEL_II,
            OplockLevel::EXCLUSIVE,
            OplockLevel::BATCH,
        ] {
            assert_eq!(LeaseState::of_oplock(level).oplock_level(), level);
        }
        assert_eq!(LeaseState::RH.oplock_level(), OplockLevel::LEVEL_II);
        assert_eq!(LeaseState::of_oplock(OplockLevel::LEASE), LeaseState::NONE);
    }

    #[test]
    fn states_print_as_letters() {
        assert_eq!(LeaseState::RWH.to_string(), "RWH");
        assert_eq!(LeaseState::RH.to_string(), "RH");
        assert_eq!(LeaseState::NONE.to_string(), "NONE");
    }
}
