//! A bounds-checked little-endian reader and the writer helpers every message codec uses.

use std::fmt;

/// What went wrong decoding a structure: the field and the kind of violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    /// The field or structure being read.
    pub what: &'static str,
    /// The kind of violation.
    pub kind: DecodeErrorKind,
}

/// Kinds of decode failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// Fewer bytes than the field needs.
    Truncated,
    /// An offset or length points outside the message.
    OutOfBounds,
    /// A value the specification does not allow.
    Invalid,
}

impl DecodeError {
    /// A truncation error for `what`.
    pub fn truncated(what: &'static str) -> Self {
        Self {
            what,
            kind: DecodeErrorKind::Truncated,
        }
    }
    /// An out-of-bounds offset/length error for `what`.
    pub fn bounds(what: &'static str) -> Self {
        Self {
            what,
            kind: DecodeErrorKind::OutOfBounds,
        }
    }
    /// An invalid-value error for `what`.
    pub fn invalid(what: &'static str) -> Self {
        Self {
            what,
            kind: DecodeErrorKind::Invalid,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:?}", self.what, self.kind)
    }
}

impl std::error::Error for DecodeError {}

/// A cursor over one message's bytes. Reads never panic; offsets given to [`Reader::at`] count
/// from the start of the message (the SMB2 header), as SMB offsets do.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// A reader positioned at `pos` within `buf`.
    pub fn at_pos(buf: &'a [u8], pos: usize) -> Self {
        Self {
            buf,
            pos: pos.min(buf.len()),
        }
    }

    /// Current position from the start of the message.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left after the position.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::truncated(what));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize, what: &'static str) -> Result<(), DecodeError> {
        self.take(n, what).map(|_| ())
    }

    /// Reads one byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }

    /// Reads a little-endian u16.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    /// Reads a little-endian u32.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a little-endian u64.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// Reads a 16-byte GUID as raw bytes.
    pub fn guid(&mut self, what: &'static str) -> Result<[u8; 16], DecodeError> {
        let b = self.take(16, what)?;
        let mut g = [0u8; 16];
        g.copy_from_slice(b);
        Ok(g)
    }

    /// The `len` bytes at `offset` from the start of the message. A zero length gives an empty
    /// slice whatever the offset.
    pub fn at(
        &self,
        offset: usize,
        len: usize,
        what: &'static str,
    ) -> Result<&'a [u8], DecodeError> {
        if len == 0 {
            return Ok(&[]);
        }
        let end = offset.checked_add(len).ok_or(DecodeError::bounds(what))?;
        self.buf.get(offset..end).ok_or(DecodeError::bounds(what))
    }

    /// The whole message.
    pub fn buf(&self) -> &'a [u8] {
        self.buf
    }
}

/// Little-endian append helpers for encoders.
pub trait WriteLe {
    /// Appends a u16.
    fn put_u16(&mut self, v: u16);
    /// Appends a u32.
    fn put_u32(&mut self, v: u32);
    /// Appends a u64.
    fn put_u64(&mut self, v: u64);
    /// Overwrites a u16 at `pos` (a placeholder written earlier).
    fn patch_u16(&mut self, pos: usize, v: u16);
    /// Overwrites a u32 at `pos`.
    fn patch_u32(&mut self, pos: usize, v: u32);
    /// Pads with zeros to a multiple of `align` bytes.
    fn pad_to(&mut self, align: usize);
}

impl WriteLe for Vec<u8> {
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn patch_u16(&mut self, pos: usize, v: u16) {
        self[pos..pos + 2].copy_from_slice(&v.to_le_bytes());
    }
    fn patch_u32(&mut self, pos: usize, v: u32) {
        self[pos..pos + 4].copy_from_slice(&v.to_le_bytes());
    }
    fn pad_to(&mut self, align: usize) {
        while !self.len().is_multiple_of(align) {
            self.push(0);
        }
    }
}

/// Decodes UTF-16LE text; odd lengths and unpaired surrogates are errors.
pub fn utf16le(b: &[u8], what: &'static str) -> Result<String, DecodeError> {
    if !b.len().is_multiple_of(2) {
        return Err(DecodeError::invalid(what));
    }
    let units = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| DecodeError::invalid(what))
}

/// Appends `s` as UTF-16LE.
pub fn put_utf16le(out: &mut Vec<u8>, s: &str) {
    for u in s.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
}

/// Length of `s` in UTF-16LE bytes.
pub fn utf16le_len(s: &str) -> usize {
    s.encode_utf16().count() * 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_never_panics_on_short_input() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u16("a").unwrap(), 0x0201);
        assert_eq!(r.u16("b").unwrap_err().kind, DecodeErrorKind::Truncated);
        assert!(r.at(usize::MAX, 2, "c").is_err());
        assert!(r.at(2, 2, "d").is_err());
        assert_eq!(r.at(99, 0, "e").unwrap(), &[] as &[u8]);
    }

    #[test]
    fn utf16_round_trip_and_errors() {
        let mut v = Vec::new();
        put_utf16le(&mut v, "a\u{10000}");
        assert_eq!(utf16le(&v, "x").unwrap(), "a\u{10000}");
        assert!(utf16le(&[0x41], "x").is_err());
        assert!(utf16le(&[0x00, 0xD8], "x").is_err());
    }
}
