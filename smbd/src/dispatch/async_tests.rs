//! A request that runs longer than the interim threshold gets STATUS_PENDING first, then its
//! final response with the same async id (MS-SMB2 3.3.4.2).

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::conn::{Connection, Frame};
use crate::fuzzing::seeds;
use crate::proto::header::{Command, Header, flags};
use crate::state::ServerContext;

/// A MemFs whose opens take 700 ms.
struct SlowFs(vfs::mem::MemFs);

#[async_trait]
impl vfs::Vfs for SlowFs {
    async fn open(&self, path: &str, opts: &vfs::OpenOptions) -> vfs::VfsResult<vfs::Opened> {
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        self.0.open(path, opts).await
    }
    async fn stat(&self, path: &str) -> vfs::VfsResult<vfs::FileStat> {
        self.0.stat(path).await
    }
    async fn rename(&self, from: &str, to: &str, replace: bool) -> vfs::VfsResult<()> {
        self.0.rename(from, to, replace).await
    }
    async fn remove(&self, path: &str) -> vfs::VfsResult<()> {
        self.0.remove(path).await
    }
    async fn fs_info(&self) -> vfs::VfsResult<vfs::FsInfo> {
        self.0.fs_info().await
    }
}

fn server(max_async: usize) -> Arc<ServerContext> {
    let fs = Arc::new(SlowFs(vfs::mem::MemFs::new()));
    super::test_server::server_with(fs, 64, |s| s.limits.max_async_per_connection = max_async)
}

/// A connection to `server` with session 1 and tree 1 set up, and where its replies arrive.
async fn connect(server: Arc<ServerContext>) -> (Arc<Connection>, mpsc::Receiver<Frame>) {
    let (tx, mut rx) = mpsc::channel(16);
    let conn = Arc::new(Connection::new(server, "test".into(), tx));
    let sid = 1;
    for frame in [
        seeds::negotiate(),
        seeds::session_setup(1, 0, &seeds::NTLM_NEGOTIATE),
        seeds::session_setup(2, sid, &seeds::ntlm_anonymous()),
        seeds::tree_connect(3, sid, "share"),
    ] {
        if frame[12] == Command::TreeConnect.0 as u8 {
            super::test_server::sign_in(&conn, sid);
        }
        super::handle_frame(&conn, frame)
            .await
            .expect("setup frame");
        let reply = rx.recv().await.expect("reply");
        let status = Header::decode(reply.payload()).expect("header").status;
        assert!(
            status == 0 || status == 0xC000_0016,
            "setup status {status:#x}"
        );
    }
    (conn, rx)
}

/// A slow CREATE of `name` as message 4 on tree 1.
fn slow_create(name: &str) -> Vec<u8> {
    let mut create = seeds::create(4, 1, name);
    // A plain (not related) request on tree 1.
    let f = u32::from_le_bytes(create[16..20].try_into().unwrap()) & !flags::RELATED_OPERATIONS;
    create[16..20].copy_from_slice(&f.to_le_bytes());
    create[36..40].copy_from_slice(&1u32.to_le_bytes());
    create
}

#[tokio::test(start_paused = true)]
async fn slow_create_gets_an_interim_response() {
    let (conn, mut rx) = connect(server(16)).await;
    super::handle_frame(&conn, slow_create("slow.txt"))
        .await
        .expect("create");
    let interim = Header::decode(rx.recv().await.expect("interim").payload()).expect("header");
    let last = Header::decode(rx.recv().await.expect("final").payload()).expect("header");
    assert_eq!(interim.status, 0x0000_0103, "STATUS_PENDING first");
    assert!(interim.is_async() && interim.credits > 0);
    assert_eq!(last.status, 0, "then success");
    assert!(last.is_async());
    assert_eq!(last.async_id, interim.async_id);
    assert_eq!(last.message_id, 4);
}

/// At the connection's cap of async operations a slow request gets no interim response: it
/// completes synchronously, with its final response only.
#[tokio::test(start_paused = true)]
async fn slow_request_beyond_the_async_cap_completes_synchronously() {
    let (conn, mut rx) = connect(server(0)).await;
    super::handle_frame(&conn, slow_create("sync.txt"))
        .await
        .expect("create");
    let only = Header::decode(rx.recv().await.expect("final").payload()).expect("header");
    assert_eq!(only.status, 0, "success, not STATUS_PENDING");
    assert!(!only.is_async());
    assert_eq!(conn.async_count(), 0);
}
