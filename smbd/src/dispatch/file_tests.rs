//! Opens of files as the server-wide file table sees them, driven through whole requests over
//! MemFs: one case folding and one entry per file, opens that follow renames, the checks of a
//! rename at its destination, access decided on the object CREATE opens, allocation, the SecD
//! context's owner and SACL, and the per-file lock cap.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::dispatch::test_client::{SID, TestClient, wraps_test_client};
use crate::fuzzing::seeds;
use crate::proto::NtStatus;
use crate::proto::header::Command;
use crate::state::{ServerContext, Settings};
use vfs::{Disposition, OpenOptions, Vfs};

pub(super) const OK: u32 = 0;

/// CreateDisposition values.
pub(super) const OPEN: u32 = 1;
pub(super) const CREATE: u32 = 2;
pub(super) const OPEN_IF: u32 = 3;
/// CreateOptions.
pub(super) const DIRECTORY: u32 = 0x1;
pub(super) const NON_DIRECTORY: u32 = 0x40;
pub(super) const DELETE_ON_CLOSE: u32 = 0x1000;
/// Access bits.
pub(super) const FILE_ALL: u32 = 0x001F_01FF;
pub(super) const READ_DATA: u32 = 0x1;
pub(super) const WRITE_DATA: u32 = 0x2;
const APPEND_DATA: u32 = 0x4;
pub(super) const READ_ATTRIBUTES: u32 = 0x80;
pub(super) const DELETE: u32 = 0x1_0000;
pub(super) const SHARE_ALL: u32 = 7;

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn sd(sddl: &str) -> Vec<u8> {
    acl::SecurityDescriptor::from_sddl(sddl, None)
        .expect("sddl")
        .encode()
        .expect("encode")
}

/// One CREATE.
pub(super) struct Create<'a> {
    name: &'a str,
    access: u32,
    share: u32,
    disposition: u32,
    options: u32,
    attributes: u32,
    /// One create context: its name and data.
    context: Option<([u8; 4], Vec<u8>)>,
}

impl<'a> Create<'a> {
    pub(super) fn new(name: &'a str) -> Self {
        Self {
            name,
            access: FILE_ALL,
            share: SHARE_ALL,
            disposition: OPEN_IF,
            options: NON_DIRECTORY,
            attributes: 0x80,
            context: None,
        }
    }
    pub(super) fn access(self, access: u32) -> Self {
        Self { access, ..self }
    }
    pub(super) fn share(self, share: u32) -> Self {
        Self { share, ..self }
    }
    pub(super) fn disposition(self, disposition: u32) -> Self {
        Self {
            disposition,
            ..self
        }
    }
    pub(super) fn options(self, options: u32) -> Self {
        Self { options, ..self }
    }
    pub(super) fn dir(self) -> Self {
        Self {
            options: DIRECTORY,
            ..self
        }
    }
    pub(super) fn attributes(self, attributes: u32) -> Self {
        Self { attributes, ..self }
    }
    pub(super) fn secd(self, sddl: &str) -> Self {
        Self {
            context: Some((*b"SecD", sd(sddl))),
            ..self
        }
    }
    /// An ExtA create context holding the FILE_FULL_EA_INFORMATION list `eas`.
    pub(super) fn ext_a(self, eas: Vec<u8>) -> Self {
        Self {
            context: Some((*b"ExtA", eas)),
            ..self
        }
    }

    fn body(&self) -> Vec<u8> {
        let name = utf16(self.name);
        let mut b = vec![57, 0, 0, 0];
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&[0; 16]);
        for v in [
            self.access,
            self.attributes,
            self.share,
            self.disposition,
            self.options,
        ] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&120u16.to_le_bytes());
        b.extend_from_slice(&(name.len() as u16).to_le_bytes());
        let ctx_off = (120 + name.len()).next_multiple_of(8);
        let ctx = self.context.as_ref().map(|(tag, d)| {
            let mut c = Vec::new();
            c.extend_from_slice(&0u32.to_le_bytes()); // Next
            c.extend_from_slice(&16u16.to_le_bytes());
            c.extend_from_slice(&4u16.to_le_bytes());
            c.extend_from_slice(&0u16.to_le_bytes());
            c.extend_from_slice(&24u16.to_le_bytes());
            c.extend_from_slice(&(d.len() as u32).to_le_bytes());
            c.extend_from_slice(tag);
            c.extend_from_slice(&[0; 4]);
            c.extend_from_slice(d);
            c
        });
        let (off, len) = ctx.as_ref().map_or((0, 0), |c| (ctx_off, c.len()));
        b.extend_from_slice(&(off as u32).to_le_bytes());
        b.extend_from_slice(&(len as u32).to_le_bytes());
        b.extend_from_slice(&name);
        if let Some(c) = ctx {
            b.resize(ctx_off - 64, 0);
            b.extend_from_slice(&c);
        } else if name.is_empty() {
            b.push(0);
        }
        b
    }
}

/// A file id from a CREATE response.
pub(super) type Fid = [u8; 16];

/// A connection with a signed-in session and tree 1 on "share".
pub(super) struct Client(TestClient);

wraps_test_client!(Client, 0);

impl Client {
    pub(super) async fn new(server: Arc<ServerContext>) -> Self {
        Self(TestClient::on_share(server).await)
    }

    /// Sends one request on tree 1 and returns its status and reply.
    pub(super) async fn request(&mut self, command: Command, body: &[u8]) -> (u32, Vec<u8>) {
        let id = self.next_id();
        self.call(seeds::message(command, id, SID, 1, body)).await
    }

    pub(super) async fn try_create(&mut self, c: Create<'_>) -> Result<Fid, u32> {
        match self.request(Command::Create, &c.body()).await {
            (OK, r) => Ok(r[128..144].try_into().unwrap()),
            (st, _) => Err(st),
        }
    }

    pub(super) async fn create(&mut self, c: Create<'_>) -> Fid {
        let name = c.name.to_owned();
        self.try_create(c)
            .await
            .unwrap_or_else(|st| panic!("create {name}: {st:#x}"))
    }

    pub(super) async fn close(&mut self, f: Fid) -> u32 {
        let mut b = vec![24, 0, 0, 0, 0, 0, 0, 0];
        b.extend_from_slice(&f);
        self.request(Command::Close, &b).await.0
    }

    pub(super) async fn set_info(
        &mut self,
        f: Fid,
        kind: u8,
        class: u8,
        extra: u32,
        buf: &[u8],
    ) -> u32 {
        let mut b = vec![33, 0, kind, class];
        b.extend_from_slice(&(buf.len() as u32).to_le_bytes());
        b.extend_from_slice(&96u16.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&extra.to_le_bytes());
        b.extend_from_slice(&f);
        b.extend_from_slice(buf);
        self.request(Command::SetInfo, &b).await.0
    }

    pub(super) async fn rename(&mut self, f: Fid, to: &str, replace: bool) -> u32 {
        let name = utf16(to);
        let mut b = vec![u8::from(replace), 0, 0, 0, 0, 0, 0, 0];
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&(name.len() as u32).to_le_bytes());
        b.extend_from_slice(&name);
        self.set_info(f, 1, 10, 0, &b).await
    }

    pub(super) async fn delete_pending(&mut self, f: Fid) -> u32 {
        self.set_info(f, 1, 13, 0, &[1]).await
    }

    async fn allocation(&mut self, f: Fid, len: u64) -> u32 {
        self.set_info(f, 1, 19, 0, &len.to_le_bytes()).await
    }

    pub(super) async fn set_dacl(&mut self, f: Fid, sddl: &str) -> u32 {
        self.set_info(f, 3, 0, 0x4, &sd(sddl)).await
    }

    pub(super) async fn write(&mut self, f: Fid, data: &[u8]) -> u32 {
        let mut b = vec![49, 0, 112, 0];
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(&0u64.to_le_bytes());
        b.extend_from_slice(&f);
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(data);
        self.request(Command::Write, &b).await.0
    }

    async fn lock(&mut self, f: Fid, ranges: &[(u64, u64)]) -> u32 {
        let mut b = vec![48, 0];
        b.extend_from_slice(&(ranges.len() as u16).to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&f);
        for (off, len) in ranges {
            b.extend_from_slice(&off.to_le_bytes());
            b.extend_from_slice(&len.to_le_bytes());
            b.extend_from_slice(&(0x2u32 | 0x10).to_le_bytes()); // exclusive, fail at once
            b.extend_from_slice(&0u32.to_le_bytes());
        }
        self.request(Command::Lock, &b).await.0
    }
}

/// A server over `fs` and a client of it.
async fn client_over(fs: Arc<dyn Vfs>) -> Client {
    Client::new(crate::dispatch::test_server::server(fs, 512)).await
}

pub(super) async fn client() -> (Client, vfs::mem::MemFs) {
    let fs = vfs::mem::MemFs::new();
    (client_over(Arc::new(fs.clone())).await, fs)
}

async fn exists(fs: &vfs::mem::MemFs, path: &str) -> bool {
    fs.stat(path).await.is_ok()
}

async fn contents(fs: &vfs::mem::MemFs, path: &str) -> Vec<u8> {
    let o = fs
        .open(path, &OpenOptions::read_existing())
        .await
        .expect("open");
    o.file.read_at(0, 1 << 16).await.expect("read")
}

// 1. One case folding, one entry per file.

/// "ſecret.txt" (U+017F, which upper-cases to S) names secret.txt: it meets its share modes.
#[tokio::test]
async fn every_spelling_of_a_name_meets_the_same_share_modes() {
    let (mut c, _fs) = client().await;
    let f = c.create(Create::new("secret.txt").share(0)).await;
    for name in ["SECRET.TXT", "\u{17F}ecret.txt", "sub\\..\\secret.txt"] {
        assert_eq!(
            c.try_create(Create::new(name).access(READ_DATA)).await,
            Err(NtStatus::SHARING_VIOLATION.0),
            "{name}"
        );
    }
    assert_eq!(c.close(f).await, OK);
    let g = c.create(Create::new("\u{17F}ecret.txt").share(0)).await;
    assert_eq!(
        c.try_create(Create::new("secret.txt").access(READ_DATA))
            .await,
        Err(NtStatus::SHARING_VIOLATION.0)
    );
    assert_eq!(c.close(g).await, OK);
}

/// Delete-pending set through one spelling holds for every other.
#[tokio::test]
async fn delete_pending_holds_for_every_spelling() {
    let (mut c, fs) = client().await;
    let f = c.create(Create::new("secret.txt")).await;
    assert_eq!(c.delete_pending(f).await, OK);
    assert_eq!(
        c.try_create(Create::new("\u{17F}ECRET.TXT")).await,
        Err(NtStatus::DELETE_PENDING.0)
    );
    assert_eq!(c.close(f).await, OK);
    assert!(!exists(&fs, "secret.txt").await);
}

// 2. Opens refer to the file, not to the path they were opened by.

/// Two handles; one renames; delete-on-close through the other deletes the renamed file, not
/// a new file that took the old name.
#[tokio::test]
async fn delete_on_close_follows_a_rename_by_another_handle() {
    let (mut c, fs) = client().await;
    let h1 = c.create(Create::new("a.txt")).await;
    let h2 = c.create(Create::new("a.txt")).await;
    assert_eq!(c.rename(h1, "b.txt", false).await, OK);
    let h3 = c.create(Create::new("a.txt").disposition(CREATE)).await;
    assert_eq!(c.write(h3, b"new").await, OK);
    assert_eq!(c.close(h3).await, OK);
    assert_eq!(c.delete_pending(h2).await, OK);
    assert_eq!(c.close(h1).await, OK);
    assert_eq!(c.close(h2).await, OK);
    assert!(!exists(&fs, "b.txt").await, "the renamed file is deleted");
    assert_eq!(contents(&fs, "a.txt").await, b"new");
}

/// After a rename with several handles open, the old name is free: a later rename to it works.
#[tokio::test]
async fn rename_into_a_freed_name_works() {
    let (mut c, fs) = client().await;
    let h1 = c.create(Create::new("x.txt")).await;
    let h2 = c.create(Create::new("x.txt")).await;
    assert_eq!(c.rename(h1, "y.txt", false).await, OK);
    assert_eq!(c.close(h1).await, OK);
    assert_eq!(c.close(h2).await, OK);
    fs.remove("y.txt").await.unwrap();
    let z = c.create(Create::new("z.txt")).await;
    assert_eq!(c.rename(z, "y.txt", false).await, OK);
    let w = c.create(Create::new("w.txt")).await;
    assert_eq!(c.rename(w, "x.txt", false).await, OK);
    assert_eq!(c.close(z).await, OK);
    assert_eq!(c.close(w).await, OK);
    assert!(exists(&fs, "y.txt").await && exists(&fs, "x.txt").await);
}

/// A directory is renamed only when nothing below it is open; opens of the directory itself
/// follow it.
#[tokio::test]
async fn directory_rename_moves_its_opens() {
    let (mut c, fs) = client().await;
    let d = c.create(Create::new("d").dir()).await;
    let f = c.create(Create::new("d\\f.txt")).await;
    assert_eq!(
        c.rename(d, "e", false).await,
        NtStatus::ACCESS_DENIED.0,
        "a file below is open"
    );
    assert_eq!(c.close(f).await, OK);
    assert_eq!(c.rename(d, "e", false).await, OK);
    assert_eq!(c.delete_pending(d).await, NtStatus::DIRECTORY_NOT_EMPTY.0);
    assert_eq!(c.close(d).await, OK);
    assert!(exists(&fs, "e/f.txt").await);
}

// 3. Rename checks at the destination.

/// A DACL granting everything but FILE_ADD_FILE and FILE_ADD_SUBDIRECTORY.
const NO_ADD: &str = "D:P(A;OICI;0x1F01F9;;;WD)";

#[tokio::test]
async fn rename_needs_add_file_in_the_target_directory() {
    let (mut c, fs) = client().await;
    let locked = c.create(Create::new("locked").dir().secd(NO_ADD)).await;
    let open_dir = c.create(Create::new("open").dir()).await;
    let a = c.create(Create::new("a.txt").access(DELETE)).await;
    assert_eq!(
        c.rename(a, "locked\\a.txt", false).await,
        NtStatus::ACCESS_DENIED.0
    );
    assert!(exists(&fs, "a.txt").await);
    assert_eq!(c.rename(a, "open\\a.txt", false).await, OK);
    assert!(exists(&fs, "open/a.txt").await);
    // Same directory: a file inside "locked" cannot be renamed there either.
    let mut d = c.create(Create::new("d").dir()).await;
    let inner = c.create(Create::new("d\\f.txt").access(DELETE)).await;
    assert_eq!(c.set_dacl(d, NO_ADD).await, OK);
    assert_eq!(
        c.rename(inner, "d\\g.txt", false).await,
        NtStatus::ACCESS_DENIED.0
    );
    // A directory needs FILE_ADD_SUBDIRECTORY: the file right alone is not enough.
    assert_eq!(c.close(d).await, OK);
    d = c
        .create(
            Create::new("files_only")
                .dir()
                .secd("D:P(A;OICI;0x1F01FB;;;WD)"),
        )
        .await;
    let sub = c.create(Create::new("sub").dir().access(DELETE)).await;
    assert_eq!(
        c.rename(sub, "files_only\\sub", false).await,
        NtStatus::ACCESS_DENIED.0
    );
    for f in [locked, open_dir, inner, d, sub] {
        assert_eq!(c.close(f).await, OK);
    }
}

#[tokio::test]
async fn rename_replacing_a_file_is_checked_on_that_file() {
    let (mut c, fs) = client().await;
    // Read-only target.
    let ro = c.create(Create::new("ro.txt").attributes(0x1)).await;
    assert_eq!(c.close(ro).await, OK);
    let a = c.create(Create::new("a.txt").access(DELETE)).await;
    assert_eq!(c.rename(a, "ro.txt", true).await, NtStatus::ACCESS_DENIED.0);
    // Open target.
    let busy = c
        .create(Create::new("busy.txt").access(READ_ATTRIBUTES))
        .await;
    assert_eq!(
        c.rename(a, "busy.txt", true).await,
        NtStatus::ACCESS_DENIED.0
    );
    assert_eq!(c.close(busy).await, OK);
    // A directory is never replaced.
    let dir = c.create(Create::new("dir").dir()).await;
    assert_eq!(c.close(dir).await, OK);
    assert_eq!(c.rename(a, "dir", true).await, NtStatus::ACCESS_DENIED.0);
    // Without DELETE on the target, nor FILE_DELETE_CHILD on its directory.
    let nd = c
        .create(Create::new("nd").dir().secd("D:P(A;;0x1F01BF;;;WD)"))
        .await;
    let t = c
        .create(Create::new("nd\\t.txt").secd("D:P(A;;0x1E01FF;;;WD)"))
        .await;
    assert_eq!(c.close(t).await, OK);
    assert_eq!(
        c.rename(a, "nd\\t.txt", true).await,
        NtStatus::ACCESS_DENIED.0
    );
    // Without ReplaceIfExists: a collision.
    let plain = c.create(Create::new("plain.txt")).await;
    assert_eq!(c.write(plain, b"old").await, OK);
    assert_eq!(c.close(plain).await, OK);
    assert_eq!(
        c.rename(a, "plain.txt", false).await,
        NtStatus::OBJECT_NAME_COLLISION.0
    );
    // And a closed, writable, deletable file is replaced.
    assert_eq!(c.rename(a, "plain.txt", true).await, OK);
    assert_eq!(c.close(a).await, OK);
    assert!(!exists(&fs, "a.txt").await);
    assert_eq!(contents(&fs, "plain.txt").await, b"");
    assert!(exists(&fs, "ro.txt").await && exists(&fs, "busy.txt").await);
    assert_eq!(c.close(nd).await, OK);
}

// 4. Access decided on the object that is opened.

/// A MemFs where another client creates `name` (with a descriptor that denies everyone)
/// just before the server's first creating open of it: the server's create loses the race.
struct RacyFs {
    inner: vfs::mem::MemFs,
    armed: Mutex<Option<String>>,
}

#[async_trait]
impl Vfs for RacyFs {
    async fn open(&self, path: &str, opts: &OpenOptions) -> vfs::VfsResult<vfs::Opened> {
        let fire = opts.disposition != Disposition::Open && {
            let mut a = self.armed.lock().unwrap();
            a.as_deref() == Some(path) && a.take().is_some()
        };
        if fire {
            let create = OpenOptions {
                disposition: Disposition::Create,
                ..OpenOptions::read_existing()
            };
            let theirs = self.inner.open(path, &create).await.expect("racer");
            theirs
                .file
                .set_meta(
                    crate::dispatch::security::SD_META,
                    sd("O:BAG:BAD:P(D;;FA;;;WD)"),
                )
                .await
                .unwrap();
        }
        self.inner.open(path, opts).await
    }
    async fn stat(&self, path: &str) -> vfs::VfsResult<vfs::FileStat> {
        self.inner.stat(path).await
    }
    async fn rename(&self, from: &str, to: &str, replace: bool) -> vfs::VfsResult<()> {
        self.inner.rename(from, to, replace).await
    }
    async fn remove(&self, path: &str) -> vfs::VfsResult<()> {
        self.inner.remove(path).await
    }
    async fn fs_info(&self) -> vfs::VfsResult<vfs::FsInfo> {
        self.inner.fs_info().await
    }
    async fn open_stream(
        &self,
        path: &str,
        stream: &str,
        opts: &OpenOptions,
    ) -> vfs::VfsResult<vfs::Opened> {
        self.inner.open_stream(path, stream, opts).await
    }
    async fn list_streams(&self, path: &str) -> vfs::VfsResult<Vec<vfs::StreamInfo>> {
        self.inner.list_streams(path).await
    }
    async fn remove_stream(&self, path: &str, stream: &str) -> vfs::VfsResult<()> {
        self.inner.remove_stream(path, stream).await
    }
    async fn rename_stream(
        &self,
        path: &str,
        from: &str,
        to: &str,
        replace: bool,
    ) -> vfs::VfsResult<()> {
        self.inner.rename_stream(path, from, to, replace).await
    }
}

async fn racy(name: &str) -> Client {
    client_over(Arc::new(RacyFs {
        inner: vfs::mem::MemFs::new(),
        armed: Mutex::new(Some(name.to_owned())),
    }))
    .await
}

#[tokio::test]
async fn open_if_that_loses_a_create_race_is_checked_as_an_open() {
    let mut c = racy("r.txt").await;
    assert_eq!(
        c.try_create(Create::new("r.txt").disposition(OPEN_IF))
            .await,
        Err(NtStatus::ACCESS_DENIED.0)
    );
    let mut c = racy("r.txt").await;
    assert_eq!(
        c.try_create(Create::new("r.txt").disposition(5)).await, // OVERWRITE_IF
        Err(NtStatus::ACCESS_DENIED.0)
    );
}

#[tokio::test]
async fn create_that_loses_a_create_race_is_a_collision() {
    let mut c = racy("r.txt").await;
    assert_eq!(
        c.try_create(Create::new("r.txt").disposition(CREATE)).await,
        Err(NtStatus::OBJECT_NAME_COLLISION.0)
    );
}

/// Overwriting happens only after the access and share checks, on the handle they were made on.
#[tokio::test]
async fn overwrite_refused_by_share_mode_keeps_the_data() {
    let (mut c, fs) = client().await;
    let f = c
        .create(Create::new("o.txt").share(READ_DATA /* share read */))
        .await;
    assert_eq!(c.write(f, b"keep").await, OK);
    assert_eq!(
        c.try_create(Create::new("o.txt").disposition(5)).await,
        Err(NtStatus::SHARING_VIOLATION.0)
    );
    assert_eq!(contents(&fs, "o.txt").await, b"keep");
    assert_eq!(c.close(f).await, OK);
    let g = c.create(Create::new("o.txt").disposition(5)).await;
    assert_eq!(contents(&fs, "o.txt").await, b"");
    assert_eq!(c.close(g).await, OK);
}

/// A new read-only file with delete-on-close is refused before it is created, and an
/// overwrite that would make the file read-only before its data is destroyed.
#[tokio::test]
async fn read_only_delete_on_close_is_refused_before_anything_happens() {
    let (mut c, fs) = client().await;
    let doc_ro = || {
        Create::new("ro.txt")
            .attributes(0x1)
            .options(NON_DIRECTORY | DELETE_ON_CLOSE)
    };
    assert_eq!(
        c.try_create(doc_ro().disposition(CREATE)).await,
        Err(NtStatus::CANNOT_DELETE.0)
    );
    assert!(!exists(&fs, "ro.txt").await);
    let f = c.create(Create::new("ro.txt").disposition(CREATE)).await;
    assert_eq!(c.write(f, b"data").await, OK);
    assert_eq!(c.close(f).await, OK);
    assert_eq!(
        c.try_create(doc_ro().disposition(5)).await,
        Err(NtStatus::CANNOT_DELETE.0)
    );
    assert_eq!(contents(&fs, "ro.txt").await, b"data");
}

// 5. FileAllocationInformation.

#[tokio::test]
async fn allocation_below_eof_needs_write_data() {
    let (mut c, fs) = client().await;
    let w = c.create(Create::new("al.txt")).await;
    assert_eq!(c.write(w, b"0123456789").await, OK);
    assert_eq!(c.close(w).await, OK);
    let app = c
        .create(Create::new("al.txt").access(APPEND_DATA | READ_ATTRIBUTES))
        .await;
    assert_eq!(c.allocation(app, 4).await, NtStatus::ACCESS_DENIED.0);
    assert_eq!(contents(&fs, "al.txt").await, b"0123456789");
    assert_eq!(c.allocation(app, 1 << 20).await, OK, "growing with append");
    assert_eq!(c.close(app).await, OK);
    let wr = c
        .create(Create::new("al.txt").access(WRITE_DATA | READ_ATTRIBUTES))
        .await;
    assert_eq!(c.allocation(wr, 4).await, OK);
    assert_eq!(contents(&fs, "al.txt").await, b"0123");
    assert_eq!(c.close(wr).await, OK);
}

// 6. The SecD create context follows SET_INFO's owner and SACL rules.

#[tokio::test]
async fn secd_owner_must_be_the_user_or_a_group() {
    let (mut c, fs) = client().await;
    assert_eq!(
        c.try_create(Create::new("o1.txt").secd("O:BAD:(A;;FA;;;WD)"))
            .await,
        Err(0xC000_005A)
    );
    assert!(!exists(&fs, "o1.txt").await);
    // The anonymous user itself, and Everyone (one of its groups), are fine.
    for (name, owner) in [("o2.txt", "AN"), ("o3.txt", "WD")] {
        let f = c
            .create(Create::new(name).secd(&format!("O:{owner}D:(A;;FA;;;WD)")))
            .await;
        assert_eq!(c.close(f).await, OK);
    }
}

#[tokio::test]
async fn secd_sacl_needs_the_security_privilege() {
    let (mut c, fs) = client().await;
    assert_eq!(
        c.try_create(Create::new("s.txt").secd("D:(A;;FA;;;WD)S:(AU;SA;FA;;;WD)"))
            .await,
        Err(NtStatus::PRIVILEGE_NOT_HELD.0)
    );
    assert!(!exists(&fs, "s.txt").await);
}

// 7. Byte-range locks per file are capped.

#[tokio::test]
async fn locks_beyond_the_per_file_cap_are_refused_whole() {
    let server = crate::dispatch::test_server::server(Arc::new(vfs::mem::MemFs::new()), 512);
    let mut settings = Settings::clone(&server.settings());
    settings.limits.max_locks_per_file = 3;
    server.set_settings(settings);
    let mut c = Client::new(server).await;
    let f = c.create(Create::new("l.txt")).await;
    let g = c.create(Create::new("l.txt")).await;
    assert_eq!(c.lock(f, &[(0, 1), (1, 1)]).await, OK);
    assert_eq!(
        c.lock(g, &[(10, 1), (11, 1)]).await,
        NtStatus::INSUFFICIENT_RESOURCES.0
    );
    // Nothing of the refused request was kept: the cap still has room for one.
    assert_eq!(c.lock(f, &[(10, 1)]).await, OK);
    assert_eq!(
        c.lock(g, &[(20, 1)]).await,
        NtStatus::INSUFFICIENT_RESOURCES.0
    );
    assert_eq!(c.close(f).await, OK);
    assert_eq!(c.lock(g, &[(0, 1), (1, 1), (2, 1)]).await, OK);
    assert_eq!(c.close(g).await, OK);
}

/// A directory open whose create loses nothing: the root and a subdirectory open as before.
#[tokio::test]
async fn plain_opens_still_work() {
    let (mut c, _fs) = client().await;
    let root = c.create(Create::new("").dir().disposition(OPEN)).await;
    assert_eq!(c.close(root).await, OK);
    let d = c.create(Create::new("dd").dir().disposition(CREATE)).await;
    assert_eq!(
        c.try_create(Create::new("dd").dir().disposition(CREATE))
            .await,
        Err(NtStatus::OBJECT_NAME_COLLISION.0)
    );
    assert_eq!(c.close(d).await, OK);
    let f = c
        .create(Create::new("doc.txt").options(NON_DIRECTORY | DELETE_ON_CLOSE))
        .await;
    assert_eq!(c.close(f).await, OK);
}
