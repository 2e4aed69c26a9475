//! The Kerberos GSS-API mechanism's framing and tokens (RFC 4121, RFC 1964 section 1.1):
//! InitialContextToken with TOK_ID, the authenticator checksum 0x8003, and MIC tokens.

use super::crypto::{Key, ct_eq};
use crate::asn1::{self, Reader};
use crate::spnego::tokens::{OID_KRB5, OID_MS_KRB5};

/// TOK_ID of an AP-REQ.
pub const TOK_AP_REQ: [u8; 2] = [0x01, 0x00];
/// TOK_ID of an AP-REP.
pub const TOK_AP_REP: [u8; 2] = [0x02, 0x00];
/// TOK_ID of a KRB-ERROR.
pub const TOK_KRB_ERROR: [u8; 2] = [0x03, 0x00];
/// The authenticator checksum type carrying GSS flags (RFC 4121 4.1.1).
pub const CKSUM_GSS: i32 = 0x8003;
/// GSS_C_DELEG_FLAG.
pub const GSS_DELEG: u32 = 1;
/// GSS_C_MUTUAL_FLAG.
pub const GSS_MUTUAL: u32 = 2;
/// Largest delegated credential accepted in the checksum.
pub const MAX_DELEG_LEN: usize = 64 * 1024;
/// Key usage of an initiator's MIC token.
pub const USAGE_INITIATOR_SIGN: u32 = 25;
/// Key usage of an acceptor's MIC token.
pub const USAGE_ACCEPTOR_SIGN: u32 = 23;

/// Why a GSS token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GssError {
    /// DER error in the framing.
    Asn1(asn1::Asn1Error),
    /// The mechanism OID is not Kerberos.
    NotKerberos,
    /// The TOK_ID is not the expected one.
    BadTokenId,
    /// The 0x8003 checksum is malformed.
    BadChecksum(&'static str),
    /// A MIC token is malformed or does not verify.
    BadMic(&'static str),
}

impl From<asn1::Asn1Error> for GssError {
    fn from(e: asn1::Asn1Error) -> Self {
        Self::Asn1(e)
    }
}

/// Splits an InitialContextToken into its Kerberos OID (DER) and the message after TOK_ID.
pub fn unwrap_initial(data: &[u8], tok_id: [u8; 2]) -> Result<(&[u8], &[u8]), GssError> {
    let outer = asn1::read_single(data, asn1::TAG_APPLICATION_0)?;
    let mut r = Reader::new(outer.content);
    let oid = r.read(asn1::TAG_OID)?.raw;
    if oid != OID_KRB5 && oid != OID_MS_KRB5 {
        return Err(GssError::NotKerberos);
    }
    let rest = &outer.content[oid.len()..];
    match rest {
        [a, b, msg @ ..] if [*a, *b] == tok_id => Ok((oid, msg)),
        _ => Err(GssError::BadTokenId),
    }
}

/// Wraps a Kerberos message in an InitialContextToken with the krb5 OID and `tok_id`.
pub fn wrap_initial(tok_id: [u8; 2], msg: &[u8]) -> Vec<u8> {
    asn1::encode_parts(asn1::TAG_APPLICATION_0, &[OID_KRB5, &tok_id, msg])
}

/// The authenticator checksum's content (RFC 4121 4.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GssChecksum {
    /// Bnd: the channel bindings hash (not checked; SMB has none).
    pub bindings: [u8; 16],
    /// GSS flags.
    pub flags: u32,
    /// Whether a delegated credential was attached.
    pub delegated: bool,
}

/// Parses the 0x8003 checksum bytes.
pub fn parse_checksum(b: &[u8]) -> Result<GssChecksum, GssError> {
    let lgth = b.get(0..4).ok_or(GssError::BadChecksum("truncated"))?;
    if u32::from_le_bytes([lgth[0], lgth[1], lgth[2], lgth[3]]) != 16 {
        return Err(GssError::BadChecksum("Lgth is not 16"));
    }
    let mut bindings = [0u8; 16];
    bindings.copy_from_slice(b.get(4..20).ok_or(GssError::BadChecksum("truncated"))?);
    let f = b.get(20..24).ok_or(GssError::BadChecksum("truncated"))?;
    let flags = u32::from_le_bytes([f[0], f[1], f[2], f[3]]);
    let mut delegated = false;
    if flags & GSS_DELEG != 0 && b.len() > 24 {
        let opt = b
            .get(24..28)
            .ok_or(GssError::BadChecksum("delegation truncated"))?;
        let dlg_opt = u16::from_le_bytes([opt[0], opt[1]]);
        let len = usize::from(u16::from_le_bytes([opt[2], opt[3]]));
        if dlg_opt != 1 || len > MAX_DELEG_LEN || b.len() < 28 + len {
            return Err(GssError::BadChecksum("delegation invalid"));
        }
        delegated = true;
    }
    Ok(GssChecksum {
        bindings,
        flags,
        delegated,
    })
}

/// Builds a 0x8003 checksum (for the tests' client).
pub fn encode_checksum(flags: u32) -> Vec<u8> {
    let mut v = 16u32.to_le_bytes().to_vec();
    v.extend_from_slice(&[0; 16]);
    v.extend_from_slice(&flags.to_le_bytes());
    v
}

/// MIC token flag: sent by the acceptor.
pub const MIC_SENT_BY_ACCEPTOR: u8 = 0x01;
/// MIC token flag: the acceptor subkey was used.
pub const MIC_ACCEPTOR_SUBKEY: u8 = 0x04;

/// Builds an RFC 4121 4.2.6.1 MIC token over `message`.
pub fn make_mic(key: &Key, usage: u32, flags: u8, seq: u64, message: &[u8]) -> Vec<u8> {
    let mut header = vec![0x04, 0x04, flags, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
    header.extend_from_slice(&seq.to_be_bytes());
    let mut data = message.to_vec();
    data.extend_from_slice(&header);
    // The AES checksum cannot fail with a valid key; an empty checksum would fail to verify.
    let ck = key.checksum(usage, &data).unwrap_or_default();
    header.extend_from_slice(&ck);
    header
}

/// Verifies an initiator's MIC token over `message`.
pub fn verify_mic(key: &Key, message: &[u8], token: &[u8]) -> Result<(), GssError> {
    if token.len() < 16 || token[..2] != [0x04, 0x04] || token[3..8] != [0xFF; 5] {
        return Err(GssError::BadMic("malformed MIC token"));
    }
    if token[2] & MIC_SENT_BY_ACCEPTOR != 0 {
        return Err(GssError::BadMic("MIC token sent by the acceptor"));
    }
    let (header, ck) = token.split_at(16);
    let mut data = message.to_vec();
    data.extend_from_slice(header);
    let mine = key
        .checksum(USAGE_INITIATOR_SIGN, &data)
        .map_err(|_| GssError::BadMic("checksum failed"))?;
    if ct_eq(&mine, ck) {
        Ok(())
    } else {
        Err(GssError::BadMic("MIC does not verify"))
    }
}
