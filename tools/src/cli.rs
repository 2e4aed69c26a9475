//! The `smbd-tools` command line, as clap definitions: nouns, then verbs (`keytab add`), long
//! flags in kebab case. `smbd-tools generate` renders completions and man pages from these
//! definitions and [`smbd::cli::Cli`].

use std::path::PathBuf;

use acceptor::krb5::crypto::Etype;
use clap::{Args, Parser, Subcommand};

/// `smbd-tools`: administration commands for the SMB server.
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(
    name = "smbd-tools",
    version,
    about = "Administration commands for the smbd SMB server",
    long_about = "Administration commands for the smbd SMB server: accounts and checks of its \
        configuration file, Kerberos keytabs, the security descriptors it stores on disk, and \
        the running server's sessions, opens and locks through its admin socket.\n\n\
        Exit codes: 0 on success, 1 when the command failed, 2 when the command line is wrong."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Accounts of the configuration file ([[account]] tables).
    #[command(subcommand)]
    Account(AccountCommand),
    /// The configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Kerberos keytabs: write service keys, list them, make the server re-read them.
    #[command(subcommand)]
    Keytab(KeytabCommand),
    /// Shares of the configuration file ([[share]] tables): list, add, remove; the running
    /// server is told to reload.
    #[command(subcommand)]
    Share(ShareCommand),
    /// The security descriptor stored for a file or folder in a share folder (an admin's
    /// icacls on the server's own disk).
    #[command(subcommand)]
    Acl(AclCommand),
    /// The running server's sessions, opens and byte-range locks, through its admin socket.
    #[command(
        long_about = "The running server's sessions (user, auth method, dialect, signing, cipher, \
            channels), opens (path, access, sharing, caching, durable or persistent, disconnected \
            and waiting for a reconnect, locks) and byte-range locks, read through its admin \
            socket. Tables by default; --json prints one JSON object with a list per section \
            (sessions also carry the user's SID, groups and every channel). --sessions, --opens \
            and --locks pick sections; without any, all three are shown."
    )]
    Status(StatusArgs),
    /// Make the running server re-read its whole configuration now (as SIGHUP does).
    #[command(
        long_about = "Make the running server re-read its whole configuration file now, as \
            SIGHUP does: shares added, removed or changed (the trees of a removed or changed \
            share end; clients connect again), accounts, keytabs, principals, limits, the log \
            level and the audit log, without dropping other sessions. A file with an error is \
            refused as a whole (exit status 1) and the running configuration stays. Keys that \
            only apply at start (listen, server_name, ciphers...) are named in the reply."
    )]
    Reload(AdminSocket),
    /// Shell completions and man pages, for packaging.
    #[command(subcommand, hide = true)]
    Generate(GenerateCommand),
    /// The spelling of `account add` before commands were grouped (kept for scripts).
    #[command(name = "add-account", hide = true)]
    AddAccount(AccountAddArgs),
    /// The spelling of `account nt-hash` before commands were grouped (kept for scripts).
    #[command(name = "nt-hash", hide = true)]
    NtHash,
    /// The spelling of `config check` before commands were grouped (kept for scripts).
    #[command(name = "check-config", hide = true)]
    CheckConfig(ConfigCheckArgs),
    /// The spelling of `keytab reload` before commands were grouped (kept for scripts).
    #[command(name = "reload-keytabs", hide = true)]
    ReloadKeytabs(AdminSocket),
}

/// `account ...`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum AccountCommand {
    /// Add or replace an [[account]] in the configuration file (created if missing), storing
    /// only the NT hash of the password.
    #[command(
        long_about = "Add or replace an [[account]] in the configuration file (created if \
            missing, readable by its owner only), storing only the NT hash of the password. The \
            password is read from one line of standard input unless --password is given. \
            Replacing an account keeps its rid and groups unless --rid or --group are given. \
            Replacing an account's password keeps the old hash as previous_nt_hash, still \
            accepted for --keep-old-for (24h by default; 0 drops it), so clients can change \
            over. \
            The file's comments and other tables are kept, and it is replaced atomically only \
            if the result is a valid configuration."
    )]
    Add(AccountAddArgs),
    /// Read a password (one line) on standard input and print its NT hash in hex.
    NtHash,
}

/// `account add`'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct AccountAddArgs {
    /// The configuration file to edit (created if missing).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// The user name.
    #[arg(long, value_name = "NAME")]
    pub user: String,
    /// The account's RID (default: kept, or the next free one from 1001).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rid: Option<u32>,
    /// A group SID of the account's token (repeat for several; default: kept, or none).
    #[arg(long = "group", value_name = "SID", value_parser = parse_sid)]
    pub groups: Vec<acl::Sid>,
    /// When replacing a password, how long the old one still logs on (e.g. 24h, 7d, 90min;
    /// 0 drops it at once).
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_duration)]
    pub keep_old_for: std::time::Duration,
    /// Where the password comes from.
    #[command(flatten)]
    pub password: PasswordArgs,
}

/// Where a password comes from: standard input unless `--password` is given.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
#[group(multiple = false)]
pub struct PasswordArgs {
    /// Read the password from one line of standard input (the default).
    #[arg(long)]
    pub password_stdin: bool,
    /// The password itself (visible to other local users: prefer standard input).
    #[arg(long, value_name = "PASS")]
    pub password: Option<String>,
}

/// `config ...`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum ConfigCommand {
    /// Load a configuration file and check its share paths; print "ok" or the error (exit
    /// code 0 or 1).
    Check(ConfigCheckArgs),
}

/// `share ...`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum ShareCommand {
    /// The configuration's shares: name, path, read-only, encryption, comment.
    List(ShareListArgs),
    /// Add a [[share]] to the configuration file and make the running server serve it.
    #[command(
        long_about = "Add a [[share]] table to the configuration file (its comments and other \
            tables are kept; it is replaced atomically only if the result is a valid \
            configuration whose share folders exist), then make the running server reload it \
            through its admin socket, unless --no-reload. A share of that name must not exist."
    )]
    Add(ShareAddArgs),
    /// Remove a [[share]] from the configuration file; the running server ends its trees.
    Remove(ShareRemoveArgs),
}

/// `share list`'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ShareListArgs {
    /// The configuration file.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// One JSON object per share instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `share add`'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ShareAddArgs {
    /// The configuration file.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// The share's name as clients see it.
    #[arg(long)]
    pub name: String,
    /// The folder it serves (must exist).
    #[arg(long, value_name = "DIR")]
    pub path: PathBuf,
    /// Comment shown in share lists.
    #[arg(long, default_value = "")]
    pub comment: String,
    /// Refuse every change through this share.
    #[arg(long)]
    pub read_only: bool,
    /// Encryption: off, desired or required.
    #[arg(long, value_name = "POLICY", default_value = "off",
          value_parser = ["off", "desired", "required"])]
    pub encrypt: String,
    /// Only edit the file; do not tell the running server.
    #[arg(long)]
    pub no_reload: bool,
}

/// `share remove`'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ShareRemoveArgs {
    /// The configuration file.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// The share's name (case-insensitive).
    #[arg(long)]
    pub name: String,
    /// Only edit the file; do not tell the running server.
    #[arg(long)]
    pub no_reload: bool,
}

/// `config check`'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ConfigCheckArgs {
    /// The configuration file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// `keytab ...`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum KeytabCommand {
    /// Add keys derived from the service's password to a keytab (created with mode 0600).
    #[command(
        long_about = "Add keys derived from the service's password to a keytab (created with \
            mode 0600): RFC 3962 / RFC 8009 string-to-key with the default salt (the realm, \
            then the principal's components) or --salt; arcfour-hmac from the NT hash. Entries \
            with the same principal, kvno and enctype are replaced. The password is read from \
            one line of standard input unless --password is given."
    )]
    Add(KeytabAddArgs),
    /// List a keytab's entries: KVNO, principal and enctype (like klist -k -e).
    List(KeytabListArgs),
    /// Rotate a principal's keys: new keys from the new password at the next kvno, the
    /// previous kvno kept, older ones removed.
    #[command(
        long_about = "Rotate a principal's keys, as an Active Directory computer-account password \
            change or Entra's server key rotation does: keys derived from the new password (as \
            `keytab add`) are written with the next kvno (the principal's newest + 1; kvnos are \
            32-bit and wrap past 4294967295 to 1) or --kvno. The keys of the previous kvno are \
            kept, so tickets issued before the change stay valid for their lifetime (by default \
            10 hours in AD, a day in MIT); older generations of that principal are removed (keep \
            more with --keep). Other principals are untouched. The keytab is replaced \
            atomically with mode 0600. Change the password in the KDC first (or in the same \
            minute): tickets for the new kvno fail until the server has reloaded. With --socket \
            or --config the running server is told to reload; otherwise run `smbd-tools \
            reload`. Remove the previous generation later by rotating again, or with --keep 1."
    )]
    Rotate(KeytabRotateArgs),
    /// Make the running server re-read its keytabs now (with the rest of its configuration,
    /// as SIGHUP does).
    Reload(AdminSocket),
}

/// `keytab add`'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct KeytabAddArgs {
    /// The keytab file (created if missing).
    #[arg(long, value_name = "FILE")]
    pub keytab: PathBuf,
    /// The service principal, e.g. cifs/fs.example.test@EXAMPLE.TEST.
    #[arg(long, value_name = "NAME@REALM")]
    pub principal: String,
    /// The key version number.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub kvno: u32,
    /// An enctype to write (repeat for several): aes256-cts-hmac-sha1-96,
    /// aes128-cts-hmac-sha1-96, aes128-cts-hmac-sha256-128, aes256-cts-hmac-sha384-192,
    /// arcfour-hmac [default: the two AES SHA-1 ones].
    #[arg(long = "etype", value_name = "ENCTYPE", value_parser = parse_etype)]
    pub etypes: Vec<Etype>,
    /// The salt, instead of the default one.
    #[arg(long, value_name = "SALT")]
    pub salt: Option<String>,
    /// Where the password comes from.
    #[command(flatten)]
    pub password: PasswordArgs,
}

/// `keytab rotate`'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct KeytabRotateArgs {
    /// The keytab file (created if missing).
    #[arg(long, value_name = "FILE")]
    pub keytab: PathBuf,
    /// The service principal, e.g. cifs/fs.example.test@EXAMPLE.TEST.
    #[arg(long, value_name = "NAME@REALM")]
    pub principal: String,
    /// The new key version number [default: the principal's newest kvno + 1, or 1].
    #[arg(long, value_name = "N")]
    pub kvno: Option<u32>,
    /// Generations of the principal's keys to keep, the new one included (2: the new and the
    /// previous one).
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub keep: u32,
    /// An enctype to write (repeat for several), as for `keytab add` [default: the two AES
    /// SHA-1 ones].
    #[arg(long = "etype", value_name = "ENCTYPE", value_parser = parse_etype)]
    pub etypes: Vec<Etype>,
    /// The salt, instead of the default one.
    #[arg(long, value_name = "SALT")]
    pub salt: Option<String>,
    /// Where the password comes from.
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Then make the server behind this admin socket reload.
    #[arg(long, value_name = "PATH", conflicts_with = "config")]
    pub socket: Option<PathBuf>,
    /// Then make the server of this configuration file reload (through its admin socket).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `keytab list`'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct KeytabListArgs {
    /// The keytab file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// `acl ...`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum AclCommand {
    /// Print the security descriptor stored for a file or folder inside a share folder, as
    /// SDDL and as a table.
    Get(AclGetArgs),
    /// Store a security descriptor, given in SDDL, for a file or folder inside a share folder
    /// (what the server enforces from then on).
    Set(AclSetArgs),
}

/// `acl get`'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct AclGetArgs {
    /// The file or folder.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// The domain SID that aliases such as DA and DU are printed relative to.
    #[arg(long, value_name = "SID", value_parser = parse_sid)]
    pub domain: Option<acl::Sid>,
}

/// `acl set`'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct AclSetArgs {
    /// The file or folder.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// The descriptor in SDDL, e.g. "O:BAG:BAD:(A;;FA;;;BA)".
    #[arg(value_name = "SDDL")]
    pub sddl: String,
    /// The domain SID that aliases such as DA and DU stand for.
    #[arg(long, value_name = "SID", value_parser = parse_sid)]
    pub domain: Option<acl::Sid>,
}

/// How to reach the running server's admin socket: one of `--socket` and `--config`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
#[group(required = true, multiple = false)]
pub struct AdminSocket {
    /// The admin socket's path.
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// The server's configuration file, which names the admin socket (admin_socket, default
    /// <state_dir>/admin.sock).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `status`'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct StatusArgs {
    /// Where the server is.
    #[command(flatten)]
    pub socket: AdminSocket,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Show the sessions.
    #[arg(long)]
    pub sessions: bool,
    /// Show the opens.
    #[arg(long)]
    pub opens: bool,
    /// Show the byte-range locks.
    #[arg(long)]
    pub locks: bool,
}

/// `generate ...`: files for packaging, from these definitions and smbd's.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum GenerateCommand {
    /// Shell completions of smbd and smbd-tools: into DIR, one file per program (named as the
    /// shell expects), or smbd-tools' on standard output.
    Completions(CompletionsArgs),
    /// Man pages (section 8) of smbd, smbd-tools and each smbd-tools command, into DIR.
    Man(ManArgs),
}

/// `generate completions`' arguments.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
    /// The directory to write into (created if missing); standard output without it.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `generate man`'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ManArgs {
    /// The directory to write into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e}"))
}

fn parse_sid(s: &str) -> Result<acl::Sid, String> {
    s.parse().map_err(|e| format!("{e}"))
}

/// Parses an enctype by its MIT name or a short alias.
pub fn parse_etype(s: &str) -> Result<Etype, String> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "aes128-cts-hmac-sha1-96" | "aes128-cts" | "aes128" => Etype::AES128_SHA1,
        "aes256-cts-hmac-sha1-96" | "aes256-cts" | "aes256" => Etype::AES256_SHA1,
        "aes128-cts-hmac-sha256-128" | "aes128-sha2" => Etype::AES128_SHA256,
        "aes256-cts-hmac-sha384-192" | "aes256-sha2" => Etype::AES256_SHA384,
        "arcfour-hmac" | "rc4-hmac" | "rc4" => Etype::RC4_HMAC,
        other => return Err(format!("unknown enctype {other:?}")),
    })
}

#[cfg(test)]
mod tests;
