//! SPNEGO token codec (RFC 4178 section 4.2, MS-SPNG 2.2): the GSS-API InitialContextToken,
//! NegTokenInit / NegTokenInit2 and NegTokenResp.

use crate::asn1::{self, Asn1Error, Reader, context};

/// DER of OID 1.3.6.1.5.5.2 (SPNEGO), tag and length included.
pub const OID_SPNEGO: &[u8] = &[0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
/// DER of OID 1.3.6.1.4.1.311.2.2.10 (NTLMSSP).
pub const OID_NTLMSSP: &[u8] = &[
    0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a,
];
/// DER of OID 1.2.840.48018.1.2.2 (MS Kerberos 5), for the Kerberos issue.
pub const OID_MS_KRB5: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02,
];
/// DER of OID 1.2.840.113554.1.2.2 (Kerberos 5), for the Kerberos issue.
pub const OID_KRB5: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
];

/// The hint name MS-SPNG 2.2.1 asks servers to send.
pub const HINT_NAME: &[u8] = b"not_defined_in_RFC4178@please_ignore";

/// At most this many mechanism OIDs are read from a client's list.
pub const MAX_MECH_TYPES: usize = 32;

/// Why a SPNEGO token could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpnegoError {
    /// A DER encoding error.
    Asn1(Asn1Error),
    /// The InitialContextToken names a mechanism other than SPNEGO.
    NotSpnego,
    /// The token is neither a NegTokenInit nor a NegTokenResp.
    UnknownChoice,
    /// The mechanism list is empty.
    EmptyMechList,
    /// The mechanism list has more than [`MAX_MECH_TYPES`] entries.
    TooManyMechs,
    /// negState holds a value RFC 4178 does not define.
    BadNegState,
}

impl From<Asn1Error> for SpnegoError {
    fn from(e: Asn1Error) -> Self {
        Self::Asn1(e)
    }
}

impl SpnegoError {
    /// A fixed description of the violation.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Asn1(e) => e.describe(),
            Self::NotSpnego => "GSS token is not SPNEGO",
            Self::UnknownChoice => "SPNEGO token is neither NegTokenInit nor NegTokenResp",
            Self::EmptyMechList => "SPNEGO mechTypes list is empty",
            Self::TooManyMechs => "SPNEGO mechTypes list too long",
            Self::BadNegState => "SPNEGO negState value unknown",
        }
    }
}

/// negState of a NegTokenResp (RFC 4178 section 4.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegState {
    /// accept-completed (0).
    AcceptCompleted = 0,
    /// accept-incomplete (1).
    AcceptIncomplete = 1,
    /// reject (2).
    Reject = 2,
    /// request-mic (3).
    RequestMic = 3,
}

impl NegState {
    fn from_value(v: u8) -> Result<Self, SpnegoError> {
        match v {
            0 => Ok(Self::AcceptCompleted),
            1 => Ok(Self::AcceptIncomplete),
            2 => Ok(Self::Reject),
            3 => Ok(Self::RequestMic),
            _ => Err(SpnegoError::BadNegState),
        }
    }
}

/// A client's NegTokenInit (or NegTokenInit2), borrowing from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegTokenInit<'a> {
    /// The DER of each mechanism OID, tag included, in the client's order of preference.
    pub mech_types: Vec<&'a [u8]>,
    /// The DER of the whole MechTypeList SEQUENCE, over which mechListMIC is computed.
    pub mech_list_der: &'a [u8],
    /// The optimistic token for the first mechanism.
    pub mech_token: Option<&'a [u8]>,
    /// mechListMIC, if the client sent one.
    pub mech_list_mic: Option<&'a [u8]>,
}

/// A NegTokenResp, borrowing from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NegTokenResp<'a> {
    /// negState.
    pub neg_state: Option<NegState>,
    /// supportedMech (DER of the OID).
    pub supported_mech: Option<&'a [u8]>,
    /// responseToken.
    pub response_token: Option<&'a [u8]>,
    /// mechListMIC.
    pub mech_list_mic: Option<&'a [u8]>,
}

/// A client token: the first (init) or a later (response) one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientToken<'a> {
    /// NegTokenInit, GSS-wrapped or bare.
    Init(NegTokenInit<'a>),
    /// NegTokenResp.
    Resp(NegTokenResp<'a>),
}

/// Reads `[n] EXPLICIT OCTET STRING` if present.
fn optional_octets<'a>(r: &mut Reader<'a>, n: u8) -> Result<Option<&'a [u8]>, SpnegoError> {
    match r.read_optional(context(n))? {
        Some(e) => Ok(Some(
            asn1::read_single(e.content, asn1::TAG_OCTET_STRING)?.content,
        )),
        None => Ok(None),
    }
}

fn parse_mech_list(data: &[u8]) -> Result<(Vec<&[u8]>, &[u8]), SpnegoError> {
    let seq = asn1::read_single(data, asn1::TAG_SEQUENCE)?;
    let mut r = Reader::new(seq.content);
    let mut mechs = Vec::new();
    while !r.is_empty() {
        if mechs.len() == MAX_MECH_TYPES {
            return Err(SpnegoError::TooManyMechs);
        }
        mechs.push(r.read(asn1::TAG_OID)?.raw);
    }
    if mechs.is_empty() {
        return Err(SpnegoError::EmptyMechList);
    }
    Ok((mechs, seq.raw))
}

/// Parses the content of the `[0]` NegTokenInit choice.
fn parse_init(content: &[u8]) -> Result<NegTokenInit<'_>, SpnegoError> {
    let seq = asn1::read_single(content, asn1::TAG_SEQUENCE)?;
    let mut r = Reader::new(seq.content);
    let mech_field = r.read(context(0))?;
    let (mech_types, mech_list_der) = parse_mech_list(mech_field.content)?;
    // reqFlags: a BIT STRING, ignored (MS-SPNG 2.2.1 says senders omit it).
    if let Some(e) = r.read_optional(context(1))? {
        asn1::read_single(e.content, asn1::TAG_BIT_STRING)?;
    }
    let mech_token = optional_octets(&mut r, 2)?;
    // [3] is mechListMIC in RFC 4178 but negHints in NegTokenInit2: tell them apart by tag.
    let mut mech_list_mic = None;
    if let Some(e) = r.read_optional(context(3))? {
        let inner = asn1::read_single(e.content, e.content.first().copied().unwrap_or(0))?;
        if inner.tag == asn1::TAG_OCTET_STRING {
            mech_list_mic = Some(inner.content);
        } else if inner.tag != asn1::TAG_SEQUENCE {
            return Err(Asn1Error::UnexpectedTag {
                expected: asn1::TAG_OCTET_STRING,
                found: inner.tag,
            }
            .into());
        }
    }
    if let Some(mic) = optional_octets(&mut r, 4)? {
        mech_list_mic = Some(mic);
    }
    r.finish()?;
    Ok(NegTokenInit {
        mech_types,
        mech_list_der,
        mech_token,
        mech_list_mic,
    })
}

/// Parses the content of the `[1]` NegTokenResp choice.
fn parse_resp(content: &[u8]) -> Result<NegTokenResp<'_>, SpnegoError> {
    let seq = asn1::read_single(content, asn1::TAG_SEQUENCE)?;
    let mut r = Reader::new(seq.content);
    let neg_state = match r.read_optional(context(0))? {
        Some(e) => {
            let v = asn1::read_single(e.content, asn1::TAG_ENUMERATED)?;
            Some(NegState::from_value(asn1::enumerated_value(v.content)?)?)
        }
        None => None,
    };
    let supported_mech = match r.read_optional(context(1))? {
        Some(e) => Some(asn1::read_single(e.content, asn1::TAG_OID)?.raw),
        None => None,
    };
    let response_token = optional_octets(&mut r, 2)?;
    let mech_list_mic = optional_octets(&mut r, 3)?;
    r.finish()?;
    Ok(NegTokenResp {
        neg_state,
        supported_mech,
        response_token,
        mech_list_mic,
    })
}

/// Parses a client token: a GSS InitialContextToken wrapping a NegTokenInit, a bare
/// NegTokenInit, or a NegTokenResp.
pub fn parse_client_token(data: &[u8]) -> Result<ClientToken<'_>, SpnegoError> {
    let outer = asn1::read_single(data, data.first().copied().unwrap_or(0))?;
    match outer.tag {
        asn1::TAG_APPLICATION_0 => {
            let mut r = Reader::new(outer.content);
            if r.read(asn1::TAG_OID)?.raw != OID_SPNEGO {
                return Err(SpnegoError::NotSpnego);
            }
            let inner = r.read(context(0))?;
            r.finish()?;
            Ok(ClientToken::Init(parse_init(inner.content)?))
        }
        t if t == context(0) => Ok(ClientToken::Init(parse_init(outer.content)?)),
        t if t == context(1) => Ok(ClientToken::Resp(parse_resp(outer.content)?)),
        _ => Err(SpnegoError::UnknownChoice),
    }
}

/// Encodes a NegTokenResp (RFC 4178 section 4.2.2), wrapped in its `[1]` choice tag.
pub fn encode_resp(resp: &NegTokenResp<'_>) -> Vec<u8> {
    let mut fields = Vec::new();
    if let Some(s) = resp.neg_state {
        fields.extend(asn1::encode(
            context(0),
            &asn1::encode(asn1::TAG_ENUMERATED, &[s as u8]),
        ));
    }
    if let Some(m) = resp.supported_mech {
        fields.extend(asn1::encode(context(1), m));
    }
    if let Some(t) = resp.response_token {
        fields.extend(asn1::encode(
            context(2),
            &asn1::encode(asn1::TAG_OCTET_STRING, t),
        ));
    }
    if let Some(m) = resp.mech_list_mic {
        fields.extend(asn1::encode(
            context(3),
            &asn1::encode(asn1::TAG_OCTET_STRING, m),
        ));
    }
    asn1::encode(context(1), &asn1::encode(asn1::TAG_SEQUENCE, &fields))
}

/// The mechanisms the server advertises, in order of preference.
///
/// The Kerberos issue adds [`OID_MS_KRB5`] and [`OID_KRB5`] in front of NTLMSSP here.
pub const SERVER_MECHS: &[&[u8]] = &[OID_NTLMSSP];

/// The mechanisms advertised when a keytab is configured: MS Kerberos, Kerberos, NTLMSSP.
pub const SERVER_MECHS_KRB5: &[&[u8]] = &[OID_MS_KRB5, OID_KRB5, OID_NTLMSSP];

/// The GSS-API InitialContextToken (RFC 2743 3.1) wrapping the server's NegTokenInit2
/// (MS-SPNG 2.2.1) for the SMB2 NEGOTIATE response, offering NTLM only.
pub fn encode_negotiate_blob() -> Vec<u8> {
    encode_negotiate_blob_for(SERVER_MECHS)
}

/// The NEGOTIATE response's blob offering `mechs` in that order.
pub fn encode_negotiate_blob_for(mechs: &[&[u8]]) -> Vec<u8> {
    let mech_list = asn1::encode(asn1::TAG_SEQUENCE, &mechs.concat());
    let hint = asn1::encode(
        context(0),
        &asn1::encode(asn1::TAG_GENERAL_STRING, HINT_NAME),
    );
    let neg_hints = asn1::encode(asn1::TAG_SEQUENCE, &hint);
    let init2 = asn1::encode_parts(
        asn1::TAG_SEQUENCE,
        &[
            &asn1::encode(context(0), &mech_list),
            &asn1::encode(context(3), &neg_hints),
        ],
    );
    asn1::encode_parts(
        asn1::TAG_APPLICATION_0,
        &[OID_SPNEGO, &asn1::encode(context(0), &init2)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiate_blob_structure() {
        let blob = encode_negotiate_blob();
        // 60 L { OID spnego, a0 { 30 { a0 { 30 { OID ntlmssp } } a3 { 30 { a0 { 1b hint } } } } } }
        let mut expected = vec![0x60, 0x48, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
        expected.extend([0xa0, 0x3e, 0x30, 0x3c, 0xa0, 0x0e, 0x30, 0x0c]);
        expected.extend_from_slice(OID_NTLMSSP);
        expected.extend([0xa3, 0x2a, 0x30, 0x28, 0xa0, 0x26, 0x1b, 0x24]);
        expected.extend_from_slice(HINT_NAME);
        assert_eq!(blob, expected);
        // The server's own blob parses as a NegTokenInit2.
        match parse_client_token(&blob).unwrap() {
            ClientToken::Init(init) => {
                assert_eq!(init.mech_types, vec![OID_NTLMSSP]);
                assert!(init.mech_token.is_none());
                assert!(init.mech_list_mic.is_none());
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn resp_round_trip() {
        let resp = NegTokenResp {
            neg_state: Some(NegState::AcceptIncomplete),
            supported_mech: Some(OID_NTLMSSP),
            response_token: Some(b"token"),
            mech_list_mic: Some(&[1; 16]),
        };
        let enc = encode_resp(&resp);
        assert_eq!(parse_client_token(&enc).unwrap(), ClientToken::Resp(resp));
        // RFC 4178 4.2.2 shape of accept-completed alone: a1 07 30 05 a0 03 0a 01 00.
        let done = encode_resp(&NegTokenResp {
            neg_state: Some(NegState::AcceptCompleted),
            ..Default::default()
        });
        assert_eq!(done, [0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x00]);
    }

    #[test]
    fn rejects_bad_tokens() {
        assert!(parse_client_token(&[]).is_err());
        assert_eq!(
            parse_client_token(&[0x04, 0x00]),
            Err(SpnegoError::UnknownChoice)
        );
        // Kerberos OID instead of SPNEGO in the GSS header.
        let mut t = vec![0x60, (OID_KRB5.len() + 2) as u8];
        t.extend_from_slice(OID_KRB5);
        t.extend([0xa0, 0x00]);
        assert_eq!(parse_client_token(&t), Err(SpnegoError::NotSpnego));
        // Empty mech list.
        let t = [0xa0, 0x06, 0x30, 0x04, 0xa0, 0x02, 0x30, 0x00];
        assert_eq!(parse_client_token(&t), Err(SpnegoError::EmptyMechList));
        // Bad negState.
        let t = [0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x09];
        assert_eq!(parse_client_token(&t), Err(SpnegoError::BadNegState));
        // Every truncation of a valid token fails cleanly.
        let enc = encode_negotiate_blob();
        for n in 0..enc.len() {
            assert!(parse_client_token(&enc[..n]).is_err());
        }
    }
}
