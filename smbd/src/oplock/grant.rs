//! Granting oplocks and leases to a new open (MS-SMB2 3.3.5.9, 3.3.5.9.8, 3.3.5.9.11; MS-FSA
//! 2.1.5.17 "Server Requests an Oplock").

use super::engine::{Actor, FileCaching, OpenEntry};
use super::lease::Lease;
use super::request::{Ask, Granted, LeaseGrant, LeaseRequest, OpenRequest, is_stat_access};
use super::state::{LeaseId, LeaseState, OpenId};
use crate::proto::oplock::OplockLevel;

impl FileCaching {
    /// Registers the open `open` and grants it the caching it asked for, given the other
    /// opens. Call it for every open of the file once the CREATE succeeds (after the share
    /// check and the waits of [`Self::check_open`]), also for opens that ask for nothing:
    /// every open counts against exclusive caching; call it once per open. `file_has_locks`
    /// is whether byte-range locks cover data of the file: then, as Windows does, nothing is
    /// granted (smbtorture `lease.lock2` and `lease.lock3` show what does not count: locks on
    /// an empty file, and locks on data the open overwrites).
    ///
    /// An oplock is batch or exclusive only when no other open could see the file change
    /// (stat opens without caching do not count), else level II, and never on a directory
    /// or beside a lease with handle caching (smbtorture `lease.oplock`). A lease gets what it
    /// asks for among R, RH, RW and RWH (none otherwise), without W beside other opens, without
    /// H beside oplocks, and without W on a directory. A second open with the same lease key
    /// joins the lease; it raises the lease only to a strict superset that it could get
    /// anyway, and not during a break (smbtorture `lease.upgrade2`, `lease.upgrade3`).
    pub fn grant(&mut self, open: OpenId, req: &OpenRequest, file_has_locks: bool) -> Granted {
        debug_assert!(self.entry(open).is_none(), "open {open} granted twice");
        let mut entry = OpenEntry {
            id: open,
            client_guid: req.client_guid,
            stat: is_stat_access(req.access),
            lease: None,
            level: OplockLevel::NONE,
            breaking: None,
        };
        let granted = match req.ask {
            Ask::Nothing => Granted::Nothing,
            Ask::Oplock(asked) => {
                entry.level = self.oplock_for(asked, req, file_has_locks);
                Granted::Oplock(entry.level)
            }
            Ask::Lease(asked) => {
                entry.lease = Some(asked.key);
                Granted::Lease(self.lease_for(open, req, &asked, file_has_locks))
            }
        };
        self.opens.push(entry);
        granted
    }

    fn oplock_for(&self, asked: OplockLevel, req: &OpenRequest, locks: bool) -> OplockLevel {
        if req.is_directory {
            return OplockLevel::NONE;
        }
        let actor = Actor {
            open: None,
            lease: None,
        };
        let wanted = LeaseState::of_oplock(asked);
        self.allowed(actor, wanted, false, locks).oplock_level()
    }

    fn lease_for(
        &mut self,
        open: OpenId,
        req: &OpenRequest,
        asked: &LeaseRequest,
        locks: bool,
    ) -> LeaseGrant {
        let id = LeaseId {
            client_guid: req.client_guid,
            key: asked.key,
        };
        let actor = Actor::of_request(req);
        let allowed = self.allowed(actor, asked.state, req.is_directory, locks);
        let lease = match self.leases.iter().position(|l| l.id() == id) {
            Some(i) => &mut self.leases[i],
            None => {
                self.leases.push(Lease::new(id, asked, allowed));
                self.leases.last_mut().expect("just pushed")
            }
        };
        let held = lease.state();
        let raises = asked.state.contains(held) && asked.state != held;
        if raises && allowed == asked.state && lease.breaking().is_none() {
            lease.upgrade(allowed);
        }
        lease.add_open(open);
        lease.grant()
    }

    /// The caching a new open of `actor` may get of `wanted`, given the other opens. For an
    /// oplock (`actor.lease` none) every other open is another holder.
    fn allowed(&self, actor: Actor, wanted: LeaseState, dir: bool, locks: bool) -> LeaseState {
        let mut g = wanted.grantable_or_none();
        if dir {
            g = g.without(LeaseState::W);
        }
        if locks {
            return LeaseState::NONE;
        }
        let others = || {
            self.opens
                .iter()
                .filter(move |o| actor.lease.is_none() || o.lease_id() != actor.lease)
        };
        let other_leases = || self.leases.iter().filter(|l| Some(l.id()) != actor.lease);
        // Exclusive caching someone did not have to give up (a stat open breaks nothing)
        // leaves nothing to share (MS-FSA 2.1.5.17.2: a shared oplock is not granted beside
        // an exclusive one; smbtorture `oplock.batch8`, `oplock.exclusive4`).
        let exclusive = others().any(|o| LeaseState::of_oplock(o.level).contains(LeaseState::W))
            || other_leases().any(|l| l.state().contains(LeaseState::W));
        if exclusive {
            return LeaseState::NONE;
        }
        // Write caching only for the only opener (stat opens without caching aside:
        // smbtorture `lease.statopen3`).
        if others().any(|o| !o.stat || o.lease.is_some() || o.level != OplockLevel::NONE) {
            g = g.without(LeaseState::W);
        }
        if actor.lease.is_some() {
            // Oplocks and handle leases do not mix: a lease beside an oplock gets no H ...
            if others().any(|o| o.level != OplockLevel::NONE) {
                g = g.without(LeaseState::H);
            }
        } else if other_leases().any(|l| l.state().contains(LeaseState::H)) {
            // ... and an oplock beside a handle lease gets nothing.
            return LeaseState::NONE;
        }
        g
    }
}
