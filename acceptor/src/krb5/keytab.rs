//! MIT keytab files (format 0x502, and the older 0x501 read-only) and a source that re-reads the
//! file when it changes, so keys can be rotated without a restart.
//!
//! File layout (big-endian for 0x502, host order, taken as little-endian, for 0x501): a 16-bit
//! version, then records of a signed 32-bit length and an entry; a negative length is a hole
//! of that many bytes. An entry is the component count (which counts the realm too in 0x501),
//! the realm and the components as 16-bit counted strings, the name type (0x502 only), a
//! timestamp, an 8-bit kvno, the key (16-bit enctype, counted bytes) and, when at least four
//! bytes remain in the record, a 32-bit kvno that supersedes the 8-bit one unless it is zero.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::crypto::{CryptoError, Etype, Key};

/// Largest keytab file read (16 MiB).
pub const MAX_FILE_LEN: usize = 16 << 20;
/// Most entries read from one file.
pub const MAX_ENTRIES: usize = 100_000;
/// Most principal components accepted in one entry.
pub const MAX_COMPONENTS: usize = 16;

/// Why a keytab could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeytabError {
    /// The file does not start with 0x05 0x01 or 0x05 0x02.
    BadVersion(u16),
    /// A record or field runs past the end of the file or its record.
    Truncated(&'static str),
    /// The file is larger than [`MAX_FILE_LEN`].
    FileTooLarge,
    /// The file has more than [`MAX_ENTRIES`] entries.
    TooManyEntries,
    /// An entry's principal has no or more than [`MAX_COMPONENTS`] components.
    BadComponentCount(u16),
    /// A realm or component is not UTF-8.
    BadString,
    /// A field is too long for the format when writing.
    TooLong(&'static str),
    /// The file could not be read.
    Io(std::io::ErrorKind),
    /// Deriving a key failed.
    Crypto(CryptoError),
}

/// A principal name: its components (e.g. `["cifs", "host.example.com"]`) and realm.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal {
    /// Name components.
    pub components: Vec<String>,
    /// Realm.
    pub realm: String,
    /// Name type (1 = KRB_NT_PRINCIPAL, 2 = KRB_NT_SRV_INST, 3 = KRB_NT_SRV_HST).
    pub name_type: u32,
}

impl Principal {
    /// Parses `a/b@REALM` (no escapes; the realm is required).
    pub fn parse(s: &str, name_type: u32) -> Option<Self> {
        let (name, realm) = s.rsplit_once('@')?;
        if name.is_empty() || realm.is_empty() {
            return None;
        }
        Some(Self {
            components: name.split('/').map(str::to_owned).collect(),
            realm: realm.to_owned(),
            name_type,
        })
    }

    /// Whether this names the same principal as `components@realm`. Comparison ignores ASCII
    /// case, since Active Directory treats SPNs and realms case-insensitively.
    pub fn matches(&self, components: &[String], realm: &str) -> bool {
        self.realm.eq_ignore_ascii_case(realm)
            && self.components.len() == components.len()
            && self
                .components
                .iter()
                .zip(components)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }

    /// The default salt of RFC 4120 section 4: the realm then every component, concatenated.
    pub fn default_salt(&self) -> Vec<u8> {
        let mut s = self.realm.as_bytes().to_vec();
        for c in &self.components {
            s.extend_from_slice(c.as_bytes());
        }
        s
    }
}

impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.components.join("/"), self.realm)
    }
}

/// One keytab entry.
#[derive(Clone, PartialEq, Eq)]
pub struct KeytabEntry {
    /// The principal the key belongs to.
    pub principal: Principal,
    /// When the entry was written (seconds since 1970).
    pub timestamp: u32,
    /// Key version number.
    pub kvno: u32,
    /// The key's enctype (unknown enctypes are kept, not used).
    pub etype: Etype,
    /// The key bytes.
    pub key: Vec<u8>,
}

impl std::fmt::Debug for KeytabEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeytabEntry")
            .field("principal", &self.principal)
            .field("kvno", &self.kvno)
            .field("etype", &self.etype)
            .finish_non_exhaustive()
    }
}

impl KeytabEntry {
    /// The entry's key as a protocol key.
    pub fn key(&self) -> Result<Key, CryptoError> {
        Key::new(self.etype, &self.key)
    }

    /// An entry whose key is derived from a password, with the principal's default salt unless
    /// `salt` is given (RC4 uses the NT hash and ignores the salt).
    pub fn from_password(
        principal: Principal,
        kvno: u32,
        etype: Etype,
        password: &str,
        salt: Option<&[u8]>,
        timestamp: u32,
    ) -> Result<Self, KeytabError> {
        let salt = salt.map_or_else(|| principal.default_salt(), <[u8]>::to_vec);
        let key = Key::from_password(etype, password, &salt, None).map_err(KeytabError::Crypto)?;
        Ok(Self {
            principal,
            timestamp,
            kvno,
            etype,
            key: key.bytes().to_vec(),
        })
    }
}

/// A bounded big- or little-endian reader over one record.
struct Cursor<'a> {
    data: &'a [u8],
    little: bool,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], KeytabError> {
        if self.data.len() < n {
            return Err(KeytabError::Truncated(what));
        }
        let (a, b) = self.data.split_at(n);
        self.data = b;
        Ok(a)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, KeytabError> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, KeytabError> {
        let b: [u8; 2] = self.take(2, what)?.try_into().unwrap_or_default();
        Ok(if self.little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, KeytabError> {
        let b: [u8; 4] = self.take(4, what)?.try_into().unwrap_or_default();
        Ok(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn counted(&mut self, what: &'static str) -> Result<&'a [u8], KeytabError> {
        let n = self.u16(what)?;
        self.take(usize::from(n), what)
    }

    fn string(&mut self, what: &'static str) -> Result<String, KeytabError> {
        let b = self.counted(what)?;
        std::str::from_utf8(b)
            .map(str::to_owned)
            .map_err(|_| KeytabError::BadString)
    }
}

/// The keys of a keytab file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keytab {
    /// Entries in file order.
    pub entries: Vec<KeytabEntry>,
}

impl Keytab {
    /// Parses a keytab file.
    pub fn parse(data: &[u8]) -> Result<Self, KeytabError> {
        if data.len() > MAX_FILE_LEN {
            return Err(KeytabError::FileTooLarge);
        }
        let (version, mut rest) = match data {
            [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
            _ => return Err(KeytabError::Truncated("version")),
        };
        let little = match version {
            0x0502 => false,
            0x0501 => true,
            v => return Err(KeytabError::BadVersion(v)),
        };
        let mut entries = Vec::new();
        while !rest.is_empty() {
            let mut c = Cursor { data: rest, little };
            let len = c.u32("record length")? as i32;
            let size = len.unsigned_abs() as usize;
            let record = c.take(size, "record")?;
            rest = c.data;
            if len <= 0 {
                continue; // A hole left by a deleted entry.
            }
            if entries.len() == MAX_ENTRIES {
                return Err(KeytabError::TooManyEntries);
            }
            entries.push(parse_entry(record, version)?);
        }
        Ok(Self { entries })
    }

    /// Encodes the keytab in format 0x502.
    pub fn encode(&self) -> Result<Vec<u8>, KeytabError> {
        let mut out = vec![0x05, 0x02];
        for e in &self.entries {
            let rec = encode_entry(e)?;
            let len = i32::try_from(rec.len()).map_err(|_| KeytabError::TooLong("entry"))?;
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&rec);
        }
        Ok(out)
    }

    /// The key for a ticket: the entry of this principal, etype and kvno when present; else,
    /// as MIT does, every key of that etype for the principal (newest kvno first).
    pub fn keys_for(
        &self,
        components: &[String],
        realm: &str,
        kvno: Option<u32>,
        etype: Etype,
    ) -> Vec<&KeytabEntry> {
        let mut all: Vec<&KeytabEntry> = self
            .entries
            .iter()
            .filter(|e| e.etype == etype && e.principal.matches(components, realm))
            .collect();
        if let Some(k) = kvno {
            let exact: Vec<&KeytabEntry> = all.iter().copied().filter(|e| e.kvno == k).collect();
            if !exact.is_empty() {
                return exact;
            }
        }
        all.sort_by_key(|e| std::cmp::Reverse(e.kvno));
        all
    }

    /// Every key of `etype` for the principal, in file order.
    pub fn all_keys(&self, components: &[String], realm: &str, etype: Etype) -> Vec<&KeytabEntry> {
        self.entries
            .iter()
            .filter(|e| e.etype == etype && e.principal.matches(components, realm))
            .collect()
    }

    /// Whether any entry belongs to a principal with these components in any realm.
    pub fn has_principal(&self, components: &[String]) -> bool {
        self.entries.iter().any(|e| {
            e.principal.components.len() == components.len()
                && e.principal
                    .components
                    .iter()
                    .zip(components)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
        })
    }
}

fn parse_entry(record: &[u8], version: u16) -> Result<KeytabEntry, KeytabError> {
    let mut c = Cursor {
        data: record,
        little: version == 0x0501,
    };
    let mut count = c.u16("component count")?;
    if version == 0x0501 {
        count = count.saturating_sub(1); // 0x501 counts the realm.
    }
    if count == 0 || usize::from(count) > MAX_COMPONENTS {
        return Err(KeytabError::BadComponentCount(count));
    }
    let realm = c.string("realm")?;
    let mut components = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        components.push(c.string("component")?);
    }
    let name_type = if version == 0x0502 {
        c.u32("name type")?
    } else {
        1
    };
    let timestamp = c.u32("timestamp")?;
    let kvno8 = c.u8("kvno")?;
    let etype = c.u16("enctype")?;
    let key = c.counted("key")?.to_vec();
    let kvno = match c.data.len() {
        n if n >= 4 => match c.u32("kvno32")? {
            0 => u32::from(kvno8),
            k => k,
        },
        _ => u32::from(kvno8),
    };
    Ok(KeytabEntry {
        principal: Principal {
            components,
            realm,
            name_type,
        },
        timestamp,
        kvno,
        etype: Etype(i32::from(etype as i16)),
        key,
    })
}

fn push_counted(out: &mut Vec<u8>, b: &[u8], what: &'static str) -> Result<(), KeytabError> {
    let n = u16::try_from(b.len()).map_err(|_| KeytabError::TooLong(what))?;
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(b);
    Ok(())
}

fn encode_entry(e: &KeytabEntry) -> Result<Vec<u8>, KeytabError> {
    let mut out = Vec::new();
    let count = u16::try_from(e.principal.components.len())
        .map_err(|_| KeytabError::TooLong("components"))?;
    out.extend_from_slice(&count.to_be_bytes());
    push_counted(&mut out, e.principal.realm.as_bytes(), "realm")?;
    for c in &e.principal.components {
        push_counted(&mut out, c.as_bytes(), "component")?;
    }
    out.extend_from_slice(&e.principal.name_type.to_be_bytes());
    out.extend_from_slice(&e.timestamp.to_be_bytes());
    out.push(e.kvno.min(255) as u8);
    let etype = i16::try_from(e.etype.0).map_err(|_| KeytabError::TooLong("enctype"))?;
    out.extend_from_slice(&etype.to_be_bytes());
    push_counted(&mut out, &e.key, "key")?;
    out.extend_from_slice(&e.kvno.to_be_bytes());
    Ok(out)
}

/// How often [`KeytabSource::current`] looks at the file at most.
const CHECK_INTERVAL: Duration = Duration::from_secs(1);

struct Loaded {
    keytab: Arc<Keytab>,
    stamp: Option<Vec<(SystemTime, u64)>>,
    checked: Instant,
}

/// A keytab read from a file and re-read when the file's mtime or size changes (checked at
/// most once a second) or when [`KeytabSource::reload`] is called (the server wires SIGHUP).
/// Rotation works as in MIT: the new kvno is added while the old entries stay, so tickets
/// issued under either kvno keep working.
pub struct KeytabSource {
    paths: Vec<PathBuf>,
    state: Mutex<Loaded>,
}

impl std::fmt::Debug for KeytabSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeytabSource")
            .field("paths", &self.paths)
            .finish_non_exhaustive()
    }
}

fn file_stamp(path: &PathBuf) -> Result<(SystemTime, u64), KeytabError> {
    let md = std::fs::metadata(path).map_err(|e| KeytabError::Io(e.kind()))?;
    let mtime = md.modified().map_err(|e| KeytabError::Io(e.kind()))?;
    Ok((mtime, md.len()))
}

/// The stamps of every file, in order.
fn stamps(paths: &[PathBuf]) -> Result<Vec<(SystemTime, u64)>, KeytabError> {
    paths.iter().map(file_stamp).collect()
}

/// Reads every file and merges their entries into one keytab.
fn read_files(paths: &[PathBuf]) -> Result<Keytab, KeytabError> {
    let mut merged: Option<Keytab> = None;
    for p in paths {
        let kt = read_file(p)?;
        match &mut merged {
            None => merged = Some(kt),
            Some(m) => m.entries.extend(kt.entries),
        }
    }
    merged.ok_or(KeytabError::Io(std::io::ErrorKind::NotFound))
}

fn read_file(path: &PathBuf) -> Result<Keytab, KeytabError> {
    let md = std::fs::metadata(path).map_err(|e| KeytabError::Io(e.kind()))?;
    if md.len() > MAX_FILE_LEN as u64 {
        return Err(KeytabError::FileTooLarge);
    }
    let data = std::fs::read(path).map_err(|e| KeytabError::Io(e.kind()))?;
    Keytab::parse(&data)
}

impl KeytabSource {
    /// Loads the keytab at `path`.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, KeytabError> {
        Self::open_many(vec![path.into()])
    }

    /// Loads several keytabs as one: the server holds keys for every principal of every file.
    pub fn open_many(paths: Vec<PathBuf>) -> Result<Self, KeytabError> {
        let stamp = stamps(&paths)?;
        let keytab = read_files(&paths)?;
        Ok(Self {
            paths,
            state: Mutex::new(Loaded {
                keytab: Arc::new(keytab),
                stamp: Some(stamp),
                checked: Instant::now(),
            }),
        })
    }

    /// A fixed in-memory keytab (tests, or keys from elsewhere).
    pub fn fixed(keytab: Keytab) -> Self {
        Self {
            paths: Vec::new(),
            state: Mutex::new(Loaded {
                keytab: Arc::new(keytab),
                stamp: None,
                checked: Instant::now(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Loaded> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current keys, re-reading the file first if it changed (looked at once a second at
    /// most). A file that fails to parse leaves the previous keys in place.
    pub fn current(&self) -> Arc<Keytab> {
        let mut st = self.lock();
        if !self.paths.is_empty() && st.checked.elapsed() >= CHECK_INTERVAL {
            st.checked = Instant::now();
            if let Ok(stamp) = stamps(&self.paths)
                && Some(&stamp) != st.stamp.as_ref()
                && let Ok(kt) = read_files(&self.paths)
            {
                st.keytab = Arc::new(kt);
                st.stamp = Some(stamp);
            }
        }
        Arc::clone(&st.keytab)
    }

    /// Re-reads the file now; on error the previous keys stay in use.
    pub fn reload(&self) -> Result<(), KeytabError> {
        if self.paths.is_empty() {
            return Ok(());
        }
        let stamp = stamps(&self.paths)?;
        let kt = read_files(&self.paths)?;
        let mut st = self.lock();
        st.keytab = Arc::new(kt);
        st.stamp = Some(stamp);
        st.checked = Instant::now();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Principal {
        Principal::parse(s, 1).unwrap()
    }

    fn sample() -> Keytab {
        let mut entries = Vec::new();
        for (princ, kvno, etype) in [
            ("cifs/fs.example.com@EXAMPLE.COM", 3, Etype::AES256_SHA1),
            ("cifs/fs.example.com@EXAMPLE.COM", 3, Etype::AES128_SHA1),
            ("cifs/fs.example.com@EXAMPLE.COM", 4, Etype::AES256_SHA1),
            ("cifs/fs.example.com@OTHER.ORG", 300, Etype::AES256_SHA1),
            ("host/fs.example.com@EXAMPLE.COM", 3, Etype::RC4_HMAC),
        ] {
            let e = KeytabEntry::from_password(p(princ), kvno, etype, "pw", None, 1_700_000_000);
            entries.push(e.unwrap());
        }
        Keytab { entries }
    }

    #[test]
    fn round_trip_and_lookup() {
        let kt = sample();
        let bytes = kt.encode().unwrap();
        let back = Keytab::parse(&bytes).unwrap();
        assert_eq!(back, kt);
        assert_eq!(back.entries[3].kvno, 300);
        let comps = vec!["CIFS".to_string(), "FS.example.com".to_string()];
        let exact = back.keys_for(&comps, "example.com", Some(3), Etype::AES256_SHA1);
        assert_eq!(exact.len(), 1);
        assert_eq!(exact[0].kvno, 3);
        // An absent kvno falls back to every key of the etype, newest first.
        let any = back.keys_for(&comps, "EXAMPLE.COM", Some(9), Etype::AES256_SHA1);
        assert_eq!(any.iter().map(|e| e.kvno).collect::<Vec<_>>(), vec![4, 3]);
        assert!(
            back.keys_for(&comps, "EXAMPLE.COM", None, Etype(20))
                .is_empty()
        );
        assert_eq!(
            back.all_keys(&comps, "OTHER.ORG", Etype::AES256_SHA1).len(),
            1
        );
        // The default salt makes the same key as an explicit one.
        let e = KeytabEntry::from_password(
            p("cifs/fs.example.com@EXAMPLE.COM"),
            3,
            Etype::AES256_SHA1,
            "pw",
            Some(b"EXAMPLE.COMcifsfs.example.com"),
            0,
        )
        .unwrap();
        assert_eq!(e.key, kt.entries[0].key);
        assert_eq!(kt.entries[4].key, crate::nt_hash("pw"));
    }

    #[test]
    fn reads_v1_holes_and_kvno8() {
        // 0x501, little-endian, count includes the realm, no name type, no 32-bit kvno.
        let mut rec = Vec::new();
        rec.extend_from_slice(&2u16.to_le_bytes());
        for s in [&b"R"[..], b"svc"] {
            rec.extend_from_slice(&(s.len() as u16).to_le_bytes());
            rec.extend_from_slice(s);
        }
        rec.extend_from_slice(&7u32.to_le_bytes());
        rec.push(5);
        rec.extend_from_slice(&17u16.to_le_bytes());
        rec.extend_from_slice(&16u16.to_le_bytes());
        rec.extend_from_slice(&[1; 16]);
        let mut file = vec![0x05, 0x01];
        file.extend_from_slice(&(-3i32).to_le_bytes());
        file.extend_from_slice(&[0; 3]);
        file.extend_from_slice(&(rec.len() as i32).to_le_bytes());
        file.extend_from_slice(&rec);
        let kt = Keytab::parse(&file).unwrap();
        assert_eq!(kt.entries.len(), 1);
        let e = &kt.entries[0];
        assert_eq!(e.principal.to_string(), "svc@R");
        assert_eq!((e.kvno, e.etype, e.timestamp), (5, Etype::AES128_SHA1, 7));
    }

    #[test]
    fn hostile_input_is_an_error() {
        let bytes = sample().encode().unwrap();
        // A prefix parses only when it ends on a record boundary, with fewer entries.
        for n in 0..bytes.len() {
            if let Ok(kt) = Keytab::parse(&bytes[..n]) {
                assert!(kt.entries.len() < 5, "prefix {n}");
            }
        }
        assert_eq!(Keytab::parse(&[5, 3]), Err(KeytabError::BadVersion(0x503)));
        let mut huge = vec![5, 2];
        huge.extend_from_slice(&i32::MAX.to_be_bytes());
        assert!(Keytab::parse(&huge).is_err());
        let mut zero = vec![5, 2, 0, 0, 0, 2, 0, 0];
        assert_eq!(Keytab::parse(&zero), Err(KeytabError::BadComponentCount(0)));
        zero[6] = 0xFF;
        assert!(Keytab::parse(&zero).is_err());
    }

    #[test]
    fn source_reloads_rotated_file() {
        let dir = std::env::temp_dir().join(format!("kt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("krb5.keytab");
        let mut kt = sample();
        kt.entries.truncate(1);
        std::fs::write(&path, kt.encode().unwrap()).unwrap();
        let src = KeytabSource::open(&path).unwrap();
        assert_eq!(src.current().entries.len(), 1);
        // Rotation: kvno 4 added, kvno 3 kept.
        let mut kt2 = sample();
        kt2.entries.truncate(3);
        std::fs::write(&path, kt2.encode().unwrap()).unwrap();
        src.reload().unwrap();
        assert_eq!(src.current().entries.len(), 3);
        // A broken file keeps the previous keys.
        std::fs::write(&path, b"junk").unwrap();
        assert!(src.reload().is_err());
        assert_eq!(src.current().entries.len(), 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
