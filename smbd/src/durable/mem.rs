//! A handle store in memory.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Mutex, MutexGuard};

use super::record::HandleRecord;
use super::store::HandleStore;

/// A [`HandleStore`] that keeps records in memory: for tests, and for durable handles that
/// outlive a connection but not the server. "Durable" in the store contract here means
/// durable for the life of the process. Records are checked against the same caps as the
/// journal's, so code tested against this store behaves the same on the journal.
#[derive(Debug, Default)]
pub struct MemStore {
    records: Mutex<BTreeMap<u64, HandleRecord>>,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn records(&self) -> MutexGuard<'_, BTreeMap<u64, HandleRecord>> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl HandleStore for MemStore {
    fn put(&self, rec: &HandleRecord) -> io::Result<()> {
        rec.check()?;
        self.records().insert(rec.persistent_id, rec.clone());
        Ok(())
    }

    fn remove(&self, persistent_id: u64) -> io::Result<()> {
        self.records().remove(&persistent_id);
        Ok(())
    }

    fn get(&self, persistent_id: u64) -> io::Result<Option<HandleRecord>> {
        Ok(self.records().get(&persistent_id).cloned())
    }

    fn load_all(&self) -> io::Result<Vec<HandleRecord>> {
        Ok(self.records().values().cloned().collect())
    }
}
