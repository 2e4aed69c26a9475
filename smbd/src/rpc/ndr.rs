//! NDR 2.0 (C706 chapter 14) encoding and decoding of the few constructs srvsvc and wkssvc use:
//! 32-bit integers, unique pointers with referent ids, conformant varying UTF-16 strings and
//! conformant arrays. Little-endian only; alignment is relative to the start of the stub.

/// A violation found while decoding NDR stub data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NdrError {
    /// The stub ended before a value of `needed` bytes at `offset`.
    Truncated {
        /// Offset in the stub where the value starts.
        offset: usize,
        /// Bytes the value needs.
        needed: usize,
    },
    /// A conformant varying string whose offset/actual count do not fit its maximum count.
    BadStringBounds {
        /// The maximum count (conformance).
        max_count: u32,
        /// The offset (variance).
        offset: u32,
        /// The actual count (variance).
        actual_count: u32,
    },
    /// A count larger than the bytes left in the stub (hostile length).
    CountTooLarge {
        /// The count read from the wire.
        count: u32,
    },
    /// A string that is not valid UTF-16.
    BadUtf16,
    /// A union discriminant that did not match the value it must repeat.
    SwitchMismatch {
        /// The level given by the enclosing structure.
        level: u32,
        /// The discriminant found on the wire.
        switch: u32,
    },
}

/// Reads NDR 2.0 little-endian data from a stub, never past its end.
#[derive(Debug)]
pub struct NdrReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> NdrReader<'a> {
    /// A reader at the start of `stub`.
    pub fn new(stub: &'a [u8]) -> Self {
        Self { buf: stub, pos: 0 }
    }

    /// Current offset from the start of the stub.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Skips padding so the position is a multiple of `n` (a power of two).
    pub fn align(&mut self, n: usize) -> Result<(), NdrError> {
        let pad = (n - self.pos % n) % n;
        self.take(pad).map(|_| ())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], NdrError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        match end {
            Some(end) => {
                let s = &self.buf[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(NdrError::Truncated {
                offset: self.pos,
                needed: n,
            }),
        }
    }

    /// Reads an aligned little-endian u32.
    pub fn u32(&mut self) -> Result<u32, NdrError> {
        self.align(4)?;
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads an aligned little-endian u16.
    pub fn u16(&mut self) -> Result<u16, NdrError> {
        self.align(2)?;
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    /// Reads `n` raw bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], NdrError> {
        self.take(n)
    }

    /// Reads a pointer's referent id; `None` for a NULL pointer.
    pub fn pointer(&mut self) -> Result<Option<u32>, NdrError> {
        let id = self.u32()?;
        Ok((id != 0).then_some(id))
    }

    /// Reads a `[string] wchar_t*` pointee: max count, offset, actual count, then UTF-16LE
    /// units. A trailing NUL is stripped. Counts are checked against the stub before decoding.
    pub fn wide_string(&mut self) -> Result<String, NdrError> {
        let max_count = self.u32()?;
        let offset = self.u32()?;
        let actual_count = self.u32()?;
        let fits = offset
            .checked_add(actual_count)
            .is_some_and(|end| end <= max_count);
        if !fits {
            return Err(NdrError::BadStringBounds {
                max_count,
                offset,
                actual_count,
            });
        }
        let byte_len = (actual_count as usize)
            .checked_mul(2)
            .filter(|&n| n <= self.remaining())
            .ok_or(NdrError::CountTooLarge {
                count: actual_count,
            })?;
        let raw = self.take(byte_len)?;
        let mut units: Vec<u16> = raw
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        if units.last() == Some(&0) {
            units.pop();
        }
        String::from_utf16(&units).map_err(|_| NdrError::BadUtf16)
    }

    /// Reads a conformant array's max count and checks that `count * min_elem_size` bytes
    /// can still follow, so hostile counts fail before anything is allocated or looped over.
    pub fn array_count(&mut self, min_elem_size: usize) -> Result<u32, NdrError> {
        let count = self.u32()?;
        let fits = (count as usize)
            .checked_mul(min_elem_size)
            .is_some_and(|n| n <= self.remaining());
        if fits {
            Ok(count)
        } else {
            Err(NdrError::CountTooLarge { count })
        }
    }
}

/// Builds NDR 2.0 little-endian stub data; hands out unique pointer referent ids.
#[derive(Debug)]
pub struct NdrWriter {
    buf: Vec<u8>,
    next_referent: u32,
}

impl Default for NdrWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl NdrWriter {
    /// An empty stub; referent ids start at 0x00020000 like the Microsoft runtime's.
    pub fn new() -> Self {
        Self {
            buf: Vec::new(),
            next_referent: 0x0002_0000,
        }
    }

    /// Pads with zeros to a multiple of `n` (a power of two) from the start of the stub.
    pub fn align(&mut self, n: usize) {
        let pad = (n - self.buf.len() % n) % n;
        self.buf.resize(self.buf.len() + pad, 0);
    }

    /// Writes an aligned little-endian u32.
    pub fn u32(&mut self, v: u32) {
        self.align(4);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// Writes a non-NULL pointer's fresh referent id.
    pub fn referent(&mut self) {
        let id = self.next_referent;
        self.next_referent = self.next_referent.wrapping_add(4);
        self.u32(id);
    }

    /// Writes a referent id if `present`, else a NULL pointer.
    pub fn pointer(&mut self, present: bool) {
        if present {
            self.referent();
        } else {
            self.u32(0);
        }
    }

    /// Writes a `[string] wchar_t*` pointee: counts include the terminating NUL.
    pub fn wide_string(&mut self, s: &str) {
        let units: Vec<u16> = s.encode_utf16().chain(std::iter::once(0)).collect();
        let n = u32::try_from(units.len()).unwrap_or(u32::MAX);
        self.u32(n);
        self.u32(0);
        self.u32(n);
        for u in units {
            self.buf.extend_from_slice(&u.to_le_bytes());
        }
    }

    /// The finished stub.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// One member of a structure being marshalled by [`NdrWriter::structs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field<'a> {
    /// A 32-bit integer.
    Word(u32),
    /// A non-NULL `[string] wchar_t*`; the string is deferred.
    Str(&'a str),
    /// A NULL pointer.
    Null,
}

impl NdrWriter {
    /// Writes a run of structures (a conformant array's elements, or one pointee) the way NDR
    /// orders embedded pointers: every structure's members first, then the deferred strings
    /// in member order.
    pub fn structs(&mut self, elems: &[Vec<Field<'_>>]) {
        for e in elems {
            for f in e {
                match f {
                    Field::Word(v) => self.u32(*v),
                    Field::Str(_) => self.referent(),
                    Field::Null => self.u32(0),
                }
            }
        }
        for e in elems {
            for f in e {
                if let Field::Str(s) = f {
                    self.wide_string(s);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_round_trip_and_layout() {
        let mut w = NdrWriter::new();
        w.wide_string("IPC$");
        w.u32(7);
        let b = w.into_bytes();
        // 5 units incl. NUL: max 5, offset 0, actual 5, 10 bytes, 2 bytes pad, then 7.
        assert_eq!(&b[..12], &[5, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0]);
        assert_eq!(&b[12..22], b"I\0P\0C\0$\0\0\0");
        assert_eq!(&b[22..24], &[0, 0]);
        assert_eq!(&b[24..28], &[7, 0, 0, 0]);
        let mut r = NdrReader::new(&b);
        assert_eq!(r.wide_string().unwrap(), "IPC$");
        assert_eq!(r.u32().unwrap(), 7);
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn hostile_counts_error_before_allocating() {
        // max 0xffffffff, offset 0, actual 0xffffffff: far more than the stub holds.
        let b = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(
            NdrReader::new(&b).wide_string(),
            Err(NdrError::CountTooLarge { count: u32::MAX })
        );
        // actual > max.
        let b = [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0];
        assert!(matches!(
            NdrReader::new(&b).wide_string(),
            Err(NdrError::BadStringBounds { .. })
        ));
        // offset + actual overflows u32.
        let b = [0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];
        assert!(matches!(
            NdrReader::new(&b).wide_string(),
            Err(NdrError::BadStringBounds { .. })
        ));
        let b = [0x00, 0x00, 0x00, 0x40];
        assert_eq!(
            NdrReader::new(&b).array_count(4),
            Err(NdrError::CountTooLarge { count: 0x4000_0000 })
        );
    }

    #[test]
    fn truncation_is_reported() {
        let mut r = NdrReader::new(&[1, 2, 3]);
        assert_eq!(
            r.u32(),
            Err(NdrError::Truncated {
                offset: 0,
                needed: 4
            })
        );
        let mut r = NdrReader::new(&[1, 0, 0, 0, 9]);
        r.u32().unwrap();
        assert!(r.u32().is_err());
    }

    #[test]
    fn referents_are_unique_and_nonzero() {
        let mut w = NdrWriter::new();
        w.pointer(true);
        w.pointer(false);
        w.pointer(true);
        let b = w.into_bytes();
        let mut r = NdrReader::new(&b);
        let a = r.pointer().unwrap();
        assert_eq!(r.pointer().unwrap(), None);
        let c = r.pointer().unwrap();
        assert!(a.is_some() && c.is_some() && a != c);
    }
}
