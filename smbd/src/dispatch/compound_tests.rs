//! Compound chains (MS-SMB2 3.3.5.2.7): what related operations inherit, which errors carry
//! on down a related chain, and which chains are refused whole.

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::conn::{Connection, Frame};
use crate::fuzzing::seeds;
use crate::proto::NtStatus;
use crate::proto::header::{Command, HEADER_LEN, Header, flags};
use crate::state::ServerContext;

const SID: u64 = 1;

fn server() -> Arc<ServerContext> {
    super::test_server::server(Arc::new(vfs::mem::MemFs::new()), 512)
}

/// A connection with an anonymous session `SID` and tree 1 on "share".
struct Client {
    conn: Arc<Connection>,
    rx: mpsc::Receiver<Frame>,
    next_id: u64,
}

impl Client {
    async fn new() -> Self {
        let (tx, rx) = mpsc::channel(16);
        let conn = Arc::new(Connection::new(server(), "test".into(), tx));
        let mut c = Self {
            conn,
            rx,
            next_id: 4,
        };
        for frame in [
            seeds::negotiate(),
            seeds::session_setup(1, 0, &seeds::NTLM_NEGOTIATE),
            seeds::session_setup(2, SID, &seeds::ntlm_anonymous()),
            seeds::tree_connect(3, SID, "share"),
        ] {
            if frame[12] == Command::TreeConnect.0 as u8 {
                super::test_server::sign_in(&c.conn, SID);
            }
            let st = c.send(frame).await.expect("setup frame");
            assert!(
                st[0] == 0 || st[0] == 0xC000_0016,
                "setup status {:#x}",
                st[0]
            );
        }
        c
    }

    /// Sends one frame and returns the status of each response in the chain it gets back.
    async fn send(&mut self, frame: Vec<u8>) -> Result<Vec<u32>, super::Disconnect> {
        super::handle_frame(&self.conn, frame).await?;
        let reply = self.rx.recv().await.expect("reply");
        let mut statuses = Vec::new();
        let mut rest = reply.payload();
        loop {
            let h = Header::decode(rest).expect("response header");
            statuses.push(h.status);
            if h.next_command == 0 {
                break;
            }
            rest = &rest[h.next_command as usize..];
        }
        Ok(statuses)
    }

    /// Gives `msg` the next message id.
    fn id(&mut self, mut msg: Vec<u8>) -> Vec<u8> {
        msg[24..32].copy_from_slice(&self.next_id.to_le_bytes());
        self.next_id += 1;
        msg
    }

    fn create(&mut self, name: &str) -> Vec<u8> {
        let m = seeds::create(0, SID, name);
        self.id(unrelated(m))
    }

    fn close(&mut self) -> Vec<u8> {
        let m = seeds::close(0, SID);
        self.id(unrelated(m))
    }

    fn read(&mut self) -> Vec<u8> {
        let m = seeds::read(0, SID, 16);
        self.id(unrelated(m))
    }
}

/// `msg` with the related flag cleared.
fn unrelated(mut msg: Vec<u8>) -> Vec<u8> {
    let f = u32::from_le_bytes(msg[16..20].try_into().unwrap()) & !flags::RELATED_OPERATIONS;
    msg[16..20].copy_from_slice(&f.to_le_bytes());
    msg
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
    let mut c = Client::new().await;
    let chain = vec![c.create("a.txt"), c.close(), c.close()];
    let st = c.send(seeds::compound(&chain, true)).await.unwrap();
    assert_eq!(st, vec![OK, OK, FILE_CLOSED]);
}

/// Outside a related chain the all-ones FileId is only an id no open has.
#[tokio::test]
async fn unrelated_all_ones_file_id_is_closed() {
    let mut c = Client::new().await;
    let chain = vec![c.create("b.txt"), c.close(), c.close()];
    let st = c.send(seeds::compound(&chain, false)).await.unwrap();
    assert_eq!(st, vec![OK, FILE_CLOSED, FILE_CLOSED]);
}

/// A first operation marked related fails, and so do the related ones after it; an
/// unrelated one after them runs on its own.
#[tokio::test]
async fn first_operation_marked_related_fails_the_related_chain() {
    let mut c = Client::new().await;
    let chain = vec![related(c.create("c.txt")), related(c.close()), c.close()];
    let st = c.send(seeds::compound(&chain, false)).await.unwrap();
    assert_eq!(st, vec![INVALID_PARAMETER, INVALID_PARAMETER, FILE_CLOSED]);
}

/// A failed CREATE fails every related operation after it with its own status.
#[tokio::test]
async fn failed_create_fails_the_rest_of_the_chain() {
    let mut c = Client::new().await;
    let mut create = c.create("missing.txt");
    // CreateDisposition FILE_OPEN: the file does not exist.
    create[HEADER_LEN + 36..HEADER_LEN + 40].copy_from_slice(&1u32.to_le_bytes());
    let chain = vec![create, c.read(), c.close()];
    let st = c.send(seeds::compound(&chain, true)).await.unwrap();
    let not_found = NtStatus::OBJECT_NAME_NOT_FOUND.0;
    assert_eq!(st, vec![not_found, not_found, not_found]);
}

/// Any other failure stays with its own operation: the file is still there for the next.
#[tokio::test]
async fn other_failures_do_not_carry_on() {
    let mut c = Client::new().await;
    let chain = vec![c.create("d.txt"), c.read(), c.close()];
    let st = c.send(seeds::compound(&chain, true)).await.unwrap();
    assert_eq!(st, vec![OK, NtStatus::END_OF_FILE.0, OK]);
}

/// The FileId an operation used (here a wrong one) is what the related one after it gets.
#[tokio::test]
async fn related_operation_takes_the_file_id_used_before_it() {
    let mut c = Client::new().await;
    let chain = vec![c.create("e.txt"), c.close(), related(c.close())];
    let st = c.send(seeds::compound(&chain, false)).await.unwrap();
    assert_eq!(st, vec![OK, FILE_CLOSED, FILE_CLOSED]);
}

/// A related operation whose inherited session does not exist gets INVALID_PARAMETER, where
/// an operation of its own gets USER_SESSION_DELETED.
#[tokio::test]
async fn related_operation_without_a_session_is_invalid() {
    let mut c = Client::new().await;
    let chain = vec![
        c.create("f.txt"),
        related(any_session(c.close())),
        any_session(c.close()),
        related(any_session(c.close())),
    ];
    let st = c.send(seeds::compound(&chain, false)).await.unwrap();
    let deleted = NtStatus::USER_SESSION_DELETED.0;
    assert_eq!(st, vec![OK, OK, deleted, INVALID_PARAMETER]);
}

/// A related operation after one that had no FileId at all gets INVALID_HANDLE.
#[tokio::test]
async fn related_operation_after_one_without_a_file_is_invalid_handle() {
    let mut c = Client::new().await;
    let echo = c.id(seeds::message(Command::Echo, 0, SID, 1, &[4, 0, 0, 0]));
    let chain = vec![echo, c.close()];
    let st = c.send(seeds::compound(&chain, true)).await.unwrap();
    assert_eq!(st, vec![OK, NtStatus::INVALID_HANDLE.0]);
}

/// A chain with a NextCommand that is unaligned or runs past the frame is refused whole,
/// before any of its operations runs.
#[tokio::test]
async fn malformed_chain_is_refused_before_it_runs() {
    let mut c = Client::new().await;
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
    let st = c.send(open).await.unwrap();
    assert_eq!(st, vec![NtStatus::OBJECT_NAME_NOT_FOUND.0]);
}
