//! Directory watches of both backends: the server's own changes reported once and precisely,
//! and (POSIX) changes made in the share folder by other programs, through inotify.

mod common;

use common::{Log, TempDir, opts};
use std::sync::Arc;
use std::time::Duration;
use vfs::mem::MemFs;
use vfs::posix::PosixFs;
use vfs::{ChangeAction as A, Disposition as D, Kind, SetTimes, Vfs, filter};

async fn own_changes(fs: &dyn Vfs) {
    fs.open("d", &opts(D::Create, Kind::Directory))
        .await
        .unwrap();
    let log = Arc::new(Log::default());
    let _w = fs.watch("D", true, log.clone()).await.unwrap();
    let f = fs.open("d/a", &opts(D::Create, Kind::File)).await.unwrap();
    f.file.set_meta("security.sd", vec![1]).await.unwrap();
    f.file.write_at(0, b"x".to_vec()).await.unwrap();
    f.file
        .set_times(SetTimes {
            creation: Some(1),
            ..SetTimes::default()
        })
        .await
        .unwrap();
    fs.rename("d/a", "d/b", false).await.unwrap();
    fs.open("d/sub", &opts(D::Create, Kind::Directory))
        .await
        .unwrap();
    fs.rename("d/b", "d/sub/c", false).await.unwrap();
    fs.remove("d/sub/c").await.unwrap();
    // Give an echo from the kernel time to show up, if it were not dropped.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let got = log.0.lock().unwrap().clone();
    let want = vec![
        ("a".to_owned(), A::Added, filter::FILE_NAME),
        (
            "a".to_owned(),
            A::Modified,
            filter::LAST_WRITE | filter::SIZE,
        ),
        ("a".to_owned(), A::Modified, filter::CREATION),
        ("a".to_owned(), A::RenamedOldName, filter::FILE_NAME),
        ("b".to_owned(), A::RenamedNewName, filter::FILE_NAME),
        ("b".to_owned(), A::Modified, filter::ATTRIBUTES),
        ("sub".to_owned(), A::Added, filter::DIR_NAME),
        ("b".to_owned(), A::Removed, filter::FILE_NAME),
        ("sub/c".to_owned(), A::Added, filter::FILE_NAME),
        ("sub/c".to_owned(), A::Modified, filter::ATTRIBUTES),
        ("sub/c".to_owned(), A::Removed, filter::FILE_NAME),
    ];
    assert_eq!(got, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memfs_reports_its_own_changes() {
    own_changes(&MemFs::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posix_reports_its_own_changes_once() {
    let t = TempDir::new("watch-own");
    own_changes(&PosixFs::new(t.0.clone()).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posix_sees_other_programs_in_the_tree() {
    let t = TempDir::new("watch-ext");
    let fs = PosixFs::new(t.0.clone()).unwrap();
    std::fs::create_dir_all(t.0.join("top/deep")).unwrap();
    let flat = Arc::new(Log::default());
    let tree = Arc::new(Log::default());
    let _a = fs.watch("top", false, flat.clone()).await.unwrap();
    let _b = fs.watch("", true, tree.clone()).await.unwrap();
    std::fs::write(t.0.join("top/deep/file"), b"x").unwrap();
    std::fs::create_dir(t.0.join("top/new")).unwrap();
    // The new directory is watched too, so this is seen.
    tokio::time::sleep(Duration::from_millis(100)).await;
    std::fs::write(t.0.join("top/new/inner"), b"").unwrap();
    std::fs::rename(t.0.join("top/deep/file"), t.0.join("top/deep/moved")).unwrap();
    let got = tree.wait_for(6).await;
    assert!(got.contains(&("top/deep/file".into(), A::Added)), "{got:?}");
    assert!(got.contains(&("top/new".into(), A::Added)), "{got:?}");
    assert!(got.contains(&("top/new/inner".into(), A::Added)), "{got:?}");
    assert!(
        got.contains(&("top/deep/file".into(), A::RenamedOldName)),
        "{got:?}"
    );
    assert!(
        got.contains(&("top/deep/moved".into(), A::RenamedNewName)),
        "{got:?}"
    );
    let flat = flat.wait_for(1).await;
    assert_eq!(flat, vec![("new".to_owned(), A::Added)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posix_without_kernel_notify_sees_only_its_own() {
    let t = TempDir::new("watch-off");
    let fs = PosixFs::new(t.0.clone()).unwrap().with_kernel_notify(false);
    let log = Arc::new(Log::default());
    let _w = fs.watch("", false, log.clone()).await.unwrap();
    std::fs::write(t.0.join("outside"), b"x").unwrap();
    fs.open("inside", &opts(D::Create, Kind::File))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(log.names(), vec![("inside".to_owned(), A::Added)]);
}

/// A named stream's life as NTFS reports it: added, written (size and data), renamed, removed,
/// each under `file:stream` with the stream actions and filters; the file's own changes stay
/// the file's, and nothing of the POSIX side tree shows.
async fn stream_changes(fs: &dyn Vfs) {
    fs.open("d", &opts(D::Create, Kind::Directory))
        .await
        .unwrap();
    fs.open("d/f", &opts(D::Create, Kind::File)).await.unwrap();
    let log = Arc::new(Log::default());
    let _w = fs.watch("", true, log.clone()).await.unwrap();
    let s = fs
        .open_stream("d/f", "Zone.Identifier", &opts(D::Create, Kind::File))
        .await
        .unwrap();
    s.file
        .write_at(0, b"[ZoneTransfer]".to_vec())
        .await
        .unwrap();
    fs.rename_stream("d/f", "Zone.Identifier", "Other", false)
        .await
        .unwrap();
    fs.remove_stream("d/f", "Other").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let got = log.0.lock().unwrap().clone();
    let want = vec![
        (
            "d/f:Zone.Identifier".to_owned(),
            A::AddedStream,
            filter::STREAM_NAME,
        ),
        (
            "d/f:Zone.Identifier".to_owned(),
            A::ModifiedStream,
            filter::STREAM_SIZE | filter::STREAM_WRITE,
        ),
        (
            "d/f:Zone.Identifier".to_owned(),
            A::RemovedStream,
            filter::STREAM_NAME,
        ),
        ("d/f:Other".to_owned(), A::AddedStream, filter::STREAM_NAME),
        (
            "d/f:Other".to_owned(),
            A::RemovedStream,
            filter::STREAM_NAME,
        ),
    ];
    assert_eq!(got, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memfs_reports_stream_changes() {
    stream_changes(&MemFs::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posix_reports_stream_changes() {
    let t = TempDir::new("watch-streams");
    stream_changes(&PosixFs::new(t.0.clone()).unwrap()).await;
}
