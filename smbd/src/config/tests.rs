//! Tests of parsing, validation (exact lines and keys), quick start and path checks.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

/// A directory under the system temp directory, removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    /// Creates a fresh, empty directory whose name includes `tag`.
    pub(crate) fn new(tag: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("smbd-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const EXAMPLE: &str = include_str!("../../smbd.example.toml");

fn err(text: &str) -> ConfigError {
    Config::parse(text, "smbd.toml").expect_err("config should be rejected")
}

/// Asserts the error's line and key, and that its message contains `needle`.
fn assert_err(text: &str, line: usize, key: &str, needle: &str) {
    let e = err(text);
    assert_eq!(e.file, "smbd.toml", "{e}");
    assert_eq!(e.line, Some(line), "{e}");
    assert_eq!(e.key.as_deref(), Some(key), "{e}");
    assert!(
        e.message.contains(needle),
        "{e:?} should mention {needle:?}"
    );
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!("smbd.toml:{line}: {key}: ")),
        "{shown}"
    );
}

#[test]
fn example_config_parses() {
    let c = Config::parse(EXAMPLE, "smbd.example.toml").unwrap();
    assert_eq!(c.listen, "127.0.0.1:4445".parse().unwrap());
    assert_eq!(c.server_name, "FILESERVER");
    assert_eq!(c.server_comment, "Rust SMB server");
    assert_eq!(c.state_dir, PathBuf::from("/var/lib/smbd"));
    assert_eq!(c.signing, SigningPolicy::Required);
    assert_eq!(c.encrypt, EncryptPolicy::Off);
    assert_eq!(c.ciphers, Cipher::DEFAULT_ORDER);
    assert_eq!(c.signing_algorithms, SigningAlg::DEFAULT_ORDER);
    assert_eq!(c.max_read_size, 8 << 20);
    assert_eq!(c.max_write_size, 8 << 20);
    assert_eq!(c.max_transact_size, 8 << 20);
    assert_eq!(c.max_connections, 10_000);
    assert_eq!(c.max_credits, 8192);
    assert_eq!(c.log_level, "info");
    assert!(!c.allow_anonymous && !c.allow_ntlmv1);

    assert_eq!(c.shares.len(), 2);
    assert_eq!(c.shares[0].name, "public");
    assert_eq!(c.shares[0].path, PathBuf::from("/srv/smb/public"));
    assert!(c.shares[0].read_only);
    assert_eq!(c.shares[0].comment, "Read-only public files");
    assert_eq!(c.shares[1].encrypt, EncryptPolicy::Required);
    assert!(!c.shares[1].read_only);

    assert_eq!(c.accounts.len(), 2);
    let alice = &c.accounts[0];
    assert_eq!(alice.name, "alice");
    assert_eq!(alice.rid, 1100);
    assert_eq!(alice.groups, vec![acl::Sid::builtin_administrators()]);
    assert_eq!(alice.nt_hash, acceptor::nt_hash("password"));
    assert_eq!(c.accounts[1].rid, 1001, "default RID is 1000 + index");
    assert!(c.accounts[1].groups.is_empty());
}

#[test]
fn empty_file_gives_defaults() {
    let c = Config::parse("", "empty.toml").unwrap();
    let d = Config::defaults();
    assert_eq!(c, d);
    assert_eq!(c.listen, DEFAULT_LISTEN);
    assert_eq!(c.max_credits, 8192);
    assert_eq!(
        c.signing,
        SigningPolicy::Required,
        "sessions sign unless relaxed"
    );
    assert!(c.shares.is_empty() && c.accounts.is_empty());
    assert!(!c.server_name.is_empty() && c.server_name.len() <= 15);
    assert!(!c.server_name.contains(' '));
}

#[test]
fn exact_error_from_the_brief() {
    let text = "listen = \"0.0.0.0:445\"\n\
                [[share]]\n\
                name = \"a\"\n\
                path = \"/a\"\n\
                [[share]]\n\
                name = \"b\"\n\
                path = \"/b\"\n\
                encrypt = \"yes\"\n";
    assert_eq!(
        err(text).to_string(),
        "smbd.toml:8: share[1].encrypt: unknown value \"yes\" (expected required, desired or off)"
    );
}

#[test]
fn syntax_error_names_its_line() {
    let e = err("listen = \"127.0.0.1:445\"\n\nsigning = \n");
    assert_eq!(e.line, Some(3), "{e}");
    assert_eq!(e.key, None);
}

#[test]
fn duplicate_key_is_a_syntax_error() {
    let e = err("signing = \"enabled\"\nsigning = \"required\"\n");
    assert_eq!(e.line, Some(2), "{e}");
}

#[test]
fn unknown_keys() {
    assert_err(
        "listen = \"127.0.0.1:1\"\nlisten_port = 4\n",
        2,
        "listen_port",
        "unknown key",
    );
    assert_err(
        "[[share]]\nname = \"a\"\npath = \"/a\"\nreadonly = true\n",
        4,
        "share[0].readonly",
        "unknown key",
    );
    assert_err("[server]\nname = \"x\"\n", 1, "server", "unknown key");
}

#[test]
fn password_key_is_refused_with_advice() {
    let text = "[[account]]\nname = \"bob\"\npassword = \"hunter2\"\n";
    let e = err(text);
    assert_eq!(
        (e.line, e.key.as_deref()),
        (Some(3), Some("account[0].password"))
    );
    assert!(e.message.contains("smbd-tools account add"), "{e}");
    assert!(!e.to_string().contains("hunter2"));
}

#[test]
fn wrong_types() {
    assert_err(
        "max_credits = \"512\"\n",
        1,
        "max_credits",
        "expected an integer, found string",
    );
    assert_err(
        "\n\nallow_anonymous = 1\n",
        3,
        "allow_anonymous",
        "expected true or false",
    );
    assert_err("listen = 445\n", 1, "listen", "expected a string");
    assert_err(
        "ciphers = \"aes-128-gcm\"\n",
        1,
        "ciphers",
        "expected an array",
    );
    assert_err(
        "ciphers = [\"aes-128-gcm\", 3]\n",
        1,
        "ciphers[1]",
        "expected a string",
    );
    assert_err("x = 1\n", 1, "x", "unknown key");
    assert_err(
        "[share]\nname = \"a\"\n",
        1,
        "share",
        "expected an array of tables ([[share]])",
    );
}

#[test]
fn server_values() {
    assert_err("\nlisten = \"localhost\"\n", 2, "listen", "not an address");
    assert_err(
        "server_name = \"A VERY LONG SERVER NAME\"\n",
        1,
        "server_name",
        "1 to 15",
    );
    assert_err(
        "server_name = \"MY SERVER\"\n",
        1,
        "server_name",
        "must not contain ' '",
    );
    assert_err("server_name = \"\"\n", 1, "server_name", "1 to 15");
    assert_err("state_dir = \"\"\n", 1, "state_dir", "must not be empty");
    assert_err(
        "signing = \"always\"\n",
        1,
        "signing",
        "expected required or enabled",
    );
    assert_err(
        "encrypt = \"on\"\n",
        1,
        "encrypt",
        "expected required, desired or off",
    );
    assert_err(
        "log_level = \"info,[\"\n",
        1,
        "log_level",
        "not a log filter directive",
    );
    let c = Config::parse("server_name = \"files-1\"\n", "x").unwrap();
    assert_eq!(c.server_name, "FILES-1");
}

#[test]
fn algorithm_lists() {
    assert_err("\nciphers = []\n", 2, "ciphers", "at least one");
    assert_err(
        "signing_algorithms = []\n",
        1,
        "signing_algorithms",
        "at least one",
    );
    assert_err(
        "ciphers = [\n  \"aes-128-gcm\",\n  \"des\",\n]\n",
        3,
        "ciphers[1]",
        "unknown value \"des\" (expected aes-128-gcm, aes-256-gcm, aes-128-ccm or aes-256-ccm)",
    );
    assert_err(
        "signing_algorithms = [\"aes-cmac\", \"AES-CMAC\"]\n",
        1,
        "signing_algorithms[1]",
        "listed twice",
    );
    let c = Config::parse(
        "ciphers = [\"aes-256-gcm\"]\nsigning_algorithms = [\"hmac-sha256\"]",
        "x",
    )
    .unwrap();
    assert_eq!(c.ciphers, vec![Cipher::Aes256Gcm]);
    assert_eq!(c.signing_algorithms, vec![SigningAlg::HmacSha256]);
}

#[test]
fn size_ranges() {
    assert_err(
        "max_read_size = 65535\n",
        1,
        "max_read_size",
        "out of range",
    );
    assert_err(
        "\nmax_write_size = 16777217\n",
        2,
        "max_write_size",
        "out of range",
    );
    assert_err(
        "max_transact_size = -1\n",
        1,
        "max_transact_size",
        "out of range",
    );
    assert_err(
        "max_connections = 0\n",
        1,
        "max_connections",
        "out of range",
    );
    assert_err("max_credits = 0\n", 1, "max_credits", "out of range");
    assert_err("max_credits = 70000\n", 1, "max_credits", "out of range");
    let c = Config::parse(
        "max_read_size = 65536\nmax_write_size = 16711680\nmax_connections = 1\nmax_credits = 8192",
        "x",
    )
    .unwrap();
    assert_eq!(
        (c.max_read_size, c.max_write_size),
        (65536, MAX_MAX_IO_SIZE)
    );
    assert_err(
        "max_write_size = 16777216\n",
        1,
        "max_write_size",
        "out of range",
    );
    assert_eq!((c.max_connections, c.max_credits), (1, 8192));
}

#[test]
fn share_rules() {
    let share = |name: &str| format!("# shares\n[[share]]\nname = \"{name}\"\npath = \"/x\"\n");
    assert_err(&share("a/b"), 3, "share[0].name", "must not contain '/'");
    assert_err(&share("a*b"), 3, "share[0].name", "must not contain '*'");
    assert_err(&share(""), 3, "share[0].name", "1 to 80");
    assert_err(&share(&"s".repeat(81)), 3, "share[0].name", "1 to 80");
    assert_err(&share("ipc$"), 3, "share[0].name", "reserved");
    assert!(Config::parse(&share(&"s".repeat(80)), "x").is_ok());
    assert!(Config::parse(&share("data$"), "x").is_ok());

    let twice =
        "[[share]]\nname = \"Data\"\npath = \"/a\"\n\n[[share]]\nname = \"DATA\"\npath = \"/b\"\n";
    assert_err(twice, 6, "share[1].name", "defined twice");

    // A missing required key is reported at the table's header.
    let no_path = "listen = \"127.0.0.1:1\"\n\n[[share]]\nname = \"a\"\n";
    assert_err(no_path, 3, "share[0].path", "missing required key");
    assert_err(
        "[[share]]\npath = \"/a\"\n",
        1,
        "share[0].name",
        "missing required key",
    );
    assert_err(
        "[[share]]\nname = \"a\"\npath = \"\"\n",
        3,
        "share[0].path",
        "must not be empty",
    );
    assert_err(
        "[[share]]\nname = \"a\"\npath = \"/a\"\nread_only = \"yes\"\n",
        4,
        "share[0].read_only",
        "expected true or false",
    );
}

#[test]
fn inline_table_arrays_are_accepted() {
    let text = "share = [\n  { name = \"a\", path = \"/a\" },\n  { name = \"b\", path = \"/b\", bad = 1 },\n]\n";
    assert_err(text, 3, "share[1].bad", "unknown key");
    let ok = "share = [{ name = \"a\", path = \"/a\", read_only = true }]\n";
    let c = Config::parse(ok, "x").unwrap();
    assert!(c.shares[0].read_only);
    assert_err("share = [1]\n", 1, "share[0]", "expected a table");
}

#[test]
fn account_rules() {
    let hash = "8846f7eaee8fb117ad06bdd830b7586c";
    let account = |name: &str, extra: &str| {
        format!("[[account]]\nname = \"{name}\"\nnt_hash = \"{hash}\"\n{extra}")
    };
    assert_err(
        &account("a@b", ""),
        2,
        "account[0].name",
        "must not contain '@'",
    );
    assert_err(&account(" a", ""), 2, "account[0].name", "spaces");
    assert_err(
        &account("a", "rid = 0\n"),
        4,
        "account[0].rid",
        "out of range",
    );
    assert_err(
        &account("a", "groups = [\"S-1-5-32-544\", \"admins\"]\n"),
        4,
        "account[0].groups[1]",
        "\"admins\"",
    );

    let short = "[[account]]\nname = \"a\"\nnt_hash = \"8846f7\"\n";
    assert_err(
        short,
        3,
        "account[0].nt_hash",
        "exactly 32 hexadecimal digits",
    );
    let not_hex = format!(
        "[[account]]\nname = \"a\"\nnt_hash = \"{}\"\n",
        "zz".repeat(16)
    );
    assert_err(
        &not_hex,
        3,
        "account[0].nt_hash",
        "exactly 32 hexadecimal digits",
    );
    assert_err(
        "[[account]]\nname = \"a\"\n",
        1,
        "account[0].nt_hash",
        "missing required key",
    );

    let twice = format!("{}\n{}", account("Bob", ""), account("bob", ""));
    assert_err(&twice, 6, "account[1].name", "defined twice");

    // Account 1 defaults to RID 1001, which account 0 already took explicitly.
    let clash = format!("{}rid = 1001\n\n{}", account("a", ""), account("b", ""));
    assert_err(
        &clash,
        6,
        "account[1].rid",
        "RID 1001 is already used by account \"a\"",
    );
    let explicit = format!("{}rid = 7\n{}rid = 7\n", account("a", ""), account("b", ""));
    assert_err(&explicit, 8, "account[1].rid", "already used");

    let upper = format!(
        "[[account]]\nname = \"a\"\nnt_hash = \"{}\"\n",
        hash.to_uppercase()
    );
    let c = Config::parse(&upper, "x").unwrap();
    assert_eq!(c.accounts[0].nt_hash, acceptor::nt_hash("password"));
    assert_eq!(c.accounts[0].rid, 1000);
    assert!(
        !format!("{:?}", c.accounts[0]).contains("8846"),
        "Debug hides the hash"
    );
}

/// NT hash known answers: MS-NLMP 4.2.2.1.2 (NTOWFv1 of "Password") and RFC 2759 section 9.2
/// (NtPasswordHash of "clientPass").
#[test]
fn nt_hash_known_answers() {
    assert_eq!(
        format_hex(&acceptor::nt_hash("Password")),
        "a4f49c406510bdcab6824ee7c30fd852"
    );
    assert_eq!(
        format_hex(&acceptor::nt_hash("clientPass")),
        "44ebba8d5312b8d611474411f56989ae"
    );
    assert_eq!(
        parse_nt_hash("a4f49c406510bdcab6824ee7c30fd852"),
        Some(acceptor::nt_hash("Password"))
    );
    assert_eq!(parse_nt_hash("a4f49c406510bdcab6824ee7c30fd85"), None);
    assert_eq!(parse_nt_hash("a4f49c406510bdcab6824ee7c30fd85é"), None);
}

#[test]
fn quick_start_is_valid() {
    let dir = TempDir::new("quick");
    let c = Config::quick_start(dir.path().to_path_buf(), dir.path().join("state"), 4450);
    assert_eq!(c.listen, "127.0.0.1:4450".parse().unwrap());
    assert_eq!(c.signing, SigningPolicy::Required);
    assert_eq!(c.shares.len(), 1);
    assert_eq!(c.shares[0].name, "share");
    assert_eq!(c.accounts.len(), 1);
    assert_eq!(c.accounts[0].name, "demo");
    assert_eq!(c.accounts[0].nt_hash, acceptor::nt_hash("demo"));
    assert_eq!(c.local_accounts()[0].nt_hash, acceptor::nt_hash("demo"));
    c.check_paths().unwrap();
    validate_share_name(&c.shares[0].name).unwrap();
    validate_account_name(&c.accounts[0].name).unwrap();
    validate_server_name(&c.server_name).unwrap();
}

#[test]
fn check_paths_finds_missing_and_non_directories() {
    let dir = TempDir::new("paths");
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let mut c = Config::quick_start(dir.path().to_path_buf(), dir.path().to_path_buf(), 1);
    c.shares.push(ShareConfig {
        name: "second".into(),
        path: file,
        read_only: false,
        encrypt: EncryptPolicy::Off,
        comment: String::new(),
        sddl: None,
        root_sddl: None,
        access_based_enumeration: false,
        snapshot_dir: None,
        continuous_availability: false,
        streams: true,
        kernel_change_notify: true,
        hide_dot_files: false,
        hide_files: Vec::new(),
    });
    let e = c.check_paths().unwrap_err();
    assert_eq!(e.key.as_deref(), Some("share[1].path"));
    assert!(e.message.contains("is not a directory"), "{e}");
    c.shares[1].path = dir.path().join("missing");
    let e = c.check_paths().unwrap_err();
    assert!(e.message.contains("cannot be used"), "{e}");
}

#[test]
fn load_resolves_relative_paths() {
    let dir = TempDir::new("load");
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let file = dir.path().join("smbd.toml");
    std::fs::write(&file, "state_dir = \"state\"\n[[share]]\nname = \"d\"\npath = \"data\"\n[[share]]\nname = \"abs\"\npath = \"/\"\n").unwrap();
    let c = Config::load(&file).unwrap();
    assert_eq!(c.state_dir, dir.path().join("state"));
    assert_eq!(c.shares[0].path, dir.path().join("data"));
    assert_eq!(c.shares[1].path, PathBuf::from("/"));
    c.check_paths().unwrap();

    let e = Config::load(&dir.path().join("absent.toml")).unwrap_err();
    assert!(e.file.ends_with("absent.toml") && e.line.is_none(), "{e}");
    assert!(e.message.starts_with("cannot read"), "{e}");

    std::fs::write(&file, "\n\nencrypt = \"yes\"\n").unwrap();
    let e = Config::load(&file).unwrap_err();
    assert_eq!(e.file, file.display().to_string());
    assert_eq!(e.line, Some(3));
}

#[test]
fn netbios_names_from_host_names() {
    assert_eq!(netbios_name_from_host("web-01.example.com\n"), "WEB-01");
    assert_eq!(
        netbios_name_from_host("averyveryverylonghostname"),
        "AVERYVERYVERYLO"
    );
    assert_eq!(netbios_name_from_host(""), "SMBD");
    assert_eq!(netbios_name_from_host("my host"), "MYHOST");
}

#[test]
fn access_based_enumeration_is_a_share_flag() {
    let c = Config::parse(
        "[[share]]\nname = \"a\"\npath = \"/a\"\naccess_based_enumeration = true\n\
         [[share]]\nname = \"b\"\npath = \"/b\"\n",
        "t.toml",
    )
    .unwrap();
    assert!(c.shares[0].access_based_enumeration);
    assert!(!c.shares[1].access_based_enumeration);
    let e = Config::parse(
        "[[share]]\nname = \"a\"\npath = \"/a\"\naccess_based_enumeration = 1\n",
        "t.toml",
    )
    .unwrap_err();
    assert_eq!(e.key.as_deref(), Some("share[0].access_based_enumeration"));
}

#[test]
fn hidden_names_are_share_keys() {
    let c = Config::parse(
        "[[share]]\nname = \"a\"\npath = \"/a\"\nhide_dot_files = true\n\
         hide_files = [\"hidefile\", \"*.tmp\"]\n[[share]]\nname = \"b\"\npath = \"/b\"\n",
        "t.toml",
    )
    .unwrap();
    assert!(c.shares[0].hide_dot_files);
    assert_eq!(c.shares[0].hide_files, ["hidefile", "*.tmp"]);
    assert!(!c.shares[1].hide_dot_files && c.shares[1].hide_files.is_empty());
}

#[test]
fn snapshot_dir_is_a_share_path() {
    let c = Config::parse(
        "[[share]]\nname = \"a\"\npath = \"/a\"\nsnapshot_dir = \"/snaps/a\"\n\
         [[share]]\nname = \"b\"\npath = \"/b\"\n",
        "t.toml",
    )
    .unwrap();
    assert_eq!(
        c.shares[0].snapshot_dir.as_deref(),
        Some(std::path::Path::new("/snaps/a"))
    );
    assert_eq!(c.shares[1].snapshot_dir, None);
    let e = Config::parse(
        "[[share]]\nname = \"a\"\npath = \"/a\"\nsnapshot_dir = 1\n",
        "t.toml",
    )
    .unwrap_err();
    assert_eq!(e.key.as_deref(), Some("share[0].snapshot_dir"));
}

/// The bounds of [`crate::limits::Limits`] are read from their keys; 0 turns the idle timeout
/// off; out-of-range values are refused with the key named.
#[test]
fn limits_keys() {
    use std::time::Duration;
    let c = Config::parse(
        "handshake_timeout_seconds = 5\nframe_timeout_seconds = 6\nsend_timeout_seconds = 7\n\
         idle_timeout_seconds = 0\nmax_send_queue_bytes = 2097152\nmax_opens_per_session = 9\n\
         max_pending_sessions_per_connection = 2\nmax_locks_per_file = 3\n",
        "t.toml",
    )
    .unwrap();
    assert_eq!(c.limits.handshake_timeout, Duration::from_secs(5));
    assert_eq!(c.limits.frame_timeout, Duration::from_secs(6));
    assert_eq!(c.limits.send_timeout, Duration::from_secs(7));
    assert_eq!(c.limits.idle_timeout, None);
    assert_eq!(c.limits.max_send_queue_bytes, 2 << 20);
    assert_eq!(c.limits.max_opens_per_session, 9);
    assert_eq!(c.limits.max_pending_sessions_per_connection, 2);
    assert_eq!(c.limits.max_locks_per_file, 3);
    assert_eq!(Config::defaults().limits, crate::limits::Limits::default());
    let e = Config::parse("max_opens_per_session = 0\n", "t.toml").unwrap_err();
    assert_eq!(e.key.as_deref(), Some("max_opens_per_session"));
}

/// `server_aliases` is a list of host names; a path-like entry is refused.
#[test]
fn server_aliases_key() {
    let c = Config::parse(
        "server_aliases = [\"fs.example.com\", \"10.0.0.5\"]\n",
        "t.toml",
    )
    .unwrap();
    assert_eq!(c.server_aliases, ["fs.example.com", "10.0.0.5"]);
    let e = Config::parse("server_aliases = [\"a/b\"]\n", "t.toml").unwrap_err();
    assert_eq!(e.key.as_deref(), Some("server_aliases[0]"));
}

/// `replay_cache_entries` sizes the Kerberos replay cache; too small a cache is refused.
#[test]
fn replay_cache_entries_key() {
    assert_eq!(
        Config::defaults().replay_cache_entries,
        acceptor::DEFAULT_REPLAY_CACHE_CAPACITY
    );
    let c = Config::parse("replay_cache_entries = 5000\n", "t.toml").unwrap();
    assert_eq!(c.replay_cache_entries, 5000);
    assert!(Config::parse("replay_cache_entries = 10\n", "t.toml").is_err());
}

#[test]
fn continuous_availability_is_a_share_flag() {
    let c = Config::parse(
        "[[share]]\nname = \"a\"\npath = \"/a\"\ncontinuous_availability = true\n\
         [[share]]\nname = \"b\"\npath = \"/b\"\n",
        "t.toml",
    )
    .unwrap();
    assert!(c.shares[0].continuous_availability);
    assert!(!c.shares[1].continuous_availability);
}

#[test]
fn the_oplock_break_timeout_is_a_bounded_key() {
    let c = Config::parse("oplock_break_timeout_seconds = 10\n", "t.toml").unwrap();
    assert_eq!(
        c.limits.oplock_break_timeout,
        std::time::Duration::from_secs(10)
    );
    assert!(Config::parse("oplock_break_timeout_seconds = 0\n", "t.toml").is_err());
    assert!(Config::parse("oplock_break_timeout_seconds = 301\n", "t.toml").is_err());
}

#[test]
fn interfaces_name_or_address_with_speed_and_rss() {
    let c = Config::parse(
        "interfaces = [\"eth0;speed=25000000000;rss\", \"127.0.0.1\"]\n",
        "smbd.toml",
    )
    .unwrap();
    assert_eq!(c.interfaces.len(), 2);
    assert_eq!(c.interfaces[0].name, "eth0");
    assert_eq!(c.interfaces[0].speed, Some(25_000_000_000));
    assert!(c.interfaces[0].rss);
    assert_eq!(c.interfaces[1].name, "127.0.0.1");
    assert!(
        Config::parse("", "smbd.toml")
            .unwrap()
            .interfaces
            .is_empty()
    );
    assert_err(
        "interfaces = [\"eth0;speed=fast\"]\n",
        1,
        "interfaces[0]",
        "speed",
    );
    assert_err("interfaces = [\"eth0;rdma\"]\n", 1, "interfaces[0]", "rss");
}

#[test]
fn metrics_listen_is_off_by_default_and_an_address_when_set() {
    let c = Config::parse("", "smbd.toml").unwrap();
    assert_eq!(c.metrics_listen, None);
    let c = Config::parse("metrics_listen = \"127.0.0.1:9922\"\n", "smbd.toml").unwrap();
    assert_eq!(c.metrics_listen, Some("127.0.0.1:9922".parse().unwrap()));
    assert_err(
        "metrics_listen = \"localhost\"\n",
        1,
        "metrics_listen",
        "not an address",
    );
}

#[test]
fn audit_format_and_file() {
    let c = Config::parse("", "smbd.toml").unwrap();
    assert_eq!(c.audit, crate::audit::AuditFormat::Text);
    assert_eq!(c.audit_file, None);
    let c = Config::parse("audit = \"json\"\naudit_file = \"a.log\"\n", "smbd.toml").unwrap();
    assert_eq!(c.audit, crate::audit::AuditFormat::Json);
    assert_eq!(c.audit_file.as_deref(), Some(Path::new("a.log")));
    assert_err(
        "audit = \"yes\"\n",
        1,
        "audit",
        "expected text, json or off",
    );
    assert_err("audit_file = \"\"\n", 1, "audit_file", "must not be empty");
}

#[test]
fn account_previous_hash() {
    let account = |extra: &str| {
        format!(
            "[[account]]\nname = \"a\"\nnt_hash = \"8846f7eaee8fb117ad06bdd830b7586c\"\n{extra}"
        )
    };
    let old = format_hex(&acceptor::nt_hash("old"));
    let text = account(&format!(
        "previous_nt_hash = \"{old}\"\nprevious_valid_until = \"2026-12-05T12:00:00Z\"\n"
    ));
    let c = Config::parse(&text, "x").unwrap();
    let until = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_472_000);
    assert_eq!(
        c.accounts[0].previous,
        Some((acceptor::nt_hash("old"), until))
    );
    let local = c.accounts[0].to_local_account();
    let previous = local
        .previous
        .expect("previous hash passed to the acceptor");
    assert_eq!(previous.nt_hash, acceptor::nt_hash("old"));
    assert_eq!(previous.valid_until, until);
    assert!(!format!("{:?}", c.accounts[0]).contains(&old));

    assert_err(
        &account(&format!("previous_nt_hash = \"{old}\"\n")),
        4,
        "account[0].previous_valid_until",
        "needs previous_valid_until",
    );
    assert_err(
        &account("previous_valid_until = \"2026-12-05T12:00:00Z\"\n"),
        4,
        "account[0].previous_nt_hash",
        "needs previous_nt_hash",
    );
    assert_err(
        &account(&format!(
            "previous_nt_hash = \"{old}\"\nprevious_valid_until = \"tomorrow\"\n"
        )),
        5,
        "account[0].previous_valid_until",
        "RFC 3339",
    );
}

#[test]
fn allow_ntlmv1_key() {
    assert!(
        !Config::parse("allow_ntlmv1 = false\n", "x")
            .unwrap()
            .allow_ntlmv1
    );
    assert!(
        Config::parse("allow_ntlmv1 = true\n", "x")
            .unwrap()
            .allow_ntlmv1
    );
    assert_err("allow_ntlmv1 = 1\n", 1, "allow_ntlmv1", "");
}
