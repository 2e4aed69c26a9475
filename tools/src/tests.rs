//! End-to-end tests of the commands through [`run`], on temporary files.

use std::ffi::OsString;
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
    assert!(
        out.starts_with(&format!("account BOB updated in {f}\n")),
        "{out}"
    );
    assert!(out.contains("still logs on until"), "{out}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("# Production config -- keep this comment!\n"));
    assert!(text.contains("listen = \"0.0.0.0:445\"   # all interfaces\n"));
    assert!(text.contains("# the team share\n"));
    assert!(text.contains("previous_nt_hash = \"00112233445566778899aabbccddeeff\""));
    let c = Config::load(&file).unwrap();
    assert_eq!(c.accounts.len(), 2);
    assert_eq!(c.accounts[0].name, "bob");
    assert_eq!(c.accounts[0].rid, 1500);
    assert_eq!(c.accounts[0].nt_hash, acceptor::nt_hash("new"));
    assert_eq!(c.accounts[1].nt_hash, acceptor::nt_hash("s3cret pass"));
    // The old hash stays for the default window of 24 hours.
    let (old, until) = c.accounts[0].previous.expect("previous hash kept");
    assert_eq!(
        smbd::config::format_hex(&old),
        "00112233445566778899aabbccddeeff"
    );
    let window = until
        .duration_since(std::time::SystemTime::now())
        .unwrap()
        .as_secs();
    assert!((24 * 3600 - 120..=24 * 3600).contains(&window), "{window}");

    // A change with --keep-old-for 0 drops every previous hash.
    let args = ["account", "add", "--config", f, "--user", "bob"];
    let (code, out, err) = tool(&[&args[..], &["--keep-old-for", "0"]].concat(), "newer\n");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, format!("account bob updated in {f}\n"));
    let c = Config::load(&file).unwrap();
    assert_eq!(c.accounts[0].nt_hash, acceptor::nt_hash("newer"));
    assert_eq!(c.accounts[0].previous, None);
    assert!(!std::fs::read_to_string(&file).unwrap().contains("previous"));

    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![OsString::from("smbd.toml")]);
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
    let (code, out, _) = tool(&["--help"], "");
    assert_eq!(code, 0);
    assert!(out.contains("account") && out.contains("keytab") && out.contains("status"));
    let (code, out, _) = tool(&["keytab", "add", "--help"], "");
    assert_eq!(code, 0);
    assert!(out.contains("--principal"), "{out}");
    let (code, out, _) = tool(&["--version"], "");
    assert_eq!(
        (code, out.trim()),
        (0, concat!("smbd-tools ", env!("CARGO_PKG_VERSION")))
    );
    let (code, _, err) = tool(&[], "");
    assert_eq!(code, 2);
    assert!(err.contains("Usage: smbd-tools"), "{err}");
    let (code, _, err) = tool(&["account", "add", "--user", "u"], "");
    assert_eq!(code, 2);
    assert!(err.contains("--config <FILE>"), "{err}");
}

#[test]
fn new_and_earlier_spellings_do_the_same() {
    let dir = TempDir::new("spellings");
    let file = dir.path().join("smbd.toml");
    let f = file.to_str().unwrap();
    let (code, _, err) = tool(&["account", "add", "--config", f, "--user", "a"], "pw\n");
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = tool(&["add-account", "--config", f, "--user", "b"], "pw\n");
    assert_eq!(code, 0, "{err}");
    assert_eq!(Config::load(&file).unwrap().accounts.len(), 2);
    for check in [&["config", "check", f][..], &["check-config", f][..]] {
        assert_eq!(tool(check, ""), (0, "ok\n".to_owned(), String::new()));
    }
    assert_eq!(
        tool(&["account", "nt-hash"], "Password\n").1,
        tool(&["nt-hash"], "Password\n").1
    );
}

#[test]
fn keytab_add_then_list() {
    let dir = TempDir::new("keytab");
    let kt = dir.path().join("k.keytab");
    let k = kt.to_str().unwrap();
    let add = [
        "keytab",
        "add",
        "--keytab",
        k,
        "--principal",
        "cifs/fs.example.test@EXAMPLE.TEST",
        "--kvno",
        "3",
    ];
    let (code, out, err) = tool(&add, "svc\n");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("2 key(s) for cifs/fs.example.test@EXAMPLE.TEST kvno 3"),
        "{out}"
    );
    let (code, out, _) = tool(&["keytab", "list", k], "");
    assert_eq!(code, 0);
    assert!(
        out.contains("   3 cifs/fs.example.test@EXAMPLE.TEST (aes256-cts-hmac-sha1-96)"),
        "{out}"
    );
    assert!(out.contains("(aes128-cts-hmac-sha1-96)"), "{out}");
}

#[test]
fn keytab_rotate_adds_the_next_kvno_and_keeps_the_previous() {
    let dir = TempDir::new("keytab-rotate");
    let kt = dir.path().join("k.keytab");
    let k = kt.to_str().unwrap();
    let spn = "cifs/fs.example.test@EXAMPLE.TEST";
    for kvno in ["192271", "192272"] {
        let add = [
            "keytab",
            "add",
            "--keytab",
            k,
            "--principal",
            spn,
            "--kvno",
            kvno,
        ];
        assert_eq!(tool(&add, "old\n").0, 0);
    }
    let rotate = ["keytab", "rotate", "--keytab", k, "--principal", spn];
    let (code, out, err) = tool(&rotate, "new\n");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(&format!(
            "2 key(s) for {spn} kvno 192273 written to {k}; kept kvno 192272; removed kvno 192271\n"
        )),
        "{out}"
    );
    assert!(out.contains("smbd-tools reload"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kt).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (_, list, _) = tool(&["keytab", "list", k], "");
    assert!(
        list.contains(&format!("192273 {spn} (aes256-cts-hmac-sha1-96)")),
        "{list}"
    );
    assert!(
        list.contains(&format!("192272 {spn} (aes256-cts-hmac-sha1-96)")),
        "{list}"
    );
    assert!(!list.contains("192271"), "{list}");
    // The new keys are the new password's, the kept ones the old password's.
    let parsed = acceptor::krb5::keytab::Keytab::parse(&std::fs::read(&kt).unwrap()).unwrap();
    let key_of = |kvno: u32| {
        parsed
            .entries
            .iter()
            .find(|e| e.kvno == kvno && e.etype == acceptor::krb5::crypto::Etype::AES256_SHA1)
            .unwrap()
            .key
            .clone()
    };
    let principal = acceptor::krb5::keytab::Principal::parse(spn, 3).unwrap();
    let derived = |pw: &str| {
        acceptor::krb5::keytab::KeytabEntry::from_password(
            principal.clone(),
            1,
            acceptor::krb5::crypto::Etype::AES256_SHA1,
            pw,
            None,
            0,
        )
        .unwrap()
        .key
    };
    assert_eq!(key_of(192_273), derived("new"));
    assert_eq!(key_of(192_272), derived("old"));
    // An explicit --kvno and a server reload through a socket that is not there: the keytab
    // is written, the reload failure is reported.
    let sock = dir.path().join("admin.sock");
    let args = [
        &rotate[..],
        &["--kvno", "7", "--socket", sock.to_str().unwrap()],
    ]
    .concat();
    let (code, out, err) = tool(&args, "newer\n");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("kvno 7 written") && out.contains("kept kvno 192273"),
        "{out}"
    );
    assert!(err.contains("admin.sock"), "{err}");
    let (code, out, _) = tool(&["keytab", "rotate", "--help"], "");
    assert_eq!(code, 0);
    assert!(
        out.contains("previous kvno are kept") && out.contains("--keep"),
        "{out}"
    );
}

#[test]
fn status_without_a_server_fails_with_the_socket_named() {
    let dir = TempDir::new("status");
    let sock = dir.path().join("admin.sock");
    let (code, _, err) = tool(&["status", "--socket", sock.to_str().unwrap()], "");
    assert_eq!(code, 1);
    assert!(err.contains("admin.sock"), "{err}");
}

#[test]
fn status_reads_every_section_from_the_admin_socket() {
    use std::io::{BufRead, BufReader, Write};
    let dir = TempDir::new("status-server");
    let sock = dir.path().join("admin.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    // A stand-in server: answers each command with its own name, as table rows or JSON lines.
    let server = std::thread::spawn(move || {
        let mut asked = Vec::new();
        for _ in 0..6 {
            let (stream, _) = listener.accept().unwrap();
            let mut line = String::new();
            BufReader::new(&stream).read_line(&mut line).unwrap();
            let line = line.trim().to_owned();
            let reply = match line.split_once(' ') {
                Some((what, "json")) => format!("{{\"{what}\":1}}\n{{\"{what}\":2}}\n"),
                _ => format!("HEAD\n{line}\n"),
            };
            (&stream).write_all(reply.as_bytes()).unwrap();
            asked.push(line);
        }
        asked
    });
    let s = sock.to_str().unwrap();
    let (code, out, err) = tool(&["status", "--socket", s], "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "Sessions:\nHEAD\nsessions table\n\nOpen files:\nHEAD\nopens table\n\n\
         Byte-range locks:\nHEAD\nlocks table\n"
    );
    let (code, out, err) = tool(
        &["status", "--socket", s, "--json", "--sessions", "--locks"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "{\"sessions\":[\n{\"sessions\":1},\n{\"sessions\":2}\n],\"locks\":[\n{\"locks\":1},\n{\"locks\":2}\n]}\n"
    );
    let (code, out, _) = tool(&["keytab", "reload", "--socket", s], "");
    assert_eq!((code, out.as_str()), (0, "HEAD\nreload\n"));
    assert_eq!(
        server.join().unwrap(),
        [
            "sessions table",
            "opens table",
            "locks table",
            "sessions json",
            "locks json",
            "reload"
        ]
    );
}

#[test]
fn generate_writes_completions_and_man_pages() {
    let dir = TempDir::new("generate");
    let completions = dir.path().join("completions");
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, err) = tool(
            &[
                "generate",
                "completions",
                shell,
                "--out",
                completions.to_str().unwrap(),
            ],
            "",
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(out.lines().count(), 2, "{out}");
        for path in out.lines() {
            let text = std::fs::read_to_string(path).unwrap();
            assert!(text.contains("smbd"), "{path}");
        }
    }
    for name in [
        "smbd.bash",
        "smbd-tools.bash",
        "_smbd",
        "_smbd-tools",
        "smbd.fish",
        "smbd-tools.fish",
    ] {
        assert!(completions.join(name).is_file(), "{name}");
    }
    let (code, out, _) = tool(&["generate", "completions", "bash"], "");
    assert_eq!(code, 0);
    assert!(
        out.contains("smbd-tools") && out.contains("keytab"),
        "{out}"
    );

    let man = dir.path().join("man");
    let (code, out, err) = tool(&["generate", "man", "--out", man.to_str().unwrap()], "");
    assert_eq!(code, 0, "{err}");
    for name in [
        "smbd.8",
        "smbd-tools.8",
        "smbd-tools-keytab-add.8",
        "smbd-tools-status.8",
        "smbd-tools-account.8",
    ] {
        let text =
            std::fs::read_to_string(man.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(text.starts_with(".ie"), "{name} is roff: {text}");
        assert!(text.contains(".TH"), "{name}");
    }
    let smbd = std::fs::read_to_string(man.join("smbd.8")).unwrap();
    assert!(smbd.contains("quick\\-start"), "{smbd}");
    assert!(
        !man.join("smbd-tools-generate.8").exists()
            && !man.join("smbd-tools-add-account.8").exists()
    );
    assert_eq!(
        out.lines().count(),
        std::fs::read_dir(&man).unwrap().count()
    );
}

#[test]
fn share_add_list_and_remove_keep_the_rest_of_the_file() {
    let dir = TempDir::new("share");
    let cfg = dir.path().join("smbd.toml");
    std::fs::write(&cfg, ORIGINAL).unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let c = cfg.to_str().unwrap();
    let d = data.to_str().unwrap();
    let (code, out, err) = tool(
        &[
            "share",
            "add",
            "--config",
            c,
            "--name",
            "data",
            "--path",
            d,
            "--read-only",
            "--encrypt",
            "required",
            "--comment",
            "Data files",
            "--no-reload",
        ],
        "",
    );
    assert_eq!(code, 0, "{out}{err}");
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(text.contains("# Production config -- keep this comment!"));
    assert!(text.contains("# the team share"));
    let config = Config::load(&cfg).unwrap();
    let added = config
        .shares
        .iter()
        .find(|s| s.name == "data")
        .expect("added");
    assert!(added.read_only);
    assert_eq!(added.comment, "Data files");

    let (code, out, _) = tool(&["share", "list", "--config", c], "");
    assert_eq!(code, 0);
    assert!(out.lines().next().unwrap().starts_with("NAME"));
    assert!(
        out.lines()
            .any(|l| l.starts_with("data ") && l.contains("required"))
    );
    let (_, json, _) = tool(&["share", "list", "--config", c, "--json"], "");
    assert!(json.contains("\"name\":\"team\"") && json.contains("\"read_only\":true"));

    // The same name twice, a missing folder: refused, the file unchanged.
    let before = std::fs::read_to_string(&cfg).unwrap();
    let (code, _, err) = tool(
        &[
            "share",
            "add",
            "--config",
            c,
            "--name",
            "DATA",
            "--path",
            d,
            "--no-reload",
        ],
        "",
    );
    assert_eq!(code, 1);
    assert!(err.contains("exists already"), "{err}");
    let missing = dir.path().join("missing");
    let (code, _, _) = tool(
        &[
            "share",
            "add",
            "--config",
            c,
            "--name",
            "other",
            "--path",
            missing.to_str().unwrap(),
            "--no-reload",
        ],
        "",
    );
    assert_eq!(code, 1);
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), before);

    let (code, _, _) = tool(
        &[
            "share",
            "remove",
            "--config",
            c,
            "--name",
            "Data",
            "--no-reload",
        ],
        "",
    );
    assert_eq!(code, 0);
    let config = Config::load(&cfg).unwrap();
    assert_eq!(config.shares.len(), 1);
    let (code, _, err) = tool(
        &[
            "share",
            "remove",
            "--config",
            c,
            "--name",
            "data",
            "--no-reload",
        ],
        "",
    );
    assert_eq!(code, 1);
    assert!(err.contains("no share named"), "{err}");
}
