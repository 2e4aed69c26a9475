//! End-to-end pipe tests with hand-built PDUs. Byte layouts follow C706 12.6 (PDUs) and
//! MS-SRVS 3.1.4.8 / 3.1.4.10 / 3.1.4.17 (stubs); responses are decoded with the small,
//! independent NDR reader below rather than the module's own.

use std::sync::Arc;

use super::*;

fn hex(s: &str) -> Vec<u8> {
    // Everything after "--" on a line is a comment.
    let digits: Vec<u8> = s
        .lines()
        .flat_map(|l| l.split("--").next().unwrap_or("").bytes())
        .filter(u8::is_ascii_hexdigit)
        .map(|c| (c as char).to_digit(16).unwrap() as u8)
        .collect();
    digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect()
}

fn server() -> Arc<ServerIdentity> {
    Arc::new(ServerIdentity {
        name: "FILESRV".into(),
        comment: "Rust SMB server".into(),
        shares: vec![
            ShareEntry::disk("public", "Public files", "/srv/public"),
            ShareEntry::disk("home", "", "/home"),
            ShareEntry::ipc(),
        ],
    })
}

/// A bind from a client that, like Windows and Samba 4.17, offers srvsvc v3.0 three times:
/// context 0 with NDR 2.0, context 1 with NDR64, context 2 with the bind time feature
/// negotiation syntax 6cb71c2c-9812-4540-0300-000000000000 (bits 0x03).
const BIND_SRVSVC: &str = "
    05 00 0b 03  10 00 00 00  a0 00 00 00  01 00 00 00   -- bind, first|last, len 160, call 1
    b8 10 b8 10  00 00 00 00                             -- max_xmit, max_recv 4280, assoc 0
    03 00 00 00                                          -- 3 contexts
    00 00 01 00  c8 4f 32 4b 70 16 d3 01 12 78 5a 47 bf 6e e1 88 03 00 00 00
                 04 5d 88 8a eb 1c c9 11 9f e8 08 00 2b 10 48 60 02 00 00 00
    01 00 01 00  c8 4f 32 4b 70 16 d3 01 12 78 5a 47 bf 6e e1 88 03 00 00 00
                 33 05 71 71 ba be 37 49 83 19 b5 db ef 9c cc 36 01 00 00 00
    02 00 01 00  c8 4f 32 4b 70 16 d3 01 12 78 5a 47 bf 6e e1 88 03 00 00 00
                 2c 1c b7 6c 12 98 40 45 03 00 00 00 00 00 00 00 01 00 00 00";

/// NetrShareEnum (opnum 15) level 1 on context 0, call 2, as smbclient -L sends it:
/// ServerName "\\SRV", InfoStruct {Level 1, switch 1, container {0, NULL}},
/// PreferedMaximumLength 0xffffffff, ResumeHandle -> 0.
const SHARE_ENUM_L1: &str = "
    05 00 00 03  10 00 00 00  54 00 00 00  02 00 00 00   -- request, len 84, call 2
    3c 00 00 00  00 00  0f 00                            -- alloc_hint 60, context 0, opnum 15
    00 00 02 00                                          -- ServerName referent
    06 00 00 00  00 00 00 00  06 00 00 00                -- max 6, offset 0, actual 6
    5c 00 5c 00 53 00 52 00 56 00 00 00                  -- two backslashes, SRV, NUL
    01 00 00 00  01 00 00 00  04 00 02 00                -- level 1, switch 1, container ref
    00 00 00 00  00 00 00 00                             -- EntriesRead 0, Buffer NULL
    ff ff ff ff                                          -- PreferedMaximumLength
    08 00 02 00  00 00 00 00                             -- ResumeHandle -> 0";

/// Tiny independent NDR reader for responses.
struct R<'a> {
    b: &'a [u8],
    p: usize,
}

impl<'a> R<'a> {
    fn new(b: &'a [u8]) -> Self {
        Self { b, p: 0 }
    }
    fn u32(&mut self) -> u32 {
        self.p = self.p.div_ceil(4) * 4;
        let v = u32::from_le_bytes(self.b[self.p..self.p + 4].try_into().unwrap());
        self.p += 4;
        v
    }
    fn string(&mut self) -> String {
        let max = self.u32();
        assert_eq!(self.u32(), 0, "offset");
        let actual = self.u32();
        assert_eq!(max, actual);
        let units: Vec<u16> = self.b[self.p..self.p + 2 * actual as usize]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        self.p += 2 * actual as usize;
        assert_eq!(units.last(), Some(&0), "NUL terminated");
        String::from_utf16(&units[..units.len() - 1]).unwrap()
    }
    fn end(&self) {
        assert_eq!(self.p, self.b.len(), "trailing stub bytes");
    }
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn bound_pipe() -> Pipe {
    let mut p = Pipe::open("srvsvc", server()).unwrap();
    let (ack, more) = p.transceive(&hex(BIND_SRVSVC), 4280).unwrap();
    assert!(!more);
    assert_eq!(ack[2], pdu::PTYPE_BIND_ACK);
    p
}

/// Builds a request PDU (first|last) around `stub`.
fn request(call_id: u32, cont_id: u16, opnum: u16, stub: &[u8]) -> Vec<u8> {
    request_frag(call_id, cont_id, opnum, stub, 0x03)
}

fn request_frag(call_id: u32, cont_id: u16, opnum: u16, stub: &[u8], flags: u8) -> Vec<u8> {
    let len = (24 + stub.len()) as u16;
    let mut v = vec![5, 0, 0, flags, 0x10, 0, 0, 0];
    v.extend_from_slice(&len.to_le_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&call_id.to_le_bytes());
    v.extend_from_slice(&(stub.len() as u32).to_le_bytes());
    v.extend_from_slice(&cont_id.to_le_bytes());
    v.extend_from_slice(&opnum.to_le_bytes());
    v.extend_from_slice(stub);
    v
}

/// NDR for a `[string] wchar_t*` pointee (test side).
fn ndr_string(s: &str) -> Vec<u8> {
    let units: Vec<u16> = s.encode_utf16().chain([0]).collect();
    let n = units.len() as u32;
    let mut v = Vec::new();
    for x in [n, 0, n] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    for u in units {
        v.extend_from_slice(&u.to_le_bytes());
    }
    while v.len() % 4 != 0 {
        v.push(0);
    }
    v
}

/// Stub of NetrShareGetInfo(NULL server, `name`, `level`).
fn get_info_stub(name: &str, level: u32) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0];
    v.extend(ndr_string(name));
    v.extend_from_slice(&level.to_le_bytes());
    v
}

/// Stub of NetrShareEnum(NULL server, level, no resume handle).
fn enum_stub(level: u32) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0];
    for x in [level, level, 0x0002_0000, 0, 0, 0xffff_ffff, 0] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    v
}

/// Sends `pdu`, reads every response fragment, checks framing, returns the joined stub.
fn call(p: &mut Pipe, pdu: &[u8]) -> Vec<u8> {
    p.write(pdu).unwrap();
    let mut stub = Vec::new();
    loop {
        let (frag, more) = p.read(65536).unwrap().expect("a response");
        assert!(!more);
        assert_eq!(frag[2], pdu::PTYPE_RESPONSE, "not a response: {frag:02x?}");
        assert_eq!(usize::from(le16(&frag, 8)), frag.len());
        assert!(le32(&frag, 16) as usize >= frag.len() - 24, "alloc_hint");
        stub.extend_from_slice(&frag[24..]);
        if frag[3] & pdu::PFC_LAST_FRAG != 0 {
            assert!(!p.has_output());
            return stub;
        }
    }
}

fn fault_status(p: &mut Pipe, pdu: &[u8]) -> u32 {
    let (f, _) = p.transceive(pdu, 4280).unwrap();
    assert_eq!(f[2], pdu::PTYPE_FAULT);
    assert_eq!(f.len(), 32);
    le32(&f, 24)
}

#[test]
fn bind_ack_accepts_ndr_rejects_ndr64_and_acks_features() {
    let mut p = Pipe::open("\\PIPE\\srvsvc", server()).unwrap();
    let (ack, _) = p.transceive(&hex(BIND_SRVSVC), 4280).unwrap();
    assert_eq!(&ack[..4], &[5, 0, 12, 3]);
    assert_eq!(usize::from(le16(&ack, 8)), ack.len());
    assert_eq!(le32(&ack, 12), 1, "call_id");
    assert_eq!(le16(&ack, 16), 4280);
    assert_eq!(le16(&ack, 18), 4280);
    assert_ne!(le32(&ack, 20), 0, "assoc group");
    assert_eq!(le16(&ack, 24), 13);
    assert_eq!(&ack[26..39], b"\\PIPE\\srvsvc\0");
    // Padded to 40, then 3 results of 24 bytes.
    assert_eq!(ack[40], 3);
    assert_eq!(ack.len(), 44 + 3 * 24);
    let res = |i: usize| (le16(&ack, 44 + 24 * i), le16(&ack, 46 + 24 * i));
    assert_eq!(res(0), (0, 0));
    assert_eq!(&ack[48..68], &hex(BIND_SRVSVC)[52..72], "NDR syntax echoed");
    assert_eq!(
        res(1),
        (2, 2),
        "NDR64: provider rejection, transfer syntaxes"
    );
    assert_eq!(res(2), (3, 2), "negotiate_ack, KeepConnectionOnOrphan");
    // A 5.1 client gets 5.1 replies.
    let mut bind = hex(BIND_SRVSVC);
    bind[1] = 1;
    let mut p = Pipe::open("srvsvc", server()).unwrap();
    assert_eq!(p.transceive(&bind, 4280).unwrap().0[..2], [5, 1]);
    assert!(
        ack[72..92].iter().chain(&ack[96..]).all(|&b| b == 0),
        "null syntaxes"
    );
}

#[test]
fn share_enum_level1_lists_shares() {
    let mut p = bound_pipe();
    let (frag, more) = p.transceive(&hex(SHARE_ENUM_L1), 4280).unwrap();
    assert!(!more);
    assert_eq!(frag[2], pdu::PTYPE_RESPONSE);
    assert_eq!(frag[3], 3);
    assert_eq!(le32(&frag, 12), 2);
    let stub = &frag[24..];
    assert_eq!(le32(&frag, 16) as usize, stub.len());
    let mut r = R::new(stub);
    assert_eq!((r.u32(), r.u32()), (1, 1));
    assert_ne!(r.u32(), 0, "container");
    assert_eq!(r.u32(), 3, "EntriesRead");
    assert_ne!(r.u32(), 0, "Buffer");
    assert_eq!(r.u32(), 3, "max count");
    let mut types = Vec::new();
    for _ in 0..3 {
        assert_ne!(r.u32(), 0);
        types.push(r.u32());
        assert_ne!(r.u32(), 0);
    }
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push((r.string(), r.string()));
    }
    assert_eq!(types, [0, 0, 0x8000_0003]);
    assert_eq!(
        got,
        [
            ("public".into(), "Public files".into()),
            ("home".into(), String::new()),
            ("IPC$".into(), "IPC Service".into())
        ]
    );
    assert_eq!(r.u32(), 3, "TotalEntries");
    assert_ne!(r.u32(), 0, "ResumeHandle pointer");
    assert_eq!(r.u32(), 0, "ResumeHandle");
    assert_eq!(r.u32(), 0, "NERR_Success");
    r.end();
}

#[test]
fn share_enum_levels_0_2_502_and_invalid() {
    let mut p = bound_pipe();
    let stub = call(&mut p, &request(3, 0, 15, &enum_stub(0)));
    let mut r = R::new(&stub);
    assert_eq!((r.u32(), r.u32()), (0, 0));
    r.u32();
    assert_eq!(r.u32(), 3);
    r.u32();
    assert_eq!(r.u32(), 3);
    for _ in 0..3 {
        r.u32();
    }
    let names: Vec<String> = (0..3).map(|_| r.string()).collect();
    assert_eq!(names, ["public", "home", "IPC$"]);
    assert_eq!((r.u32(), r.u32(), r.u32()), (3, 0, 0));
    r.end();

    let stub = call(&mut p, &request(4, 0, 15, &enum_stub(2)));
    let mut r = R::new(&stub);
    assert_eq!((r.u32(), r.u32()), (2, 2));
    r.u32();
    assert_eq!(r.u32(), 3);
    r.u32();
    assert_eq!(r.u32(), 3);
    let mut passwd_ptrs = Vec::new();
    for _ in 0..3 {
        r.u32();
        r.u32();
        r.u32();
        assert_eq!((r.u32(), r.u32(), r.u32()), (0, 0xffff_ffff, 0));
        assert_ne!(r.u32(), 0, "path");
        passwd_ptrs.push(r.u32());
    }
    assert_eq!(passwd_ptrs, [0, 0, 0]);
    let strings: Vec<String> = (0..9).map(|_| r.string()).collect();
    assert_eq!(strings[2], "C:\\srv\\public");
    assert_eq!(strings[5], "C:\\home");
    assert_eq!(strings[8], "");
    assert_eq!((r.u32(), r.u32(), r.u32()), (3, 0, 0));
    r.end();

    let stub = call(&mut p, &request(5, 0, 15, &enum_stub(502)));
    let mut r = R::new(&stub);
    assert_eq!((r.u32(), r.u32()), (502, 502));
    r.u32();
    assert_eq!(r.u32(), 3);

    let stub = call(&mut p, &request(6, 0, 15, &enum_stub(7)));
    let mut r = R::new(&stub);
    assert_eq!(
        (r.u32(), r.u32(), r.u32(), r.u32(), r.u32()),
        (7, 7, 0, 0, 0)
    );
    assert_eq!(r.u32(), 124, "ERROR_INVALID_LEVEL");
    r.end();
}

#[test]
fn share_enum_skips_a_buffer_sent_by_the_client() {
    // Level 1 container with one entry {"x", 0, NULL} sent in, then ResumeHandle -> 1.
    let mut stub = vec![0, 0, 0, 0];
    for x in [1u32, 1, 0x20000, 1, 0x20004, 1, 0x20008, 0, 0] {
        stub.extend_from_slice(&x.to_le_bytes());
    }
    stub.extend(ndr_string("x"));
    for x in [0xffff_ffffu32, 0x2000c, 1] {
        stub.extend_from_slice(&x.to_le_bytes());
    }
    let mut p = bound_pipe();
    let out = call(&mut p, &request(3, 0, 15, &stub));
    let mut r = R::new(&out);
    assert_eq!((r.u32(), r.u32()), (1, 1));
    r.u32();
    assert_eq!(r.u32(), 2, "resumed after the first share");
}

#[test]
fn share_get_info_levels() {
    let mut p = bound_pipe();
    let stub = call(&mut p, &request(3, 0, 16, &get_info_stub("PUBLIC", 1)));
    let mut r = R::new(&stub);
    assert_eq!(r.u32(), 1);
    assert_ne!(r.u32(), 0);
    r.u32();
    assert_eq!(r.u32(), 0, "type");
    r.u32();
    assert_eq!(
        (r.string(), r.string()),
        ("public".into(), "Public files".into())
    );
    assert_eq!(r.u32(), 0);
    r.end();

    let stub = call(&mut p, &request(4, 0, 16, &get_info_stub("ipc$", 501)));
    let mut r = R::new(&stub);
    assert_eq!(r.u32(), 501);
    r.u32();
    r.u32();
    assert_eq!(r.u32(), 0x8000_0003);
    r.u32();
    assert_eq!(r.u32(), 0, "shi501_flags");
    assert_eq!(
        (r.string(), r.string()),
        ("IPC$".into(), "IPC Service".into())
    );
    assert_eq!(r.u32(), 0);
    r.end();

    let stub = call(&mut p, &request(5, 0, 16, &get_info_stub("home", 1005)));
    assert_eq!(stub.len(), 16);
    let mut r = R::new(&stub);
    assert_eq!(r.u32(), 1005);
    assert_ne!(r.u32(), 0);
    assert_eq!((r.u32(), r.u32()), (0, 0));

    let stub = call(&mut p, &request(6, 0, 16, &get_info_stub("home", 0)));
    let mut r = R::new(&stub);
    assert_eq!(r.u32(), 0);
    r.u32();
    r.u32();
    assert_eq!(r.string(), "home");
    assert_eq!(r.u32(), 0);
    r.end();

    let stub = call(&mut p, &request(7, 0, 16, &get_info_stub("home", 2)));
    let mut r = R::new(&stub);
    assert_eq!(r.u32(), 2);
    for _ in 0..9 {
        r.u32();
    }
    let s: Vec<String> = (0..3).map(|_| r.string()).collect();
    assert_eq!(s, ["home", "", "C:\\home"]);
    assert_eq!(r.u32(), 0);
    r.end();

    let stub = call(&mut p, &request(8, 0, 16, &get_info_stub("nosuch", 1)));
    assert_eq!(
        stub,
        hex("01000000 00000000 06090000"),
        "NULL arm, NERR_NetNameNotFound"
    );
    let stub = call(&mut p, &request(9, 0, 16, &get_info_stub("home", 1004)));
    assert_eq!(
        stub,
        hex("ec030000 00000000 7c000000"),
        "NULL arm, ERROR_INVALID_LEVEL"
    );
    let stub = call(&mut p, &request(10, 0, 16, &get_info_stub("home", 9)));
    assert_eq!(stub, hex("09000000 7c000000"), "empty default arm");
}

#[test]
fn server_get_info_levels() {
    let mut p = bound_pipe();
    let stub_for = |level: u32| {
        let mut v = vec![0, 0, 2, 0];
        v.extend(ndr_string("\\\\FILESRV"));
        v.extend_from_slice(&level.to_le_bytes());
        v
    };
    let out = call(&mut p, &request(3, 0, 21, &stub_for(101)));
    let mut r = R::new(&out);
    assert_eq!(r.u32(), 101);
    assert_ne!(r.u32(), 0);
    assert_eq!(r.u32(), 500);
    assert_ne!(r.u32(), 0);
    assert_eq!((r.u32(), r.u32()), (6, 1));
    let ty = r.u32();
    assert_eq!(ty & 0x8003, 0x8003, "workstation|server|server_nt");
    assert_ne!(r.u32(), 0);
    assert_eq!(
        (r.string(), r.string()),
        ("FILESRV".into(), "Rust SMB server".into())
    );
    assert_eq!(r.u32(), 0);
    r.end();

    let out = call(&mut p, &request(4, 0, 21, &stub_for(100)));
    let mut r = R::new(&out);
    assert_eq!(
        (r.u32(), r.u32() != 0, r.u32(), r.u32() != 0),
        (100, true, 500, true)
    );
    assert_eq!(r.string(), "FILESRV");
    assert_eq!(r.u32(), 0);
    r.end();

    let out = call(&mut p, &request(5, 0, 21, &stub_for(102)));
    let mut r = R::new(&out);
    assert_eq!(r.u32(), 102);
    for _ in 0..14 {
        r.u32();
    }
    let s: Vec<String> = (0..3).map(|_| r.string()).collect();
    assert_eq!(s, ["FILESRV", "Rust SMB server", "C:\\"]);
    assert_eq!(r.u32(), 0);
    r.end();

    let out = call(&mut p, &request(6, 0, 21, &stub_for(103)));
    assert_eq!(out, hex("67000000 00000000 7c000000"));
}

#[test]
fn large_response_is_fragmented_to_client_max_recv() {
    let shares = (0..60)
        .map(|i| ShareEntry::disk(&format!("share{i:02}"), "a fairly long comment", "/x"))
        .collect();
    let id = Arc::new(ServerIdentity {
        name: "S".into(),
        comment: String::new(),
        shares,
    });
    let mut p = Pipe::open("srvsvc", id).unwrap();
    // Same bind, client max_recv_frag 256 (bytes 18..20 of the PDU).
    let mut bind = hex(BIND_SRVSVC);
    bind[18..20].copy_from_slice(&256u16.to_le_bytes());
    let (ack, _) = p.transceive(&bind, 4280).unwrap();
    assert_eq!(
        le16(&ack, 16),
        256,
        "server max_xmit_frag honours client max_recv_frag"
    );

    p.write(&hex(SHARE_ENUM_L1)).unwrap();
    let mut stub = Vec::new();
    let mut frags = 0;
    let mut hints = Vec::new();
    loop {
        // Read each fragment in two pieces to exercise STATUS_BUFFER_OVERFLOW.
        let (mut frag, more) = p.read(100).unwrap().unwrap();
        if more {
            let (rest, more2) = p.read(4280).unwrap().unwrap();
            assert!(!more2);
            frag.extend(rest);
        }
        assert!(frag.len() <= 256);
        assert_eq!(usize::from(le16(&frag, 8)), frag.len());
        assert_eq!(
            frag[3] & 1 != 0,
            frags == 0,
            "PFC_FIRST_FRAG only on the first"
        );
        hints.push((le32(&frag, 16) as usize, stub.len()));
        frags += 1;
        let last = frag[3] & 2 != 0;
        if !last {
            assert_eq!((frag.len() - 24) % 8, 0);
        }
        stub.extend_from_slice(&frag[24..]);
        if last {
            break;
        }
    }
    assert!(frags > 10);
    // alloc_hint = stub bytes still to come, this fragment included.
    for (hint, before) in hints {
        assert_eq!(hint, stub.len() - before);
    }
    assert_eq!(p.read(10).unwrap(), None);
    let mut r = R::new(&stub);
    assert_eq!((r.u32(), r.u32()), (1, 1));
    r.u32();
    assert_eq!(r.u32(), 61);
    r.u32();
    assert_eq!(r.u32(), 61);
    for _ in 0..61 * 3 {
        r.u32();
    }
    for i in 0..60 {
        assert_eq!(r.string(), format!("share{i:02}"));
        assert_eq!(r.string(), "a fairly long comment");
    }
    assert_eq!(r.string(), "IPC$");
}

#[test]
fn multi_fragment_request_is_reassembled() {
    let whole = hex(SHARE_ENUM_L1);
    let stub = &whole[24..];
    let mut p = bound_pipe();
    let expected = call(&mut p, &whole);
    // Same call in three fragments (first, middle, last), written in one SMB WRITE and then
    // again split at awkward byte boundaries over several writes.
    let mut pdus = request_frag(2, 0, 15, &stub[..16], 0x01);
    pdus.extend(request_frag(2, 0, 15, &stub[16..40], 0x00));
    pdus.extend(request_frag(2, 0, 15, &stub[40..], 0x02));
    assert_eq!(call(&mut p, &pdus), expected);
    for chunk in pdus.chunks(7) {
        assert_eq!(p.write(chunk).unwrap(), chunk.len());
    }
    let (frag, _) = p.read(4280).unwrap().unwrap();
    assert_eq!(&frag[24..], &expected[..]);
}

#[test]
fn faults() {
    let mut p = Pipe::open("srvsvc", server()).unwrap();
    // Request before bind.
    assert_eq!(fault_status(&mut p, &hex(SHARE_ENUM_L1)), 0x1c01_000b);
    let mut p = bound_pipe();
    // Unknown opnum: nca_s_op_rng_error, PFC_DID_NOT_EXECUTE.
    let (f, _) = p.transceive(&request(3, 0, 99, &[]), 4280).unwrap();
    assert_eq!(f[2], pdu::PTYPE_FAULT);
    assert_eq!(f[3], 0x23);
    assert_eq!(le32(&f, 12), 3);
    assert_eq!(le32(&f, 24), 0x1c01_0002);
    // Context 1 (NDR64) was rejected, context 7 never offered.
    assert_eq!(
        fault_status(&mut p, &request(4, 1, 15, &enum_stub(1))),
        0x1c00_001a
    );
    assert_eq!(
        fault_status(&mut p, &request(5, 7, 15, &enum_stub(1))),
        0x1c00_001a
    );
    // Truncated stub: nca_s_fault_ndr.
    assert_eq!(
        fault_status(&mut p, &request(6, 0, 15, &enum_stub(1)[..10])),
        0x6f7
    );
    // Hostile string count.
    let mut bad = vec![1, 0, 0, 0];
    bad.extend(hex("ffffff7f 00000000 ffffff7f 4100"));
    assert_eq!(fault_status(&mut p, &request(7, 0, 16, &bad)), 0x6f7);
    // The association survives faults.
    let (ok, _) = p
        .transceive(&request(8, 0, 16, &get_info_stub("home", 0)), 4280)
        .unwrap();
    assert_eq!(ok[2], pdu::PTYPE_RESPONSE);
}

#[test]
fn bind_rejections() {
    // Wrong interface (wkssvc UUID on the srvsvc pipe): provider rejection,
    // abstract_syntax_not_supported.
    let mut bind = hex(BIND_SRVSVC);
    bind[32..48].copy_from_slice(&hex("98d0ff6b12a11036983346c3f87e345a"));
    let mut p = Pipe::open("srvsvc", server()).unwrap();
    let (ack, _) = p.transceive(&bind, 4280).unwrap();
    assert_eq!((le16(&ack, 44), le16(&ack, 46)), (2, 1));
    assert_eq!(
        fault_status(&mut p, &request(2, 0, 15, &enum_stub(1))),
        0x1c00_001a
    );

    // A bind with an auth verifier (auth_length 8 plus 8-byte sec_trailer): bind_nak.
    let mut bind = hex(BIND_SRVSVC);
    bind.extend_from_slice(&[0x0a, 0x02, 0, 0, 0, 0, 0, 0]);
    bind.extend_from_slice(&[0xAA; 8]);
    let len = bind.len() as u16;
    bind[8..10].copy_from_slice(&len.to_le_bytes());
    bind[10..12].copy_from_slice(&8u16.to_le_bytes());
    let mut p = Pipe::open("srvsvc", server()).unwrap();
    let (nak, _) = p.transceive(&bind, 4280).unwrap();
    assert_eq!(nak[2], pdu::PTYPE_BIND_NAK);
    assert_eq!(le16(&nak, 16), 8);
    assert_eq!(usize::from(le16(&nak, 8)), nak.len());
}

#[test]
fn alter_context_adds_a_context() {
    let mut p = bound_pipe();
    // alter_context call 9: context 5 = srvsvc + NDR.
    let mut alter = hex(BIND_SRVSVC)[..72].to_vec();
    alter[2] = pdu::PTYPE_ALTER_CONTEXT;
    alter[8] = 72;
    alter[12] = 9;
    alter[24] = 1;
    alter[28] = 5;
    let (resp, _) = p.transceive(&alter, 4280).unwrap();
    assert_eq!(resp[2], pdu::PTYPE_ALTER_CONTEXT_RESP);
    assert_eq!(le16(&resp, 24), 0, "no secondary address");
    assert_eq!(resp[28], 1);
    assert_eq!(le16(&resp, 32), 0, "accepted");
    let out = call(&mut p, &request(10, 5, 16, &get_info_stub("home", 0)));
    assert_eq!(le32(&out, out.len() - 4), 0);
}

#[test]
fn framing_errors_break_the_pipe() {
    let mut p = bound_pipe();
    let mut be = hex(SHARE_ENUM_L1);
    be[4] = 0x00; // big-endian drep
    assert!(matches!(
        p.write(&be),
        Err(RpcError::UnsupportedDataRepresentation { .. })
    ));
    assert_eq!(p.read(10), Err(RpcError::Disconnected));
    assert_eq!(RpcError::Disconnected.nt_status(), 0xC000_00B0);

    let mut p = bound_pipe();
    // A middle fragment with no first fragment.
    let e = p.write(&request_frag(3, 0, 15, &[0; 8], 0x00)).unwrap_err();
    assert_eq!(e, RpcError::FragmentOutOfSequence { call_id: 3 });

    let mut p = bound_pipe();
    let e = p.write(&hex(
        "05 00 02 03 10 00 00 00 18 00 00 00 01 00 00 00 00000000 00000000",
    ));
    assert_eq!(e, Err(RpcError::UnexpectedPduType { ptype: 2 }));

    let mut p = bound_pipe();
    p.write(&hex(SHARE_ENUM_L1)).unwrap();
    assert_eq!(
        p.transceive(&hex(SHARE_ENUM_L1), 10),
        Err(RpcError::PipeBusy)
    );
}

#[test]
fn reassembly_is_capped() {
    let mut p = bound_pipe();
    let chunk = vec![0u8; 60_000];
    p.write(&request_frag(3, 0, 15, &chunk, 0x01)).unwrap();
    let mut result = Ok(0);
    for _ in 0..80 {
        result = p.write(&request_frag(3, 0, 15, &chunk, 0x00));
        if result.is_err() {
            break;
        }
    }
    assert_eq!(
        result,
        Err(RpcError::ReassemblyTooLarge {
            limit: 4 * 1024 * 1024
        })
    );
}

#[test]
fn wkssvc_level_100() {
    let mut p = Pipe::open("\\wkssvc", server()).unwrap();
    let mut bind = hex(BIND_SRVSVC);
    for ctx in 0..3 {
        let at = 32 + 44 * ctx;
        bind[at..at + 16].copy_from_slice(&hex("98d0ff6b12a11036983346c3f87e345a"));
        bind[at + 16] = 1;
    }
    let (ack, _) = p.transceive(&bind, 4280).unwrap();
    assert_eq!(&ack[26..39], b"\\PIPE\\wkssvc\0");
    assert_eq!(le16(&ack, 44), 0);
    let mut stub = vec![0, 0, 0, 0];
    stub.extend_from_slice(&100u32.to_le_bytes());
    let out = call(&mut p, &request(2, 0, 0, &stub));
    let mut r = R::new(&out);
    assert_eq!(r.u32(), 100);
    r.u32();
    assert_eq!(r.u32(), 500);
    r.u32();
    r.u32();
    assert_eq!((r.u32(), r.u32()), (6, 1));
    assert_eq!(
        (r.string(), r.string()),
        ("FILESRV".into(), "WORKGROUP".into())
    );
    assert_eq!(r.u32(), 0);
    r.end();
    assert_eq!(fault_status(&mut p, &request(3, 0, 1, &stub)), 0x1c01_0002);
}

#[test]
fn garbage_and_truncations_never_panic() {
    let bind = hex(BIND_SRVSVC);
    let req = hex(SHARE_ENUM_L1);
    // Every prefix of a bind, with frag_length kept, and with frag_length set to the prefix.
    for n in 0..bind.len() {
        let mut p = Pipe::open("srvsvc", server()).unwrap();
        let _ = p.write(&bind[..n]);
        let _ = p.read(4280);
        let mut cut = bind[..n].to_vec();
        if n >= 10 {
            cut[8..10].copy_from_slice(&(n as u16).to_le_bytes());
        }
        let mut p = Pipe::open("srvsvc", server()).unwrap();
        let _ = p.write(&cut);
        let _ = p.read(4280);
    }
    // Every stub truncation of a request, on a bound pipe.
    for n in 24..req.len() {
        let mut p = bound_pipe();
        let mut cut = req[..n].to_vec();
        cut[8..10].copy_from_slice(&(n as u16).to_le_bytes());
        let _ = p.write(&cut);
        let _ = p.read(4280);
    }
    // Pseudo-random bytes, and random single-byte corruptions of valid PDUs.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..2000 {
        let mut p = bound_pipe();
        let len = (next() % 200) as usize;
        let mut junk: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if next() % 2 == 0 && junk.len() >= 16 {
            // Keep the header plausible so deeper parsers are reached.
            junk[..8].copy_from_slice(&[5, 0, (next() % 20) as u8, 3, 0x10, 0, 0, 0]);
            junk[8..10].copy_from_slice(&(len as u16).to_le_bytes());
            junk[10..12].copy_from_slice(&[0, 0]);
        }
        let _ = p.write(&junk);
        let _ = p.read(4280);
        let mut p = bound_pipe();
        let mut m = if next() % 2 == 0 {
            bind.clone()
        } else {
            req.clone()
        };
        let i = (next() as usize) % m.len();
        m[i] = next() as u8;
        let _ = p.transceive(&m, 4280);
    }
}
