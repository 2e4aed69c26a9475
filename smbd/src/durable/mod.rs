//! The state of durable and persistent handles (MS-SMB2 3.3.1.10, 3.3.5.9.7, 3.3.5.9.12) kept
//! behind one narrow store interface, so it can outlive a connection, or the server itself.
//!
//! - [`HandleRecord`] holds what re-creating an open needs: its identifiers, file, owner,
//!   access, share mode, oplock or lease, byte-range locks and durable timeout, in a
//!   versioned, bounded binary form.
//! - [`HandleStore`] is the interface: put (insert or replace by persistent file id), remove,
//!   get and load_all, with a consistency contract a distributed store can meet later.
//! - [`JournalStore`] keeps persistent handles in `state_dir`, in an append-only journal of
//!   checksummed entries that survives `kill -9` and power loss, compacted into a snapshot
//!   when it grows.
//! - [`MemStore`] keeps them in memory: for tests, and for durable handles that need not
//!   survive a restart.
//!
//! Nothing here knows about connections, sessions or tokio; the server decides what to store
//! and when, and reads the time itself (records carry times as Unix milliseconds).

mod commit;
mod crc;
mod decode;
mod disk;
pub(crate) mod frame;
mod journal;
mod mem;
mod record;
mod store;

pub use journal::{JournalOptions, JournalStats, JournalStore};
pub use mem::MemStore;
pub use record::{
    AppInstance, FileIdentity, HandleRecord, LOCK_SEQUENCE_SLOTS, LeaseRecord, LockRange,
    MAX_LOCKS, MAX_PATH_BYTES, MAX_RECORD_LEN, MAX_SHARE_BYTES, Oplock, RECORD_VERSION,
    RecordError,
};
pub use store::HandleStore;

#[cfg(test)]
mod tests;
