//! SESSION_SETUP rules a hostile client would probe: reauthentication must prove the same
//! user, a failed one ends the session, and exchanges under way are capped per connection
//! and server-wide and expire (in virtual time, through the injected clock).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, SystemTime};

use acceptor::{AuthContext, AuthMethod, AuthProvider, Authenticator, Step};

use super::test_client::{TestClient, wraps_test_client};
use crate::clock::ManualClock;
use crate::fuzzing::seeds;
use crate::limits::Limits;
use crate::proto::NtStatus;
use crate::proto::header::Header;
use crate::state::ServerContext;

/// An authenticator driven by the blob: `more` asks for another leg, `u` + a byte logs on
/// user RID n (RID 7 is the anonymous logon), anything else fails. Every logon gets a new
/// session key.
#[derive(Default)]
struct Scripted(Arc<AtomicU8>);

struct Leg(Arc<AtomicU8>);

impl AuthProvider for Scripted {
    fn negotiate_blob(&self) -> Vec<u8> {
        Vec::new()
    }
    fn start(&self) -> Box<dyn Authenticator> {
        Box::new(Leg(self.0.clone()))
    }
}

impl Authenticator for Leg {
    fn step(&mut self, now: SystemTime, input: &[u8]) -> Step {
        match input {
            b"more" => Step::Continue(b"again".to_vec()),
            [b'u', 7] => Step::Done {
                out: Vec::new(),
                auth: Box::new(AuthContext {
                    user: String::new(),
                    domain: String::new(),
                    token: acl::Token::network_logon(acl::Sid::new(5, &[7]), Vec::new()),
                    session_key: Vec::new(),
                    method: AuthMethod::Anonymous,
                    expires_at: None,
                }),
            },
            [b'u', rid] => self.logon(*rid, None),
            // A Kerberos-like logon of RID 1 whose ticket ends `secs` seconds from `now`.
            [b't', secs] => self.logon(1, Some(now + Duration::from_secs(u64::from(*secs)))),
            _ => Step::Failed(acceptor::AuthError::LogonFailure("scripted")),
        }
    }
}

impl Leg {
    fn logon(&self, rid: u8, expires_at: Option<SystemTime>) -> Step {
        Step::Done {
            out: Vec::new(),
            auth: Box::new(AuthContext {
                user: format!("u{rid}"),
                domain: "T".into(),
                token: acl::Token::network_logon(
                    acl::Sid::new(5, &[21, 1, 2, 3, u32::from(rid)]),
                    Vec::new(),
                ),
                session_key: vec![self.0.fetch_add(1, Ordering::Relaxed); 16],
                method: AuthMethod::Ntlmv2,
                expires_at,
            }),
        }
    }
}

/// A connection that has negotiated, on a server with the scripted authenticator.
struct Client(TestClient);

wraps_test_client!(Client, 0);

impl Client {
    async fn new(server: &Arc<ServerContext>) -> Self {
        let mut c = TestClient::new(server.clone());
        c.negotiate().await;
        Self(c)
    }

    /// Sends one frame and returns the header of its reply.
    async fn send(&mut self, frame: Vec<u8>) -> Header {
        let reply = self.0.send(frame).await.expect("frame");
        Header::decode(&reply).expect("header")
    }

    /// One SESSION_SETUP leg on `sid` (0: a new session); returns (status, session id).
    async fn setup(&mut self, sid: u64, blob: &[u8]) -> (NtStatus, u64) {
        let id = self.next_id();
        let h = self.send(seeds::session_setup(id, sid, blob)).await;
        (NtStatus(h.status), h.session_id)
    }

    /// TREE_CONNECT to "share" on session `sid`.
    async fn tree_connect(&mut self, sid: u64) -> NtStatus {
        let id = self.next_id();
        NtStatus(
            self.send(seeds::tree_connect(id, sid, "share"))
                .await
                .status,
        )
    }
}

fn server_with(limits: Limits) -> (Arc<ServerContext>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    ));
    let ctx = super::test_server::build(
        Arc::new(vfs::mem::MemFs::new()),
        64,
        Arc::new(Scripted::default()),
        limits,
    )
    .with_clock(clock.clone());
    (Arc::new(ctx), clock)
}

fn server() -> Arc<ServerContext> {
    server_with(Limits::default()).0
}

#[tokio::test]
async fn reauthentication_as_another_user_is_refused_and_ends_the_session() {
    let mut c = Client::new(&server()).await;
    let (status, sid) = c.setup(0, b"u\x01").await;
    assert_eq!(status, NtStatus::SUCCESS);
    assert_eq!(c.tree_connect(sid).await, NtStatus::SUCCESS);
    assert_eq!(c.setup(sid, b"u\x02").await.0, NtStatus::LOGON_FAILURE);
    assert_eq!(c.tree_connect(sid).await, NtStatus::USER_SESSION_DELETED);
}

#[tokio::test]
async fn reauthentication_as_the_same_user_keeps_the_session_and_its_keys() {
    let mut c = Client::new(&server()).await;
    let (_, sid) = c.setup(0, b"u\x01").await;
    let before = c.conn.session(sid).unwrap().security().unwrap();
    assert_eq!(
        c.setup(sid, b"more").await.0,
        NtStatus::MORE_PROCESSING_REQUIRED
    );
    assert_eq!(c.setup(sid, b"u\x01").await.0, NtStatus::SUCCESS);
    let after = c.conn.session(sid).unwrap().security().unwrap();
    // The reauthentication's new session key is not used: signatures are the same.
    let sign = |sec: &crate::state::session::SessionSecurity| {
        let mut msg = seeds::tree_connect(9, sid, "share");
        sec.signer
            .sign(&crate::crypto::DEFAULT_PROVIDER, &mut msg)
            .unwrap();
        msg
    };
    assert_ne!(before.auth.session_key, after.auth.session_key);
    assert_eq!(sign(&before), sign(&after));
    assert_eq!(c.tree_connect(sid).await, NtStatus::SUCCESS);
}

#[tokio::test]
async fn a_failed_reauthentication_ends_the_session() {
    let mut c = Client::new(&server()).await;
    let (_, sid) = c.setup(0, b"u\x01").await;
    assert_eq!(c.setup(sid, b"bad").await.0, NtStatus::LOGON_FAILURE);
    assert_eq!(c.tree_connect(sid).await, NtStatus::USER_SESSION_DELETED);
}

#[tokio::test]
async fn an_anonymous_session_cannot_become_a_named_one() {
    let mut c = Client::new(&server()).await;
    let (status, sid) = c.setup(0, b"u\x07").await;
    assert_eq!(status, NtStatus::SUCCESS);
    assert_eq!(c.setup(sid, b"u\x01").await.0, NtStatus::LOGON_FAILURE);
    assert!(c.conn.session(sid).is_none());
}

#[tokio::test]
async fn a_session_may_drop_to_anonymous_and_come_back_to_its_first_user_only() {
    let mut c = Client::new(&server()).await;
    let (status, sid) = c.setup(0, b"u\x01").await;
    assert_eq!(status, NtStatus::SUCCESS);
    // smbtorture smb2.session.reauth2: fewer rights, the same keys.
    assert_eq!(c.setup(sid, b"u\x07").await.0, NtStatus::SUCCESS);
    let sec = c
        .conn
        .session(sid)
        .and_then(|s| s.security())
        .expect("session");
    assert_eq!(sec.auth.method, AuthMethod::Anonymous);
    assert_eq!(c.setup(sid, b"u\x01").await.0, NtStatus::SUCCESS);
    // From anonymous to anyone but the first user: refused, the session ends.
    assert_eq!(c.setup(sid, b"u\x07").await.0, NtStatus::SUCCESS);
    assert_eq!(c.setup(sid, b"u\x02").await.0, NtStatus::LOGON_FAILURE);
    assert!(c.conn.session(sid).is_none());
}

#[tokio::test]
async fn exchanges_under_way_are_capped_per_connection() {
    let (server, _) = server_with(Limits {
        max_pending_sessions_per_connection: 2,
        ..Limits::default()
    });
    let mut c = Client::new(&server).await;
    for _ in 0..2 {
        assert_eq!(
            c.setup(0, b"more").await.0,
            NtStatus::MORE_PROCESSING_REQUIRED
        );
    }
    assert_eq!(c.setup(0, b"more").await.0, NtStatus::REQUEST_NOT_ACCEPTED);
    assert_eq!(server.handshakes.live(), 2);
    // A completed exchange gives its place back.
    let (_, sid) = c.setup(0, b"u\x01").await;
    assert_eq!(sid, 0, "refused while at the cap");
    drop(c);
    assert_eq!(
        server.handshakes.live(),
        0,
        "dropping the sessions frees their places"
    );
}

#[tokio::test]
async fn sessions_are_capped_per_connection() {
    let (server, _) = server_with(Limits {
        max_sessions_per_connection: 2,
        ..Limits::default()
    });
    let mut c = Client::new(&server).await;
    for _ in 0..2 {
        assert_eq!(c.setup(0, b"u\x01").await.0, NtStatus::SUCCESS);
    }
    assert_eq!(c.setup(0, b"u\x01").await.0, NtStatus::REQUEST_NOT_ACCEPTED);
}

#[tokio::test]
async fn exchanges_under_way_are_capped_server_wide_and_expired_ones_swept() {
    let (server, clock) = server_with(Limits {
        max_pending_sessions: 2,
        ..Limits::default()
    });
    let mut a = Client::new(&server).await;
    for _ in 0..2 {
        assert_eq!(
            a.setup(0, b"more").await.0,
            NtStatus::MORE_PROCESSING_REQUIRED
        );
    }
    let mut b = Client::new(&server).await;
    assert_eq!(b.setup(0, b"more").await.0, NtStatus::REQUEST_NOT_ACCEPTED);
    clock.advance(Limits::default().handshake_timeout + Duration::from_secs(1));
    // The other connection's stale exchanges are swept to make room.
    assert_eq!(
        b.setup(0, b"more").await.0,
        NtStatus::MORE_PROCESSING_REQUIRED
    );
    assert_eq!(server.handshakes.live(), 1);
    assert_eq!(a.conn.session_count(), 0);
    assert_eq!(
        server.sessions.len(),
        1,
        "only the new exchange's session is left"
    );
}

#[tokio::test]
async fn an_exchange_expires_after_the_handshake_timeout() {
    let (server, clock) = server_with(Limits::default());
    let mut c = Client::new(&server).await;
    let (status, sid) = c.setup(0, b"more").await;
    assert_eq!(status, NtStatus::MORE_PROCESSING_REQUIRED);
    clock.advance(Limits::default().handshake_timeout + Duration::from_secs(1));
    assert_eq!(
        c.setup(sid, b"u\x01").await.0,
        NtStatus::USER_SESSION_DELETED
    );
    assert_eq!(server.handshakes.live(), 0);
}

#[tokio::test]
async fn a_session_expires_with_its_ticket_until_reauthenticated() {
    let (server, clock) = server_with(Limits::default());
    let mut c = Client::new(&server).await;
    let (status, sid) = c.setup(0, b"t\x3c").await;
    assert_eq!(status, NtStatus::SUCCESS);
    assert_eq!(c.tree_connect(sid).await, NtStatus::SUCCESS);
    clock.advance(Duration::from_secs(61));
    assert_eq!(
        c.tree_connect(sid).await,
        NtStatus::NETWORK_SESSION_EXPIRED,
        "MS-SMB2 3.3.5.2.9"
    );
    // A reauthentication with a fresh ticket revives it.
    assert_eq!(c.setup(sid, b"t\x3c").await.0, NtStatus::SUCCESS);
    assert_eq!(c.tree_connect(sid).await, NtStatus::SUCCESS);
    // LOGOFF still works on an expired session.
    clock.advance(Duration::from_secs(61));
    let id = c.next_id();
    let logoff = seeds::message(
        crate::proto::header::Command::Logoff,
        id,
        sid,
        0,
        &[4, 0, 0, 0],
    );
    assert_eq!(NtStatus(c.send(logoff).await.status), NtStatus::SUCCESS);
}

/// A LOCK body of one element on `file`.
fn lock_body(file: &[u8], offset: u64, flags: u32) -> Vec<u8> {
    let mut b = vec![48, 0, 1, 0, 0, 0, 0, 0];
    b.extend_from_slice(file);
    b.extend_from_slice(&offset.to_le_bytes());
    b.extend_from_slice(&1u64.to_le_bytes());
    b.extend_from_slice(&flags.to_le_bytes());
    b.extend_from_slice(&[0; 4]);
    b
}

#[tokio::test]
async fn an_expired_session_releases_locks_but_takes_none() {
    use crate::proto::header::Command;
    const EXCLUSIVE_NOW: u32 = 0x2 | 0x10;
    const UNLOCK: u32 = 0x4;
    let (server, clock) = server_with(Limits::default());
    let mut c = Client::new(&server).await;
    let (_, sid) = c.setup(0, b"t\x3c").await;
    assert_eq!(c.tree_connect(sid).await, NtStatus::SUCCESS);
    let id = c.next_id();
    let reply =
        c.0.send(seeds::create(id, sid, "held.txt"))
            .await
            .expect("create");
    let file = reply[128..144].to_vec();
    let lock = async |c: &mut Client, offset, flags| {
        let id = c.next_id();
        let msg = seeds::message(Command::Lock, id, sid, 1, &lock_body(&file, offset, flags));
        NtStatus(c.send(msg).await.status)
    };
    assert_eq!(lock(&mut c, 0, EXCLUSIVE_NOW).await, NtStatus::SUCCESS);
    clock.advance(Duration::from_secs(61));
    // smbtorture smb2.session.expire2s: locks may be released, not taken.
    assert_eq!(lock(&mut c, 0, UNLOCK).await, NtStatus::SUCCESS);
    assert_eq!(lock(&mut c, 0, UNLOCK).await, NtStatus::RANGE_NOT_LOCKED);
    assert_eq!(
        lock(&mut c, 0, EXCLUSIVE_NOW).await,
        NtStatus::NETWORK_SESSION_EXPIRED
    );
    // ECHO on the session goes on.
    let id = c.next_id();
    let echo = seeds::message(Command::Echo, id, sid, 0, &[4, 0, 0, 0]);
    assert_eq!(NtStatus(c.send(echo).await.status), NtStatus::SUCCESS);
}
