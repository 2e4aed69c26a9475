//! Oplocks, leases and durable handles in the sans-IO harness: two clients of one server, the
//! breaks one's CREATE causes to the other, their acknowledgments and timeouts in virtual time,
//! and a durable open surviving its connection.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::handle_frame;
use super::test_client::{TestClient, statuses};
use crate::clock::ManualClock;
use crate::fuzzing::seeds;
use crate::proto::header::{Command, Header};
use crate::state::ServerContext;

const BATCH: u8 = 9;
const LEVEL_II: u8 = 1;
const LEASE: u8 = 0xFF;

fn server(clock: Option<Arc<ManualClock>>) -> Arc<ServerContext> {
    let b = crate::harness::server::Builder::new(Arc::new(vfs::mem::MemFs::new()), 512);
    match clock {
        Some(c) => b.clock(c).build(),
        None => b.build(),
    }
}

fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    ))
}

/// A CREATE (OPEN_IF, read and write, every share mode) asking for `oplock` with `contexts`.
fn create(c: &mut TestClient, name: &str, oplock: u8, contexts: &[(&[u8], Vec<u8>)]) -> Vec<u8> {
    let id = c.next_id();
    let name: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let ctx_off = (120 + name.len()).next_multiple_of(8);
    let mut chain = Vec::new();
    for (i, (cname, data)) in contexts.iter().enumerate() {
        let start = chain.len();
        let data_off = 16 + cname.len().next_multiple_of(8);
        let len = (data_off + data.len()).next_multiple_of(8);
        let next = if i + 1 < contexts.len() {
            len as u32
        } else {
            0
        };
        chain.extend_from_slice(&next.to_le_bytes());
        chain.extend_from_slice(&16u16.to_le_bytes());
        chain.extend_from_slice(&(cname.len() as u16).to_le_bytes());
        chain.extend_from_slice(&[0, 0]);
        chain.extend_from_slice(&(data_off as u16).to_le_bytes());
        chain.extend_from_slice(&(data.len() as u32).to_le_bytes());
        chain.extend_from_slice(cname);
        chain.resize(start + data_off, 0);
        chain.extend_from_slice(data);
        if next != 0 {
            chain.resize(start + len, 0);
        }
    }
    let mut b = vec![57, 0, 0, oplock];
    b.extend_from_slice(&2u32.to_le_bytes());
    b.extend_from_slice(&[0; 16]);
    b.extend_from_slice(&0x0012_019fu32.to_le_bytes());
    b.extend_from_slice(&0x80u32.to_le_bytes());
    b.extend_from_slice(&7u32.to_le_bytes());
    b.extend_from_slice(&3u32.to_le_bytes());
    b.extend_from_slice(&0x40u32.to_le_bytes());
    b.extend_from_slice(&120u16.to_le_bytes());
    b.extend_from_slice(&(name.len() as u16).to_le_bytes());
    let (off, len) = if chain.is_empty() {
        (0, 0)
    } else {
        (ctx_off, chain.len())
    };
    b.extend_from_slice(&(off as u32).to_le_bytes());
    b.extend_from_slice(&(len as u32).to_le_bytes());
    b.extend_from_slice(&name);
    if !chain.is_empty() {
        b.resize(ctx_off - 64, 0);
        b.extend_from_slice(&chain);
    }
    seeds::message(Command::Create, id, c.sid, 1, &b)
}

/// The OplockLevel and FileId of a CREATE response.
fn created(reply: &[u8]) -> (u8, [u8; 16]) {
    assert_eq!(statuses(reply)[0], 0, "create succeeds");
    (reply[66], reply[128..144].try_into().unwrap())
}

/// A lease context (v1) with `key` asking for `state`.
fn lease(key: u8, state: u32) -> Vec<u8> {
    let mut d = vec![key; 16];
    d.extend_from_slice(&state.to_le_bytes());
    d.extend_from_slice(&[0; 12]);
    d
}

/// An Oplock Break Acknowledgment of `fid` to `level`.
fn oplock_ack(c: &mut TestClient, fid: [u8; 16], level: u8) -> Vec<u8> {
    let id = c.next_id();
    let mut b = vec![24, 0, level, 0, 0, 0, 0, 0];
    b.extend_from_slice(&fid);
    seeds::message(Command::OplockBreak, id, c.sid, 1, &b)
}

/// A Lease Break Acknowledgment of `key` to `state`.
fn lease_ack(c: &mut TestClient, key: u8, state: u32) -> Vec<u8> {
    let id = c.next_id();
    let mut b = vec![36, 0, 0, 0, 0, 0, 0, 0];
    b.extend_from_slice(&[key; 16]);
    b.extend_from_slice(&state.to_le_bytes());
    b.extend_from_slice(&[0; 8]);
    seeds::message(Command::OplockBreak, id, c.sid, 1, &b)
}

/// Lets spawned tasks (breaks being sent, a CREATE reaching its wait) run.
async fn settle() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}

/// The final response among the next replies (skipping interim STATUS_PENDING ones).
async fn final_reply(c: &mut TestClient) -> Vec<u8> {
    loop {
        let r = c.recv().await;
        if statuses(&r)[0] != 0x0000_0103 {
            return r;
        }
    }
}

#[tokio::test]
async fn a_second_open_breaks_batch_to_level_two_and_waits_for_the_ack() {
    let server = server(None);
    let mut a = TestClient::on_share(server.clone()).await;
    let mut b = TestClient::on_share(server.clone()).await;
    let msg = create(&mut a, "f.txt", BATCH, &[]);
    let (level, fid) = created(&a.call(msg).await.1);
    assert_eq!(level, BATCH, "the only open gets batch");
    let msg = create(&mut b, "f.txt", BATCH, &[]);
    let conn_b = b.conn.clone();
    let opening = tokio::spawn(async move { handle_frame(&conn_b, msg).await });
    let brk = a.recv().await;
    let h = Header::decode(&brk).unwrap();
    assert_eq!((h.command, h.message_id), (Command::OplockBreak, u64::MAX));
    assert_eq!(brk[66], LEVEL_II, "broken to level II");
    assert_eq!(&brk[72..88], &fid);
    settle().await;
    assert!(
        !opening.is_finished(),
        "the second open waits for the acknowledgment"
    );
    let ack = oplock_ack(&mut a, fid, LEVEL_II);
    let (status, resp) = a.call(ack).await;
    assert_eq!((status, resp[66]), (0, LEVEL_II));
    opening.await.unwrap().unwrap();
    let (level, _) = created(&final_reply(&mut b).await);
    assert_eq!(level, LEVEL_II, "both hold level II now");
}

#[tokio::test]
async fn an_unacknowledged_break_downgrades_after_the_timeout_in_virtual_time() {
    let clock = manual_clock();
    let server = server(Some(clock.clone()));
    let mut a = TestClient::on_share(server.clone()).await;
    let mut b = TestClient::on_share(server.clone()).await;
    let msg = create(&mut a, "t.txt", BATCH, &[]);
    created(&a.call(msg).await.1);
    let msg = create(&mut b, "t.txt", BATCH, &[]);
    let conn_b = b.conn.clone();
    let opening = tokio::spawn(async move { handle_frame(&conn_b, msg).await });
    a.recv().await;
    settle().await;
    clock.advance(Duration::from_secs(34));
    settle().await;
    assert!(
        !opening.is_finished(),
        "still within the 35 s break timeout"
    );
    clock.advance(Duration::from_secs(2));
    settle().await;
    opening.await.unwrap().unwrap();
    let (level, _) = created(&final_reply(&mut b).await);
    assert_eq!(level, LEVEL_II);
}

#[tokio::test]
async fn a_lease_of_another_client_breaks_from_rwh_to_rh() {
    let server = server(None);
    let mut a = TestClient::on_share(server.clone()).await;
    let mut b = TestClient::on_share(server.clone()).await;
    let msg = create(&mut a, "l.txt", LEASE, &[(b"RqLs", lease(0xA1, 7))]);
    let reply = a.call(msg).await.1;
    let (level, _) = created(&reply);
    assert_eq!(level, LEASE);
    let msg = create(&mut b, "l.txt", LEASE, &[(b"RqLs", lease(0xB2, 7))]);
    let conn_b = b.conn.clone();
    let opening = tokio::spawn(async move { handle_frame(&conn_b, msg).await });
    let brk = a.recv().await;
    // Lease Break Notification: StructureSize 44, key, current RWH, new RH.
    assert_eq!(u16::from_le_bytes([brk[64], brk[65]]), 44);
    assert_eq!(&brk[72..88], &[0xA1; 16]);
    assert_eq!(brk[88], 7);
    assert_eq!(brk[92], 3);
    let ack = lease_ack(&mut a, 0xA1, 3);
    assert_eq!(a.call(ack).await.0, 0);
    opening.await.unwrap().unwrap();
    let reply = final_reply(&mut b).await;
    let (level, _) = created(&reply);
    assert_eq!(level, LEASE);
}

#[tokio::test]
async fn the_same_lease_key_does_not_break_its_own_lease() {
    let server = server(None);
    let mut a = TestClient::on_share(server.clone()).await;
    let first = create(&mut a, "s.txt", LEASE, &[(b"RqLs", lease(0xC3, 7))]);
    created(&a.call(first).await.1);
    let second = create(&mut a, "s.txt", LEASE, &[(b"RqLs", lease(0xC3, 7))]);
    let (level, _) = created(&a.call(second).await.1);
    assert_eq!(level, LEASE, "the second open joins the lease at once");
}

#[tokio::test]
async fn a_durable_open_survives_its_connection_and_is_reconnected() {
    let clock = manual_clock();
    let server = server(Some(clock.clone()));
    let mut a = TestClient::on_share(server.clone()).await;
    let msg = create(&mut a, "d.txt", BATCH, &[(b"DHnQ", vec![0; 16])]);
    let reply = a.call(msg).await.1;
    let (level, fid) = created(&reply);
    assert_eq!(level, BATCH);
    assert!(reply.windows(4).any(|w| w == b"DHnQ"), "durable granted");
    super::connection_closed(&a.conn);
    drop(a);
    settle().await;
    assert_eq!(
        server.opens.len(),
        1,
        "the durable open waits for its client"
    );
    let mut c = TestClient::on_share(server.clone()).await;
    let reconnect = create(&mut c, "d.txt", BATCH, &[(b"DHnC", fid.to_vec())]);
    let reply = c.call(reconnect).await.1;
    let (level, again) = created(&reply);
    assert_eq!(
        (level, &again[..8]),
        (BATCH, &fid[..8]),
        "same persistent id, same oplock"
    );
    // Closed normally, it is gone.
    let id = c.next_id();
    let mut b = vec![24, 0, 0, 0, 0, 0, 0, 0];
    b.extend_from_slice(&again);
    let close = seeds::message(Command::Close, id, c.sid, 1, &b);
    assert_eq!(c.call(close).await.0, 0);
    assert_eq!(server.opens.len(), 0);
}

#[tokio::test]
async fn a_durable_open_nobody_reclaims_expires_on_the_server_clock() {
    let clock = manual_clock();
    let server = server(Some(clock.clone()));
    let mut a = TestClient::on_share(server.clone()).await;
    let msg = create(&mut a, "e.txt", BATCH, &[(b"DHnQ", vec![0; 16])]);
    created(&a.call(msg).await.1);
    super::connection_closed(&a.conn);
    drop(a);
    settle().await;
    clock.advance(Duration::from_secs(59));
    settle().await;
    assert_eq!(server.opens.len(), 1);
    clock.advance(Duration::from_secs(2));
    settle().await;
    assert_eq!(server.opens.len(), 0, "expired after its 60 s");
    assert!(
        server.files.get_any().is_none(),
        "its share-mode claim is gone too"
    );
}

#[tokio::test]
async fn an_open_without_durable_caching_closes_with_its_connection() {
    let server = server(None);
    let mut a = TestClient::on_share(server.clone()).await;
    let msg = create(&mut a, "n.txt", LEVEL_II, &[(b"DHnQ", vec![0; 16])]);
    let reply = a.call(msg).await.1;
    assert!(
        !reply.windows(4).any(|w| w == b"DHnQ"),
        "no durable handle without batch"
    );
    super::connection_closed(&a.conn);
    drop(a);
    settle().await;
    assert_eq!(server.opens.len(), 0);
}

/// A server whose one share is continuously available, over `fs`, keeping handles in `store`.
fn ca_server(
    fs: Arc<vfs::mem::MemFs>,
    store: Arc<crate::durable::MemStore>,
    clock: Arc<ManualClock>,
) -> Arc<ServerContext> {
    let mut share = crate::harness::server::open_share(
        "share",
        fs.clone(),
        false,
        crate::state::EncryptMode::Off,
    );
    share.continuous_availability = true;
    Arc::new(
        crate::harness::server::Builder::new(fs, 512)
            .shares(vec![share])
            .clock(clock)
            .context()
            .with_handle_store(store),
    )
}

/// A client that negotiated SMB 3.0.2 and connected "share".
async fn smb3_client(server: Arc<ServerContext>) -> TestClient {
    smb3_client_of(server, 0x11).await
}

/// [`smb3_client`] with ClientGuid `guid` (sixteen times that byte).
async fn smb3_client_of(server: Arc<ServerContext>, guid: u8) -> TestClient {
    let mut c = TestClient::new(server);
    let mut neg = seeds::negotiate_smb3();
    neg[64 + 12..64 + 28].fill(guid);
    c.negotiate_with(neg).await;
    c.logon_anonymous().await;
    c.sign_in();
    c.connect_share().await;
    c
}

/// A DH2Q context asking for a persistent handle with `guid`.
fn dh2q_persistent(guid: u8) -> Vec<u8> {
    let mut d = 0u32.to_le_bytes().to_vec();
    d.extend_from_slice(&2u32.to_le_bytes());
    d.extend_from_slice(&[0; 8]);
    d.extend_from_slice(&[guid; 16]);
    d
}

/// A DH2C context reconnecting `fid` made with `guid`, persistent.
fn dh2c_persistent(fid: [u8; 16], guid: u8) -> Vec<u8> {
    let mut d = fid.to_vec();
    d.extend_from_slice(&[guid; 16]);
    d.extend_from_slice(&2u32.to_le_bytes());
    d
}

#[tokio::test]
async fn a_persistent_handle_is_stored_and_reclaimed_after_a_restart() {
    let fs = Arc::new(vfs::mem::MemFs::new());
    let store = Arc::new(crate::durable::MemStore::new());
    let clock = manual_clock();
    let first = ca_server(fs.clone(), store.clone(), clock.clone());
    // SMB 3 is needed for persistent handles.
    let mut a = smb3_client(first.clone()).await;
    let msg = create(&mut a, "p.vhdx", 0, &[(b"DH2Q", dh2q_persistent(0x5E))]);
    let reply = a.call(msg).await.1;
    let (_, fid) = created(&reply);
    assert!(reply.windows(4).any(|w| w == b"DH2Q"), "persistent granted");
    use crate::durable::HandleStore;
    assert_eq!(
        store.load_all().unwrap().len(),
        1,
        "stored before the answer"
    );
    // The server dies; a new one starts on the same files and store.
    drop(a);
    drop(first);
    let second = ca_server(fs, store.clone(), clock.clone());
    assert_eq!(super::persistent::restore(&second).await, 1);
    assert_eq!(second.opens.len(), 1);
    let mut c = smb3_client(second.clone()).await;
    let msg = create(
        &mut c,
        "p.vhdx",
        0,
        &[(b"DH2C", dh2c_persistent(fid, 0x5E))],
    );
    let (_, again) = created(&c.call(msg).await.1);
    assert_eq!(&again[..8], &fid[..8], "the same handle");
    let id = c.next_id();
    let mut b = vec![24, 0, 0, 0, 0, 0, 0, 0];
    b.extend_from_slice(&again);
    let close = seeds::message(Command::Close, id, c.sid, 1, &b);
    assert_eq!(c.call(close).await.0, 0);
    assert!(store.load_all().unwrap().is_empty(), "closed: forgotten");
}

#[tokio::test]
async fn one_lease_key_cannot_lease_two_files() {
    let server = server(None);
    let mut a = TestClient::on_share(server.clone()).await;
    let first = create(&mut a, "one.txt", LEASE, &[(b"RqLs", lease(0xD4, 7))]);
    created(&a.call(first).await.1);
    let second = create(&mut a, "two.txt", LEASE, &[(b"RqLs", lease(0xD4, 7))]);
    assert_eq!(
        a.call(second).await.0,
        crate::proto::NtStatus::INVALID_PARAMETER.0
    );
}

/// A DH2Q context (not persistent) with `guid`.
fn dh2q(guid: u8) -> Vec<u8> {
    let mut d = vec![0; 8];
    d.extend_from_slice(&[0; 8]);
    d.extend_from_slice(&[guid; 16]);
    d
}

#[tokio::test]
async fn a_replayed_durable_create_is_answered_with_the_open_it_made() {
    let server = server(None);
    let mut a = smb3_client(server.clone()).await;
    let first = create(&mut a, "r.txt", BATCH, &[(b"DH2Q", dh2q(0x77))]);
    let reply = a.call(first.clone()).await.1;
    let (level, fid) = created(&reply);
    assert_eq!(level, BATCH);
    let mut again = create(&mut a, "r.txt", BATCH, &[(b"DH2Q", dh2q(0x77))]);
    let f = u32::from_le_bytes(again[16..20].try_into().unwrap())
        | crate::proto::header::flags::REPLAY_OPERATION;
    again[16..20].copy_from_slice(&f.to_le_bytes());
    let replayed = a.call(again).await.1;
    let (level2, fid2) = created(&replayed);
    assert_eq!(
        (level2, fid2),
        (BATCH, fid),
        "the same open, not a second one"
    );
    assert_eq!(server.opens.len(), 1);
}

#[tokio::test]
async fn a_new_open_closes_a_disconnected_durable_open_of_the_file() {
    let server = server(None);
    let mut a = TestClient::on_share(server.clone()).await;
    let msg = create(&mut a, "g.txt", BATCH, &[(b"DHnQ", vec![0; 16])]);
    let (_, fid) = created(&a.call(msg).await.1);
    super::connection_closed(&a.conn);
    drop(a);
    settle().await;
    let mut b = TestClient::on_share(server.clone()).await;
    let msg = create(&mut b, "g.txt", BATCH, &[]);
    let (level, other) = created(&b.call(msg).await.1);
    assert_eq!(level, BATCH, "the file is the new open's alone");
    assert_ne!(&other[..8], &fid[..8]);
    assert_eq!(server.opens.len(), 1);
}

/// An AppInstanceId context.
fn app_instance(id: u8) -> Vec<u8> {
    let mut d = vec![20, 0, 0, 0];
    d.extend_from_slice(&[id; 16]);
    d
}

#[tokio::test]
async fn an_application_instance_replaces_its_earlier_open_without_a_break() {
    let server = server(None);
    let mut a = smb3_client_of(server.clone(), 0xA0).await;
    let mut b = smb3_client_of(server.clone(), 0xB0).await;
    let name = crate::proto::create_contexts::APP_INSTANCE_ID_NAME;
    let mut msg = create(
        &mut a,
        "app.vhdx",
        BATCH,
        &[(b"DH2Q", dh2q(1)), (&name, app_instance(9))],
    );
    msg[64 + 32] = 0; // ShareAccess none, as smbtorture
    let _ = &mut msg;
    let (_, first) = created(&a.call(msg).await.1);
    let mut msg = create(
        &mut b,
        "app.vhdx",
        BATCH,
        &[(b"DH2Q", dh2q(2)), (&name, app_instance(9))],
    );
    msg[64 + 32] = 0;
    let (level, _) = created(&b.call(msg).await.1);
    assert_eq!(level, BATCH, "the new instance's open is alone");
    assert_eq!(
        server.opens.len(),
        1,
        "the earlier instance's open is closed"
    );
    let id = a.next_id();
    let mut body = vec![24, 0, 0, 0, 0, 0, 0, 0];
    body.extend_from_slice(&first);
    let close = seeds::message(Command::Close, id, a.sid, 1, &body);
    assert_eq!(a.call(close).await.0, crate::proto::NtStatus::FILE_CLOSED.0);
}

#[tokio::test]
async fn a_replay_of_a_create_still_waiting_for_a_break_is_not_available() {
    let server = server(None);
    let mut a = smb3_client_of(server.clone(), 0xA1).await;
    let mut b = smb3_client_of(server.clone(), 0xB1).await;
    let msg = create(&mut a, "w.txt", BATCH, &[(b"DH2Q", dh2q(3))]);
    let (_, fid) = created(&a.call(msg).await.1);
    let first = create(&mut b, "w.txt", BATCH, &[(b"DH2Q", dh2q(4))]);
    let conn_b = b.conn.clone();
    let pending = tokio::spawn(async move { handle_frame(&conn_b, first).await });
    a.recv().await; // the break
    settle().await;
    let mut replay = create(&mut b, "w.txt", BATCH, &[(b"DH2Q", dh2q(4))]);
    let f = u32::from_le_bytes(replay[16..20].try_into().unwrap())
        | crate::proto::header::flags::REPLAY_OPERATION;
    replay[16..20].copy_from_slice(&f.to_le_bytes());
    assert_eq!(
        b.call(replay).await.0,
        crate::proto::NtStatus::FILE_NOT_AVAILABLE.0
    );
    let ack = oplock_ack(&mut a, fid, LEVEL_II);
    assert_eq!(a.call(ack).await.0, 0);
    pending.await.unwrap().unwrap();
    let (level, _) = created(&final_reply(&mut b).await);
    assert_eq!(level, LEVEL_II);
}

#[tokio::test]
async fn a_resilient_open_survives_its_connection_without_an_oplock() {
    let server = server(None);
    let mut a = TestClient::on_share(server.clone()).await;
    let msg = create(&mut a, "res.txt", 0, &[]);
    let (_, fid) = created(&a.call(msg).await.1);
    // FSCTL_LMR_REQUEST_RESILIENCY with a 10 s timeout.
    let id = a.next_id();
    let mut ioctl = vec![57, 0, 0, 0];
    ioctl.extend_from_slice(&0x0014_01D4u32.to_le_bytes());
    ioctl.extend_from_slice(&fid);
    for v in [120u32, 8, 0, 0, 0, 0, 1, 0] {
        ioctl.extend_from_slice(&v.to_le_bytes());
    }
    ioctl.extend_from_slice(&10_000u32.to_le_bytes());
    ioctl.extend_from_slice(&0u32.to_le_bytes());
    let msg = seeds::message(Command::Ioctl, id, a.sid, 1, &ioctl);
    assert_eq!(a.call(msg).await.0, 0);
    super::connection_closed(&a.conn);
    drop(a);
    settle().await;
    assert_eq!(server.opens.len(), 1, "kept for its client");
    let mut c = TestClient::on_share(server.clone()).await;
    let reconnect = create(&mut c, "res.txt", 0, &[(b"DHnC", fid.to_vec())]);
    let (_, again) = created(&c.call(reconnect).await.1);
    assert_eq!(&again[..8], &fid[..8]);
}

#[tokio::test]
async fn the_status_report_lists_opens_with_their_caching_and_durability() {
    let server = server(None);
    let mut a = TestClient::on_share(server.clone()).await;
    let msg = create(&mut a, "s1.txt", BATCH, &[(b"DHnQ", vec![0; 16])]);
    created(&a.call(msg).await.1);
    let msg = create(&mut a, "s2.txt", LEASE, &[(b"RqLs", lease(0xE5, 7))]);
    created(&a.call(msg).await.1);
    let opens = crate::status::opens(&server);
    assert_eq!(opens.len(), 2);
    assert_eq!(
        (opens[0].caching.as_str(), opens[0].durable),
        ("batch", "durable v1")
    );
    assert_eq!(opens[1].caching, "lease RWH");
    assert!(opens[0].to_json().contains("\"caching\":\"batch\""));
    super::connection_closed(&a.conn);
    drop(a);
    settle().await;
    let opens = crate::status::opens(&server);
    assert_eq!(opens.len(), 1);
    assert!(opens[0].disconnected && opens[0].to_text().contains("(disconnected)"));
}

#[tokio::test]
async fn a_create_waiting_for_a_break_is_cancelled() {
    let server = server(None);
    let mut a = TestClient::on_share(server.clone()).await;
    let mut b = TestClient::on_share(server.clone()).await;
    let msg = create(&mut a, "c.txt", BATCH, &[]);
    created(&a.call(msg).await.1);
    let msg = create(&mut b, "c.txt", BATCH, &[]);
    let message_id = u64::from_le_bytes(msg[24..32].try_into().unwrap());
    let conn_b = b.conn.clone();
    let opening = tokio::spawn(async move { handle_frame(&conn_b, msg).await });
    a.recv().await; // the break, never acknowledged
    settle().await;
    let cancel = seeds::message(Command::Cancel, message_id, b.sid, 1, &[4, 0, 0, 0]);
    handle_frame(&b.conn, cancel).await.unwrap();
    opening.await.unwrap().unwrap();
    let reply = final_reply(&mut b).await;
    assert_eq!(statuses(&reply)[0], crate::proto::NtStatus::CANCELLED.0);
    assert_eq!(server.opens.len(), 1, "only the first open");
}

/// Makes the session of `c` another user's: `S-1-5-21-1-2-3-rid`.
fn become_user(c: &TestClient, rid: u32) {
    let session = c.conn.session(c.sid).unwrap();
    let mut sec = (*session.security().unwrap()).clone();
    sec.auth.token.user = acl::Sid::new(5, &[21, 1, 2, 3, rid]);
    session.set_security(Arc::new(sec));
}

#[tokio::test]
async fn another_user_cannot_reconnect_a_durable_open() {
    let server = server(None);
    let mut a = TestClient::on_share(server.clone()).await;
    become_user(&a, 1001);
    let msg = create(&mut a, "u.txt", BATCH, &[(b"DHnQ", vec![0; 16])]);
    let (_, fid) = created(&a.call(msg).await.1);
    super::connection_closed(&a.conn);
    drop(a);
    settle().await;
    let mut mallory = TestClient::on_share(server.clone()).await;
    become_user(&mallory, 1002);
    let msg = create(&mut mallory, "u.txt", BATCH, &[(b"DHnC", fid.to_vec())]);
    assert_eq!(
        mallory.call(msg).await.0,
        crate::proto::NtStatus::ACCESS_DENIED.0
    );
    assert_eq!(server.opens.len(), 1, "still waiting for its owner");
}

#[tokio::test]
async fn a_replay_names_only_the_users_own_open() {
    let server = server(None);
    let mut a = smb3_client(server.clone()).await;
    become_user(&a, 1001);
    let msg = create(&mut a, "v.txt", 0, &[(b"DH2Q", dh2q(0x66))]);
    let (_, fid) = created(&a.call(msg).await.1);
    // Another user's client with the same ClientGuid replays the same CreateGuid.
    let mut mallory = smb3_client(server.clone()).await;
    become_user(&mallory, 1002);
    let mut replay = create(&mut mallory, "v.txt", 0, &[(b"DH2Q", dh2q(0x66))]);
    let f = u32::from_le_bytes(replay[16..20].try_into().unwrap())
        | crate::proto::header::flags::REPLAY_OPERATION;
    replay[16..20].copy_from_slice(&f.to_le_bytes());
    let (_, other) = created(&mallory.call(replay).await.1);
    assert_ne!(
        other, fid,
        "a new open of its own, not the other user's handle"
    );
}

#[tokio::test]
async fn another_user_cannot_acknowledge_a_lease_break() {
    let server = server(None);
    let mut a = TestClient::on_share(server.clone()).await;
    become_user(&a, 1001);
    let msg = create(&mut a, "k.txt", LEASE, &[(b"RqLs", lease(0xF6, 7))]);
    created(&a.call(msg).await.1);
    let mut mallory = TestClient::on_share(server.clone()).await;
    become_user(&mallory, 1002);
    // Same ClientGuid (the harness's), same key: still not mallory's lease.
    let ack = lease_ack(&mut mallory, 0xF6, 3);
    assert_eq!(
        mallory.call(ack).await.0,
        crate::proto::NtStatus::OBJECT_NAME_NOT_FOUND.0
    );
}

#[tokio::test]
async fn an_application_instance_of_another_user_closes_nothing() {
    let server = server(None);
    let mut a = smb3_client_of(server.clone(), 0xA2).await;
    become_user(&a, 1001);
    let mut mallory = smb3_client_of(server.clone(), 0xB2).await;
    become_user(&mallory, 1002);
    let name = crate::proto::create_contexts::APP_INSTANCE_ID_NAME;
    let msg = create(
        &mut a,
        "i.vhdx",
        0,
        &[(b"DH2Q", dh2q(7)), (&name, app_instance(3))],
    );
    created(&a.call(msg).await.1);
    let msg = create(
        &mut mallory,
        "i.vhdx",
        0,
        &[(b"DH2Q", dh2q(8)), (&name, app_instance(3))],
    );
    created(&mallory.call(msg).await.1);
    assert_eq!(server.opens.len(), 2, "the first user's open stays");
}
