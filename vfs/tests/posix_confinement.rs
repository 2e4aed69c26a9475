//! POSIX-only behaviour: confinement beneath the root, symlinks, the case cache against
//! renames and outside changes, attributes of files made outside the server.

mod common;

use common::{TempDir, err, opts};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use vfs::posix::PosixFs;
use vfs::{Disposition as D, Kind, Vfs, VfsError, attr};

/// Both resolution strategies over a fresh root.
fn backends(tag: &str) -> Vec<(bool, PosixFs, TempDir)> {
    let a = TempDir::new(&format!("{tag}-o2"));
    let b = TempDir::new(&format!("{tag}-walk"));
    vec![
        (true, PosixFs::new(a.0.clone()).unwrap(), a),
        (false, PosixFs::new_without_openat2(b.0.clone()).unwrap(), b),
    ]
}

async fn names(fs: &PosixFs, dir: &str) -> Vec<String> {
    let o = fs.open(dir, &opts(D::Open, Kind::Directory)).await.unwrap();
    o.file
        .read_dir(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dotdot_and_absolute_refused() {
    for (_, fs, root) in backends("dotdot") {
        for p in ["..", "../x", "a/../../x", "/etc/passwd", "/tmp"] {
            assert!(matches!(
                err(fs.open(p, &opts(D::OpenIf, Kind::File)).await),
                VfsError::Escape
            ));
            assert!(matches!(err(fs.stat(p).await), VfsError::Escape));
        }
        assert!(!root.0.parent().unwrap().join("x").exists());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlinks_out_of_root_refused() {
    let outside = TempDir::new("outside");
    std::fs::write(outside.0.join("secret"), b"secret").unwrap();
    let out_name = outside.0.file_name().unwrap().to_str().unwrap().to_owned();
    for (_, fs, root) in backends("escape") {
        symlink(&outside.0, root.0.join("out")).unwrap();
        symlink(format!("../{out_name}"), root.0.join("rel_out")).unwrap();
        symlink(outside.0.join("secret"), root.0.join("secret_link")).unwrap();
        for p in [
            "out/secret",
            "rel_out/secret",
            "OUT/SECRET",
            "secret_link",
            "out",
            "rel_out",
        ] {
            // The open stops at the link and says where it points, never following it.
            let e = err(fs.open(p, &opts(D::Open, Kind::Any)).await);
            let VfsError::Symlink(stop) = e else {
                panic!("{p}: {e:?}");
            };
            assert_eq!(stop.component, 0, "{p}");
            let expected = match p.split('/').next().unwrap().to_lowercase().as_str() {
                "out" => outside.0.to_str().unwrap().to_owned(),
                "rel_out" => format!("../{out_name}"),
                _ => outside.0.join("secret").to_str().unwrap().to_owned(),
            };
            assert_eq!(stop.target, expected, "{p}");
            assert!(fs.stat(p).await.is_err(), "{p}");
        }
        assert!(
            fs.open("out/new", &opts(D::Create, Kind::File))
                .await
                .is_err()
        );
        assert!(
            fs.open("rel_out/newdir", &opts(D::Create, Kind::Directory))
                .await
                .is_err()
        );
        assert!(
            fs.open("secret_link", &opts(D::Overwrite, Kind::File))
                .await
                .is_err()
        );
        assert!(
            fs.open("secret_link", &opts(D::Supersede, Kind::File))
                .await
                .is_err()
        );
        assert!(fs.rename("out/secret", "stolen", false).await.is_err());
        assert!(!outside.0.join("new").exists() && !outside.0.join("newdir").exists());
        assert_eq!(std::fs::read(outside.0.join("secret")).unwrap(), b"secret");
        // Listing the root neither fails nor shows what lies outside.
        let listed = names(&fs, "").await;
        assert!(
            listed
                .iter()
                .all(|n| n != "out" && n != "rel_out" && n != "secret_link")
        );
        // The links themselves may be removed: they live inside the root.
        fs.remove("out").await.unwrap();
        assert!(outside.0.join("secret").exists());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlinks_inside_root_followed_or_refused_consistently() {
    for (openat2, fs, root) in backends("inside") {
        std::fs::write(root.0.join("target.txt"), b"T").unwrap();
        std::fs::create_dir(root.0.join("sub")).unwrap();
        std::fs::write(root.0.join("sub/in.txt"), b"I").unwrap();
        symlink("target.txt", root.0.join("lnk")).unwrap();
        symlink("sub", root.0.join("dlnk")).unwrap();
        symlink("../target.txt", root.0.join("sub/up")).unwrap();
        symlink("missing", root.0.join("dangling")).unwrap();

        let listed = names(&fs, "").await;
        assert!(!listed.contains(&"dangling".to_owned()));
        let sub_listed = names(&fs, "sub").await;
        if openat2 {
            let o = fs.open("LNK", &opts(D::Open, Kind::File)).await.unwrap();
            assert_eq!(o.file.read_at(0, 10).await.unwrap(), b"T");
            let t = fs.stat("target.txt").await.unwrap();
            assert_eq!(o.stat.file_id, t.file_id);
            let o = fs
                .open("dlnk/IN.TXT", &opts(D::Open, Kind::File))
                .await
                .unwrap();
            assert_eq!(o.file.read_at(0, 10).await.unwrap(), b"I");
            let o = fs.open("sub/up", &opts(D::Open, Kind::File)).await.unwrap();
            assert_eq!(o.file.read_at(0, 10).await.unwrap(), b"T");
            assert!(listed.contains(&"lnk".to_owned()) && listed.contains(&"dlnk".to_owned()));
            assert!(sub_listed.contains(&"up".to_owned()));
            let o = fs.open("", &opts(D::Open, Kind::Directory)).await.unwrap();
            let all = o.file.read_dir(0, 100).await.unwrap();
            let lnk = all.iter().find(|e| e.name == "lnk").unwrap();
            assert_eq!(lnk.stat.file_id, t.file_id);
            assert!(all.iter().find(|e| e.name == "dlnk").unwrap().stat.is_dir);
            assert!(matches!(
                err(fs.open("dangling", &opts(D::Open, Kind::Any)).await),
                VfsError::NotFound
            ));
        } else {
            for p in ["lnk", "dlnk/in.txt", "sub/up", "dangling"] {
                assert!(fs.open(p, &opts(D::Open, Kind::Any)).await.is_err(), "{p}");
            }
            assert!(!listed.contains(&"lnk".to_owned()) && !listed.contains(&"dlnk".to_owned()));
            assert!(!sub_listed.contains(&"up".to_owned()));
        }
        assert!(listed.contains(&"target.txt".to_owned()) && listed.contains(&"sub".to_owned()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_cache_follows_renames_and_outside_changes() {
    for (_, fs, root) in backends("cache") {
        fs.open("Dir", &opts(D::Create, Kind::Directory))
            .await
            .unwrap();
        fs.open("Dir/File.txt", &opts(D::Create, Kind::File))
            .await
            .unwrap();
        // Misses build the cache for the root and for Dir.
        let o = fs
            .open("dir/file.TXT", &opts(D::Open, Kind::Any))
            .await
            .unwrap();
        assert_eq!(o.path, "Dir/File.txt");
        fs.rename("DIR", "Other", false).await.unwrap();
        let o = fs
            .open("other/FILE.TXT", &opts(D::Open, Kind::Any))
            .await
            .unwrap();
        assert_eq!(o.path, "Other/File.txt");
        assert!(matches!(
            err(fs.open("dir/file.txt", &opts(D::Open, Kind::Any)).await),
            VfsError::PathNotFound
        ));

        // Changes made behind the server's back are seen (the cache checks the dir's mtime).
        std::fs::rename(root.0.join("Other"), root.0.join("Moved")).unwrap();
        assert!(fs.stat("other").await.is_err());
        assert_eq!(
            fs.open("MOVED/file.txt", &opts(D::Open, Kind::Any))
                .await
                .unwrap()
                .path,
            "Moved/File.txt"
        );
        std::fs::write(root.0.join("Moved/Late.bin"), b"").unwrap();
        assert!(fs.stat("moved/late.BIN").await.is_ok());
        std::fs::remove_file(root.0.join("Moved/Late.bin")).unwrap();
        assert!(matches!(
            err(fs.stat("moved/late.bin").await),
            VfsError::NotFound
        ));

        // Names differing only in case on disk: the exact one wins, else one is chosen stably.
        std::fs::write(root.0.join("ab"), b"lower").unwrap();
        std::fs::write(root.0.join("AB"), b"upper").unwrap();
        assert_eq!(
            fs.open("ab", &opts(D::Open, Kind::Any)).await.unwrap().path,
            "ab"
        );
        assert_eq!(
            fs.open("AB", &opts(D::Open, Kind::Any)).await.unwrap().path,
            "AB"
        );
        assert_eq!(
            fs.open("Ab", &opts(D::Open, Kind::Any)).await.unwrap().path,
            "AB"
        );
        fs.remove("AB").await.unwrap();
        assert_eq!(
            fs.open("Ab", &opts(D::Open, Kind::Any)).await.unwrap().path,
            "ab"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handles_survive_renames_and_attributes_survive_restart() {
    let root = TempDir::new("persist");
    let fs = PosixFs::new(root.0.clone()).unwrap();
    fs.open("d", &opts(D::Create, Kind::Directory))
        .await
        .unwrap();
    let mut o = opts(D::Create, Kind::File);
    o.attributes = attr::HIDDEN | attr::SYSTEM;
    let f = fs.open("d/f", &o).await.unwrap();
    let created = f.stat.creation_time;
    fs.rename("d", "e", false).await.unwrap();
    f.file.write_at(0, b"after".to_vec()).await.unwrap();
    f.file.flush().await.unwrap();
    drop(f);
    drop(fs);
    let fs = PosixFs::new(root.0.clone()).unwrap();
    let s = fs.stat("E/F").await.unwrap();
    assert_eq!(s.size, 5);
    assert_eq!(s.attributes, attr::HIDDEN | attr::SYSTEM | attr::ARCHIVE);
    assert_eq!(s.creation_time, created);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_files_get_default_attributes() {
    let root = TempDir::new("defaults");
    std::fs::write(root.0.join("plain"), b"p").unwrap();
    std::fs::write(root.0.join("ro"), b"r").unwrap();
    std::fs::set_permissions(root.0.join("ro"), std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::create_dir(root.0.join("dir")).unwrap();
    let fs = PosixFs::new(root.0.clone()).unwrap();
    let plain = fs.stat("plain").await.unwrap();
    assert_eq!(plain.attributes, attr::ARCHIVE);
    assert_eq!(plain.links, 1);
    assert!(plain.creation_time > 0 && plain.file_id != 0);
    assert_eq!(
        fs.stat("ro").await.unwrap().attributes,
        attr::ARCHIVE | attr::READONLY
    );
    assert_eq!(fs.stat("dir").await.unwrap().attributes, attr::DIRECTORY);
    // Special files are neither listed nor opened.
    let fifo = root.0.join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    if made && Path::new(&fifo).exists() {
        assert!(!names(&fs, "").await.contains(&"fifo".to_owned()));
        assert!(matches!(
            err(fs.open("fifo", &opts(D::Open, Kind::Any)).await),
            VfsError::AccessDenied
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_handles_refuse_writes() {
    let root = TempDir::new("ro-handle");
    let fs = PosixFs::new(root.0.clone()).unwrap();
    fs.open("f", &opts(D::Create, Kind::File)).await.unwrap();
    let f = fs
        .open("f", &vfs::OpenOptions::read_existing())
        .await
        .unwrap();
    assert!(matches!(
        err(f.file.write_at(0, b"x".to_vec()).await),
        VfsError::AccessDenied
    ));
    assert!(matches!(
        err(f.file.set_len(3).await),
        VfsError::AccessDenied
    ));
    assert!(f.file.read_at(0, 4).await.unwrap().is_empty());
    assert!(matches!(
        err(f.file.set_meta("bad name", vec![]).await),
        VfsError::InvalidName
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_cache_kept_current_by_concurrent_own_changes() {
    for (_, fs, _root) in backends("cache-own") {
        let fs = std::sync::Arc::new(fs);
        fs.open("D", &opts(D::Create, Kind::Directory))
            .await
            .unwrap();
        // A miss builds the cache of D; then 32 creates race in it.
        assert!(fs.stat("d/none").await.is_err());
        let tasks: Vec<_> = (0..32)
            .map(|i| {
                let fs = fs.clone();
                tokio::spawn(async move {
                    fs.open(&format!("D/Name{i}.Txt"), &opts(D::Create, Kind::File))
                        .await
                        .map(|_| ())
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        for i in 0..32 {
            let o = fs
                .open(&format!("d/NAME{i}.txt"), &opts(D::Open, Kind::Any))
                .await
                .unwrap();
            assert_eq!(o.path, format!("D/Name{i}.Txt"));
        }
        // Removals are seen too.
        fs.remove("D/Name3.Txt").await.unwrap();
        assert!(matches!(
            err(fs.open("d/name3.TXT", &opts(D::Open, Kind::Any)).await),
            VfsError::NotFound
        ));
    }
}
