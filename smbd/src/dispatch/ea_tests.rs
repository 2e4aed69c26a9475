//! Extended attributes through whole requests over MemFs: SET_INFO and QUERY_INFO
//! FileFullEaInformation (scans, the SL_* flags, name lists, buffer sizes), FileEaInformation,
//! the ExtA create context, the reserved namespaces, access rights and FILE_NEED_EA.

use super::file_tests::{CREATE, Client, Create, FILE_ALL, Fid, OK, OPEN, READ_ATTRIBUTES, client};
use crate::proto::NtStatus;
use crate::proto::fscc::{EaListWriter, decode_full_ea_list};
use crate::proto::header::Command;
use vfs::Ea;

/// FileFullEaInformation.
const FULL_EA: u8 = 15;
/// FileEaInformation.
const EA_INFO: u8 = 7;
/// FILE_READ_EA, FILE_WRITE_EA.
const READ_EA: u32 = 0x8;
const WRITE_EA: u32 = 0x10;
/// SL_RESTART_SCAN, SL_RETURN_SINGLE_ENTRY, SL_INDEX_SPECIFIED.
const RESTART: u32 = 1;
const SINGLE: u32 = 2;
const INDEX: u32 = 4;
/// OVERWRITE_IF.
const OVERWRITE_IF: u32 = 5;

fn list(eas: &[Ea]) -> Vec<u8> {
    let mut w = EaListWriter::new(usize::MAX);
    for e in eas {
        assert!(w.push(e));
    }
    w.finish()
}

/// A FILE_GET_EA_INFORMATION list of `names`.
fn get_list(names: &[&[u8]]) -> Vec<u8> {
    let mut b = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let start = b.len();
        b.extend_from_slice(&0u32.to_le_bytes());
        b.push(n.len() as u8);
        b.extend_from_slice(n);
        b.push(0);
        if i + 1 < names.len() {
            b.resize(b.len().next_multiple_of(4), 0);
            let next = (b.len() - start) as u32;
            b[start..start + 4].copy_from_slice(&next.to_le_bytes());
        }
    }
    b
}

fn st(s: NtStatus) -> u32 {
    s.0
}

impl Client {
    /// SET_INFO FileFullEaInformation of `f`.
    async fn set_eas(&mut self, f: Fid, eas: &[Ea]) -> u32 {
        self.set_info(f, 1, FULL_EA, 0, &list(eas)).await
    }

    /// QUERY_INFO of file class `class` on `f`: the status and the output buffer.
    async fn query_file(
        &mut self,
        f: Fid,
        class: u8,
        max: u32,
        flags: u32,
        index: u32,
        input: &[u8],
    ) -> (u32, Vec<u8>) {
        let mut b = vec![41, 0, 1, class];
        b.extend_from_slice(&max.to_le_bytes());
        let off: u16 = if input.is_empty() { 0 } else { 64 + 40 };
        b.extend_from_slice(&off.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&(input.len() as u32).to_le_bytes());
        b.extend_from_slice(&index.to_le_bytes());
        b.extend_from_slice(&flags.to_le_bytes());
        b.extend_from_slice(&f);
        b.extend_from_slice(input);
        let (status, r) = self.request(Command::QueryInfo, &b).await;
        if r.len() < 72 || r[64] != 9 {
            return (status, Vec::new());
        }
        let off = u16::from_le_bytes([r[66], r[67]]) as usize;
        let len = u32::from_le_bytes(r[68..72].try_into().unwrap()) as usize;
        (status, r.get(off..off + len).unwrap_or_default().to_vec())
    }

    /// Every EA of `f` in one restarted scan.
    async fn eas(&mut self, f: Fid) -> Result<Vec<Ea>, u32> {
        match self.query_file(f, FULL_EA, 65536, RESTART, 0, &[]).await {
            (OK, b) => Ok(decode_full_ea_list(&b).unwrap()),
            (s, _) => Err(s),
        }
    }

    /// FileEaInformation's EaSize of `f`.
    async fn ea_size(&mut self, f: Fid) -> u32 {
        let (s, b) = self.query_file(f, EA_INFO, 4, 0, 0, &[]).await;
        assert_eq!(s, OK);
        u32::from_le_bytes(b[..4].try_into().unwrap())
    }
}

#[tokio::test]
async fn set_replace_by_another_case_and_remove() {
    let (mut c, _fs) = client().await;
    let f = c.create(Create::new("f").disposition(CREATE)).await;
    assert_eq!(c.eas(f).await, Err(st(NtStatus::NO_EAS_ON_FILE)));
    assert_eq!(c.ea_size(f).await, 0);
    let one = Ea::new(b"EaOne", b"VALUE1");
    let two = Ea::new(b"SecondEA", b"ValueTwo");
    assert_eq!(c.set_eas(f, &[one.clone(), two.clone()]).await, OK);
    assert_eq!(c.eas(f).await, Ok(vec![one.clone(), two.clone()]));
    // MS-FSA 2.1.5.12.10: the packed sizes (4 + name + 1 + value each) plus 4.
    assert_eq!(c.ea_size(f).await, 16 + 21 + 4);
    let new_one = Ea::new(b"EAONE", b"v");
    assert_eq!(c.set_eas(f, std::slice::from_ref(&new_one)).await, OK);
    assert_eq!(c.eas(f).await, Ok(vec![two, new_one]));
    let gone = [Ea::new(b"eaone", b""), Ea::new(b"secondea", b"")];
    assert_eq!(c.set_eas(f, &gone).await, OK);
    assert_eq!(c.eas(f).await, Err(st(NtStatus::NO_EAS_ON_FILE)));
    // An empty value for a name the file lacks is no error and adds nothing.
    assert_eq!(c.set_eas(f, &[Ea::new(b"ZeroEA", b"")]).await, OK);
    assert_eq!(c.ea_size(f).await, 0);
}

#[tokio::test]
async fn reserved_and_malformed_lists_change_nothing() {
    let (mut c, _fs) = client().await;
    let f = c.create(Create::new("f").disposition(CREATE)).await;
    let keep = Ea::new(b"keep", b"1");
    assert_eq!(c.set_eas(f, std::slice::from_ref(&keep)).await, OK);
    for name in [
        &b"smbd.security.sd"[..],
        b"SMBD.dosattrib",
        b"$Kernel.Purge",
    ] {
        let l = [Ea::new(b"other", b"2"), Ea::new(name, b"x")];
        assert_eq!(c.set_eas(f, &l).await, st(NtStatus::ACCESS_DENIED));
    }
    let bad_name = list(&[Ea::new(b"a*b", b"x")]);
    assert_eq!(
        c.set_info(f, 1, FULL_EA, 0, &bad_name).await,
        st(NtStatus::INVALID_EA_NAME)
    );
    let mut overrun = list(&[Ea::new(b"ab", b"xyz")]);
    overrun.truncate(overrun.len() - 1);
    overrun.resize(8, 0);
    assert_eq!(
        c.set_info(f, 1, FULL_EA, 0, &overrun).await,
        st(NtStatus::EA_LIST_INCONSISTENT)
    );
    assert_eq!(c.eas(f).await, Ok(vec![keep]));
}

#[tokio::test]
async fn scans_continue_and_flags_steer_them() {
    let (mut c, _fs) = client().await;
    let f = c.create(Create::new("f").disposition(CREATE)).await;
    let a = Ea::new(b"A", b"12"); // 12 bytes as an entry
    let b = Ea::new(b"B", b"34");
    assert_eq!(c.set_eas(f, &[a.clone(), b.clone()]).await, OK);
    let one = |x: &Ea| list(std::slice::from_ref(x));
    // Room for one entry: it comes with BUFFER_OVERFLOW, the next query continues.
    assert_eq!(
        c.query_file(f, FULL_EA, 16, RESTART, 0, &[]).await,
        (st(NtStatus::BUFFER_OVERFLOW), one(&a))
    );
    assert_eq!(c.query_file(f, FULL_EA, 16, 0, 0, &[]).await, (OK, one(&b)));
    assert_eq!(
        c.query_file(f, FULL_EA, 16, 0, 0, &[]).await.0,
        st(NtStatus::NO_MORE_EAS)
    );
    assert_eq!(
        c.query_file(f, FULL_EA, 11, RESTART, 0, &[]).await.0,
        st(NtStatus::BUFFER_TOO_SMALL)
    );
    assert_eq!(
        c.query_file(f, FULL_EA, 100, RESTART | SINGLE, 0, &[])
            .await,
        (OK, one(&a))
    );
    assert_eq!(
        c.query_file(f, FULL_EA, 100, INDEX, 2, &[]).await,
        (OK, one(&b))
    );
    assert_eq!(
        c.query_file(f, FULL_EA, 100, INDEX, 3, &[]).await.0,
        st(NtStatus::NO_MORE_EAS)
    );
    for i in [0, 4] {
        assert_eq!(
            c.query_file(f, FULL_EA, 100, INDEX, i, &[]).await.0,
            st(NtStatus::NONEXISTENT_EA_ENTRY)
        );
    }
}

#[tokio::test]
async fn a_name_list_is_answered_in_its_order() {
    let (mut c, _fs) = client().await;
    let f = c.create(Create::new("f").disposition(CREATE)).await;
    let a = Ea::new(b"Alpha", b"1");
    assert_eq!(c.set_eas(f, &[a.clone(), Ea::new(b"Beta", b"2")]).await, OK);
    let input = get_list(&[b"missing", b"ALPHA"]);
    let (s, out) = c.query_file(f, FULL_EA, 100, 0, 0, &input).await;
    assert_eq!(s, OK);
    let got = decode_full_ea_list(&out).unwrap();
    assert_eq!(got, vec![Ea::new(b"missing", b""), a]);
    assert_eq!(
        c.query_file(f, FULL_EA, 100, 0, 0, &get_list(&[b"a?"]))
            .await
            .0,
        st(NtStatus::INVALID_EA_NAME)
    );
}

#[tokio::test]
async fn ext_a_sets_eas_on_create_and_overwrite_replaces_them() {
    let (mut c, _fs) = client().await;
    let first = list(&[
        Ea::new(b"EAONE", b"VALUE1"),
        Ea::new(b"SECONDEA", b"ValueTwo"),
    ]);
    let f = c
        .create(Create::new("f").disposition(CREATE).ext_a(first))
        .await;
    assert_eq!(c.eas(f).await.unwrap().len(), 2);
    assert_eq!(c.close(f).await, OK);
    let again = list(&[Ea::new(b"Third", b"3")]);
    let f = c
        .create(Create::new("f").disposition(OVERWRITE_IF).ext_a(again))
        .await;
    assert_eq!(c.eas(f).await, Ok(vec![Ea::new(b"Third", b"3")]));
    // A plain open leaves them.
    let g = c.create(Create::new("f").disposition(OPEN)).await;
    assert_eq!(c.eas(g).await.unwrap().len(), 1);
    // A reserved name refuses the create before the file exists.
    let bad = list(&[Ea::new(b"smbd.eas", b"x")]);
    assert_eq!(
        c.try_create(Create::new("new").disposition(CREATE).ext_a(bad))
            .await,
        Err(st(NtStatus::ACCESS_DENIED))
    );
    assert_eq!(
        c.try_create(Create::new("new").disposition(OPEN)).await,
        Err(st(NtStatus::OBJECT_NAME_NOT_FOUND))
    );
    // EAs belong to the file, not to a stream.
    let on_stream = list(&[Ea::new(b"x", b"1")]);
    assert_eq!(
        c.try_create(Create::new("f:s").disposition(CREATE).ext_a(on_stream))
            .await,
        Err(st(NtStatus::EAS_NOT_SUPPORTED))
    );
}

#[tokio::test]
async fn rights_and_need_ea() {
    let (mut c, _fs) = client().await;
    let mut need = Ea::new(b"Needed", b"1");
    need.flags = vfs::ea::FILE_NEED_EA;
    let f = c
        .create(Create::new("f").disposition(CREATE).ext_a(list(&[need])))
        .await;
    assert_eq!(c.close(f).await, OK);
    let r = c
        .create(Create::new("f").disposition(OPEN).access(READ_ATTRIBUTES))
        .await;
    assert_eq!(
        c.query_file(r, FULL_EA, 100, RESTART, 0, &[]).await.0,
        st(NtStatus::ACCESS_DENIED)
    );
    assert_eq!(c.ea_size(r).await, 4 + 4 + 6 + 1 + 1);
    let ro = c
        .create(Create::new("f").disposition(OPEN).access(READ_EA))
        .await;
    assert_eq!(c.eas(ro).await.unwrap().len(), 1);
    assert_eq!(
        c.set_eas(ro, &[Ea::new(b"x", b"1")]).await,
        st(NtStatus::ACCESS_DENIED)
    );
    let w = c
        .create(Create::new("f").disposition(OPEN).access(WRITE_EA))
        .await;
    assert_eq!(c.set_eas(w, &[Ea::new(b"x", b"1")]).await, OK);
    // FILE_NO_EA_KNOWLEDGE cannot open a file that needs its EAs understood.
    let no_knowledge = 0x40 | 0x200;
    assert_eq!(
        c.try_create(
            Create::new("f")
                .disposition(OPEN)
                .access(FILE_ALL)
                .options(no_knowledge)
        )
        .await,
        Err(st(NtStatus::ACCESS_DENIED))
    );
}
