//! The configuration error: which file, which line, which key, and what is wrong.

use std::fmt;
use std::ops::Range;

/// A configuration error naming the file, the line (1-based) and the key, for example
/// `smbd.toml:12: share[1].encrypt: unknown value "yes" (expected required, desired or off)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The configuration file's name as given to the loader.
    pub file: String,
    /// The 1-based line the error was found on, when it is known.
    pub line: Option<usize>,
    /// The dotted key path (`share[1].encrypt`), when the error concerns one key.
    pub key: Option<String>,
    /// What is wrong, in words.
    pub message: String,
}

impl ConfigError {
    /// Builds an error about the whole file (no line, no key), such as an I/O failure.
    pub fn file_level(file: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line: None,
            key: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `file:line: ` as far as known; a configuration built in code has no file.
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.file.is_empty() || self.line.is_some() {
            f.write_str(": ")?;
        }
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The 1-based line number of byte offset `span.start` in `text`; `None` without a span.
pub(crate) fn line_of(text: &str, span: Option<Range<usize>>) -> Option<usize> {
    let start = span?.start;
    let before = text.as_bytes().get(..start).unwrap_or(text.as_bytes());
    Some(before.iter().filter(|&&b| b == b'\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_with_all_parts() {
        let e = ConfigError {
            file: "smbd.toml".into(),
            line: Some(12),
            key: Some("share[1].encrypt".into()),
            message: "unknown value \"yes\" (expected required, desired or off)".into(),
        };
        assert_eq!(
            e.to_string(),
            "smbd.toml:12: share[1].encrypt: unknown value \"yes\" (expected required, desired or off)"
        );
    }

    #[test]
    fn display_file_level() {
        let e = ConfigError::file_level("x.toml", "cannot read: denied");
        assert_eq!(e.to_string(), "x.toml: cannot read: denied");
    }

    #[test]
    fn display_without_file() {
        let e = ConfigError {
            file: String::new(),
            line: None,
            key: Some("share[0].path".into()),
            message: "/x is not a directory".into(),
        };
        assert_eq!(e.to_string(), "share[0].path: /x is not a directory");
    }

    #[test]
    fn line_numbers() {
        let text = "a\nbb\n\nc";
        assert_eq!(line_of(text, Some(0..1)), Some(1));
        assert_eq!(line_of(text, Some(2..3)), Some(2));
        assert_eq!(line_of(text, Some(6..7)), Some(4));
        // Past the end counts every newline rather than panicking.
        assert_eq!(line_of(text, Some(100..101)), Some(4));
        assert_eq!(line_of(text, None), None);
    }
}
