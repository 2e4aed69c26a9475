//! `smbd-tools keytab add|list`: write service keys into an MIT keytab from a password (the
//! storage-account-key model) and list a keytab like `klist -k -e`.

use std::io::{BufRead, Write};
use std::path::Path;

use acceptor::krb5::crypto::Etype;
use acceptor::krb5::keytab::{Keytab, KeytabEntry, Principal};

use crate::cli::KeytabAddArgs;
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

/// Runs `keytab list`: the entries of `file`, like `klist -k -e`.
pub fn list(file: &Path, out: &mut dyn Write) -> Result<i32, ToolError> {
    let stdout_err = |e| ToolError::io("stdout", e);
    let kt = read(file)?;
    writeln!(out, "Keytab name: FILE:{}\nKVNO Principal", file.display()).map_err(stdout_err)?;
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

fn read(path: &Path) -> Result<Keytab, ToolError> {
    let data = std::fs::read(path).map_err(|e| ToolError::io(path, e))?;
    Keytab::parse(&data).map_err(|e| ToolError::Invalid(format!("{}: {e:?}", path.display())))
}

/// Runs `keytab add`: derives the keys from the password and writes them into the keytab.
pub fn add(
    args: &KeytabAddArgs,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<i32, ToolError> {
    let keytab = &args.keytab;
    let name = &args.principal;
    let kvno = args.kvno;
    let salt = &args.salt;
    let name_type = if name.contains('/') {
        NT_SRV_HST
    } else {
        NT_PRINCIPAL
    };
    let principal = Principal::parse(name, name_type)
        .ok_or_else(|| ToolError::Usage(format!("principal {name:?} is not name@REALM")))?;
    let password = crate::password(&args.password, stdin)?;
    if password.is_empty() {
        return Err(ToolError::Invalid("the password is empty".into()));
    }
    let etypes = if args.etypes.is_empty() {
        DEFAULT_ETYPES.to_vec()
    } else {
        args.etypes.clone()
    };
    let mut kt = if keytab.exists() {
        read(keytab)?
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
    crate::write_private(keytab, &bytes)?;
    writeln!(
        out,
        "{} key(s) for {principal} kvno {kvno} written to {}",
        etypes.len(),
        keytab.display()
    )
    .map_err(|e| ToolError::io("stdout", e))?;
    Ok(0)
}
