//! Admin command-line tools for the SMB server: `account add|nt-hash`, `config check`,
//! `keytab add|list|rotate|reload`, `acl get|set`, `status`, and the hidden `generate
//! completions|man` for packaging. The command line is [`cli::Cli`] (clap).
//!
//! The binary is a thin wrapper over [`run`], so every command is testable with in-memory
//! streams.
#![forbid(unsafe_code)]

pub mod account;
pub mod acls;
pub mod cli;
pub mod error;
pub mod generate;
pub mod keytab;
pub mod share;
pub mod status;

use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::path::Path;

use clap::Parser;
use smbd::config::{Config, ConfigError};

pub use error::ToolError;

use account::{NEW_FILE_HEADER, NewAccount, Outcome};
use cli::{
    AccountAddArgs, AccountCommand, Cli, Command, ConfigCommand, KeytabCommand, PasswordArgs,
};

/// Runs the command in `args` (without the program name); returns the process exit code: 0
/// on success (and for `--help` and `--version`, printed on `out`), 1 when the command
/// failed, 2 when the command line is wrong.
pub fn run<I, T>(args: I, stdin: &mut dyn BufRead, out: &mut dyn Write, err: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let words =
        std::iter::once(OsString::from("smbd-tools")).chain(args.into_iter().map(Into::into));
    let cli = match Cli::try_parse_from(words) {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render().to_string();
            if e.use_stderr() {
                let _ = err.write_all(text.as_bytes());
            } else {
                let _ = out.write_all(text.as_bytes());
            }
            return e.exit_code();
        }
    };
    match execute(cli.command, stdin, out) {
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
        Command::Account(AccountCommand::NtHash) | Command::NtHash => {
            let password = read_password(stdin)?;
            let hash = acceptor::nt_hash(&password);
            writeln!(out, "{}", smbd::config::format_hex(&hash)).map_err(stdout_err)?;
            Ok(0)
        }
        Command::Config(ConfigCommand::Check(a)) | Command::CheckConfig(a) => {
            check_config(&a.file)?;
            writeln!(out, "ok").map_err(stdout_err)?;
            Ok(0)
        }
        Command::Account(AccountCommand::Add(a)) | Command::AddAccount(a) => {
            account_add(&a, stdin, out)
        }
        Command::Keytab(KeytabCommand::Add(a)) => keytab::add(&a, stdin, out),
        Command::Keytab(KeytabCommand::List(a)) => keytab::list(&a.file, out),
        Command::Keytab(KeytabCommand::Rotate(a)) => keytab::rotate(&a, stdin, out),
        Command::Keytab(KeytabCommand::Reload(s))
        | Command::ReloadKeytabs(s)
        | Command::Reload(s) => status::reload(&s, out),
        Command::Share(c) => share::run(&c, out),
        Command::Acl(a) => acls::run(&a, out),
        Command::Status(a) => status::status(&a, out),
        Command::Generate(g) => generate::run(&g, out),
    }
}

/// Runs `account add`.
fn account_add(
    a: &AccountAddArgs,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<i32, ToolError> {
    let password = password(&a.password, stdin)?;
    if password.is_empty() {
        return Err(ToolError::Invalid("the password is empty".into()));
    }
    let account = NewAccount {
        name: &a.user,
        nt_hash: acceptor::nt_hash(&password),
        rid: a.rid,
        groups: (!a.groups.is_empty()).then_some(a.groups.as_slice()),
        keep_old_until: (!a.keep_old_for.is_zero())
            .then(|| std::time::SystemTime::now() + a.keep_old_for),
    };
    let outcome = add_account(&a.config, &account)?;
    let verb = match outcome {
        Outcome::Added => "added to",
        Outcome::Replaced => "updated in",
    };
    writeln!(out, "account {} {verb} {}", a.user, a.config.display())
        .map_err(|e| ToolError::io("stdout", e))?;
    if let (Outcome::Replaced, Some(until)) = (outcome, account.keep_old_until) {
        writeln!(
            out,
            "a changed password's previous one still logs on until {}; \
             run `smbd-tools reload` to apply",
            humantime::format_rfc3339_seconds(until)
        )
        .map_err(|e| ToolError::io("stdout", e))?;
    }
    Ok(0)
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

/// Replaces `path` with `bytes` atomically (a temporary file renamed over it); an existing
/// file keeps its permissions, a new one is readable by its owner only.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8], existing: bool) -> Result<(), ToolError> {
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

/// The password `source` names: the one given, or one line of `stdin`.
pub(crate) fn password(
    source: &PasswordArgs,
    stdin: &mut dyn BufRead,
) -> Result<String, ToolError> {
    match &source.password {
        Some(p) => Ok(p.clone()),
        None => read_password(stdin),
    }
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
