//! What one client can make the server hold or send: responses bounded by their credit charge
//! (MS-SMB2 3.3.5.2.5) and by the Direct TCP frame, search patterns, and the per-session and
//! per-connection caps of [`crate::limits::Limits`].

use std::sync::Arc;

use super::test_client::{SID, TestClient, statuses, wraps_test_client};
use crate::fuzzing::seeds;
use crate::proto::NtStatus;
use crate::proto::header::{Command, HEADER_LEN, Header};
use crate::state::Settings;

const OK: u32 = 0;
const PENDING: u32 = NtStatus::PENDING.0;
const INVALID_PARAMETER: u32 = NtStatus::INVALID_PARAMETER.0;
const INSUFFICIENT_RESOURCES: u32 = NtStatus::INSUFFICIENT_RESOURCES.0;
/// FileNamesInformation.
const FILE_NAMES: u8 = 0x0C;
/// SMB2_RESTART_SCANS.
const RESTART: u8 = 0x01;

/// A connection with an anonymous session `SID`, on a server over a MemFs.
struct Client {
    c: TestClient,
    fs: Arc<vfs::mem::MemFs>,
}

wraps_test_client!(Client, c);

impl Client {
    /// Negotiates 2.1 (or 2.0.2 when `smb202`) and sets up the session; `tweak` changes the
    /// server's settings.
    async fn new(smb202: bool, tweak: impl FnOnce(&mut Settings)) -> Self {
        let fs = Arc::new(vfs::mem::MemFs::new());
        let server = super::test_server::server_with(fs.clone(), 2048, tweak);
        let mut c = TestClient::new(server);
        let mut negotiate = seeds::negotiate();
        if smb202 {
            negotiate[HEADER_LEN + 2] = 1;
            negotiate.truncate(negotiate.len() - 2);
        }
        c.negotiate_with(negotiate).await;
        c.logon_anonymous().await;
        // Room in the credit window for the large charges of these tests.
        c.conn.credits.lock().unwrap().grant(2000);
        Self { c, fs }
    }

    /// A client whose session is a signed-in user's, connected to "share" as tree 1.
    async fn on_share(smb202: bool, tweak: impl FnOnce(&mut Settings)) -> Self {
        let mut c = Self::new(smb202, tweak).await;
        c.sign_in();
        c.connect_share().await;
        c
    }

    /// A request with the next message id(s) for its `charge`.
    fn msg(&mut self, command: Command, tree: u32, charge: u16, body: &[u8]) -> Vec<u8> {
        let mut m = seeds::message(command, self.next_ids(charge), SID, tree, body);
        m[6..8].copy_from_slice(&charge.to_le_bytes());
        m
    }

    /// CREATE of `name` on `tree` (OPEN_IF) with these CreateOptions and ShareAccess.
    fn create(&mut self, tree: u32, name: &str, options: u32, share: u32) -> Vec<u8> {
        let mut m = self.c.create(name);
        m[36..40].copy_from_slice(&tree.to_le_bytes());
        m[HEADER_LEN + 32..HEADER_LEN + 36].copy_from_slice(&share.to_le_bytes());
        m[HEADER_LEN + 40..HEADER_LEN + 44].copy_from_slice(&options.to_le_bytes());
        m
    }

    /// Opens `name` on tree 1 and returns its FileId.
    async fn open(&mut self, name: &str, options: u32) -> [u8; 16] {
        let m = self.create(1, name, options, 7);
        let (st, reply) = self.call(m).await;
        assert_eq!(st, OK, "create {name}");
        reply[HEADER_LEN + 64..HEADER_LEN + 80].try_into().unwrap()
    }

    fn query_dir(&mut self, fid: [u8; 16], pattern: &str, out_len: u32, charge: u16) -> Vec<u8> {
        let name: Vec<u8> = pattern.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let mut b = vec![33, 0, FILE_NAMES, RESTART, 0, 0, 0, 0];
        b.extend_from_slice(&fid);
        b.extend_from_slice(&96u16.to_le_bytes());
        b.extend_from_slice(&(name.len() as u16).to_le_bytes());
        b.extend_from_slice(&out_len.to_le_bytes());
        b.extend_from_slice(&name);
        b.push(0);
        self.msg(Command::QueryDirectory, 1, charge, &b)
    }

    fn query_info(&mut self, fid: [u8; 16], out_len: u32, charge: u16) -> Vec<u8> {
        // FILE, FileBasicInformation.
        let mut b = vec![41, 0, 1, 4];
        b.extend_from_slice(&out_len.to_le_bytes());
        b.extend_from_slice(&[0; 12]);
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&fid);
        b.push(0);
        self.msg(Command::QueryInfo, 1, charge, &b)
    }

    fn ioctl(&mut self, fid: [u8; 16], max_out: u32, charge: u16) -> Vec<u8> {
        let mut b = vec![57, 0, 0, 0];
        b.extend_from_slice(&0x0014_4064u32.to_le_bytes()); // FSCTL_SRV_ENUMERATE_SNAPSHOTS
        b.extend_from_slice(&fid);
        for v in [120u32, 0, 0, 120, 0, max_out, 1, 0] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        self.msg(Command::Ioctl, 1, charge, &b)
    }

    fn notify(&mut self, fid: [u8; 16], out_len: u32, charge: u16) -> Vec<u8> {
        let mut b = vec![32, 0, 0, 0];
        b.extend_from_slice(&out_len.to_le_bytes());
        b.extend_from_slice(&fid);
        b.extend_from_slice(&0x17u32.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        self.msg(Command::ChangeNotify, 1, charge, &b)
    }

    fn read(&mut self, fid: [u8; 16], len: u32, charge: u16) -> Vec<u8> {
        let mut b = vec![49, 0, 0x50, 0];
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(&0u64.to_le_bytes());
        b.extend_from_slice(&fid);
        b.extend_from_slice(&[0; 17]);
        self.msg(Command::Read, 1, charge, &b)
    }
}

/// CreateOptions FILE_DIRECTORY_FILE and FILE_NON_DIRECTORY_FILE.
const DIRECTORY: u32 = 0x1;
const NON_DIRECTORY: u32 = 0x40;

/// QUERY_DIRECTORY is held to its charge as READ is: 64 KiB per credit of OutputBufferLength.
#[tokio::test]
async fn query_directory_output_is_held_to_its_charge() {
    let mut c = Client::on_share(false, |_| {}).await;
    let dir = c.open("d", DIRECTORY).await;
    let m = c.query_dir(dir, "*", 65536, 1);
    assert_eq!(
        c.call(m).await.0,
        OK,
        "64 KiB for one credit, as clients send"
    );
    let m = c.query_dir(dir, "*", 65537, 1);
    assert_eq!(c.call(m).await.0, INVALID_PARAMETER);
    let m = c.query_dir(dir, "*", 8 << 20, 0);
    assert_eq!(
        c.call(m).await.0,
        INVALID_PARAMETER,
        "a charge of 0 pays for 64 KiB"
    );
    let m = c.query_dir(dir, "*", 131_072, 2);
    assert_eq!(c.call(m).await.0, OK);
}

/// QUERY_INFO, IOCTL and CHANGE_NOTIFY outputs are held to their charge too.
#[tokio::test]
async fn info_ioctl_and_notify_outputs_are_held_to_their_charge() {
    let mut c = Client::on_share(false, |_| {}).await;
    let dir = c.open("d", DIRECTORY).await;
    let m = c.query_info(dir, 1 << 20, 1);
    assert_eq!(c.call(m).await.0, INVALID_PARAMETER);
    let m = c.query_info(dir, 1 << 20, 16);
    assert_eq!(c.call(m).await.0, OK);
    let m = c.ioctl(dir, 1 << 20, 1);
    assert_eq!(c.call(m).await.0, INVALID_PARAMETER);
    let m = c.ioctl(dir, 65536, 1);
    assert_eq!(c.call(m).await.0, OK, "the snapshot list is small");
    let m = c.notify(dir, 1 << 20, 1);
    assert_eq!(c.call(m).await.0, INVALID_PARAMETER);
    let m = c.notify(dir, 4096, 1);
    assert_eq!(c.call(m).await.0, PENDING);
}

/// Without multi-credit support (2.0.2) no response may ask for more than 64 KiB, whatever
/// the charge says.
#[tokio::test]
async fn smb202_responses_are_bounded_by_64k() {
    let mut c = Client::on_share(true, |_| {}).await;
    let dir = c.open("d", DIRECTORY).await;
    let m = c.query_dir(dir, "*", 65536, 0);
    assert_eq!(c.call(m).await.0, OK);
    let m = c.query_dir(dir, "*", 65537, 2);
    assert_eq!(c.call(m).await.0, INVALID_PARAMETER);
    let m = c.query_info(dir, 65537, 2);
    assert_eq!(c.call(m).await.0, INVALID_PARAMETER);
}

/// The amplification of a compound of large directory queries each charged one credit: every
/// one is refused, so the reply is a few KiB instead of 200 large listings.
#[tokio::test]
async fn compound_of_undercharged_queries_is_refused_per_message() {
    let mut c = Client::on_share(false, |s| s.max_transact = 8 << 20).await;
    let dir = c.open("d", DIRECTORY).await;
    let chain: Vec<Vec<u8>> = (0..200)
        .map(|_| c.query_dir(dir, "*", 8 << 20, 1))
        .collect();
    let reply = c.send(seeds::compound(&chain, false)).await.unwrap();
    assert_eq!(statuses(&reply), vec![INVALID_PARAMETER; 200]);
    assert!(
        reply.len() <= 200 * 80,
        "each error response padded to 80 bytes"
    );
}

/// Properly charged responses whose sum would pass what one Direct TCP frame carries (24
/// bits of length): those that do not fit get INSUFFICIENT_RESOURCES, before they run.
#[tokio::test]
async fn compound_reply_stays_within_one_frame() {
    let mut c = Client::on_share(false, |s| s.max_read = 8 << 20).await;
    let f = c.open("big.bin", NON_DIRECTORY).await;
    let opened = vfs::Vfs::open(
        c.fs.as_ref(),
        "big.bin",
        &vfs::OpenOptions {
            write: true,
            ..vfs::OpenOptions::read_existing()
        },
    )
    .await
    .unwrap();
    opened.file.write_at(0, vec![7; 8 << 20]).await.unwrap();
    let chain = vec![
        c.read(f, 8 << 20, 128),
        c.read(f, 8 << 20, 128),
        c.read(f, 4 << 20, 64),
    ];
    let reply = c.send(seeds::compound(&chain, false)).await.unwrap();
    assert!(reply.len() <= 0xFF_FFFF, "frame of {} bytes", reply.len());
    assert_eq!(
        statuses(&reply),
        vec![OK, INSUFFICIENT_RESOURCES, OK],
        "the last one still fits"
    );
}

/// A chain so long that even an error response each would not fit in a frame is dropped
/// before any of it runs (the CREATE at its head does not happen).
#[tokio::test]
async fn chain_too_long_for_its_replies_is_dropped() {
    let mut c = Client::on_share(false, |_| {}).await;
    let mut chain = vec![c.create(1, "x.txt", NON_DIRECTORY, 7)];
    let echo = c.msg(Command::Echo, 0, 1, &[4, 0, 0, 0]);
    chain.resize(0xFF_FFFF / 80 + 1, echo);
    assert!(c.send(seeds::compound(&chain, false)).await.is_err());
    let st = vfs::Vfs::stat(c.fs.as_ref(), "x.txt").await;
    assert!(st.is_err(), "the chain ran");
}

/// A search pattern is one name component: a path separator or more than 255 characters is
/// OBJECT_NAME_INVALID (MS-FSA 2.1.5.6.3).
#[tokio::test]
async fn pattern_with_a_path_separator_is_refused() {
    let mut c = Client::on_share(false, |_| {}).await;
    let dir = c.open("d", DIRECTORY).await;
    let invalid = NtStatus::OBJECT_NAME_INVALID.0;
    for pattern in ["x\\*", "..\\*", "x/*", &"?".repeat(256)] {
        let m = c.query_dir(dir, pattern, 65536, 1);
        assert_eq!(c.call(m).await.0, invalid, "{pattern}");
    }
    let m = c.query_dir(dir, &"*".repeat(255), 65536, 1);
    assert_eq!(c.call(m).await.0, OK);
}

/// Opens of a session are capped; the open refused gives its share-mode claim back.
#[tokio::test]
async fn opens_per_session_are_capped() {
    let mut c = Client::on_share(false, |s| s.limits.max_opens_per_session = 1).await;
    let first = c.create(1, "a.txt", NON_DIRECTORY, 7);
    assert_eq!(c.call(first).await.0, OK);
    let exclusive = c.create(1, "b.txt", NON_DIRECTORY, 0);
    assert_eq!(c.call(exclusive).await.0, INSUFFICIENT_RESOURCES);
    // Close a.txt, the session's one open.
    let a = {
        let sess = c.conn.session(SID).unwrap();
        sess.opens()[0].id
    };
    let mut b = vec![24, 0, 0, 0, 0, 0, 0, 0];
    b.extend_from_slice(&a.persistent.to_le_bytes());
    b.extend_from_slice(&a.volatile.to_le_bytes());
    let close = c.msg(Command::Close, 1, 1, &b);
    assert_eq!(c.call(close).await.0, OK);
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    // The refused CREATE created nothing: b.txt does not exist.
    let mut open_existing = c.create(1, "b.txt", NON_DIRECTORY, 7);
    open_existing[HEADER_LEN + 36..HEADER_LEN + 40].copy_from_slice(&1u32.to_le_bytes());
    assert_eq!(
        c.call(open_existing).await.0,
        NtStatus::OBJECT_NAME_NOT_FOUND.0
    );
    let exclusive = c.create(1, "b.txt", NON_DIRECTORY, 0);
    assert_eq!(
        c.call(exclusive).await.0,
        OK,
        "no share-mode claim was left behind"
    );
}

/// Named-pipe opens of a session are capped.
#[tokio::test]
async fn pipes_per_session_are_capped() {
    let mut c = Client::on_share(false, |s| s.limits.max_pipes_per_session = 2).await;
    let tc = c.tree_connect("IPC$");
    let (st, reply) = c.call(tc).await;
    assert_eq!(st, OK);
    let ipc = Header::decode(&reply).unwrap().tree_id;
    let mut got = Vec::new();
    for _ in 0..3 {
        let m = c.create(ipc, "srvsvc", 0, 7);
        got.push(c.call(m).await.0);
    }
    assert_eq!(got, vec![OK, OK, INSUFFICIENT_RESOURCES]);
    // Files still open beside the pipes.
    let m = c.create(1, "f.txt", NON_DIRECTORY, 7);
    assert_eq!(c.call(m).await.0, OK);
}

/// Tree connects of a session are capped.
#[tokio::test]
async fn trees_per_session_are_capped() {
    let mut c = Client::on_share(false, |s| s.limits.max_trees_per_session = 2).await;
    let mut got = Vec::new();
    for _ in 0..2 {
        let m = c.tree_connect("share");
        got.push(c.call(m).await.0);
    }
    assert_eq!(
        got,
        vec![OK, INSUFFICIENT_RESOURCES],
        "one tree is already connected"
    );
}

/// An anonymous session reaches no disk share, even one whose permissions let Everyone in
/// (IPC$ is left to its share permissions).
#[tokio::test]
async fn anonymous_session_reaches_no_disk_share() {
    let mut c = Client::new(false, |_| {}).await;
    let m = c.tree_connect("share");
    assert_eq!(c.call(m).await.0, NtStatus::ACCESS_DENIED.0);
    // IPC$ admits it (share listing over srvsvc), when anonymous logons are allowed at all.
    let m = c.tree_connect("IPC$");
    assert_eq!(c.call(m).await.0, NtStatus::SUCCESS.0);
}

/// Pending CHANGE_NOTIFYs of a connection are capped.
#[tokio::test]
async fn pending_notifies_are_capped() {
    let mut c = Client::on_share(false, |s| s.limits.max_async_per_connection = 2).await;
    let dir = c.open("d", DIRECTORY).await;
    let mut got = Vec::new();
    for _ in 0..3 {
        let m = c.notify(dir, 4096, 1);
        got.push(c.call(m).await.0);
    }
    assert_eq!(got, vec![PENDING, PENDING, INSUFFICIENT_RESOURCES]);
    assert_eq!(c.conn.async_count(), 2);
}
