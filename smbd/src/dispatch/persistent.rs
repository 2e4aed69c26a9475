//! Persistent handles (MS-SMB2 3.3.5.9.10 with SMB2_DHANDLE_FLAG_PERSISTENT, on a continuously
//! available share): every such open is written to the server's handle store before the
//! CREATE is answered, rewritten when its byte-range locks change, and removed when it closes
//! or expires. When the server starts, the stored opens are opened again (same file, share
//! mode, oplock or lease, locks) and wait, disconnected, for their clients to reconnect them
//! within their timeout, as after a lost connection.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::durable::{self as store, FileIdentity, HandleRecord, LeaseRecord, LockRange};
use crate::oplock::{Ask, LeaseKey, LeaseRequest, LeaseState, LeaseVersion};
use crate::proto::create::FileId;
use crate::proto::oplock::OplockLevel;
use crate::state::ServerContext;
use crate::state::files::{Admit, ByteLock, FileKey};
use crate::state::opens::{Durability, NewOpen, Open, OpenKind, Owner};

/// The store's record of a persistent open.
fn record(open: &Open) -> Option<HandleRecord> {
    let d = open.durability().filter(|d| d.persistent)?;
    let entry = open.entry.as_ref()?;
    let key = entry.key();
    let held = super::caching::held_by(open);
    let oplock = match (held.lease, OplockLevel(held.oplock_level)) {
        (Some(l), _) => store::Oplock::Lease(LeaseRecord {
            key: l.key,
            parent_key: l.v2.map(|v| v.parent_key).filter(|_| l.flags & 4 != 0),
            state: l.state,
            epoch: l.v2.map_or(0, |v| v.epoch),
            version: if l.v2.is_some() { 2 } else { 1 },
        }),
        (None, OplockLevel::BATCH) => store::Oplock::Batch,
        (None, OplockLevel::EXCLUSIVE) => store::Oplock::Exclusive,
        (None, OplockLevel::LEVEL_II) => store::Oplock::LevelII,
        (None, _) => store::Oplock::None,
    };
    let ms = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    };
    Some(HandleRecord {
        persistent_id: open.id.persistent,
        create_guid: d.create_guid.unwrap_or_default(),
        client_guid: open.owner.client_guid,
        app_instance: d.app_instance.map(|id| store::AppInstance {
            id,
            version_high: 0,
            version_low: 0,
        }),
        share: open.share.name.clone(),
        path: open.path(),
        file: FileIdentity {
            volume: key.volume,
            file_id: key.file_id,
        },
        owner: open.owner.user.clone(),
        granted_access: open.access,
        share_access: open.share_access,
        create_options: open.options,
        oplock,
        lock_sequences: [None; store::LOCK_SEQUENCE_SLOTS],
        locks: entry
            .locks_held_by(open.uid)
            .iter()
            .map(|l| LockRange {
                offset: l.offset,
                length: l.length,
                exclusive: l.exclusive,
            })
            .collect(),
        durable_timeout_ms: u32::try_from(d.timeout.as_millis()).unwrap_or(u32::MAX),
        persistent: true,
        disconnected_at_ms: open.disconnected_at().map(ms),
    })
}

/// Writes the record of a persistent open to the store, on stable storage before it returns;
/// false when the store refused it (the open is then not persistent).
pub(crate) async fn save(server: &Arc<ServerContext>, open: &Open) -> bool {
    let Some(rec) = record(open) else {
        return false;
    };
    let handles = server.handles.clone();
    match tokio::task::spawn_blocking(move || handles.put(&rec)).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!(file = open.id.persistent, error = %e, "persistent handle not stored");
            false
        }
        Err(_) => false,
    }
}

/// Removes a persistent open's record (it closed or expired).
pub(crate) async fn forget(server: &Arc<ServerContext>, open: &Open) {
    if !open.durability().is_some_and(|d| d.persistent) {
        return;
    }
    let handles = server.handles.clone();
    let id = open.id.persistent;
    let removed = tokio::task::spawn_blocking(move || handles.remove(id)).await;
    if let Ok(Err(e)) = removed {
        tracing::warn!(file = id, error = %e, "persistent handle record not removed");
    }
}

/// Opens again every persistent handle of the store (at start): each waits, disconnected,
/// for its client; one whose file is gone or changed is dropped from the store. Returns how
/// many were restored.
pub async fn restore(server: &Arc<ServerContext>) -> usize {
    let handles = server.handles.clone();
    let records = match tokio::task::spawn_blocking(move || handles.load_all()).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "persistent handles could not be loaded");
            return 0;
        }
        Err(_) => return 0,
    };
    let mut restored = 0;
    for rec in records {
        server.ids_past(rec.persistent_id);
        let id = rec.persistent_id;
        match restore_one(server, &rec).await {
            Some(open) => {
                restored += 1;
                super::durable::schedule_expiry_of(server, &open);
            }
            None => {
                tracing::info!(file = id, path = %rec.path, "persistent handle not restored");
                let handles = server.handles.clone();
                let _ = tokio::task::spawn_blocking(move || handles.remove(id)).await;
            }
        }
    }
    if restored > 0 {
        tracing::info!(
            restored,
            "persistent handles restored; waiting for their clients"
        );
    }
    restored
}

/// Re-creates one stored open: the same file (checked by its identity), its share-mode claim,
/// oplock or lease and byte-range locks, disconnected now.
async fn restore_one(server: &Arc<ServerContext>, rec: &HandleRecord) -> Option<Arc<Open>> {
    let share = server
        .share(&rec.share)
        .filter(|s| s.continuous_availability)?;
    let fs = share.vfs.clone()?;
    let mut opts = vfs::OpenOptions::read_existing();
    opts.write = rec.granted_access & crate::access::WRITE_RIGHTS != 0;
    let opened = fs.open(&rec.path, &opts).await.ok()?;
    if opened.stat.volume != rec.file.volume || opened.stat.file_id != rec.file.file_id {
        return None;
    }
    let ask = match rec.oplock {
        store::Oplock::None => Ask::Nothing,
        store::Oplock::LevelII => Ask::Oplock(OplockLevel::LEVEL_II),
        store::Oplock::Exclusive => Ask::Oplock(OplockLevel::EXCLUSIVE),
        store::Oplock::Batch => Ask::Oplock(OplockLevel::BATCH),
        store::Oplock::Lease(l) => Ask::Lease(LeaseRequest {
            key: LeaseKey(l.key),
            state: LeaseState::from_bits(l.state),
            version: if l.version == 2 {
                LeaseVersion::V2
            } else {
                LeaseVersion::V1
            },
            parent: l.parent_key.map(LeaseKey),
            epoch: l.epoch.saturating_sub(1),
        }),
    };
    let request = super::caching::request(
        rec.client_guid,
        rec.granted_access,
        1,
        opened.stat.is_dir,
        ask,
    );
    let (claim, _) = super::caching::admit(
        server,
        &Admit {
            stream: "",
            key: FileKey::of(share.index, &opened.stat),
            path: &opened.path,
            uid: rec.persistent_id,
            access: rec.granted_access,
            share_access: rec.share_access,
            request: &request,
        },
        None,
    )
    .await
    .ok()?;
    let locks: Vec<ByteLock> = rec
        .locks
        .iter()
        .map(|l| ByteLock {
            owner: rec.persistent_id,
            offset: l.offset,
            length: l.length,
            exclusive: l.exclusive,
        })
        .collect();
    let max = server.settings().limits.max_locks_per_file;
    claim.entry().lock_all(&locks, max).ok()?;
    let open = Arc::new(Open::new(NewOpen {
        id: FileId {
            persistent: rec.persistent_id,
            volatile: server.next_id(),
        },
        tree_id: 0,
        share: share.clone(),
        kind: OpenKind::File(opened.file),
        name: opened.path,
        is_dir: opened.stat.is_dir,
        access: rec.granted_access,
        share_access: rec.share_access,
        options: rec.create_options,
        mode: 0,
        claim: Some(claim),
        owner: Owner {
            user: rec.owner.clone(),
            client_guid: rec.client_guid,
        },
        session_id: 0,
    }));
    open.set_durability(Some(Durability {
        version: 2,
        timeout: Duration::from_millis(u64::from(rec.durable_timeout_ms)),
        persistent: true,
        create_guid: Some(rec.create_guid),
        app_instance: rec.app_instance.map(|a| a.id),
    }));
    server
        .opens
        .insert_disconnected(open.clone(), server.clock.now());
    Some(open)
}
