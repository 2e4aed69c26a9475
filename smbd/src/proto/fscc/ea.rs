//! Extended attribute lists on the wire (MS-FSCC 2.4.15 FILE_FULL_EA_INFORMATION, 2.4.15.1
//! FILE_GET_EA_INFORMATION): the decoder of the lists SET_INFO and the ExtA create context
//! carry, the decoder of the names a QUERY_INFO asks for, and the writer of its answer.
//!
//! Every length is checked against the buffer before anything is copied out of it, so no
//! allocation is larger than the bytes received.

use super::FsccError;
use super::wire::{get_u8, get_u32, patch_u32, put_u8, put_u16, put_u32};
use vfs::Ea;
use vfs::ea::FILE_NEED_EA;

/// NextEntryOffset, Flags, EaNameLength, EaValueLength: the fixed part of a
/// FILE_FULL_EA_INFORMATION entry.
const FULL_FIXED: usize = 8;
/// NextEntryOffset, EaNameLength: the fixed part of a FILE_GET_EA_INFORMATION entry.
const GET_FIXED: usize = 5;
/// Characters an EA name may not hold besides the control characters (MS-FSCC 2.4.15).
const ILLEGAL: &[u8] = b"\"*+,/:;<=>?[\\]|";

/// Whether `name` is a well-formed EA name (MS-FSCC 2.4.15): 1 to 255 8-bit characters, none a
/// control character or one of `"*+,/:;<=>?[\]|`.
pub fn is_valid_ea_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.iter().all(|&c| c >= 0x20 && !ILLEGAL.contains(&c))
}

/// Walks a chain of entries: `entry(at, rest)` checks the entry at `at` (with `rest` the bytes
/// from there to the end) and returns its length; a NextEntryOffset must be 4-byte aligned,
/// cover the entry and stay inside the buffer.
fn walk(
    buf: &[u8],
    mut entry: impl FnMut(&[u8]) -> Result<usize, FsccError>,
) -> Result<(), FsccError> {
    let mut at = 0usize;
    loop {
        let rest = buf.get(at..).ok_or(FsccError::EaListInconsistent)?;
        let len = entry(rest)?;
        let next = get_u32(rest, 0).ok_or(FsccError::EaListInconsistent)? as usize;
        if next == 0 {
            return Ok(());
        }
        if next < len || !next.is_multiple_of(4) || next >= rest.len() {
            return Err(FsccError::EaListInconsistent);
        }
        at += next;
    }
}

/// Decodes a FILE_FULL_EA_INFORMATION list (SET_INFO FileFullEaInformation, the ExtA create
/// context). An entry that overruns the buffer, a name without its NUL or a bad
/// NextEntryOffset is [`FsccError::EaListInconsistent`]; a name [`is_valid_ea_name`] refuses or
/// flags other than FILE_NEED_EA are [`FsccError::InvalidEaName`]. An empty value asks to
/// remove the EA.
pub fn decode_full_ea_list(buf: &[u8]) -> Result<Vec<Ea>, FsccError> {
    let mut out = Vec::new();
    walk(buf, |e| {
        let flags = get_u8(e, 4).ok_or(FsccError::EaListInconsistent)?;
        let name_len = usize::from(get_u8(e, 5).ok_or(FsccError::EaListInconsistent)?);
        let value_len = e
            .get(6..8)
            .map(|v| usize::from(u16::from_le_bytes([v[0], v[1]])))
            .ok_or(FsccError::EaListInconsistent)?;
        let len = FULL_FIXED + name_len + 1 + value_len;
        if e.len() < len || e[FULL_FIXED + name_len] != 0 {
            return Err(FsccError::EaListInconsistent);
        }
        let name = &e[FULL_FIXED..FULL_FIXED + name_len];
        if !is_valid_ea_name(name) || flags & !FILE_NEED_EA != 0 {
            return Err(FsccError::InvalidEaName);
        }
        let value = &e[FULL_FIXED + name_len + 1..len];
        out.push(Ea {
            name: name.to_vec(),
            flags,
            value: value.to_vec(),
        });
        Ok(len)
    })?;
    Ok(out)
}

/// Decodes a FILE_GET_EA_INFORMATION list (the names a QUERY_INFO FileFullEaInformation asks
/// for), with the same rules as [`decode_full_ea_list`].
pub fn decode_get_ea_list(buf: &[u8]) -> Result<Vec<Vec<u8>>, FsccError> {
    let mut out = Vec::new();
    walk(buf, |e| {
        let name_len = usize::from(get_u8(e, 4).ok_or(FsccError::EaListInconsistent)?);
        let len = GET_FIXED + name_len + 1;
        if e.len() < len || e[GET_FIXED + name_len] != 0 {
            return Err(FsccError::EaListInconsistent);
        }
        let name = &e[GET_FIXED..GET_FIXED + name_len];
        if !is_valid_ea_name(name) {
            return Err(FsccError::InvalidEaName);
        }
        out.push(name.to_vec());
        Ok(len)
    })?;
    Ok(out)
}

/// The bytes one EA takes in a FILE_FULL_EA_INFORMATION list, without alignment padding.
pub fn full_ea_entry_len(ea: &Ea) -> usize {
    FULL_FIXED + ea.name.len() + 1 + ea.value.len()
}

/// Builds a FILE_FULL_EA_INFORMATION list within a size limit: each entry after the first
/// starts 4-byte aligned, and the previous entry's NextEntryOffset points to it.
#[derive(Debug)]
pub struct EaListWriter {
    buf: Vec<u8>,
    last: Option<usize>,
    max_len: usize,
}

impl EaListWriter {
    /// A writer whose list stays within `max_len` bytes.
    pub fn new(max_len: usize) -> Self {
        Self {
            buf: Vec::new(),
            last: None,
            max_len,
        }
    }

    /// Appends `ea`; returns false, appending nothing, if it would pass the limit. The name is
    /// cut at 255 bytes and the value at 65,535 (what stored EAs never pass).
    pub fn push(&mut self, ea: &Ea) -> bool {
        let name = &ea.name[..ea.name.len().min(255)];
        let value = &ea.value[..ea.value.len().min(usize::from(u16::MAX))];
        let start = match self.last {
            Some(_) => self.buf.len().div_ceil(4) * 4,
            None => 0,
        };
        let end = start + FULL_FIXED + name.len() + 1 + value.len();
        if end > self.max_len {
            return false;
        }
        if let Some(prev) = self.last {
            self.buf.resize(start, 0);
            patch_u32(&mut self.buf, prev, (start - prev) as u32);
        }
        put_u32(&mut self.buf, 0);
        put_u8(&mut self.buf, ea.flags);
        put_u8(&mut self.buf, name.len() as u8);
        put_u16(&mut self.buf, value.len() as u16);
        self.buf.extend_from_slice(name);
        self.buf.push(0);
        self.buf.extend_from_slice(value);
        self.last = Some(start);
        true
    }

    /// Whether nothing was appended.
    pub fn is_empty(&self) -> bool {
        self.last.is_none()
    }

    /// The finished list.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_util::hex;

    #[test]
    fn full_list_round_trips() {
        let mut need = Ea::new(b"SECONDEA", b"ValueTwo");
        need.flags = FILE_NEED_EA;
        let list = vec![Ea::new(b"EAONE", b"VALUE1"), need];
        let mut w = EaListWriter::new(1000);
        assert!(list.iter().all(|e| w.push(e)));
        let bytes = w.finish();
        // First entry: 8 + 5 + 1 + 6 = 20 bytes, so the second starts at 20.
        assert_eq!(&bytes[..8], &hex("14000000 00 05 0600"));
        assert_eq!(bytes.len(), 20 + 8 + 8 + 1 + 8);
        assert_eq!(decode_full_ea_list(&bytes), Ok(list));
    }

    #[test]
    fn writer_keeps_to_its_limit() {
        let e = Ea::new(b"A", b"12");
        let mut w = EaListWriter::new(11);
        assert!(!w.push(&e), "the entry takes 8 + 1 + 1 + 2 = 12 bytes");
        let mut w = EaListWriter::new(20);
        assert!(w.push(&e));
        assert!(!w.push(&e), "the second starts at 12 and would end at 24");
        assert_eq!(w.finish().len(), 12);
    }

    #[test]
    fn full_list_rejects_what_is_malformed() {
        let one = hex("00000000 00 01 0100 41 00 5a");
        assert_eq!(decode_full_ea_list(&one), Ok(vec![Ea::new(b"A", b"Z")]));
        let inconsistent = [
            &one[..10],                                                         // the value overruns
            &hex("00000000 00 01 0100 41 01 5a")[..], // no NUL after the name
            &hex("0c000000 00 01 0100 41 00 5a 00")[..], // next entry past the end
            &hex("04000000 00 01 0100 41 00 5a 00 00")[..], // next inside this entry
            &hex("0e000000 00 01 0100 41 00 5a 00 0000 00000000 00000000")[..], // unaligned
            &[][..],
        ];
        for b in inconsistent {
            assert_eq!(
                decode_full_ea_list(b),
                Err(FsccError::EaListInconsistent),
                "{b:02x?}"
            );
        }
        for bad in [
            hex("00000000 00 01 0100 2a 00 5a"), // '*'
            hex("00000000 00 01 0100 09 00 5a"), // a control character
            hex("00000000 00 00 0100 00 5a"),    // empty
            hex("00000000 01 01 0100 41 00 5a"), // unknown flag
        ] {
            assert_eq!(decode_full_ea_list(&bad), Err(FsccError::InvalidEaName));
        }
    }

    #[test]
    fn get_list() {
        let b = hex("0c000000 03 414243 00 000000 00000000 01 44 00");
        assert_eq!(
            decode_get_ea_list(&b),
            Ok(vec![b"ABC".to_vec(), b"D".to_vec()])
        );
        assert_eq!(
            decode_get_ea_list(&b[..b.len() - 1]),
            Err(FsccError::EaListInconsistent)
        );
        assert_eq!(
            decode_get_ea_list(&hex("00000000 01 3f 00")),
            Err(FsccError::InvalidEaName)
        );
    }
}
