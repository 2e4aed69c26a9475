//! UTF-16LE conversion for names on the wire.

use super::FsccError;

/// Appends `s` as UTF-16LE (no terminator).
pub fn utf16le_encode(s: &str, out: &mut Vec<u8>) {
    out.reserve(s.len().saturating_mul(2));
    for unit in s.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
}

/// The number of bytes `s` takes as UTF-16LE.
pub(super) fn utf16le_len(s: &str) -> usize {
    s.encode_utf16().count().saturating_mul(2)
}

/// Decodes UTF-16LE bytes; an odd length or an unpaired surrogate is
/// [`FsccError::InvalidParameter`].
pub fn utf16le_decode(b: &[u8]) -> Result<String, FsccError> {
    if !b.len().is_multiple_of(2) {
        return Err(FsccError::InvalidParameter);
    }
    let units = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.map_err(|_| FsccError::InvalidParameter))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_surrogate_pair() {
        let s = "a\u{e9}\u{1F600}";
        let mut out = Vec::new();
        utf16le_encode(s, &mut out);
        assert_eq!(out, [0x61, 0x00, 0xE9, 0x00, 0x3D, 0xD8, 0x00, 0xDE]);
        assert_eq!(utf16le_len(s), 8);
        assert_eq!(utf16le_decode(&out).unwrap(), s);
    }

    #[test]
    fn errors() {
        assert_eq!(utf16le_decode(&[0x61]), Err(FsccError::InvalidParameter));
        // Lone high surrogate.
        assert_eq!(
            utf16le_decode(&[0x3D, 0xD8]),
            Err(FsccError::InvalidParameter)
        );
        // Lone low surrogate followed by a letter.
        assert_eq!(
            utf16le_decode(&[0x00, 0xDE, 0x61, 0x00]),
            Err(FsccError::InvalidParameter)
        );
        assert_eq!(utf16le_decode(&[]).unwrap(), "");
    }
}
