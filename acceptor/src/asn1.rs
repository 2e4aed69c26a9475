//! A small DER reader and writer (ITU-T X.690) for the SPNEGO tokens.
//!
//! The reader never panics and never allocates: it hands out sub-slices of the input after
//! checking every length against what is left. Only single-byte tags (tag numbers below 31) and
//! definite lengths of at most four length octets are accepted, which covers every structure
//! SPNEGO uses. Nesting is bounded by the callers, which decode a fixed structure rather than
//! recursing over arbitrary input.

/// Why a DER element could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asn1Error {
    /// The input ended before the tag or length octets were complete.
    TruncatedHeader,
    /// The length announces more content than the input holds.
    TruncatedContent,
    /// A high tag number form (tag number 31 or more) was used.
    HighTagNumber,
    /// The indefinite length form (0x80) was used; DER forbids it.
    IndefiniteLength,
    /// The long length form used more than four octets or was not minimal.
    BadLengthEncoding,
    /// An element other than the one the structure requires was found.
    UnexpectedTag {
        /// The tag the structure requires.
        expected: u8,
        /// The tag found.
        found: u8,
    },
    /// Bytes remained after the last element of a structure.
    TrailingData,
    /// An ENUMERATED or INTEGER was empty or too long for the field.
    BadInteger,
}

impl Asn1Error {
    /// A fixed description of the violation, for [`crate::AuthError`].
    pub fn describe(self) -> &'static str {
        match self {
            Self::TruncatedHeader => "DER element header truncated",
            Self::TruncatedContent => "DER element content truncated",
            Self::HighTagNumber => "DER high tag number form not supported",
            Self::IndefiniteLength => "DER indefinite length not allowed",
            Self::BadLengthEncoding => "DER length encoding invalid",
            Self::UnexpectedTag { .. } => "DER element has an unexpected tag",
            Self::TrailingData => "DER structure has trailing data",
            Self::BadInteger => "DER integer or enumerated value invalid",
        }
    }
}

/// DER tag of a SEQUENCE (constructed).
pub const TAG_SEQUENCE: u8 = 0x30;
/// DER tag of an OBJECT IDENTIFIER.
pub const TAG_OID: u8 = 0x06;
/// DER tag of an OCTET STRING.
pub const TAG_OCTET_STRING: u8 = 0x04;
/// DER tag of an ENUMERATED.
pub const TAG_ENUMERATED: u8 = 0x0A;
/// DER tag of a BIT STRING.
pub const TAG_BIT_STRING: u8 = 0x03;
/// DER tag of a GeneralString.
pub const TAG_GENERAL_STRING: u8 = 0x1B;
/// DER tag of `[APPLICATION 0]` constructed, the GSS-API InitialContextToken.
pub const TAG_APPLICATION_0: u8 = 0x60;

/// DER tag of an INTEGER.
pub const TAG_INTEGER: u8 = 0x02;
/// DER tag of a GeneralizedTime.
pub const TAG_GENERALIZED_TIME: u8 = 0x18;

/// The tag of a constructed application element `[APPLICATION n]` (n below 31).
pub const fn application(n: u8) -> u8 {
    0x60 | (n & 0x1F)
}

/// Decodes the content of an INTEGER that fits in an `i64`.
pub fn integer_value(content: &[u8]) -> Result<i64, Asn1Error> {
    if content.is_empty() || content.len() > 8 {
        return Err(Asn1Error::BadInteger);
    }
    let first = content[0];
    let mut v: i64 = if first & 0x80 != 0 { -1 } else { 0 };
    for &b in content {
        v = (v << 8) | i64::from(b);
    }
    Ok(v)
}

/// Encodes an INTEGER element in minimal two's complement.
pub fn encode_integer(v: i64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0 && next & 0x80 == 0) || (b == 0xFF && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    encode(TAG_INTEGER, &bytes[start..])
}

/// The tag of a constructed context-specific element `[n]` (n below 31).
pub const fn context(n: u8) -> u8 {
    0xA0 | (n & 0x1F)
}

/// One element: its tag, its content octets and the whole encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element<'a> {
    /// The identifier octet.
    pub tag: u8,
    /// The content octets.
    pub content: &'a [u8],
    /// The complete encoding (tag, length and content).
    pub raw: &'a [u8],
}

/// Reads consecutive DER elements from a byte slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { rest: data }
    }

    /// Whether all input has been consumed.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The tag of the next element, if any, without consuming it.
    pub fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// Reads the next element of any tag.
    pub fn read_any(&mut self) -> Result<Element<'a>, Asn1Error> {
        let data = self.rest;
        let (&tag, after_tag) = data.split_first().ok_or(Asn1Error::TruncatedHeader)?;
        if tag & 0x1F == 0x1F {
            return Err(Asn1Error::HighTagNumber);
        }
        let (&first, after_len0) = after_tag.split_first().ok_or(Asn1Error::TruncatedHeader)?;
        let (len, body) = if first < 0x80 {
            (usize::from(first), after_len0)
        } else if first == 0x80 {
            return Err(Asn1Error::IndefiniteLength);
        } else {
            let n = usize::from(first & 0x7F);
            if n > 4 {
                return Err(Asn1Error::BadLengthEncoding);
            }
            let len_octets = after_len0.get(..n).ok_or(Asn1Error::TruncatedHeader)?;
            if len_octets.first() == Some(&0) {
                return Err(Asn1Error::BadLengthEncoding);
            }
            let len = len_octets
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            if len < 0x80 {
                return Err(Asn1Error::BadLengthEncoding);
            }
            (len, after_len0.get(n..).ok_or(Asn1Error::TruncatedHeader)?)
        };
        let content = body.get(..len).ok_or(Asn1Error::TruncatedContent)?;
        let header_len = data.len() - body.len();
        let total = header_len + len;
        let raw = data.get(..total).ok_or(Asn1Error::TruncatedContent)?;
        self.rest = data.get(total..).unwrap_or(&[]);
        Ok(Element { tag, content, raw })
    }

    /// Reads the next element and checks its tag.
    pub fn read(&mut self, tag: u8) -> Result<Element<'a>, Asn1Error> {
        let found = self.peek_tag().ok_or(Asn1Error::TruncatedHeader)?;
        if found != tag {
            return Err(Asn1Error::UnexpectedTag {
                expected: tag,
                found,
            });
        }
        self.read_any()
    }

    /// Reads the next element if it has `tag`, else leaves the input untouched.
    pub fn read_optional(&mut self, tag: u8) -> Result<Option<Element<'a>>, Asn1Error> {
        if self.peek_tag() == Some(tag) {
            self.read_any().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fails unless all input has been consumed.
    pub fn finish(&self) -> Result<(), Asn1Error> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Asn1Error::TrailingData)
        }
    }
}

/// Reads exactly one element with `tag` that fills `data` completely.
pub fn read_single(data: &[u8], tag: u8) -> Result<Element<'_>, Asn1Error> {
    let mut r = Reader::new(data);
    let e = r.read(tag)?;
    r.finish()?;
    Ok(e)
}

/// Decodes the content of an ENUMERATED into a small non-negative value.
pub fn enumerated_value(content: &[u8]) -> Result<u8, Asn1Error> {
    match content {
        [v] if *v < 0x80 => Ok(*v),
        [0, v] if *v >= 0x80 => Ok(*v),
        _ => Err(Asn1Error::BadInteger),
    }
}

/// Appends a DER length.
fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Encodes one element with the given tag and content.
pub fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_length(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// Encodes an element whose content is the concatenation of `parts`.
pub fn encode_parts(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    encode(tag, &parts.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_short_and_long_lengths() {
        for len in [0usize, 1, 127, 128, 255, 256, 70_000] {
            let content = vec![0x5A; len];
            let enc = encode(TAG_OCTET_STRING, &content);
            let e = read_single(&enc, TAG_OCTET_STRING).unwrap();
            assert_eq!(e.content.len(), len);
            assert_eq!(e.raw, &enc[..]);
        }
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(Reader::new(&[]).read_any(), Err(Asn1Error::TruncatedHeader));
        assert_eq!(
            Reader::new(&[0x04]).read_any(),
            Err(Asn1Error::TruncatedHeader)
        );
        assert_eq!(
            Reader::new(&[0x04, 0x80]).read_any(),
            Err(Asn1Error::IndefiniteLength)
        );
        assert_eq!(
            Reader::new(&[0x04, 0x85, 1, 1, 1, 1, 1]).read_any(),
            Err(Asn1Error::BadLengthEncoding)
        );
        assert_eq!(
            Reader::new(&[0x04, 0x81, 0x05]).read_any(),
            Err(Asn1Error::BadLengthEncoding)
        );
        assert_eq!(
            Reader::new(&[0x04, 0x82, 0x01]).read_any(),
            Err(Asn1Error::TruncatedHeader)
        );
        assert_eq!(
            Reader::new(&[0x04, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]).read_any(),
            Err(Asn1Error::TruncatedContent)
        );
        assert_eq!(
            Reader::new(&[0x04, 0x03, 1]).read_any(),
            Err(Asn1Error::TruncatedContent)
        );
        assert_eq!(
            Reader::new(&[0x1F, 0x01, 0]).read_any(),
            Err(Asn1Error::HighTagNumber)
        );
        assert_eq!(
            read_single(&[0x04, 0x00, 0x00], TAG_OCTET_STRING),
            Err(Asn1Error::TrailingData)
        );
        assert_eq!(
            read_single(&[0x06, 0x00], TAG_OCTET_STRING),
            Err(Asn1Error::UnexpectedTag {
                expected: 0x04,
                found: 0x06
            })
        );
    }

    #[test]
    fn enumerated_values() {
        assert_eq!(enumerated_value(&[1]), Ok(1));
        assert_eq!(enumerated_value(&[0, 0x80]), Ok(0x80));
        assert!(enumerated_value(&[]).is_err());
        assert!(enumerated_value(&[1, 2, 3]).is_err());
    }
}

#[cfg(test)]
mod integer_tests {
    use super::*;

    #[test]
    fn integers_round_trip() {
        for v in [
            0i64,
            1,
            127,
            128,
            255,
            256,
            -1,
            -128,
            -129,
            -138,
            0x7FFF_FFFF,
            0xFFFF_FFFF,
        ] {
            let enc = encode_integer(v);
            let e = read_single(&enc, TAG_INTEGER).unwrap();
            assert_eq!(integer_value(e.content).unwrap(), v);
        }
        assert_eq!(encode_integer(128), [2, 2, 0, 0x80]);
        assert_eq!(encode_integer(-138), [2, 2, 0xFF, 0x76]);
        assert!(integer_value(&[]).is_err());
    }
}
