//! Command-line parsing (plain `std::env::args`, no framework).

use std::path::PathBuf;

use crate::error::ToolError;

/// Where `add-account` takes the password from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// One line read from standard input (the default).
    Stdin,
    /// Given on the command line (visible to other local users: prefer stdin).
    Given(String),
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `add-account`: add or replace an `[[account]]` table.
    AddAccount {
        /// The configuration file to edit (created if missing).
        config: PathBuf,
        /// The user name.
        user: String,
        /// The RID, if given.
        rid: Option<u32>,
        /// Group SIDs; `None` when no `--group` was given (keep existing groups).
        groups: Option<Vec<acl::Sid>>,
        /// Where the password comes from.
        password: PasswordSource,
    },
    /// `nt-hash`: print the NT hash of the password on stdin.
    NtHash,
    /// `check-config FILE`: load and check a configuration.
    CheckConfig(PathBuf),
    /// `help`: print usage.
    Help,
}

/// Usage text.
pub const USAGE: &str = "\
usage:
  smbd-tools add-account --config FILE --user NAME [--rid N] [--group SID]...
                         [--password-stdin | --password PASS]
      Add or replace an [[account]] in FILE (created if missing), storing only the NT hash.
      The password is read from one line of stdin unless --password is given. Replacing an
      account keeps its rid and groups unless --rid or --group are given.
  smbd-tools nt-hash
      Read a password (one line) on stdin and print its NT hash in hex.
  smbd-tools check-config FILE
      Load FILE and check its share paths; print \"ok\" or the error (exit code 0 or 1).
  smbd-tools help
";

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, ToolError> {
    let Some((command, rest)) = args.split_first() else {
        return Err(ToolError::Usage("no command given".into()));
    };
    match command.as_str() {
        "add-account" => parse_add_account(rest),
        "nt-hash" => no_more(rest).map(|()| Command::NtHash),
        "check-config" => match rest {
            [file] if !file.starts_with("--") => Ok(Command::CheckConfig(PathBuf::from(file))),
            _ => Err(ToolError::Usage(
                "check-config takes exactly one FILE".into(),
            )),
        },
        "help" | "--help" | "-h" => Ok(Command::Help),
        other => Err(ToolError::Usage(format!("unknown command {other:?}"))),
    }
}

fn no_more(rest: &[String]) -> Result<(), ToolError> {
    match rest.first() {
        None => Ok(()),
        Some(extra) => Err(ToolError::Usage(format!("unexpected argument {extra:?}"))),
    }
}

fn parse_add_account(rest: &[String]) -> Result<Command, ToolError> {
    let mut config = None;
    let mut user = None;
    let mut rid = None;
    let mut groups: Option<Vec<acl::Sid>> = None;
    let mut password = None;
    let mut iter = rest.iter();
    while let Some(arg) = iter.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| iter.next().cloned())
                .ok_or_else(|| ToolError::Usage(format!("{flag} needs a value")))
        };
        match flag {
            "--config" => set_once(&mut config, flag, PathBuf::from(value()?))?,
            "--user" => set_once(&mut user, flag, value()?)?,
            "--rid" => {
                let text = value()?;
                let n = text
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n != 0)
                    .ok_or_else(|| {
                        ToolError::Invalid(format!(
                            "--rid {text:?} is not a number from 1 to 4294967295"
                        ))
                    })?;
                set_once(&mut rid, flag, n)?;
            }
            "--group" => {
                let text = value()?;
                let sid = text
                    .parse::<acl::Sid>()
                    .map_err(|e| ToolError::Invalid(format!("--group {text:?}: {e}")))?;
                groups.get_or_insert_with(Vec::new).push(sid);
            }
            "--password-stdin" if inline.is_none() => {
                set_once(&mut password, flag, PasswordSource::Stdin)?
            }
            "--password" => set_once(&mut password, flag, PasswordSource::Given(value()?))?,
            _ => {
                return Err(ToolError::Usage(format!(
                    "add-account: unknown argument {flag:?}"
                )));
            }
        }
    }
    Ok(Command::AddAccount {
        config: config.ok_or_else(|| ToolError::Usage("add-account needs --config FILE".into()))?,
        user: user.ok_or_else(|| ToolError::Usage("add-account needs --user NAME".into()))?,
        rid,
        groups,
        password: password.unwrap_or(PasswordSource::Stdin),
    })
}

fn set_once<T>(slot: &mut Option<T>, flag: &str, value: T) -> Result<(), ToolError> {
    if slot.is_some() {
        let what = if flag.starts_with("--password") {
            "a password option"
        } else {
            flag
        };
        return Err(ToolError::Usage(format!("{what} given twice")));
    }
    *slot = Some(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn add_account_full() {
        let cmd = parse(&args(&[
            "add-account",
            "--config",
            "s.toml",
            "--user=alice",
            "--rid",
            "1200",
            "--group",
            "S-1-5-32-544",
            "--group=S-1-5-32-545",
            "--password",
            "pw",
        ]))
        .unwrap();
        assert_eq!(
            cmd,
            Command::AddAccount {
                config: "s.toml".into(),
                user: "alice".into(),
                rid: Some(1200),
                groups: Some(vec![
                    acl::Sid::builtin_administrators(),
                    acl::Sid::builtin_users()
                ]),
                password: PasswordSource::Given("pw".into()),
            }
        );
    }

    #[test]
    fn add_account_defaults_and_errors() {
        let cmd = parse(&args(&["add-account", "--config", "c", "--user", "u"])).unwrap();
        assert!(matches!(
            cmd,
            Command::AddAccount {
                rid: None,
                groups: None,
                password: PasswordSource::Stdin,
                ..
            }
        ));
        let bad = |a: &[&str]| parse(&args(a)).unwrap_err();
        assert_eq!(bad(&["add-account", "--user", "u"]).exit_code(), 2);
        assert_eq!(bad(&["add-account", "--config", "c"]).exit_code(), 2);
        assert_eq!(bad(&["add-account", "--config"]).exit_code(), 2);
        assert_eq!(
            bad(&["add-account", "--config", "c", "--user", "u", "--bogus"]).exit_code(),
            2
        );
        let twice = [
            "add-account",
            "--config",
            "c",
            "--user",
            "u",
            "--password-stdin",
            "--password",
            "x",
        ];
        assert!(bad(&twice).to_string().contains("given twice"));
        assert_eq!(
            bad(&["add-account", "--config", "c", "--user", "u", "--rid", "0"]).exit_code(),
            1
        );
        assert_eq!(
            bad(&[
                "add-account",
                "--config",
                "c",
                "--user",
                "u",
                "--group",
                "x"
            ])
            .exit_code(),
            1
        );
    }

    #[test]
    fn other_commands() {
        assert_eq!(parse(&args(&["nt-hash"])).unwrap(), Command::NtHash);
        assert_eq!(
            parse(&args(&["check-config", "f"])).unwrap(),
            Command::CheckConfig("f".into())
        );
        assert_eq!(parse(&args(&["--help"])).unwrap(), Command::Help);
        assert!(parse(&args(&[])).is_err());
        assert!(parse(&args(&["check-config"])).is_err());
        assert!(parse(&args(&["nt-hash", "x"])).is_err());
        assert!(parse(&args(&["frobnicate"])).is_err());
    }
}
