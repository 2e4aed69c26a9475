//! UTF-16LE conversion for names on the wire.

use super::FsccError;

/// Appends `s` as UTF-16LE (no terminator).
pub fn utf16le_encode(s: &str, out: &mut Vec<u8>) {
    if s.is_ascii() {
        // The common case: each byte becomes one code unit, high byte 0.
        let start = out.len();
        out.resize(start + s.len() * 2, 0);
        for (unit, b) in out[start..].chunks_exact_mut(2).zip(s.bytes()) {
            unit[0] = b;
        }
        return;
    }
    out.reserve(s.len().saturating_mul(2));
    for unit in s.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
}

/// The number of bytes `s` takes as UTF-16LE.
pub(super) fn utf16le_len(s: &str) -> usize {
    if s.is_ascii() {
        return s.len().saturating_mul(2);
    }
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
    fn ascii_fast_path_appends() {
        let mut out = vec![0xFF];
        utf16le_encode("Ab.1", &mut out);
        assert_eq!(out, [0xFF, b'A', 0, b'b', 0, b'.', 0, b'1', 0]);
        assert_eq!(utf16le_len("Ab.1"), 8);
        assert_eq!(utf16le_decode(&out[1..]).unwrap(), "Ab.1");
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
