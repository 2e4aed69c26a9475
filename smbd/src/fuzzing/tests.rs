//! Tests of the fuzz entry points and of the seeds.

use super::*;

fn status(msg: &[u8]) -> u32 {
    Header::decode(msg).map(|h| h.status).unwrap_or(u32::MAX)
}

#[test]
fn seeded_session_reaches_the_file_handlers() {
    let replies = connection_replies(&seeds::session());
    assert_eq!(replies.len(), 5, "one reply per frame");
    assert_eq!(status(&replies[0]), 0, "negotiate");
    assert_eq!(status(&replies[1]), 0xC000_0016, "more processing required");
    assert_eq!(status(&replies[2]), 0, "anonymous logon");
    assert_eq!(status(&replies[3]), 0, "tree connect");
    let chain = chain(&replies[4]);
    let statuses: Vec<u32> = chain.iter().map(|m| status(m)).collect();
    assert_eq!(statuses, [0, 0, 0, 0], "create, write, read, close");
    assert!(
        chain[2].windows(10).any(|w| w == b"hello fuzz"),
        "read data"
    );
}

#[test]
fn targets_survive_small_inputs() {
    let session = seeds::session();
    let mut inputs: Vec<Vec<u8>> = vec![Vec::new(), vec![0xfe], vec![0; 200]];
    inputs.extend(frames(&session).into_iter().map(<[u8]>::to_vec));
    for data in &inputs {
        header(data);
        request(data);
        compound(data);
        fscc(data);
        rpc_pipe(data);
        transform(data);
        connection(data);
    }
}

#[test]
fn smb3_seed_and_rpc_seed_work() {
    let seeds = seeds::all();
    let find = |name: &str| &seeds.iter().find(|s| s.1 == name).expect("seed").2;
    let replies = connection_replies(find("smb3_anonymous_file_io"));
    assert_eq!(replies.len(), 5);
    assert_eq!(replies[0][68..70], [0x02, 0x03], "3.0.2 chosen");
    assert!(chain(&replies[4]).iter().all(|m| status(m) == 0));

    let identity = Arc::new(ServerIdentity {
        name: "FUZZ".into(),
        comment: String::new(),
        shares: vec![ShareEntry::disk("share", "", "/srv/share")],
    });
    let mut pipe = Pipe::open("srvsvc", identity).expect("known pipe");
    pipe.write(&bind_pdu(false)).expect("bind");
    pipe.read(4280).expect("read").expect("bind_ack");
    pipe.write(&seeds::share_enum_request()).expect("request");
    let (resp, _) = pipe.read(4280).expect("read").expect("a response");
    assert_eq!(resp[2], crate::rpc::pdu::PTYPE_RESPONSE, "not a fault");
    for (_, _, data) in seeds {
        rpc_pipe(&data);
        fscc(&data);
    }
}

/// Writes the seed corpora when SMBD_WRITE_FUZZ_SEEDS names a directory (normally
/// smbd/fuzz/seeds); otherwise does nothing.
#[test]
fn write_seeds() {
    let Some(dir) = std::env::var_os("SMBD_WRITE_FUZZ_SEEDS") else {
        return;
    };
    for (target, name, data) in seeds::all() {
        let d = std::path::Path::new(&dir).join(target);
        std::fs::create_dir_all(&d).expect("seed dir");
        std::fs::write(d.join(name), data).expect("seed file");
    }
}

#[test]
fn frames_split_on_length_prefixes() {
    assert_eq!(frames(&[0, 2, 7, 8, 0, 5, 9]), [&[7u8, 8][..], &[9][..]]);
    assert!(frames(&[1]).is_empty());
}

#[test]
fn header_round_trips_a_seed() {
    header(&seeds::negotiate());
    let mut async_msg = seeds::close(1, 1);
    async_msg[16] |= flags::ASYNC_COMMAND as u8;
    header(&async_msg);
}

#[test]
fn rpc_bind_is_accepted() {
    for wkssvc in [false, true] {
        let name = if wkssvc { "wkssvc" } else { "srvsvc" };
        let identity = Arc::new(ServerIdentity {
            name: "FUZZ".into(),
            comment: String::new(),
            shares: Vec::new(),
        });
        let mut pipe = Pipe::open(name, identity).expect("known pipe");
        pipe.write(&bind_pdu(wkssvc)).expect("bind accepted");
        let (ack, _) = pipe.read(4280).expect("read").expect("a bind_ack");
        assert_eq!(ack[2], crate::rpc::pdu::PTYPE_BIND_ACK);
        // C706 12.6.4.4: the secondary address, padded to 4, then n_results (1) and the
        // first result, which must be an acceptance.
        let sec_addr_len = usize::from(u16::from_le_bytes([ack[24], ack[25]]));
        let results = (26 + sec_addr_len).next_multiple_of(4);
        assert_eq!(ack[results], 1, "one result");
        assert_eq!(ack[results + 4..results + 6], [0, 0], "acceptance");
    }
}

#[test]
fn transform_round_trips_an_encrypted_message() {
    let sealed = crypto::encrypt_message(
        &crypto::NULL_PROVIDER,
        Cipher::Aes128Gcm,
        &KEY[..16],
        3,
        b"x",
    )
    .expect("encrypt");
    transform(&sealed);
    compound(&seeds::compound(
        &[seeds::negotiate(), seeds::close(1, 1)],
        true,
    ));
    black_box(crate::proto::create::decode_contexts(&[])).expect("empty contexts");
}
