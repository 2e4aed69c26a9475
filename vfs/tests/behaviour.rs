//! One behaviour suite, run against every backend: MemFs, PosixFs (openat2) and PosixFs (the
//! component-walk fallback).

#[macro_use]
mod common;

use common::{err, opts};
use vfs::{CreateAction, Disposition as D, Kind, SetTimes, Vfs, VfsError, attr, unix_to_filetime};

async fn create_file<F: Vfs>(fs: &F, path: &str, data: &[u8]) {
    let o = fs.open(path, &opts(D::Create, Kind::File)).await.unwrap();
    o.file.write_at(0, data.to_vec()).await.unwrap();
}

async fn read_all<F: Vfs>(fs: &F, path: &str) -> Vec<u8> {
    let o = fs.open(path, &opts(D::Open, Kind::File)).await.unwrap();
    o.file.read_at(0, 1 << 20).await.unwrap()
}

async fn list<F: Vfs>(fs: &F, dir: &str) -> Vec<String> {
    let o = fs.open(dir, &opts(D::Open, Kind::Directory)).await.unwrap();
    let mut names = Vec::new();
    let mut cookie = 0;
    loop {
        let page = o.file.read_dir(cookie, 100).await.unwrap();
        let Some(last) = page.last() else { break };
        cookie = last.cookie;
        names.extend(page.into_iter().map(|e| e.name));
    }
    names
}

async fn dispositions<F: Vfs>(fs: &F) {
    assert!(matches!(
        err(fs.open("a.txt", &opts(D::Open, Kind::Any)).await),
        VfsError::NotFound
    ));
    assert!(matches!(
        err(fs.open("a.txt", &opts(D::Overwrite, Kind::File)).await),
        VfsError::NotFound
    ));
    assert!(matches!(
        err(fs.open("no/a.txt", &opts(D::Open, Kind::Any)).await),
        VfsError::PathNotFound
    ));
    assert!(matches!(
        err(fs.open("no/a.txt", &opts(D::Create, Kind::File)).await),
        VfsError::PathNotFound
    ));

    let o = fs
        .open("a.txt", &opts(D::Create, Kind::File))
        .await
        .unwrap();
    assert_eq!(o.action, CreateAction::Created);
    assert_eq!(o.path, "a.txt");
    assert!(!o.stat.is_dir);
    o.file.write_at(0, b"hello".to_vec()).await.unwrap();
    assert!(matches!(
        err(fs.open("a.txt", &opts(D::Create, Kind::File)).await),
        VfsError::Exists
    ));
    assert!(matches!(
        err(fs.open("a.txt/x", &opts(D::Open, Kind::Any)).await),
        VfsError::PathNotFound
    ));

    let o = fs.open("a.txt", &opts(D::Open, Kind::Any)).await.unwrap();
    assert_eq!(o.action, CreateAction::Opened);
    assert_eq!(o.stat.size, 5);
    let o = fs
        .open("a.txt", &opts(D::OpenIf, Kind::File))
        .await
        .unwrap();
    assert_eq!(o.action, CreateAction::Opened);
    assert_eq!(o.file.read_at(0, 100).await.unwrap(), b"hello");

    let o = fs
        .open("a.txt", &opts(D::Overwrite, Kind::File))
        .await
        .unwrap();
    assert_eq!(o.action, CreateAction::Overwritten);
    assert_eq!(o.stat.size, 0);
    o.file.write_at(0, b"x".to_vec()).await.unwrap();
    let o = fs
        .open("a.txt", &opts(D::OverwriteIf, Kind::File))
        .await
        .unwrap();
    assert_eq!(o.action, CreateAction::Overwritten);
    assert_eq!(o.stat.size, 0);
    o.file.write_at(0, b"y".to_vec()).await.unwrap();
    let o = fs
        .open("a.txt", &opts(D::Supersede, Kind::File))
        .await
        .unwrap();
    assert_eq!(o.action, CreateAction::Superseded);
    assert_eq!(o.stat.size, 0);

    for (name, d) in [("b", D::OpenIf), ("c", D::OverwriteIf), ("d", D::Supersede)] {
        let o = fs.open(name, &opts(d, Kind::File)).await.unwrap();
        assert_eq!(o.action, CreateAction::Created, "{name}");
    }
}

async fn kinds<F: Vfs>(fs: &F) {
    let o = fs
        .open("dir", &opts(D::Create, Kind::Directory))
        .await
        .unwrap();
    assert_eq!(o.action, CreateAction::Created);
    assert!(o.stat.is_dir);
    assert_ne!(o.stat.attributes & attr::DIRECTORY, 0);
    let o = fs
        .open("dir2", &opts(D::OpenIf, Kind::Directory))
        .await
        .unwrap();
    assert_eq!(o.action, CreateAction::Created);
    assert!(fs.stat("dir2").await.unwrap().is_dir);
    create_file(fs, "f", b"").await;

    assert!(matches!(
        err(fs.open("dir", &opts(D::Open, Kind::File)).await),
        VfsError::IsADirectory
    ));
    assert!(matches!(
        err(fs.open("f", &opts(D::Open, Kind::Directory)).await),
        VfsError::NotADirectory
    ));
    assert!(matches!(
        err(fs.open("dir", &opts(D::Overwrite, Kind::Any)).await),
        VfsError::IsADirectory
    ));
    assert!(matches!(
        err(fs.open("dir", &opts(D::Supersede, Kind::Any)).await),
        VfsError::IsADirectory
    ));
    assert!(matches!(
        err(fs.open("dir", &opts(D::Create, Kind::Directory)).await),
        VfsError::Exists
    ));
    for d in [D::Overwrite, D::OverwriteIf, D::Supersede] {
        assert!(matches!(
            err(fs.open("newdir", &opts(d, Kind::Directory)).await),
            VfsError::IsADirectory
        ));
    }
    assert!(matches!(err(fs.stat("newdir").await), VfsError::NotFound));
    let o = fs.open("dir", &opts(D::Open, Kind::Any)).await.unwrap();
    assert!(o.stat.is_dir);
    assert_eq!(o.stat.size, 0);
    assert!(matches!(
        err(o.file.read_at(0, 10).await),
        VfsError::IsADirectory
    ));
    let f = fs.open("f", &opts(D::Open, Kind::Any)).await.unwrap();
    assert!(matches!(
        err(f.file.read_dir(0, 10).await),
        VfsError::NotADirectory
    ));

    let root = fs.open("", &opts(D::Open, Kind::Directory)).await.unwrap();
    assert!(root.stat.is_dir);
    assert_eq!(root.path, "");
    assert!(matches!(
        err(fs.open("", &opts(D::Create, Kind::Directory)).await),
        VfsError::Exists
    ));
    assert!(matches!(
        err(fs.open("", &opts(D::Open, Kind::File)).await),
        VfsError::IsADirectory
    ));
    assert!(fs.stat("").await.unwrap().is_dir);
}

async fn bad_paths<F: Vfs>(fs: &F) {
    for p in ["/etc/passwd", "..", "a/../b", "../x"] {
        assert!(
            matches!(
                err(fs.open(p, &opts(D::OpenIf, Kind::Any)).await),
                VfsError::Escape
            ),
            "{p}"
        );
    }
    for p in ["a//b", "./a", "a/", "a\0b"] {
        assert!(
            matches!(
                err(fs.open(p, &opts(D::OpenIf, Kind::Any)).await),
                VfsError::InvalidName
            ),
            "{p}"
        );
    }
    assert!(matches!(err(fs.stat("..").await), VfsError::Escape));
    assert!(matches!(err(fs.remove("/x").await), VfsError::Escape));
    assert!(matches!(
        err(fs.rename("a", "../b", false).await),
        VfsError::Escape
    ));
}

async fn case_insensitive<F: Vfs>(fs: &F) {
    create_file(fs, "Hello.TXT", b"hi").await;
    let o = fs
        .open("hello.txt", &opts(D::Open, Kind::File))
        .await
        .unwrap();
    assert_eq!(o.path, "Hello.TXT");
    assert!(matches!(
        err(fs.open("HELLO.txt", &opts(D::Create, Kind::File)).await),
        VfsError::Exists
    ));
    let o = fs
        .open("HELLO.TXT", &opts(D::OpenIf, Kind::File))
        .await
        .unwrap();
    assert_eq!(o.action, CreateAction::Opened);
    assert_eq!(o.file.read_at(0, 10).await.unwrap(), b"hi");
    assert_eq!(fs.stat("hElLo.TxT").await.unwrap().size, 2);

    fs.open("MyDir", &opts(D::Create, Kind::Directory))
        .await
        .unwrap();
    let o = fs
        .open("mydir/Sub", &opts(D::Create, Kind::Directory))
        .await
        .unwrap();
    assert_eq!(o.path, "MyDir/Sub");
    create_file(fs, "MYDIR/sub/Deep.bin", b"d").await;
    let o = fs
        .open("mydir/SUB/deep.BIN", &opts(D::Open, Kind::Any))
        .await
        .unwrap();
    assert_eq!(o.path, "MyDir/Sub/Deep.bin");
    assert_eq!(list(fs, "mydir/sub").await, ["Deep.bin"]);

    // Case-only renames.
    fs.rename("hello.txt", "HELLO.TXT", false).await.unwrap();
    assert!(list(fs, "").await.contains(&"HELLO.TXT".to_owned()));
    assert!(!list(fs, "").await.contains(&"Hello.TXT".to_owned()));
    assert_eq!(read_all(fs, "hello.txt").await, b"hi");
    fs.rename("mydir", "mYdIr", true).await.unwrap();
    let o = fs
        .open("MYDIR/SUB/DEEP.BIN", &opts(D::Open, Kind::Any))
        .await
        .unwrap();
    assert_eq!(o.path, "mYdIr/Sub/Deep.bin");
    // A same-name rename is a no-op.
    fs.rename("HELLO.TXT", "HELLO.TXT", false).await.unwrap();
    assert_eq!(read_all(fs, "HELLO.TXT").await, b"hi");
}

async fn listing<F: Vfs>(fs: &F) {
    fs.open("big", &opts(D::Create, Kind::Directory))
        .await
        .unwrap();
    for i in 0..1000 {
        fs.open(&format!("big/f{i:04}"), &opts(D::Create, Kind::File))
            .await
            .unwrap();
    }
    fs.open("big/zdir", &opts(D::Create, Kind::Directory))
        .await
        .unwrap();
    let o = fs
        .open("big", &opts(D::Open, Kind::Directory))
        .await
        .unwrap();
    let mut all = Vec::new();
    let mut cookie = 0;
    let mut calls = 0;
    loop {
        let page = o.file.read_dir(cookie, 100).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 100);
        calls += 1;
        // Entries created after the listing began do not disturb the paging.
        if calls == 3 {
            fs.open("big/a-late", &opts(D::Create, Kind::File))
                .await
                .unwrap();
        }
        cookie = page.last().unwrap().cookie;
        all.extend(page);
    }
    assert_eq!(calls, 11);
    assert_eq!(all.len(), 1001);
    let names: Vec<&str> = all.iter().map(|e| e.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 1001);
    assert!(!names.contains(&".") && !names.contains(&".."));
    let z = all.iter().find(|e| e.name == "zdir").unwrap();
    assert!(z.stat.is_dir && z.stat.attributes & attr::DIRECTORY != 0);
    let f = all.iter().find(|e| e.name == "f0000").unwrap();
    assert!(!f.stat.is_dir && f.stat.attributes & attr::ARCHIVE != 0);
    // Restarting (cookie 0) takes a fresh listing.
    let first = o.file.read_dir(0, 1).await.unwrap();
    assert_eq!(first[0].name, "a-late");
    assert_eq!(first[0].cookie, 1);
    // Resuming from the middle gives the next entries.
    let mid = o.file.read_dir(500, 2).await.unwrap();
    assert_eq!(mid.len(), 2);
    assert_eq!(mid[0].cookie, 501);
}

async fn renames<F: Vfs>(fs: &F) {
    create_file(fs, "a", b"A").await;
    create_file(fs, "b", b"B").await;
    fs.rename("a", "c", false).await.unwrap();
    assert!(matches!(err(fs.stat("a").await), VfsError::NotFound));
    assert_eq!(read_all(fs, "c").await, b"A");
    assert!(matches!(
        err(fs.rename("c", "b", false).await),
        VfsError::Exists
    ));
    assert!(matches!(
        err(fs.rename("c", "B", false).await),
        VfsError::Exists
    ));
    fs.rename("c", "B", true).await.unwrap();
    assert_eq!(read_all(fs, "b").await, b"A");
    assert!(matches!(err(fs.stat("c").await), VfsError::NotFound));
    assert!(matches!(
        err(fs.rename("nope", "x", false).await),
        VfsError::NotFound
    ));
    assert!(matches!(
        err(fs.rename("no/pe", "x", false).await),
        VfsError::PathNotFound
    ));

    fs.open("d", &opts(D::Create, Kind::Directory))
        .await
        .unwrap();
    assert!(matches!(
        err(fs.rename("b", "d", true).await),
        VfsError::AccessDenied
    ));
    assert!(matches!(
        err(fs.rename("b", "d", false).await),
        VfsError::Exists
    ));
    fs.rename("b", "d/inner", false).await.unwrap();
    let held = fs.open("d", &opts(D::Open, Kind::Directory)).await.unwrap();
    fs.rename("d", "e", false).await.unwrap();
    assert_eq!(read_all(fs, "E/INNER").await, b"A");
    assert_eq!(held.file.read_dir(0, 10).await.unwrap()[0].name, "inner");
    assert!(matches!(
        err(fs.rename("e", "e/sub", false).await),
        VfsError::AccessDenied
    ));
}

async fn removal<F: Vfs>(fs: &F) {
    fs.open("d", &opts(D::Create, Kind::Directory))
        .await
        .unwrap();
    create_file(fs, "d/f", b"x").await;
    assert!(matches!(err(fs.remove("d").await), VfsError::NotEmpty));
    let open = fs.open("d/f", &opts(D::Open, Kind::File)).await.unwrap();
    fs.remove("D/F").await.unwrap();
    assert!(matches!(err(fs.stat("d/f").await), VfsError::NotFound));
    assert_eq!(open.file.read_at(0, 10).await.unwrap(), b"x");
    fs.remove("d").await.unwrap();
    assert!(matches!(err(fs.stat("d").await), VfsError::NotFound));
    assert!(matches!(err(fs.remove("d").await), VfsError::NotFound));
    assert!(matches!(err(fs.remove("").await), VfsError::AccessDenied));
}

async fn attributes<F: Vfs>(fs: &F) {
    let mut o = opts(D::Create, Kind::File);
    o.attributes = attr::HIDDEN;
    let f = fs.open("h", &o).await.unwrap();
    assert_eq!(f.stat.attributes, attr::HIDDEN | attr::ARCHIVE);
    let created = f.stat.creation_time;
    assert!(created > 0);
    drop(f);
    assert_eq!(
        fs.stat("h").await.unwrap().attributes,
        attr::HIDDEN | attr::ARCHIVE
    );

    let f = fs.open("h", &opts(D::Open, Kind::Any)).await.unwrap();
    f.file
        .set_attributes(attr::READONLY | attr::DIRECTORY)
        .await
        .unwrap();
    drop(f);
    let s = fs.stat("h").await.unwrap();
    assert_eq!(s.attributes, attr::READONLY);
    assert_eq!(s.creation_time, created);
    let mut ro = vfs::OpenOptions::read_existing();
    ro.read = false;
    let f = fs.open("h", &ro).await.unwrap();
    f.file.set_attributes(0).await.unwrap();
    assert_eq!(f.file.stat().await.unwrap().attributes, attr::NORMAL);

    // Overwrite replaces the attributes and keeps the creation time.
    let mut o = opts(D::Overwrite, Kind::File);
    o.attributes = attr::SYSTEM;
    let f = fs.open("h", &o).await.unwrap();
    assert_eq!(f.stat.attributes, attr::SYSTEM | attr::ARCHIVE);
    assert_eq!(f.stat.creation_time, created);

    let mut o = opts(D::Create, Kind::Directory);
    o.attributes = attr::HIDDEN;
    let d = fs.open("dd", &o).await.unwrap();
    assert_eq!(d.stat.attributes, attr::HIDDEN | attr::DIRECTORY);
    d.file.set_attributes(0).await.unwrap();
    assert_eq!(fs.stat("dd").await.unwrap().attributes, attr::DIRECTORY);

    // A listing reports the same attributes and creation time as stat.
    let root = fs.open("", &opts(D::Open, Kind::Directory)).await.unwrap();
    let listed = root.file.read_dir(0, 100).await.unwrap();
    let h = listed.iter().find(|e| e.name == "h").expect("h listed");
    assert_eq!(h.stat.attributes, attr::SYSTEM | attr::ARCHIVE);
    assert_eq!(h.stat.creation_time, created);
    let dd = listed.iter().find(|e| e.name == "dd").expect("dd listed");
    assert_eq!(dd.stat.attributes, attr::DIRECTORY);
}

async fn times<F: Vfs>(fs: &F) {
    create_file(fs, "t", b"1").await;
    let f = fs.open("t", &opts(D::Open, Kind::File)).await.unwrap();
    let c = unix_to_filetime(1_000_000_000, 100);
    let a = unix_to_filetime(1_500_000_000, 123_456_700);
    let w = unix_to_filetime(1_600_000_000, 987_654_300);
    f.file
        .set_times(SetTimes {
            creation: Some(c),
            last_access: Some(a),
            last_write: Some(w),
            change: None,
        })
        .await
        .unwrap();
    drop(f);
    let s = fs.stat("T").await.unwrap();
    assert_eq!(
        (s.creation_time, s.last_access_time, s.last_write_time),
        (c, a, w)
    );
    let f = fs.open("t", &opts(D::Open, Kind::File)).await.unwrap();
    f.file
        .set_times(SetTimes {
            last_write: Some(c),
            ..SetTimes::default()
        })
        .await
        .unwrap();
    let s = f.file.stat().await.unwrap();
    assert_eq!(
        (s.creation_time, s.last_access_time, s.last_write_time),
        (c, a, c)
    );
    // Times on a directory handle too.
    let d = fs.open("", &opts(D::Open, Kind::Directory)).await.unwrap();
    fs.open("sub", &opts(D::Create, Kind::Directory))
        .await
        .unwrap();
    drop(d);
    let d = fs
        .open("sub", &opts(D::Open, Kind::Directory))
        .await
        .unwrap();
    d.file
        .set_times(SetTimes {
            creation: Some(a),
            last_write: Some(w),
            ..SetTimes::default()
        })
        .await
        .unwrap();
    let s = fs.stat("SUB").await.unwrap();
    assert_eq!((s.creation_time, s.last_write_time), (a, w));
}

/// A new or superseded file's times are one time, as on Windows: its creation time is its
/// write time, and a write made after a stored write time keeps what is stored once it is set
/// again (the server decides when the write time moves).
async fn times_of_a_new_file<F: Vfs>(fs: &F) {
    let o = fs.open("n", &opts(D::Create, Kind::File)).await.unwrap();
    assert_eq!(o.stat.creation_time, o.stat.last_write_time);
    let s = o.file.stat().await.unwrap();
    assert_eq!(s.creation_time, s.last_write_time);
    drop(o);
    let o = fs.open("n", &opts(D::Supersede, Kind::File)).await.unwrap();
    let s = o.file.stat().await.unwrap();
    assert_eq!(s.creation_time, s.last_write_time);
    let w = unix_to_filetime(1_600_000_000, 0);
    o.file.write_at(0, b"x".to_vec()).await.unwrap();
    o.file
        .set_times(SetTimes {
            last_write: Some(w),
            ..SetTimes::default()
        })
        .await
        .unwrap();
    assert_eq!(o.file.stat().await.unwrap().last_write_time, w);
}

async fn sizes<F: Vfs>(fs: &F) {
    let f = fs.open("s", &opts(D::Create, Kind::File)).await.unwrap();
    assert_eq!(f.file.write_at(5, b"abc".to_vec()).await.unwrap(), 3);
    assert_eq!(f.file.read_at(0, 100).await.unwrap(), b"\0\0\0\0\0abc");
    assert_eq!(f.file.read_at(6, 1).await.unwrap(), b"b");
    assert!(f.file.read_at(8, 10).await.unwrap().is_empty());
    assert!(f.file.read_at(1 << 40, 10).await.unwrap().is_empty());
    assert_eq!(f.file.read_at(0, usize::MAX / 2).await.unwrap().len(), 8);
    f.file.set_len(100).await.unwrap();
    assert_eq!(f.file.stat().await.unwrap().size, 100);
    assert_eq!(f.file.read_at(90, 20).await.unwrap(), vec![0u8; 10]);
    f.file.set_len(4).await.unwrap();
    assert_eq!(f.file.stat().await.unwrap().size, 4);
    f.file.allocate(1 << 20).await.unwrap();
    let s = f.file.stat().await.unwrap();
    assert_eq!(s.size, 4);
    assert!(s.allocation_size >= 1 << 20, "{}", s.allocation_size);
    f.file.flush().await.unwrap();
    assert!(matches!(
        err(f.file.write_at(u64::MAX - 1, b"xx".to_vec()).await),
        VfsError::TooLarge
    ));

    let mut o = opts(D::Create, Kind::File);
    o.allocation_size = 65536;
    let g = fs.open("pre", &o).await.unwrap();
    assert_eq!(g.stat.size, 0);
    assert!(g.stat.allocation_size >= 65536);

    // Metadata kept beside a file (a security descriptor) is not data: an empty file shows no
    // allocation and a one-byte file a single block, as on NTFS.
    let e = fs
        .open("meta-only", &opts(D::Create, Kind::File))
        .await
        .unwrap();
    e.file
        .set_meta("security.sd", vec![7u8; 200])
        .await
        .unwrap();
    assert_eq!(e.file.stat().await.unwrap().allocation_size, 0);
    e.file.write_at(0, b"x".to_vec()).await.unwrap();
    e.file.flush().await.unwrap();
    let one = e.file.stat().await.unwrap().allocation_size;
    assert!(one <= u64::from(info_block(fs).await), "{one}");

    let info = fs.fs_info().await.unwrap();
    assert!(info.block_size > 0);
    assert!(info.total_blocks >= info.free_blocks && info.free_blocks >= info.available_blocks);
}

/// The file system's block size.
async fn info_block<F: Vfs>(fs: &F) -> u32 {
    fs.fs_info().await.unwrap().block_size
}

async fn meta_blobs<F: Vfs>(fs: &F) {
    create_file(fs, "m", b"").await;
    let f = fs.open("m", &opts(D::Open, Kind::File)).await.unwrap();
    assert_eq!(f.file.get_meta("security.sd").await.unwrap(), None);
    f.file.set_meta("security.sd", vec![1, 2, 3]).await.unwrap();
    f.file.set_meta("security.sd", vec![4, 5]).await.unwrap();
    f.file.set_meta("other", vec![]).await.unwrap();
    drop(f);
    let f = fs
        .open("M", &vfs::OpenOptions::read_existing())
        .await
        .unwrap();
    assert_eq!(
        f.file.get_meta("security.sd").await.unwrap(),
        Some(vec![4, 5])
    );
    assert_eq!(f.file.get_meta("other").await.unwrap(), Some(vec![]));
    let d = fs.open("", &opts(D::Open, Kind::Directory)).await.unwrap();
    d.file.set_meta("security.sd", vec![9]).await.unwrap();
    let d = fs.open("", &opts(D::Open, Kind::Directory)).await.unwrap();
    assert_eq!(d.file.get_meta("security.sd").await.unwrap(), Some(vec![9]));
}

/// Reads with headroom (zeroed, data after it, short at end of file, empty past it) and
/// writes from a slice of a shared buffer.
async fn data_path<F: Vfs>(fs: &F) {
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let frame = bytes::Bytes::from([&[0xEEu8; 100][..], &data].concat());
    let o = fs.open("d", &opts(D::Create, Kind::File)).await.unwrap();
    let n = o.file.write_bytes(0, frame.slice(100..)).await.unwrap();
    assert_eq!(n, data.len());
    let buf = o
        .file
        .read_at_with_headroom(1000, 200_000, 136)
        .await
        .unwrap();
    assert_eq!(buf.len(), 136 + 200_000);
    assert!(buf[..136].iter().all(|&b| b == 0));
    assert_eq!(&buf[136..], &data[1000..201_000]);
    let tail = o.file.read_at_with_headroom(299_990, 100, 8).await.unwrap();
    assert_eq!(&tail[8..], &data[299_990..]);
    let past = o.file.read_at_with_headroom(400_000, 100, 8).await.unwrap();
    assert_eq!(past, vec![0u8; 8]);
    assert_eq!(read_all(fs, "d").await, data);
}

/// Overwriting and superseding act on an open handle: the data goes, the attributes are the
/// new ones plus ARCHIVE, the file is the same one (same id), and a directory refuses.
async fn overwrite_in_place<F: Vfs>(fs: &F) {
    create_file(fs, "o.txt", b"0123456789").await;
    let o = fs.open("o.txt", &opts(D::Open, Kind::File)).await.unwrap();
    o.file.set_attributes(attr::HIDDEN).await.unwrap();
    let before = o.file.stat().await.unwrap();
    o.file
        .set_times(SetTimes {
            creation: Some(unix_to_filetime(1_000_000_000, 0)),
            ..SetTimes::default()
        })
        .await
        .unwrap();
    o.file.overwrite(attr::SYSTEM, 0, false).await.unwrap();
    let st = o.file.stat().await.unwrap();
    assert_eq!(st.size, 0);
    assert_eq!(st.file_id, before.file_id);
    assert_eq!(st.attributes, attr::SYSTEM | attr::ARCHIVE);
    assert_eq!(st.creation_time, unix_to_filetime(1_000_000_000, 0));
    assert_eq!(read_all(fs, "o.txt").await, b"");
    o.file.write_at(0, b"abc".to_vec()).await.unwrap();
    o.file.overwrite(0, 0, true).await.unwrap();
    let st = o.file.stat().await.unwrap();
    assert_eq!((st.size, st.attributes), (0, attr::ARCHIVE));
    assert!(
        st.creation_time > unix_to_filetime(1_000_000_000, 0),
        "superseding resets it"
    );
    let d = fs
        .open("od", &opts(D::Create, Kind::Directory))
        .await
        .unwrap();
    assert!(matches!(
        err(d.file.overwrite(0, 0, false).await),
        VfsError::IsADirectory
    ));
}

/// Names resolve by the one fold, `vfs::fold_name`: U+017F (long s) upper-cases to S.
async fn unicode_case<F: Vfs>(fs: &F) {
    create_file(fs, "secret.txt", b"s").await;
    let o = fs
        .open("\u{17F}ECRET.txt", &opts(D::Open, Kind::File))
        .await
        .unwrap();
    assert_eq!(o.path, "secret.txt");
    assert_eq!(
        vfs::fold_name("\u{17F}ecret.txt"),
        vfs::fold_name(&o.path),
        "the server's tables fold the same way"
    );
    create_file(fs, "\u{10428}.txt", b"d").await;
    // Beyond the BMP nothing folds: the Deseret capital is another name.
    assert!(matches!(
        err(fs.open("\u{10400}.txt", &opts(D::Open, Kind::File)).await),
        VfsError::NotFound
    ));
}

on_every_backend!("behaviour"; dispositions kinds bad_paths case_insensitive listing renames removal attributes times times_of_a_new_file sizes meta_blobs data_path overwrite_in_place unicode_case);
