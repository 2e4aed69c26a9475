//! The `smbd` command line, as clap definitions. It lives in the library, not the binary, so
//! that `smbd-tools generate` renders smbd's man page and completions from the same definitions
//! the binary parses with.

use std::path::PathBuf;

use clap::Parser;

/// The port `--quick-start` listens on unless `--port` says otherwise.
pub const QUICK_START_PORT: u16 = 4445;

/// `smbd`: serve the shares of a configuration file, or a local folder with a demo account.
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(
    name = "smbd",
    version,
    about = "An SMB 2.0.2 to 3.1.1 file server",
    long_about = "An SMB 2.0.2 to 3.1.1 file server.\n\n\
        Serves the shares of the configuration file given with --config (see \
        smbd.example.toml; check one with `smbd-tools config check FILE`), or, with \
        --quick-start, one local folder on 127.0.0.1 with the account demo (password demo).\n\n\
        The log level is the configuration's log_level unless RUST_LOG is set. SIGHUP re-reads \
        the keytabs; SIGTERM and SIGINT stop the server.",
    after_help = "Examples:\n  smbd --config /etc/smbd.toml\n  smbd --quick-start --share ./demo-share"
)]
pub struct Cli {
    /// The configuration file (TOML).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "quick_start",
        conflicts_with = "quick_start"
    )]
    pub config: Option<PathBuf>,
    /// Serve one local folder on 127.0.0.1 with the account demo (password demo), no
    /// configuration file needed.
    #[arg(long)]
    pub quick_start: bool,
    /// With --quick-start: the TCP port to listen on.
    #[arg(long, value_name = "N", conflicts_with = "config", default_value_t = QUICK_START_PORT)]
    pub port: u16,
    /// With --quick-start: the folder to share (created if missing).
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "config",
        default_value = "demo-share"
    )]
    pub share: PathBuf,
    /// With --quick-start: the state directory [default: .smbd-demo-state beside the share].
    #[arg(long, value_name = "DIR", conflicts_with = "config")]
    pub state: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("smbd").chain(args.iter().copied()))
    }

    #[test]
    fn the_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn config_or_quick_start() {
        let cli = parse(&["--config", "/etc/smbd.toml"]).unwrap();
        assert_eq!(cli.config, Some(PathBuf::from("/etc/smbd.toml")));
        assert!(!cli.quick_start);
        assert_eq!(
            parse(&["--config=/etc/smbd.toml"]).unwrap().config,
            cli.config
        );

        let cli = parse(&["--quick-start"]).unwrap();
        assert!(cli.quick_start && cli.config.is_none());
        assert_eq!(
            (cli.port, cli.share, cli.state),
            (QUICK_START_PORT, PathBuf::from("demo-share"), None)
        );
        let cli = parse(&[
            "--quick-start",
            "--port",
            "5445",
            "--share",
            "/srv/s",
            "--state",
            "/var/lib/s",
        ])
        .unwrap();
        assert_eq!(
            (cli.port, cli.share, cli.state),
            (
                5445,
                PathBuf::from("/srv/s"),
                Some(PathBuf::from("/var/lib/s"))
            )
        );
    }

    #[test]
    fn bad_command_lines_are_usage_errors() {
        use clap::error::ErrorKind;
        let kind = |args: &[&str]| parse(args).unwrap_err().kind();
        assert_eq!(kind(&[]), ErrorKind::MissingRequiredArgument);
        assert_eq!(
            kind(&["--config", "a", "--quick-start"]),
            ErrorKind::ArgumentConflict
        );
        assert_eq!(
            kind(&["--config", "a", "--port", "1"]),
            ErrorKind::ArgumentConflict
        );
        assert_eq!(kind(&["--share", "s"]), ErrorKind::MissingRequiredArgument);
        assert_eq!(
            kind(&["--quick-start", "--port", "70000"]),
            ErrorKind::ValueValidation
        );
        assert_eq!(kind(&["--bogus"]), ErrorKind::UnknownArgument);
        assert_eq!(kind(&["--config"]), ErrorKind::InvalidValue);
        let e = parse(&["--help"]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DisplayHelp);
        assert!(e.to_string().contains("--quick-start"));
        assert_eq!(
            parse(&["--version"]).unwrap_err().kind(),
            ErrorKind::DisplayVersion
        );
    }
}
