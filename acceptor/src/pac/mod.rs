//! The Privilege Attribute Certificate (MS-PAC): the Windows authorization data in a ticket.
//!
//! [`Pac::parse`] reads the PACTYPE and its buffers with every count and offset checked;
//! [`Pac::verify_server_signature`] checks the server checksum with the service key over the
//! PAC with both signature fields zeroed (MS-PAC 2.8).

pub mod logon_info;
pub mod ndr;
#[cfg(test)]
pub(crate) mod tests;

use crate::krb5::crypto::{CryptoError, Key};
pub use logon_info::LogonInfo;

/// Largest PAC accepted (the whole AD-WIN2K-PAC blob).
pub const MAX_PAC_LEN: usize = 1 << 20;
/// Most buffers accepted in a PACTYPE.
pub const MAX_BUFFERS: u32 = 64;
/// The key usage of PAC checksums (KERB_NON_KERB_CKSUM_SALT, MS-PAC 2.8.1).
pub const PAC_CHECKSUM_USAGE: u32 = 17;

/// PAC buffer types (MS-PAC 2.4).
pub mod buffer_type {
    /// KERB_VALIDATION_INFO.
    pub const LOGON_INFO: u32 = 1;
    /// Server checksum.
    pub const SERVER_CHECKSUM: u32 = 6;
    /// KDC checksum.
    pub const KDC_CHECKSUM: u32 = 7;
    /// PAC_CLIENT_INFO.
    pub const CLIENT_INFO: u32 = 10;
    /// UPN_DNS_INFO.
    pub const UPN_DNS_INFO: u32 = 12;
    /// Client claims.
    pub const CLIENT_CLAIMS: u32 = 13;
    /// Ticket checksum.
    pub const TICKET_CHECKSUM: u32 = 16;
    /// PAC_ATTRIBUTES_INFO.
    pub const ATTRIBUTES_INFO: u32 = 17;
    /// PAC_REQUESTOR.
    pub const REQUESTOR: u32 = 18;
    /// Full PAC checksum.
    pub const FULL_CHECKSUM: u32 = 19;
}

/// Why a PAC was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacError {
    /// A field runs past its buffer.
    Truncated(&'static str),
    /// A count or length does not fit the data.
    BadCount(&'static str),
    /// A buffer's offset or size falls outside the PAC.
    BadBufferBounds,
    /// The PAC version is not 0 or it has too many buffers.
    BadHeader,
    /// The NDR type serialization header is malformed.
    BadNdrHeader,
    /// A SID is malformed.
    BadSid,
    /// A buffer type that must appear once appears twice.
    Duplicate(u32),
    /// The server checksum buffer is missing.
    NoServerChecksum,
    /// The server checksum does not verify.
    BadServerSignature(CryptoError),
    /// The PAC is larger than [`MAX_PAC_LEN`].
    TooLarge,
}

/// PAC_CLIENT_INFO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// ClientId: the ticket's authtime as seconds since 1970.
    pub auth_time: i64,
    /// The client's name (no realm).
    pub name: String,
}

/// UPN_DNS_INFO.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpnDnsInfo {
    /// The UPN.
    pub upn: String,
    /// The DNS domain name.
    pub dns_domain: String,
    /// Flags (1 = no UPN set, 2 = SAM name and SID present).
    pub flags: u32,
    /// The SAM account name (flag 2).
    pub sam_name: Option<String>,
    /// The user SID (flag 2).
    pub sid: Option<acl::Sid>,
}

/// A PAC_SIGNATURE_DATA buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The checksum type.
    pub sig_type: i32,
    /// The signature.
    pub signature: Vec<u8>,
    /// Offset of the signature bytes within the PAC (to zero them when verifying).
    pub offset: usize,
}

/// A decoded PAC.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pac {
    /// LOGON_INFO.
    pub logon_info: Option<LogonInfo>,
    /// CLIENT_INFO.
    pub client_info: Option<ClientInfo>,
    /// UPN_DNS_INFO.
    pub upn_dns_info: Option<UpnDnsInfo>,
    /// PAC_ATTRIBUTES_INFO flags.
    pub attributes: Option<u32>,
    /// PAC_REQUESTOR SID.
    pub requestor: Option<acl::Sid>,
    /// CLIENT_CLAIMS_INFO, kept raw.
    pub client_claims: Option<Vec<u8>>,
    /// Server checksum.
    pub server_checksum: Option<Signature>,
    /// KDC checksum.
    pub kdc_checksum: Option<Signature>,
    /// Ticket checksum (kept, not verified: needs the KDC key).
    pub ticket_checksum: Option<Signature>,
    /// Full PAC checksum (kept, not verified: needs the KDC key).
    pub full_checksum: Option<Signature>,
}

fn le32(b: &[u8], at: usize, what: &'static str) -> Result<u32, PacError> {
    let s = b.get(at..at + 4).ok_or(PacError::Truncated(what))?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn le16(b: &[u8], at: usize, what: &'static str) -> Result<u16, PacError> {
    let s = b.get(at..at + 2).ok_or(PacError::Truncated(what))?;
    Ok(u16::from_le_bytes([s[0], s[1]]))
}

fn utf16(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// Seconds since 1970 from a FILETIME (100 ns since 1601).
pub fn filetime_to_unix(ft: u64) -> i64 {
    (ft / 10_000_000) as i64 - 11_644_473_600
}

/// A FILETIME from seconds since 1970.
pub fn unix_to_filetime(t: i64) -> u64 {
    ((t + 11_644_473_600).max(0) as u64) * 10_000_000
}

fn parse_client_info(b: &[u8]) -> Result<ClientInfo, PacError> {
    let lo = u64::from(le32(b, 0, "ClientId")?);
    let hi = u64::from(le32(b, 4, "ClientId")?);
    let n = usize::from(le16(b, 8, "NameLength")?);
    let name = b
        .get(10..10 + n)
        .ok_or(PacError::Truncated("client name"))?;
    Ok(ClientInfo {
        auth_time: filetime_to_unix(hi << 32 | lo),
        name: utf16(name),
    })
}

fn slice_at<'a>(b: &'a [u8], len: u16, off: u16, what: &'static str) -> Result<&'a [u8], PacError> {
    let (len, off) = (usize::from(len), usize::from(off));
    b.get(off..off + len).ok_or(PacError::Truncated(what))
}

fn parse_upn(b: &[u8]) -> Result<UpnDnsInfo, PacError> {
    let upn = slice_at(b, le16(b, 0, "UPN")?, le16(b, 2, "UPN")?, "UPN")?;
    let dns = slice_at(b, le16(b, 4, "DNS")?, le16(b, 6, "DNS")?, "DNS domain")?;
    let flags = le32(b, 8, "UPN flags")?;
    let mut info = UpnDnsInfo {
        upn: utf16(upn),
        dns_domain: utf16(dns),
        flags,
        ..Default::default()
    };
    if flags & 2 != 0 {
        let sam = slice_at(b, le16(b, 12, "SAM")?, le16(b, 14, "SAM")?, "SAM name")?;
        let sid = slice_at(b, le16(b, 16, "SID")?, le16(b, 18, "SID")?, "UPN SID")?;
        info.sam_name = Some(utf16(sam));
        info.sid = Some(acl::Sid::decode(sid).map_err(|_| PacError::BadSid)?.0);
    }
    Ok(info)
}

fn parse_signature(b: &[u8], offset: usize) -> Result<Signature, PacError> {
    let sig_type = le32(b, 0, "signature type")? as i32;
    let len = match sig_type {
        15 | 16 => 12,
        20 => 24,
        _ => 16,
    };
    let signature = b.get(4..4 + len).ok_or(PacError::Truncated("signature"))?;
    Ok(Signature {
        sig_type,
        signature: signature.to_vec(),
        offset: offset + 4,
    })
}

fn set_once<T>(slot: &mut Option<T>, v: T, ty: u32) -> Result<(), PacError> {
    if slot.is_some() {
        return Err(PacError::Duplicate(ty));
    }
    *slot = Some(v);
    Ok(())
}

impl Pac {
    /// Parses a PACTYPE (MS-PAC 2.3) and the buffers the server uses.
    pub fn parse(data: &[u8]) -> Result<Self, PacError> {
        use buffer_type as t;
        if data.len() > MAX_PAC_LEN {
            return Err(PacError::TooLarge);
        }
        let count = le32(data, 0, "cBuffers")?;
        if le32(data, 4, "Version")? != 0 || count > MAX_BUFFERS {
            return Err(PacError::BadHeader);
        }
        let mut pac = Self::default();
        for i in 0..count as usize {
            let at = 8 + i * 16;
            let ty = le32(data, at, "ulType")?;
            let size = le32(data, at + 4, "cbBufferSize")? as usize;
            let lo = u64::from(le32(data, at + 8, "Offset")?);
            let hi = u64::from(le32(data, at + 12, "Offset")?);
            let offset = usize::try_from(hi << 32 | lo).map_err(|_| PacError::BadBufferBounds)?;
            let end = offset.checked_add(size).ok_or(PacError::BadBufferBounds)?;
            let b = data.get(offset..end).ok_or(PacError::BadBufferBounds)?;
            match ty {
                t::LOGON_INFO => set_once(&mut pac.logon_info, logon_info::parse(b)?, ty)?,
                t::CLIENT_INFO => set_once(&mut pac.client_info, parse_client_info(b)?, ty)?,
                t::UPN_DNS_INFO => set_once(&mut pac.upn_dns_info, parse_upn(b)?, ty)?,
                t::ATTRIBUTES_INFO => set_once(&mut pac.attributes, le32(b, 4, "attrs")?, ty)?,
                t::REQUESTOR => {
                    let sid = acl::Sid::decode(b).map_err(|_| PacError::BadSid)?.0;
                    set_once(&mut pac.requestor, sid, ty)?;
                }
                t::CLIENT_CLAIMS => set_once(&mut pac.client_claims, b.to_vec(), ty)?,
                t::SERVER_CHECKSUM => {
                    set_once(&mut pac.server_checksum, parse_signature(b, offset)?, ty)?;
                }
                t::KDC_CHECKSUM => {
                    set_once(&mut pac.kdc_checksum, parse_signature(b, offset)?, ty)?;
                }
                t::TICKET_CHECKSUM => {
                    set_once(&mut pac.ticket_checksum, parse_signature(b, offset)?, ty)?;
                }
                t::FULL_CHECKSUM => {
                    set_once(&mut pac.full_checksum, parse_signature(b, offset)?, ty)?;
                }
                _ => {} // Unknown buffers are ignored, as MS-PAC 2.4 requires.
            }
        }
        Ok(pac)
    }

    /// Verifies the server checksum of `data` (this PAC's bytes) with the service key: the
    /// checksum over the PAC with the server and KDC signature fields zeroed.
    pub fn verify_server_signature(&self, data: &[u8], key: &Key) -> Result<(), PacError> {
        let server = self
            .server_checksum
            .as_ref()
            .ok_or(PacError::NoServerChecksum)?;
        let zeroed = zero_signatures(data, &[Some(server), self.kdc_checksum.as_ref()]);
        key.verify_checksum(
            server.sig_type,
            PAC_CHECKSUM_USAGE,
            &zeroed,
            &server.signature,
        )
        .map_err(PacError::BadServerSignature)
    }
}

/// A copy of `data` with the given signature fields zeroed.
pub fn zero_signatures(data: &[u8], sigs: &[Option<&Signature>]) -> Vec<u8> {
    let mut out = data.to_vec();
    for s in sigs.iter().flatten() {
        if let Some(field) = out.get_mut(s.offset..s.offset + s.signature.len()) {
            field.fill(0);
        }
    }
    out
}
