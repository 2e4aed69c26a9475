//! A bounded little-endian NDR reader (MS-RPCE 2.2.6 type serialization version 1) for the
//! PAC's KERB_VALIDATION_INFO. Alignment is relative to the start of the serialized data.

use super::PacError;

/// Reads NDR primitives, aligned, never past the end.
pub struct Ndr<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Ndr<'a> {
    /// A reader over the bytes after the type serialization headers.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// Skips to a multiple of `n`.
    pub fn align(&mut self, n: usize) -> Result<(), PacError> {
        let rem = self.pos % n;
        if rem != 0 {
            self.take(n - rem, "alignment")?;
        }
        Ok(())
    }

    /// Takes `n` raw bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], PacError> {
        let end = self.pos.checked_add(n).ok_or(PacError::Truncated(what))?;
        let b = self
            .data
            .get(self.pos..end)
            .ok_or(PacError::Truncated(what))?;
        self.pos = end;
        Ok(b)
    }

    /// An aligned u16.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, PacError> {
        self.align(2)?;
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    /// An aligned u32.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, PacError> {
        self.align(4)?;
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A count that must fit in what is left, `elem` bytes per element.
    pub fn count(&mut self, elem: usize, what: &'static str) -> Result<usize, PacError> {
        let n = self.u32(what)? as usize;
        let left = self.data.len().saturating_sub(self.pos);
        if n.checked_mul(elem).is_none_or(|t| t > left) {
            return Err(PacError::BadCount(what));
        }
        Ok(n)
    }

    /// A conformant varying UTF-16 string referent (max, offset, actual, then the characters).
    pub fn string(&mut self) -> Result<String, PacError> {
        let max = self.u32("string max count")?;
        let offset = self.u32("string offset")?;
        let actual = self.count(2, "string length")?;
        if offset != 0 || actual as u64 > u64::from(max) {
            return Err(PacError::BadCount("string length"));
        }
        let b = self.take(actual * 2, "string")?;
        let units: Vec<u16> = b
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        Ok(String::from_utf16_lossy(&units))
    }

    /// A conformant RPC_SID referent (MaxCount, then the SID).
    pub fn sid(&mut self) -> Result<acl::Sid, PacError> {
        let n = self.count(4, "SID sub-authority count")?;
        if n > 15 {
            return Err(PacError::BadCount("SID sub-authority count"));
        }
        let b = self.take(8 + 4 * n, "SID")?;
        if usize::from(b[1]) != n {
            return Err(PacError::BadSid);
        }
        acl::Sid::decode(b)
            .map(|(s, _)| s)
            .map_err(|_| PacError::BadSid)
    }
}
