//! The narrow interface through which durable and persistent handle state is kept.

use std::io;

use super::record::HandleRecord;

/// Where durable and persistent handle records live: a map from persistent file id to the
/// latest [`HandleRecord`] for it.
///
/// Changes to an open (a lock taken or released, a lease broken, a disconnect) are puts of
/// its whole record: records are small and bounded ([`super::MAX_RECORD_LEN`]), and a
/// whole-value write per key is what a replicated store can apply atomically.
///
/// # The contract every implementation meets
///
/// - **Linearizable per key.** Each put and remove of one persistent id takes effect at a
///   single instant between its call and its return, in an order every reader agrees on; a
///   get or load_all that starts after a write returned sees it or a later write to that key.
///   Nothing is promised across keys (a load_all may mix older and newer states of different
///   keys), so a distributed store can shard by key.
/// - **Durable before acknowledged.** When put or remove returns `Ok`, the change survives a
///   crash of this process (and, for a store that claims persistence, of the machine: it is
///   on stable storage, or on a quorum of replicas). Reads may also show a write still in
///   flight.
/// - **An error leaves the outcome unknown.** After `Err` the change may or may not have
///   been made, and may or may not be seen after a restart; the caller treats the handle as
///   not persisted and, where it can, removes it later. A store that cannot tell whether its
///   medium still holds what it acknowledged refuses every later call.
/// - **Whole records.** A read returns a record exactly as some put wrote it, never a mix.
/// - **Bounded.** A record outside [`HandleRecord::check`] is refused with `InvalidInput`
///   and changes nothing.
///
/// A store shared by a cluster of servers will also need to fence out a server that lost
/// ownership of an open (a conditional put on the owner's epoch); that is not part of this
/// interface yet.
pub trait HandleStore: Send + Sync {
    /// Inserts `rec`, or replaces the record with its persistent id; returns once the change
    /// is durable.
    fn put(&self, rec: &HandleRecord) -> io::Result<()>;

    /// Removes the record for `persistent_id` (none there is not an error); returns once the
    /// removal is durable.
    fn remove(&self, persistent_id: u64) -> io::Result<()>;

    /// The record for `persistent_id`, if there is one.
    fn get(&self, persistent_id: u64) -> io::Result<Option<HandleRecord>>;

    /// Every record, ordered by persistent id: what a server reads at startup to rebuild its
    /// table of disconnected persistent handles.
    fn load_all(&self) -> io::Result<Vec<HandleRecord>>;
}
