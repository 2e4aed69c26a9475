//! LOCK through whole requests over MemFs: blocking locks that wait (STATUS_PENDING, then the
//! final response when the range comes free, at CANCEL, or when an open closes), the order in
//! which waiters are served, the async cap, and the request rules smbtorture smb2.lock checks
//! (element validation, unlock order, ranges, lock sequence replay on resilient opens).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::dispatch::test_client::{SID, TestClient, wraps_test_client};
use crate::fuzzing::seeds;
use crate::proto::NtStatus;
use crate::proto::header::{Command, Header};
use crate::state::ServerContext;

const OK: u32 = 0;
const PENDING: u32 = NtStatus::PENDING.0;
const NOT_GRANTED: u32 = NtStatus::LOCK_NOT_GRANTED.0;
const NOT_LOCKED: u32 = NtStatus::RANGE_NOT_LOCKED.0;

/// Element flags.
const SHARED: u32 = 0x1;
const EXCLUSIVE: u32 = 0x2;
const UNLOCK: u32 = 0x4;
const NOW: u32 = 0x10;

type Fid = [u8; 16];

/// A connection with a signed-in session and tree 1 on "share".
struct Client(TestClient);

wraps_test_client!(Client, 0);

impl Client {
    async fn new(server: Arc<ServerContext>) -> Self {
        Self(TestClient::on_share(server).await)
    }

    async fn open(&mut self, name: &str) -> Fid {
        let msg = self.0.create(name);
        let (status, r) = self.call(msg).await;
        assert_eq!(status, OK, "create {name}");
        r[128..144].try_into().unwrap()
    }

    /// Sends a request on tree 1; returns its message id (the reply is left to read).
    async fn send_only(&mut self, command: Command, body: &[u8]) -> u64 {
        let id = self.next_id();
        let msg = seeds::message(command, id, SID, 1, body);
        super::handle_frame(&self.conn, msg).await.expect("frame");
        id
    }

    /// Sends a request on tree 1 and returns the status of the reply it gets.
    async fn request(&mut self, command: Command, body: &[u8]) -> u32 {
        let id = self.next_id();
        self.call(seeds::message(command, id, SID, 1, body)).await.0
    }

    async fn lock(&mut self, f: Fid, els: &[(u64, u64, u32)]) -> u32 {
        self.request(Command::Lock, &lock_body(f, 0, els)).await
    }

    async fn lock_seq(&mut self, f: Fid, seq: u32, els: &[(u64, u64, u32)]) -> u32 {
        self.request(Command::Lock, &lock_body(f, seq, els)).await
    }

    /// Sends a blocking lock that must pend: returns its message id and async id.
    async fn pend(&mut self, f: Fid, offset: u64, length: u64, flags: u32) -> (u64, u64) {
        let id = self
            .send_only(Command::Lock, &lock_body(f, 0, &[(offset, length, flags)]))
            .await;
        let interim = self.reply().await;
        assert_eq!((interim.message_id, interim.status), (id, PENDING));
        assert!(interim.is_async() && interim.credits > 0);
        (id, interim.async_id)
    }

    async fn reply(&mut self) -> Header {
        Header::decode(&self.recv().await).expect("header")
    }

    /// The next `n` replies, by message id.
    async fn replies(&mut self, n: usize) -> HashMap<u64, Header> {
        let mut m = HashMap::new();
        for _ in 0..n {
            let h = self.reply().await;
            m.insert(h.message_id, h);
        }
        m
    }

    /// Whether no reply comes within a (virtual) second.
    async fn quiet(&mut self) -> bool {
        tokio::time::timeout(Duration::from_secs(1), self.recv())
            .await
            .is_err()
    }

    async fn write(&mut self, f: Fid, offset: u64, data: &[u8]) -> u32 {
        let mut b = vec![49, 0, 112, 0];
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(&offset.to_le_bytes());
        b.extend_from_slice(&f);
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(data);
        self.request(Command::Write, &b).await
    }
}

fn lock_body(f: Fid, seq: u32, els: &[(u64, u64, u32)]) -> Vec<u8> {
    let mut b = vec![48, 0];
    b.extend_from_slice(&(els.len() as u16).to_le_bytes());
    b.extend_from_slice(&seq.to_le_bytes());
    b.extend_from_slice(&f);
    for (off, len, flags) in els {
        b.extend_from_slice(&off.to_le_bytes());
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(&flags.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
    }
    b
}

fn server(max_async: usize) -> Arc<ServerContext> {
    let fs = Arc::new(vfs::mem::MemFs::new());
    super::test_server::server_with(fs, 512, |s| s.limits.max_async_per_connection = max_async)
}

/// A client with two opens of one file, the first holding an exclusive lock on 100..110.
async fn contended() -> (Client, Fid, Fid) {
    let mut c = Client::new(server(16)).await;
    let a = c.open("f.txt").await;
    let b = c.open("f.txt").await;
    assert_eq!(c.lock(a, &[(100, 10, EXCLUSIVE)]).await, OK);
    (c, a, b)
}

#[tokio::test(start_paused = true)]
async fn a_blocking_lock_waits_until_the_holder_unlocks() {
    let (mut c, a, b) = contended().await;
    let (id, async_id) = c.pend(b, 100, 10, EXCLUSIVE).await;
    assert!(c.quiet().await, "still waiting");
    assert_eq!(c.conn.async_count(), 1);
    let unlock = c
        .send_only(Command::Lock, &lock_body(a, 0, &[(100, 10, UNLOCK)]))
        .await;
    let r = c.replies(2).await;
    assert_eq!(r[&unlock].status, OK);
    assert_eq!(r[&id].status, OK, "granted");
    assert_eq!(r[&id].async_id, async_id);
    assert_eq!(r[&id].credits, 0, "the interim granted them");
    assert_eq!(c.conn.async_count(), 0);
    // b holds the range now.
    assert_eq!(c.lock(a, &[(100, 1, SHARED | NOW)]).await, NOT_GRANTED);
    assert_eq!(c.lock(b, &[(100, 10, UNLOCK)]).await, OK);
}

#[tokio::test(start_paused = true)]
async fn a_blocking_lock_is_granted_when_the_holder_closes() {
    let (mut c, a, b) = contended().await;
    let (id, _) = c.pend(b, 105, 1, SHARED).await;
    let mut cl = vec![24, 0, 0, 0, 0, 0, 0, 0];
    cl.extend_from_slice(&a);
    let close = c.send_only(Command::Close, &cl).await;
    let r = c.replies(2).await;
    assert_eq!((r[&close].status, r[&id].status), (OK, OK));
    assert_eq!(c.write(b, 105, b"x").await, NtStatus::FILE_LOCK_CONFLICT.0);
}

#[tokio::test(start_paused = true)]
async fn cancel_completes_a_waiting_lock_with_cancelled() {
    let (mut c, a, b) = contended().await;
    let (id, _) = c.pend(b, 100, 10, EXCLUSIVE).await;
    // Unlocking the range it waits for is no unlock of a held lock.
    assert_eq!(c.lock(b, &[(100, 10, UNLOCK)]).await, NOT_LOCKED);
    let cancel = seeds::message(Command::Cancel, id, SID, 1, &[4, 0, 0, 0]);
    super::handle_frame(&c.conn, cancel).await.expect("cancel");
    let last = c.reply().await;
    assert_eq!((last.message_id, last.status), (id, NtStatus::CANCELLED.0));
    assert_eq!(c.conn.async_count(), 0);
    // The cancelled wait took nothing: when a unlocks, the range is free.
    assert_eq!(c.lock(a, &[(100, 10, UNLOCK)]).await, OK);
    assert!(c.quiet().await);
    assert_eq!(c.lock(a, &[(100, 10, EXCLUSIVE | NOW)]).await, OK);
}

#[tokio::test(start_paused = true)]
async fn fail_immediately_still_fails_at_once() {
    let (mut c, _a, b) = contended().await;
    assert_eq!(c.lock(b, &[(100, 10, EXCLUSIVE | NOW)]).await, NOT_GRANTED);
    assert_eq!(c.lock(b, &[(109, 0, SHARED | NOW)]).await, NOT_GRANTED);
    assert_eq!(c.conn.async_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn closing_the_waiting_open_ends_its_wait_with_range_not_locked() {
    let (mut c, a, b) = contended().await;
    let (id, _) = c.pend(b, 100, 10, EXCLUSIVE).await;
    let mut cl = vec![24, 0, 0, 0, 0, 0, 0, 0];
    cl.extend_from_slice(&b);
    let close = c.send_only(Command::Close, &cl).await;
    let r = c.replies(2).await;
    assert_eq!((r[&close].status, r[&id].status), (OK, NOT_LOCKED));
    assert_eq!(c.lock(a, &[(100, 10, UNLOCK)]).await, OK);
    assert!(c.quiet().await);
}

#[tokio::test(start_paused = true)]
async fn tree_disconnect_and_logoff_end_waits() {
    for command in [Command::TreeDisconnect, Command::Logoff] {
        let (mut c, _a, b) = contended().await;
        let (id, _) = c.pend(b, 100, 10, EXCLUSIVE).await;
        let end = c.send_only(command, &[4, 0, 0, 0]).await;
        let r = c.replies(2).await;
        assert_eq!(r[&end].status, OK);
        // Either the holder's close frees the range first, or the waiter's close ends the wait.
        assert!([OK, NOT_LOCKED].contains(&r[&id].status), "{command:?}");
        assert_eq!(c.conn.async_count(), 0);
    }
}

/// Waiters are served in arrival order: an exclusive waiter that came first gets the range
/// before a later one.
#[tokio::test(start_paused = true)]
async fn waiters_are_served_first_come_first_served() {
    let (mut c, a, b) = contended().await;
    let d = c.open("f.txt").await;
    let (first, _) = c.pend(b, 100, 10, EXCLUSIVE).await;
    let (second, _) = c.pend(d, 100, 10, EXCLUSIVE).await;
    let unlock = c
        .send_only(Command::Lock, &lock_body(a, 0, &[(100, 10, UNLOCK)]))
        .await;
    let r = c.replies(2).await;
    assert_eq!((r[&unlock].status, r[&first].status), (OK, OK));
    assert!(c.quiet().await, "the second still waits");
    let unlock = c
        .send_only(Command::Lock, &lock_body(b, 0, &[(100, 10, UNLOCK)]))
        .await;
    let r = c.replies(2).await;
    assert_eq!((r[&unlock].status, r[&second].status), (OK, OK));
}

/// Pending locks count against the connection's cap of async operations; beyond it a
/// blocking lock fails with INSUFFICIENT_RESOURCES and leaves nothing behind.
#[tokio::test(start_paused = true)]
async fn the_async_cap_bounds_waiting_locks() {
    let mut c = Client::new(server(1)).await;
    let a = c.open("f.txt").await;
    let b = c.open("f.txt").await;
    assert_eq!(c.lock(a, &[(0, 10, EXCLUSIVE)]).await, OK);
    c.pend(b, 0, 1, EXCLUSIVE).await;
    assert_eq!(
        c.lock(b, &[(5, 1, EXCLUSIVE)]).await,
        NtStatus::INSUFFICIENT_RESOURCES.0
    );
    assert_eq!(c.conn.async_count(), 1);
    let unlock = c
        .send_only(Command::Lock, &lock_body(a, 0, &[(0, 10, UNLOCK)]))
        .await;
    let r = c.replies(2).await;
    assert!(r.values().all(|h| h.status == OK));
    assert_eq!(r.len(), 2, "{unlock}: the unlock and the first wait");
    // The refused request took nothing.
    assert_eq!(c.lock(a, &[(5, 1, EXCLUSIVE | NOW)]).await, OK);
}

/// The element rules of MS-SMB2 3.3.5.14 as smbtorture smb2.lock.valid-request and
/// multiple-unlock check them.
#[tokio::test(start_paused = true)]
async fn element_rules() {
    let mut c = Client::new(server(16)).await;
    let f = c.open("v.txt").await;
    let inval = NtStatus::INVALID_PARAMETER.0;
    assert_eq!(c.lock(f, &[(0, 0, 0)]).await, inval);
    assert_eq!(c.lock(f, &[(1, 1, UNLOCK | NOW)]).await, inval);
    assert_eq!(c.lock(f, &[(1, 1, UNLOCK | SHARED)]).await, inval);
    assert_eq!(c.lock(f, &[(1, 1, !0x17)]).await, inval);
    // Several elements must all fail at once.
    assert_eq!(
        c.lock(f, &[(9, 1, SHARED | NOW), (9, 1, SHARED)]).await,
        inval
    );
    let range = NtStatus::INVALID_LOCK_RANGE.0;
    assert_eq!(c.lock(f, &[(u64::MAX, 2, EXCLUSIVE | NOW)]).await, range);
    assert_eq!(c.lock(f, &[(u64::MAX, 1, EXCLUSIVE | NOW)]).await, OK);
    // Unlocks stop at the first failure and keep what was done; locks are all or nothing.
    assert_eq!(c.lock(f, &[(0, 10, EXCLUSIVE | NOW)]).await, OK);
    assert_eq!(
        c.lock(f, &[(0, 10, UNLOCK), (10, 10, UNLOCK)]).await,
        NOT_LOCKED
    );
    assert_eq!(c.lock(f, &[(0, 10, EXCLUSIVE | NOW)]).await, OK);
    assert_eq!(
        c.lock(f, &[(0, 10, UNLOCK), (10, 10, EXCLUSIVE | NOW)])
            .await,
        inval
    );
    assert_eq!(c.lock(f, &[(0, 10, UNLOCK)]).await, NOT_LOCKED);
    assert_eq!(
        c.lock(f, &[(0, 10, EXCLUSIVE | NOW), (10, 10, UNLOCK)])
            .await,
        inval
    );
    assert_eq!(c.lock(f, &[(0, 10, UNLOCK)]).await, NOT_LOCKED);
}

/// A shared lock stops its own open's writes too (smbtorture smb2.lock.rw-shared).
#[tokio::test(start_paused = true)]
async fn a_shared_lock_stops_writes_by_its_owner() {
    let mut c = Client::new(server(16)).await;
    let f = c.open("s.txt").await;
    assert_eq!(c.lock(f, &[(0, 10, SHARED | NOW)]).await, OK);
    assert_eq!(c.write(f, 5, b"x").await, NtStatus::FILE_LOCK_CONFLICT.0);
    assert_eq!(c.write(f, 10, b"x").await, OK);
}

/// Lock sequences are verified once the open is resilient: a replay is answered with
/// success and ignored (smbtorture smb2.lock.replay_broken_windows).
#[tokio::test(start_paused = true)]
async fn resilient_opens_recognise_replayed_locks() {
    let mut c = Client::new(server(16)).await;
    let f = c.open("r.txt").await;
    let lock = [(100, 100, EXCLUSIVE | NOW)];
    assert_eq!(c.lock_seq(f, 0x11, &lock).await, OK);
    assert_eq!(
        c.lock_seq(f, 0x11, &lock).await,
        NOT_GRANTED,
        "not resilient"
    );
    assert_eq!(c.lock(f, &[(100, 100, UNLOCK)]).await, OK);
    let mut ioctl = vec![57, 0, 0, 0];
    ioctl.extend_from_slice(&0x0014_01D4u32.to_le_bytes());
    ioctl.extend_from_slice(&f);
    for v in [120u32, 8, 0, 0, 0, 0, 1, 0] {
        ioctl.extend_from_slice(&v.to_le_bytes());
    }
    ioctl.extend_from_slice(&1000u32.to_le_bytes());
    ioctl.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(c.request(Command::Ioctl, &ioctl).await, OK);
    assert_eq!(c.lock_seq(f, 0x11, &lock).await, OK);
    assert_eq!(c.lock_seq(f, 0x11, &lock).await, OK, "a replay");
    assert_eq!(
        c.lock_seq(f, 0x11, &[(100, 100, UNLOCK)]).await,
        OK,
        "ignored"
    );
    assert_eq!(
        c.lock_seq(f, 0x12, &lock).await,
        NOT_GRANTED,
        "still locked"
    );
    assert_eq!(c.lock_seq(f, 0x402, &[(100, 100, UNLOCK)]).await, OK);
    assert_eq!(
        c.lock_seq(f, 0x402, &lock).await,
        OK,
        "a replay of the unlock"
    );
    assert_eq!(
        c.lock_seq(f, 0x403, &[(100, 100, UNLOCK)]).await,
        NOT_LOCKED
    );
}

/// Inside a compound chain a blocking lock that meets another fails at once, first or last.
#[tokio::test(start_paused = true)]
async fn a_blocking_lock_in_a_chain_does_not_wait() {
    let (mut c, _a, b) = contended().await;
    let blocking = lock_body(b, 0, &[(100, 10, EXCLUSIVE)]);
    let first = seeds::message(Command::Lock, c.next_id(), SID, 1, &blocking);
    let second = seeds::message(Command::Lock, c.next_id(), SID, 1, &blocking);
    let reply = c.send(seeds::compound(&[first, second], false)).await;
    let statuses = super::test_client::statuses(&reply.expect("reply"));
    assert_eq!(statuses, vec![NOT_GRANTED, NOT_GRANTED]);
    assert_eq!(c.conn.async_count(), 0);
}
