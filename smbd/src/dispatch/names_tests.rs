//! 8.3 short names through whole requests over MemFs: FileAlternateNameInformation, the
//! ShortName of directory listings and patterns matched against it, opening by short name, and
//! a file recreated under its short name keeping its long name (smbtorture smb2.mangle).

use super::file_tests::{
    CREATE, Client, Create, DELETE, DELETE_ON_CLOSE, Fid, OK, OPEN, READ_ATTRIBUTES, client,
};
use crate::proto::NtStatus;
use crate::proto::header::Command;
use vfs::short_names::alone;

/// FileAlternateNameInformation.
const ALTERNATE_NAME: u8 = 21;
/// FileIdBothDirectoryInformation.
const ID_BOTH: u8 = 37;

/// The UTF-16LE bytes of `s`, decoded.
fn string(units: &[u8]) -> String {
    let u: Vec<u16> = units
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&u).unwrap()
}

impl Client {
    /// QUERY_INFO of `class` and `info_type` on `f` with `input`: the status and the output.
    pub(super) async fn query(
        &mut self,
        f: Fid,
        info_type: u8,
        class: u8,
        input: &[u8],
    ) -> (u32, Vec<u8>) {
        let mut b = vec![41, 0, info_type, class];
        b.extend_from_slice(&65536u32.to_le_bytes());
        b.extend_from_slice(&104u16.to_le_bytes()); // InputBufferOffset
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&(input.len() as u32).to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes()); // AdditionalInformation
        b.extend_from_slice(&0u32.to_le_bytes()); // Flags
        b.extend_from_slice(&f);
        b.extend_from_slice(input);
        if input.is_empty() {
            b.push(0);
        }
        let (st, r) = self.request(Command::QueryInfo, &b).await;
        if r.len() < 72 {
            return (st, Vec::new());
        }
        let off = u16::from_le_bytes([r[66], r[67]]) as usize;
        let len = u32::from_le_bytes(r[68..72].try_into().unwrap()) as usize;
        (st, r.get(off..off + len).unwrap_or_default().to_vec())
    }

    /// FileAlternateNameInformation of `path`.
    async fn alternate_name(&mut self, path: &str) -> Result<String, u32> {
        let f = self
            .create(
                Create::new(path)
                    .access(READ_ATTRIBUTES)
                    .disposition(OPEN)
                    .options(0),
            )
            .await;
        let (st, out) = self.query(f, 1, ALTERNATE_NAME, &[]).await;
        self.close(f).await;
        match st {
            OK => Ok(string(&out[4..])),
            st => Err(st),
        }
    }

    /// (name, short name) of each entry of directory `f` matching `pattern`.
    async fn list(&mut self, f: Fid, pattern: &str) -> Vec<(String, String)> {
        let name: Vec<u8> = pattern.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let mut b = vec![33, 0, ID_BOTH, 1, 0, 0, 0, 0];
        b.extend_from_slice(&f);
        b.extend_from_slice(&96u16.to_le_bytes());
        b.extend_from_slice(&(name.len() as u16).to_le_bytes());
        b.extend_from_slice(&65536u32.to_le_bytes());
        b.extend_from_slice(&name);
        let (st, r) = self.request(Command::QueryDirectory, &b).await;
        if st != OK {
            return Vec::new();
        }
        let off = u16::from_le_bytes([r[66], r[67]]) as usize;
        let len = u32::from_le_bytes(r[68..72].try_into().unwrap()) as usize;
        let buf = &r[off..off + len];
        let mut out = Vec::new();
        let mut at = 0;
        loop {
            let e = &buf[at..];
            let next = u32::from_le_bytes(e[0..4].try_into().unwrap()) as usize;
            let n = u32::from_le_bytes(e[60..64].try_into().unwrap()) as usize;
            let short_len = usize::from(e[68]);
            out.push((string(&e[104..104 + n]), string(&e[70..70 + short_len])));
            if next == 0 {
                break;
            }
            at += next;
        }
        out
    }

    /// Creates (or opens) and closes.
    async fn touch(&mut self, create: Create<'_>) {
        let f = self.create(create).await;
        self.close(f).await;
    }

    async fn unlink(&mut self, path: &str) -> u32 {
        match self
            .try_create(
                Create::new(path)
                    .access(DELETE)
                    .disposition(OPEN)
                    .options(DELETE_ON_CLOSE),
            )
            .await
        {
            Ok(f) => self.close(f).await,
            Err(st) => st,
        }
    }
}

#[tokio::test]
async fn alternate_names_listings_and_opens_agree() {
    let (mut c, _fs) = client().await;
    let dir = c.create(Create::new("names").dir()).await;
    let long = "names\\A long document name.docx";
    c.touch(Create::new(long).disposition(CREATE)).await;
    c.touch(Create::new("names\\plain.txt").disposition(CREATE))
        .await;
    let short = c.alternate_name(long).await.unwrap();
    assert_eq!(Some(short.clone()), alone("A long document name.docx"));
    // Interop (Samba, smbtorture smb2.mangle): a valid 8.3 name answers itself, upper-cased.
    assert_eq!(
        c.alternate_name("names\\plain.txt").await.unwrap(),
        "PLAIN.TXT"
    );
    let listed = c.list(dir, "*").await;
    assert!(listed.contains(&("A long document name.docx".into(), short.clone())));
    assert!(
        listed.contains(&("plain.txt".into(), String::new())),
        "{listed:?}"
    );
    // The short name opens the file, and patterns match it.
    let by_short = c
        .create(Create::new(&format!("names\\{short}")).disposition(OPEN))
        .await;
    c.close(by_short).await;
    let matched = c.list(dir, &format!("{}*", &short[..7])).await;
    assert_eq!(matched, vec![("A long document name.docx".into(), short)]);
    c.close(dir).await;
}

/// smbtorture smb2.mangle: removed by its short name and created again under it, a file gets
/// its long name back (tunneling), so it can be removed by its long name.
#[tokio::test]
async fn recreated_by_short_name_keeps_the_long_name() {
    let (mut c, fs) = client().await;
    c.touch(Create::new("mangle_test").dir()).await;
    let long = "mangle_test\\ABCDE.qp.xnYQ";
    c.touch(Create::new(long).disposition(CREATE)).await;
    let short = c.alternate_name(long).await.unwrap();
    let by_short = format!("mangle_test\\{short}");
    assert_eq!(c.unlink(&by_short).await, OK);
    c.touch(Create::new(&by_short).disposition(CREATE)).await;
    assert!(
        vfs::Vfs::stat(&fs, "mangle_test/ABCDE.qp.xnYQ")
            .await
            .is_ok()
    );
    assert_eq!(c.unlink(long).await, OK);
    assert_eq!(c.unlink(long).await, NtStatus::OBJECT_NAME_NOT_FOUND.0);
}

/// The root has no alternate name.
#[tokio::test]
async fn the_root_has_no_alternate_name() {
    let (mut c, _fs) = client().await;
    let root = c
        .create(Create::new("").dir().access(READ_ATTRIBUTES))
        .await;
    let (st, _) = c.query(root, 1, ALTERNATE_NAME, &[]).await;
    assert_eq!(st, NtStatus::OBJECT_NAME_NOT_FOUND.0);
}
