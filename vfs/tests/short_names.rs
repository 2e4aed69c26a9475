//! 8.3 short names and tunneling, run against every backend: MemFs, PosixFs (openat2) and
//! PosixFs (the component-walk fallback).

#[macro_use]
mod common;

use common::{err, opts};
use std::collections::HashSet;
use vfs::short_names::alone;
use vfs::{Disposition as D, Kind, Vfs, VfsError};

async fn create<F: Vfs>(fs: &F, path: &str, kind: Kind) -> String {
    fs.open(path, &opts(D::Create, kind)).await.unwrap().path
}

async fn open_path<F: Vfs>(fs: &F, path: &str) -> VfsResult {
    fs.open(path, &opts(D::Open, Kind::Any))
        .await
        .map(|o| o.path)
}

type VfsResult = Result<String, VfsError>;

/// A name that is valid 8.3 has none; others have the generated one, in listings too, and it
/// names the file (as the last component or a directory on the way), in any case.
async fn both_directions<F: Vfs>(fs: &F) {
    let long = "A long file name.txt";
    create(fs, long, Kind::File).await;
    create(fs, "short.txt", Kind::File).await;
    create(fs, "Long directory name", Kind::Directory).await;
    create(fs, "Long directory name/inner file.doc", Kind::File).await;
    let short = fs.short_name(long).await.unwrap().unwrap();
    assert_eq!(Some(short.clone()), alone(long));
    assert_eq!(fs.short_name("short.txt").await.unwrap(), None);
    assert_eq!(fs.short_name("").await.unwrap(), None, "the root");
    assert!(matches!(
        err(fs.short_name("nothing here.txt").await),
        VfsError::NotFound
    ));
    assert_eq!(open_path(fs, &short).await.unwrap(), long);
    assert_eq!(
        open_path(fs, &short.to_ascii_lowercase()).await.unwrap(),
        long
    );
    let dir_short = fs.short_name("long directory name").await.unwrap().unwrap();
    let inner = format!("{dir_short}/inner file.doc");
    assert_eq!(
        open_path(fs, &inner).await.unwrap(),
        "Long directory name/inner file.doc"
    );
    let inner_short = fs
        .short_name("long directory name/inner file.doc")
        .await
        .unwrap()
        .unwrap();
    let inner_stat = fs.stat(&format!("{dir_short}/{inner_short}")).await;
    assert!(!inner_stat.unwrap().is_dir);

    let dir = fs.open("", &opts(D::Open, Kind::Directory)).await.unwrap();
    let entries = dir.file.read_dir(0, 100).await.unwrap();
    for e in &entries {
        assert_eq!(
            e.short_name,
            fs.short_name(&e.name).await.unwrap(),
            "{}",
            e.name
        );
    }
    assert!(
        entries
            .iter()
            .any(|e| e.short_name.as_deref() == Some(short.as_str()))
    );
    // A short name that names nothing is not found; creating under it makes that very name.
    let other = alone("no such long name").unwrap();
    assert!(matches!(
        err(open_path(fs, &other).await),
        VfsError::NotFound
    ));
    assert_eq!(create(fs, &other, Kind::File).await, other);
}

/// A valid 8.3 file whose name has the generated form keeps it; the long name whose short name
/// that would have been takes the next digit.
async fn a_real_name_takes_the_digit<F: Vfs>(fs: &F) {
    let long = "Quarterly report.xlsx";
    let first = alone(long).unwrap();
    create(fs, &first, Kind::File).await;
    create(fs, long, Kind::File).await;
    let second = fs.short_name(long).await.unwrap().unwrap();
    assert_eq!(second, first.replace("~1", "~2"));
    assert_eq!(open_path(fs, &first).await.unwrap(), first);
    assert_eq!(open_path(fs, &second).await.unwrap(), long);
}

/// Every name of a large directory has its own short name, which opens it.
async fn distinct_in_a_directory<F: Vfs>(fs: &F) {
    create(fs, "d", Kind::Directory).await;
    let mut seen = HashSet::new();
    for i in 0..300 {
        let name = format!("d/profile_{i:05}.vhdx");
        create(fs, &name, Kind::File).await;
        let short = fs.short_name(&name).await.unwrap().unwrap();
        assert!(seen.insert(short.clone()), "{short} twice");
        assert_eq!(open_path(fs, &format!("d/{short}")).await.unwrap(), name);
    }
}

/// A name removed or renamed away leaves its short name behind for a moment: a file created
/// (or renamed in) under it gets the long name back.
async fn tunneling<F: Vfs>(fs: &F) {
    let long = "Budget for next year.docx";
    create(fs, long, Kind::File).await;
    let short = fs.short_name(long).await.unwrap().unwrap();
    fs.remove(&short).await.unwrap();
    assert!(matches!(err(open_path(fs, long).await), VfsError::NotFound));
    assert_eq!(create(fs, &short, Kind::File).await, long);
    // Renamed away, then something renamed in under the short name.
    fs.rename(long, "elsewhere.tmp", false).await.unwrap();
    fs.rename("elsewhere.tmp", &short.to_ascii_lowercase(), false)
        .await
        .unwrap();
    assert_eq!(open_path(fs, long).await.unwrap(), long);
    // Only in the same directory.
    create(fs, "sub", Kind::Directory).await;
    fs.remove(long).await.unwrap();
    assert_eq!(
        create(fs, &format!("sub/{short}"), Kind::File).await,
        format!("sub/{short}")
    );
}

on_every_backend!("short"; both_directions a_real_name_takes_the_digit distinct_in_a_directory tunneling);
