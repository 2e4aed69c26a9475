//! Opens preserved for a reconnect (MS-SMB2 3.3.7.1 Handling Loss of a Connection): when a
//! connection is lost, the durable opens of its sessions stay in the server's open table,
//! disconnected, until a new connection of the same user and client reclaims them (3.3.5.9.7,
//! 3.3.5.9.12) or their timeout ends them.

use std::sync::Arc;
use std::time::SystemTime;

use super::{Open, OpenTable};
use crate::proto::NtStatus;
use crate::state::session::Session;

impl OpenTable {
    /// Takes every open out of `session` (its connection is lost): those `keep` accepts (the
    /// durable ones whose oplock or lease still allows it) stay in the server's table marked
    /// disconnected at `now` and are returned first; the others leave it and are returned
    /// second, for the caller to end.
    pub fn preserve(
        &self,
        session: &Session,
        now: SystemTime,
        keep: impl Fn(&Open) -> bool,
    ) -> (Vec<Arc<Open>>, Vec<Arc<Open>>) {
        let (kept, ended): (Vec<_>, Vec<_>) = session
            .remove_opens(None)
            .into_iter()
            .partition(|o| o.durability().is_some() && keep(o));
        for o in &kept {
            *o.disconnected.lock().unwrap() = Some(now);
        }
        for o in &ended {
            self.forget(o);
        }
        (kept, ended)
    }

    /// Takes out the disconnected open with this persistent id for a reconnect, once `check`
    /// accepts it (same user, client, name ...); a connected open, or none, is
    /// OBJECT_NAME_NOT_FOUND, as Windows answers.
    pub fn reclaim(
        &self,
        persistent: u64,
        check: impl FnOnce(&Open) -> Result<(), NtStatus>,
    ) -> Result<Arc<Open>, NtStatus> {
        let mut m = self.by_persistent.lock().unwrap();
        let open = m.get(&persistent).ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
        if open.disconnected_at().is_none() {
            return Err(NtStatus::OBJECT_NAME_NOT_FOUND);
        }
        check(open)?;
        m.remove(&persistent).ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)
    }

    /// Puts a reconnected open (see [`Open::reconnected`]) into `session` and the server's
    /// table.
    pub fn restore(
        &self,
        session: &Session,
        open: Arc<Open>,
        limits: &crate::limits::Limits,
    ) -> Result<(), NtStatus> {
        self.insert(session, open, limits)
    }

    /// Adds an open that has no session yet, disconnected since `now` (a persistent handle
    /// restored at start).
    pub fn insert_disconnected(&self, open: Arc<Open>, now: SystemTime) {
        *open.disconnected.lock().unwrap() = Some(now);
        self.by_persistent
            .lock()
            .unwrap()
            .insert(open.id.persistent, open);
    }

    /// Takes out the open with this persistent id if it is still disconnected since `since`
    /// (its durable timeout ended); the caller ends it.
    pub fn expire(&self, persistent: u64, since: SystemTime) -> Option<Arc<Open>> {
        let mut m = self.by_persistent.lock().unwrap();
        let open = m.get(&persistent)?;
        if open.disconnected_at() != Some(since) {
            return None;
        }
        m.remove(&persistent)
    }

    /// Takes out every disconnected open `matches` selects (a durable open a new open
    /// conflicts with, an application instance replaced); the caller ends them.
    pub fn purge_disconnected(&self, matches: impl Fn(&Open) -> bool) -> Vec<Arc<Open>> {
        let mut m = self.by_persistent.lock().unwrap();
        let ids: Vec<u64> = m
            .values()
            .filter(|o| o.disconnected_at().is_some() && matches(o))
            .map(|o| o.id.persistent)
            .collect();
        ids.iter().filter_map(|id| m.remove(id)).collect()
    }

    /// Takes out every open, connected or not, that `matches` selects, from the server's
    /// table and from its session (found in `sessions`); the caller ends them.
    pub fn evict(
        &self,
        sessions: &crate::state::session::SessionTable,
        matches: impl Fn(&Open) -> bool,
    ) -> Vec<Arc<Open>> {
        let chosen: Vec<Arc<Open>> = {
            let mut m = self.by_persistent.lock().unwrap();
            let ids: Vec<u64> = m
                .values()
                .filter(|o| matches(o))
                .map(|o| o.id.persistent)
                .collect();
            ids.iter().filter_map(|id| m.remove(id)).collect()
        };
        for o in &chosen {
            if o.disconnected_at().is_none()
                && let Some(s) = sessions.get(o.session_id)
            {
                s.remove_open(o.id.volatile);
            }
        }
        chosen
    }

    /// The open (connected or not) that `matches` selects first, by persistent id (a v2
    /// CreateGuid lookup for a replayed CREATE, an application instance).
    pub fn find(&self, matches: impl Fn(&Open) -> bool) -> Option<Arc<Open>> {
        let m = self.by_persistent.lock().unwrap();
        let mut found: Vec<&Arc<Open>> = m.values().filter(|o| matches(o)).collect();
        found.sort_by_key(|o| o.id.persistent);
        found.first().map(|o| (*o).clone())
    }
}
