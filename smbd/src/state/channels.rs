//! The live connections of the server, seen from the state that outlives them (MS-SMB2 3.3.1.7
//! Connection, as Session.ChannelList and Open.Connection refer to it). The state keeps only a
//! connection's id; this table turns the id back into the connection while it lives, for
//! messages the server sends on its own (oplock and lease breaks) and for the status report.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// A live connection, as the state sees it.
pub trait Channel: Send + Sync + 'static {
    /// The connection's id, unique for the server's life.
    fn id(&self) -> u64;
    /// The peer's address, for logs and status.
    fn peer(&self) -> &str;
    /// The negotiated dialect, once there is one.
    fn dialect(&self) -> Option<u16>;
    /// The connection as `Any`, so the layer that knows its type can get it back.
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

/// Connections by id. An entry is added when a connection starts and removed when it is
/// dropped; lookups of a connection that ended find nothing.
#[derive(Default)]
pub struct ChannelTable {
    live: Mutex<HashMap<u64, Weak<dyn Channel>>>,
    last_id: AtomicU64,
}

impl ChannelTable {
    /// A fresh connection id (connections are numbered apart from sessions and opens).
    pub fn next_id(&self) -> u64 {
        self.last_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Registers a live connection.
    pub fn insert(&self, ch: &Arc<dyn Channel>) {
        self.live
            .lock()
            .unwrap()
            .insert(ch.id(), Arc::downgrade(ch));
    }

    /// Forgets connection `id`.
    pub fn remove(&self, id: u64) {
        self.live.lock().unwrap().remove(&id);
    }

    /// Connection `id`, while it lives.
    pub fn get(&self, id: u64) -> Option<Arc<dyn Channel>> {
        self.live.lock().unwrap().get(&id)?.upgrade()
    }

    /// Every live connection, copied out of the table's lock.
    pub fn all(&self) -> Vec<Arc<dyn Channel>> {
        self.live
            .lock()
            .unwrap()
            .values()
            .filter_map(Weak::upgrade)
            .collect()
    }

    /// How many connections are registered.
    pub fn len(&self) -> usize {
        self.live.lock().unwrap().len()
    }

    /// Whether no connection is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
