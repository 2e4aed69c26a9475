//! 8.3 short names (MS-FSCC 2.1.5.2.1; MS-FSA 2.1.5.1.2.1 gives a new link a ShortName when
//! its name is not already a valid 8.3 name).
//!
//! Nothing is stored: a name's short name is derived from the name itself and the other names
//! of its directory, so it is the same after a restart and whichever backend serves it.
//!
//! - A name that is already valid 8.3 ([`is_8_3`]) has no short name.
//! - Any other name `N` gets `PHHHHH~D.EXT`: `P` the first 8.3 character of its base (`_` if
//!   none), `HHHHH` five base-36 digits of a 64-bit FNV-1a hash of the folded name, `~`, the
//!   collision digit `D`, and up to three 8.3 characters of its extension. The part without
//!   `D` is the name's *stem*.
//! - Collisions: the names of one directory that share a stem are ordered by folded name and
//!   take the digits 1 to 9 in that order, skipping a digit whose whole short name is the
//!   (folded) name of an existing file in the directory, so a short name never names two
//!   files. Two names share a stem with odds of about one in 60 million per pair; a tenth name
//!   sharing one gets no short name.
//!
//! [`ShortNames`] is the per-directory index that answers both directions (the short name of a
//! long name, the long name of a short name) in time proportional to one stem's names, and is
//! kept up to date name by name, so a directory of 10,000 entries is not rescanned per lookup.

use crate::names::fold_name;
use std::collections::HashMap;

/// Longest short name: 8 + '.' + 3 characters.
pub const SHORT_NAME_MAX: usize = 12;

/// Characters of a stem's hash part, and its length.
const HASH_DIGITS: usize = 5;
/// 36^5: the number of distinct hash parts.
const HASH_SPACE: u64 = 36 * 36 * 36 * 36 * 36;
/// Base-36 digits, in the folded (upper) case.
const BASE36: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Whether an 8.3 name may hold `c`: letters, digits and `$%'-_@~`!(){}^#&` (lower case
/// letters too: the check is made on the name as it folds).
fn valid_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "$%'-_@~`!(){}^#&".contains(c)
}

/// Whether `name` is already a valid 8.3 name (case aside): a base of 1 to 8 and an optional
/// extension of 1 to 3 valid characters.
pub fn is_8_3(name: &str) -> bool {
    let (base, ext) = match name.split_once('.') {
        Some((b, e)) => (b, Some(e)),
        None => (name, None),
    };
    let fits = |s: &str, max: usize| !s.is_empty() && s.len() <= max && s.chars().all(valid_char);
    fits(base, 8) && ext.is_none_or(|e| fits(e, 3))
}

/// A stem: the short name less its collision digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Stem {
    /// The prefix character and the hash digits.
    base: [u8; 1 + HASH_DIGITS],
    /// Up to three extension characters.
    ext: [u8; 3],
    ext_len: u8,
}

impl Stem {
    /// The stem of `name`, which is not valid 8.3.
    fn of(name: &str) -> Self {
        let folded = fold_name(name);
        let (base, ext) = match folded.rsplit_once('.') {
            Some((b, e)) if !b.trim_start_matches('.').is_empty() => (b, e),
            _ => (folded.as_str(), ""),
        };
        let prefix = base.chars().find(|c| valid_char(*c) && *c != '~');
        let mut stem = Self {
            base: [b'_'; 1 + HASH_DIGITS],
            ext: [0; 3],
            ext_len: 0,
        };
        if let Some(p) = prefix.and_then(|c| u8::try_from(c).ok()) {
            stem.base[0] = p;
        }
        let mut h = fnv1a(folded.as_bytes()) % HASH_SPACE;
        for slot in stem.base[1..].iter_mut().rev() {
            *slot = BASE36[(h % 36) as usize];
            h /= 36;
        }
        for c in ext.chars().filter(|c| valid_char(*c)).take(3) {
            if let Ok(b) = u8::try_from(c) {
                stem.ext[usize::from(stem.ext_len)] = b;
                stem.ext_len += 1;
            }
        }
        stem
    }

    /// The short name with collision digit `digit` (1 to 9).
    fn render(&self, digit: u8) -> String {
        let mut s = String::with_capacity(SHORT_NAME_MAX);
        s.extend(self.base.iter().map(|&b| char::from(b)));
        s.push('~');
        s.push(char::from(b'0' + digit));
        if self.ext_len > 0 {
            s.push('.');
            s.extend(
                self.ext[..usize::from(self.ext_len)]
                    .iter()
                    .map(|&b| char::from(b)),
            );
        }
        s
    }

    /// The stem and digit of `name` if it has the form of a generated short name.
    fn parse(name: &str) -> Option<(Self, u8)> {
        let folded = fold_name(name);
        let b = folded.as_bytes();
        let (head, ext) = match folded.split_once('.') {
            Some((h, e)) => (h.as_bytes(), e.as_bytes()),
            None => (b, &b""[..]),
        };
        let shape = head.len() == 8
            && head[6] == b'~'
            && (b'1'..=b'9').contains(&head[7])
            && valid_char(char::from(head[0]))
            && head[1..6].iter().all(|c| BASE36.contains(c))
            && ext.len() <= 3
            && !(folded.contains('.') && ext.is_empty())
            && ext.iter().all(|&c| valid_char(char::from(c)));
        if !shape {
            return None;
        }
        let mut stem = Self {
            base: [0; 1 + HASH_DIGITS],
            ext: [0; 3],
            ext_len: ext.len() as u8,
        };
        stem.base.copy_from_slice(&head[..6]);
        stem.ext[..ext.len()].copy_from_slice(ext);
        Some((stem, head[7] - b'0'))
    }
}

/// 64-bit FNV-1a: fixed, so a short name survives a restart or a new build.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// Whether `name` has the form of a generated short name (then it may name a file by its
/// short name, or be a name a recent removal tunnels, see [`crate::Vfs::short_name`]).
pub fn looks_generated(name: &str) -> bool {
    Stem::parse(name).is_some()
}

/// The short name `name` has in a directory where no other name shares its stem; `None` for a
/// name that is already valid 8.3 (or empty).
pub fn alone(name: &str) -> Option<String> {
    if name.is_empty() || is_8_3(name) {
        return None;
    }
    Some(Stem::of(name).render(1))
}

/// The short names of one directory: every name's stem, and the valid 8.3 names that have the
/// form of a generated short name (digits they hold are skipped).
#[derive(Debug, Default, Clone)]
pub struct ShortNames {
    /// Stem -> the folded names that have it, sorted, each with how many names fold to it.
    stems: HashMap<Stem, Vec<(String, u32)>>,
    /// Folded valid 8.3 names of the generated form -> how many names fold to them.
    taken: HashMap<String, u32>,
}

impl ShortNames {
    /// The index of the names `names`.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut s = Self::default();
        for n in names {
            s.add(n);
        }
        s
    }

    /// Adds a name of the directory.
    pub fn add(&mut self, name: &str) {
        if name.is_empty() {
            return;
        }
        if is_8_3(name) {
            if looks_generated(name) {
                *self.taken.entry(fold_name(name)).or_default() += 1;
            }
            return;
        }
        let folded = fold_name(name);
        let members = self.stems.entry(Stem::of(name)).or_default();
        match members.binary_search_by(|(m, _)| m.as_str().cmp(&folded)) {
            Ok(i) => members[i].1 += 1,
            Err(i) => members.insert(i, (folded, 1)),
        }
    }

    /// Removes a name of the directory (one that was added).
    pub fn remove(&mut self, name: &str) {
        if name.is_empty() {
            return;
        }
        let folded = fold_name(name);
        if is_8_3(name) {
            if let Some(n) = self.taken.get_mut(&folded) {
                *n -= 1;
                if *n == 0 {
                    self.taken.remove(&folded);
                }
            }
            return;
        }
        let stem = Stem::of(name);
        let Some(members) = self.stems.get_mut(&stem) else {
            return;
        };
        if let Ok(i) = members.binary_search_by(|(m, _)| m.as_str().cmp(&folded)) {
            members[i].1 -= 1;
            if members[i].1 == 0 {
                members.remove(i);
            }
        }
        if members.is_empty() {
            self.stems.remove(&stem);
        }
    }

    /// The digits of `stem`'s names, in their order: 1 to 9 less those taken by an existing
    /// valid 8.3 name.
    fn digits(&self, stem: &Stem) -> impl Iterator<Item = u8> + '_ {
        let stem = *stem;
        (1..=9u8).filter(move |&d| !self.taken.contains_key(&stem.render(d)))
    }

    /// The short name of `name`, a name of this directory; `None` when it is valid 8.3 (or
    /// is the tenth name of its stem).
    pub fn short_of(&self, name: &str) -> Option<String> {
        if name.is_empty() || is_8_3(name) {
            return None;
        }
        let stem = Stem::of(name);
        let folded = fold_name(name);
        let at = match self.stems.get(&stem) {
            Some(members) => members
                .binary_search_by(|(m, _)| m.as_str().cmp(&folded))
                .unwrap_or_else(|i| i),
            None => 0,
        };
        self.digits(&stem).nth(at).map(|d| stem.render(d))
    }

    /// The folded long name whose short name is `short`, if any.
    pub fn long_of(&self, short: &str) -> Option<&str> {
        let (stem, digit) = Stem::parse(short)?;
        let members = self.stems.get(&stem)?;
        let at = self.digits(&stem).position(|d| d == digit)?;
        members.get(at).map(|(m, _)| m.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_8_3_names_have_none() {
        for n in [
            "hello.txt",
            "README",
            "A",
            "~",
            "$x.y",
            "a~1",
            "ABCDEFGH.IJK",
        ] {
            assert!(is_8_3(n), "{n}");
            assert_eq!(alone(n), None, "{n}");
        }
        for n in [
            "",
            ".",
            "a.",
            ".x",
            "a.b.c",
            "ABCDEFGHI",
            "a.abcd",
            "a b",
            "ünï",
            "a+b",
        ] {
            assert!(!is_8_3(n), "{n}");
        }
    }

    #[test]
    fn generated_form() {
        let s = alone("a long file name.html").unwrap();
        assert_eq!(s.len(), 12, "{s}");
        assert!(s.starts_with('A') && s.ends_with("~1.HTM"), "{s}");
        assert!(is_8_3(&s) && looks_generated(&s));
        assert_eq!(
            alone("A LONG FILE NAME.HTML"),
            Some(s.clone()),
            "case aside"
        );
        assert_ne!(alone("a long file name2.html"), Some(s));
        let dots = alone("...x").unwrap();
        assert!(dots.starts_with('X') && dots.len() == 8, "{dots}");
        assert!(alone(".bashrc").unwrap().starts_with('B'));
        assert!(alone("ünïcode").unwrap().starts_with('N'));
        assert!(alone("€€€").unwrap().starts_with('_'));
        assert!(!looks_generated("A-BCDE~1.TXT"), "hash digits are base 36");
        assert!(!looks_generated("A12345~0"));
        assert!(looks_generated("a12345~9.t"));
        // Fixed: the same everywhere and after a restart.
        assert_eq!(alone("profile_00001.vhdx").as_deref(), Some("PUUKL6~1.VHD"));
    }

    #[test]
    fn both_directions() {
        let names = ["a long file name.html", "README", "x y z"];
        let idx = ShortNames::from_names(names);
        for n in ["a long file name.html", "x y z"] {
            let s = idx.short_of(n).unwrap();
            assert_eq!(s, alone(n).unwrap());
            assert_eq!(idx.long_of(&s), Some(fold_name(n).as_str()));
            assert_eq!(
                idx.long_of(&s.to_ascii_lowercase()),
                Some(fold_name(n).as_str())
            );
        }
        assert_eq!(idx.short_of("README"), None);
        assert_eq!(idx.long_of("README"), None);
        assert_eq!(idx.long_of(&alone("not here at all").unwrap()), None);
    }

    #[test]
    fn collisions_take_the_next_digit() {
        let stem = Stem::of("some long name");
        let mut idx = ShortNames::default();
        // Two names of one stem (forced: real ones are one in 60 million).
        idx.stems
            .insert(stem, vec![("AAA".into(), 1), ("BBB".into(), 1)]);
        assert_eq!(idx.long_of(&stem.render(1)), Some("AAA"));
        assert_eq!(idx.long_of(&stem.render(2)), Some("BBB"));
        assert_eq!(idx.long_of(&stem.render(3)), None);
        // A valid 8.3 file holding digit 1 pushes both along.
        idx.add(&stem.render(1).to_ascii_lowercase());
        assert_eq!(idx.long_of(&stem.render(2)), Some("AAA"));
        assert_eq!(idx.long_of(&stem.render(3)), Some("BBB"));
        idx.remove(&stem.render(1));
        assert_eq!(idx.long_of(&stem.render(1)), Some("AAA"));
    }

    #[test]
    fn a_taken_digit_moves_the_short_name() {
        let long = "a long file name.html";
        let first = alone(long).unwrap();
        let idx = ShortNames::from_names([long, first.as_str()]);
        let moved = idx.short_of(long).unwrap();
        assert_eq!(moved, first.replace("~1", "~2"));
        assert_eq!(idx.long_of(&moved), Some(fold_name(long).as_str()));
        assert_eq!(idx.long_of(&first), None, "the real file answers to it");
    }

    #[test]
    fn add_and_remove_keep_counts() {
        let mut idx = ShortNames::default();
        idx.add("Long Name One");
        idx.add("long name one");
        idx.remove("Long Name One");
        let s = idx.short_of("long name one").unwrap();
        assert!(idx.long_of(&s).is_some());
        idx.remove("long name one");
        assert!(idx.long_of(&s).is_none());
        assert!(idx.stems.is_empty());
        idx.remove("never added");
        idx.add("");
    }
}
