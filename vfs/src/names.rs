//! Path checks and name folding shared by both backends.
//!
//! Names compare case-insensitively by *simple uppercase mapping* of each UTF-16 code unit, as
//! Windows' upcase table (NTFS `$UpCase`, MS-FSCC 2.1.5.x name comparisons) does: see
//! [`fold_name`].

use crate::{Disposition, Kind, OpenOptions, VfsError, VfsResult};

/// Splits a share-relative path into its components, refusing anything that could leave the root
/// (absolute paths and `..` are [`VfsError::Escape`]) or name nothing (empty components, `.`,
/// NUL bytes are [`VfsError::InvalidName`]). The empty path is the root: no components.
pub(crate) fn split_path(path: &str) -> VfsResult<Vec<&str>> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    if path.starts_with('/') {
        return Err(VfsError::Escape);
    }
    let mut out = Vec::new();
    for comp in path.split('/') {
        if comp == ".." {
            return Err(VfsError::Escape);
        }
        if comp.is_empty() || comp == "." || comp.contains('\0') {
            return Err(VfsError::InvalidName);
        }
        out.push(comp);
    }
    Ok(out)
}

/// Refuses `Kind::Directory` with an overwrite or supersede disposition (MS-FSA 2.1.5.1: an
/// invalid parameter), reported as [`VfsError::IsADirectory`].
pub(crate) fn check_directory_disposition(opts: &OpenOptions) -> VfsResult<()> {
    let overwrites = matches!(
        opts.disposition,
        Disposition::Overwrite | Disposition::OverwriteIf | Disposition::Supersede
    );
    if opts.kind == Kind::Directory && overwrites {
        return Err(VfsError::IsADirectory);
    }
    Ok(())
}

/// The one case folding of names, used wherever two names are compared (backend lookups, the
/// server's tables): each UTF-16 code unit maps to its simple uppercase form, as Windows'
/// upcase table does. A character of the Basic Multilingual Plane whose uppercase form is one
/// BMP character maps to it (`a` -> `A`, `ſ` U+017F -> `S`); one whose uppercase form expands
/// (`ß` -> `SS`) or leaves the BMP is kept as is; characters beyond the BMP are two surrogate
/// code units in UTF-16, which the table leaves alone, so they are kept too.
pub fn fold_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        out.push(fold_char(c));
    }
    out
}

/// One character of [`fold_name`].
pub fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    if u32::from(c) > 0xFFFF {
        return c;
    }
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) if u32::from(u) <= 0xFFFF => u,
        _ => c,
    }
}

/// The backends' name of [`fold_name`].
pub(crate) fn fold(name: &str) -> String {
    fold_name(name)
}

/// Joins a directory path and a name ("" is the root).
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// The current time as FILETIME.
pub(crate) fn now_filetime() -> u64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => crate::unix_to_filetime(
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2),
            d.subsec_nanos(),
        ),
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_refuses() {
        assert_eq!(split_path("").unwrap(), Vec::<&str>::new());
        assert_eq!(split_path("a/B/c.txt").unwrap(), vec!["a", "B", "c.txt"]);
        assert!(matches!(split_path("/etc"), Err(VfsError::Escape)));
        assert!(matches!(split_path("a/../b"), Err(VfsError::Escape)));
        assert!(matches!(split_path(".."), Err(VfsError::Escape)));
        assert!(matches!(split_path("a//b"), Err(VfsError::InvalidName)));
        assert!(matches!(split_path("a/./b"), Err(VfsError::InvalidName)));
        assert!(matches!(split_path("a/"), Err(VfsError::InvalidName)));
        assert!(matches!(split_path("a\0b"), Err(VfsError::InvalidName)));
    }

    #[test]
    fn folds_simple_uppercase() {
        assert_eq!(fold("Hello.txt"), "HELLO.TXT");
        assert_eq!(fold("straße"), "STRAßE");
        assert_eq!(fold("ÄÖü"), "ÄÖÜ");
        assert_eq!(fold("a"), fold("A"));
        // U+017F LATIN SMALL LETTER LONG S upper-cases to S, so it names the same file.
        assert_eq!(fold_name("\u{17F}ecret.txt"), fold_name("SECRET.txt"));
        // Beyond the BMP nothing folds (two surrogate code units in UTF-16).
        assert_eq!(fold_name("\u{10428}"), "\u{10428}");
    }

    #[test]
    fn joins() {
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a/b", "c"), "a/b/c");
    }
}
