//! The tools' error type.

use std::fmt;
use std::path::PathBuf;

use smbd::config::ConfigError;

/// Why a command failed.
#[derive(Debug)]
pub enum ToolError {
    /// The command line is wrong; the text says how (exit code 2).
    Usage(String),
    /// A configuration file is invalid.
    Config(ConfigError),
    /// Reading or writing a file or a stream failed.
    Io {
        /// The file or stream concerned.
        what: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An argument or an input has a bad value.
    Invalid(String),
}

impl ToolError {
    /// The process exit code for this error: 2 for usage errors, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Usage(_) => 2,
            _ => 1,
        }
    }

    /// An I/O error about `what`.
    pub fn io(what: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            what: what.into(),
            source,
        }
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(m) => write!(f, "{m} (see `smbd-tools --help`)"),
            Self::Config(e) => write!(f, "{e}"),
            Self::Io { what, source } => write!(f, "{}: {source}", what.display()),
            Self::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ToolError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Config(e) => Some(e),
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<ConfigError> for ToolError {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}
