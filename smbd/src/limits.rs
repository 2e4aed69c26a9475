//! Bounds on what any one client can hold or make the server do: deadlines on the socket and
//! caps on sessions, trees, opens, async operations, locks and pipes. Each has a config key of
//! the same name (see `smbd/smbd.example.toml` and docs/SECURITY.md).

use std::time::Duration;

/// Every bound, with the defaults of [`Limits::default`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// A connection must have negotiated and completed a session setup within this time of
    /// connecting (`handshake_timeout_seconds`); an in-progress session expires after it too.
    pub handshake_timeout: Duration,
    /// A frame whose first byte arrived must arrive whole within this time
    /// (`frame_timeout_seconds`).
    pub frame_timeout: Duration,
    /// A connection that sent nothing for this long and holds no open is closed
    /// (`idle_timeout_seconds`; `None` = never).
    pub idle_timeout: Option<Duration>,
    /// A reply the client does not take within this time drops the connection
    /// (`send_timeout_seconds`).
    pub send_timeout: Duration,
    /// Replies queued for a client, in bytes, past which further replies wait for it to read;
    /// queued bytes that stay over this for `send_timeout` drop the connection
    /// (`max_send_queue_bytes`).
    pub max_send_queue_bytes: usize,
    /// Sessions being authenticated at once on one connection
    /// (`max_pending_sessions_per_connection`).
    pub max_pending_sessions_per_connection: usize,
    /// Sessions being authenticated at once on the whole server (`max_pending_sessions`).
    pub max_pending_sessions: usize,
    /// Sessions (authenticated or not) on one connection (`max_sessions_per_connection`).
    pub max_sessions_per_connection: usize,
    /// Tree connects of one session (`max_trees_per_session`).
    pub max_trees_per_session: usize,
    /// Opens of one session, files, directories and pipes (`max_opens_per_session`).
    pub max_opens_per_session: usize,
    /// Pending async operations (CHANGE_NOTIFY, blocking LOCKs that wait, and requests gone
    /// async) of one connection (`max_async_per_connection`).
    pub max_async_per_connection: usize,
    /// Byte-range locks held on one file by all its opens, or waited for by blocking LOCK
    /// requests (`max_locks_per_file`).
    pub max_locks_per_file: usize,
    /// Named-pipe opens of one session (`max_pipes_per_session`).
    pub max_pipes_per_session: usize,
    /// How long a client has to acknowledge an oplock or lease break before it is downgraded
    /// anyway (`oplock_break_timeout_seconds`; Windows waits 35 s).
    pub oplock_break_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            handshake_timeout: Duration::from_secs(30),
            frame_timeout: Duration::from_secs(30),
            idle_timeout: Some(Duration::from_secs(900)),
            send_timeout: Duration::from_secs(60),
            max_send_queue_bytes: 64 * 1024 * 1024,
            max_pending_sessions_per_connection: 16,
            max_pending_sessions: 4096,
            max_sessions_per_connection: 64,
            max_trees_per_session: 1024,
            max_opens_per_session: 16384,
            max_async_per_connection: 1024,
            max_locks_per_file: 10_000,
            max_pipes_per_session: 64,
            oplock_break_timeout: crate::oplock::DEFAULT_BREAK_TIMEOUT,
        }
    }
}
