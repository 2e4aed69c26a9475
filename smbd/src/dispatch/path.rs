//! Turning an SMB path (backslashes, relative to the share root) into a VFS path.

use crate::proto::NtStatus;

/// Longest component name accepted.
const MAX_COMPONENT: usize = 255;

/// Normalises a CREATE name into a '/'-separated path below the share root.
///
/// A trailing `::$DATA` selects the default stream; other streams are not supported. `.` is
/// dropped and `..` climbs one level; climbing above the root is OBJECT_PATH_SYNTAX_BAD.
/// Wildcards and control characters are OBJECT_NAME_INVALID.
pub(crate) fn to_vfs_path(name: &str) -> Result<String, NtStatus> {
    if name.is_empty() {
        return Ok(String::new());
    }
    if name.starts_with('\\') {
        // MS-SMB2 3.3.5.9: a leading separator is invalid.
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let name = name.strip_suffix('\\').unwrap_or(name);
    let mut parts: Vec<&str> = Vec::new();
    let comps: Vec<&str> = name.split('\\').collect();
    let last = comps.len() - 1;
    for (i, c) in comps.into_iter().enumerate() {
        let c = if i == last {
            strip_default_stream(c)?
        } else {
            c
        };
        match c {
            "" => return Err(NtStatus::OBJECT_NAME_INVALID),
            "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(NtStatus::OBJECT_PATH_SYNTAX_BAD);
                }
            }
            _ => {
                check_component(c)?;
                parts.push(c);
            }
        }
    }
    Ok(parts.join("/"))
}

fn strip_default_stream(c: &str) -> Result<&str, NtStatus> {
    match c.split_once(':') {
        None => Ok(c),
        Some((base, stream)) if stream.eq_ignore_ascii_case(":$DATA") || stream.is_empty() => {
            Ok(base)
        }
        Some(_) => Err(NtStatus::OBJECT_NAME_INVALID),
    }
}

fn check_component(c: &str) -> Result<(), NtStatus> {
    if c.encode_utf16().count() > MAX_COMPONENT {
        return Err(NtStatus::OBJECT_NAME_INVALID);
    }
    let bad = |ch: char| {
        matches!(ch, '<' | '>' | ':' | '"' | '|' | '?' | '*' | '/') || (ch as u32) < 0x20
    };
    if c.chars().any(bad) {
        return Err(NtStatus::OBJECT_NAME_INVALID);
    }
    Ok(())
}

/// The SMB form of a VFS path (backslashes).
pub(crate) fn to_smb_path(path: &str) -> String {
    path.replace('/', "\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_refuses() {
        assert_eq!(to_vfs_path("").unwrap(), "");
        assert_eq!(to_vfs_path("a\\b\\c.txt").unwrap(), "a/b/c.txt");
        assert_eq!(to_vfs_path("a\\.\\b\\").unwrap(), "a/b");
        assert_eq!(to_vfs_path("a\\..\\b").unwrap(), "b");
        assert_eq!(to_vfs_path("f::$DATA").unwrap(), "f");
        assert_eq!(
            to_vfs_path("..\\etc\\passwd"),
            Err(NtStatus::OBJECT_PATH_SYNTAX_BAD)
        );
        assert_eq!(
            to_vfs_path("a\\..\\..\\x"),
            Err(NtStatus::OBJECT_PATH_SYNTAX_BAD)
        );
        assert_eq!(to_vfs_path("a\\\\b"), Err(NtStatus::OBJECT_NAME_INVALID));
        assert_eq!(to_vfs_path("a*"), Err(NtStatus::OBJECT_NAME_INVALID));
        assert_eq!(to_vfs_path("f:s"), Err(NtStatus::OBJECT_NAME_INVALID));
    }
}
