//! The server-wide lease table (MS-SMB2 3.3.1.4 LeaseTableList): which file each lease key of
//! each client belongs to. A client may not use one key for two files at once (3.3.5.9.8:
//! STATUS_INVALID_PARAMETER; smbtorture `lease.duplicate_create`, `lease.duplicate_open`), and
//! a Lease Break Acknowledgment names only the key, so its file is found here.

use std::collections::HashMap;

use super::state::LeaseId;

/// Why a lease key cannot be used for a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyInUse;

impl KeyInUse {
    /// STATUS_INVALID_PARAMETER (MS-SMB2 3.3.5.9.8).
    pub fn nt_status(self) -> crate::proto::NtStatus {
        crate::proto::NtStatus::INVALID_PARAMETER
    }
}

#[derive(Debug, Clone)]
struct Entry<K> {
    file: K,
    /// Opens (and CREATEs in progress) that claimed the key.
    claims: usize,
}

/// Lease keys in use and their files, generic over the server's file key. An entry exists
/// exactly while some open (or CREATE in progress) holds a claim on it: every
/// [`LeaseTable::claim`] is matched by one [`LeaseTable::release`], when the CREATE fails or
/// the open closes.
#[derive(Debug, Clone)]
pub struct LeaseTable<K> {
    entries: HashMap<LeaseId, Entry<K>>,
}

impl<K> Default for LeaseTable<K> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
        }
    }
}

impl<K: Clone + Eq> LeaseTable<K> {
    /// Claims `id` for `file` (at CREATE, before the lease is granted): refused when the key
    /// is in use for another file.
    pub fn claim(&mut self, id: LeaseId, file: &K) -> Result<(), KeyInUse> {
        match self.entries.get_mut(&id) {
            Some(e) if e.file != *file => Err(KeyInUse),
            Some(e) => {
                e.claims += 1;
                Ok(())
            }
            None => {
                self.entries.insert(
                    id,
                    Entry {
                        file: file.clone(),
                        claims: 1,
                    },
                );
                Ok(())
            }
        }
    }

    /// Gives back one claim of `id`; the key is free again with its last claim.
    pub fn release(&mut self, id: &LeaseId) {
        if let Some(e) = self.entries.get_mut(id) {
            e.claims -= 1;
            if e.claims == 0 {
                self.entries.remove(id);
            }
        }
    }

    /// The file lease `id` belongs to (for a Lease Break Acknowledgment).
    pub fn file_of(&self, id: &LeaseId) -> Option<&K> {
        self.entries.get(id).map(|e| &e.file)
    }

    /// How many leases are in use.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no lease is in use.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<K> LeaseTable<K> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }
}
