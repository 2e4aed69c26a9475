//! Alternate data streams through whole requests over MemFs: names, create and open, I/O,
//! share modes per stream, delete-pending per file and per stream, renames, listing, and the
//! access check against the file's descriptor.

use super::file_tests::{
    CREATE, Client, Create, DELETE, DELETE_ON_CLOSE, DIRECTORY, FILE_ALL, Fid, OK, OPEN, OPEN_IF,
    READ_ATTRIBUTES, READ_DATA, SHARE_ALL, WRITE_DATA, client,
};
use crate::proto::NtStatus;
use crate::proto::header::Command;
use vfs::Vfs;

/// OVERWRITE_IF.
const OVERWRITE_IF: u32 = 5;

impl Client {
    /// FileStreamInformation of `f`: (name, size) of each entry.
    async fn streams(&mut self, f: Fid) -> Vec<(String, u64)> {
        let mut b = vec![41, 0, 1, 22];
        b.extend_from_slice(&65536u32.to_le_bytes());
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(&f);
        let (st, r) = self.request(Command::QueryInfo, &b).await;
        assert_eq!(st, OK, "query streams");
        let off = u16::from_le_bytes([r[66], r[67]]) as usize;
        let len = u32::from_le_bytes(r[68..72].try_into().unwrap()) as usize;
        let buf = &r[off..off + len];
        let mut out = Vec::new();
        let mut at = 0;
        while at < buf.len() {
            let e = &buf[at..];
            let next = u32::from_le_bytes(e[0..4].try_into().unwrap()) as usize;
            let n = u32::from_le_bytes(e[4..8].try_into().unwrap()) as usize;
            let size = u64::from_le_bytes(e[8..16].try_into().unwrap());
            let units: Vec<u16> = e[24..24 + n]
                .chunks(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            out.push((String::from_utf16(&units).unwrap(), size));
            if next == 0 {
                break;
            }
            at += next;
        }
        out
    }

    async fn read(&mut self, f: Fid, len: u32) -> Vec<u8> {
        let mut b = vec![49, 0, 0, 0];
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(&0u64.to_le_bytes());
        b.extend_from_slice(&f);
        b.extend_from_slice(&[0; 17]);
        let (st, r) = self.request(Command::Read, &b).await;
        assert_eq!(st, OK, "read");
        let off = r[66] as usize;
        let n = u32::from_le_bytes(r[68..72].try_into().unwrap()) as usize;
        r[off..off + n].to_vec()
    }
}

fn err(s: NtStatus) -> Result<Fid, u32> {
    Err(s.0)
}

#[tokio::test]
async fn a_stream_is_created_with_its_file_written_read_and_listed() {
    let (mut c, fs) = client().await;
    let s = c
        .create(Create::new("f.txt:Zone.Identifier").disposition(CREATE))
        .await;
    assert!(fs.stat("f.txt").await.is_ok(), "the file came with it");
    assert_eq!(c.write(s, b"[ZoneTransfer]").await, OK);
    assert_eq!(c.close(s).await, OK);
    let s = c
        .create(Create::new("F.TXT:zone.identifier:$DaTa").disposition(OPEN))
        .await;
    assert_eq!(c.read(s, 100).await, b"[ZoneTransfer]");
    let f = c.create(Create::new("f.txt").disposition(OPEN)).await;
    assert_eq!(c.write(f, b"data").await, OK);
    assert_eq!(
        c.streams(f).await,
        [
            ("::$DATA".to_owned(), 4),
            (":Zone.Identifier:$DATA".to_owned(), 14)
        ]
    );
    assert_eq!(
        c.streams(s).await,
        c.streams(f).await,
        "the same from the stream"
    );
    assert_eq!(c.close(f).await, OK);
    let g = c
        .create(Create::new("f.txt::$DATA").disposition(OPEN))
        .await;
    assert_eq!(c.read(g, 10).await, b"data", "::$DATA is the file");
    assert_eq!(
        c.try_create(Create::new("f.txt:missing").disposition(OPEN))
            .await,
        err(NtStatus::OBJECT_NAME_NOT_FOUND)
    );
    assert_eq!(
        c.try_create(Create::new("f.txt:Zone.Identifier").disposition(CREATE))
            .await,
        err(NtStatus::OBJECT_NAME_COLLISION)
    );
}

#[tokio::test]
async fn invalid_stream_names_and_types_are_refused_as_windows_does() {
    let (mut c, _fs) = client().await;
    c.create(Create::new("f")).await;
    for bad in [
        "f:s:",
        "f:s:$FOO",
        "f::foo",
        "f:a:b",
        "f:s:$INDEX_ALLOCATION",
    ] {
        assert_eq!(
            c.try_create(Create::new(bad)).await,
            err(NtStatus::OBJECT_NAME_INVALID),
            "{bad}"
        );
    }
    c.create(Create::new("d").dir()).await;
    assert_eq!(
        c.try_create(Create::new("d:s").options(DIRECTORY)).await,
        err(NtStatus::NOT_A_DIRECTORY)
    );
    assert_eq!(
        c.try_create(Create::new("d::$DATA").options(0).disposition(OPEN))
            .await,
        err(NtStatus::FILE_IS_A_DIRECTORY)
    );
    let d = c
        .create(
            Create::new("d:$I30:$INDEX_ALLOCATION")
                .options(0)
                .disposition(OPEN),
        )
        .await;
    assert!(
        c.streams(d).await.is_empty(),
        "a directory has no unnamed stream"
    );
    let ds = c.create(Create::new("d:on-dir").options(0)).await;
    assert_eq!(c.write(ds, b"x").await, OK);
    assert_eq!(c.streams(d).await, [(":on-dir:$DATA".to_owned(), 1)]);
}

#[tokio::test]
async fn share_modes_are_per_stream() {
    let (mut c, _fs) = client().await;
    let one = Create::new("f:one").access(WRITE_DATA).share(0);
    let _h1 = c.create(one).await;
    let _h2 = c
        .create(Create::new("f:two").access(WRITE_DATA).share(0))
        .await;
    let _f = c.create(Create::new("f").access(WRITE_DATA).share(0)).await;
    assert_eq!(
        c.try_create(Create::new("f:ONE").access(WRITE_DATA).share(0))
            .await,
        err(NtStatus::SHARING_VIOLATION)
    );
}

#[tokio::test]
async fn deleting_the_file_waits_for_its_streams_and_takes_them_along() {
    let (mut c, fs) = client().await;
    let s = c.create(Create::new("f:s").access(FILE_ALL).share(0)).await;
    // A stream open without FILE_SHARE_DELETE keeps the file from being opened for DELETE.
    assert_eq!(
        c.try_create(Create::new("f").access(DELETE).disposition(OPEN))
            .await,
        err(NtStatus::SHARING_VIOLATION)
    );
    assert_eq!(c.close(s).await, OK);
    let s = c
        .create(
            Create::new("f:s")
                .access(READ_DATA | WRITE_DATA)
                .share(SHARE_ALL),
        )
        .await;
    assert_eq!(c.write(s, b"kept").await, OK);
    let f = c
        .create(
            Create::new("f")
                .access(DELETE)
                .options(DELETE_ON_CLOSE)
                .disposition(OPEN),
        )
        .await;
    assert_eq!(c.close(f).await, OK);
    assert_eq!(c.read(s, 10).await, b"kept", "the open stream still reads");
    for name in ["f", "f:s"] {
        assert_eq!(
            c.try_create(Create::new(name).disposition(OPEN_IF)).await,
            err(NtStatus::DELETE_PENDING),
            "{name}"
        );
    }
    assert_eq!(c.close(s).await, OK);
    assert!(
        fs.stat("f").await.is_err(),
        "gone with its last stream open"
    );
}

#[tokio::test]
async fn deleting_a_stream_removes_only_it() {
    let (mut c, fs) = client().await;
    for name in ["f:a", "f:b"] {
        let h = c.create(Create::new(name)).await;
        assert_eq!(c.close(h).await, OK);
    }
    let a = c
        .create(
            Create::new("f:a")
                .options(DELETE_ON_CLOSE)
                .disposition(OPEN),
        )
        .await;
    assert_eq!(c.close(a).await, OK);
    let b = c.create(Create::new("f:b").disposition(OPEN)).await;
    assert_eq!(c.delete_pending(b).await, OK);
    assert_eq!(c.close(b).await, OK);
    assert!(fs.stat("f").await.is_ok());
    assert!(fs.list_streams("f").await.unwrap().is_empty());
}

#[tokio::test]
async fn streams_rename_within_their_file_and_overwrite_drops_them() {
    let (mut c, fs) = client().await;
    let one = c.create(Create::new("f:one")).await;
    assert_eq!(c.write(one, b"1").await, OK);
    let two = c.create(Create::new("f:two")).await;
    assert_eq!(c.close(two).await, OK);
    assert_eq!(
        c.rename(one, ":two", false).await,
        NtStatus::OBJECT_NAME_COLLISION.0
    );
    assert_eq!(c.rename(one, ":two:$DATA", true).await, OK);
    assert_eq!(c.rename(one, ":Three", false).await, OK);
    let names: Vec<String> = fs
        .list_streams("f")
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["Three"]);
    assert_eq!(c.write(one, b"X").await, OK, "the open follows its stream");
    assert_eq!(
        c.rename(one, "f:four", false).await,
        NtStatus::SHARING_VIOLATION.0
    );
    // The file stays where it is while a stream of it is open.
    let f = c.create(Create::new("f").disposition(OPEN)).await;
    assert_eq!(c.rename(f, "g", false).await, NtStatus::ACCESS_DENIED.0);
    assert_eq!(c.close(one).await, OK);
    assert_eq!(c.rename(f, "g", false).await, OK);
    assert_eq!(c.streams(f).await.len(), 2, "moved with the file");
    assert_eq!(c.close(f).await, OK);
    let held = c.create(Create::new("g:Three").disposition(OPEN)).await;
    assert_eq!(
        c.try_create(Create::new("g").disposition(OVERWRITE_IF))
            .await,
        err(NtStatus::SHARING_VIOLATION),
        "not while a stream that would go is open"
    );
    assert_eq!(c.close(held).await, OK);
    let g = c.create(Create::new("g").disposition(OVERWRITE_IF)).await;
    assert_eq!(c.streams(g).await, [("::$DATA".to_owned(), 0)]);
}

#[tokio::test]
async fn a_stream_open_is_checked_against_its_files_descriptor() {
    let (mut c, _fs) = client().await;
    let f = c.create(Create::new("f")).await;
    assert_eq!(c.set_dacl(f, "D:P(A;;FR;;;WD)").await, OK);
    assert_eq!(c.close(f).await, OK);
    assert_eq!(
        c.try_create(Create::new("f:s").access(WRITE_DATA)).await,
        err(NtStatus::ACCESS_DENIED)
    );
    assert!(
        c.try_create(Create::new("f:s").access(READ_ATTRIBUTES).disposition(OPEN))
            .await
            .is_err(),
        "no such stream"
    );
}
