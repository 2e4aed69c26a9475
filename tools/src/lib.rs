//! Admin command-line tools for the SMB server: `add-account`, `nt-hash`, `check-config`,
//! `keytab add|list`, `acl get|set`, `status` and `reload-keytabs`.
//!
//! The binary is a thin wrapper over [`run`], so every command is testable with in-memory
//! streams.
#![forbid(unsafe_code)]

pub mod account;
pub mod acls;
pub mod args;
pub mod error;
pub mod keytab;
pub mod status;

use std::io::{BufRead, Write};
use std::path::Path;

use smbd::config::{Config, ConfigError};

pub use error::ToolError;

use account::{NEW_FILE_HEADER, NewAccount, Outcome};
use args::{Command, PasswordSource};

/// Runs the command in `args` (without the program name); returns the process exit code.
pub fn run(
    args: &[String],
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let result = match args.split_first() {
        Some((c, rest)) if c == "keytab" => keytab::run(rest, stdin, out),
        Some((c, rest)) if c == "acl" => acls::run(rest, out),
        Some((c, rest)) if c == "status" || c == "reload-keytabs" => status::run(c, rest, out),
        _ => args::parse(args).and_then(|cmd| execute(cmd, stdin, out)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(err, "smbd-tools: {e}");
            e.exit_code()
        }
    }
}

fn execute(cmd: Command, stdin: &mut dyn BufRead, out: &mut dyn Write) -> Result<i32, ToolError> {
    let stdout_err = |e| ToolError::io("stdout", e);
    match cmd {
        Command::Help => {
            out.write_all(args::USAGE.as_bytes()).map_err(stdout_err)?;
            out.write_all(keytab::USAGE.as_bytes())
                .map_err(stdout_err)?;
            out.write_all(status::USAGE.as_bytes())
                .map_err(stdout_err)?;
            Ok(0)
        }
        Command::NtHash => {
            let password = read_password(stdin)?;
            let hash = acceptor::nt_hash(&password);
            writeln!(out, "{}", smbd::config::format_hex(&hash)).map_err(stdout_err)?;
            Ok(0)
        }
        Command::CheckConfig(path) => {
            check_config(&path)?;
            writeln!(out, "ok").map_err(stdout_err)?;
            Ok(0)
        }
        Command::AddAccount {
            config,
            user,
            rid,
            groups,
            password,
        } => {
            let password = match password {
                PasswordSource::Given(p) => p,
                PasswordSource::Stdin => read_password(stdin)?,
            };
            if password.is_empty() {
                return Err(ToolError::Invalid("the password is empty".into()));
            }
            let account = NewAccount {
                name: &user,
                nt_hash: acceptor::nt_hash(&password),
                rid,
                groups: groups.as_deref(),
            };
            let outcome = add_account(&config, &account)?;
            let verb = match outcome {
                Outcome::Added => "added to",
                Outcome::Replaced => "updated in",
            };
            writeln!(out, "account {user} {verb} {}", config.display()).map_err(stdout_err)?;
            Ok(0)
        }
    }
}

/// Loads the configuration at `path` and checks its share paths.
pub fn check_config(path: &Path) -> Result<Config, ToolError> {
    let config = Config::load(path)?;
    config.check_paths().map_err(|e| ConfigError {
        file: path.display().to_string(),
        ..e
    })?;
    Ok(config)
}

/// Adds or replaces `account` in the configuration file at `path` (created if missing), after
/// checking that the result is a valid configuration. The file is replaced atomically; a new
/// file is readable by its owner only, an existing one keeps its permissions.
pub fn add_account(path: &Path, account: &NewAccount<'_>) -> Result<Outcome, ToolError> {
    smbd::config::validate_account_name(account.name)
        .map_err(|m| ToolError::Invalid(format!("user name {:?}: {m}", account.name)))?;
    let (before, existing) = match std::fs::read_to_string(path) {
        Ok(text) => (text, true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (String::new(), false),
        Err(e) => return Err(ToolError::io(path, e)),
    };
    let (mut after, outcome) = account::upsert_account(&before, account)?;
    if !existing {
        after.insert_str(0, &format!("{NEW_FILE_HEADER}\n"));
    }
    Config::parse(&after, &path.display().to_string())?;
    write_atomically(path, after.as_bytes(), existing)?;
    Ok(outcome)
}

fn write_atomically(path: &Path, bytes: &[u8], existing: bool) -> Result<(), ToolError> {
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".smbd-tools-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        if existing {
            file.set_permissions(std::fs::metadata(path)?.permissions())?;
        }
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ToolError::io(path, e)
    })
}

/// Writes a new file readable by its owner only, replacing `path` atomically.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ToolError> {
    write_atomically(path, bytes, false)
}

/// Reads one line from `stdin` as a password, without its line ending.
pub(crate) fn read_password(stdin: &mut dyn BufRead) -> Result<String, ToolError> {
    let mut line = String::new();
    let n = stdin
        .read_line(&mut line)
        .map_err(|e| ToolError::io("stdin", e))?;
    if n == 0 {
        return Err(ToolError::Invalid("no password on standard input".into()));
    }
    if line.ends_with('\n') {
        line.pop();
        if line.ends_with('\r') {
            line.pop();
        }
    }
    Ok(line)
}

#[cfg(test)]
mod tests;
