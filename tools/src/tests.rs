//! End-to-end tests of the commands through [`run`], on temporary files.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

/// A fresh directory under the system temp directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("smbd-tools-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the tool; returns (exit code, stdout, stderr).
fn tool(args: &[&str], stdin: &str) -> (i32, String, String) {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let mut input = stdin.as_bytes();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run(&args, &mut input, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

const ORIGINAL: &str = "\
# Production config -- keep this comment!
listen = \"0.0.0.0:445\"   # all interfaces
server_name = \"FILES\"

[[share]]
# the team share
name = \"team\"
path = \".\"
comment = \"Team files\"

[[account]]
name = \"bob\"
nt_hash = \"00112233445566778899aabbccddeeff\"
rid = 1500
";

#[test]
fn nt_hash_reads_stdin() {
    // MS-NLMP 4.2.2.1.2: NTOWFv1("Password") = a4f49c40 6510bdca b6824ee7 c30fd852.
    let (code, out, err) = tool(&["nt-hash"], "Password\n");
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (0, "a4f49c406510bdcab6824ee7c30fd852\n", "")
    );
    let (code, out, _) = tool(&["nt-hash"], "Password\r\n");
    assert_eq!(
        (code, out.as_str()),
        (0, "a4f49c406510bdcab6824ee7c30fd852\n")
    );
    // Without a line ending, and the empty password (a well-known value).
    assert_eq!(
        tool(&["nt-hash"], "Password").1,
        "a4f49c406510bdcab6824ee7c30fd852\n"
    );
    assert_eq!(
        tool(&["nt-hash"], "\n").1,
        "31d6cfe0d16ae931b73c59d7e0c089c0\n"
    );
    let (code, _, err) = tool(&["nt-hash"], "");
    assert_eq!(code, 1);
    assert!(err.contains("no password"), "{err}");
}

#[test]
fn add_account_round_trip_keeps_comments_and_tables() {
    let dir = TempDir::new("roundtrip");
    let file = dir.path().join("smbd.toml");
    std::fs::write(&file, ORIGINAL).unwrap();
    let f = file.to_str().unwrap();

    let (code, out, err) = tool(
        &[
            "add-account",
            "--config",
            f,
            "--user",
            "alice",
            "--group",
            "S-1-5-32-544",
            "--password-stdin",
        ],
        "s3cret pass\n",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, format!("account alice added to {f}\n"));
    let hash = smbd::config::format_hex(&acceptor::nt_hash("s3cret pass"));
    assert!(!out.contains("s3cret") && !out.contains(&hash) && err.is_empty());

    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with(ORIGINAL),
        "the original text is untouched:\n{text}"
    );
    let c = check_config(&file).unwrap();
    assert_eq!(c.server_name, "FILES");
    assert_eq!(c.shares[0].name, "team");
    assert_eq!(c.accounts.len(), 2);
    assert_eq!(c.accounts[1].name, "alice");
    assert_eq!(c.accounts[1].nt_hash, acceptor::nt_hash("s3cret pass"));
    assert_eq!(c.accounts[1].rid, 1001);
    assert_eq!(
        c.accounts[1].groups,
        vec![acl::Sid::builtin_administrators()]
    );

    // Replace bob's password: his rid stays, the rest of the file stays.
    let (code, out, err) = tool(
        &[
            "add-account",
            "--config",
            f,
            "--user",
            "BOB",
            "--password",
            "new",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, format!("account BOB updated in {f}\n"));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("# Production config -- keep this comment!\n"));
    assert!(text.contains("listen = \"0.0.0.0:445\"   # all interfaces\n"));
    assert!(text.contains("# the team share\n"));
    assert!(!text.contains("00112233445566778899aabbccddeeff"));
    let c = Config::load(&file).unwrap();
    assert_eq!(c.accounts.len(), 2);
    assert_eq!(c.accounts[0].name, "bob");
    assert_eq!(c.accounts[0].rid, 1500);
    assert_eq!(c.accounts[0].nt_hash, acceptor::nt_hash("new"));
    assert_eq!(c.accounts[1].nt_hash, acceptor::nt_hash("s3cret pass"));

    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("smbd.toml")]);
}

#[test]
fn add_account_creates_a_private_file() {
    let dir = TempDir::new("create");
    let file = dir.path().join("new.toml");
    let f = file.to_str().unwrap();
    let (code, _, err) = tool(
        &[
            "add-account",
            "--config",
            f,
            "--user",
            "demo",
            "--rid",
            "1234",
        ],
        "demo\n",
    );
    assert_eq!(code, 0, "{err}");
    let c = Config::load(&file).unwrap();
    assert_eq!(c.accounts[0].nt_hash, acceptor::nt_hash("demo"));
    assert_eq!(c.accounts[0].rid, 1234);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(tool(&["check-config", f], "").0, 0);
}

#[test]
fn add_account_refuses_bad_input_without_writing() {
    let dir = TempDir::new("refuse");
    let file = dir.path().join("smbd.toml");
    std::fs::write(&file, ORIGINAL).unwrap();
    let f = file.to_str().unwrap();

    let (code, _, err) = tool(&["add-account", "--config", f, "--user", "a@b"], "pw\n");
    assert_eq!(code, 1);
    assert!(err.contains("must not contain '@'"), "{err}");

    let (code, _, err) = tool(&["add-account", "--config", f, "--user", "x"], "\n");
    assert_eq!(code, 1);
    assert!(err.contains("empty"), "{err}");

    // RID 1500 is bob's: the resulting file would be invalid, so nothing is written.
    let (code, _, err) = tool(
        &["add-account", "--config", f, "--user", "x", "--rid", "1500"],
        "pw\n",
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("account[1].rid") && err.contains("already used"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), ORIGINAL);

    let (code, _, err) = tool(&["add-account", "--user", "x"], "pw\n");
    assert_eq!(code, 2);
    assert!(err.contains("--config"), "{err}");
}

#[test]
fn check_config_reports_ok_or_the_error() {
    let dir = TempDir::new("check");
    let file = dir.path().join("smbd.toml");
    let f = file.to_str().unwrap();
    std::fs::write(&file, ORIGINAL).unwrap();
    assert_eq!(
        tool(&["check-config", f], ""),
        (0, "ok\n".to_owned(), String::new())
    );

    std::fs::write(&file, "[[share]]\nname = \"s\"\npath = \"missing\"\n").unwrap();
    let (code, out, err) = tool(&["check-config", f], "");
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.starts_with(&format!("smbd-tools: {f}: share[0].path: ")),
        "{err}"
    );

    std::fs::write(&file, "\nsigning = \"sometimes\"\n").unwrap();
    let (code, _, err) = tool(&["check-config", f], "");
    assert_eq!(code, 1);
    assert!(
        err.starts_with(&format!("smbd-tools: {f}:2: signing: unknown value")),
        "{err}"
    );

    let (code, _, _) = tool(
        &["check-config", dir.path().join("absent").to_str().unwrap()],
        "",
    );
    assert_eq!(code, 1);
}

#[test]
fn help_and_usage_errors() {
    let (code, out, _) = tool(&["help"], "");
    assert_eq!(code, 0);
    assert!(out.contains("add-account") && out.contains("check-config") && out.contains("nt-hash"));
    let (code, _, err) = tool(&[], "");
    assert_eq!(code, 2);
    assert!(err.contains("smbd-tools help"), "{err}");
}
