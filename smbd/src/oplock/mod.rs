//! Oplocks and leases: a pure, sans-IO engine (MS-SMB2 3.3.4.6, 3.3.4.7, 3.3.5.9.8,
//! 3.3.5.9.11, 3.3.5.22; MS-FSA 2.1.4.12, 2.1.5.17, 2.1.5.18).
//!
//! [`FileCaching`] is the caching state of one file: its opens, their oplocks (level II,
//! exclusive, batch) and the leases (v1, v2; R, RH, RW, RWH) their keys name. It lives in the
//! server's per-file entry and is changed under that entry's lock. Each operation takes the
//! time as an argument and returns decisions: break notifications to send ([`BreakNotice`]),
//! whether to wait ([`Verdict`]), what to grant ([`Granted`]), what an acknowledgment changed
//! ([`Acked`]) or which breaks timed out ([`Expired`]). Nothing here sends, sleeps or reads a
//! clock. [`LeaseTable`] is the server-wide map from lease keys to files.
//!
//! Order of calls in CREATE, under the file entry's lock: share-mode check; if it fails,
//! [`FileCaching::check_sharing_violation`] (wait and redo the share check, or fail with
//! STATUS_SHARING_VIOLATION); if it passes, [`FileCaching::check_open`] (wait and redo from
//! the share check with [`Attempt::Retry`]); then [`FileCaching::grant`]. Waits end when an
//! acknowledgment, a close or [`FileCaching::poll_timeout`] changes the file's state.
#![warn(missing_docs)]

mod ack;
mod engine;
mod grant;
mod lease;
mod ops;
mod request;
mod state;
mod table;
#[cfg(test)]
mod tests;

use std::time::Duration;

pub use ack::{AckError, Acked, Expired};
pub use engine::FileCaching;
pub use lease::{Breaking, Lease};
pub use ops::Closed;
pub use request::{
    Ask, Attempt, BreakNotice, Granted, Holder, LeaseGrant, LeaseRequest, OpenRequest, Verdict,
};
pub use state::{LeaseId, LeaseKey, LeaseState, LeaseVersion, OpenId};
pub use table::{KeyInUse, LeaseTable};

/// How long a holder has to acknowledge a break before it is downgraded anyway: Windows
/// waits 35 seconds (MS-SMB2 3.3.2.1 and 3.3.2.5 leave the value to the implementation).
pub const DEFAULT_BREAK_TIMEOUT: Duration = Duration::from_secs(35);
