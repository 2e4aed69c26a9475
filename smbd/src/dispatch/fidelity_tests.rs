//! File fidelity through whole requests over MemFs in virtual time: when LastWriteTime moves
//! (delayed after a write, brought forward by FLUSH and SET_INFO, sticky once set, frozen by
//! -1), ARCHIVE set by a write, and the HIDDEN and SYSTEM rules of an overwrite.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::file_tests::{Client, Create, Fid, OK};
use crate::clock::ManualClock;
use crate::proto::NtStatus;
use crate::proto::header::Command;

/// OVERWRITE and OVERWRITE_IF.
const OVERWRITE: u32 = 4;
const OVERWRITE_IF: u32 = 5;
const HIDDEN: u32 = 0x2;
const SYSTEM: u32 = 0x4;
const ARCHIVE: u32 = 0x20;
const NORMAL: u32 = 0x80;
/// A second in FILETIME units.
const SECOND: u64 = 10_000_000;

/// Times and attributes of FileBasicInformation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Basic {
    write: u64,
    attributes: u32,
}

impl Client {
    async fn basic(&mut self, f: Fid) -> Basic {
        let mut b = vec![41, 0, 1, 4];
        b.extend_from_slice(&40u32.to_le_bytes());
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(&f);
        let (st, r) = self.request(Command::QueryInfo, &b).await;
        assert_eq!(st, OK, "query basic");
        let off = u16::from_le_bytes([r[66], r[67]]) as usize;
        let buf = &r[off..off + 40];
        Basic {
            write: u64::from_le_bytes(buf[16..24].try_into().unwrap()),
            attributes: u32::from_le_bytes(buf[32..36].try_into().unwrap()),
        }
    }

    /// SET_INFO FileBasicInformation with this write time and attributes (0: unchanged).
    async fn set_basic(&mut self, f: Fid, write: i64, attributes: u32) -> u32 {
        let mut b = vec![0; 40];
        b[16..24].copy_from_slice(&write.to_le_bytes());
        b[32..36].copy_from_slice(&attributes.to_le_bytes());
        self.set_info(f, 1, 4, 0, &b).await
    }

    async fn flush(&mut self, f: Fid) -> u32 {
        let mut b = vec![24, 0, 0, 0, 0, 0, 0, 0];
        b.extend_from_slice(&f);
        self.request(Command::Flush, &b).await.0
    }

    /// CLOSE with SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB: the write time it reports.
    async fn close_write_time(&mut self, f: Fid) -> u64 {
        let mut b = vec![24, 0, 1, 0, 0, 0, 0, 0];
        b.extend_from_slice(&f);
        let (st, r) = self.request(Command::Close, &b).await;
        assert_eq!(st, OK, "close");
        u64::from_le_bytes(r[88..96].try_into().unwrap())
    }
}

const START: u64 = 1_700_000_000;

/// A client of a server over MemFs whose clock stands at `START` and moves when told.
async fn timed() -> (Client, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(START),
    ));
    let server = crate::harness::server::Builder::new(Arc::new(vfs::mem::MemFs::new()), 512)
        .clock(clock.clone())
        .build();
    (Client::new(server).await, clock)
}

/// The virtual clock `secs` seconds after `START`, as FILETIME.
fn at(secs: u64) -> u64 {
    vfs::unix_to_filetime((START + secs) as i64, 0)
}

#[tokio::test]
async fn first_write_moves_the_write_time_two_seconds_later_and_later_writes_at_close() {
    let (mut c, clock) = timed().await;
    let f = c.create(Create::new("w.txt")).await;
    let created = c.basic(f).await.write;
    clock.advance(Duration::from_secs(1));
    assert_eq!(c.write(f, b"s").await, OK);
    assert_eq!(c.basic(f).await.write, created, "not at once");
    clock.advance(Duration::from_secs(3));
    assert_eq!(c.basic(f).await.write, at(1) + 2 * SECOND);
    assert_eq!(c.write(f, b"s").await, OK);
    clock.advance(Duration::from_secs(3));
    assert_eq!(
        c.basic(f).await.write,
        at(1) + 2 * SECOND,
        "a second write waits"
    );
    clock.advance(Duration::from_secs(2));
    assert_eq!(c.close_write_time(f).await, at(9), "the close moves it");
}

#[tokio::test]
async fn close_after_the_move_keeps_it() {
    let (mut c, clock) = timed().await;
    let f = c.create(Create::new("one.txt")).await;
    clock.advance(Duration::from_secs(1));
    c.write(f, b"s").await;
    clock.advance(Duration::from_secs(3));
    let moved = c.basic(f).await.write;
    clock.advance(Duration::from_secs(1));
    assert_eq!(c.close_write_time(f).await, moved);
}

#[tokio::test]
async fn flush_and_end_of_file_bring_the_move_forward() {
    let (mut c, clock) = timed().await;
    let f = c.create(Create::new("f.txt")).await;
    clock.advance(Duration::from_secs(1));
    c.write(f, b"s").await;
    assert_eq!(c.flush(f).await, OK);
    assert_eq!(c.basic(f).await.write, at(1));
    clock.advance(Duration::from_secs(5));
    assert_eq!(
        c.close_write_time(f).await,
        at(1),
        "nothing left for the close"
    );

    let f = c.create(Create::new("e.txt")).await;
    c.write(f, b"s").await;
    clock.advance(Duration::from_secs(1));
    assert_eq!(c.set_info(f, 1, 20, 0, &1u64.to_le_bytes()).await, OK);
    assert_eq!(c.basic(f).await.write, at(7));
}

#[tokio::test]
async fn explicit_write_time_sticks_and_minus_one_freezes() {
    let (mut c, clock) = timed().await;
    let f = c.create(Create::new("s.txt")).await;
    let set = at(86_400);
    assert_eq!(c.set_basic(f, set as i64, 0).await, OK);
    c.write(f, b"s").await;
    clock.advance(Duration::from_secs(5));
    assert_eq!(c.basic(f).await.write, set);
    assert_eq!(c.close_write_time(f).await, set);

    let f = c.create(Create::new("s.txt")).await;
    assert_eq!(c.set_basic(f, -1, 0).await, OK);
    c.write(f, b"t").await;
    clock.advance(Duration::from_secs(5));
    assert_eq!(c.basic(f).await.write, set, "frozen");
    assert_eq!(c.set_basic(f, -2, 0).await, OK);
    c.write(f, b"u").await;
    clock.advance(Duration::from_secs(3));
    assert_eq!(
        c.basic(f).await.write,
        at(12),
        "thawed: moved after the next write"
    );
}

#[tokio::test]
async fn a_write_sets_archive_again() {
    let (mut c, _clock) = timed().await;
    let f = c.create(Create::new("a.txt")).await;
    assert_eq!(c.basic(f).await.attributes, ARCHIVE);
    assert_eq!(c.set_basic(f, 0, NORMAL).await, OK);
    assert_eq!(c.basic(f).await.attributes, NORMAL);
    c.write(f, b"s").await;
    assert_eq!(c.basic(f).await.attributes, ARCHIVE);
}

#[tokio::test]
async fn overwrite_must_restate_hidden_and_system() {
    let (mut c, _clock) = timed().await;
    for (init, again, ok) in [
        (HIDDEN, NORMAL, false),
        (HIDDEN, HIDDEN, true),
        (SYSTEM, HIDDEN, false),
        (SYSTEM, SYSTEM | HIDDEN, true),
        (NORMAL, HIDDEN, true),
    ] {
        let name = format!("o{init}-{again}.txt");
        let f = c
            .create(
                Create::new(&name)
                    .disposition(OVERWRITE_IF)
                    .attributes(init),
            )
            .await;
        c.close(f).await;
        let r = c
            .try_create(Create::new(&name).disposition(OVERWRITE).attributes(again))
            .await;
        match r {
            Ok(f) => {
                assert!(ok, "{init:#x} -> {again:#x} overwritten");
                assert_eq!(c.basic(f).await.attributes, again | ARCHIVE);
                c.close(f).await;
            }
            Err(st) => {
                assert!(!ok, "{init:#x} -> {again:#x}: {st:#x}");
                assert_eq!(st, NtStatus::ACCESS_DENIED.0);
            }
        }
    }
}

/// A CLOSE without SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB reports no times, even of a file written
/// through it (smbtorture smb2.timestamps.test_close_not_attrib).
#[tokio::test]
async fn close_without_postquery_reports_no_times() {
    let (mut c, clock) = timed().await;
    let f = c.create(Create::new("n.txt")).await;
    c.write(f, b"s").await;
    clock.advance(Duration::from_secs(1));
    let mut b = vec![24, 0, 0, 0, 0, 0, 0, 0];
    b.extend_from_slice(&f);
    let (st, r) = c.request(Command::Close, &b).await;
    assert_eq!(st, OK);
    assert!(
        r[72..124].iter().all(|&x| x == 0),
        "times, sizes and attributes are zero"
    );
}

/// A share's hidden names (`hide_dot_files`, `hide_files`) show HIDDEN without storing it, so an
/// overwrite need not restate it; a stored HIDDEN must be (smbtorture smb2.dosmode).
#[tokio::test]
async fn hidden_names_show_hidden_and_overwrite_freely() {
    use crate::state::{EncryptMode, hide::HideRules};
    let fs: Arc<dyn vfs::Vfs> = Arc::new(vfs::mem::MemFs::new());
    let mut share =
        crate::harness::server::open_share("share", fs.clone(), false, EncryptMode::Off);
    share.hide = HideRules {
        dot_files: true,
        patterns: vec!["hidefile".into()],
    };
    let server = crate::harness::server::Builder::new(fs, 512)
        .shares(vec![share])
        .build();
    let mut c = Client::new(server).await;
    for name in [".dotfile", "HIDEFILE"] {
        let f = c.create(Create::new(name)).await;
        assert_eq!(c.basic(f).await.attributes, ARCHIVE | HIDDEN, "{name}");
        c.close(f).await;
        let f = c.create(Create::new(name).disposition(OVERWRITE_IF)).await;
        c.close(f).await;
    }
    let f = c.create(Create::new("file")).await;
    assert_eq!(c.basic(f).await.attributes, ARCHIVE);
    assert_eq!(c.set_basic(f, 0, HIDDEN).await, OK);
    c.close(f).await;
    let r = c
        .try_create(Create::new("file").disposition(OVERWRITE_IF))
        .await;
    assert_eq!(r.err(), Some(NtStatus::ACCESS_DENIED.0));
}
