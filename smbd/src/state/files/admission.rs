//! Admitting a new open to a file: its share-mode check, the oplock and lease breaks it causes
//! and the caching it is granted, as one step under the file entry's lock (MS-FSA 2.1.5.1.2,
//! 2.1.4.12, 2.1.5.17; MS-SMB2 3.3.5.9.8). What cannot be decided at once (breaks to be
//! acknowledged) is handed back as [`Admission::Wait`]: the caller sends the breaks, waits for
//! the entry to change ([`FileEntry::wait_change`]) and asks again.

use std::sync::Arc;
use std::time::SystemTime;

use super::{
    Claim, FileConflict, FileEntry, FileKey, FileTable, Holder, SHARE_DELETE, SHARE_READ,
    SHARE_WRITE, conflicts,
};
use crate::access::DELETE;
use std::sync::atomic::Ordering;

/// Every share access.
const SHARE_ALL: u32 = SHARE_READ | SHARE_WRITE | SHARE_DELETE;
use crate::oplock::{Attempt, BreakNotice, FileCaching, Granted, KeyInUse, OpenRequest};

/// The outcome of [`FileTable::admit`].
pub enum Admission {
    /// The open holds its claim, with the caching granted; `notices` are breaks to send.
    Admitted {
        /// The open's place in the file's entry.
        claim: Claim,
        /// The oplock or lease granted.
        granted: Granted,
        /// Breaks to send.
        notices: Vec<BreakNotice>,
    },
    /// Breaks must be acknowledged (or time out) first: send `notices`, wait for `entry` to
    /// move past `seen`, then ask again with [`Attempt::Retry`].
    Wait {
        /// The file.
        entry: Arc<FileEntry>,
        /// The entry's version when the wait began.
        seen: u64,
        /// Breaks to send.
        notices: Vec<BreakNotice>,
    },
    /// Refused (a sharing violation or a pending delete); `notices` are breaks to send anyway.
    Refused {
        /// Why.
        conflict: FileConflict,
        /// Breaks to send.
        notices: Vec<BreakNotice>,
    },
}

/// One open's request to the file table.
pub struct Admit<'a> {
    /// The file.
    pub key: FileKey,
    /// Its path, for a new entry.
    pub path: &'a str,
    /// The name of the stream opened ("" for the file itself), for a new entry.
    pub stream: &'a str,
    /// The open's id.
    pub uid: u64,
    /// Access granted to it.
    pub access: u32,
    /// Its share access.
    pub share_access: u32,
    /// What the caching engine needs to know of it.
    pub request: &'a OpenRequest,
}

impl FileTable {
    /// Admits an open to its file (see [`Admission`]); a lease key the client already uses
    /// for another file is [`KeyInUse`].
    pub fn admit(
        &self,
        a: &Admit<'_>,
        attempt: Attempt,
        now: SystemTime,
    ) -> Result<Admission, KeyInUse> {
        let mut m = self.shared.entries.lock().unwrap();
        let entry = match m.get(&a.key) {
            Some(e) => e.clone(),
            None => {
                let e = self.new_entry(a.key, a.path, a.stream);
                m.insert(a.key, e.clone());
                e
            }
        };
        let lease = a.request.lease_id();
        if let Some(id) = lease {
            let claimed = self.shared.leases.lock().unwrap().claim(id, &a.key);
            if let Err(e) = claimed {
                if entry.holders() == 0 {
                    self.shared.forget_entry(&mut m, &a.key);
                }
                return Err(e);
            }
        }
        // Opening the file for DELETE needs every open of its named streams to share delete
        // (smbtorture smb2.streams.delete); a stream open is not held back by the file's.
        let streams_refuse = !entry.is_stream()
            && a.access & DELETE != 0
            && entry.file.named.load(Ordering::SeqCst) > 0
            && m.values()
                .filter(|e| e.is_stream() && e.key.file() == a.key.file())
                .any(|e| {
                    let s = e.state.lock().unwrap();
                    s.holders.iter().any(|h| conflicts(h, DELETE, SHARE_ALL))
                });
        let mut s = entry.state.lock().unwrap();
        let refused = if entry.refuses_as_deleted(&s) {
            Some((FileConflict::DeletePending, Vec::new(), false))
        } else if streams_refuse {
            Some((FileConflict::Sharing, Vec::new(), false))
        } else if s
            .holders
            .iter()
            .any(|h| conflicts(h, a.access, a.share_access))
        {
            let v = s.caching.check_sharing_violation(a.request, attempt, now);
            Some((FileConflict::Sharing, v.notices, v.wait))
        } else {
            let v = s.caching.check_open(a.request, attempt, now);
            if v.wait {
                Some((FileConflict::Sharing, v.notices, true))
            } else {
                s.holders.push(Holder {
                    uid: a.uid,
                    access: a.access,
                    share: a.share_access,
                });
                entry.file.opens.fetch_add(1, Ordering::SeqCst);
                let has_locks = s.locks.held() > 0;
                let granted = s.caching.grant(a.uid, a.request, has_locks);
                drop(s);
                return Ok(Admission::Admitted {
                    claim: Claim {
                        entry,
                        uid: a.uid,
                        lease,
                        table: Arc::downgrade(&self.shared),
                    },
                    granted,
                    notices: v.notices,
                });
            }
        };
        let seen = s.version;
        let empty = s.holders.is_empty();
        drop(s);
        if let Some(id) = lease {
            self.shared.leases.lock().unwrap().release(&id);
        }
        if empty {
            self.shared.forget_entry(&mut m, &a.key);
        }
        let Some((conflict, notices, wait)) = refused else {
            unreachable!("admitted above");
        };
        Ok(if wait {
            Admission::Wait {
                entry,
                seen,
                notices,
            }
        } else {
            Admission::Refused { conflict, notices }
        })
    }

    /// Whether the client uses lease key `id` for a file other than `key` (MS-SMB2 3.3.5.9.8:
    /// checked even where no lease is granted, as on a directory).
    pub fn lease_key_elsewhere(&self, id: &crate::oplock::LeaseId, key: FileKey) -> bool {
        self.shared
            .leases
            .lock()
            .unwrap()
            .file_of(id)
            .is_some_and(|f| *f != key)
    }

    /// The entry of the file a client's lease belongs to.
    pub fn entry_of_lease(&self, id: &crate::oplock::LeaseId) -> Option<Arc<FileEntry>> {
        let key = self.shared.leases.lock().unwrap().file_of(id).copied()?;
        self.get(key)
    }
}

impl FileEntry {
    /// Runs `f` on the file's caching state (with whether the file has byte-range locks);
    /// with `wakes`, the file's waiters are woken afterwards (an acknowledgment or a timeout
    /// may end their wait).
    pub fn caching<R>(&self, wakes: bool, f: impl FnOnce(&mut FileCaching, bool) -> R) -> R {
        let r = {
            let mut s = self.state.lock().unwrap();
            let has_locks = s.locks.held() > 0;
            let r = f(&mut s.caching, has_locks);
            if wakes {
                s.version += 1;
            }
            r
        };
        if wakes {
            self.changed.notify_waiters();
        }
        r
    }

    /// The entry's version (see [`Admission::Wait`]).
    pub fn version(&self) -> u64 {
        self.state.lock().unwrap().version
    }

    /// Waits until the entry's version is past `seen`.
    pub async fn wait_change(&self, seen: u64) {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.version() != seen {
                return;
            }
            notified.await;
        }
    }
}
