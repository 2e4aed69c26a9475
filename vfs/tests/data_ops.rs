//! Server-side copy, reflinks, sparse files and hard links, run against every backend: MemFs,
//! PosixFs (openat2) and PosixFs (the component-walk fallback).

#[macro_use]
mod common;

use common::{TempDir, err, opts};
use vfs::{DataRange, Disposition as D, FileRef, Kind, Vfs, VfsError, attr};

async fn file_with<F: Vfs>(fs: &F, path: &str, data: &[u8]) -> FileRef {
    let o = fs.open(path, &opts(D::Create, Kind::File)).await.unwrap();
    o.file.write_at(0, data.to_vec()).await.unwrap();
    o.file
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

async fn copies<F: Vfs>(fs: &F) {
    let data = pattern(3 << 20);
    let src = file_with(fs, "src", &data).await;
    let dst = file_with(fs, "dst", b"").await;
    // A whole copy, larger than one bounce buffer.
    let n = dst
        .copy_range_from(&src, 0, 0, data.len() as u64)
        .await
        .unwrap();
    assert_eq!(n, data.len() as u64);
    assert_eq!(dst.read_at(0, data.len()).await.unwrap(), data);
    // Past a gap: the target grows; a copy that runs past the source's end stops there.
    let n = dst.copy_range_from(&src, 100, 4 << 20, 200).await.unwrap();
    assert_eq!(n, 200);
    assert_eq!(dst.stat().await.unwrap().size, (4 << 20) + 200);
    assert_eq!(dst.read_at(4 << 20, 200).await.unwrap(), &data[100..300]);
    let n = dst
        .copy_range_from(&src, (3 << 20) - 10, 0, 100)
        .await
        .unwrap();
    assert_eq!(n, 10);
    assert_eq!(dst.copy_range_from(&src, 5 << 20, 0, 100).await.unwrap(), 0);
}

async fn overlapping_copy<F: Vfs>(fs: &F) {
    let data = pattern(8192);
    let f = file_with(fs, "f", &data).await;
    // Target after the source, overlapping: as if the whole source were read first.
    assert_eq!(f.copy_range_from(&f, 0, 2040, 2048).await.unwrap(), 2048);
    let got = f.read_at(0, 8192).await.unwrap();
    assert_eq!(&got[..2040], &data[..2040]);
    assert_eq!(&got[2040..4088], &data[..2048]);
    // Target before the source, overlapping.
    let f = file_with(fs, "g", &data).await;
    assert_eq!(f.copy_range_from(&f, 1000, 0, 4000).await.unwrap(), 4000);
    assert_eq!(f.read_at(0, 4000).await.unwrap(), &data[1000..5000]);
}

async fn clones<F: Vfs>(fs: &F) {
    let data = pattern(65536);
    let src = file_with(fs, "src", &data).await;
    let dst = file_with(fs, "dst", b"").await;
    // Whether extents can be shared depends on the file system; either way the answer is
    // clean, and a clone that happens copies the data.
    match dst.clone_range_from(&src, 0, 0, 65536).await {
        Ok(()) => assert_eq!(dst.read_at(0, 65536).await.unwrap(), data),
        Err(e) => assert!(matches!(e, VfsError::Unsupported), "{e:?}"),
    }
}

async fn sparse_flag<F: Vfs>(fs: &F) {
    let f = file_with(fs, "s", b"x").await;
    assert_eq!(f.stat().await.unwrap().attributes & attr::SPARSE_FILE, 0);
    f.set_sparse(true).await.unwrap();
    assert_ne!(f.stat().await.unwrap().attributes & attr::SPARSE_FILE, 0);
    // Setting the DOS attributes keeps it; only set_sparse clears it.
    f.set_attributes(attr::HIDDEN).await.unwrap();
    let a = f.stat().await.unwrap().attributes;
    assert_eq!(
        a & (attr::SPARSE_FILE | attr::HIDDEN),
        attr::SPARSE_FILE | attr::HIDDEN
    );
    assert_ne!(
        fs.stat("s").await.unwrap().attributes & attr::SPARSE_FILE,
        0
    );
    f.set_sparse(false).await.unwrap();
    assert_eq!(f.stat().await.unwrap().attributes & attr::SPARSE_FILE, 0);
    let d = fs
        .open("d", &opts(D::Create, Kind::Directory))
        .await
        .unwrap();
    assert!(matches!(
        err(d.file.set_sparse(true).await),
        VfsError::IsADirectory
    ));
}

async fn zeroing<F: Vfs>(fs: &F) {
    let data = vec![0xAB; 1 << 20];
    let f = file_with(fs, "z", &data).await;
    f.set_sparse(true).await.unwrap();
    f.zero_range(65536, 131072, true).await.unwrap();
    // Past the end of file nothing changes, and the size never does.
    f.zero_range(2 << 20, 4096, true).await.unwrap();
    let got = f.read_at(0, 1 << 20).await.unwrap();
    assert_eq!(got.len(), 1 << 20);
    assert!(got[..65536].iter().all(|&b| b == 0xAB));
    assert!(got[65536..196608].iter().all(|&b| b == 0));
    assert!(got[196608..].iter().all(|&b| b == 0xAB));
    let ranges = f.allocated_ranges(0, u64::MAX, 16).await.unwrap();
    let covered: u64 = ranges.iter().map(|r| r.length).sum();
    // Every byte of data is in a range; a backend that punched the hole leaves it out.
    assert!(
        covered == 1 << 20 || covered == (1 << 20) - 131072,
        "{ranges:?}"
    );
    assert_eq!(f.stat().await.unwrap().size, 1 << 20);
}

async fn ranges<F: Vfs>(fs: &F) {
    let f = file_with(fs, "r", &[1u8; 100]).await;
    // Clipped to the query and the end of file; nothing past it, nothing for an empty query.
    assert_eq!(
        f.allocated_ranges(10, 1000, 4).await.unwrap(),
        vec![DataRange {
            offset: 10,
            length: 90
        }]
    );
    assert!(f.allocated_ranges(100, 10, 4).await.unwrap().is_empty());
    assert!(f.allocated_ranges(0, 0, 4).await.unwrap().is_empty());
    assert!(f.allocated_ranges(0, 10, 0).await.unwrap().is_empty());
    let e = file_with(fs, "empty", b"").await;
    assert!(e.allocated_ranges(0, 1 << 20, 4).await.unwrap().is_empty());
}

async fn hard_links<F: Vfs>(fs: &F) {
    file_with(fs, "a", b"one").await;
    fs.open("dir", &opts(D::Create, Kind::Directory))
        .await
        .unwrap();
    fs.link("a", "dir/b", false).await.unwrap();
    assert_eq!(fs.stat("a").await.unwrap().links, 2);
    assert_eq!(
        fs.stat("dir/b").await.unwrap().file_id,
        fs.stat("a").await.unwrap().file_id
    );
    let b = fs.open("DIR/B", &opts(D::Open, Kind::File)).await.unwrap();
    assert_eq!(b.file.read_at(0, 10).await.unwrap(), b"one");
    // An existing name is kept unless replacing; a directory is never linked or replaced.
    file_with(fs, "c", b"two").await;
    assert!(matches!(
        err(fs.link("a", "c", false).await),
        VfsError::Exists
    ));
    fs.link("a", "c", true).await.unwrap();
    assert_eq!(fs.stat("c").await.unwrap().links, 3);
    assert!(matches!(
        err(fs.link("dir", "e", false).await),
        VfsError::IsADirectory
    ));
    assert!(matches!(
        err(fs.link("a", "dir", true).await),
        VfsError::AccessDenied
    ));
    assert!(matches!(
        err(fs.link("nope", "f", false).await),
        VfsError::NotFound
    ));
    // Linking a name to its own file is a no-op.
    fs.link("a", "dir/b", true).await.unwrap();
    // Removing one name leaves the others; renaming one moves only it.
    fs.remove("a").await.unwrap();
    assert_eq!(fs.stat("c").await.unwrap().links, 2);
    fs.rename("c", "d", false).await.unwrap();
    assert_eq!(fs.stat("dir/b").await.unwrap().links, 2);
    assert!(matches!(err(fs.stat("c").await), VfsError::NotFound));
    fs.remove("dir/b").await.unwrap();
    let d = fs.open("d", &opts(D::Open, Kind::File)).await.unwrap();
    assert_eq!(d.stat.links, 1);
    assert_eq!(d.file.read_at(0, 10).await.unwrap(), b"one");
}

on_every_backend!("data"; copies overlapping_copy clones sparse_flag zeroing ranges hard_links);

/// On a file system that punches holes (ext4, xfs, btrfs, tmpfs), a zeroed range of a sparse
/// file is a hole: it is no longer reported as data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posix_punched_hole_is_not_data() {
    let dir = TempDir::new("hole");
    let fs = vfs::posix::PosixFs::new(dir.0.clone()).unwrap();
    let f = file_with(&fs, "h", &vec![7u8; 1 << 20]).await;
    f.flush().await.unwrap();
    // Not deallocating: zeros are written, and the data map stays whole.
    f.zero_range(0, 4096, false).await.unwrap();
    assert_eq!(f.allocated_ranges(0, 1 << 20, 8).await.unwrap().len(), 1);
    assert_eq!(f.read_at(0, 4096).await.unwrap(), vec![0u8; 4096]);
    f.zero_range(256 << 10, 256 << 10, true).await.unwrap();
    let ranges = f.allocated_ranges(0, 1 << 20, 8).await.unwrap();
    assert_eq!(
        ranges,
        vec![
            DataRange {
                offset: 0,
                length: 256 << 10
            },
            DataRange {
                offset: 512 << 10,
                length: 512 << 10
            }
        ]
    );
    // The answer is cut at `max`.
    assert_eq!(f.allocated_ranges(0, 1 << 20, 1).await.unwrap().len(), 1);
    assert!(f.stat().await.unwrap().allocation_size <= 768 << 10);
}

/// Snapshots are the `@GMT-…` folders of the snapshot directory, newest first; each is served
/// as a tree of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posix_snapshots() {
    let dir = TempDir::new("snaps");
    let (live, snaps) = (dir.0.join("live"), dir.0.join("snaps"));
    for d in [
        "@GMT-2024.01.01-00.00.00",
        "@GMT-2025.06.30-12.00.00",
        "not-a-snapshot",
    ] {
        std::fs::create_dir_all(snaps.join(d)).unwrap();
    }
    std::fs::create_dir_all(&live).unwrap();
    std::fs::write(snaps.join("@GMT-2024.01.01-00.00.00/f"), b"old").unwrap();
    let fs = vfs::posix::PosixFs::new(live.clone()).unwrap();
    assert!(fs.snapshots().await.unwrap().is_empty());
    let fs = fs.with_snapshot_dir(snaps);
    assert_eq!(
        fs.snapshots().await.unwrap(),
        ["@GMT-2025.06.30-12.00.00", "@GMT-2024.01.01-00.00.00"]
    );
    let old = fs.snapshot("@GMT-2024.01.01-00.00.00").await.unwrap();
    let f = old.open("F", &opts(D::Open, Kind::File)).await.unwrap();
    assert_eq!(f.file.read_at(0, 10).await.unwrap(), b"old");
    for bad in ["@GMT-2023.01.01-00.00.00", "not-a-snapshot", "../live"] {
        assert!(
            matches!(err(fs.snapshot(bad).await), VfsError::NotFound),
            "{bad}"
        );
    }
}

/// FILE_OPEN_REPARSE_POINT opens a symbolic link itself, inside or leading out of the share:
/// it shows FILE_ATTRIBUTE_REPARSE_POINT and gives its target; without it an inside link is
/// followed and a file is no link.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posix_symlinks_opened_themselves() {
    let dir = TempDir::new("links");
    std::fs::write(dir.0.join("target.txt"), b"T").unwrap();
    std::os::unix::fs::symlink("target.txt", dir.0.join("in")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.0.join("out")).unwrap();
    let fs = vfs::posix::PosixFs::new(dir.0.clone()).unwrap();
    let reparse = vfs::OpenOptions {
        reparse_point: true,
        ..vfs::OpenOptions::read_existing()
    };
    for (name, target) in [("in", "target.txt"), ("OUT", "/etc/passwd")] {
        let o = fs.open(name, &reparse).await.unwrap();
        assert_ne!(o.stat.attributes & attr::REPARSE_POINT, 0, "{name}");
        assert_eq!(
            o.file.symlink_target().await.unwrap().as_deref(),
            Some(target)
        );
        assert!(o.file.read_at(0, 1).await.is_err());
    }
    let followed = fs
        .open("in", &vfs::OpenOptions::read_existing())
        .await
        .unwrap();
    assert_eq!(followed.file.read_at(0, 1).await.unwrap(), b"T");
    assert_eq!(followed.file.symlink_target().await.unwrap(), None);
    let file = fs.open("target.txt", &reparse).await.unwrap();
    assert_eq!(file.file.symlink_target().await.unwrap(), None);
    assert_eq!(file.stat.attributes & attr::REPARSE_POINT, 0);
    // A link is never overwritten through this open.
    let overwrite = vfs::OpenOptions {
        disposition: D::Overwrite,
        write: true,
        ..reparse
    };
    assert!(matches!(
        err(fs.open("out", &overwrite).await),
        VfsError::AccessDenied
    ));
    // An empty file becomes a link and back; a file with data or a directory does not.
    file_with(&fs, "e", b"").await;
    fs.make_symlink("E", "../elsewhere").await.unwrap();
    let l = fs.open("e", &reparse).await.unwrap();
    assert_eq!(
        l.file.symlink_target().await.unwrap().as_deref(),
        Some("../elsewhere")
    );
    fs.unmake_symlink("e").await.unwrap();
    assert!(
        std::fs::symlink_metadata(dir.0.join("e"))
            .unwrap()
            .is_file()
    );
    assert!(matches!(
        err(fs.unmake_symlink("e").await),
        VfsError::AccessDenied
    ));
    assert!(matches!(
        err(fs.make_symlink("target.txt", "x").await),
        VfsError::NotEmpty
    ));
    std::fs::create_dir(dir.0.join("d")).unwrap();
    assert!(matches!(
        err(fs.make_symlink("d", "x").await),
        VfsError::IsADirectory
    ));
    let names: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.to_string_lossy().starts_with(".smbd")),
        "{names:?}"
    );
}
