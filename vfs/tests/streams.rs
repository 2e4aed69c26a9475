//! Named data streams, run against every backend: MemFs, PosixFs (openat2) and PosixFs (the
//! component-walk fallback).

#[macro_use]
mod common;

use common::{TempDir, err, opts};
use vfs::{CreateAction, Disposition as D, Kind, Vfs, VfsError, attr};

async fn create_file<F: Vfs>(fs: &F, path: &str, data: &[u8]) {
    let o = fs.open(path, &opts(D::Create, Kind::File)).await.unwrap();
    o.file.write_at(0, data.to_vec()).await.unwrap();
}

async fn read_stream<F: Vfs>(fs: &F, path: &str, stream: &str) -> Vec<u8> {
    let o = fs
        .open_stream(path, stream, &opts(D::Open, Kind::Any))
        .await
        .unwrap();
    o.file.read_at(0, 1 << 20).await.unwrap()
}

async fn names<F: Vfs>(fs: &F, path: &str) -> Vec<String> {
    let list = fs.list_streams(path).await.unwrap();
    list.into_iter().map(|s| s.name).collect()
}

async fn stream_io<F: Vfs>(fs: &F) {
    create_file(fs, "f.txt", b"unnamed").await;
    assert!(matches!(
        err(fs
            .open_stream("f.txt", "s", &opts(D::Open, Kind::Any))
            .await),
        VfsError::NotFound
    ));
    let s = fs
        .open_stream("f.txt", "Zone.Identifier", &opts(D::Create, Kind::Any))
        .await
        .unwrap();
    assert_eq!(s.action, CreateAction::Created);
    assert_eq!(s.path, "f.txt");
    assert_ne!(s.stream_id, 0);
    assert_eq!(s.stat.size, 0);
    s.file
        .write_at(0, b"[ZoneTransfer]".to_vec())
        .await
        .unwrap();
    let base = fs.stat("f.txt").await.unwrap();
    let st = s.file.stat().await.unwrap();
    assert_eq!((st.size, st.file_id), (14, base.file_id));
    assert_eq!(base.size, 7, "the unnamed stream is untouched");
    assert_eq!(
        read_stream(fs, "f.txt", "zone.identifier").await,
        b"[ZoneTransfer]"
    );
    assert!(matches!(
        err(fs
            .open_stream("f.txt", "ZONE.IDENTIFIER", &opts(D::Create, Kind::Any))
            .await),
        VfsError::Exists
    ));
    let again = fs
        .open_stream("F.TXT", "zone.IDENTIFIER", &opts(D::OpenIf, Kind::Any))
        .await
        .unwrap();
    assert_eq!(again.action, CreateAction::Opened);
    assert_eq!(again.stream_id, s.stream_id, "the same stream");
    let other = fs
        .open_stream("f.txt", "two", &opts(D::OpenIf, Kind::Any))
        .await
        .unwrap();
    assert_eq!(other.action, CreateAction::Created);
    assert_ne!(other.stream_id, s.stream_id);
    let list = fs.list_streams("f.txt").await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].name, "Zone.Identifier", "case kept: {list:?}");
    assert_eq!(list[0].size, 14);
    let o = fs
        .open_stream("f.txt", "Zone.Identifier", &opts(D::Overwrite, Kind::Any))
        .await
        .unwrap();
    assert_eq!(o.action, CreateAction::Overwritten);
    assert_eq!(o.file.stat().await.unwrap().size, 0);
    o.file.write_at(0, b"abc".to_vec()).await.unwrap();
    o.file.set_len(1).await.unwrap();
    assert_eq!(read_stream(fs, "f.txt", "Zone.Identifier").await, b"a");
    assert!(matches!(
        err(o.file.read_dir(0, 10).await),
        VfsError::NotADirectory
    ));
}

async fn bad_names<F: Vfs>(fs: &F) {
    create_file(fs, "f", b"").await;
    for bad in ["", "a:b", "a\\b", "a/b"] {
        assert!(
            matches!(
                err(fs.open_stream("f", bad, &opts(D::OpenIf, Kind::Any)).await),
                VfsError::InvalidName
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        err(fs
            .open_stream("f", "s", &opts(D::OpenIf, Kind::Directory))
            .await),
        VfsError::NotADirectory
    ));
    assert!(matches!(
        err(fs
            .open_stream("missing", "s", &opts(D::OpenIf, Kind::Any))
            .await),
        VfsError::NotFound
    ));
    assert!(matches!(
        err(fs
            .open_stream("no/f", "s", &opts(D::OpenIf, Kind::Any))
            .await),
        VfsError::PathNotFound
    ));
    // Control characters and wildcards are valid in stream names.
    let o = fs
        .open_stream("f", "\u{5}Stream\n One*?", &opts(D::Create, Kind::Any))
        .await
        .unwrap();
    assert_eq!(o.action, CreateAction::Created);
    assert_eq!(names(fs, "f").await, ["\u{5}Stream\n One*?"]);
}

async fn remove_and_rename_streams<F: Vfs>(fs: &F) {
    create_file(fs, "f", b"").await;
    for (name, data) in [("a", b"A"), ("b", b"B")] {
        let o = fs
            .open_stream("f", name, &opts(D::Create, Kind::Any))
            .await
            .unwrap();
        o.file.write_at(0, data.to_vec()).await.unwrap();
    }
    assert!(matches!(
        err(fs.rename_stream("f", "a", "B", false).await),
        VfsError::Exists
    ));
    fs.rename_stream("f", "a", "c", false).await.unwrap();
    assert_eq!(names(fs, "f").await, ["b", "c"]);
    fs.rename_stream("f", "c", "C", false).await.unwrap();
    assert_eq!(names(fs, "f").await, ["C", "b"], "a case change");
    let held = fs
        .open_stream("f", "b", &opts(D::Open, Kind::Any))
        .await
        .unwrap();
    fs.rename_stream("f", "C", "B", true).await.unwrap();
    assert_eq!(names(fs, "f").await, ["B"]);
    assert_eq!(read_stream(fs, "f", "b").await, b"A");
    assert_eq!(
        held.file.read_at(0, 10).await.unwrap(),
        b"B",
        "a replaced stream stays readable through its handle"
    );
    assert!(matches!(
        err(fs.remove_stream("f", "nope").await),
        VfsError::NotFound
    ));
    fs.remove_stream("f", "b").await.unwrap();
    assert!(names(fs, "f").await.is_empty());
}

/// A file's streams move with it on rename and go with it on remove; a replaced file's go.
async fn streams_follow_their_file<F: Vfs>(fs: &F) {
    fs.open("d", &opts(D::Create, Kind::Directory))
        .await
        .unwrap();
    create_file(fs, "d/f", b"").await;
    create_file(fs, "g", b"").await;
    for (path, s) in [("d/f", "x"), ("g", "y"), ("d", "on-dir")] {
        fs.open_stream(path, s, &opts(D::Create, Kind::Any))
            .await
            .unwrap();
    }
    fs.rename("d/f", "d/F2", false).await.unwrap();
    assert_eq!(names(fs, "d/f2").await, ["x"]);
    fs.rename("d", "e", false).await.unwrap();
    assert_eq!(names(fs, "e").await, ["on-dir"]);
    assert_eq!(names(fs, "e/F2").await, ["x"]);
    fs.rename("e/F2", "g", true).await.unwrap();
    assert_eq!(
        names(fs, "g").await,
        ["x"],
        "the replaced file's streams are gone"
    );
    fs.remove("g").await.unwrap();
    create_file(fs, "g", b"").await;
    assert!(names(fs, "g").await.is_empty(), "a new file has no streams");
    // The root has streams too; a directory listing never shows where they are kept.
    fs.open_stream("", "r", &opts(D::Create, Kind::Any))
        .await
        .unwrap();
    assert_eq!(names(fs, "").await, ["r"]);
    let root = fs.open("", &opts(D::Open, Kind::Directory)).await.unwrap();
    let listed: Vec<String> = root
        .file
        .read_dir(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(listed, ["e", "g"]);
}

/// A stream's times, attributes and metadata are its file's.
async fn shared_metadata<F: Vfs>(fs: &F) {
    create_file(fs, "f", b"").await;
    let s = fs
        .open_stream("f", "s", &opts(D::Create, Kind::Any))
        .await
        .unwrap();
    s.file
        .set_attributes(attr::HIDDEN | attr::ARCHIVE)
        .await
        .unwrap();
    s.file
        .set_meta("security.sd", b"sd".to_vec())
        .await
        .unwrap();
    let base = fs.open("f", &opts(D::Open, Kind::File)).await.unwrap();
    assert_eq!(base.stat.attributes, attr::HIDDEN | attr::ARCHIVE);
    assert_eq!(
        base.file.get_meta("security.sd").await.unwrap().as_deref(),
        Some(&b"sd"[..])
    );
    let st = s.file.stat().await.unwrap();
    assert_eq!(st.creation_time, base.stat.creation_time);
    assert_eq!(st.attributes, base.stat.attributes);
}

on_every_backend!("streams"; stream_io bad_names remove_and_rename_streams streams_follow_their_file shared_metadata);

/// The POSIX side tree is plain files in the share folder (a copy carries it) that no SMB path
/// reaches.
#[tokio::test]
async fn posix_side_tree_is_hidden_and_plain() {
    let dir = TempDir::new("side");
    let fs = vfs::posix::PosixFs::new(dir.0.clone()).unwrap();
    create_file(&fs, "f", b"").await;
    let o = fs
        .open_stream("f", "Zone.Identifier", &opts(D::Create, Kind::Any))
        .await
        .unwrap();
    o.file.write_at(0, b"zone".to_vec()).await.unwrap();
    let on_disk = dir.0.join(".smbd-streams/f/:Zone.Identifier");
    assert_eq!(std::fs::read(on_disk).unwrap(), b"zone");
    for path in [
        ".smbd-streams",
        ".SMBD-Streams/f",
        ".smbd-streams/f/:Zone.Identifier",
    ] {
        assert!(
            matches!(
                err(fs.open(path, &opts(D::OpenIf, Kind::Any)).await),
                VfsError::InvalidName
            ),
            "{path}"
        );
    }
    assert!(matches!(
        err(fs.rename("f", ".smbd-streams", false).await),
        VfsError::InvalidName
    ));
    assert!(matches!(
        err(fs.remove(".smbd-streams").await),
        VfsError::InvalidName
    ));
}
