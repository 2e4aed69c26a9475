//! Typed create contexts for open state that outlives a request (MS-SMB2 2.2.13.2, 2.2.14.2):
//! durable handles v1 and v2, leases v1 and v2, and the application instance id. Each request
//! context decodes from its data (the bytes after the context's name) with its exact length
//! checked; each response context encodes its data.
//!
//! These are the decoders the open-state work (durable handles, leases) builds on; CREATE does
//! not act on them yet.

use super::codec::{DecodeError, Reader, WriteLe};
use super::create::FileId;

/// The name of the SMB2_CREATE_APP_INSTANCE_ID context, as it is on the wire (MS-SMB2
/// 2.2.13.2: 0x45BCA66AEFA7F74A9008FA462E144D74, the bytes in that order, as Windows, Samba and
/// Linux send it).
pub const APP_INSTANCE_ID_NAME: [u8; 16] = [
    0x45, 0xBC, 0xA6, 0x6A, 0xEF, 0xA7, 0xF7, 0x4A, 0x90, 0x08, 0xFA, 0x46, 0x2E, 0x14, 0x4D, 0x74,
];

/// SMB2_DHANDLE_FLAG_PERSISTENT (MS-SMB2 2.2.13.2.11).
pub const DHANDLE_FLAG_PERSISTENT: u32 = 0x0000_0002;

/// SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET (MS-SMB2 2.2.13.2.10).
pub const LEASE_FLAG_PARENT_LEASE_KEY_SET: u32 = 0x0000_0004;

/// SMB2_LEASE_FLAG_BREAK_IN_PROGRESS (MS-SMB2 2.2.14.2.10).
pub const LEASE_FLAG_BREAK_IN_PROGRESS: u32 = 0x0000_0002;

/// Checks that a context's data has exactly `len` bytes.
fn exact<'a>(data: &'a [u8], len: usize, what: &'static str) -> Result<Reader<'a>, DecodeError> {
    if data.len() != len {
        return Err(DecodeError::invalid(what));
    }
    Ok(Reader::new(data))
}

/// DHnQ: SMB2_CREATE_DURABLE_HANDLE_REQUEST (MS-SMB2 2.2.13.2.3): 16 reserved bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurableRequestV1;

impl DurableRequestV1 {
    /// Decodes the context's data.
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        exact(data, 16, "DHnQ length")?;
        Ok(Self)
    }

    /// The data of the DHnQ response context (MS-SMB2 2.2.14.2.3): 8 reserved bytes.
    pub fn encode_response(out: &mut Vec<u8>) {
        out.put_u64(0);
    }
}

/// DHnC: SMB2_CREATE_DURABLE_HANDLE_RECONNECT (MS-SMB2 2.2.13.2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurableReconnectV1 {
    /// The handle to reconnect.
    pub file_id: FileId,
}

impl DurableReconnectV1 {
    /// Decodes the context's data.
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = exact(data, 16, "DHnC length")?;
        Ok(Self {
            file_id: FileId::read(&mut r)?,
        })
    }
}

/// DH2Q: SMB2_CREATE_DURABLE_HANDLE_REQUEST_V2 (MS-SMB2 2.2.13.2.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurableRequestV2 {
    /// How long the server keeps the handle after a disconnect, in milliseconds (0: the
    /// server's default).
    pub timeout_ms: u32,
    /// SMB2_DHANDLE_FLAG_PERSISTENT asks for a persistent handle.
    pub flags: u32,
    /// Identifies the create, so a replay finds the open it made.
    pub create_guid: [u8; 16],
}

impl DurableRequestV2 {
    /// Decodes the context's data.
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = exact(data, 32, "DH2Q length")?;
        let timeout_ms = r.u32("DH2Q Timeout")?;
        let flags = r.u32("DH2Q Flags")?;
        r.skip(8, "DH2Q Reserved")?;
        Ok(Self {
            timeout_ms,
            flags,
            create_guid: r.guid("DH2Q CreateGuid")?,
        })
    }

    /// Whether a persistent handle is asked for.
    pub fn persistent(&self) -> bool {
        self.flags & DHANDLE_FLAG_PERSISTENT != 0
    }

    /// The data of the DH2Q response context (MS-SMB2 2.2.14.2.12).
    pub fn encode_response(out: &mut Vec<u8>, timeout_ms: u32, flags: u32) {
        out.put_u32(timeout_ms);
        out.put_u32(flags);
    }
}

/// DH2C: SMB2_CREATE_DURABLE_HANDLE_RECONNECT_V2 (MS-SMB2 2.2.13.2.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurableReconnectV2 {
    /// The handle to reconnect.
    pub file_id: FileId,
    /// The CreateGuid the handle was opened with.
    pub create_guid: [u8; 16],
    /// SMB2_DHANDLE_FLAG_PERSISTENT for a persistent handle.
    pub flags: u32,
}

impl DurableReconnectV2 {
    /// Decodes the context's data.
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = exact(data, 36, "DH2C length")?;
        Ok(Self {
            file_id: FileId::read(&mut r)?,
            create_guid: r.guid("DH2C CreateGuid")?,
            flags: r.u32("DH2C Flags")?,
        })
    }
}

/// RqLs: SMB2_CREATE_REQUEST_LEASE (v1, 32 bytes, MS-SMB2 2.2.13.2.8) or
/// SMB2_CREATE_REQUEST_LEASE_V2 (52 bytes, 2.2.13.2.10); the response context has the same
/// layout (2.2.14.2.10, 2.2.14.2.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// The client's key for the lease.
    pub key: [u8; 16],
    /// SMB2_LEASE_READ_CACHING (1), HANDLE_CACHING (2), WRITE_CACHING (4).
    pub state: u32,
    /// Lease flags (v2: PARENT_LEASE_KEY_SET; responses: BREAK_IN_PROGRESS).
    pub flags: u32,
    /// The parent directory's lease key and the epoch: v2 only.
    pub v2: Option<LeaseV2>,
}

/// What version 2 of a lease context adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseV2 {
    /// The lease key of the parent directory (meaningful with PARENT_LEASE_KEY_SET).
    pub parent_key: [u8; 16],
    /// The lease's epoch.
    pub epoch: u16,
}

impl Lease {
    /// Decodes the context's data: 32 bytes are a v1 lease, 52 a v2 one.
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let v2 = match data.len() {
            32 => false,
            52 => true,
            _ => return Err(DecodeError::invalid("RqLs length")),
        };
        let mut r = Reader::new(data);
        let key = r.guid("RqLs LeaseKey")?;
        let state = r.u32("RqLs LeaseState")?;
        let flags = r.u32("RqLs LeaseFlags")?;
        r.skip(8, "RqLs LeaseDuration")?;
        let v2 = if v2 {
            let parent_key = r.guid("RqLs ParentLeaseKey")?;
            let epoch = r.u16("RqLs Epoch")?;
            r.skip(2, "RqLs Reserved")?;
            Some(LeaseV2 { parent_key, epoch })
        } else {
            None
        };
        Ok(Self {
            key,
            state,
            flags,
            v2,
        })
    }

    /// Encodes the lease as a response context's data, in the version it came in.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.key);
        out.put_u32(self.state);
        out.put_u32(self.flags);
        out.put_u64(0);
        if let Some(v2) = &self.v2 {
            out.extend_from_slice(&v2.parent_key);
            out.put_u16(v2.epoch);
            out.put_u16(0);
        }
    }
}

/// SMB2_CREATE_APP_INSTANCE_ID (MS-SMB2 2.2.13.2.13): opens of one application instance (a
/// clustered application failing over) replace each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppInstanceId(pub [u8; 16]);

impl AppInstanceId {
    /// Decodes the context's data (StructureSize 20).
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = exact(data, 20, "AppInstanceId length")?;
        if r.u16("AppInstanceId StructureSize")? != 20 {
            return Err(DecodeError::invalid("AppInstanceId StructureSize"));
        }
        r.skip(2, "AppInstanceId Reserved")?;
        Ok(Self(r.guid("AppInstanceId")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_util::hex;

    #[test]
    fn durable_v1_request_and_reconnect() {
        assert_eq!(DurableRequestV1::decode(&[0; 16]), Ok(DurableRequestV1));
        assert!(DurableRequestV1::decode(&[0; 15]).is_err());
        let mut resp = Vec::new();
        DurableRequestV1::encode_response(&mut resp);
        assert_eq!(resp, [0; 8]);
        let data = hex("0100000000000000 0200000000000000");
        let r = DurableReconnectV1::decode(&data).unwrap();
        assert_eq!(
            r.file_id,
            FileId {
                persistent: 1,
                volatile: 2
            }
        );
        assert!(DurableReconnectV1::decode(&data[..15]).is_err());
    }

    #[test]
    fn durable_v2_request_and_reconnect() {
        // Timeout 60,000 ms, persistent, reserved, CreateGuid 00..0F.
        let data = hex("60ea0000 02000000 0000000000000000 000102030405060708090a0b0c0d0e0f");
        let q = DurableRequestV2::decode(&data).unwrap();
        assert_eq!(q.timeout_ms, 60_000);
        assert!(q.persistent());
        assert_eq!(q.create_guid, core::array::from_fn(|i| i as u8));
        assert!(DurableRequestV2::decode(&data[..31]).is_err());
        let mut resp = Vec::new();
        DurableRequestV2::encode_response(&mut resp, 60_000, 0);
        assert_eq!(resp, hex("60ea0000 00000000"));

        let data =
            hex("0700000000000000 0800000000000000 000102030405060708090a0b0c0d0e0f 02000000");
        let c = DurableReconnectV2::decode(&data).unwrap();
        assert_eq!(c.file_id.persistent, 7);
        assert_eq!(c.file_id.volatile, 8);
        assert_eq!(c.flags, DHANDLE_FLAG_PERSISTENT);
        assert!(DurableReconnectV2::decode(&data[..35]).is_err());
    }

    #[test]
    fn leases_v1_and_v2_round_trip() {
        // v1: key 11.., RWH (7), no flags, duration 0.
        let v1 = hex("11111111111111111111111111111111 07000000 00000000 0000000000000000");
        let l = Lease::decode(&v1).unwrap();
        assert_eq!((l.key, l.state, l.flags, l.v2), ([0x11; 16], 7, 0, None));
        let mut out = Vec::new();
        l.encode(&mut out);
        assert_eq!(out, v1);

        // v2: key 22.., RH (3), PARENT_LEASE_KEY_SET, parent 33.., epoch 5.
        let v2 = hex(
            "22222222222222222222222222222222 03000000 04000000 0000000000000000 \
             33333333333333333333333333333333 0500 0000",
        );
        let l = Lease::decode(&v2).unwrap();
        assert_eq!(l.flags, LEASE_FLAG_PARENT_LEASE_KEY_SET);
        assert_eq!(
            l.v2,
            Some(LeaseV2 {
                parent_key: [0x33; 16],
                epoch: 5
            })
        );
        let mut out = Vec::new();
        l.encode(&mut out);
        assert_eq!(out, v2);
        assert!(Lease::decode(&v2[..40]).is_err());
    }

    #[test]
    fn app_instance_id() {
        let data = hex("1400 0000 aabbccddeeff00112233445566778899");
        assert_eq!(
            AppInstanceId::decode(&data).unwrap().0,
            <[u8; 16]>::try_from(hex("aabbccddeeff00112233445566778899")).unwrap()
        );
        let mut bad = data.clone();
        bad[0] = 0x10;
        assert!(AppInstanceId::decode(&bad).is_err());
        assert!(AppInstanceId::decode(&data[..19]).is_err());
    }
}
