//! Parsing of the command line: every command, the spellings kept for scripts, usage errors
//! and `--help` everywhere.

use clap::CommandFactory;
use clap::error::ErrorKind;

use super::*;

fn parse(args: &[&str]) -> Result<Command, clap::Error> {
    Cli::try_parse_from(std::iter::once("smbd-tools").chain(args.iter().copied()))
        .map(|c| c.command)
}

fn kind(args: &[&str]) -> ErrorKind {
    parse(args).unwrap_err().kind()
}

fn add_args(groups: Vec<acl::Sid>, rid: Option<u32>, password: Option<&str>) -> AccountAddArgs {
    AccountAddArgs {
        config: "s.toml".into(),
        user: "alice".into(),
        rid,
        groups,
        keep_old_for: std::time::Duration::from_secs(24 * 3600),
        password: PasswordArgs {
            password_stdin: false,
            password: password.map(str::to_owned),
        },
    }
}

#[test]
fn the_definitions_are_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn account_commands() {
    let cmd = parse(&[
        "account",
        "add",
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
    ])
    .unwrap();
    let full = add_args(
        vec![
            acl::Sid::builtin_administrators(),
            acl::Sid::builtin_users(),
        ],
        Some(1200),
        Some("pw"),
    );
    assert_eq!(cmd, Command::Account(AccountCommand::Add(full)));
    let short = ["account", "add", "--config", "s.toml", "--user", "alice"];
    assert_eq!(
        parse(&short).unwrap(),
        Command::Account(AccountCommand::Add(add_args(vec![], None, None)))
    );
    assert_eq!(
        parse(&["account", "nt-hash"]).unwrap(),
        Command::Account(AccountCommand::NtHash)
    );

    assert_eq!(
        kind(&["account", "add", "--user", "u"]),
        ErrorKind::MissingRequiredArgument
    );
    assert_eq!(
        kind(&["account", "add", "--config"]),
        ErrorKind::InvalidValue
    );
    let with = |extra: &[&'static str]| [&short[..], extra].concat();
    assert_eq!(kind(&with(&["--bogus"])), ErrorKind::UnknownArgument);
    assert_eq!(
        kind(&with(&["--password-stdin", "--password", "x"])),
        ErrorKind::ArgumentConflict
    );
    assert_eq!(kind(&with(&["--rid", "0"])), ErrorKind::ValueValidation);
    assert_eq!(kind(&with(&["--group", "x"])), ErrorKind::ValueValidation);
    assert_eq!(
        kind(&with(&["--user", "bob"])),
        ErrorKind::ArgumentConflict,
        "a flag given twice"
    );
    assert_eq!(
        kind(&["account", "nt-hash", "x"]),
        ErrorKind::UnknownArgument
    );
}

#[test]
fn config_keytab_and_acl_commands() {
    assert_eq!(
        parse(&["config", "check", "f"]).unwrap(),
        Command::Config(ConfigCommand::Check(ConfigCheckArgs { file: "f".into() }))
    );
    assert_eq!(
        kind(&["config", "check"]),
        ErrorKind::MissingRequiredArgument
    );

    let Command::Keytab(KeytabCommand::Add(a)) = parse(&[
        "keytab",
        "add",
        "--keytab",
        "k",
        "--principal",
        "cifs/h@R",
        "--etype",
        "aes256",
        "--etype",
        "arcfour-hmac",
        "--password-stdin",
    ])
    .unwrap() else {
        panic!("keytab add");
    };
    assert_eq!(
        (a.kvno, a.etypes),
        (1, vec![Etype::AES256_SHA1, Etype::RC4_HMAC])
    );
    assert!(a.password.password_stdin && a.salt.is_none());
    assert_eq!(
        kind(&[
            "keytab",
            "add",
            "--keytab",
            "k",
            "--principal",
            "p",
            "--etype",
            "des"
        ]),
        ErrorKind::ValueValidation
    );
    assert_eq!(
        parse(&["keytab", "list", "k"]).unwrap(),
        Command::Keytab(KeytabCommand::List(KeytabListArgs { file: "k".into() }))
    );
    let socket = |s: Option<&str>, c: Option<&str>| AdminSocket {
        socket: s.map(Into::into),
        config: c.map(Into::into),
    };
    assert_eq!(
        parse(&["keytab", "reload", "--config", "c"]).unwrap(),
        Command::Keytab(KeytabCommand::Reload(socket(None, Some("c"))))
    );

    let Command::Acl(AclCommand::Set(a)) = parse(&[
        "acl",
        "set",
        "--domain",
        "S-1-5-21-1-2-3",
        "p",
        "D:(A;;FA;;;WD)",
    ])
    .unwrap() else {
        panic!("acl set");
    };
    assert_eq!((a.path, a.sddl.as_str()), ("p".into(), "D:(A;;FA;;;WD)"));
    assert!(a.domain.is_some());
    assert!(matches!(
        parse(&["acl", "get", "p"]).unwrap(),
        Command::Acl(AclCommand::Get(AclGetArgs { domain: None, .. }))
    ));
    assert_eq!(
        kind(&["acl", "set", "p"]),
        ErrorKind::MissingRequiredArgument
    );
}

#[test]
fn status_needs_exactly_one_way_to_the_server() {
    let Command::Status(s) =
        parse(&["status", "--socket", "/run/a.sock", "--json", "--locks"]).unwrap()
    else {
        panic!("status");
    };
    assert_eq!(s.socket.socket, Some("/run/a.sock".into()));
    assert!(s.json && s.locks && !s.opens && !s.sessions);
    assert_eq!(kind(&["status"]), ErrorKind::MissingRequiredArgument);
    assert_eq!(
        kind(&["status", "--socket", "a", "--config", "b"]),
        ErrorKind::ArgumentConflict
    );
}

#[test]
fn earlier_spellings_still_parse() {
    assert!(matches!(
        parse(&["add-account", "--config", "c", "--user", "u"]).unwrap(),
        Command::AddAccount(_)
    ));
    assert_eq!(parse(&["nt-hash"]).unwrap(), Command::NtHash);
    assert!(matches!(
        parse(&["check-config", "f"]).unwrap(),
        Command::CheckConfig(_)
    ));
    assert!(matches!(
        parse(&["reload-keytabs", "--socket", "s"]).unwrap(),
        Command::ReloadKeytabs(_)
    ));
    let help = Cli::command().render_help().to_string();
    assert!(
        !help.contains("add-account") && !help.contains("generate"),
        "{help}"
    );
}

#[test]
fn generate_commands() {
    assert_eq!(
        parse(&["generate", "completions", "bash", "--out", "d"]).unwrap(),
        Command::Generate(GenerateCommand::Completions(CompletionsArgs {
            shell: clap_complete::Shell::Bash,
            out: Some("d".into()),
        }))
    );
    assert_eq!(
        kind(&["generate", "completions", "tcsh"]),
        ErrorKind::InvalidValue
    );
    assert_eq!(
        kind(&["generate", "man"]),
        ErrorKind::MissingRequiredArgument
    );
}

/// Every command, visible or not, answers `--help` with its usage.
#[test]
fn help_on_every_command() {
    fn walk(cmd: &clap::Command, path: &mut Vec<String>) {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let e = parse(&args).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DisplayHelp, "{args:?}");
        assert!(e.to_string().contains("Usage: smbd-tools"), "{args:?}");
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            path.push(sub.get_name().to_owned());
            walk(sub, path);
            path.pop();
        }
    }
    let mut cmd = Cli::command();
    cmd.build();
    walk(&cmd, &mut Vec::new());
    assert_eq!(
        kind(&[]),
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    assert_eq!(kind(&["frobnicate"]), ErrorKind::InvalidSubcommand);
}
