//! 8.3 short names for FileAlternateNameInformation (MS-FSCC 2.1.5.2.1).
//!
//! A name that already fits 8.3 is its own short name, upper-cased. Others get a
//! deterministic mangled form (five characters, `~`, two hex digits of a hash of the long
//! name, and up to three extension characters), so no directory scan is needed to pick it.

/// Whether an 8.3 name may hold `c`: letters, digits and `$%'-_@~`!(){}^#&`.
fn valid_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '$' | '%'
                | '\''
                | '-'
                | '_'
                | '@'
                | '~'
                | '`'
                | '!'
                | '('
                | ')'
                | '{'
                | '}'
                | '^'
                | '#'
                | '&'
        )
}

/// Whether `name` is already a valid 8.3 name (case aside).
pub fn is_8_3(name: &str) -> bool {
    let (base, ext) = match name.rsplit_once('.') {
        Some((b, e)) => (b, e),
        None => (name, ""),
    };
    !base.is_empty()
        && base.len() <= 8
        && ext.len() <= 3
        && base.chars().all(valid_char)
        && ext.chars().all(valid_char)
        && !(name.contains('.') && ext.is_empty())
}

/// Longest short name: 8 + '.' + 3 characters.
pub const SHORT_NAME_MAX: usize = 12;

/// The short name of the last component `name` (empty input gives `None`).
pub fn short_name(name: &str) -> Option<String> {
    let mut buf = [0u8; SHORT_NAME_MAX];
    let n = short_name_into(name, &mut buf)?;
    Some(buf[..n].iter().map(|&b| char::from(b)).collect())
}

/// Writes the short name of `name` (ASCII) into `out` without allocating; returns its
/// length, or `None` for an empty name, `.` and `..`.
pub fn short_name_into(name: &str, out: &mut [u8; SHORT_NAME_MAX]) -> Option<usize> {
    if name.is_empty() || name == "." || name == ".." {
        return None;
    }
    let mut n = 0;
    let mut put = |out: &mut [u8; SHORT_NAME_MAX], c: char| {
        // Every char put here is ASCII (valid_char, '~', '.', hex digits).
        if let (Some(slot), Ok(b)) = (out.get_mut(n), u8::try_from(c)) {
            *slot = b.to_ascii_uppercase();
            n += 1;
        }
    };
    if is_8_3(name) {
        name.chars().for_each(|c| put(out, c));
        return Some(n);
    }
    let (base, ext) = match name.rsplit_once('.') {
        Some((b, e)) if !b.is_empty() => (b, e),
        _ => (name, ""),
    };
    let mut hash: u32 = 0x811C_9DC5;
    for b in name.bytes() {
        hash = (hash ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    let mut any = false;
    for c in base.chars().filter(|c| valid_char(*c)).take(5) {
        put(out, c);
        any = true;
    }
    if !any {
        put(out, '_');
    }
    put(out, '~');
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    put(out, char::from(HEX[((hash >> 4) & 0xF) as usize]));
    put(out, char::from(HEX[(hash & 0xF) as usize]));
    let mut ext_chars = ext.chars().filter(|c| valid_char(*c)).take(3).peekable();
    if ext_chars.peek().is_some() {
        put(out, '.');
        ext_chars.for_each(|c| put(out, c));
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names() {
        assert_eq!(short_name("hello.txt").as_deref(), Some("HELLO.TXT"));
        assert_eq!(short_name("README").as_deref(), Some("README"));
        let long = short_name("a long file name.html").unwrap();
        assert!(
            long.starts_with("ALONG~") && long.ends_with(".HTM"),
            "{long}"
        );
        assert_eq!(
            short_name("a long file name.html"),
            short_name("a long file name.html")
        );
        assert!(short_name("").is_none());
        assert_eq!(short_name("..").as_deref(), None);
        assert_eq!(short_name("$x.y").as_deref(), Some("$X.Y"));
        let hashed = short_name("profile_00001.vhdx").unwrap();
        assert!(
            hashed.starts_with("PROFI~") && hashed.ends_with(".VHD"),
            "{hashed}"
        );
        assert_eq!(hashed.len(), 12);
        assert_eq!(
            short_name("...x").unwrap().len(),
            6,
            "no valid base: _~HH.X"
        );
        assert!(short_name("ünïcode").unwrap().contains('~'));
    }
}
