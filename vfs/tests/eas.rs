//! Extended attributes, run against every backend: MemFs and PosixFs.

#[macro_use]
mod common;

use common::{Log, TempDir, err, opts};
use std::sync::Arc;
use vfs::ea::{self, Ea, FILE_NEED_EA};
use vfs::{ChangeAction, Disposition as D, Kind, Vfs, VfsError, filter};

fn names(list: &[Ea]) -> Vec<&[u8]> {
    list.iter().map(|e| e.name.as_slice()).collect()
}

/// Set, replace by another case, remove with an empty value; order and case kept; EaSize in
/// the handle's stat, the path's stat and the parent's listing.
async fn set_query_remove<F: Vfs>(fs: &F) {
    let o = fs.open("f", &opts(D::Create, Kind::File)).await.unwrap();
    assert!(o.file.get_eas().await.unwrap().is_empty());
    assert_eq!(o.stat.ea_size, 0);
    let mut need = Ea::new(b"Second", b"two");
    need.flags = FILE_NEED_EA;
    o.file
        .set_eas(vec![Ea::new(b"First", b"one"), need.clone()])
        .await
        .unwrap();
    let list = o.file.get_eas().await.unwrap();
    assert_eq!(list, vec![Ea::new(b"First", b"one"), need]);
    let size = ea::ea_size(&list);
    assert_eq!(o.file.stat().await.unwrap().ea_size, size);
    assert_eq!(fs.stat("f").await.unwrap().ea_size, size);
    let root = fs.open("", &opts(D::Open, Kind::Directory)).await.unwrap();
    let listed = root.file.read_dir(0, 10).await.unwrap();
    assert_eq!(listed[0].stat.ea_size, size);

    o.file
        .set_eas(vec![Ea::new(b"FIRST", b"uno"), Ea::new(b"second", b"")])
        .await
        .unwrap();
    let list = o.file.get_eas().await.unwrap();
    assert_eq!(list, vec![Ea::new(b"FIRST", b"uno")]);
    o.file.set_eas(vec![Ea::new(b"first", b"")]).await.unwrap();
    assert!(o.file.get_eas().await.unwrap().is_empty());
    assert_eq!(fs.stat("f").await.unwrap().ea_size, 0);

    // Another handle sees the same list; EAs survive an overwrite of the data.
    o.file.set_eas(vec![Ea::new(b"Kept", b"k")]).await.unwrap();
    let w = fs.open("f", &opts(D::Overwrite, Kind::File)).await.unwrap();
    assert_eq!(names(&w.file.get_eas().await.unwrap()), [b"Kept"]);
    w.file.overwrite(0, 0, true).await.unwrap();
    assert_eq!(names(&w.file.get_eas().await.unwrap()), [b"Kept"]);
    assert_ne!(w.file.stat().await.unwrap().ea_size, 0);
}

/// A list that fails as a whole changes nothing.
async fn all_or_nothing<F: Vfs>(fs: &F) {
    let o = fs.open("g", &opts(D::Create, Kind::File)).await.unwrap();
    o.file.set_eas(vec![Ea::new(b"a", b"1")]).await.unwrap();
    let bad = vec![Ea::new(b"b", b"2"), Ea::new(b"", b"x")];
    assert!(matches!(
        err(o.file.set_eas(bad).await),
        VfsError::InvalidName
    ));
    let big: Vec<Ea> = (0..2)
        .map(|i| Ea::new(format!("big{i}").as_bytes(), &[7u8; 40_000]))
        .collect();
    assert!(matches!(err(o.file.set_eas(big).await), VfsError::TooLarge));
    assert_eq!(o.file.get_eas().await.unwrap(), vec![Ea::new(b"a", b"1")]);
}

/// EAs belong to the file: a stream's handle reads and changes its file's; directories have
/// them too.
async fn streams_and_directories<F: Vfs>(fs: &F) {
    let f = fs.open("s", &opts(D::Create, Kind::File)).await.unwrap();
    let st = fs
        .open_stream("s", "x", &opts(D::Create, Kind::Any))
        .await
        .unwrap();
    st.file
        .set_eas(vec![Ea::new(b"OnFile", b"v")])
        .await
        .unwrap();
    assert_eq!(names(&f.file.get_eas().await.unwrap()), [b"OnFile"]);
    assert_eq!(names(&st.file.get_eas().await.unwrap()), [b"OnFile"]);
    let d = fs
        .open("dir", &opts(D::Create, Kind::Directory))
        .await
        .unwrap();
    d.file.set_eas(vec![Ea::new(b"D", b"1")]).await.unwrap();
    assert_eq!(names(&d.file.get_eas().await.unwrap()), [b"D"]);
    assert_ne!(fs.stat("dir").await.unwrap().ea_size, 0);
}

/// A change of EAs reports FILE_NOTIFY_CHANGE_EA, except the creator's first (the create
/// context's EAs are part of the creation).
async fn changes_report_ea<F: Vfs>(fs: &F) {
    let o = fs.open("n", &opts(D::Create, Kind::File)).await.unwrap();
    let log = Arc::new(Log::default());
    let _w = fs.watch("", false, log.clone()).await.unwrap();
    o.file.set_eas(vec![Ea::new(b"first", b"1")]).await.unwrap();
    o.file.set_eas(vec![Ea::new(b"then", b"2")]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let got = log.0.lock().unwrap().clone();
    assert_eq!(
        got,
        vec![("n".to_owned(), ChangeAction::Modified, filter::EA)]
    );
}

on_every_backend!("eas"; set_query_remove all_or_nothing streams_and_directories changes_report_ea);

/// The POSIX backend keeps the list in its private `user.smbd.eas`, which no metadata blob
/// name reaches, and no client EA name becomes an xattr of its own.
#[tokio::test]
async fn posix_stores_one_private_xattr() {
    let dir = TempDir::new("eas-xattr");
    let fs = vfs::posix::PosixFs::new(dir.0.clone()).unwrap();
    let o = fs.open("f", &opts(D::Create, Kind::File)).await.unwrap();
    o.file
        .set_eas(vec![Ea::new(b"smbd.dosattrib", b"x")])
        .await
        .unwrap();
    assert!(o.file.set_meta("eas", vec![1]).await.is_err());
    let st = o.file.stat().await.unwrap();
    assert_eq!(
        st.attributes,
        vfs::attr::ARCHIVE,
        "DOS attributes untouched"
    );
    let raw = std::process::Command::new("getfattr")
        .args(["-d", "-m", "-", "--absolute-names"])
        .arg(dir.0.join("f"))
        .output();
    if let Ok(out) = raw {
        let text = String::from_utf8_lossy(&out.stdout);
        if out.status.success() && !text.is_empty() {
            assert!(text.contains("user.smbd.eas"), "{text}");
        }
    }
}
