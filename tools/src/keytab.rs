//! `smbd-tools keytab add|list`: write service keys into an MIT keytab from a password (the
//! storage-account-key model) and list a keytab like `klist -k -e`.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use acceptor::krb5::crypto::Etype;
use acceptor::krb5::keytab::{Keytab, KeytabEntry, Principal};

use crate::error::ToolError;

/// KRB5_NT_PRINCIPAL.
const NT_PRINCIPAL: u32 = 1;
/// KRB5_NT_SRV_HST, the name type of host-based service principals.
const NT_SRV_HST: u32 = 3;

/// The enctypes written when none is named.
const DEFAULT_ETYPES: [Etype; 2] = [Etype::AES256_SHA1, Etype::AES128_SHA1];

/// The MIT name of an enctype.
pub fn etype_name(e: Etype) -> String {
    match e {
        Etype::AES128_SHA1 => "aes128-cts-hmac-sha1-96".into(),
        Etype::AES256_SHA1 => "aes256-cts-hmac-sha1-96".into(),
        Etype::AES128_SHA256 => "aes128-cts-hmac-sha256-128".into(),
        Etype::AES256_SHA384 => "aes256-cts-hmac-sha384-192".into(),
        Etype::RC4_HMAC => "arcfour-hmac".into(),
        Etype(n) => format!("etype {n}"),
    }
}

fn parse_etype(s: &str) -> Result<Etype, ToolError> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "aes128-cts-hmac-sha1-96" | "aes128-cts" | "aes128" => Etype::AES128_SHA1,
        "aes256-cts-hmac-sha1-96" | "aes256-cts" | "aes256" => Etype::AES256_SHA1,
        "aes128-cts-hmac-sha256-128" | "aes128-sha2" => Etype::AES128_SHA256,
        "aes256-cts-hmac-sha384-192" | "aes256-sha2" => Etype::AES256_SHA384,
        "arcfour-hmac" | "rc4-hmac" | "rc4" => Etype::RC4_HMAC,
        other => return Err(ToolError::Usage(format!("unknown enctype {other:?}"))),
    })
}

/// Usage of the keytab commands.
pub const USAGE: &str = "\
  smbd-tools keytab add --keytab FILE --principal cifs/HOST@REALM [--kvno N] [--etype E]...
                        [--salt SALT] [--password-stdin | --password PASS]
      Add keys derived from the service password (RFC 3962 / RFC 8009 string-to-key with the
      default salt REALM+components, or --salt; arcfour-hmac from the NT hash). Enctypes:
      aes256-cts-hmac-sha1-96 (default), aes128-cts-hmac-sha1-96 (default),
      aes128-cts-hmac-sha256-128, aes256-cts-hmac-sha384-192, arcfour-hmac. Entries with the
      same principal, kvno and enctype are replaced. The file is created with mode 0600.
  smbd-tools keytab list FILE
      List the entries: KVNO, principal and enctype (like klist -k -e).
";

/// Runs `keytab ...` (the words after `keytab`).
pub fn run(
    args: &[String],
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<i32, ToolError> {
    let stdout_err = |e| ToolError::io("stdout", e);
    match args.split_first() {
        Some((cmd, rest)) if cmd == "list" => {
            let [file] = rest else {
                return Err(ToolError::Usage("keytab list takes one FILE".into()));
            };
            let kt = read(Path::new(file))?;
            writeln!(out, "Keytab name: FILE:{file}\nKVNO Principal").map_err(stdout_err)?;
            writeln!(
                out,
                "---- --------------------------------------------------------------------------"
            )
            .map_err(stdout_err)?;
            for e in &kt.entries {
                writeln!(
                    out,
                    "{:>4} {} ({})",
                    e.kvno,
                    e.principal,
                    etype_name(e.etype)
                )
                .map_err(stdout_err)?;
            }
            Ok(0)
        }
        Some((cmd, rest)) if cmd == "add" => add(rest, stdin, out),
        _ => Err(ToolError::Usage(format!(
            "keytab needs add or list\n{USAGE}"
        ))),
    }
}

fn read(path: &Path) -> Result<Keytab, ToolError> {
    let data = std::fs::read(path).map_err(|e| ToolError::io(path, e))?;
    Keytab::parse(&data).map_err(|e| ToolError::Invalid(format!("{}: {e:?}", path.display())))
}

fn add(args: &[String], stdin: &mut dyn BufRead, out: &mut dyn Write) -> Result<i32, ToolError> {
    let mut keytab: Option<PathBuf> = None;
    let mut principal: Option<String> = None;
    let mut kvno: u32 = 1;
    let mut etypes = Vec::new();
    let mut salt: Option<String> = None;
    let mut password: Option<String> = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| ToolError::Usage(format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--keytab" => keytab = Some(PathBuf::from(value()?)),
            "--principal" => principal = Some(value()?),
            "--kvno" => {
                kvno = value()?
                    .parse()
                    .map_err(|_| ToolError::Usage("--kvno takes a number".into()))?
            }
            "--etype" => etypes.push(parse_etype(&value()?)?),
            "--salt" => salt = Some(value()?),
            "--password" => password = Some(value()?),
            "--password-stdin" => {}
            other => {
                return Err(ToolError::Usage(format!(
                    "unknown option {other:?}\n{USAGE}"
                )));
            }
        }
    }
    let keytab = keytab.ok_or_else(|| ToolError::Usage("--keytab is required".into()))?;
    let name = principal.ok_or_else(|| ToolError::Usage("--principal is required".into()))?;
    let name_type = if name.contains('/') {
        NT_SRV_HST
    } else {
        NT_PRINCIPAL
    };
    let principal = Principal::parse(&name, name_type)
        .ok_or_else(|| ToolError::Usage(format!("principal {name:?} is not name@REALM")))?;
    let password = match password {
        Some(p) => p,
        None => crate::read_password(stdin)?,
    };
    if password.is_empty() {
        return Err(ToolError::Invalid("the password is empty".into()));
    }
    if etypes.is_empty() {
        etypes = DEFAULT_ETYPES.to_vec();
    }
    let mut kt = if keytab.exists() {
        read(&keytab)?
    } else {
        Keytab {
            entries: Vec::new(),
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32);
    for etype in &etypes {
        let entry = KeytabEntry::from_password(
            principal.clone(),
            kvno,
            *etype,
            &password,
            salt.as_deref().map(str::as_bytes),
            now,
        )
        .map_err(|e| ToolError::Invalid(format!("{}: {e:?}", etype_name(*etype))))?;
        kt.entries
            .retain(|e| !(e.principal == principal && e.kvno == kvno && e.etype == *etype));
        kt.entries.push(entry);
    }
    let bytes = kt
        .encode()
        .map_err(|e| ToolError::Invalid(format!("{e:?}")))?;
    crate::write_private(&keytab, &bytes)?;
    writeln!(
        out,
        "{} key(s) for {principal} kvno {kvno} written to {}",
        etypes.len(),
        keytab.display()
    )
    .map_err(|e| ToolError::io("stdout", e))?;
    Ok(0)
}
