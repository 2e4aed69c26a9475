//! 8.3 short names for FileAlternateNameInformation (MS-FSCC 2.1.5.2.1).
//!
//! A name that already fits 8.3 is its own short name, upper-cased. Others get a
//! deterministic mangled form (five characters, `~`, two hex digits of a hash of the long
//! name, and up to three extension characters), so no directory scan is needed to pick it.

/// Characters an 8.3 name may hold besides letters and digits.
const EXTRA: &str = "$%'-_@~`!(){}^#&";

fn valid_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || EXTRA.contains(c)
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

/// The short name of the last component `name` (empty input gives `None`).
pub fn short_name(name: &str) -> Option<String> {
    if name.is_empty() || name == "." || name == ".." {
        return None;
    }
    if is_8_3(name) {
        return Some(name.to_ascii_uppercase());
    }
    let (base, ext) = match name.rsplit_once('.') {
        Some((b, e)) if !b.is_empty() => (b, e),
        _ => (name, ""),
    };
    let clean = |s: &str, n: usize| -> String {
        s.chars()
            .filter(|c| valid_char(*c))
            .take(n)
            .map(|c| c.to_ascii_uppercase())
            .collect()
    };
    let mut hash: u32 = 0x811C_9DC5;
    for b in name.bytes() {
        hash = (hash ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    let mut b = clean(base, 5);
    if b.is_empty() {
        b.push('_');
    }
    let e = clean(ext, 3);
    let mut s = format!("{b}~{:02X}", hash & 0xFF);
    if !e.is_empty() {
        s.push('.');
        s.push_str(&e);
    }
    Some(s)
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
        assert!(short_name("ünïcode").unwrap().contains('~'));
    }
}
