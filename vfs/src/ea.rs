//! Extended attributes (MS-FSA 2.1.1.3 File.ExtendedAttributes), as both backends keep them:
//! one ordered list per file, names matched without regard to ASCII case and kept in the case
//! they were set with, changed only as a whole ([`apply`]), so a list of changes is all or
//! nothing. The POSIX backend stores the list in one private xattr ([`encode`]/[`decode`]).

use crate::{VfsError, VfsResult};

/// FILE_NEED_EA (MS-FSCC 2.4.15): the file cannot be understood without this EA.
pub const FILE_NEED_EA: u8 = 0x80;

/// Largest ExtendedAttributesLength a file may have: 64 KiB - 5 (MS-FSA 2.1.5.15.5).
pub const MAX_EA_LIST_LEN: usize = 65_536 - 5;

/// One extended attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ea {
    /// The name as it was set (8-bit characters, 1 to 255 of them, no NUL).
    pub name: Vec<u8>,
    /// Flags: 0 or [`FILE_NEED_EA`].
    pub flags: u8,
    /// The value (at most 65,535 bytes; empty only in a change, where it removes the EA).
    pub value: Vec<u8>,
}

impl Ea {
    /// An EA with no flags.
    pub fn new(name: &[u8], value: &[u8]) -> Self {
        Self {
            name: name.to_vec(),
            flags: 0,
            value: value.to_vec(),
        }
    }

    /// Whether this EA is named `name` (ASCII case ignored, as EA names are on NTFS).
    pub fn is_named(&self, name: &[u8]) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The EA's share of ExtendedAttributesLength: its packed form (flags, name length, value
    /// length, the name and its NUL, the value; MS-CIFS 2.2.1.2.2 SMB_FEA).
    pub fn packed_len(&self) -> usize {
        4 + self.name.len() + 1 + self.value.len()
    }
}

/// ExtendedAttributesLength of a list (MS-FSA 2.1.1.3): the sum of its packed EAs.
pub fn list_len(eas: &[Ea]) -> usize {
    eas.iter().map(Ea::packed_len).sum()
}

/// FileEaInformation's EaSize of a list (MS-FSA 2.1.5.12.10), also reported in directory
/// listings: ExtendedAttributesLength plus 4 for the list header when there is any EA.
pub fn ea_size(eas: &[Ea]) -> u32 {
    match list_len(eas) {
        0 => 0,
        n => u32::try_from(n + 4).unwrap_or(u32::MAX),
    }
}

/// Checks the name and value of a change as a backend can store it: a name of 1 to 255 bytes
/// without NUL (`InvalidName`), a value of at most 65,535 bytes (`TooLarge`).
pub fn check(ea: &Ea) -> VfsResult<()> {
    if ea.name.is_empty() || ea.name.len() > 255 || ea.name.contains(&0) {
        return Err(VfsError::InvalidName);
    }
    if ea.value.len() > usize::from(u16::MAX) {
        return Err(VfsError::TooLarge);
    }
    Ok(())
}

/// Applies `changes` in order to `list` (MS-FSA 2.1.5.15.5): each removes the EA of its name,
/// then adds itself at the end unless its value is empty. Fails, leaving `list` as it was, on
/// a bad change ([`check`]) or when the result would pass [`MAX_EA_LIST_LEN`] (`TooLarge`).
pub fn apply(list: &mut Vec<Ea>, changes: Vec<Ea>) -> VfsResult<()> {
    for c in &changes {
        check(c)?;
    }
    let mut next = list.clone();
    for c in changes {
        next.retain(|e| !e.is_named(&c.name));
        if !c.value.is_empty() {
            next.push(c);
        }
    }
    if list_len(&next) > MAX_EA_LIST_LEN {
        return Err(VfsError::TooLarge);
    }
    *list = next;
    Ok(())
}

/// Version byte of the stored form.
const STORED_VERSION: u8 = 1;

/// The stored form of a list: a version byte, then per EA its flags (u8), name length (u8),
/// value length (u16 LE), name and value. At most 1 + [`MAX_EA_LIST_LEN`] bytes, within the
/// 64 KiB Linux allows an xattr value.
pub fn encode(eas: &[Ea]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + list_len(eas));
    out.push(STORED_VERSION);
    for e in eas {
        out.push(e.flags);
        out.push(e.name.len() as u8);
        out.extend_from_slice(&(e.value.len() as u16).to_le_bytes());
        out.extend_from_slice(&e.name);
        out.extend_from_slice(&e.value);
    }
    out
}

/// Parses the stored form; `None` when it is damaged or of an unknown version.
pub fn decode(b: &[u8]) -> Option<Vec<Ea>> {
    let (&version, mut rest) = b.split_first()?;
    if version != STORED_VERSION {
        return None;
    }
    let mut out = Vec::new();
    while !rest.is_empty() {
        let [flags, name_len, v0, v1, tail @ ..] = rest else {
            return None;
        };
        let name_len = usize::from(*name_len);
        let value_len = usize::from(u16::from_le_bytes([*v0, *v1]));
        if tail.len() < name_len + value_len || name_len == 0 {
            return None;
        }
        let (name, tail) = tail.split_at(name_len);
        let (value, tail) = tail.split_at(value_len);
        out.push(Ea {
            name: name.to_vec(),
            flags: *flags,
            value: value.to_vec(),
        });
        rest = tail;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_replaces_by_folded_name_and_removes_on_empty() {
        let mut l = vec![Ea::new(b"One", b"1"), Ea::new(b"Two", b"2")];
        apply(&mut l, vec![Ea::new(b"ONE", b"uno"), Ea::new(b"two", b"")]).unwrap();
        assert_eq!(l, vec![Ea::new(b"ONE", b"uno")]);
        // Removing a missing EA is no error.
        apply(&mut l, vec![Ea::new(b"none", b"")]).unwrap();
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn apply_is_all_or_nothing() {
        let mut l = vec![Ea::new(b"a", b"1")];
        let bad = Ea::new(b"", b"x");
        assert!(apply(&mut l, vec![Ea::new(b"b", b"2"), bad]).is_err());
        assert_eq!(l, vec![Ea::new(b"a", b"1")]);
        let big: Vec<Ea> = (0..2)
            .map(|i| Ea::new(format!("big{i}").as_bytes(), &[7u8; 40_000]))
            .collect();
        assert!(matches!(apply(&mut l, big), Err(VfsError::TooLarge)));
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn sizes_follow_ms_fsa() {
        let l = vec![Ea::new(b"void", b"testme")];
        assert_eq!(list_len(&l), 15);
        assert_eq!(ea_size(&l), 19);
        assert_eq!(ea_size(&[]), 0);
    }

    #[test]
    fn stored_form_round_trips_and_rejects_damage() {
        let mut e = Ea::new(b"Name", b"value");
        e.flags = FILE_NEED_EA;
        let l = vec![e, Ea::new(&[0xE9], &[])];
        let b = encode(&l);
        assert_eq!(decode(&b), Some(l));
        assert_eq!(decode(&b[..b.len() - 3]), None);
        assert_eq!(decode(&[2]), None);
        assert_eq!(decode(&[]), None);
        assert_eq!(decode(&[1]), Some(vec![]));
    }
}
