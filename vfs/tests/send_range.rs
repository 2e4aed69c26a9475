//! Sending a file range straight to a socket: what the POSIX backend sends, where it stops,
//! and the handles and backends that refuse (so the caller reads the data instead).

mod common;

use common::{TempDir, opts};
use std::io::{ErrorKind, Read};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use vfs::mem::MemFs;
use vfs::posix::PosixFs;
use vfs::{Disposition as D, Kind, OpenOptions, Vfs};

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// Sends `len` bytes at `offset` to a blocking socket pair in as many calls as it takes and
/// returns what arrived.
fn send_all(file: &dyn vfs::VfsFile, offset: u64, len: usize) -> Vec<u8> {
    let (tx, mut rx) = UnixStream::pair().unwrap();
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        rx.read_to_end(&mut got).unwrap();
        got
    });
    let mut sent = 0;
    while sent < len {
        let n = file
            .send_range_to(tx.as_fd(), offset + sent as u64, len - sent)
            .unwrap();
        if n == 0 {
            break;
        }
        sent += n;
    }
    drop(tx);
    reader.join().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posix_files_send_their_ranges_clamped_to_the_end() {
    let root = TempDir::new("send-range");
    let fs = PosixFs::new(root.0.clone()).unwrap();
    let data = pattern(300 * 1024 + 17);
    let w = fs.open("f", &opts(D::Create, Kind::File)).await.unwrap();
    w.file.write_at(0, data.clone()).await.unwrap();
    let f = fs.open("f", &OpenOptions::read_existing()).await.unwrap();

    assert_eq!(f.file.send_range_len(0, 1 << 20).unwrap(), data.len());
    assert_eq!(f.file.send_range_len(1000, 64).unwrap(), 64);
    assert_eq!(f.file.send_range_len(data.len() as u64 + 5, 64).unwrap(), 0);
    assert_eq!(f.file.send_range_len(u64::MAX, 64).unwrap(), 0);

    assert_eq!(send_all(f.file.as_ref(), 0, data.len()), data);
    assert_eq!(send_all(f.file.as_ref(), 4099, 70_000), data[4099..74_099]);
    // Past the end: what exists, then nothing.
    assert_eq!(
        send_all(f.file.as_ref(), 300 * 1024, 1 << 20),
        data[300 * 1024..]
    );
    assert!(send_all(f.file.as_ref(), data.len() as u64, 10).is_empty());
    assert!(send_all(f.file.as_ref(), u64::MAX, 10).is_empty());

    // Truncated after the length was decided: the send comes up short, never padded.
    w.file.set_len(1000).await.unwrap();
    assert_eq!(send_all(f.file.as_ref(), 0, data.len()), data[..1000]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directories_and_memory_files_refuse_so_callers_read() {
    let root = TempDir::new("send-range-dir");
    let fs = PosixFs::new(root.0.clone()).unwrap();
    let d = fs
        .open("d", &opts(D::Create, Kind::Directory))
        .await
        .unwrap();
    let (tx, _rx) = UnixStream::pair().unwrap();
    let unsupported = |r: std::io::Result<usize>| r.unwrap_err().kind() == ErrorKind::Unsupported;
    assert!(unsupported(d.file.send_range_len(0, 10)));
    assert!(unsupported(d.file.send_range_to(tx.as_fd(), 0, 10)));

    let mem = MemFs::new();
    let m = mem.open("f", &opts(D::Create, Kind::File)).await.unwrap();
    m.file.write_at(0, vec![1; 100]).await.unwrap();
    assert!(unsupported(m.file.send_range_len(0, 10)));
    assert!(unsupported(m.file.send_range_to(tx.as_fd(), 0, 10)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_just_written_is_in_the_page_cache() {
    let root = TempDir::new("send-range-cached");
    let fs = PosixFs::new(root.0.clone()).unwrap();
    let w = fs.open("f", &opts(D::Create, Kind::File)).await.unwrap();
    w.file.write_at(0, pattern(100_000)).await.unwrap();
    // Kernels before 6.5 lack cachestat(2): then nothing is known to be cached.
    let known = w.file.is_cached(0, 100_000);
    assert_eq!(w.file.is_cached(5000, 1), known);
    assert!(w.file.is_cached(0, 0));
    // Pages past the end of the file are not in the cache.
    assert!(!w.file.is_cached(0, 1 << 20));
    let mem = MemFs::new();
    let m = mem.open("f", &opts(D::Create, Kind::File)).await.unwrap();
    assert!(!m.file.is_cached(0, 10));
}
