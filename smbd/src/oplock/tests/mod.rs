//! Scenarios of smbtorture's `smb2.oplock` and `smb2.lease` suites, played against the engine.
//! Opens are driven the way CREATE will drive them; a helper plays a client that
//! acknowledges every break at once, unless a test acknowledges by hand.

mod breaking;
mod io;
mod leases;
mod opens;

use std::time::SystemTime;

use super::*;
use crate::proto::oplock::OplockLevel;

/// Two clients (ClientGuids).
pub(super) const A: [u8; 16] = [0xA; 16];
pub(super) const B: [u8; 16] = [0xB; 16];
/// SEC_RIGHTS_FILE_ALL, what smbtorture opens with.
pub(super) const ALL: u32 = 0x001F_01FF;
/// FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES | SYNCHRONIZE.
pub(super) const ATTRS: u32 = 0x0010_0180;
/// CreateDisposition values.
pub(super) const SUPERSEDE: u32 = 0;
pub(super) const OPEN: u32 = 1;
pub(super) const OPEN_IF: u32 = 3;
pub(super) const OVERWRITE: u32 = 4;
pub(super) const OVERWRITE_IF: u32 = 5;

pub(super) fn file() -> FileCaching {
    FileCaching::new(DEFAULT_BREAK_TIMEOUT)
}

/// A lease state from letters ("" is none).
pub(super) fn st(s: &str) -> LeaseState {
    s.chars().fold(LeaseState::NONE, |acc, c| {
        acc | match c {
            'R' => LeaseState::R,
            'H' => LeaseState::H,
            'W' => LeaseState::W,
            _ => panic!("bad state {s}"),
        }
    })
}

pub(super) fn key(n: u8) -> LeaseKey {
    LeaseKey([n; 16])
}

pub(super) fn lid(client: [u8; 16], k: u8) -> LeaseId {
    LeaseId {
        client_guid: client,
        key: key(k),
    }
}

pub(super) fn req(client: [u8; 16], ask: Ask) -> OpenRequest {
    OpenRequest {
        client_guid: client,
        access: ALL,
        disposition: OPEN_IF,
        is_directory: false,
        ask,
    }
}

/// A v1 lease request for key `k`.
pub(super) fn lease(client: [u8; 16], k: u8, s: &str) -> OpenRequest {
    lease_v2(client, k, s, 0, None, LeaseVersion::V1)
}

/// A lease request of either version, with an epoch and a parent key.
pub(super) fn lease_v2(
    client: [u8; 16],
    k: u8,
    s: &str,
    epoch: u16,
    parent: Option<u8>,
    version: LeaseVersion,
) -> OpenRequest {
    req(
        client,
        Ask::Lease(LeaseRequest {
            key: key(k),
            state: st(s),
            version,
            parent: parent.map(key),
            epoch,
        }),
    )
}

pub(super) fn oplock(client: [u8; 16], level: OplockLevel) -> OpenRequest {
    req(client, Ask::Oplock(level))
}

pub(super) fn plain(client: [u8; 16]) -> OpenRequest {
    req(client, Ask::Nothing)
}

/// Acknowledges `n` with what it asked for, and whatever follows from that.
pub(super) fn ack_all(f: &mut FileCaching, n: &BreakNotice, now: SystemTime) {
    if !n.ack_required {
        return;
    }
    let acked = match n.holder {
        Holder::Oplock(o) => f.ack_oplock(o, n.oplock_level(), now),
        Holder::Lease(id) => f.ack_lease(id, n.to, now),
    };
    for next in acked.expect("ack accepted").notices {
        ack_all(f, &next, now);
    }
}

/// A CREATE whose share check passes, against clients that acknowledge at once: checks,
/// acknowledges, retries until it need not wait, grants. Returns the grant and every break
/// the check sent.
pub(super) fn create(
    f: &mut FileCaching,
    id: OpenId,
    r: &OpenRequest,
    now: SystemTime,
) -> (Granted, Vec<BreakNotice>) {
    let mut seen = Vec::new();
    let mut attempt = Attempt::First;
    for _ in 0..8 {
        let v = f.check_open(r, attempt, now);
        for n in &v.notices {
            ack_all(f, n, now);
        }
        seen.extend(v.notices);
        if !v.wait {
            return (f.grant(id, r, false), seen);
        }
        attempt = Attempt::Retry;
    }
    panic!("CREATE kept waiting");
}

/// The lease a grant reports.
pub(super) fn granted_lease(g: Granted) -> LeaseGrant {
    match g {
        Granted::Lease(l) => l,
        other => panic!("no lease: {other:?}"),
    }
}

/// The oplock level a grant reports.
pub(super) fn granted_oplock(g: Granted) -> OplockLevel {
    match g {
        Granted::Oplock(l) => l,
        other => panic!("no oplock: {other:?}"),
    }
}

/// (holder, from, to, ack required) of each notice, for compact assertions.
pub(super) fn summary(ns: &[BreakNotice]) -> Vec<(Holder, String, String, bool)> {
    ns.iter()
        .map(|n| {
            (
                n.holder,
                n.from.to_string(),
                n.to.to_string(),
                n.ack_required,
            )
        })
        .collect()
}
