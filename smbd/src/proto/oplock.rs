//! OPLOCK_BREAK: the server's break notifications (MS-SMB2 2.2.23.1, 2.2.23.2), the client's
//! acknowledgments (2.2.24.1, 2.2.24.2) and the server's responses to them (2.2.25.1,
//! 2.2.25.2). The oplock forms share one 24-byte layout and the lease acknowledgment and
//! response one 36-byte layout; an acknowledgment says which it is by its StructureSize.
#![warn(missing_docs)]

use super::codec::{DecodeError, Reader, WriteLe};
use super::create::FileId;
use super::header::HEADER_LEN;

crate::wire_enum! {
    /// An oplock level (MS-SMB2 2.2.13 RequestedOplockLevel, 2.2.14 OplockLevel).
    pub struct OplockLevel(u8) {
        /// SMB2_OPLOCK_LEVEL_NONE: no oplock.
        NONE = 0x00,
        /// SMB2_OPLOCK_LEVEL_II: a shared (read caching) oplock.
        LEVEL_II = 0x01,
        /// SMB2_OPLOCK_LEVEL_EXCLUSIVE: an exclusive (read and write caching) oplock.
        EXCLUSIVE = 0x08,
        /// SMB2_OPLOCK_LEVEL_BATCH: an exclusive oplock that also caches the handle.
        BATCH = 0x09,
        /// SMB2_OPLOCK_LEVEL_LEASE: a lease create context carries the request.
        LEASE = 0xFF,
    }
}

/// SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED (MS-SMB2 2.2.23.2).
pub const NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED: u32 = 0x0000_0001;

/// StructureSize of the oplock break bodies.
const OPLOCK_BREAK_SIZE: u16 = 24;
/// StructureSize of the lease break notification.
const LEASE_NOTIFICATION_SIZE: u16 = 44;
/// StructureSize of the lease break acknowledgment and response.
const LEASE_ACK_SIZE: u16 = 36;

/// The body of an Oplock Break Notification (MS-SMB2 2.2.23.1), of an Oplock Break
/// Acknowledgment (2.2.24.1) and of an Oplock Break Response (2.2.25.1): the three have the
/// same layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OplockBreak {
    /// The level the oplock is broken to (notification), accepted (acknowledgment) or granted
    /// (response).
    pub level: OplockLevel,
    /// The open whose oplock it is.
    pub file_id: FileId,
}

impl OplockBreak {
    /// Reads the body at the reader's position (StructureSize checked).
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if r.u16("OplockBreak StructureSize")? != OPLOCK_BREAK_SIZE {
            return Err(DecodeError::invalid("OplockBreak StructureSize"));
        }
        let level = OplockLevel(r.u8("OplockLevel")?);
        r.skip(5, "OplockBreak Reserved")?;
        Ok(Self {
            level,
            file_id: FileId::read(r)?,
        })
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u16(OPLOCK_BREAK_SIZE);
        out.push(self.level.0);
        out.push(0);
        out.put_u32(0);
        out.put_u64(self.file_id.persistent);
        out.put_u64(self.file_id.volatile);
    }
}

/// The body of a Lease Break Notification (MS-SMB2 2.2.23.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseBreakNotification {
    /// The lease's new epoch (SMB 3.x with a version 2 lease; 0 otherwise).
    pub new_epoch: u16,
    /// SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED or 0.
    pub flags: u32,
    /// The client's key of the lease.
    pub key: [u8; 16],
    /// The lease state before the break.
    pub current_state: u32,
    /// The lease state the server breaks it to.
    pub new_state: u32,
}

impl LeaseBreakNotification {
    /// Reads the body at the reader's position (StructureSize checked; BreakReason and the
    /// hints, which the server sets to 0, are skipped).
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if r.u16("LeaseBreak StructureSize")? != LEASE_NOTIFICATION_SIZE {
            return Err(DecodeError::invalid("LeaseBreak StructureSize"));
        }
        let new_epoch = r.u16("NewEpoch")?;
        let flags = r.u32("LeaseBreak Flags")?;
        let key = r.guid("LeaseBreak LeaseKey")?;
        let current_state = r.u32("CurrentLeaseState")?;
        let new_state = r.u32("NewLeaseState")?;
        r.skip(12, "BreakReason/AccessMaskHint/ShareMaskHint")?;
        Ok(Self {
            new_epoch,
            flags,
            key,
            current_state,
            new_state,
        })
    }

    /// Appends the body; BreakReason, AccessMaskHint and ShareMaskHint are 0.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u16(LEASE_NOTIFICATION_SIZE);
        out.put_u16(self.new_epoch);
        out.put_u32(self.flags);
        out.extend_from_slice(&self.key);
        out.put_u32(self.current_state);
        out.put_u32(self.new_state);
        out.put_u32(0);
        out.put_u32(0);
        out.put_u32(0);
    }
}

/// The body of a Lease Break Acknowledgment (MS-SMB2 2.2.24.2) and of a Lease Break Response
/// (2.2.25.2): the two have the same layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseBreakAck {
    /// Reserved flags (0 on the wire; ignored on receipt).
    pub flags: u32,
    /// The client's key of the lease.
    pub key: [u8; 16],
    /// The lease state accepted (acknowledgment) or now held (response).
    pub state: u32,
}

impl LeaseBreakAck {
    /// Reads the body at the reader's position (StructureSize checked; LeaseDuration, which
    /// is reserved, skipped).
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if r.u16("LeaseBreakAck StructureSize")? != LEASE_ACK_SIZE {
            return Err(DecodeError::invalid("LeaseBreakAck StructureSize"));
        }
        r.skip(2, "LeaseBreakAck Reserved")?;
        let flags = r.u32("LeaseBreakAck Flags")?;
        let key = r.guid("LeaseBreakAck LeaseKey")?;
        let state = r.u32("LeaseBreakAck LeaseState")?;
        r.skip(8, "LeaseBreakAck LeaseDuration")?;
        Ok(Self { flags, key, state })
    }

    /// Appends the body; Reserved, Flags and LeaseDuration are written as 0.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u16(LEASE_ACK_SIZE);
        out.put_u16(0);
        out.put_u32(0);
        out.extend_from_slice(&self.key);
        out.put_u32(self.state);
        out.put_u64(0);
    }
}

/// An OPLOCK_BREAK request from the client: an oplock or a lease acknowledgment, told apart by
/// StructureSize (MS-SMB2 3.3.5.22: 24 or 36; anything else is STATUS_INVALID_PARAMETER).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakAcknowledgment {
    /// An Oplock Break Acknowledgment (2.2.24.1).
    Oplock(OplockBreak),
    /// A Lease Break Acknowledgment (2.2.24.2).
    Lease(LeaseBreakAck),
}

impl BreakAcknowledgment {
    /// Decodes the request from the whole message (the body starts after the header).
    pub fn decode(msg: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::at_pos(msg, HEADER_LEN);
        let mut peek = r;
        match peek.u16("OplockBreak StructureSize")? {
            OPLOCK_BREAK_SIZE => OplockBreak::read(&mut r).map(Self::Oplock),
            LEASE_ACK_SIZE => LeaseBreakAck::read(&mut r).map(Self::Lease),
            _ => Err(DecodeError::invalid("OplockBreak StructureSize")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_util::hex;

    fn with_header(body: &[u8]) -> Vec<u8> {
        let mut msg = vec![0u8; HEADER_LEN];
        msg.extend_from_slice(body);
        msg
    }

    #[test]
    fn oplock_break_round_trips_and_checks_its_size() {
        // StructureSize 24, level II, reserved, FileId {1, 2}.
        let body = hex("1800 01 00 00000000 0100000000000000 0200000000000000");
        let b = OplockBreak::read(&mut Reader::new(&body)).unwrap();
        assert_eq!(b.level, OplockLevel::LEVEL_II);
        assert_eq!((b.file_id.persistent, b.file_id.volatile), (1, 2));
        let mut out = Vec::new();
        b.encode(&mut out);
        assert_eq!(out, body);
        assert!(OplockBreak::read(&mut Reader::new(&body[..23])).is_err());
        let mut bad = body.clone();
        bad[0] = 0x19;
        assert!(OplockBreak::read(&mut Reader::new(&bad)).is_err());
    }

    #[test]
    fn lease_break_notification_round_trips() {
        // Size 44, epoch 3, ACK_REQUIRED, key 11.., RWH -> RH, reason and hints 0.
        let body = hex(
            "2c00 0300 01000000 11111111111111111111111111111111 07000000 03000000 \
             00000000 00000000 00000000",
        );
        let n = LeaseBreakNotification::read(&mut Reader::new(&body)).unwrap();
        assert_eq!(
            n,
            LeaseBreakNotification {
                new_epoch: 3,
                flags: NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED,
                key: [0x11; 16],
                current_state: 7,
                new_state: 3,
            }
        );
        let mut out = Vec::new();
        n.encode(&mut out);
        assert_eq!(out, body);
        assert!(LeaseBreakNotification::read(&mut Reader::new(&body[..43])).is_err());
    }

    #[test]
    fn lease_break_ack_round_trips() {
        // Size 36, reserved, flags 0, key 22.., state RH, duration 0.
        let body =
            hex("2400 0000 00000000 22222222222222222222222222222222 03000000 0000000000000000");
        let a = LeaseBreakAck::read(&mut Reader::new(&body)).unwrap();
        assert_eq!((a.key, a.state), ([0x22; 16], 3));
        let mut out = Vec::new();
        a.encode(&mut out);
        assert_eq!(out, body);
        assert!(LeaseBreakAck::read(&mut Reader::new(&body[..35])).is_err());
    }

    #[test]
    fn an_acknowledgment_is_told_apart_by_its_structure_size() {
        let oplock = hex("1800 00 00 00000000 0500000000000000 0600000000000000");
        match BreakAcknowledgment::decode(&with_header(&oplock)).unwrap() {
            BreakAcknowledgment::Oplock(b) => assert_eq!(b.level, OplockLevel::NONE),
            other => panic!("{other:?}"),
        }
        let lease =
            hex("2400 0000 00000000 33333333333333333333333333333333 01000000 0000000000000000");
        match BreakAcknowledgment::decode(&with_header(&lease)).unwrap() {
            BreakAcknowledgment::Lease(a) => assert_eq!(a.state, 1),
            other => panic!("{other:?}"),
        }
        let mut odd = lease.clone();
        odd[0] = 0x2c;
        assert!(BreakAcknowledgment::decode(&with_header(&odd)).is_err());
        assert!(BreakAcknowledgment::decode(&[0u8; HEADER_LEN]).is_err());
    }

    #[test]
    fn unknown_oplock_levels_parse_and_print_as_hex() {
        assert_eq!(format!("{:?}", OplockLevel(0x05)), "OplockLevel(0x5)");
        assert_eq!(format!("{:?}", OplockLevel::BATCH), "BATCH");
    }
}
