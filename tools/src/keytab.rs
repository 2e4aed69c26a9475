//! `smbd-tools keytab add|list|rotate`: write service keys into an MIT keytab from a password
//! (the storage-account-key model), list a keytab like `klist -k -e`, and rotate a principal's
//! keys to a new kvno keeping the previous generation.

use std::io::{BufRead, Write};
use std::path::Path;

use acceptor::krb5::crypto::Etype;
use acceptor::krb5::keytab::{Keytab, KeytabEntry, Principal};

use crate::cli::{AdminSocket, KeytabAddArgs, KeytabRotateArgs};
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

/// The principal named on the command line: a host-based service name when it has a `/`.
fn principal_arg(name: &str) -> Result<Principal, ToolError> {
    let name_type = if name.contains('/') {
        NT_SRV_HST
    } else {
        NT_PRINCIPAL
    };
    Principal::parse(name, name_type)
        .ok_or_else(|| ToolError::Usage(format!("principal {name:?} is not name@REALM")))
}

/// The keytab at `path`, or an empty one when the file does not exist.
fn read_or_empty(path: &Path) -> Result<Keytab, ToolError> {
    if path.exists() {
        read(path)
    } else {
        Ok(Keytab::default())
    }
}

/// The keys of `principal` at `kvno` for each of `etypes`, derived from `password`.
fn derive(
    principal: &Principal,
    kvno: u32,
    etypes: &[Etype],
    password: &str,
    salt: Option<&str>,
) -> Result<Vec<KeytabEntry>, ToolError> {
    if password.is_empty() {
        return Err(ToolError::Invalid("the password is empty".into()));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX));
    let etypes = if etypes.is_empty() {
        &DEFAULT_ETYPES[..]
    } else {
        etypes
    };
    etypes
        .iter()
        .map(|etype| {
            KeytabEntry::from_password(
                principal.clone(),
                kvno,
                *etype,
                password,
                salt.map(str::as_bytes),
                now,
            )
            .map_err(|e| ToolError::Invalid(format!("{}: {e:?}", etype_name(*etype))))
        })
        .collect()
}

/// Puts `entries` into `kt`, replacing entries of the same principal, kvno and enctype.
fn put(kt: &mut Keytab, entries: Vec<KeytabEntry>) {
    for entry in entries {
        kt.entries.retain(|e| {
            !(same_principal(&e.principal, &entry.principal)
                && e.kvno == entry.kvno
                && e.etype == entry.etype)
        });
        kt.entries.push(entry);
    }
}

/// Whether two entries belong to one principal (whatever name type each was written with:
/// MIT's kadmin writes 1, `keytab add` 3 for service names).
fn same_principal(a: &Principal, b: &Principal) -> bool {
    a.matches(&b.components, &b.realm)
}

fn write(path: &Path, kt: &Keytab) -> Result<(), ToolError> {
    let bytes = kt
        .encode()
        .map_err(|e| ToolError::Invalid(format!("{e:?}")))?;
    crate::write_private(path, &bytes)
}

/// Runs `keytab add`: derives the keys from the password and writes them into the keytab.
pub fn add(
    args: &KeytabAddArgs,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<i32, ToolError> {
    let keytab = &args.keytab;
    let kvno = args.kvno;
    let principal = principal_arg(&args.principal)?;
    let password = crate::password(&args.password, stdin)?;
    let entries = derive(
        &principal,
        kvno,
        &args.etypes,
        &password,
        args.salt.as_deref(),
    )?;
    let count = entries.len();
    let mut kt = read_or_empty(keytab)?;
    put(&mut kt, entries);
    write(keytab, &kt)?;
    writeln!(
        out,
        "{count} key(s) for {principal} kvno {kvno} written to {}",
        keytab.display()
    )
    .map_err(|e| ToolError::io("stdout", e))?;
    Ok(0)
}

/// The kvno after `kvno`: key version numbers are 32-bit (RFC 4120 5.2.9 `UInt32`) and wrap
/// past `u32::MAX` to 1, never 0 (0 is what an MIT keytab's 8-bit field holds when the real
/// kvno is in the 32-bit extension, and what some implementations read as "no kvno").
pub fn next_kvno(kvno: u32) -> u32 {
    match kvno.wrapping_add(1) {
        0 => 1,
        n => n,
    }
}

/// The kvnos of `principal` in `kt`, newest first. Kvnos wrap, so "newest" is read on the
/// circle of 32-bit numbers: the generations sit together and the newest is the one before the
/// widest gap (1 follows 4294967295 after a wrap-around, as in RFC 1982 serial arithmetic).
pub fn generations(kt: &Keytab, principal: &Principal) -> Vec<u32> {
    let mut kvnos: Vec<u32> = kt
        .entries
        .iter()
        .filter(|e| same_principal(&e.principal, principal))
        .map(|e| e.kvno)
        .collect();
    kvnos.sort_unstable();
    kvnos.dedup();
    let n = kvnos.len();
    let gap = |i: usize| kvnos[(i + 1) % n].wrapping_sub(kvnos[i]);
    let Some(newest) = (0..n).max_by_key(|i| (gap(*i), *i)) else {
        return kvnos;
    };
    (0..n).map(|k| kvnos[(newest + n - k) % n]).collect()
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The new kvno.
    pub kvno: u32,
    /// The earlier kvnos kept, newest first.
    pub kept: Vec<u32>,
    /// The kvnos removed.
    pub removed: Vec<u32>,
}

/// Rotates `principal` in `kt`: adds `entries` (the new generation, all of one kvno), keeps
/// the `keep - 1` newest earlier generations and removes the rest of that principal's keys.
/// Other principals are untouched.
pub fn rotate_in(
    kt: &mut Keytab,
    principal: &Principal,
    entries: Vec<KeytabEntry>,
    keep: u32,
) -> Rotation {
    let kvno = entries.first().map_or(0, |e| e.kvno);
    let earlier: Vec<u32> = generations(kt, principal)
        .into_iter()
        .filter(|k| *k != kvno)
        .collect();
    let keep_earlier = usize::try_from(keep.saturating_sub(1)).unwrap_or(usize::MAX);
    let (kept, removed) = earlier.split_at(keep_earlier.min(earlier.len()));
    kt.entries.retain(|e| {
        !(same_principal(&e.principal, principal) && (e.kvno == kvno || removed.contains(&e.kvno)))
    });
    kt.entries.extend(entries);
    Rotation {
        kvno,
        kept: kept.to_vec(),
        removed: removed.to_vec(),
    }
}

/// Runs `keytab rotate`: a new generation of keys from the new password at the next kvno (or
/// `--kvno`), the previous generation kept for tickets issued before the change, older ones
/// removed; then the server is told to reload, or the admin told to.
pub fn rotate(
    args: &KeytabRotateArgs,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<i32, ToolError> {
    let stdout_err = |e| ToolError::io("stdout", e);
    let principal = principal_arg(&args.principal)?;
    let mut kt = read_or_empty(&args.keytab)?;
    let kvno = match args.kvno {
        Some(k) => k,
        None => generations(&kt, &principal)
            .first()
            .map_or(1, |k| next_kvno(*k)),
    };
    let password = crate::password(&args.password, stdin)?;
    let entries = derive(
        &principal,
        kvno,
        &args.etypes,
        &password,
        args.salt.as_deref(),
    )?;
    let count = entries.len();
    let rotation = rotate_in(&mut kt, &principal, entries, args.keep);
    write(&args.keytab, &kt)?;
    let list = |k: &[u32]| {
        if k.is_empty() {
            "none".to_owned()
        } else {
            k.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
        }
    };
    writeln!(
        out,
        "{count} key(s) for {principal} kvno {kvno} written to {}; kept kvno {}; removed kvno {}",
        args.keytab.display(),
        list(&rotation.kept),
        list(&rotation.removed),
    )
    .map_err(stdout_err)?;
    if args.socket.is_none() && args.config.is_none() {
        writeln!(
            out,
            "run `smbd-tools reload --config FILE` (or send SIGHUP) so the server reads it"
        )
        .map_err(stdout_err)?;
        return Ok(0);
    }
    let target = AdminSocket {
        socket: args.socket.clone(),
        config: args.config.clone(),
    };
    crate::status::reload(&target, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPN: &str = "cifs/fs.example.test@EXAMPLE.TEST";

    fn entry(name: &str, name_type: u32, kvno: u32, etype: Etype) -> KeytabEntry {
        KeytabEntry {
            principal: Principal::parse(name, name_type).unwrap(),
            timestamp: 0,
            kvno,
            etype,
            key: vec![kvno as u8; 16],
        }
    }

    /// Two AES keys of `SPN` at each of `kvnos`, as `ktadd` writes them (name type 1).
    fn keytab(kvnos: &[u32]) -> Keytab {
        let mut entries = Vec::new();
        for k in kvnos {
            entries.push(entry(SPN, NT_PRINCIPAL, *k, Etype::AES256_SHA1));
            entries.push(entry(SPN, NT_PRINCIPAL, *k, Etype::AES128_SHA1));
        }
        Keytab { entries }
    }

    fn rotated(kt: &mut Keytab, keep: u32) -> Rotation {
        let spn = principal_arg(SPN).unwrap();
        let kvno = generations(kt, &spn).first().map_or(1, |k| next_kvno(*k));
        let entries = derive(&spn, kvno, &[], "new password", None).unwrap();
        rotate_in(kt, &spn, entries, keep)
    }

    fn kvnos(kt: &Keytab) -> Vec<u32> {
        let spn = principal_arg(SPN).unwrap();
        generations(kt, &spn)
    }

    #[test]
    fn entra_kvno_rotates_to_the_next_keeping_both() {
        let mut kt = keytab(&[192_272]);
        let r = rotated(&mut kt, 2);
        assert_eq!(
            r,
            Rotation {
                kvno: 192_273,
                kept: vec![192_272],
                removed: vec![]
            }
        );
        assert_eq!(kvnos(&kt), [192_273, 192_272]);
        assert_eq!(kt.entries.len(), 4);
        // Written and read back: the 32-bit kvnos survive the file format.
        let back = Keytab::parse(&kt.encode().unwrap()).unwrap();
        assert_eq!(kvnos(&back), [192_273, 192_272]);
        let new = back.keys_for(
            &["cifs".into(), "fs.example.test".into()],
            "EXAMPLE.TEST",
            Some(192_273),
            Etype::AES256_SHA1,
        );
        assert_eq!(new.len(), 1);
        assert_eq!(new[0].kvno, 192_273);
    }

    #[test]
    fn older_generations_are_removed_and_other_principals_kept() {
        let mut kt = keytab(&[5, 6, 7]);
        let other = entry(
            "cifs/other.example.test@EXAMPLE.TEST",
            1,
            3,
            Etype::AES256_SHA1,
        );
        kt.entries.push(other.clone());
        let r = rotated(&mut kt, 2);
        assert_eq!((r.kvno, r.kept, r.removed), (8, vec![7], vec![6, 5]));
        assert_eq!(kvnos(&kt), [8, 7]);
        assert!(kt.entries.contains(&other));
        // --keep 3 keeps two earlier generations; --keep 1 only the new one.
        let r = rotated(&mut kt, 3);
        assert_eq!((r.kvno, r.kept, r.removed), (9, vec![8, 7], vec![]));
        let r = rotated(&mut kt, 1);
        assert_eq!((r.kvno, r.kept, r.removed), (10, vec![], vec![9, 8, 7]));
        assert_eq!(kvnos(&kt), [10]);
        assert_eq!(kt.entries.len(), 3);
    }

    #[test]
    fn kvnos_wrap_past_u32_max_to_1() {
        assert_eq!(next_kvno(192_272), 192_273);
        assert_eq!(next_kvno(u32::MAX - 1), u32::MAX);
        assert_eq!(next_kvno(u32::MAX), 1);
        let mut kt = keytab(&[u32::MAX - 1, u32::MAX]);
        let r = rotated(&mut kt, 2);
        assert_eq!(
            (r.kvno, r.kept, r.removed),
            (1, vec![u32::MAX], vec![u32::MAX - 1])
        );
        // After the wrap 1 is the newest, so the next rotation gives 2 and drops u32::MAX.
        assert_eq!(kvnos(&kt), [1, u32::MAX]);
        let r = rotated(&mut kt, 2);
        assert_eq!((r.kvno, r.kept, r.removed), (2, vec![1], vec![u32::MAX]));
    }

    #[test]
    fn a_first_rotation_of_a_new_principal_is_kvno_1() {
        let mut kt = Keytab::default();
        let r = rotated(&mut kt, 2);
        assert_eq!((r.kvno, r.kept, r.removed), (1, vec![], vec![]));
    }
}
