//! DER codecs of the Kerberos messages the acceptor sees and sends (RFC 4120 section 5):
//! AP-REQ with its Ticket and Authenticator, EncTicketPart, AP-REP with EncAPRepPart, and
//! KRB-ERROR. Decoders borrow from the input; the encoders also serve the tests, which play KDC
//! and client.

use crate::asn1::{self, Asn1Error, Element, Reader, application, context};

/// At most this many name components or authorization-data elements are read.
pub const MAX_SEQUENCE_ITEMS: usize = 64;

/// Why a Kerberos message could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KrbDecodeError {
    /// A DER error.
    Asn1(Asn1Error),
    /// pvno or a version field is not 5.
    BadVersion,
    /// msg-type does not match the message.
    BadMsgType,
    /// A KerberosTime is not `YYYYMMDDHHMMSSZ`.
    BadTime,
    /// A KerberosString is not UTF-8.
    BadString,
    /// A name or authorization-data list is longer than [`MAX_SEQUENCE_ITEMS`].
    TooManyItems,
    /// An integer is out of range for its field.
    OutOfRange,
}

impl From<Asn1Error> for KrbDecodeError {
    fn from(e: Asn1Error) -> Self {
        Self::Asn1(e)
    }
}

/// PrincipalName.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalName {
    /// name-type.
    pub name_type: i32,
    /// name-string components.
    pub components: Vec<String>,
}

/// EncryptedData.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncryptedData<'a> {
    /// etype.
    pub etype: i32,
    /// kvno, when present.
    pub kvno: Option<u32>,
    /// cipher.
    pub cipher: &'a [u8],
}

/// Ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket<'a> {
    /// realm of the service.
    pub realm: String,
    /// sname.
    pub sname: PrincipalName,
    /// enc-part (key usage 2).
    pub enc_part: EncryptedData<'a>,
}

/// AP-REQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApReq<'a> {
    /// ap-options as a 32-bit field (bit 0 is the most significant).
    pub ap_options: u32,
    /// ticket.
    pub ticket: Ticket<'a>,
    /// authenticator (key usage 11).
    pub authenticator: EncryptedData<'a>,
}

/// ap-options bit use-session-key.
pub const AP_OPT_USE_SESSION_KEY: u32 = 0x4000_0000;
/// ap-options bit mutual-required.
pub const AP_OPT_MUTUAL_REQUIRED: u32 = 0x2000_0000;

/// EncryptionKey.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptionKey {
    /// keytype.
    pub keytype: i32,
    /// keyvalue.
    pub keyvalue: Vec<u8>,
}

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("keytype", &self.keytype)
            .finish_non_exhaustive()
    }
}

/// One AuthorizationData element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthData {
    /// ad-type.
    pub ad_type: i32,
    /// ad-data.
    pub ad_data: Vec<u8>,
}

/// AD-IF-RELEVANT.
pub const AD_IF_RELEVANT: i32 = 1;
/// AD-WIN2K-PAC.
pub const AD_WIN2K_PAC: i32 = 128;

/// EncTicketPart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncTicketPart {
    /// flags.
    pub flags: u32,
    /// The session key.
    pub key: EncryptionKey,
    /// crealm.
    pub crealm: String,
    /// cname.
    pub cname: PrincipalName,
    /// authtime (seconds since 1970).
    pub authtime: i64,
    /// starttime.
    pub starttime: Option<i64>,
    /// endtime.
    pub endtime: i64,
    /// authorization-data.
    pub authorization_data: Vec<AuthData>,
}

/// Checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    /// cksumtype.
    pub cksumtype: i32,
    /// checksum.
    pub checksum: Vec<u8>,
}

/// Authenticator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticator {
    /// crealm.
    pub crealm: String,
    /// cname.
    pub cname: PrincipalName,
    /// cksum.
    pub cksum: Option<Checksum>,
    /// cusec.
    pub cusec: u32,
    /// ctime (seconds since 1970).
    pub ctime: i64,
    /// subkey.
    pub subkey: Option<EncryptionKey>,
    /// seq-number.
    pub seq_number: Option<u32>,
}

/// The inner element of an explicit tag `[n]`.
fn explicit<'a>(r: &mut Reader<'a>, n: u8) -> Result<Element<'a>, KrbDecodeError> {
    let outer = r.read(context(n))?;
    let first = outer.content.first().copied().unwrap_or(0);
    Ok(asn1::read_single(outer.content, first)?)
}

fn optional<'a>(r: &mut Reader<'a>, n: u8) -> Result<Option<Element<'a>>, KrbDecodeError> {
    if r.peek_tag() == Some(context(n)) {
        explicit(r, n).map(Some)
    } else {
        Ok(None)
    }
}

fn int(e: Element<'_>) -> Result<i64, KrbDecodeError> {
    if e.tag != asn1::TAG_INTEGER {
        return Err(Asn1Error::UnexpectedTag {
            expected: asn1::TAG_INTEGER,
            found: e.tag,
        }
        .into());
    }
    Ok(asn1::integer_value(e.content)?)
}

fn int32(e: Element<'_>) -> Result<i32, KrbDecodeError> {
    i32::try_from(int(e)?).map_err(|_| KrbDecodeError::OutOfRange)
}

/// UInt32 fields; some encoders write them as negative Int32, which is accepted modulo 2^32.
fn uint32(e: Element<'_>) -> Result<u32, KrbDecodeError> {
    let v = int(e)?;
    if (-(1 << 31)..(1 << 32)).contains(&v) {
        Ok(v as u32)
    } else {
        Err(KrbDecodeError::OutOfRange)
    }
}

fn expect(e: Element<'_>, tag: u8) -> Result<Element<'_>, KrbDecodeError> {
    if e.tag == tag {
        Ok(e)
    } else {
        Err(Asn1Error::UnexpectedTag {
            expected: tag,
            found: e.tag,
        }
        .into())
    }
}

fn string(e: Element<'_>) -> Result<String, KrbDecodeError> {
    let e = expect(e, asn1::TAG_GENERAL_STRING)?;
    std::str::from_utf8(e.content)
        .map(str::to_owned)
        .map_err(|_| KrbDecodeError::BadString)
}

fn octets(e: Element<'_>) -> Result<&[u8], KrbDecodeError> {
    Ok(expect(e, asn1::TAG_OCTET_STRING)?.content)
}

/// Days from 1970-01-01 to a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a KerberosTime (`YYYYMMDDHHMMSSZ`) into seconds since 1970.
pub fn parse_time(e: Element<'_>) -> Result<i64, KrbDecodeError> {
    let e = expect(e, asn1::TAG_GENERALIZED_TIME)?;
    let c = e.content;
    if c.len() != 15 || c[14] != b'Z' || !c[..14].iter().all(u8::is_ascii_digit) {
        return Err(KrbDecodeError::BadTime);
    }
    let num = |a: usize, b: usize| {
        c[a..b]
            .iter()
            .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'))
    };
    let (y, mo, d, h, mi, s) = (
        num(0, 4),
        num(4, 6),
        num(6, 8),
        num(8, 10),
        num(10, 12),
        num(12, 14),
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return Err(KrbDecodeError::BadTime);
    }
    Ok(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s)
}

/// Encodes seconds since 1970 as a KerberosTime.
pub fn encode_time(t: i64) -> Vec<u8> {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Civil date from days (inverse of days_from_civil).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let s = format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    );
    asn1::encode(asn1::TAG_GENERALIZED_TIME, s.as_bytes())
}

fn parse_principal(e: Element<'_>) -> Result<PrincipalName, KrbDecodeError> {
    let seq = expect(e, asn1::TAG_SEQUENCE)?;
    let mut r = Reader::new(seq.content);
    let name_type = int32(explicit(&mut r, 0)?)?;
    let names = expect(explicit(&mut r, 1)?, asn1::TAG_SEQUENCE)?;
    r.finish()?;
    let mut nr = Reader::new(names.content);
    let mut components = Vec::new();
    while !nr.is_empty() {
        if components.len() == MAX_SEQUENCE_ITEMS {
            return Err(KrbDecodeError::TooManyItems);
        }
        components.push(string(nr.read_any()?)?);
    }
    Ok(PrincipalName {
        name_type,
        components,
    })
}

fn parse_encrypted(e: Element<'_>) -> Result<EncryptedData<'_>, KrbDecodeError> {
    let seq = expect(e, asn1::TAG_SEQUENCE)?;
    let mut r = Reader::new(seq.content);
    let etype = int32(explicit(&mut r, 0)?)?;
    let kvno = optional(&mut r, 1)?.map(uint32).transpose()?;
    let cipher = octets(explicit(&mut r, 2)?)?;
    r.finish()?;
    Ok(EncryptedData {
        etype,
        kvno,
        cipher,
    })
}

fn parse_key(e: Element<'_>) -> Result<EncryptionKey, KrbDecodeError> {
    let seq = expect(e, asn1::TAG_SEQUENCE)?;
    let mut r = Reader::new(seq.content);
    let keytype = int32(explicit(&mut r, 0)?)?;
    let keyvalue = octets(explicit(&mut r, 1)?)?.to_vec();
    r.finish()?;
    Ok(EncryptionKey { keytype, keyvalue })
}

/// Parses a BIT STRING of flags into 32 bits, bit 0 most significant.
fn flags(e: Element<'_>) -> Result<u32, KrbDecodeError> {
    let e = expect(e, asn1::TAG_BIT_STRING)?;
    let bits = e.content.get(1..).ok_or(Asn1Error::BadInteger)?;
    let mut v = [0u8; 4];
    for (d, s) in v.iter_mut().zip(bits) {
        *d = *s;
    }
    Ok(u32::from_be_bytes(v))
}

fn parse_ticket(e: Element<'_>) -> Result<Ticket<'_>, KrbDecodeError> {
    let app = expect(e, application(1))?;
    let seq = asn1::read_single(app.content, asn1::TAG_SEQUENCE)?;
    let mut r = Reader::new(seq.content);
    if int(explicit(&mut r, 0)?)? != 5 {
        return Err(KrbDecodeError::BadVersion);
    }
    let realm = string(explicit(&mut r, 1)?)?;
    let sname = parse_principal(explicit(&mut r, 2)?)?;
    let enc_part = parse_encrypted(explicit(&mut r, 3)?)?;
    r.finish()?;
    Ok(Ticket {
        realm,
        sname,
        enc_part,
    })
}

/// Parses an AP-REQ (`[APPLICATION 14]`).
pub fn parse_ap_req(data: &[u8]) -> Result<ApReq<'_>, KrbDecodeError> {
    let app = asn1::read_single(data, application(14))?;
    let seq = asn1::read_single(app.content, asn1::TAG_SEQUENCE)?;
    let mut r = Reader::new(seq.content);
    if int(explicit(&mut r, 0)?)? != 5 {
        return Err(KrbDecodeError::BadVersion);
    }
    if int(explicit(&mut r, 1)?)? != 14 {
        return Err(KrbDecodeError::BadMsgType);
    }
    let ap_options = flags(explicit(&mut r, 2)?)?;
    let ticket = parse_ticket(explicit(&mut r, 3)?)?;
    let authenticator = parse_encrypted(explicit(&mut r, 4)?)?;
    r.finish()?;
    Ok(ApReq {
        ap_options,
        ticket,
        authenticator,
    })
}

/// Parses AuthorizationData (a SEQUENCE OF ad-type/ad-data).
pub fn parse_auth_data(data: &[u8]) -> Result<Vec<AuthData>, KrbDecodeError> {
    let seq = asn1::read_single(data, asn1::TAG_SEQUENCE)?;
    let mut r = Reader::new(seq.content);
    let mut out = Vec::new();
    while !r.is_empty() {
        if out.len() == MAX_SEQUENCE_ITEMS {
            return Err(KrbDecodeError::TooManyItems);
        }
        let item = r.read(asn1::TAG_SEQUENCE)?;
        let mut ir = Reader::new(item.content);
        let ad_type = int32(explicit(&mut ir, 0)?)?;
        let ad_data = octets(explicit(&mut ir, 1)?)?.to_vec();
        ir.finish()?;
        out.push(AuthData { ad_type, ad_data });
    }
    Ok(out)
}

/// Parses the decrypted EncTicketPart (`[APPLICATION 3]`).
pub fn parse_enc_ticket_part(data: &[u8]) -> Result<EncTicketPart, KrbDecodeError> {
    let app = read_prefix(data, application(3))?;
    let seq = asn1::read_single(app.content, asn1::TAG_SEQUENCE)?;
    let mut r = Reader::new(seq.content);
    let flags = flags(explicit(&mut r, 0)?)?;
    let key = parse_key(explicit(&mut r, 1)?)?;
    let crealm = string(explicit(&mut r, 2)?)?;
    let cname = parse_principal(explicit(&mut r, 3)?)?;
    explicit(&mut r, 4)?; // transited: not checked (the KDC vouches for it).
    let authtime = parse_time(explicit(&mut r, 5)?)?;
    let starttime = optional(&mut r, 6)?.map(parse_time).transpose()?;
    let endtime = parse_time(explicit(&mut r, 7)?)?;
    optional(&mut r, 8)?; // renew-till
    optional(&mut r, 9)?; // caddr
    let authorization_data = match r.read_optional(context(10))? {
        Some(e) => parse_auth_data(e.content)?,
        None => Vec::new(),
    };
    r.finish()?;
    Ok(EncTicketPart {
        flags,
        key,
        crealm,
        cname,
        authtime,
        starttime,
        endtime,
        authorization_data,
    })
}

/// Reads the first element with `tag`; decrypted plaintext may carry padding after it.
fn read_prefix(data: &[u8], tag: u8) -> Result<Element<'_>, KrbDecodeError> {
    Ok(Reader::new(data).read(tag)?)
}

/// Parses the decrypted Authenticator (`[APPLICATION 2]`).
pub fn parse_authenticator(data: &[u8]) -> Result<Authenticator, KrbDecodeError> {
    let app = read_prefix(data, application(2))?;
    let seq = asn1::read_single(app.content, asn1::TAG_SEQUENCE)?;
    let mut r = Reader::new(seq.content);
    if int(explicit(&mut r, 0)?)? != 5 {
        return Err(KrbDecodeError::BadVersion);
    }
    let crealm = string(explicit(&mut r, 1)?)?;
    let cname = parse_principal(explicit(&mut r, 2)?)?;
    let cksum = match optional(&mut r, 3)? {
        Some(e) => {
            let seq = expect(e, asn1::TAG_SEQUENCE)?;
            let mut cr = Reader::new(seq.content);
            let cksumtype = int32(explicit(&mut cr, 0)?)?;
            let checksum = octets(explicit(&mut cr, 1)?)?.to_vec();
            cr.finish()?;
            Some(Checksum {
                cksumtype,
                checksum,
            })
        }
        None => None,
    };
    let cusec = uint32(explicit(&mut r, 4)?)?;
    if cusec > 999_999 {
        return Err(KrbDecodeError::OutOfRange);
    }
    let ctime = parse_time(explicit(&mut r, 5)?)?;
    let subkey = optional(&mut r, 6)?.map(parse_key).transpose()?;
    let seq_number = optional(&mut r, 7)?.map(uint32).transpose()?;
    optional(&mut r, 8)?; // authorization-data in the authenticator: ignored.
    r.finish()?;
    Ok(Authenticator {
        crealm,
        cname,
        cksum,
        cusec,
        ctime,
        subkey,
        seq_number,
    })
}

// ---- Encoders ----

fn tagged(n: u8, inner: &[u8]) -> Vec<u8> {
    asn1::encode(context(n), inner)
}

fn gstring(s: &str) -> Vec<u8> {
    asn1::encode(asn1::TAG_GENERAL_STRING, s.as_bytes())
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    asn1::encode(asn1::TAG_SEQUENCE, &parts.concat())
}

fn flags_der(v: u32) -> Vec<u8> {
    let mut c = vec![0u8];
    c.extend_from_slice(&v.to_be_bytes());
    asn1::encode(asn1::TAG_BIT_STRING, &c)
}

/// Encodes a PrincipalName.
pub fn encode_principal(p: &PrincipalName) -> Vec<u8> {
    let names: Vec<Vec<u8>> = p.components.iter().map(|c| gstring(c)).collect();
    seq(&[
        tagged(0, &asn1::encode_integer(i64::from(p.name_type))),
        tagged(1, &seq(&names)),
    ])
}

/// Encodes an EncryptedData.
pub fn encode_encrypted(etype: i32, kvno: Option<u32>, cipher: &[u8]) -> Vec<u8> {
    let mut parts = vec![tagged(0, &asn1::encode_integer(i64::from(etype)))];
    if let Some(k) = kvno {
        parts.push(tagged(1, &asn1::encode_integer(i64::from(k))));
    }
    parts.push(tagged(2, &asn1::encode(asn1::TAG_OCTET_STRING, cipher)));
    seq(&parts)
}

/// Encodes an EncryptionKey.
pub fn encode_key(k: &EncryptionKey) -> Vec<u8> {
    seq(&[
        tagged(0, &asn1::encode_integer(i64::from(k.keytype))),
        tagged(1, &asn1::encode(asn1::TAG_OCTET_STRING, &k.keyvalue)),
    ])
}

/// Encodes AuthorizationData.
pub fn encode_auth_data(items: &[AuthData]) -> Vec<u8> {
    let parts: Vec<Vec<u8>> = items
        .iter()
        .map(|a| {
            seq(&[
                tagged(0, &asn1::encode_integer(i64::from(a.ad_type))),
                tagged(1, &asn1::encode(asn1::TAG_OCTET_STRING, &a.ad_data)),
            ])
        })
        .collect();
    seq(&parts)
}

/// Encodes a Ticket.
pub fn encode_ticket(realm: &str, sname: &PrincipalName, enc_part: &[u8]) -> Vec<u8> {
    asn1::encode(
        application(1),
        &seq(&[
            tagged(0, &asn1::encode_integer(5)),
            tagged(1, &gstring(realm)),
            tagged(2, &encode_principal(sname)),
            tagged(3, enc_part),
        ]),
    )
}

/// Encodes an AP-REQ from an encoded Ticket and an encoded EncryptedData authenticator.
pub fn encode_ap_req(ap_options: u32, ticket: &[u8], authenticator: &[u8]) -> Vec<u8> {
    asn1::encode(
        application(14),
        &seq(&[
            tagged(0, &asn1::encode_integer(5)),
            tagged(1, &asn1::encode_integer(14)),
            tagged(2, &flags_der(ap_options)),
            tagged(3, ticket),
            tagged(4, authenticator),
        ]),
    )
}

/// Encodes an EncTicketPart.
pub fn encode_enc_ticket_part(t: &EncTicketPart) -> Vec<u8> {
    let mut parts = vec![
        tagged(0, &flags_der(t.flags)),
        tagged(1, &encode_key(&t.key)),
        tagged(2, &gstring(&t.crealm)),
        tagged(3, &encode_principal(&t.cname)),
        tagged(
            4,
            &seq(&[
                tagged(0, &asn1::encode_integer(1)),
                tagged(1, &asn1::encode(asn1::TAG_OCTET_STRING, b"")),
            ]),
        ),
        tagged(5, &encode_time(t.authtime)),
    ];
    if let Some(s) = t.starttime {
        parts.push(tagged(6, &encode_time(s)));
    }
    parts.push(tagged(7, &encode_time(t.endtime)));
    if !t.authorization_data.is_empty() {
        parts.push(tagged(10, &encode_auth_data(&t.authorization_data)));
    }
    asn1::encode(application(3), &seq(&parts))
}

/// Encodes an Authenticator.
pub fn encode_authenticator(a: &Authenticator) -> Vec<u8> {
    let mut parts = vec![
        tagged(0, &asn1::encode_integer(5)),
        tagged(1, &gstring(&a.crealm)),
        tagged(2, &encode_principal(&a.cname)),
    ];
    if let Some(c) = &a.cksum {
        parts.push(tagged(
            3,
            &seq(&[
                tagged(0, &asn1::encode_integer(i64::from(c.cksumtype))),
                tagged(1, &asn1::encode(asn1::TAG_OCTET_STRING, &c.checksum)),
            ]),
        ));
    }
    parts.push(tagged(4, &asn1::encode_integer(i64::from(a.cusec))));
    parts.push(tagged(5, &encode_time(a.ctime)));
    if let Some(k) = &a.subkey {
        parts.push(tagged(6, &encode_key(k)));
    }
    if let Some(s) = a.seq_number {
        parts.push(tagged(7, &asn1::encode_integer(i64::from(s))));
    }
    asn1::encode(application(2), &seq(&parts))
}

/// Encodes an EncAPRepPart (`[APPLICATION 27]`).
pub fn encode_enc_ap_rep_part(
    ctime: i64,
    cusec: u32,
    subkey: Option<&EncryptionKey>,
    seq_number: Option<u32>,
) -> Vec<u8> {
    let mut parts = vec![
        tagged(0, &encode_time(ctime)),
        tagged(1, &asn1::encode_integer(i64::from(cusec))),
    ];
    if let Some(k) = subkey {
        parts.push(tagged(2, &encode_key(k)));
    }
    if let Some(s) = seq_number {
        parts.push(tagged(3, &asn1::encode_integer(i64::from(s))));
    }
    asn1::encode(application(27), &seq(&parts))
}

/// Encodes an AP-REP (`[APPLICATION 15]`) around an encoded EncryptedData.
pub fn encode_ap_rep(enc_part: &[u8]) -> Vec<u8> {
    asn1::encode(
        application(15),
        &seq(&[
            tagged(0, &asn1::encode_integer(5)),
            tagged(1, &asn1::encode_integer(15)),
            tagged(2, enc_part),
        ]),
    )
}

/// Parses an AP-REP and returns its enc-part (for the tests' client side).
pub fn parse_ap_rep(data: &[u8]) -> Result<EncryptedData<'_>, KrbDecodeError> {
    let app = asn1::read_single(data, application(15))?;
    let s = asn1::read_single(app.content, asn1::TAG_SEQUENCE)?;
    let mut r = Reader::new(s.content);
    if int(explicit(&mut r, 0)?)? != 5 {
        return Err(KrbDecodeError::BadVersion);
    }
    if int(explicit(&mut r, 1)?)? != 15 {
        return Err(KrbDecodeError::BadMsgType);
    }
    let enc = parse_encrypted(explicit(&mut r, 2)?)?;
    r.finish()?;
    Ok(enc)
}

/// KRB-ERROR fields the acceptor sends (RFC 4120 section 5.9.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KrbError {
    /// stime (seconds since 1970).
    pub stime: i64,
    /// susec.
    pub susec: u32,
    /// error-code.
    pub error_code: i32,
    /// realm of the server.
    pub realm: String,
    /// sname of the server.
    pub sname: PrincipalName,
}

/// Encodes a KRB-ERROR (`[APPLICATION 30]`).
pub fn encode_krb_error(e: &KrbError) -> Vec<u8> {
    asn1::encode(
        application(30),
        &seq(&[
            tagged(0, &asn1::encode_integer(5)),
            tagged(1, &asn1::encode_integer(30)),
            tagged(4, &encode_time(e.stime)),
            tagged(5, &asn1::encode_integer(i64::from(e.susec))),
            tagged(6, &asn1::encode_integer(i64::from(e.error_code))),
            tagged(9, &gstring(&e.realm)),
            tagged(10, &encode_principal(&e.sname)),
        ]),
    )
}

/// Reads the error-code of a KRB-ERROR (for tests and logging).
pub fn krb_error_code(data: &[u8]) -> Result<i32, KrbDecodeError> {
    let app = asn1::read_single(data, application(30))?;
    let s = asn1::read_single(app.content, asn1::TAG_SEQUENCE)?;
    let mut r = Reader::new(s.content);
    while !r.is_empty() {
        let e = r.read_any()?;
        if e.tag == context(6) {
            let first = e.content.first().copied().unwrap_or(0);
            return int32(asn1::read_single(e.content, first)?);
        }
    }
    Err(KrbDecodeError::BadMsgType)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        for t in [0i64, 951_782_400, 1_700_000_000, 4_102_444_799] {
            let enc = encode_time(t);
            let e = asn1::read_single(&enc, asn1::TAG_GENERALIZED_TIME).unwrap();
            assert_eq!(parse_time(e).unwrap(), t);
        }
        let enc = encode_time(1_700_000_000);
        assert_eq!(&enc[2..], b"20231114221320Z");
        let bad = asn1::encode(asn1::TAG_GENERALIZED_TIME, b"20231314221320Z");
        let e = asn1::read_single(&bad, asn1::TAG_GENERALIZED_TIME).unwrap();
        assert_eq!(parse_time(e), Err(KrbDecodeError::BadTime));
    }

    #[test]
    fn ap_req_round_trip_and_truncation() {
        let sname = PrincipalName {
            name_type: 2,
            components: vec!["cifs".into(), "fs.example.com".into()],
        };
        let ticket = encode_ticket("EXAMPLE.COM", &sname, &encode_encrypted(18, Some(3), b"x"));
        let ap = encode_ap_req(
            AP_OPT_MUTUAL_REQUIRED,
            &ticket,
            &encode_encrypted(18, None, b"y"),
        );
        let p = parse_ap_req(&ap).unwrap();
        assert_eq!(p.ap_options, AP_OPT_MUTUAL_REQUIRED);
        assert_eq!(p.ticket.sname, sname);
        assert_eq!(p.ticket.enc_part.kvno, Some(3));
        assert_eq!(p.authenticator.cipher, b"y");
        for n in 0..ap.len() {
            assert!(parse_ap_req(&ap[..n]).is_err());
        }
    }

    #[test]
    fn krb_error_code_reads_back() {
        let e = KrbError {
            stime: 1_700_000_000,
            susec: 5,
            error_code: 37,
            realm: "R".into(),
            sname: PrincipalName {
                name_type: 2,
                components: vec!["cifs".into()],
            },
        };
        assert_eq!(krb_error_code(&encode_krb_error(&e)), Ok(37));
    }
}
