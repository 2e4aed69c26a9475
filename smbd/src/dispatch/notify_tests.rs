//! CHANGE_NOTIFY through whole requests over MemFs: changes made by another client and by a
//! "local program" (the MemFs changed directly), buffering between requests, the overflow
//! answer, CANCEL, CLOSE and TREE_DISCONNECT, and the request checks.

use std::sync::Arc;
use std::time::Duration;

use vfs::{Disposition, Kind, OpenOptions, Vfs};

use crate::dispatch::test_client::{SID, TestClient, wraps_test_client};
use crate::fuzzing::seeds;
use crate::proto::NtStatus;
use crate::proto::header::{Command, HEADER_LEN, Header};
use crate::state::ServerContext;

const OK: u32 = 0;
const PENDING: u32 = NtStatus::PENDING.0;
const FILE_NAME: u32 = 0x1;
const ALL: u32 = 0xfff;
const ADDED: u32 = 1;
const REMOVED: u32 = 2;

type Fid = [u8; 16];

struct Client(TestClient);

wraps_test_client!(Client, 0);

impl Client {
    async fn new(server: &Arc<ServerContext>) -> Self {
        Self(TestClient::on_share(server.clone()).await)
    }

    /// Opens (creating if needed) `name`, a directory when `dir`.
    async fn open(&mut self, name: &str, dir: bool) -> Fid {
        let mut msg = self.0.create(name);
        if dir {
            msg[HEADER_LEN + 40..HEADER_LEN + 44].copy_from_slice(&1u32.to_le_bytes());
        }
        let (status, r) = self.call(msg).await;
        assert_eq!(status, OK, "create {name}");
        r[HEADER_LEN + 64..HEADER_LEN + 80].try_into().unwrap()
    }

    fn msg(&mut self, command: Command, body: &[u8]) -> (u64, Vec<u8>) {
        let id = self.next_id();
        (id, seeds::message(command, id, SID, 1, body))
    }

    /// Sends CHANGE_NOTIFY; returns its message id and the status of the first response.
    async fn notify(&mut self, f: Fid, out_len: u32, filter: u32, tree: bool) -> (u64, Vec<u8>) {
        let mut b = vec![32, 0, u8::from(tree), 0];
        b.extend_from_slice(&out_len.to_le_bytes());
        b.extend_from_slice(&f);
        b.extend_from_slice(&filter.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        let (id, m) = self.msg(Command::ChangeNotify, &b);
        (id, self.send(m).await.expect("reply"))
    }

    async fn close(&mut self, f: Fid) -> u32 {
        let (_, m) = self.close_msg(f);
        self.call(m).await.0
    }

    fn close_msg(&mut self, f: Fid) -> (u64, Vec<u8>) {
        let mut b = vec![24, 0, 0, 0, 0, 0, 0, 0];
        b.extend_from_slice(&f);
        self.msg(Command::Close, &b)
    }

    /// Sends CLOSE of `f` and returns the first response that arrives, which may be that of a
    /// request the close completes.
    async fn send_close(&mut self, f: Fid) -> Vec<u8> {
        let (_, m) = self.close_msg(f);
        self.send(m).await.expect("reply")
    }

    /// A second open of directory `name` with DELETE and DELETE_ON_CLOSE.
    async fn open_to_delete(&mut self, name: &str) -> Fid {
        let mut m = self.0.create(name);
        m[HEADER_LEN + 24..HEADER_LEN + 28].copy_from_slice(&0x0013_019fu32.to_le_bytes());
        m[HEADER_LEN + 40..HEADER_LEN + 44].copy_from_slice(&0x1001u32.to_le_bytes());
        let (st, r) = self.call(m).await;
        assert_eq!(st, OK, "open {name} to delete");
        r[HEADER_LEN + 64..HEADER_LEN + 80].try_into().unwrap()
    }

    /// The next reply, failing the test instead of waiting for ever.
    async fn next(&mut self) -> Vec<u8> {
        tokio::time::timeout(Duration::from_secs(5), self.recv())
            .await
            .expect("a response in time")
    }
}

fn status(reply: &[u8]) -> u32 {
    Header::decode(reply).unwrap().status
}

/// The (action, name) pairs of a CHANGE_NOTIFY response.
fn changes(reply: &[u8]) -> Vec<(u32, String)> {
    let body = &reply[HEADER_LEN..];
    let off = u16::from_le_bytes([body[2], body[3]]) as usize;
    let len = u32::from_le_bytes(body[4..8].try_into().unwrap()) as usize;
    let data = &reply[off..off + len];
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        let e = &data[at..];
        let word = |i: usize| u32::from_le_bytes(e[i..i + 4].try_into().unwrap());
        let name_len = word(8) as usize;
        let units: Vec<u16> = e[12..12 + name_len]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        out.push((word(4), String::from_utf16(&units).unwrap()));
        if word(0) == 0 {
            return out;
        }
        at += word(0) as usize;
    }
}

fn setup() -> (Arc<vfs::mem::MemFs>, Arc<ServerContext>) {
    let fs = Arc::new(vfs::mem::MemFs::new());
    let server = super::test_server::server(fs.clone(), 512);
    (fs, server)
}

fn new_file() -> OpenOptions {
    OpenOptions {
        disposition: Disposition::Create,
        kind: Kind::File,
        read: true,
        write: true,
        attributes: 0,
        allocation_size: 0,
        reparse_point: false,
    }
}

#[tokio::test]
async fn reports_a_file_made_by_a_local_program_and_by_another_client() {
    let (fs, server) = setup();
    let mut a = Client::new(&server).await;
    let mut b = Client::new(&server).await;
    let dir = a.open("d", true).await;
    let (_, r) = a.notify(dir, 4096, FILE_NAME, false).await;
    assert_eq!(status(&r), PENDING);
    // A program beside the server.
    fs.open("d/local", &new_file()).await.unwrap();
    let r = a.next().await;
    assert_eq!(status(&r), OK);
    assert_eq!(changes(&r), [(ADDED, "local".to_owned())]);
    // Another client: buffered until the next request, which is answered at once.
    b.open("d\\remote", false).await;
    let (_, r) = a.notify(dir, 4096, FILE_NAME, false).await;
    assert_eq!(status(&r), OK);
    assert_eq!(changes(&r), [(ADDED, "remote".to_owned())]);
}

#[tokio::test]
async fn watch_tree_names_changes_below_and_others_are_not_seen() {
    let (fs, server) = setup();
    let mut a = Client::new(&server).await;
    let flat = a.open("flat", true).await;
    let root = a.open("", true).await;
    a.open("flat\\sub", true).await;
    let (_, r) = a.notify(flat, 4096, ALL, false).await;
    assert_eq!(status(&r), PENDING);
    let (_, r) = a.notify(root, 4096, FILE_NAME, true).await;
    assert_eq!(status(&r), PENDING);
    fs.open("flat/sub/deep", &new_file()).await.unwrap();
    let r = a.next().await;
    assert_eq!(changes(&r), [(ADDED, "flat\\sub\\deep".to_owned())]);
    fs.remove("flat/sub/deep").await.unwrap();
    let (_, r) = a.notify(root, 4096, FILE_NAME, true).await;
    assert_eq!(changes(&r), [(REMOVED, "flat\\sub\\deep".to_owned())]);
    let reply = a.send_close(flat).await;
    let mut got = vec![status(&reply), status(&a.next().await)];
    got.sort_unstable();
    assert_eq!(got, [OK, NtStatus::NOTIFY_CLEANUP.0]);
}

#[tokio::test]
async fn changes_beyond_the_first_buffer_answer_enum_dir() {
    let (fs, server) = setup();
    let mut a = Client::new(&server).await;
    let dir = a.open("d", true).await;
    let (id, r) = a.notify(dir, 40, FILE_NAME, false).await;
    assert_eq!(status(&r), PENDING);
    let cancel = seeds::message(Command::Cancel, id, SID, 1, &[4, 0, 0, 0]);
    crate::dispatch::handle_frame(&a.conn, cancel)
        .await
        .unwrap();
    // Answered by the time the CANCEL is handled: before whatever the client sends next
    // (smbtorture smb2.session.expire2s).
    let cancelled = a
        .queued()
        .expect("the cancelled request's answer is queued");
    assert_eq!(status(&cancelled), NtStatus::CANCELLED.0);
    // The watch buffers from the first request on, up to its 40 bytes.
    for n in ["one", "two", "three", "four"] {
        fs.open(&format!("d/{n}"), &new_file()).await.unwrap();
    }
    let (_, r) = a.notify(dir, 4096, FILE_NAME, false).await;
    assert_eq!(status(&r), NtStatus::NOTIFY_ENUM_DIR.0);
    fs.open("d/five", &new_file()).await.unwrap();
    let (_, r) = a.notify(dir, 4, FILE_NAME, false).await;
    assert_eq!(
        status(&r),
        NtStatus::NOTIFY_ENUM_DIR.0,
        "does not fit this one"
    );
    assert_eq!(server.notify.len(), 1);
    assert_eq!(a.close(dir).await, OK);
    assert!(server.notify.is_empty(), "a closed directory's watch ends");
}

#[tokio::test]
async fn requests_that_cannot_watch_are_refused() {
    let (_, server) = setup();
    let mut a = Client::new(&server).await;
    let file = a.open("f", false).await;
    let (_, r) = a.notify(file, 4096, FILE_NAME, false).await;
    assert_eq!(status(&r), NtStatus::INVALID_PARAMETER.0);
    let dir = a.open("d", true).await;
    let (_, r) = a.notify(dir, 16 << 20, FILE_NAME, false).await;
    assert_eq!(
        status(&r),
        NtStatus::INVALID_PARAMETER.0,
        "beyond MaxTransactSize"
    );
}

#[tokio::test]
async fn tree_disconnect_cleans_up_pending_watches() {
    let (_, server) = setup();
    let mut a = Client::new(&server).await;
    let dir = a.open("d", true).await;
    let (_, r) = a.notify(dir, 4096, FILE_NAME, false).await;
    assert_eq!(status(&r), PENDING);
    let (_, m) = a.msg(Command::TreeDisconnect, &[4, 0, 0, 0]);
    let reply = a.send(m).await.unwrap();
    let mut got = vec![status(&reply), status(&a.next().await)];
    got.sort_unstable();
    assert_eq!(got, [OK, NtStatus::NOTIFY_CLEANUP.0]);
}

/// A CHANGE_NOTIFY body on `f` for FILE_NAME changes with 4 KiB of room.
fn notify_body(f: Fid) -> Vec<u8> {
    let mut b = vec![32, 0, 0, 0];
    b.extend_from_slice(&4096u32.to_le_bytes());
    b.extend_from_slice(&f);
    b.extend_from_slice(&FILE_NAME.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b
}

#[tokio::test]
async fn a_cancel_that_overtakes_its_request_still_cancels_it() {
    let (_, server) = setup();
    let mut a = Client::new(&server).await;
    let dir = a.open("d", true).await;
    let id = a.next_id();
    let cancel = seeds::message(Command::Cancel, id, SID, 1, &[4, 0, 0, 0]);
    crate::dispatch::handle_frame(&a.conn, cancel)
        .await
        .unwrap();
    let m = seeds::message(Command::ChangeNotify, id, SID, 1, &notify_body(dir));
    let r = a.send(m).await.unwrap();
    assert_eq!(status(&r), NtStatus::CANCELLED.0);
}

#[tokio::test]
async fn a_close_that_overtakes_a_request_on_its_directory_cleans_it_up() {
    let (_, server) = setup();
    let mut a = Client::new(&server).await;
    let dir = a.open("d", true).await;
    let early = a.next_id();
    assert_eq!(a.close(dir).await, OK);
    let m = seeds::message(Command::ChangeNotify, early, SID, 1, &notify_body(dir));
    let r = a.send(m).await.unwrap();
    assert_eq!(status(&r), NtStatus::NOTIFY_CLEANUP.0);
    // A request sent after the CLOSE is on a closed handle.
    let (_, r) = a.notify(dir, 4096, FILE_NAME, false).await;
    assert_eq!(status(&r), NtStatus::FILE_CLOSED.0);
}

#[tokio::test]
async fn deleting_the_watched_directory_answers_delete_pending() {
    let (_, server) = setup();
    let mut a = Client::new(&server).await;
    let dir = a.open("d", true).await;
    let (_, r) = a.notify(dir, 4096, FILE_NAME, false).await;
    assert_eq!(status(&r), PENDING);
    let doomed = a.open_to_delete("d").await;
    let reply = a.send_close(doomed).await;
    let mut got = vec![status(&reply), status(&a.next().await)];
    got.sort_unstable();
    assert_eq!(got, [OK, NtStatus::DELETE_PENDING.0]);
}

/// smbtorture smb2.notify.rmdir2 sends CHANGE_NOTIFY and then removes the directory; frames
/// run concurrently, so the removal may be done before the request has its watch. It still
/// answers DELETE_PENDING at once instead of waiting for ever.
#[tokio::test]
async fn a_request_overtaken_by_the_removal_of_its_directory_answers_delete_pending() {
    let (_, server) = setup();
    let mut a = Client::new(&server).await;
    let dir = a.open("d", true).await;
    let doomed = a.open_to_delete("d").await;
    assert_eq!(a.close(doomed).await, OK);
    let (_, r) = a.notify(dir, 4096, FILE_NAME, false).await;
    assert_eq!(status(&r), NtStatus::DELETE_PENDING.0);
}
