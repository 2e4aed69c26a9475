//! Server-side copy, sparse files, hard links and symbolic links through whole requests: resume
//! keys and copychunk with their limits, access and lock rules, SET_SPARSE, SET_ZERO_DATA and
//! QUERY_ALLOCATED_RANGES (over MemFs and, for real holes, PosixFs), FileLinkInformation, and
//! the symbolic link error response of CREATE (over PosixFs).

use std::sync::Arc;

use crate::dispatch::test_client::{TestClient, wraps_test_client};
use crate::fuzzing::seeds;
use crate::proto::NtStatus;
use crate::proto::header::Command;
use crate::state::ServerContext;
use vfs::{OpenOptions, Vfs};

const OK: u32 = 0;
const FILE_ALL: u32 = 0x001F_01FF;
const READ_DATA: u32 = 0x1;
const WRITE_DATA: u32 = 0x2;
const READ_ATTRIBUTES: u32 = 0x80;
const FSCTL_SRV_REQUEST_RESUME_KEY: u32 = 0x0014_0078;
const FSCTL_SRV_COPYCHUNK: u32 = 0x0014_40F2;
const FSCTL_SRV_COPYCHUNK_WRITE: u32 = 0x0014_80F2;
const FSCTL_SET_SPARSE: u32 = 0x0009_00C4;
const FSCTL_SET_ZERO_DATA: u32 = 0x0009_80C8;
const FSCTL_QUERY_ALLOCATED_RANGES: u32 = 0x0009_40CF;

type Fid = [u8; 16];

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// A connection with a session and "share" as tree 1.
struct Client(TestClient);

wraps_test_client!(Client, 0);

impl Client {
    async fn new(server: Arc<ServerContext>) -> Self {
        Self(TestClient::on_share(server).await)
    }

    async fn request(&mut self, command: Command, body: &[u8]) -> (u32, Vec<u8>) {
        let id = self.next_id();
        let sid = self.sid;
        self.call(seeds::message(command, id, sid, 1, body)).await
    }

    /// OPEN_IF of a file with `access`, sharing everything.
    async fn open(&mut self, name: &str, access: u32) -> Fid {
        let (st, r) = self.try_open(name, access).await;
        assert_eq!(st, OK, "create {name}");
        r[128..144].try_into().unwrap()
    }

    /// OPEN_IF of `name`: the status and the whole reply.
    async fn try_open(&mut self, name: &str, access: u32) -> (u32, Vec<u8>) {
        self.create_with(name, access, 3, None).await
    }

    /// OPEN of `name` with CreateOptions `options` (beside FILE_NON_DIRECTORY_FILE).
    async fn create_opts(&mut self, name: &str, access: u32, options: u32) -> (u32, Vec<u8>) {
        let name16 = utf16(name);
        let mut b = vec![57, 0, 0, 0];
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&[0; 16]);
        for v in [access, 0x80, 7, 1, 0x40 | options] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&120u16.to_le_bytes());
        b.extend_from_slice(&(name16.len() as u16).to_le_bytes());
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&name16);
        self.request(Command::Create, &b).await
    }

    /// A CREATE of `name` with `disposition` and, when given, a TWrp context of `twrp`.
    async fn create_with(
        &mut self,
        name: &str,
        access: u32,
        disposition: u32,
        twrp: Option<u64>,
    ) -> (u32, Vec<u8>) {
        let name16 = utf16(name);
        let mut b = vec![57, 0, 0, 0];
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&[0; 16]);
        for v in [access, 0x80, 7, disposition, 0x40] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&120u16.to_le_bytes());
        b.extend_from_slice(&(name16.len() as u16).to_le_bytes());
        let ctx_off = (120 + name16.len()).next_multiple_of(8);
        let (off, len) = if twrp.is_some() {
            (ctx_off, 32)
        } else {
            (0, 0)
        };
        b.extend_from_slice(&(off as u32).to_le_bytes());
        b.extend_from_slice(&(len as u32).to_le_bytes());
        b.extend_from_slice(&name16);
        if let Some(ts) = twrp {
            b.resize(ctx_off - 64, 0);
            b.extend_from_slice(&0u32.to_le_bytes()); // Next
            b.extend_from_slice(&16u16.to_le_bytes()); // NameOffset
            b.extend_from_slice(&4u16.to_le_bytes()); // NameLength
            b.extend_from_slice(&0u16.to_le_bytes());
            b.extend_from_slice(&24u16.to_le_bytes()); // DataOffset
            b.extend_from_slice(&8u32.to_le_bytes()); // DataLength
            b.extend_from_slice(b"TWrp\0\0\0\0");
            b.extend_from_slice(&ts.to_le_bytes());
        }
        self.request(Command::Create, &b).await
    }

    async fn write(&mut self, f: Fid, offset: u64, data: &[u8]) {
        let mut b = vec![49, 0, 112, 0];
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(&offset.to_le_bytes());
        b.extend_from_slice(&f);
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(data);
        assert_eq!(self.request(Command::Write, &b).await.0, OK);
    }

    /// An IOCTL (FSCTL); returns the status and the output buffer.
    async fn fsctl(&mut self, f: Fid, code: u32, input: &[u8], max_out: u32) -> (u32, Vec<u8>) {
        let mut b = vec![57, 0, 0, 0];
        b.extend_from_slice(&code.to_le_bytes());
        b.extend_from_slice(&f);
        b.extend_from_slice(&120u32.to_le_bytes());
        b.extend_from_slice(&(input.len() as u32).to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&max_out.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(input);
        let (st, r) = self.request(Command::Ioctl, &b).await;
        if r.len() < 64 + 48 || u16::from_le_bytes([r[64], r[65]]) != 49 {
            return (st, Vec::new());
        }
        let (off, len) = (u32_at(&r, 64 + 32) as usize, u32_at(&r, 64 + 36) as usize);
        (st, r[off..off + len].to_vec())
    }

    async fn resume_key(&mut self, f: Fid) -> Vec<u8> {
        let (st, out) = self.fsctl(f, FSCTL_SRV_REQUEST_RESUME_KEY, &[], 32).await;
        assert_eq!((st, out.len()), (OK, 32));
        out[..24].to_vec()
    }

    async fn lock(&mut self, f: Fid, offset: u64, len: u64) -> u32 {
        let mut b = vec![48, 0, 1, 0, 0, 0, 0, 0];
        b.extend_from_slice(&f);
        b.extend_from_slice(&offset.to_le_bytes());
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(&(0x2u32 | 0x10).to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        self.request(Command::Lock, &b).await.0
    }

    async fn link(&mut self, f: Fid, to: &str, replace: bool) -> u32 {
        let name = utf16(to);
        let mut info = vec![u8::from(replace), 0, 0, 0, 0, 0, 0, 0];
        info.extend_from_slice(&[0; 8]);
        info.extend_from_slice(&(name.len() as u32).to_le_bytes());
        info.extend_from_slice(&name);
        let mut b = vec![33, 0, 1, 11];
        b.extend_from_slice(&(info.len() as u32).to_le_bytes());
        b.extend_from_slice(&96u16.to_le_bytes());
        b.extend_from_slice(&[0; 6]);
        b.extend_from_slice(&f);
        b.extend_from_slice(&info);
        self.request(Command::SetInfo, &b).await.0
    }
}

/// A SRV_COPYCHUNK_COPY of `chunks` (source offset, target offset, length).
fn copy_input(key: &[u8], chunks: &[(u64, u64, u32)]) -> Vec<u8> {
    let mut v = key.to_vec();
    v.extend_from_slice(&(chunks.len() as u32).to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    for &(s, t, l) in chunks {
        v.extend_from_slice(&s.to_le_bytes());
        v.extend_from_slice(&t.to_le_bytes());
        v.extend_from_slice(&l.to_le_bytes());
        v.extend_from_slice(&0u32.to_le_bytes());
    }
    v
}

fn copy_response(out: &[u8]) -> (u32, u32, u32) {
    assert_eq!(out.len(), 12, "copychunk response");
    (u32_at(out, 0), u32_at(out, 4), u32_at(out, 8))
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 253) as u8).collect()
}

async fn setup() -> (Arc<ServerContext>, vfs::mem::MemFs) {
    let fs = vfs::mem::MemFs::new();
    (
        crate::dispatch::test_server::server(Arc::new(fs.clone()), 512),
        fs,
    )
}

async fn contents(fs: &dyn Vfs, path: &str) -> Vec<u8> {
    let o = fs.open(path, &OpenOptions::read_existing()).await.unwrap();
    o.file.read_at(0, 1 << 20).await.unwrap()
}

#[tokio::test]
async fn copychunk_copies_within_limits() {
    let (server, fs) = setup().await;
    let mut c = Client::new(server).await;
    let src = c.open("src", FILE_ALL).await;
    let data = pattern(8192);
    c.write(src, 0, &data).await;
    let dst = c.open("dst", FILE_ALL).await;
    let key = c.resume_key(src).await;
    let input = copy_input(&key, &[(0, 0, 4096), (4096, 10000, 4096)]);
    let (st, out) = c.fsctl(dst, FSCTL_SRV_COPYCHUNK, &input, 12).await;
    assert_eq!(st, OK);
    assert_eq!(copy_response(&out), (2, 0, 8192));
    let got = contents(&fs, "dst").await;
    assert_eq!(got.len(), 14096);
    assert_eq!(&got[..4096], &data[..4096]);
    assert_eq!(&got[4096..10000], &vec![0; 5904][..]);
    assert_eq!(&got[10000..], &data[4096..]);

    // Over a limit: the limits, with INVALID_PARAMETER.
    let limits = (256, 1 << 20, 16 << 20);
    for chunks in [
        vec![(0, 0, 0)],
        vec![(0, 0, u32::MAX)],
        vec![(0, 0, 1 << 20); 17],
        vec![(0, 0, 1); 257],
    ] {
        let (st, out) = c
            .fsctl(dst, FSCTL_SRV_COPYCHUNK, &copy_input(&key, &chunks), 12)
            .await;
        assert_eq!(st, NtStatus::INVALID_PARAMETER.0);
        assert_eq!(copy_response(&out), limits);
    }
    // A ChunkCount the buffer does not hold, also the limits.
    let mut short = copy_input(&key, &[(0, 0, 1)]);
    short[24] = 2;
    let (st, out) = c.fsctl(dst, FSCTL_SRV_COPYCHUNK, &short, 12).await;
    assert_eq!(
        (st, copy_response(&out)),
        (NtStatus::INVALID_PARAMETER.0, limits)
    );
    // No room for the response; an unknown key.
    let ok = copy_input(&key, &[(0, 0, 1)]);
    let (st, _) = c.fsctl(dst, FSCTL_SRV_COPYCHUNK, &ok, 11).await;
    assert_eq!(st, NtStatus::INVALID_PARAMETER.0);
    let (st, _) = c
        .fsctl(
            dst,
            FSCTL_SRV_COPYCHUNK,
            &copy_input(&[7; 24], &[(0, 0, 1)]),
            12,
        )
        .await;
    assert_eq!(st, NtStatus::OBJECT_NAME_NOT_FOUND.0);
    // A source range past the end: what was done before it, with INVALID_VIEW_SIZE.
    let past = copy_input(&key, &[(0, 0, 100), (8000, 0, 500)]);
    let (st, out) = c.fsctl(dst, FSCTL_SRV_COPYCHUNK, &past, 12).await;
    assert_eq!(
        (st, copy_response(&out)),
        (NtStatus::INVALID_VIEW_SIZE.0, (1, 0, 100))
    );
}

#[tokio::test]
async fn copychunk_access_and_sessions() {
    let (server, _fs) = setup().await;
    let mut c = Client::new(server.clone()).await;
    let full = c.open("a", FILE_ALL).await;
    c.write(full, 0, &pattern(100)).await;
    let attrs_only = c.open("a", READ_ATTRIBUTES).await;
    let write_only = c.open("b", WRITE_DATA).await;
    let dst = c.open("c", FILE_ALL).await;
    // The source must be readable.
    let key = c.resume_key(attrs_only).await;
    let (st, _) = c
        .fsctl(
            dst,
            FSCTL_SRV_COPYCHUNK,
            &copy_input(&key, &[(0, 0, 10)]),
            12,
        )
        .await;
    assert_eq!(st, NtStatus::ACCESS_DENIED.0);
    // COPYCHUNK reads the target too; COPYCHUNK_WRITE does not.
    let key = c.resume_key(full).await;
    let input = copy_input(&key, &[(0, 0, 10)]);
    let (st, _) = c.fsctl(write_only, FSCTL_SRV_COPYCHUNK, &input, 12).await;
    assert_eq!(st, NtStatus::ACCESS_DENIED.0);
    let (st, out) = c
        .fsctl(write_only, FSCTL_SRV_COPYCHUNK_WRITE, &input, 12)
        .await;
    assert_eq!((st, copy_response(&out)), (OK, (1, 0, 10)));
    let read_only = c.open("c", READ_DATA).await;
    let (st, _) = c
        .fsctl(read_only, FSCTL_SRV_COPYCHUNK_WRITE, &input, 12)
        .await;
    assert_eq!(st, NtStatus::ACCESS_DENIED.0);
    // A key names an open for its own session only.
    let mut other = Client::new(server).await;
    let theirs = other.open("d", FILE_ALL).await;
    let (st, _) = other.fsctl(theirs, FSCTL_SRV_COPYCHUNK, &input, 12).await;
    assert_eq!(st, NtStatus::OBJECT_NAME_NOT_FOUND.0);
}

#[tokio::test]
async fn copychunk_meets_locks_and_overlaps() {
    let (server, fs) = setup().await;
    let mut c = Client::new(server).await;
    let data = pattern(8192);
    let src = c.open("s", FILE_ALL).await;
    c.write(src, 0, &data).await;
    let src2 = c.open("s", FILE_ALL).await;
    let dst = c.open("t", FILE_ALL).await;
    let key = c.resume_key(src).await;
    assert_eq!(c.lock(src2, 0, 4096).await, OK);
    let input = copy_input(&key, &[(0, 0, 4096)]);
    let (st, out) = c.fsctl(dst, FSCTL_SRV_COPYCHUNK, &input, 12).await;
    assert_eq!(
        (st, copy_response(&out)),
        (NtStatus::FILE_LOCK_CONFLICT.0, (0, 0, 0))
    );
    // The source's own locks do not stop it.
    let key2 = c.resume_key(src2).await;
    let own = copy_input(&key2, &[(0, 0, 2048)]);
    let (st, _) = c.fsctl(dst, FSCTL_SRV_COPYCHUNK, &own, 12).await;
    assert_eq!(st, OK);
    // Source and target the same file, overlapping: as if read first.
    let f = c.open("o", FILE_ALL).await;
    c.write(f, 0, &data).await;
    let key = c.resume_key(f).await;
    let input = copy_input(&key, &[(0, 2040, 2048)]);
    let (st, _) = c.fsctl(f, FSCTL_SRV_COPYCHUNK, &input, 12).await;
    assert_eq!(st, OK);
    let got = contents(&fs, "o").await;
    assert_eq!(&got[2040..4088], &data[..2048]);
}

#[tokio::test]
async fn sparse_zero_data_and_ranges() {
    let (server, fs) = setup().await;
    let mut c = Client::new(server).await;
    let f = c.open("z", FILE_ALL).await;
    c.write(f, 0, &[0xAB; 8192]).await;
    assert_eq!(c.fsctl(f, FSCTL_SET_SPARSE, &[], 0).await.0, OK);
    let st = fs.stat("z").await.unwrap();
    assert_ne!(st.attributes & vfs::attr::SPARSE_FILE, 0);
    assert_eq!(c.fsctl(f, FSCTL_SET_SPARSE, &[0], 0).await.0, OK);
    assert_eq!(
        fs.stat("z").await.unwrap().attributes & vfs::attr::SPARSE_FILE,
        0
    );
    // Zeroing: FileOffset and BeyondFinalZero.
    let mut z = 1000u64.to_le_bytes().to_vec();
    z.extend_from_slice(&3000u64.to_le_bytes());
    assert_eq!(c.fsctl(f, FSCTL_SET_ZERO_DATA, &z, 0).await.0, OK);
    let got = contents(&fs, "z").await;
    assert!(got[1000..3000].iter().all(|&b| b == 0));
    assert_eq!((got[999], got[3000], got.len()), (0xAB, 0xAB, 8192));
    let mut backwards = 3000u64.to_le_bytes().to_vec();
    backwards.extend_from_slice(&1000u64.to_le_bytes());
    let (st, _) = c.fsctl(f, FSCTL_SET_ZERO_DATA, &backwards, 0).await;
    assert_eq!(st, NtStatus::INVALID_PARAMETER.0);
    // Ranges: no room for one is BUFFER_TOO_SMALL; an overflowing query is refused.
    let mut q = 0u64.to_le_bytes().to_vec();
    q.extend_from_slice(&100_000u64.to_le_bytes());
    let (st, out) = c.fsctl(f, FSCTL_QUERY_ALLOCATED_RANGES, &q, 64).await;
    assert_eq!(st, OK);
    assert_eq!(out.len(), 16);
    assert_eq!(u32_at(&out, 8), 8192);
    let (st, _) = c.fsctl(f, FSCTL_QUERY_ALLOCATED_RANGES, &q, 0).await;
    assert_eq!(st, NtStatus::BUFFER_TOO_SMALL.0);
    let (st, _) = c.fsctl(f, FSCTL_QUERY_ALLOCATED_RANGES, &q[..8], 64).await;
    assert_eq!(st, NtStatus::INVALID_PARAMETER.0);
    let mut huge = 512u64.to_le_bytes().to_vec();
    huge.extend_from_slice(&u64::MAX.to_le_bytes());
    let (st, _) = c.fsctl(f, FSCTL_QUERY_ALLOCATED_RANGES, &huge, 64).await;
    assert_eq!(st, NtStatus::INVALID_PARAMETER.0);
    // Rights: ranges need READ_DATA, sparse a write right.
    let attrs = c.open("z", READ_ATTRIBUTES).await;
    let (st, _) = c.fsctl(attrs, FSCTL_QUERY_ALLOCATED_RANGES, &q, 64).await;
    assert_eq!(st, NtStatus::ACCESS_DENIED.0);
    assert_eq!(
        c.fsctl(attrs, FSCTL_SET_SPARSE, &[], 0).await.0,
        NtStatus::ACCESS_DENIED.0
    );
}

/// Over PosixFs, a sparse file's holes split its ranges, and an answer cut short is
/// BUFFER_OVERFLOW with the ranges that fit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allocated_ranges_over_posix() {
    let dir = std::env::temp_dir().join(format!("smbd-qar-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fs = vfs::posix::PosixFs::new(dir.clone()).unwrap();
    let server = crate::dispatch::test_server::server(Arc::new(fs), 512);
    let mut c = Client::new(server).await;
    let f = c.open("h", FILE_ALL).await;
    for i in 0..16u64 {
        c.write(f, i * 65536, &[1; 65536]).await;
    }
    assert_eq!(c.fsctl(f, FSCTL_SET_SPARSE, &[], 0).await.0, OK);
    for hole in [1u64, 5] {
        let mut z = (hole * 65536).to_le_bytes().to_vec();
        z.extend_from_slice(&((hole + 2) * 65536).to_le_bytes());
        assert_eq!(c.fsctl(f, FSCTL_SET_ZERO_DATA, &z, 0).await.0, OK);
    }
    let mut q = 0u64.to_le_bytes().to_vec();
    q.extend_from_slice(&(16u64 * 65536).to_le_bytes());
    let (st, out) = c.fsctl(f, FSCTL_QUERY_ALLOCATED_RANGES, &q, 1024).await;
    assert_eq!((st, out.len()), (OK, 48));
    let (st, out) = c.fsctl(f, FSCTL_QUERY_ALLOCATED_RANGES, &q, 40).await;
    assert_eq!((st, out.len()), (NtStatus::BUFFER_OVERFLOW.0, 32));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn hard_links() {
    let (server, fs) = setup().await;
    let mut c = Client::new(server).await;
    let f = c.open("a", READ_ATTRIBUTES).await;
    assert_eq!(c.link(f, "b", false).await, OK);
    assert_eq!(fs.stat("b").await.unwrap().links, 2);
    assert_eq!(
        fs.stat("a").await.unwrap().file_id,
        fs.stat("b").await.unwrap().file_id
    );
    // An existing name: kept unless replacing; a name of the same file is no change.
    let other = c.open("c", FILE_ALL).await;
    assert_eq!(
        c.link(f, "c", false).await,
        NtStatus::OBJECT_NAME_COLLISION.0
    );
    // Open elsewhere, it cannot be replaced.
    assert_eq!(c.link(f, "c", true).await, NtStatus::ACCESS_DENIED.0);
    assert_eq!(
        c.link(f, "b", false).await,
        NtStatus::OBJECT_NAME_COLLISION.0
    );
    assert_eq!(c.link(f, "b", true).await, OK);
    let close = |fid: Fid| {
        let mut b = vec![24, 0, 0, 0, 0, 0, 0, 0];
        b.extend_from_slice(&fid);
        b
    };
    assert_eq!(c.request(Command::Close, &close(other)).await.0, OK);
    assert_eq!(c.link(f, "c", true).await, OK);
    assert_eq!(fs.stat("c").await.unwrap().links, 3);
    assert_eq!(
        c.link(f, "no\\d", false).await,
        NtStatus::OBJECT_PATH_NOT_FOUND.0
    );
}

#[tokio::test]
async fn compression_is_none_and_interfaces_are_listed() {
    const FSCTL_GET_COMPRESSION: u32 = 0x0009_003C;
    const FSCTL_SET_COMPRESSION: u32 = 0x0009_C040;
    const FSCTL_QUERY_NETWORK_INTERFACE_INFO: u32 = 0x0014_01FC;
    let (server, _fs) = setup().await;
    let mut c = Client::new(server).await;
    let f = c.open("c", FILE_ALL).await;
    assert_eq!(
        c.fsctl(f, FSCTL_GET_COMPRESSION, &[], 2).await,
        (OK, vec![0, 0])
    );
    assert_eq!(c.fsctl(f, FSCTL_SET_COMPRESSION, &[0, 0], 0).await.0, OK);
    let (st, _) = c.fsctl(f, FSCTL_SET_COMPRESSION, &[1, 0], 0).await;
    assert_eq!(st, NtStatus::NOT_SUPPORTED.0);
    let (st, _) = c.fsctl(f, FSCTL_SET_COMPRESSION, &[], 0).await;
    assert_eq!(st, NtStatus::INVALID_PARAMETER.0);
    // The interface list names no file; a file id is refused before any size check.
    let (st, _) = c.fsctl(f, FSCTL_QUERY_NETWORK_INTERFACE_INFO, &[], 1).await;
    assert_eq!(st, NtStatus::INVALID_PARAMETER.0);
}

/// A POSIX symlink leading out of the share stops CREATE with STOPPED_ON_SYMLINK and the
/// symbolic link error response (MS-SMB2 2.2.2.2.1): the target, and the bytes of the path past
/// the link. One inside the share is followed as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlinks_out_of_the_share_stop_create() {
    let base = std::env::temp_dir().join(format!("smbd-symlink-{}", std::process::id()));
    let share = base.join("share");
    std::fs::create_dir_all(&share).unwrap();
    std::fs::write(share.join("inside.txt"), b"in").unwrap();
    std::os::unix::fs::symlink("/etc", share.join("out")).unwrap();
    std::os::unix::fs::symlink("inside.txt", share.join("in")).unwrap();
    let fs = vfs::posix::PosixFs::new(share.clone()).unwrap();
    let server = crate::dispatch::test_server::server(Arc::new(fs), 512);
    let mut c = Client::new(server).await;
    let (st, r) = c.try_open("out\\passwd", READ_DATA).await;
    assert_eq!(st, NtStatus::STOPPED_ON_SYMLINK.0);
    // ERROR body: StructureSize 9, then the error data (no contexts before 3.1.1).
    let body = &r[64..];
    assert_eq!(u16::from_le_bytes([body[0], body[1]]), 9);
    let data = &body[8..];
    assert_eq!(&data[4..8], b"SYML");
    assert_eq!(u16::from_le_bytes([data[14], data[15]]), 14); // "\\passwd"
    let name_len = u16::from_le_bytes([data[18], data[19]]) as usize;
    assert_eq!(&data[28..28 + name_len], &utf16("\\etc")[..]);
    assert_eq!(u32_at(data, 24), 0, "absolute");
    let (st, _) = c.try_open("out", READ_DATA).await;
    assert_eq!(st, NtStatus::STOPPED_ON_SYMLINK.0);
    c.open("in", READ_DATA).await;
    // FILE_OPEN_REPARSE_POINT opens the link itself; GET_REPARSE_POINT gives its data.
    const FSCTL_GET_REPARSE_POINT: u32 = 0x0009_00A8;
    const OPEN_REPARSE_POINT: u32 = 0x0020_0000;
    let (st, r) = c
        .create_opts("out", READ_ATTRIBUTES, OPEN_REPARSE_POINT)
        .await;
    assert_eq!(st, OK);
    assert_ne!(
        u32_at(&r, 64 + 56) & 0x400,
        0,
        "FILE_ATTRIBUTE_REPARSE_POINT"
    );
    let link: Fid = r[128..144].try_into().unwrap();
    let (st, out) = c.fsctl(link, FSCTL_GET_REPARSE_POINT, &[], 1024).await;
    assert_eq!(st, OK);
    assert_eq!(u32_at(&out, 0), 0xA000_000C);
    assert_eq!(&out[20..28], &utf16("\\etc")[..]);
    let plain = c.open("inside.txt", READ_DATA).await;
    let (st, _) = c.fsctl(plain, FSCTL_GET_REPARSE_POINT, &[], 1024).await;
    assert_eq!(st, NtStatus::NOT_A_REPARSE_POINT.0);
    // SET_REPARSE_POINT makes an empty file a link; DELETE_REPARSE_POINT makes it a file again.
    const FSCTL_SET_REPARSE_POINT: u32 = 0x0009_00A4;
    const FSCTL_DELETE_REPARSE_POINT: u32 = 0x0009_00AC;
    let data = crate::proto::fsctl::encode_symlink_reparse("inside.txt");
    let (st, _) = c.fsctl(plain, FSCTL_SET_REPARSE_POINT, &data, 0).await;
    assert_eq!(st, NtStatus::ACCESS_DENIED.0, "no write right");
    let empty = c.open("new-link", FILE_ALL).await;
    assert_eq!(
        c.fsctl(empty, FSCTL_SET_REPARSE_POINT, &data, 0).await.0,
        OK
    );
    assert_eq!(
        std::fs::read_link(share.join("new-link")).unwrap(),
        std::path::Path::new("inside.txt")
    );
    let full = c.open("full", FILE_ALL).await;
    c.write(full, 0, b"data").await;
    let (st, _) = c.fsctl(full, FSCTL_SET_REPARSE_POINT, &data, 0).await;
    assert_eq!(st, NtStatus::ACCESS_DENIED.0, "a link cannot keep data");
    let (st, _) = c
        .fsctl(empty, FSCTL_SET_REPARSE_POINT, &data[..10], 0)
        .await;
    assert_eq!(st, NtStatus::INVALID_PARAMETER.0);
    let (st, r) = c
        .create_opts("new-link", FILE_ALL, OPEN_REPARSE_POINT)
        .await;
    assert_eq!(st, OK);
    let link: Fid = r[128..144].try_into().unwrap();
    let (st, _) = c
        .fsctl(
            link,
            FSCTL_DELETE_REPARSE_POINT,
            &[1, 2, 3, 4, 0, 0, 0, 0],
            0,
        )
        .await;
    assert_eq!(st, 0xC000_0277, "tag mismatch");
    let tag_only = [0x0C, 0, 0, 0xA0, 0, 0, 0, 0];
    assert_eq!(
        c.fsctl(link, FSCTL_DELETE_REPARSE_POINT, &tag_only, 0)
            .await
            .0,
        OK
    );
    let meta = std::fs::symlink_metadata(share.join("new-link")).unwrap();
    assert!(meta.is_file() && meta.len() == 0);
    let _ = std::fs::remove_dir_all(&base);
}

/// Previous versions: ENUMERATE_SNAPSHOTS lists the share's snapshots, newest first; a TWrp
/// open reads the file as it was, read-only; a time with no snapshot is not found.
#[tokio::test]
async fn snapshots_enumerate_and_open_read_only() {
    const FSCTL_SRV_ENUMERATE_SNAPSHOTS: u32 = 0x0014_4064;
    let (server, fs) = setup().await;
    let old = vfs::mem::MemFs::new();
    // (Another node first, so the snapshot's file has an id of its own: MemFs counts ids per
    // tree, where POSIX snapshots have their own inodes or device.)
    old.open(
        "d",
        &OpenOptions {
            kind: vfs::Kind::Directory,
            disposition: vfs::Disposition::Create,
            ..OpenOptions::read_existing()
        },
    )
    .await
    .unwrap();
    let o = old
        .open(
            "f",
            &OpenOptions {
                disposition: vfs::Disposition::Create,
                write: true,
                ..OpenOptions::read_existing()
            },
        )
        .await
        .unwrap();
    o.file.write_at(0, b"then".to_vec()).await.unwrap();
    // 2024-02-29 23:59:01 UTC.
    let when = vfs::unix_to_filetime(1_709_251_141, 0);
    fs.add_snapshot("@GMT-2024.02.29-23.59.01", old);
    fs.add_snapshot("@GMT-2023.01.01-00.00.00", vfs::mem::MemFs::new());
    let mut c = Client::new(server).await;
    let f = c.open("f", FILE_ALL).await;
    c.write(f, 0, b"now!").await;
    let (st, out) = c.fsctl(f, FSCTL_SRV_ENUMERATE_SNAPSHOTS, &[], 1024).await;
    assert_eq!((st, u32_at(&out, 0), u32_at(&out, 4)), (OK, 2, 2));
    assert_eq!(&out[12..60], &utf16("@GMT-2024.02.29-23.59.01")[..]);
    let (st, out) = c.fsctl(f, FSCTL_SRV_ENUMERATE_SNAPSHOTS, &[], 16).await;
    assert_eq!((st, u32_at(&out, 0), u32_at(&out, 4)), (OK, 2, 0));

    let (st, r) = c.create_with("f", READ_DATA, 1, Some(when)).await;
    assert_eq!(st, OK);
    let then: Fid = r[128..144].try_into().unwrap();
    let mut read = vec![49, 0, 0x50, 0];
    read.extend_from_slice(&16u32.to_le_bytes());
    read.extend_from_slice(&0u64.to_le_bytes());
    read.extend_from_slice(&then);
    read.extend_from_slice(&[0; 17]);
    let (st, r) = c.request(Command::Read, &read).await;
    assert_eq!(st, OK);
    assert_eq!(&r[64 + 16..64 + 20], b"then");
    for (access, disposition) in [(READ_DATA, 3), (READ_DATA, 5), (0x1_0000, 1)] {
        let (st, _) = c.create_with("f", access, disposition, Some(when)).await;
        assert_eq!(
            st,
            NtStatus::MEDIA_WRITE_PROTECTED.0,
            "{access:#x} {disposition}"
        );
    }
    // Asking to write is allowed; each write is refused.
    let (st, r) = c
        .create_with("f", READ_DATA | WRITE_DATA, 1, Some(when))
        .await;
    assert_eq!(st, OK);
    let w: Fid = r[128..144].try_into().unwrap();
    let mut write = vec![49, 0, 112, 0];
    write.extend_from_slice(&3u32.to_le_bytes());
    write.extend_from_slice(&0u64.to_le_bytes());
    write.extend_from_slice(&w);
    write.extend_from_slice(&[0; 16]);
    write.extend_from_slice(b"123");
    let (st, _) = c.request(Command::Write, &write).await;
    assert_eq!(st, NtStatus::MEDIA_WRITE_PROTECTED.0);
    assert_eq!(fs.stat("f").await.unwrap().size, 4);
    // A new name would link the live file, not the snapshot's: refused.
    assert_eq!(
        c.link(w, "elsewhere", false).await,
        NtStatus::ACCESS_DENIED.0
    );
    let (st, _) = c
        .create_with("f", READ_DATA, 1, Some(when + 10_000_000))
        .await;
    assert_eq!(st, NtStatus::OBJECT_NAME_NOT_FOUND.0);
    let (st, _) = c.create_with("nope", READ_DATA, 1, Some(when)).await;
    assert_eq!(st, NtStatus::OBJECT_NAME_NOT_FOUND.0);
}
