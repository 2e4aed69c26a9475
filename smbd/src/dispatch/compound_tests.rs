//! Compound chains (MS-SMB2 3.3.5.2.7): what related operations inherit, which errors carry
//! on down a related chain, and which chains are refused whole.

use std::sync::Arc;

use super::test_client::{SID, TestClient, statuses, unrelated};
use crate::fuzzing::seeds;
use crate::proto::NtStatus;
use crate::proto::header::{Command, HEADER_LEN, flags};
use crate::state::ServerContext;

fn server() -> Arc<ServerContext> {
    super::test_server::server(Arc::new(vfs::mem::MemFs::new()), 512)
}

/// A connection with an anonymous session `SID` and tree 1 on "share".
async fn client() -> TestClient {
    TestClient::on_share(server()).await
}

/// Chains, and requests on the file a chain carries (each not related, with the next
/// message id).
trait Chains {
    /// Sends one frame and returns the status of each response in the chain it gets back.
    async fn send_chain(&mut self, frame: Vec<u8>) -> Result<Vec<u32>, super::Disconnect>;
    /// CLOSE.
    fn close(&mut self) -> Vec<u8>;
    /// READ of 16 bytes.
    fn read(&mut self) -> Vec<u8>;
}

impl Chains for TestClient {
    async fn send_chain(&mut self, frame: Vec<u8>) -> Result<Vec<u32>, super::Disconnect> {
        self.send(frame).await.map(|reply| statuses(&reply))
    }

    fn close(&mut self) -> Vec<u8> {
        let m = seeds::close(0, SID);
        self.numbered(unrelated(m))
    }

    fn read(&mut self) -> Vec<u8> {
        let m = seeds::read(0, SID, 16);
        self.numbered(unrelated(m))
    }
}

/// `msg` with the related flag set.
fn related(mut msg: Vec<u8>) -> Vec<u8> {
    let f = u32::from_le_bytes(msg[16..20].try_into().unwrap()) | flags::RELATED_OPERATIONS;
    msg[16..20].copy_from_slice(&f.to_le_bytes());
    msg
}

/// `msg` with the all-ones SessionId a related operation inherits.
fn any_session(mut msg: Vec<u8>) -> Vec<u8> {
    msg[40..48].copy_from_slice(&u64::MAX.to_le_bytes());
    msg
}

const OK: u32 = 0;
const FILE_CLOSED: u32 = NtStatus::FILE_CLOSED.0;
const INVALID_PARAMETER: u32 = NtStatus::INVALID_PARAMETER.0;

/// Related operations use the file the CREATE opened; once closed, it is closed.
#[tokio::test]
async fn related_operations_take_the_created_file() {
    let mut c = client().await;
    let chain = vec![c.create("a.txt"), c.close(), c.close()];
    let st = c.send_chain(seeds::compound(&chain, true)).await.unwrap();
    assert_eq!(st, vec![OK, OK, FILE_CLOSED]);
}

/// Outside a related chain the all-ones FileId is only an id no open has.
#[tokio::test]
async fn unrelated_all_ones_file_id_is_closed() {
    let mut c = client().await;
    let chain = vec![c.create("b.txt"), c.close(), c.close()];
    let st = c.send_chain(seeds::compound(&chain, false)).await.unwrap();
    assert_eq!(st, vec![OK, FILE_CLOSED, FILE_CLOSED]);
}

/// A first operation marked related fails, and so do the related ones after it; an
/// unrelated one after them runs on its own.
#[tokio::test]
async fn first_operation_marked_related_fails_the_related_chain() {
    let mut c = client().await;
    let chain = vec![related(c.create("c.txt")), related(c.close()), c.close()];
    let st = c.send_chain(seeds::compound(&chain, false)).await.unwrap();
    assert_eq!(st, vec![INVALID_PARAMETER, INVALID_PARAMETER, FILE_CLOSED]);
}

/// A failed CREATE fails every related operation after it with its own status.
#[tokio::test]
async fn failed_create_fails_the_rest_of_the_chain() {
    let mut c = client().await;
    let mut create = c.create("missing.txt");
    // CreateDisposition FILE_OPEN: the file does not exist.
    create[HEADER_LEN + 36..HEADER_LEN + 40].copy_from_slice(&1u32.to_le_bytes());
    let chain = vec![create, c.read(), c.close()];
    let st = c.send_chain(seeds::compound(&chain, true)).await.unwrap();
    let not_found = NtStatus::OBJECT_NAME_NOT_FOUND.0;
    assert_eq!(st, vec![not_found, not_found, not_found]);
}

/// Any other failure stays with its own operation: the file is still there for the next.
#[tokio::test]
async fn other_failures_do_not_carry_on() {
    let mut c = client().await;
    let chain = vec![c.create("d.txt"), c.read(), c.close()];
    let st = c.send_chain(seeds::compound(&chain, true)).await.unwrap();
    assert_eq!(st, vec![OK, NtStatus::END_OF_FILE.0, OK]);
}

/// The FileId an operation used (here a wrong one) is what the related one after it gets.
#[tokio::test]
async fn related_operation_takes_the_file_id_used_before_it() {
    let mut c = client().await;
    let chain = vec![c.create("e.txt"), c.close(), related(c.close())];
    let st = c.send_chain(seeds::compound(&chain, false)).await.unwrap();
    assert_eq!(st, vec![OK, FILE_CLOSED, FILE_CLOSED]);
}

/// A related operation whose inherited session does not exist gets INVALID_PARAMETER, where
/// an operation of its own gets USER_SESSION_DELETED.
#[tokio::test]
async fn related_operation_without_a_session_is_invalid() {
    let mut c = client().await;
    let chain = vec![
        c.create("f.txt"),
        related(any_session(c.close())),
        any_session(c.close()),
        related(any_session(c.close())),
    ];
    let st = c.send_chain(seeds::compound(&chain, false)).await.unwrap();
    let deleted = NtStatus::USER_SESSION_DELETED.0;
    assert_eq!(st, vec![OK, OK, deleted, INVALID_PARAMETER]);
}

/// A related operation after one that had no FileId at all gets INVALID_HANDLE.
#[tokio::test]
async fn related_operation_after_one_without_a_file_is_invalid_handle() {
    let mut c = client().await;
    let echo = c.numbered(seeds::message(Command::Echo, 0, SID, 1, &[4, 0, 0, 0]));
    let chain = vec![echo, c.close()];
    let st = c.send_chain(seeds::compound(&chain, true)).await.unwrap();
    assert_eq!(st, vec![OK, NtStatus::INVALID_HANDLE.0]);
}

/// A chain with a NextCommand that is unaligned or runs past the frame is refused whole,
/// before any of its operations runs.
#[tokio::test]
async fn malformed_chain_is_refused_before_it_runs() {
    let mut c = client().await;
    let mut frame = seeds::compound(&[c.create("g.txt"), c.close()], true);
    let past = frame.len() as u32 + 8;
    frame[20..24].copy_from_slice(&past.to_le_bytes());
    assert!(c.send(frame).await.is_err());
    let mut frame = seeds::compound(&[c.create("g.txt"), c.close()], true);
    let next = u32::from_le_bytes(frame[20..24].try_into().unwrap());
    frame[20..24].copy_from_slice(&(next - 4).to_le_bytes());
    assert!(c.send(frame).await.is_err());
    // Neither CREATE ran: the file does not exist.
    let mut open = c.create("g.txt");
    open[HEADER_LEN + 36..HEADER_LEN + 40].copy_from_slice(&1u32.to_le_bytes());
    let st = c.send_chain(open).await.unwrap();
    assert_eq!(st, vec![NtStatus::OBJECT_NAME_NOT_FOUND.0]);
}

/// `msg` with SessionId, TreeId and FileId zeroed: related operations as the Linux cifs
/// client and some libraries send them.
fn zero_ids(mut msg: Vec<u8>) -> Vec<u8> {
    msg[36..48].fill(0);
    let file_id = match Command(u16::from_le_bytes([msg[12], msg[13]])) {
        Command::Write | Command::Read => HEADER_LEN + 16,
        Command::Close => HEADER_LEN + 8,
        Command::QueryInfo => HEADER_LEN + 24,
        _ => return msg,
    };
    msg[file_id..file_id + 16].fill(0);
    msg
}

/// QUERY_INFO FileBasicInformation of the related file.
fn query_basic(c: &mut TestClient) -> Vec<u8> {
    let mut b = vec![41, 0, 1, 4];
    b.extend_from_slice(&40u32.to_le_bytes()); // OutputBufferLength
    b.extend_from_slice(&[0; 12]); // InputBufferOffset, Reserved, InputBufferLength, AdditionalInformation
    b.extend_from_slice(&0u32.to_le_bytes()); // Flags
    b.extend_from_slice(&[0xff; 16]);
    b.push(0);
    c.numbered(seeds::message(Command::QueryInfo, 0, SID, 1, &b))
}

/// Related operations take the previous one's session, tree and file whatever their headers
/// say (3.3.5.2.7.2): zeros, as the Linux cifs client sends, run on the created file.
#[tokio::test]
async fn related_operations_ignore_the_ids_in_their_headers() {
    let mut c = client().await;
    let write = c.numbered(seeds::write(0, SID, b"hello"));
    let query = query_basic(&mut c);
    let chain = vec![
        c.create("h.txt"),
        zero_ids(write),
        zero_ids(query),
        zero_ids(c.close()),
    ];
    let st = c.send_chain(seeds::compound(&chain, true)).await.unwrap();
    assert_eq!(st, vec![OK; 4]);
    // The WRITE reached the file, and the CLOSE closed it: the next chain reads it back.
    let read = c.read();
    let chain = vec![c.create("h.txt"), zero_ids(read), zero_ids(c.close())];
    let st = c.send_chain(seeds::compound(&chain, true)).await.unwrap();
    assert_eq!(st, vec![OK, OK, OK]);
}
