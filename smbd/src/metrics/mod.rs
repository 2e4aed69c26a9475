//! Server metrics: counters the request path bumps with relaxed atomics (no lock, no map
//! lookup), and gauges read from the server's tables only when a scraper asks
//! ([`exposition`]), served over HTTP by [`endpoint`] when `metrics_listen` is set.

pub mod endpoint;
pub mod exposition;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dashmap::DashMap;

use crate::proto::NtStatus;
use crate::proto::header::Command;

/// Upper bounds of the request latency buckets, in microseconds (a last, unbounded bucket
/// follows).
pub const LATENCY_BOUNDS_US: [u64; 15] = [
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 5_000_000,
];

/// Command codes 0x00 (NEGOTIATE) to 0x12 (OPLOCK_BREAK).
const COMMANDS: usize = 0x13;

/// One command's requests: how many, how many failed, and how long they took.
#[derive(Default)]
pub struct CommandStats {
    requests: AtomicU64,
    failures: AtomicU64,
    /// Requests per latency bucket (not cumulative); the last is the unbounded one.
    buckets: [AtomicU64; LATENCY_BOUNDS_US.len() + 1],
    sum_us: AtomicU64,
}

/// What a scrape reads of one command.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandSnapshot {
    /// The command.
    pub command: Command,
    /// Requests answered.
    pub requests: u64,
    /// Of those, answered with an error status.
    pub failures: u64,
    /// Requests per latency bucket, not cumulative (the last one unbounded).
    pub buckets: Vec<u64>,
    /// Sum of the latencies, in seconds.
    pub sum_seconds: f64,
}

/// Why a session setup failed, as the metrics count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// Bad credentials, unknown user, bad ticket (STATUS_LOGON_FAILURE).
    LogonFailure,
    /// A malformed token.
    InvalidToken,
    /// A response of invalid structure (STATUS_INVALID_PARAMETER).
    InvalidParameter,
    /// A mechanism or variant the server does not accept (NTLMv1, anonymous when off).
    NotAccepted,
    /// Reauthentication as another user.
    IdentityChange,
    /// The exchange outlived the handshake deadline.
    Expired,
}

impl AuthFailure {
    /// Every reason, in label order.
    pub const ALL: [Self; 6] = [
        Self::LogonFailure,
        Self::InvalidToken,
        Self::InvalidParameter,
        Self::NotAccepted,
        Self::IdentityChange,
        Self::Expired,
    ];

    /// The `reason` label.
    pub fn label(self) -> &'static str {
        match self {
            Self::LogonFailure => "logon_failure",
            Self::InvalidToken => "invalid_token",
            Self::InvalidParameter => "invalid_parameter",
            Self::NotAccepted => "not_accepted",
            Self::IdentityChange => "identity_change",
            Self::Expired => "expired",
        }
    }

    /// The reason of an acceptor's error.
    pub fn of(e: &acceptor::AuthError) -> Self {
        match e {
            acceptor::AuthError::LogonFailure(_) => Self::LogonFailure,
            acceptor::AuthError::InvalidToken(_) => Self::InvalidToken,
            acceptor::AuthError::InvalidParameter(_) => Self::InvalidParameter,
            acceptor::AuthError::NotAccepted(_) => Self::NotAccepted,
        }
    }
}

/// A limit that refused something, as the metrics count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A connection past `max_connections`, closed as it arrived.
    Connections,
    /// A session setup past the exchanges allowed per connection or server-wide.
    Exchanges,
    /// A channel past the channels a session may have.
    Channels,
    /// An asynchronous operation past those a connection may have.
    AsyncOperations,
}

impl Refusal {
    /// Every limit, in label order.
    pub const ALL: [Self; 4] = [
        Self::Connections,
        Self::Exchanges,
        Self::Channels,
        Self::AsyncOperations,
    ];

    /// The `limit` label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Connections => "connections",
            Self::Exchanges => "exchanges",
            Self::Channels => "channels",
            Self::AsyncOperations => "async_operations",
        }
    }
}

/// Bytes read and written through one share.
#[derive(Debug, Default)]
pub struct ShareIo {
    read: AtomicU64,
    written: AtomicU64,
}

impl ShareIo {
    /// Counts bytes a READ returned.
    pub fn read(&self, bytes: u64) {
        self.read.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts bytes a WRITE (or a server-side copy) stored.
    pub fn written(&self, bytes: u64) {
        self.written.fetch_add(bytes, Ordering::Relaxed);
    }

    /// (read, written) so far.
    pub fn totals(&self) -> (u64, u64) {
        (
            self.read.load(Ordering::Relaxed),
            self.written.load(Ordering::Relaxed),
        )
    }
}

/// A request being handled ([`Metrics::begin`]).
pub struct InFlight<'a>(&'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The server's counters.
pub struct Metrics {
    commands: [CommandStats; COMMANDS],
    auth_failures: [AtomicU64; AuthFailure::ALL.len()],
    refused: [AtomicU64; Refusal::ALL.len()],
    /// Connections ended, by the driver's reason (a short fixed text).
    closed: DashMap<&'static str, AtomicU64>,
    in_flight: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            commands: std::array::from_fn(|_| CommandStats::default()),
            auth_failures: Default::default(),
            refused: Default::default(),
            closed: DashMap::new(),
            in_flight: AtomicU64::new(0),
        }
    }
}

/// Whether a status counts as a failed request (not success, pending, more processing, or
/// the informational ones a READ at the end of a file or a listing's end give).
fn is_failure(status: NtStatus) -> bool {
    status.0 >> 30 == 3 && status != NtStatus::MORE_PROCESSING_REQUIRED
}

impl Metrics {
    /// Counts one request answered with `status` after `took`.
    pub fn request(&self, command: Command, status: NtStatus, took: Duration) {
        let Some(s) = self.commands.get(usize::from(command.0)) else {
            return;
        };
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        s.requests.fetch_add(1, Ordering::Relaxed);
        if is_failure(status) {
            s.failures.fetch_add(1, Ordering::Relaxed);
        }
        let bucket = LATENCY_BOUNDS_US.partition_point(|&b| b < us);
        s.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        s.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    /// A request starts being handled: counted in flight until the guard drops.
    pub fn begin(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self)
    }

    /// Requests being handled now.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Counts a failed session setup.
    pub fn auth_failed(&self, why: AuthFailure) {
        let i = AuthFailure::ALL.iter().position(|&r| r == why).unwrap_or(0);
        self.auth_failures[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts something a limit refused.
    pub fn refused(&self, limit: Refusal) {
        let i = Refusal::ALL.iter().position(|&r| r == limit).unwrap_or(0);
        self.refused[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a connection that ended, by why.
    pub fn connection_closed(&self, reason: &'static str) {
        self.closed
            .entry(reason)
            .or_default()
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Each command that has been asked for.
    pub fn commands(&self) -> Vec<CommandSnapshot> {
        self.commands
            .iter()
            .enumerate()
            .filter(|(_, s)| s.requests.load(Ordering::Relaxed) > 0)
            .map(|(code, s)| CommandSnapshot {
                command: Command(code as u16),
                requests: s.requests.load(Ordering::Relaxed),
                failures: s.failures.load(Ordering::Relaxed),
                buckets: s
                    .buckets
                    .iter()
                    .map(|b| b.load(Ordering::Relaxed))
                    .collect(),
                sum_seconds: s.sum_us.load(Ordering::Relaxed) as f64 / 1e6,
            })
            .collect()
    }

    /// Failed session setups by reason.
    pub fn auth_failures(&self) -> Vec<(AuthFailure, u64)> {
        AuthFailure::ALL
            .iter()
            .zip(&self.auth_failures)
            .map(|(&r, n)| (r, n.load(Ordering::Relaxed)))
            .collect()
    }

    /// Refusals by limit.
    pub fn refusals(&self) -> Vec<(Refusal, u64)> {
        Refusal::ALL
            .iter()
            .zip(&self.refused)
            .map(|(&r, n)| (r, n.load(Ordering::Relaxed)))
            .collect()
    }

    /// Ended connections by reason.
    pub fn closed_connections(&self) -> Vec<(&'static str, u64)> {
        let mut v: Vec<_> = self
            .closed
            .iter()
            .map(|e| (*e.key(), e.value().load(Ordering::Relaxed)))
            .collect();
        v.sort_unstable();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_lands_in_its_latency_bucket() {
        let m = Metrics::default();
        m.request(Command::Read, NtStatus::SUCCESS, Duration::from_micros(70));
        m.request(
            Command::Read,
            NtStatus::NO_MORE_FILES,
            Duration::from_micros(50),
        );
        m.request(
            Command::Read,
            NtStatus::ACCESS_DENIED,
            Duration::from_secs(9),
        );
        let [read] = m.commands().try_into().expect("only READ");
        assert_eq!(read.command, Command::Read);
        assert_eq!((read.requests, read.failures), (3, 1));
        assert_eq!(read.buckets[0], 1, "50 us is within the first bound");
        assert_eq!(read.buckets[1], 1);
        assert_eq!(read.buckets[LATENCY_BOUNDS_US.len()], 1, "beyond the last");
        assert!((read.sum_seconds - 9.00012).abs() < 1e-9);
    }

    #[test]
    fn pending_and_more_processing_are_not_failures() {
        for s in [
            NtStatus::SUCCESS,
            NtStatus::PENDING,
            NtStatus::MORE_PROCESSING_REQUIRED,
            NtStatus::NO_MORE_FILES,
        ] {
            assert!(!is_failure(s), "{s:?}");
        }
        assert!(is_failure(NtStatus::LOGON_FAILURE));
    }
}
