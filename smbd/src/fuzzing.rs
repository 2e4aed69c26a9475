//! Entry points for the cargo-fuzz targets in `smbd/fuzz/fuzz_targets`.
//!
//! Each function takes the fuzzer's bytes and drives one parser (or the whole connection) with
//! them. They must never panic on any input; the only panics here are the assertions of
//! round-trip and output properties, and a panic there is a bug the fuzzer found.
//! Nothing here is part of the server's API: it is public only so the fuzz crate can call it.

use std::hint::black_box;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::conn::Connection;
use crate::crypto::{self, Cipher, CryptoProvider, SigningAlgorithm};
use crate::proto::create::{CreateRequest, decode_close};
use crate::proto::dir::{ChangeNotifyRequest, QueryDirectoryRequest};
use crate::proto::fscc::{self, FileInfoClass};
use crate::proto::header::{self, Command, HEADER_LEN, Header, flags};
use crate::proto::info::{QueryInfoRequest, SetInfoRequest, info_type};
use crate::proto::io::{ReadRequest, WriteRequest, decode_flush, decode_lock};
use crate::proto::ioctl::{Fsctl, IoctlRequest, ValidateNegotiateInfo};
use crate::proto::negotiate::{NegotiateRequest, smb1_negotiate_dialect};
use crate::proto::session::{SessionSetupRequest, decode_fixed4};
use crate::proto::tree::TreeConnectRequest;
use crate::rpc::{Pipe, ServerIdentity, ShareEntry};
use crate::state::{EncryptMode, ServerContext};

/// Decodes an SMB2 header; when it decodes, re-encodes it and checks the 64 bytes come back
/// (the sync form's Reserved field is not kept, so it comes back as zero).
pub fn header(data: &[u8]) {
    let Ok(h) = Header::decode(data) else {
        return;
    };
    let mut out = Vec::with_capacity(HEADER_LEN);
    h.encode(&mut out);
    let mut expected = data[..HEADER_LEN].to_vec();
    if !h.is_async() {
        expected[32..36].fill(0);
    }
    assert_eq!(out, expected, "header round trip");
    assert_eq!(Header::decode(&out).as_ref(), Ok(&h), "re-decoded header");
    let response = h.response(crate::proto::NtStatus::SUCCESS);
    let mut out = Vec::with_capacity(HEADER_LEN);
    response.encode(&mut out);
    assert_eq!(out.len(), HEADER_LEN, "response header length");
}

/// One SMB2 message (header included): the header, then the body decoder its command uses,
/// and the nested decoders the handler applies to the body (create contexts, the
/// VALIDATE_NEGOTIATE_INFO input, SET_INFO buffers). Also tries the SMB1 NEGOTIATE sniffer.
pub fn request(data: &[u8]) {
    black_box(smb1_negotiate_dialect(data));
    let Ok(h) = Header::decode(data) else {
        return;
    };
    body(h.command, data);
}

/// Runs the decoder of `command` on `msg` (which starts at the SMB2 header).
fn body(command: Command, msg: &[u8]) {
    match command {
        Command::Negotiate => {
            let _ = black_box(NegotiateRequest::decode(msg));
        }
        Command::SessionSetup => {
            let _ = black_box(SessionSetupRequest::decode(msg));
        }
        Command::Logoff | Command::TreeDisconnect | Command::Echo => {
            let _ = black_box(decode_fixed4(msg));
        }
        Command::TreeConnect => {
            if let Ok(req) = TreeConnectRequest::decode(msg) {
                black_box(req.share_name());
            }
        }
        Command::Create => {
            if let Ok(req) = CreateRequest::decode(msg) {
                black_box(vfs::short_names::alone(&req.name));
                for tag in [&b"MxAc"[..], b"QFid", b"RqLs", b"DHnQ", b"DH2Q", b"SecD"] {
                    black_box(req.context(tag));
                }
                // Every context's data through every typed decoder, whatever its name.
                for c in &req.contexts {
                    use crate::proto::create_contexts as cc;
                    let _ = black_box(cc::DurableRequestV1::decode(c.data));
                    let _ = black_box(cc::DurableReconnectV1::decode(c.data));
                    let _ = black_box(cc::DurableRequestV2::decode(c.data));
                    let _ = black_box(cc::DurableReconnectV2::decode(c.data));
                    if let Ok(lease) = cc::Lease::decode(c.data) {
                        let mut out = Vec::new();
                        lease.encode(&mut out);
                        assert_eq!(cc::Lease::decode(&out), Ok(lease), "a lease re-encodes");
                    }
                    let _ = black_box(cc::AppInstanceId::decode(c.data));
                }
            }
        }
        Command::Close => {
            let _ = black_box(decode_close(msg));
        }
        Command::Flush => {
            let _ = black_box(decode_flush(msg));
        }
        Command::Read => {
            let _ = black_box(ReadRequest::decode(msg));
        }
        Command::Write => {
            let _ = black_box(WriteRequest::decode(msg));
        }
        Command::Lock => {
            let _ = black_box(decode_lock(msg));
        }
        Command::Ioctl => {
            if let Ok(req) = IoctlRequest::decode(msg) {
                fsctl_input(req.ctl_code, req.input);
            }
        }
        Command::QueryDirectory => {
            if let Ok(req) = QueryDirectoryRequest::decode(msg) {
                black_box(fscc::wildcard_match(&req.pattern, "Some File.txt"));
            }
        }
        Command::ChangeNotify => {
            let _ = black_box(ChangeNotifyRequest::decode(msg));
        }
        Command::QueryInfo => {
            let _ = black_box(QueryInfoRequest::decode(msg));
        }
        Command::SetInfo => {
            if let Ok(req) = SetInfoRequest::decode(msg)
                && req.info_type == info_type::FILE
            {
                fscc_set_info(req.class, req.buffer);
            }
        }
        _ => {}
    }
}

/// Decodes an IOCTL input buffer as the handler of `code` does (any other code: with every
/// FSCTL decoder, so each sees the seeds' buffers).
fn fsctl_input(code: Fsctl, input: &[u8]) {
    use crate::proto::fsctl as f;
    if code == Fsctl::VALIDATE_NEGOTIATE_INFO {
        let _ = black_box(ValidateNegotiateInfo::decode(input));
        return;
    }
    let _ = black_box(f::CopychunkCopy::decode(
        input,
        crate::dispatch::COPYCHUNK_MAX_CHUNKS,
    ));
    let _ = black_box(f::OffsetPair::decode(input));
    let _ = black_box(f::DuplicateExtents::decode(input, false));
    let _ = black_box(f::DuplicateExtents::decode(input, true));
    black_box(f::decode_set_sparse(input));
    if let Ok((_, data)) = f::decode_reparse(input) {
        let _ = black_box(f::decode_symlink_reparse(data));
    }
}

/// A compound chain: walks NextCommand links with the dispatcher's rules (8-byte aligned, at
/// least a header long, inside the frame) and decodes each message, limited to its own bytes.
pub fn compound(data: &[u8]) {
    for msg in chain(data) {
        let Ok(h) = Header::decode(msg) else {
            return;
        };
        body(h.command, msg);
    }
}

/// Splits a frame into the messages of its compound chain, stopping at the first bad link.
fn chain(frame: &[u8]) -> Vec<&[u8]> {
    let mut msgs = Vec::new();
    let mut rest = frame;
    loop {
        let Ok(h) = Header::decode(rest) else {
            return msgs;
        };
        let next = h.next_command as usize;
        if next == 0 {
            msgs.push(rest);
            return msgs;
        }
        if !next.is_multiple_of(8) || next < HEADER_LEN || next > rest.len() {
            return msgs;
        }
        let (msg, tail) = rest.split_at(next);
        msgs.push(msg);
        rest = tail;
    }
}

/// `data[0]` is a FileInfoClass, the rest the SET_INFO buffer; see [`fscc_set_info`]. Also
/// the UTF-16 decoder, the 8.3 name generator and the wildcard matcher on parts of the input.
pub fn fscc(data: &[u8]) {
    let Some((&class, rest)) = data.split_first() else {
        return;
    };
    fscc_set_info(class, rest);
    if let Ok(s) = fscc::utf16le_decode(rest) {
        black_box(vfs::short_names::alone(&s));
        black_box(vfs::short_names::ShortNames::from_names([s.as_str()]).long_of(&s));
        let mut again = Vec::new();
        fscc::utf16le_encode(&s, &mut again);
        assert_eq!(
            fscc::utf16le_decode(&again).as_ref(),
            Ok(&s),
            "UTF-16 round trip"
        );
        let (pattern, name) = s.split_at(
            s.char_indices()
                .nth(s.chars().count() / 2)
                .map_or(0, |(i, _)| i),
        );
        black_box(fscc::wildcard_match(pattern, name));
    }
}

/// Decodes a SET_INFO buffer of FileInfoClass `class` (MS-FSCC 2.4) as the handler does, and
/// the same bytes as the EA lists of SET_INFO / ExtA and of a QUERY_INFO (MS-FSCC 2.4.15): a
/// list that decodes is written back entry by entry and decodes to the same EAs.
pub fn fscc_set_info(class: u8, data: &[u8]) {
    let _ = black_box(fscc::decode_set_file_info(FileInfoClass(class), data));
    let _ = black_box(fscc::decode_get_ea_list(data));
    if let Ok(list) = fscc::decode_full_ea_list(data) {
        let mut w = fscc::EaListWriter::new(usize::MAX);
        for ea in &list {
            assert!(w.push(ea), "an unbounded EA list takes every entry");
        }
        let again = fscc::decode_full_ea_list(&w.finish());
        assert_eq!(again.as_ref(), Ok(&list), "EA list round trip");
    }
}

/// A named pipe: opens srvsvc (or wkssvc when `data[0]` is odd), optionally after a canned
/// bind (`data[0] & 2`), writes the input in chunks of `data[1]` bytes (all at once when 0)
/// and reads every response; then the same bytes through FSCTL_PIPE_TRANSCEIVE on a fresh pipe.
pub fn rpc_pipe(data: &[u8]) {
    let [mode, chunk, rest @ ..] = data else {
        return;
    };
    let name = if mode & 1 == 0 {
        "srvsvc"
    } else {
        "\\PIPE\\wkssvc"
    };
    let identity = Arc::new(ServerIdentity {
        name: "FUZZ".into(),
        comment: "fuzz".into(),
        shares: vec![ShareEntry::disk("share", "a share", "/srv/share")],
    });
    let Some(mut pipe) = Pipe::open(name, identity.clone()) else {
        return;
    };
    if mode & 2 != 0 {
        let _ = pipe.write(&bind_pdu(mode & 1 != 0));
        drain(&mut pipe, usize::from(*mode >> 2) * 16 + 1);
    }
    let chunk = if *chunk == 0 {
        rest.len().max(1)
    } else {
        usize::from(*chunk)
    };
    for piece in rest.chunks(chunk) {
        if pipe.write(piece).is_err() {
            break;
        }
        drain(&mut pipe, 4280);
    }
    if let Some(mut pipe) = Pipe::open(name, identity) {
        black_box(pipe.kind());
        let _ = pipe.transceive(rest, 1024);
        black_box(pipe.has_output());
    }
}

/// Reads everything the pipe has queued, `max` bytes at a time.
fn drain(pipe: &mut Pipe, max: usize) {
    while let Ok(Some((bytes, _more))) = pipe.read(max) {
        assert!(bytes.len() <= max, "pipe read longer than asked");
        if bytes.is_empty() {
            break;
        }
    }
}

/// A bind PDU (C706 12.6.4.3) for srvsvc v3.0 or wkssvc v1.0 over NDR 2.0, context id 0.
fn bind_pdu(wkssvc: bool) -> Vec<u8> {
    let (uuid, major): ([u8; 16], u16) = if wkssvc {
        (
            [
                0x98, 0xd0, 0xff, 0x6b, 0x12, 0xa1, 0x10, 0x36, 0x98, 0x33, 0x46, 0xc3, 0xf8, 0x7e,
                0x34, 0x5a,
            ],
            1,
        )
    } else {
        (
            [
                0xc8, 0x4f, 0x32, 0x4b, 0x70, 0x16, 0xd3, 0x01, 0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e,
                0xe1, 0x88,
            ],
            3,
        )
    };
    let mut p = vec![5, 0, 11, 3, 0x10, 0, 0, 0, 72, 0, 0, 0, 1, 0, 0, 0];
    p.extend_from_slice(&4280u16.to_le_bytes());
    p.extend_from_slice(&4280u16.to_le_bytes());
    p.extend_from_slice(&0u32.to_le_bytes());
    p.extend_from_slice(&[1, 0, 0, 0]); // one context, reserved
    p.extend_from_slice(&[0, 0, 1, 0]); // context id 0, one transfer syntax, reserved
    p.extend_from_slice(&uuid);
    p.extend_from_slice(&u32::from(major).to_le_bytes());
    p.extend_from_slice(&crate::rpc::pdu::NDR20.uuid);
    p.extend_from_slice(&2u32.to_le_bytes());
    p
}

/// The transform header parser and decryption: parse then re-encode (the Reserved field is
/// not kept), decrypt with a fixed key under [`crypto::NULL_PROVIDER`] (which must give the
/// ciphertext back) and [`crypto::DEFAULT_PROVIDER`] for every cipher, and check that
/// encrypting the input and decrypting it gives the input back. Inputs of 64 bytes or more
/// are also signed and verified with every signing algorithm.
pub fn transform(data: &[u8]) {
    if let Ok(th) = crypto::TransformHeader::parse(data) {
        let mut out = Vec::new();
        th.encode(&mut out);
        let mut expected = data[..crypto::TRANSFORM_HEADER_LEN].to_vec();
        expected[40..42].fill(0);
        assert_eq!(out, expected, "transform header round trip");
    }
    for cipher in [
        Cipher::Aes128Ccm,
        Cipher::Aes128Gcm,
        Cipher::Aes256Ccm,
        Cipher::Aes256Gcm,
    ] {
        let key = &KEY[..cipher_key_len(cipher)];
        if let Ok(plain) = crypto::decrypt_message(&crypto::NULL_PROVIDER, cipher, key, data) {
            assert_eq!(
                plain,
                data[crypto::TRANSFORM_HEADER_LEN..],
                "null AEAD changed data"
            );
        }
        let mut copy = data.to_vec();
        let real = crypto::decrypt_message(&crypto::DEFAULT_PROVIDER, cipher, key, data);
        let in_place = crypto::decrypt_in_place(&crypto::DEFAULT_PROVIDER, cipher, key, &mut copy);
        assert_eq!(real.is_ok(), in_place.is_ok(), "decrypt in place disagrees");
        seal_open(&crypto::DEFAULT_PROVIDER, cipher, key, data);
    }
    if data.len() >= HEADER_LEN {
        for alg in [
            SigningAlgorithm::HmacSha256,
            SigningAlgorithm::AesCmac,
            SigningAlgorithm::AesGmac,
        ] {
            let mut msg = data.to_vec();
            if crypto::sign_message(&crypto::DEFAULT_PROVIDER, alg, &KEY[..16], &mut msg).is_ok() {
                assert!(
                    crypto::verify_message(&crypto::DEFAULT_PROVIDER, alg, &KEY[..16], &msg),
                    "signed message does not verify"
                );
            }
        }
    }
}

/// A fixed key for the crypto targets.
const KEY: [u8; 32] = *b"0123456789abcdef0123456789ABCDEF";

/// Key length of a cipher.
fn cipher_key_len(cipher: Cipher) -> usize {
    match cipher {
        Cipher::Aes128Ccm | Cipher::Aes128Gcm => 16,
        Cipher::Aes256Ccm | Cipher::Aes256Gcm => 32,
    }
}

/// Encrypts `plain` and checks that decryption gives it back.
fn seal_open(p: &CryptoProvider, cipher: Cipher, key: &[u8], plain: &[u8]) {
    let Ok(sealed) = crypto::encrypt_message(p, cipher, key, 7, plain) else {
        return;
    };
    let opened = crypto::decrypt_message(p, cipher, key, &sealed);
    assert_eq!(opened.as_deref(), Ok(plain), "encrypt then decrypt");
}

/// The whole server on one connection: see [`connection_replies`].
pub fn connection(data: &[u8]) {
    black_box(connection_replies(data));
}

/// Feeds `data`, split into frames by a 2-byte big-endian length before each (a short last
/// frame takes what is left), to [`crate::dispatch::handle_frame`] on a fresh server (a
/// [`vfs::mem::MemFs`] share `share`, a read-only one `ro`, IPC$, NTLM with one account and
/// anonymous logons, [`crypto::NULL_PROVIDER`]) in a current-thread runtime, as the driver
/// does, until the input ends or the connection is dropped. Returns the frames sent back,
/// after checking that each is an SMB2 response (or an encrypted one).
pub fn connection_replies(data: &[u8]) -> Vec<Vec<u8>> {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return Vec::new();
    };
    let (tx, mut rx) = mpsc::channel(OUT_QUEUE);
    let conn = Connection::start(fuzz_server(), "fuzz".into(), tx);
    let mut replies = Vec::new();
    rt.block_on(async {
        for frame in frames(data) {
            let result = crate::dispatch::handle_frame(&conn, frame.to_vec()).await;
            count_anonymous_as_signed_in(&conn);
            // Let spawned completions (CLOSE finishing a pending CHANGE_NOTIFY) run.
            for _ in 0..4 {
                tokio::task::yield_now().await;
            }
            while let Ok(reply) = rx.try_recv() {
                check_reply(reply.payload());
                replies.push(reply.payload().to_vec());
            }
            if result.is_err() {
                break;
            }
        }
        crate::dispatch::connection_closed(&conn);
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        while let Ok(reply) = rx.try_recv() {
            check_reply(reply.payload());
            replies.push(reply.payload().to_vec());
        }
    });
    replies
}

/// Makes every anonymous session of `conn` count as a signed-in user's (not null, with
/// Authenticated Users), so the seeds, which log on anonymously, reach the disk share's
/// handlers: a null session reaches no disk share (the check itself has unit tests).
fn count_anonymous_as_signed_in(conn: &Connection) {
    for session in conn.sessions_now() {
        let Some(sec) = session.security().filter(|s| s.is_null) else {
            continue;
        };
        let mut sec = (*sec).clone();
        sec.is_null = false;
        sec.auth.token.add_group(
            acl::Sid::authenticated_users(),
            acl::GroupAttributes::DEFAULT,
        );
        session.set_security(Arc::new(sec));
    }
}

/// Room in the outgoing channel; drained after every frame.
const OUT_QUEUE: usize = 4096;

/// Splits the input into frames, each preceded by its 2-byte big-endian length.
pub fn frames(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while let [a, b, rest @ ..] = data {
        let len = usize::from(u16::from_be_bytes([*a, *b])).min(rest.len());
        let (frame, tail) = rest.split_at(len);
        out.push(frame);
        data = tail;
    }
    out
}

/// A reply must be an encrypted frame or a chain of SMB2 responses covering the whole frame.
fn check_reply(frame: &[u8]) {
    if frame.starts_with(&header::TRANSFORM_ID) {
        assert!(
            crypto::TransformHeader::parse(frame).is_ok(),
            "bad transform header in a reply"
        );
        return;
    }
    let msgs = chain(frame);
    assert!(!msgs.is_empty(), "reply is not an SMB2 message");
    let total: usize = msgs.iter().map(|m| m.len()).sum();
    assert_eq!(total, frame.len(), "reply chain does not cover the frame");
    for m in msgs {
        let h = Header::decode(m).map_err(|e| e.what);
        assert!(
            h.is_ok_and(|h| h.flags & flags::SERVER_TO_REDIR != 0),
            "reply without the response flag"
        );
    }
}

/// The server a connection target runs against: the harness's server with two shares, every
/// cipher and signing algorithm, and NTLM with one account besides anonymous logons.
fn fuzz_server() -> Arc<ServerContext> {
    use crate::harness::server::{Builder, open_share, spnego_with};
    let account = acceptor::LocalAccount {
        name: "alice".into(),
        nt_hash: acceptor::nt_hash("Secret123"),
        rid: 1001,
        groups: Vec::new(),
        previous: None,
    };
    let auth = spnego_with("FUZZ", "fuzz.example.com", vec![account]);
    let rw: Arc<dyn vfs::Vfs> = Arc::new(vfs::mem::MemFs::new());
    let ro: Arc<dyn vfs::Vfs> = Arc::new(vfs::mem::MemFs::new());
    // The fuzz sessions are anonymous: the shares are open to Everyone so the file handlers
    // are reached.
    Builder::new(rw.clone(), 512)
        .settings(|s| {
            s.server_name = "FUZZ".into();
            s.guid = [0x5a; 16];
            s.ciphers = vec![
                Cipher::Aes128Gcm,
                Cipher::Aes128Ccm,
                Cipher::Aes256Gcm,
                Cipher::Aes256Ccm,
            ];
            s.signing_algorithms = vec![
                SigningAlgorithm::AesGmac,
                SigningAlgorithm::AesCmac,
                SigningAlgorithm::HmacSha256,
            ];
        })
        .shares(vec![
            open_share("share", rw, false, EncryptMode::Off),
            open_share("ro", ro, true, EncryptMode::Desired),
        ])
        .auth(auth)
        .build()
}

/// The durable-handle store's record and journal formats.
pub mod durable;
/// Hand-made inputs for the seed corpora and the tests.
pub mod seeds;

#[cfg(test)]
mod tests;
