//! KERB_VALIDATION_INFO (MS-PAC 2.5), the PAC's LOGON_INFO buffer, NDR-decoded.

use super::PacError;
use super::ndr::Ndr;

/// UserFlags bit: ExtraSids is populated (LOGON_EXTRA_SIDS).
pub const LOGON_EXTRA_SIDS: u32 = 0x20;
/// UserFlags bit: ResourceGroupIds is populated (LOGON_RESOURCE_GROUPS).
pub const LOGON_RESOURCE_GROUPS: u32 = 0x200;

/// The parts of KERB_VALIDATION_INFO the server uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogonInfo {
    /// EffectiveName (the account name).
    pub effective_name: String,
    /// FullName.
    pub full_name: String,
    /// UserId (RID).
    pub user_id: u32,
    /// PrimaryGroupId (RID).
    pub primary_group_id: u32,
    /// GroupIds: (RID, attributes) in the logon domain.
    pub group_ids: Vec<(u32, u32)>,
    /// UserFlags.
    pub user_flags: u32,
    /// LogonServer.
    pub logon_server: String,
    /// LogonDomainName.
    pub logon_domain_name: String,
    /// LogonDomainId.
    pub logon_domain_id: Option<acl::Sid>,
    /// UserAccountControl.
    pub user_account_control: u32,
    /// ExtraSids with attributes.
    pub extra_sids: Vec<(acl::Sid, u32)>,
    /// ResourceGroupDomainSid.
    pub resource_group_domain_sid: Option<acl::Sid>,
    /// ResourceGroupIds: (RID, attributes).
    pub resource_group_ids: Vec<(u32, u32)>,
}

/// An RPC_UNICODE_STRING header: whether its buffer pointer is set.
fn ustring_header(r: &mut Ndr<'_>) -> Result<bool, PacError> {
    r.u16("string length")?;
    r.u16("string max length")?;
    Ok(r.u32("string pointer")? != 0)
}

fn opt_string(r: &mut Ndr<'_>, present: bool) -> Result<String, PacError> {
    if present {
        r.string()
    } else {
        Ok(String::new())
    }
}

fn memberships(r: &mut Ndr<'_>, expected: u32) -> Result<Vec<(u32, u32)>, PacError> {
    let n = r.count(8, "group count")?;
    if n as u64 != u64::from(expected) {
        return Err(PacError::BadCount("group count"));
    }
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push((r.u32("RID")?, r.u32("attributes")?));
    }
    Ok(v)
}

/// Decodes a LOGON_INFO buffer: the type serialization headers, then KERB_VALIDATION_INFO.
pub fn parse(buf: &[u8]) -> Result<LogonInfo, PacError> {
    // Common header (MS-RPCE 2.2.6.1): version 1, little-endian (0x10), length 8.
    match buf {
        [1, 0x10, 8, 0, ..] => {}
        _ => return Err(PacError::BadNdrHeader),
    }
    // Private header (2.2.6.2): the object length; impacket writes one that is not a multiple
    // of 8, so only its bound is checked.
    let len = buf
        .get(8..12)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or(PacError::Truncated("NDR private header"))?;
    let body = buf
        .get(16..)
        .ok_or(PacError::Truncated("NDR private header"))?;
    let body = body.get(..len).ok_or(PacError::Truncated("NDR object"))?;
    let mut r = Ndr::new(body);
    if r.u32("top-level pointer")? == 0 {
        return Err(PacError::BadNdrHeader);
    }
    r.take(6 * 8, "times")?;
    let mut strings = [false; 6];
    for s in &mut strings {
        *s = ustring_header(&mut r)?;
    }
    r.u16("logon count")?;
    r.u16("bad password count")?;
    let user_id = r.u32("UserId")?;
    let primary_group_id = r.u32("PrimaryGroupId")?;
    let group_count = r.u32("GroupCount")?;
    let groups_ptr = r.u32("GroupIds pointer")? != 0;
    let user_flags = r.u32("UserFlags")?;
    r.take(16, "UserSessionKey")?;
    let server_ptr = ustring_header(&mut r)?;
    let domain_ptr = ustring_header(&mut r)?;
    let domain_id_ptr = r.u32("LogonDomainId pointer")? != 0;
    r.take(8, "Reserved1")?;
    let user_account_control = r.u32("UserAccountControl")?;
    r.u32("SubAuthStatus")?;
    r.take(16, "logon times")?;
    r.u32("FailedILogonCount")?;
    r.u32("Reserved3")?;
    let sid_count = r.u32("SidCount")?;
    let extra_ptr = r.u32("ExtraSids pointer")? != 0;
    let res_domain_ptr = r.u32("ResourceGroupDomainSid pointer")? != 0;
    let res_count = r.u32("ResourceGroupCount")?;
    let res_ptr = r.u32("ResourceGroupIds pointer")? != 0;

    // Deferred referents, in pointer order.
    let effective_name = opt_string(&mut r, strings[0])?;
    let full_name = opt_string(&mut r, strings[1])?;
    for &present in &strings[2..] {
        opt_string(&mut r, present)?;
    }
    let group_ids = if groups_ptr {
        memberships(&mut r, group_count)?
    } else {
        Vec::new()
    };
    let logon_server = opt_string(&mut r, server_ptr)?;
    let logon_domain_name = opt_string(&mut r, domain_ptr)?;
    let logon_domain_id = domain_id_ptr.then(|| r.sid()).transpose()?;
    let mut extra_sids = Vec::new();
    if extra_ptr {
        let n = r.count(8, "SidCount")?;
        if n as u64 != u64::from(sid_count) {
            return Err(PacError::BadCount("SidCount"));
        }
        let mut heads = Vec::with_capacity(n);
        for _ in 0..n {
            heads.push((r.u32("SID pointer")? != 0, r.u32("SID attributes")?));
        }
        for (present, attrs) in heads {
            if present {
                extra_sids.push((r.sid()?, attrs));
            }
        }
    }
    let resource_group_domain_sid = res_domain_ptr.then(|| r.sid()).transpose()?;
    let resource_group_ids = if res_ptr {
        memberships(&mut r, res_count)?
    } else {
        Vec::new()
    };
    Ok(LogonInfo {
        effective_name,
        full_name,
        user_id,
        primary_group_id,
        group_ids,
        user_flags,
        logon_server,
        logon_domain_name,
        logon_domain_id,
        user_account_control,
        extra_sids,
        resource_group_domain_sid,
        resource_group_ids,
    })
}

/// An NDR writer for tests (the tests play the KDC).
#[cfg(test)]
pub(crate) mod encode {
    use super::LogonInfo;

    struct W(Vec<u8>);

    impl W {
        fn align(&mut self, n: usize) {
            while !self.0.len().is_multiple_of(n) {
                self.0.push(0);
            }
        }
        fn u16(&mut self, v: u16) {
            self.align(2);
            self.0.extend_from_slice(&v.to_le_bytes());
        }
        fn u32(&mut self, v: u32) {
            self.align(4);
            self.0.extend_from_slice(&v.to_le_bytes());
        }
        fn ustr_head(&mut self, s: &str, ptr: &mut u32) {
            let n = s.encode_utf16().count() as u16;
            self.u16(n * 2);
            self.u16(n * 2);
            *ptr += 4;
            self.u32(*ptr);
        }
        fn ustr(&mut self, s: &str) {
            let units: Vec<u16> = s.encode_utf16().collect();
            self.u32(units.len() as u32);
            self.u32(0);
            self.u32(units.len() as u32);
            for u in units {
                self.u16(u);
            }
        }
        fn sid(&mut self, s: &acl::Sid) {
            self.u32(s.sub_authorities().len() as u32);
            s.encode(&mut self.0);
        }
    }

    /// Serializes `info` with the type serialization headers; `pad_to_8` false mimics
    /// impacket's unpadded object length.
    pub(crate) fn logon_info(info: &LogonInfo, pad_to_8: bool) -> Vec<u8> {
        let mut w = W(Vec::new());
        let mut ptr = 0x0002_0000u32;
        w.u32(ptr);
        w.0.extend_from_slice(&[0; 48]);
        let names = [
            info.effective_name.as_str(),
            info.full_name.as_str(),
            "",
            "",
            "",
            "",
        ];
        for n in names {
            w.ustr_head(n, &mut ptr);
        }
        w.u16(1);
        w.u16(0);
        w.u32(info.user_id);
        w.u32(info.primary_group_id);
        w.u32(info.group_ids.len() as u32);
        ptr += 4;
        w.u32(ptr);
        w.u32(info.user_flags);
        w.0.extend_from_slice(&[0; 16]);
        w.ustr_head(&info.logon_server, &mut ptr);
        w.ustr_head(&info.logon_domain_name, &mut ptr);
        ptr += 4;
        w.u32(if info.logon_domain_id.is_some() {
            ptr
        } else {
            0
        });
        w.0.extend_from_slice(&[0; 8]);
        w.u32(info.user_account_control);
        w.u32(0);
        w.0.extend_from_slice(&[0; 16]);
        w.u32(0);
        w.u32(0);
        w.u32(info.extra_sids.len() as u32);
        ptr += 4;
        w.u32(if info.extra_sids.is_empty() { 0 } else { ptr });
        ptr += 4;
        w.u32(if info.resource_group_domain_sid.is_some() {
            ptr
        } else {
            0
        });
        w.u32(info.resource_group_ids.len() as u32);
        ptr += 4;
        w.u32(if info.resource_group_ids.is_empty() {
            0
        } else {
            ptr
        });
        for n in names {
            w.ustr(n);
        }
        w.u32(info.group_ids.len() as u32);
        for &(rid, a) in &info.group_ids {
            w.u32(rid);
            w.u32(a);
        }
        w.ustr(&info.logon_server);
        w.ustr(&info.logon_domain_name);
        if let Some(s) = &info.logon_domain_id {
            w.sid(s);
        }
        if !info.extra_sids.is_empty() {
            w.u32(info.extra_sids.len() as u32);
            for _ in &info.extra_sids {
                ptr += 4;
                w.u32(ptr);
                w.u32(0);
            }
            // Attributes are written in the heads; patch them in.
            let base = w.0.len() - info.extra_sids.len() * 8;
            for (i, (_, a)) in info.extra_sids.iter().enumerate() {
                w.0[base + i * 8 + 4..base + i * 8 + 8].copy_from_slice(&a.to_le_bytes());
            }
            for (s, _) in &info.extra_sids {
                w.sid(s);
            }
        }
        if let Some(s) = &info.resource_group_domain_sid {
            w.sid(s);
        }
        if !info.resource_group_ids.is_empty() {
            w.u32(info.resource_group_ids.len() as u32);
            for &(rid, a) in &info.resource_group_ids {
                w.u32(rid);
                w.u32(a);
            }
        }
        let len = w.0.len();
        if pad_to_8 {
            w.align(8);
        }
        let obj_len = if pad_to_8 { w.0.len() } else { len };
        let mut out = vec![1, 0x10, 8, 0, 0xcc, 0xcc, 0xcc, 0xcc];
        out.extend_from_slice(&(obj_len as u32).to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&w.0);
        out
    }
}
