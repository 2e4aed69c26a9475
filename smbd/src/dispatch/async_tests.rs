//! A request that runs longer than the interim threshold gets STATUS_PENDING first, then its
//! final response with the same async id (MS-SMB2 3.3.4.2).

use std::sync::Arc;

use async_trait::async_trait;

use super::test_client::TestClient;
use crate::proto::header::Header;
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
    async fn open_stream(
        &self,
        path: &str,
        stream: &str,
        opts: &vfs::OpenOptions,
    ) -> vfs::VfsResult<vfs::Opened> {
        self.0.open_stream(path, stream, opts).await
    }
    async fn list_streams(&self, path: &str) -> vfs::VfsResult<Vec<vfs::StreamInfo>> {
        self.0.list_streams(path).await
    }
    async fn remove_stream(&self, path: &str, stream: &str) -> vfs::VfsResult<()> {
        self.0.remove_stream(path, stream).await
    }
    async fn rename_stream(
        &self,
        path: &str,
        from: &str,
        to: &str,
        replace: bool,
    ) -> vfs::VfsResult<()> {
        self.0.rename_stream(path, from, to, replace).await
    }
}

fn server(max_async: usize) -> Arc<ServerContext> {
    let fs = Arc::new(SlowFs(vfs::mem::MemFs::new()));
    super::test_server::server_with(fs, 64, |s| s.limits.max_async_per_connection = max_async)
}

#[tokio::test(start_paused = true)]
async fn slow_create_gets_an_interim_response() {
    let mut c = TestClient::on_share(server(16)).await;
    // A slow CREATE as message 4.
    let create = c.create("slow.txt");
    let interim = Header::decode(&c.send(create).await.expect("create")).expect("header");
    let last = Header::decode(&c.recv().await).expect("header");
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
    let mut c = TestClient::on_share(server(0)).await;
    let create = c.create("sync.txt");
    let only = Header::decode(&c.send(create).await.expect("create")).expect("header");
    assert_eq!(only.status, 0, "success, not STATUS_PENDING");
    assert!(!only.is_async());
    assert_eq!(c.conn.async_count(), 0);
}
