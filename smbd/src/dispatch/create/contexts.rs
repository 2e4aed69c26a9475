//! The contexts step of CREATE: every create context the server acts on, decoded once into
//! typed values, and the combinations MS-SMB2 3.3.5.9 refuses.

use crate::proto::NtStatus;
use crate::proto::create::CreateRequest;
use crate::proto::create_contexts::{
    AppInstanceId, DurableReconnectV1, DurableReconnectV2, DurableRequestV1, DurableRequestV2,
    Lease,
};
use crate::proto::fscc::decode_full_ea_list;

use super::super::security;

/// A durable handle asked for (MS-SMB2 3.3.5.9.6, 3.3.5.9.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DurableAsk {
    /// DHnQ.
    V1,
    /// DH2Q.
    V2(DurableRequestV2),
}

/// A durable handle to reconnect (MS-SMB2 3.3.5.9.7, 3.3.5.9.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reconnect {
    /// DHnC.
    V1(DurableReconnectV1),
    /// DH2C.
    V2(DurableReconnectV2),
}

/// The create contexts of one CREATE, typed.
#[derive(Default)]
pub(crate) struct Contexts {
    /// SecD: the creator's security descriptor.
    pub creator_sd: Option<acl::SecurityDescriptor>,
    /// AlSi: the allocation size of a new or overwritten file.
    pub allocation_size: u64,
    /// MxAc: the maximal access is asked for.
    pub maximal_access: bool,
    /// QFid: the on-disk file id is asked for.
    pub query_on_disk_id: bool,
    /// TWrp: the snapshot asked for, by its timestamp (FILETIME).
    pub timewarp: Option<u64>,
    /// RqLs: a lease is asked for (v1 or v2).
    pub lease: Option<Lease>,
    /// DHnQ or DH2Q.
    pub durable: Option<DurableAsk>,
    /// DHnC or DH2C.
    pub reconnect: Option<Reconnect>,
    /// The application instance the open belongs to.
    pub app_instance: Option<AppInstanceId>,
    /// ExtA: the extended attributes of a new, overwritten or superseded file, checked.
    pub eas: Option<Vec<vfs::Ea>>,
}

impl Contexts {
    /// Decodes the contexts of `req`; a context that does not decode, or a combination the
    /// specification forbids, is INVALID_PARAMETER (a bad SecD is INVALID_SECURITY_DESCR).
    pub(crate) fn read(req: &CreateRequest<'_>, smb3: bool) -> Result<Self, NtStatus> {
        if req.contexts.iter().any(|c| c.name.len() < 4) {
            // MS-SMB2 2.2.13.2: names are at least four bytes (smbtorture smb2.create.blob).
            return Err(NtStatus::INVALID_PARAMETER);
        }
        let bad = |_| NtStatus::INVALID_PARAMETER;
        let mut c = Self {
            creator_sd: match req.context(b"SecD") {
                Some(b) => Some(
                    acl::SecurityDescriptor::decode(b)
                        .map_err(|_| security::INVALID_SECURITY_DESCR)?,
                ),
                None => None,
            },
            allocation_size: req
                .context(b"AlSi")
                .and_then(|d| d.get(..8))
                .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or_default())),
            maximal_access: req.context(b"MxAc").is_some(),
            query_on_disk_id: req.context(b"QFid").is_some(),
            timewarp: match req.context(b"TWrp") {
                // SMB2_CREATE_TIMEWARP_TOKEN (MS-SMB2 2.2.13.2.7): the 8-byte Timestamp.
                Some(d) => Some(
                    d.get(..8)
                        .and_then(|b| b.try_into().ok())
                        .map(u64::from_le_bytes)
                        .ok_or(NtStatus::INVALID_PARAMETER)?,
                ),
                None => None,
            },
            ..Self::default()
        };
        if let Some(d) = req.context(b"RqLs") {
            // A malformed lease context is ignored, as Windows does (smbtorture lease tests
            // send odd sizes only on purpose); v2 only on 3.x.
            c.lease = Lease::decode(d).ok().filter(|l| l.v2.is_none() || smb3);
        }
        let v1q = req.context(b"DHnQ");
        let v1c = req.context(b"DHnC");
        let v2q = req.context(b"DH2Q");
        let v2c = req.context(b"DH2C");
        // MS-SMB2 3.3.5.9: a v2 durable context beside a v1 one is INVALID_PARAMETER.
        if (v2q.is_some() || v2c.is_some()) && (v1q.is_some() || v1c.is_some()) {
            return Err(NtStatus::INVALID_PARAMETER);
        }
        if v2q.is_some() && v2c.is_some() {
            return Err(NtStatus::INVALID_PARAMETER);
        }
        if let Some(d) = v2c {
            c.reconnect = Some(Reconnect::V2(DurableReconnectV2::decode(d).map_err(bad)?));
        } else if let Some(d) = v1c {
            c.reconnect = Some(Reconnect::V1(DurableReconnectV1::decode(d).map_err(bad)?));
        }
        if let Some(d) = v2q {
            c.durable = Some(DurableAsk::V2(DurableRequestV2::decode(d).map_err(bad)?));
        } else if let Some(d) = v1q
            && c.reconnect.is_none()
        {
            // DHnQ beside DHnC: the reconnect wins (MS-SMB2 3.3.5.9.7).
            c.durable = DurableRequestV1::decode(d).ok().map(|_| DurableAsk::V1);
        }
        if let Some(d) = req.context(b"ExtA") {
            // SMB2_CREATE_EA_BUFFER (MS-SMB2 2.2.13.2.1): refused before anything is created.
            let list = decode_full_ea_list(d).map_err(super::super::ea::list_status)?;
            super::super::ea::check_settable(&list)?;
            c.eas = Some(list);
        }
        if let Some(d) = req.context(&crate::proto::create_contexts::APP_INSTANCE_ID_NAME) {
            c.app_instance = AppInstanceId::decode(d).ok();
        }
        Ok(c)
    }
}
