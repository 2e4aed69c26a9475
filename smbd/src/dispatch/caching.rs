//! Oplocks and leases as the other handlers see them. No oplock or lease is granted yet: the
//! engine arrives with the oplock and lease work of issue #10.

use crate::proto::NtStatus;
use crate::proto::create::ResponseContext;
use crate::state::opens::Open;

use super::create::Contexts;

/// The caching an open was granted (or holds): its oplock level and, for a lease, the lease
/// response context.
#[derive(Debug, Clone, Default)]
pub(crate) struct Granted {
    /// OplockLevel of the CREATE response (0xFF for a lease).
    pub oplock_level: u8,
    /// The lease response context's data, for a lease.
    pub lease: Option<Vec<u8>>,
    /// Whether the grant allows a durable handle (batch oplock, or a lease with handle
    /// caching).
    pub durable_ok: bool,
}

impl Granted {
    /// Whether a durable handle may be granted with this caching.
    pub(crate) fn allows_durable(&self) -> bool {
        self.durable_ok
    }

    /// The response contexts that describe the caching.
    pub(crate) fn contexts(&self) -> Vec<ResponseContext> {
        self.lease
            .iter()
            .map(|d| ResponseContext {
                name: b"RqLs".to_vec(),
                data: d.clone(),
            })
            .collect()
    }
}

/// Whether `open` holds the caching a durable handle needs (a batch oplock, or a lease with
/// handle caching, MS-SMB2 3.3.5.9.6 / 3.3.7.1).
pub(crate) fn keeps_durable(_open: &Open) -> bool {
    false
}

/// The caching `open` holds now.
pub(crate) fn held_by(_open: &Open) -> Granted {
    Granted::default()
}

/// The lease rules of a durable reconnect (MS-SMB2 3.3.5.9.7, 3.3.5.9.12): an open with a lease
/// is reconnected only by its client with the same lease key.
pub(crate) fn check_reconnect(
    _open: &Open,
    _cx: &Contexts,
    _client_guid: [u8; 16],
) -> Result<(), NtStatus> {
    Ok(())
}
