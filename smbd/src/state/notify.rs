//! Change notify state of open directories (MS-SMB2 3.3.5.19, MS-FSA 2.1.5.11): the server-wide
//! table of watches, one per open directory that has had a CHANGE_NOTIFY, by the open's unique
//! id.
//!
//! A [`DirWatch`] takes the completion filter, WATCH_TREE and buffer size of the open's first
//! CHANGE_NOTIFY (later requests share them, as on Windows) and buffers the matching changes
//! between requests. Once they would not fit in that first buffer size (or [`MAX_BUFFERED`]),
//! the buffer is dropped and the next request answers STATUS_NOTIFY_ENUM_DIR: the client must
//! re-read the directory.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use tokio::sync::Notify;
use vfs::{ChangeAction, ChangeSink};

/// Bytes of FILE_NOTIFY_INFORMATION one open buffers at most, whatever its request allows.
pub const MAX_BUFFERED: usize = 64 * 1024;

/// One buffered change: the action and the name relative to the watched directory ('\\'
/// separated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// FILE_ACTION_* value.
    pub action: u32,
    /// The name, relative to the watched directory.
    pub name: String,
}

impl Record {
    /// Bytes the record takes in FILE_NOTIFY_INFORMATION, padded to 4.
    pub fn wire_len(&self) -> usize {
        (12 + 2 * self.name.encode_utf16().count()).next_multiple_of(4)
    }
}

/// What a request takes from the buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken {
    /// Changes that fit in the request's buffer.
    Changes(Vec<Record>),
    /// They did not fit (or some were lost): STATUS_NOTIFY_ENUM_DIR.
    EnumDir,
    /// The directory is being deleted: STATUS_DELETE_PENDING.
    DeletePending,
}

#[derive(Default)]
struct Buffered {
    records: VecDeque<Record>,
    bytes: usize,
    overflow: bool,
    delete_pending: bool,
}

/// The watch of one open directory and its buffered changes.
pub struct DirWatch {
    /// CompletionFilter of the first request.
    pub filter: u32,
    /// SMB2_WATCH_TREE of the first request.
    pub recursive: bool,
    max_bytes: usize,
    buf: Mutex<Buffered>,
    /// MessageIds of the requests waiting, in the client's order: the first gets the changes.
    queue: Mutex<Vec<u64>>,
    wake: Notify,
    watch: Mutex<Option<vfs::Watch>>,
}

/// What the backend reports to: a weak link, so dropping the [`DirWatch`] (and its
/// [`vfs::Watch`]) ends the watch.
struct Sink(Weak<DirWatch>);

impl ChangeSink for Sink {
    fn change(&self, name: &str, action: ChangeAction, filter: u32) {
        if let Some(w) = self.0.upgrade() {
            w.push(name, action, filter);
        }
    }

    fn overflow(&self) {
        if let Some(w) = self.0.upgrade() {
            w.lock().overflow = true;
            w.wake.notify_waiters();
        }
    }
}

impl DirWatch {
    /// A watch with the first request's filter, WATCH_TREE and buffer size.
    pub fn new(filter: u32, recursive: bool, output_len: u32) -> Arc<Self> {
        Arc::new(Self {
            filter,
            recursive,
            max_bytes: (output_len as usize).min(MAX_BUFFERED),
            buf: Mutex::default(),
            queue: Mutex::default(),
            wake: Notify::new(),
            watch: Mutex::new(None),
        })
    }

    /// The sink to register with the backend.
    pub fn sink(self: &Arc<Self>) -> Arc<dyn ChangeSink> {
        Arc::new(Sink(Arc::downgrade(self)))
    }

    /// Keeps the backend's watch for as long as this lives.
    pub fn attach(&self, watch: vfs::Watch) {
        *self.watch.lock().unwrap_or_else(|p| p.into_inner()) = Some(watch);
    }

    fn lock(&self) -> MutexGuard<'_, Buffered> {
        self.buf.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Buffers a change that matches the filter; a repeat of the last one is merged with it.
    pub fn push(&self, name: &str, action: ChangeAction, filter: u32) {
        if filter & self.filter == 0 || name.is_empty() {
            return;
        }
        let rec = Record {
            action: action.code(),
            name: name.replace('/', "\\"),
        };
        let mut b = self.lock();
        if b.overflow || b.records.back() == Some(&rec) {
            drop(b);
            self.wake.notify_waiters();
            return;
        }
        let len = rec.wire_len();
        if b.bytes + len > self.max_bytes {
            b.records.clear();
            b.bytes = 0;
            b.overflow = true;
        } else {
            b.bytes += len;
            b.records.push_back(rec);
        }
        drop(b);
        self.wake.notify_waiters();
    }

    /// The directory became delete-pending: its requests answer STATUS_DELETE_PENDING.
    pub fn delete_pending(&self) {
        self.lock().delete_pending = true;
        self.wake.notify_waiters();
    }

    /// Takes everything buffered for a request with `output_len` bytes of room; `None` when
    /// nothing is.
    pub fn take(&self, output_len: u32) -> Option<Taken> {
        let mut b = self.lock();
        if b.delete_pending {
            return Some(Taken::DeletePending);
        }
        if b.overflow {
            b.overflow = false;
            return Some(Taken::EnumDir);
        }
        if b.records.is_empty() {
            return None;
        }
        let fits = b.bytes <= output_len as usize;
        let records: Vec<Record> = b.records.drain(..).collect();
        b.bytes = 0;
        Some(if fits {
            Taken::Changes(records)
        } else {
            Taken::EnumDir
        })
    }

    /// Puts back what a request took and could not deliver (it was cancelled meanwhile).
    pub fn put_back(&self, taken: Taken) {
        let mut b = self.lock();
        match taken {
            Taken::DeletePending => {}
            Taken::EnumDir => b.overflow = true,
            Taken::Changes(records) => {
                for r in records.into_iter().rev() {
                    b.bytes += r.wire_len();
                    b.records.push_front(r);
                }
            }
        }
    }

    /// Queues the waiting request `message_id` (in MessageId order).
    pub fn enqueue(&self, message_id: u64) {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let at = q.partition_point(|m| *m < message_id);
        q.insert(at, message_id);
    }

    /// Removes request `message_id` from the queue (answered or completed otherwise) and lets
    /// the next one look.
    pub fn dequeue(&self, message_id: u64) {
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|m| *m != message_id);
        self.wake.notify_waiters();
    }

    /// Whether request `message_id` is the first waiting (the one changes go to).
    pub fn is_first(&self, message_id: u64) -> bool {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).first() == Some(&message_id)
    }

    /// Completes when a change arrives (see [`Notify::notified`]).
    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.wake.notified()
    }
}

/// Every open directory's watch, by the open's unique id.
#[derive(Default)]
pub struct NotifyTable {
    watches: Mutex<HashMap<u64, Arc<DirWatch>>>,
}

impl NotifyTable {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<DirWatch>>> {
        self.watches.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The watch of open `uid`, if it has one.
    pub fn get(&self, uid: u64) -> Option<Arc<DirWatch>> {
        self.lock().get(&uid).cloned()
    }

    /// Gives open `uid` the watch `w`, or returns the one it got meanwhile.
    pub fn insert(&self, uid: u64, w: Arc<DirWatch>) -> Arc<DirWatch> {
        self.lock().entry(uid).or_insert(w).clone()
    }

    /// Ends the watch of open `uid` (it closed or lost its connection).
    pub fn remove(&self, uid: u64) {
        let w = self.lock().remove(&uid);
        drop(w);
    }

    /// How many open directories are watched.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vfs::filter;

    #[test]
    fn buffers_matching_changes_and_merges_repeats() {
        let w = DirWatch::new(filter::FILE_NAME | filter::LAST_WRITE, false, 4096);
        w.push("a", ChangeAction::Added, filter::FILE_NAME);
        w.push("a", ChangeAction::Modified, filter::SECURITY);
        w.push("a", ChangeAction::Modified, filter::LAST_WRITE);
        w.push(
            "a",
            ChangeAction::Modified,
            filter::LAST_WRITE | filter::SIZE,
        );
        w.push("d/b", ChangeAction::Removed, filter::FILE_NAME);
        let Some(Taken::Changes(c)) = w.take(4096) else {
            panic!("no changes")
        };
        let got: Vec<(u32, &str)> = c.iter().map(|r| (r.action, r.name.as_str())).collect();
        assert_eq!(got, [(1, "a"), (3, "a"), (2, "d\\b")]);
        assert_eq!(w.take(4096), None);
    }

    #[test]
    fn too_much_for_the_first_buffer_is_enum_dir() {
        let w = DirWatch::new(filter::ALL, false, 20);
        w.push("abcdef", ChangeAction::Added, filter::FILE_NAME);
        assert_eq!(w.take(4096), Some(Taken::EnumDir));
        let w = DirWatch::new(filter::ALL, false, 4096);
        w.push("abcdef", ChangeAction::Added, filter::FILE_NAME);
        assert_eq!(w.take(0), Some(Taken::EnumDir));
        assert_eq!(w.take(4096), None);
    }
}
