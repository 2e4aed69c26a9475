//! One durable or persistent open (MS-SMB2 3.3.1.10 Open), as the handle store keeps it, and its
//! versioned binary form.
//!
//! The form, version 1, little-endian, no padding, no trailing bytes:
//!
//! ```text
//! u8 version (1)   u8 flags (1 persistent, 2 app instance, 4 disconnected; others invalid)
//! u64 persistent file id   [16] create guid   [16] client guid
//! u64 volume   u64 file id                    (the file's identity)
//! u32 granted access   u32 share access   u32 create options   u32 durable timeout (ms)
//! [16] app instance id, u64 version high, u64 version low      (flag 2 only)
//! u64 disconnected at (Unix ms)                                (flag 4 only)
//! u8 oplock level (0, 1, 8, 9, or 0xFF for a lease, followed by:
//!    [16] lease key, u8 version (1, 2), u32 state (bits 0-2), u16 epoch,
//!    u8 has parent (0, 1; 1 only in version 2), [16] parent key if it has one)
//! [64] lock sequence array (0xFF an empty slot, else the sequence number 0-15)
//! u16 share name length, UTF-8   u16 path length, UTF-8   owner SID (MS-DTYP 2.4.2.2)
//! u32 lock count, then per lock: u64 offset, u64 length, u8 exclusive (0, 1)
//! ```
//!
//! Encoding the same record always gives the same bytes, and decoding (in `decode.rs`) accepts
//! exactly what encoding can produce, so a decoded record re-encodes to its input.

use std::{fmt, io};

use acl::Sid;

use crate::proto::codec::WriteLe;

/// Version of the binary form that [`HandleRecord::encode`] writes.
pub const RECORD_VERSION: u8 = 1;
/// Longest share name a record holds, in UTF-8 bytes.
pub const MAX_SHARE_BYTES: usize = 1024;
/// Longest path a record holds, in UTF-8 bytes.
pub const MAX_PATH_BYTES: usize = 32 * 1024;
/// Most byte-range locks a record holds (the default of `max_locks_per_file`).
pub const MAX_LOCKS: usize = 10_000;
/// Entries of Open.LockSequenceArray (MS-SMB2 3.3.1.10).
pub const LOCK_SEQUENCE_SLOTS: usize = 64;
/// The longest binary form a record within the caps can have.
pub const MAX_RECORD_LEN: usize =
    FIXED_LEN + OPTIONAL_MAX + MAX_SHARE_BYTES + MAX_PATH_BYTES + 68 + MAX_LOCKS * LOCK_LEN;

pub(super) const FLAG_PERSISTENT: u8 = 1;
pub(super) const FLAG_APP_INSTANCE: u8 = 2;
pub(super) const FLAG_DISCONNECTED: u8 = 4;
/// Version, flags, ids, identity, access words, oplock level, lock sequences, two lengths and
/// the lock count.
const FIXED_LEN: usize = 2 + 8 + 32 + 16 + 16 + 1 + LOCK_SEQUENCE_SLOTS + 4 + 4;
/// App instance, disconnect time, and the largest lease.
const OPTIONAL_MAX: usize = 32 + 8 + 16 + 1 + 4 + 2 + 1 + 16;
pub(super) const LOCK_LEN: usize = 17;
pub(super) const LEASE_LEVEL: u8 = 0xFF;
pub(super) const NO_SEQUENCE: u8 = 0xFF;

/// What identifies the file itself, to check after a restart that the path still names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileIdentity {
    /// The volume (device) the file is on.
    pub volume: u64,
    /// The file's number on that volume (the inode on POSIX).
    pub file_id: u64,
}

/// SMB2_CREATE_APP_INSTANCE_ID and _VERSION (MS-SMB2 2.2.13.2.13, 2.2.13.2.15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppInstance {
    /// The application instance's id.
    pub id: [u8; 16],
    /// AppInstanceVersionHigh (zero when no version context came).
    pub version_high: u64,
    /// AppInstanceVersionLow.
    pub version_low: u64,
}

/// A lease held through the open (MS-SMB2 3.3.1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseRecord {
    /// The client's lease key.
    pub key: [u8; 16],
    /// The parent directory's lease key (version 2 leases only).
    pub parent_key: Option<[u8; 16]>,
    /// Read (1), handle (2) and write (4) caching.
    pub state: u32,
    /// Lease.Epoch.
    pub epoch: u16,
    /// Lease.Version: 1 or 2.
    pub version: u8,
}

/// What the client may cache: Open.OplockLevel, and Open.Lease when it is a lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Oplock {
    /// SMB2_OPLOCK_LEVEL_NONE.
    None,
    /// SMB2_OPLOCK_LEVEL_II.
    LevelII,
    /// SMB2_OPLOCK_LEVEL_EXCLUSIVE.
    Exclusive,
    /// SMB2_OPLOCK_LEVEL_BATCH.
    Batch,
    /// SMB2_OPLOCK_LEVEL_LEASE, with the lease.
    Lease(LeaseRecord),
}

/// One byte-range lock the open holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockRange {
    /// First byte locked.
    pub offset: u64,
    /// Bytes locked.
    pub length: u64,
    /// An exclusive (write) lock rather than a shared one.
    pub exclusive: bool,
}

/// Everything needed to re-create an open after a reconnect or a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandleRecord {
    /// The persistent part of the file id; the store's key.
    pub persistent_id: u64,
    /// Open.CreateGuid.
    pub create_guid: [u8; 16],
    /// Open.ClientGuid.
    pub client_guid: [u8; 16],
    /// Open.AppInstanceId and its version.
    pub app_instance: Option<AppInstance>,
    /// The share's name.
    pub share: String,
    /// The path from the share's root.
    pub path: String,
    /// The file the path named when the record was written.
    pub file: FileIdentity,
    /// The user who opened it (Open.DurableOwner).
    pub owner: Sid,
    /// Open.GrantedAccess.
    pub granted_access: u32,
    /// The share access the open claims.
    pub share_access: u32,
    /// The create options it was opened with.
    pub create_options: u32,
    /// Oplock or lease.
    pub oplock: Oplock,
    /// Open.LockSequenceArray: the last sequence number (0-15) seen in each slot.
    pub lock_sequences: [Option<u8>; LOCK_SEQUENCE_SLOTS],
    /// Byte-range locks held.
    pub locks: Vec<LockRange>,
    /// How long the handle outlives its connection, in milliseconds.
    pub durable_timeout_ms: u32,
    /// Open.IsPersistent: the handle also survives a restart of the server.
    pub persistent: bool,
    /// When the connection was lost (Unix ms); `None` while connected.
    pub disconnected_at_ms: Option<u64>,
}

/// Why a record cannot be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordError {
    /// A field is longer than the format allows.
    TooLong {
        /// The field.
        what: &'static str,
        /// Its length (bytes, or locks).
        len: usize,
        /// The most allowed.
        max: usize,
    },
    /// A field has a value the format does not allow.
    Invalid {
        /// The field.
        what: &'static str,
    },
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { what, len, max } => write!(f, "{what}: {len} is over {max}"),
            Self::Invalid { what } => write!(f, "{what}: value not allowed"),
        }
    }
}

impl std::error::Error for RecordError {}

impl From<RecordError> for io::Error {
    fn from(e: RecordError) -> Self {
        Self::new(io::ErrorKind::InvalidInput, e)
    }
}

impl HandleRecord {
    /// When the handle expires if it stays disconnected (Unix ms); `None` while connected.
    pub fn expires_at_ms(&self) -> Option<u64> {
        let at = self.disconnected_at_ms?;
        Some(at.saturating_add(u64::from(self.durable_timeout_ms)))
    }

    /// Checks the record against the caps and value ranges of the binary form.
    pub fn check(&self) -> Result<(), RecordError> {
        too_long("share name", self.share.len(), MAX_SHARE_BYTES)?;
        too_long("path", self.path.len(), MAX_PATH_BYTES)?;
        too_long("locks", self.locks.len(), MAX_LOCKS)?;
        if self.lock_sequences.iter().flatten().any(|&s| s > 15) {
            return Err(RecordError::Invalid {
                what: "lock sequence",
            });
        }
        if let Oplock::Lease(l) = &self.oplock {
            let parent_ok = l.version == 2 || l.parent_key.is_none();
            if !matches!(l.version, 1 | 2) || !parent_ok || l.state & !7 != 0 {
                return Err(RecordError::Invalid { what: "lease" });
            }
        }
        Ok(())
    }

    /// Appends the binary form to `out`, or leaves `out` as it was if the record is not
    /// within [`HandleRecord::check`].
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), RecordError> {
        self.check()?;
        let flags = [
            (self.persistent, FLAG_PERSISTENT),
            (self.app_instance.is_some(), FLAG_APP_INSTANCE),
            (self.disconnected_at_ms.is_some(), FLAG_DISCONNECTED),
        ]
        .iter()
        .filter(|(set, _)| *set)
        .fold(0, |flags, (_, bit)| flags | bit);
        out.extend_from_slice(&[RECORD_VERSION, flags]);
        out.put_u64(self.persistent_id);
        out.extend_from_slice(&self.create_guid);
        out.extend_from_slice(&self.client_guid);
        out.put_u64(self.file.volume);
        out.put_u64(self.file.file_id);
        for word in [
            self.granted_access,
            self.share_access,
            self.create_options,
            self.durable_timeout_ms,
        ] {
            out.put_u32(word);
        }
        if let Some(app) = &self.app_instance {
            out.extend_from_slice(&app.id);
            out.put_u64(app.version_high);
            out.put_u64(app.version_low);
        }
        if let Some(at) = self.disconnected_at_ms {
            out.put_u64(at);
        }
        encode_oplock(&self.oplock, out);
        out.extend(self.lock_sequences.map(|s| s.unwrap_or(NO_SEQUENCE)));
        for text in [&self.share, &self.path] {
            out.put_u16(text.len() as u16);
            out.extend_from_slice(text.as_bytes());
        }
        self.owner.encode(out);
        out.put_u32(self.locks.len() as u32);
        for lock in &self.locks {
            out.put_u64(lock.offset);
            out.put_u64(lock.length);
            out.push(u8::from(lock.exclusive));
        }
        Ok(())
    }
}

fn too_long(what: &'static str, len: usize, max: usize) -> Result<(), RecordError> {
    if len > max {
        return Err(RecordError::TooLong { what, len, max });
    }
    Ok(())
}

fn encode_oplock(oplock: &Oplock, out: &mut Vec<u8>) {
    let lease = match oplock {
        Oplock::None => return out.push(0),
        Oplock::LevelII => return out.push(1),
        Oplock::Exclusive => return out.push(8),
        Oplock::Batch => return out.push(9),
        Oplock::Lease(lease) => lease,
    };
    out.push(LEASE_LEVEL);
    out.extend_from_slice(&lease.key);
    out.push(lease.version);
    out.put_u32(lease.state);
    out.put_u16(lease.epoch);
    out.push(u8::from(lease.parent_key.is_some()));
    if let Some(parent) = &lease.parent_key {
        out.extend_from_slice(parent);
    }
}
