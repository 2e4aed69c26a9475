//! Path checks and name folding shared by both backends.
//!
//! Names compare case-insensitively by *simple uppercase mapping*, one character at a time, as
//! Windows' upcase table does: a character whose uppercase form is a single character maps to
//! it; one whose uppercase form expands (e.g. `ß` -> `SS`) is kept as is.

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

/// The case-folded form of a name, used as the key of case-insensitive lookups.
pub(crate) fn fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let mut up = c.to_uppercase();
        match (up.next(), up.next()) {
            (Some(u), None) => out.push(u),
            _ => out.push(c),
        }
    }
    out
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
    }

    #[test]
    fn joins() {
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a/b", "c"), "a/b/c");
    }
}
