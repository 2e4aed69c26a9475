//! Turning an SMB path (backslashes, relative to the share root) into a VFS path.

use crate::proto::NtStatus;

/// Longest component name accepted.
const MAX_COMPONENT: usize = 255;

/// Normalises a CREATE name into a '/'-separated path below the share root.
///
/// A trailing `::$DATA` selects the default stream; other streams are not supported. `.` is
/// dropped and `..` climbs one level; climbing above the root is OBJECT_PATH_SYNTAX_BAD.
/// Wildcards and control characters are OBJECT_NAME_INVALID. A `/` separates components as
/// `\` does (see [`backslashes`]).
pub(crate) fn to_vfs_path(name: &str) -> Result<String, NtStatus> {
    if name.is_empty() {
        return Ok(String::new());
    }
    let name = backslashes(name);
    let name = name.as_ref();
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

/// `name` with every `/` read as the separator `\`. Interop: no Windows client sends a `/`
/// (Windows answers OBJECT_NAME_INVALID, a name may not hold one), but Samba takes it as a
/// separator, and smbtorture names paths so (smb2.timestamps.test_close_not_attrib's
/// `smb2-timestamps/testfile.dat`, smb2.twrp.listdir's `subdir/hardlink`). The path rules
/// that follow (`..` above the root, empty components) apply to it all the same.
fn backslashes(name: &str) -> std::borrow::Cow<'_, str> {
    if name.contains('/') {
        std::borrow::Cow::Owned(name.replace('/', "\\"))
    } else {
        std::borrow::Cow::Borrowed(name)
    }
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

/// Which stream of the object a CREATE name selects (MS-FSCC 2.1.5 `name:stream:type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stream {
    /// No stream part: the object itself.
    None,
    /// `::$DATA`: the unnamed data stream, which a directory does not have.
    UnnamedData,
    /// `:$I30:$INDEX_ALLOCATION` (or `::$INDEX_ALLOCATION`): a directory's index, i.e. the
    /// directory itself.
    Index,
    /// A named data stream: `:name` or `:name:$DATA`.
    Named(String),
}

/// A CREATE name: the object's vfs path and the stream selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// The file or directory, as [`to_vfs_path`] gives it.
    pub(crate) path: String,
    /// The stream of it.
    pub(crate) stream: Stream,
}

/// Parses a CREATE name with its stream part, on a share with (`streams`) or without streams;
/// without, any stream part is OBJECT_NAME_INVALID. Stream names may hold any character but
/// `\`, `/`, `:` and NUL (control characters and wildcards included, as NTFS allows); a stream
/// type other than `$DATA` (or `$INDEX_ALLOCATION` for `$I30`) is OBJECT_NAME_INVALID.
pub(crate) fn to_vfs_target(name: &str, streams: bool) -> Result<Target, NtStatus> {
    let name = backslashes(name);
    let name = name.as_ref();
    let (dir, last) = match name.rsplit_once('\\') {
        Some((d, l)) => (Some(d), l),
        None => (None, name),
    };
    let Some((base, rest)) = last.split_once(':') else {
        return Ok(Target {
            path: to_vfs_path(name)?,
            stream: Stream::None,
        });
    };
    if !streams {
        return Err(NtStatus::OBJECT_NAME_INVALID);
    }
    let (sname, stype) = match rest.split_once(':') {
        Some((n, t)) => (n, Some(t)),
        None => (rest, None),
    };
    let stream = match stype {
        None if sname.is_empty() => Stream::None,
        None => Stream::Named(sname.to_owned()),
        Some(t) if t.eq_ignore_ascii_case("$DATA") && sname.is_empty() => Stream::UnnamedData,
        Some(t) if t.eq_ignore_ascii_case("$DATA") => Stream::Named(sname.to_owned()),
        Some(t)
            if t.eq_ignore_ascii_case("$INDEX_ALLOCATION")
                && (sname.is_empty() || sname.eq_ignore_ascii_case("$I30")) =>
        {
            Stream::Index
        }
        Some(_) => return Err(NtStatus::OBJECT_NAME_INVALID),
    };
    if let Stream::Named(n) = &stream
        && vfs::check_stream_name(n).is_err()
    {
        return Err(NtStatus::OBJECT_NAME_INVALID);
    }
    let path = match (dir, base) {
        (None, "") => String::new(), // the share root's stream
        (Some(_), "") => return Err(NtStatus::OBJECT_NAME_INVALID),
        (None, b) => to_vfs_path(b)?,
        (Some(d), b) => to_vfs_path(&format!("{d}\\{b}"))?,
    };
    Ok(Target { path, stream })
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
        // A '/' separates as '\' does, under the same rules.
        assert_eq!(to_vfs_path("a/b\\c.txt").unwrap(), "a/b/c.txt");
        assert_eq!(
            to_vfs_path("a/../../x"),
            Err(NtStatus::OBJECT_PATH_SYNTAX_BAD)
        );
        assert_eq!(to_vfs_path("/etc"), Err(NtStatus::INVALID_PARAMETER));
        assert_eq!(to_vfs_path("a//b"), Err(NtStatus::OBJECT_NAME_INVALID));
    }

    fn named(path: &str, s: &str) -> Target {
        Target {
            path: path.into(),
            stream: Stream::Named(s.into()),
        }
    }

    #[test]
    fn stream_names() {
        let t = |n: &str| to_vfs_target(n, true);
        assert_eq!(
            t("d\\f:Zone.Identifier"),
            Ok(named("d/f", "Zone.Identifier"))
        );
        assert_eq!(t("d\\f:s:$dAtA"), Ok(named("d/f", "s")));
        assert_eq!(
            t("f:\u{5}Stream\n One*?"),
            Ok(named("f", "\u{5}Stream\n One*?"))
        );
        assert_eq!(t(":root"), Ok(named("", "root")));
        assert_eq!(t("f::$DATA").unwrap().stream, Stream::UnnamedData);
        assert_eq!(t("d:$I30:$INDEX_ALLOCATION").unwrap().stream, Stream::Index);
        assert_eq!(t("f").unwrap().stream, Stream::None);
        for bad in [
            "f:s:",
            "f:s:$FOO",
            "f:s:?D*a",
            "f::foo",
            "f:a:b:$DATA",
            "d\\f:x\\y:$DATA",
            "d*\\f:s",
            "d\\:s",
        ] {
            assert_eq!(t(bad), Err(NtStatus::OBJECT_NAME_INVALID), "{bad:?}");
        }
        for name in ["f::$DATA", "f::x", "f:s", "f:s:$DATA"] {
            assert_eq!(
                to_vfs_target(name, false),
                Err(NtStatus::OBJECT_NAME_INVALID),
                "{name:?} on a share without streams"
            );
        }
        assert_eq!(to_vfs_target("d\\f", false).unwrap().path, "d/f");
    }
}
