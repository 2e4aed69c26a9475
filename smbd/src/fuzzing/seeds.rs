//! Hand-made inputs for the seed corpora in `smbd/fuzz/seeds` and for the tests.

use crate::proto::header::{Command, Header, flags};

/// One SMB2 request: header with these fields, then `body`.
pub fn message(
    command: Command,
    message_id: u64,
    session_id: u64,
    tree_id: u32,
    body: &[u8],
) -> Vec<u8> {
    let h = Header {
        command,
        credits: 32,
        message_id,
        session_id,
        tree_id,
        ..Header::default()
    };
    let mut m = Vec::new();
    h.encode(&mut m);
    m.extend_from_slice(body);
    m
}

/// Links messages into a compound chain; later ones are related when `related`.
pub fn compound(msgs: &[Vec<u8>], related: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let mut m = m.clone();
        if i > 0 && related {
            let f = u32::from_le_bytes([m[16], m[17], m[18], m[19]]) | flags::RELATED_OPERATIONS;
            m[16..20].copy_from_slice(&f.to_le_bytes());
        }
        if i + 1 < msgs.len() {
            while m.len() % 8 != 0 {
                m.push(0);
            }
            let len = m.len() as u32;
            m[20..24].copy_from_slice(&len.to_le_bytes());
        }
        out.extend_from_slice(&m);
    }
    out
}

/// Frames for [`super::connection`]: each prefixed by its 2-byte big-endian length.
pub fn framed(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        out.extend_from_slice(&(f.len() as u16).to_be_bytes());
        out.extend_from_slice(f);
    }
    out
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// NEGOTIATE offering 2.0.2 and 2.1.
pub fn negotiate() -> Vec<u8> {
    let mut b = vec![36, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0];
    b.extend_from_slice(&[0x11; 16]); // ClientGuid
    b.extend_from_slice(&[0; 8]); // ClientStartTime
    b.extend_from_slice(&[0x02, 0x02, 0x10, 0x02]);
    message(Command::Negotiate, 0, 0, 0, &b)
}

/// SESSION_SETUP carrying a bare NTLMSSP blob.
pub fn session_setup(message_id: u64, session_id: u64, blob: &[u8]) -> Vec<u8> {
    let mut b = vec![25, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    b.extend_from_slice(&88u16.to_le_bytes());
    b.extend_from_slice(&(blob.len() as u16).to_le_bytes());
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(blob);
    message(Command::SessionSetup, message_id, session_id, 0, &b)
}

/// NTLM NEGOTIATE (MS-NLMP 2.2.1.1) asking for Unicode and NTLM.
pub const NTLM_NEGOTIATE: [u8; 16] = [
    b'N', b'T', b'L', b'M', b'S', b'S', b'P', 0, 1, 0, 0, 0, 0x97, 0x82, 0x08, 0xe2,
];

/// An anonymous NTLM AUTHENTICATE (MS-NLMP 3.2.5.1.2): LM = Z(1), everything else empty.
pub fn ntlm_anonymous() -> Vec<u8> {
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&3u32.to_le_bytes());
    for (len, off) in [(1u16, 72u32), (0, 73), (0, 73), (0, 73), (0, 73), (0, 73)] {
        m.extend_from_slice(&len.to_le_bytes());
        m.extend_from_slice(&len.to_le_bytes());
        m.extend_from_slice(&off.to_le_bytes());
    }
    m.extend_from_slice(&0x0000_0801u32.to_le_bytes()); // ANONYMOUS | UNICODE
    m.extend_from_slice(&[0; 8]); // Version
    m.push(0);
    m
}

/// TREE_CONNECT to `\\FUZZ\<share>`.
pub fn tree_connect(message_id: u64, session_id: u64, share: &str) -> Vec<u8> {
    let path = utf16(&format!("\\\\FUZZ\\{share}"));
    let mut b = vec![9, 0, 0, 0];
    b.extend_from_slice(&72u16.to_le_bytes());
    b.extend_from_slice(&(path.len() as u16).to_le_bytes());
    b.extend_from_slice(&path);
    message(Command::TreeConnect, message_id, session_id, 0, &b)
}

/// CREATE of `name` (OPEN_IF, read/write) with an MxAc context.
pub fn create(message_id: u64, session_id: u64, name: &str) -> Vec<u8> {
    let name = utf16(name);
    let name_len = name.len();
    let ctx_off = (120 + name_len).next_multiple_of(8);
    let mut b = vec![57, 0, 0, 0];
    b.extend_from_slice(&2u32.to_le_bytes()); // Impersonation
    b.extend_from_slice(&[0; 16]);
    b.extend_from_slice(&0x0012_019fu32.to_le_bytes()); // DesiredAccess
    b.extend_from_slice(&0x80u32.to_le_bytes()); // FileAttributes
    b.extend_from_slice(&7u32.to_le_bytes()); // ShareAccess
    b.extend_from_slice(&3u32.to_le_bytes()); // OPEN_IF
    b.extend_from_slice(&0x40u32.to_le_bytes()); // NON_DIRECTORY_FILE
    b.extend_from_slice(&120u16.to_le_bytes());
    b.extend_from_slice(&(name_len as u16).to_le_bytes());
    b.extend_from_slice(&(ctx_off as u32).to_le_bytes());
    b.extend_from_slice(&24u32.to_le_bytes());
    b.extend_from_slice(&name);
    b.resize(ctx_off - 64, 0);
    // MxAc with no data: Next, NameOffset 16, NameLength 4, Reserved, DataOffset, DataLength.
    b.extend_from_slice(&[0, 0, 0, 0, 16, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    b.extend_from_slice(b"MxAc\0\0\0\0");
    message(Command::Create, message_id, session_id, 1, &b)
}

/// WRITE of `data` at offset 0 to the related file.
pub fn write(message_id: u64, session_id: u64, data: &[u8]) -> Vec<u8> {
    let mut b = vec![49, 0, 112, 0];
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(&0u64.to_le_bytes());
    b.extend_from_slice(&[0xff; 16]);
    b.extend_from_slice(&[0; 16]);
    b.extend_from_slice(data);
    message(Command::Write, message_id, session_id, 1, &b)
}

/// READ of `len` bytes at offset 0 from the related file.
pub fn read(message_id: u64, session_id: u64, len: u32) -> Vec<u8> {
    let mut b = vec![49, 0, 0x50, 0];
    b.extend_from_slice(&len.to_le_bytes());
    b.extend_from_slice(&0u64.to_le_bytes());
    b.extend_from_slice(&[0xff; 16]);
    b.extend_from_slice(&[0; 17]);
    message(Command::Read, message_id, session_id, 1, &b)
}

/// IOCTL (an FSCTL) of the related file with `input`.
pub fn ioctl(message_id: u64, session_id: u64, code: u32, input: &[u8]) -> Vec<u8> {
    let mut b = vec![57, 0, 0, 0];
    b.extend_from_slice(&code.to_le_bytes());
    b.extend_from_slice(&[0xff; 16]);
    b.extend_from_slice(&120u32.to_le_bytes()); // InputOffset
    b.extend_from_slice(&(input.len() as u32).to_le_bytes());
    b.extend_from_slice(&[0; 12]); // MaxInputResponse, OutputOffset, OutputCount
    b.extend_from_slice(&1024u32.to_le_bytes()); // MaxOutputResponse
    b.extend_from_slice(&1u32.to_le_bytes()); // SMB2_0_IOCTL_IS_FSCTL
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(input);
    message(Command::Ioctl, message_id, session_id, 1, &b)
}

/// A SRV_COPYCHUNK_COPY input of two chunks.
pub fn copychunk_input() -> Vec<u8> {
    let mut v = vec![0x5a; 24];
    v.extend_from_slice(&2u32.to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    for (s, t, l) in [(0u64, 4096u64, 4096u32), (4096, 0, 1 << 20)] {
        v.extend_from_slice(&s.to_le_bytes());
        v.extend_from_slice(&t.to_le_bytes());
        v.extend_from_slice(&l.to_le_bytes());
        v.extend_from_slice(&0u32.to_le_bytes());
    }
    v
}

/// CLOSE of the related file.
pub fn close(message_id: u64, session_id: u64) -> Vec<u8> {
    let mut b = vec![24, 0, 0, 0, 0, 0, 0, 0];
    b.extend_from_slice(&[0xff; 16]);
    message(Command::Close, message_id, session_id, 1, &b)
}

/// NEGOTIATE offering 2.0.2 up to 3.0.2 (3.1.1 needs negotiate contexts).
pub fn negotiate_smb3() -> Vec<u8> {
    let mut m = negotiate();
    m[66] = 4; // DialectCount
    m[72] = 0x7f; // Capabilities: every bit of 2.2.3
    m.extend_from_slice(&[0x00, 0x03, 0x02, 0x03]);
    m
}

/// An RPC request PDU on context 0: NetrShareEnum (opnum 15) at level 1 with a null
/// server name (MS-SRVS 3.1.4.8).
pub fn share_enum_request() -> Vec<u8> {
    let stub: [u32; 8] = [0, 1, 1, 0x0002_0004, 0, 0, u32::MAX, 0];
    let mut p = vec![5, 0, 0, 3, 0x10, 0, 0, 0];
    p.extend_from_slice(&(24 + 32u16).to_le_bytes());
    p.extend_from_slice(&[0, 0, 2, 0, 0, 0]); // auth_length, call_id 2
    p.extend_from_slice(&32u32.to_le_bytes()); // alloc_hint
    p.extend_from_slice(&[0, 0, 15, 0]); // context 0, opnum 15
    p.extend(stub.iter().flat_map(|v| v.to_le_bytes()));
    p
}

/// Seed inputs per fuzz target: (target, file name, bytes).
pub fn all() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let sid = 1;
    let mut v = vec![
        ("header", "negotiate", negotiate()),
        ("request", "negotiate", negotiate()),
        (
            "request",
            "session_setup",
            session_setup(1, 0, &NTLM_NEGOTIATE),
        ),
        ("request", "tree_connect", tree_connect(3, sid, "share")),
        ("request", "create", create(4, sid, "a.txt")),
        ("request", "write", write(5, sid, b"data")),
        ("request", "read", read(6, sid, 4)),
        ("request", "close", close(7, sid)),
        (
            "request",
            "ioctl_copychunk",
            ioctl(8, sid, 0x0014_40F2, &copychunk_input()),
        ),
        (
            "request",
            "ioctl_zero_data",
            ioctl(9, sid, 0x0009_80C8, &[0x10; 16]),
        ),
        ("compound", "create_write_read_close", file_chain(sid)),
        ("connection", "anonymous_file_io", session()),
        ("fscc", "basic", [&[4u8][..], &[0; 40]].concat()),
        ("fscc", "disposition", vec![13, 1]),
        ("fscc", "end_of_file", [&[20u8][..], &[0x10; 8]].concat()),
    ];
    let mut rename = vec![
        10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0,
    ];
    rename.extend_from_slice(&utf16("b.txt"));
    v.push(("fscc", "rename", rename));
    let mut conn3 = session();
    let neg = negotiate_smb3();
    let old_len = negotiate().len();
    conn3.splice(..2 + old_len, framed(&[neg]));
    v.push(("connection", "smb3_anonymous_file_io", conn3));
    // What the null AEAD makes of a NEGOTIATE: the plaintext under a zero tag and nonce
    // (built by hand so the seed does not depend on the provider's counter).
    let plain = negotiate();
    let th = crate::crypto::TransformHeader {
        signature: [0; 16],
        nonce: [0; 16],
        original_size: plain.len() as u32,
        flags: 1,
        session_id: sid,
    };
    let mut sealed = Vec::new();
    th.encode(&mut sealed);
    sealed.extend_from_slice(&plain);
    v.push(("transform", "null_sealed_negotiate", sealed));
    let bind = super::bind_pdu(false);
    v.push(("rpc", "srvsvc_bind", [&[0u8, 0][..], &bind].concat()));
    let enum_req = share_enum_request();
    v.push((
        "rpc",
        "srvsvc_share_enum",
        [&[2u8, 0][..], &enum_req].concat(),
    ));
    let both = [&[0u8, 0][..], &bind, &enum_req].concat();
    v.push(("rpc", "srvsvc_bind_and_enum", both));
    v.extend(super::durable::seeds());
    v
}

/// CREATE + WRITE + READ + CLOSE as one related compound.
pub fn file_chain(sid: u64) -> Vec<u8> {
    compound(
        &[
            create(4, sid, "dir\\..\\a.txt"),
            write(5, sid, b"hello fuzz"),
            read(6, sid, 10),
            close(7, sid),
        ],
        true,
    )
}

/// A whole connection: negotiate, anonymous logon (session id 1), tree connect to
/// `share`, then CREATE + WRITE + READ + CLOSE in one related compound.
pub fn session() -> Vec<u8> {
    let sid = 1;
    framed(&[
        negotiate(),
        session_setup(1, 0, &NTLM_NEGOTIATE),
        session_setup(2, sid, &ntlm_anonymous()),
        tree_connect(3, sid, "share"),
        file_chain(sid),
    ])
}
