//! Reading the TOML document into a [`Config`], with every semantic check.

use std::net::SocketAddr;
use std::path::PathBuf;

use toml_edit::ImDocument;

use super::error::{ConfigError, line_of};
use super::reader::{Source, TableView};
use super::{
    AccountConfig, Config, EncryptPolicy, FIRST_ACCOUNT_RID, MAX_MAX_IO_SIZE, MAX_SERVER_NAME_LEN,
    MIN_MAX_IO_SIZE, ShareConfig,
};

pub(super) const TOP_KEYS: &[&str] = &[
    "listen",
    "server_name",
    "server_comment",
    "server_aliases",
    "state_dir",
    "signing",
    "encrypt",
    "ciphers",
    "signing_algorithms",
    "max_read_size",
    "max_write_size",
    "max_transact_size",
    "max_connections",
    "max_credits",
    "log_level",
    "allow_anonymous",
    "multichannel",
    "interfaces",
    "allow_ntlmv1",
    "share",
    "account",
    "keytabs",
    "allow_rc4",
    "clock_skew_seconds",
    "replay_cache_entries",
    "principal",
    "admin_socket",
    "metrics_listen",
    "audit",
    "audit_file",
    "admin_groups",
    "handshake_timeout_seconds",
    "oplock_break_timeout_seconds",
    "frame_timeout_seconds",
    "idle_timeout_seconds",
    "send_timeout_seconds",
    "max_send_queue_bytes",
    "max_pending_sessions_per_connection",
    "max_pending_sessions",
    "max_sessions_per_connection",
    "max_trees_per_session",
    "max_opens_per_session",
    "max_async_per_connection",
    "max_locks_per_file",
    "max_pipes_per_session",
];
pub(super) const PRINCIPAL_KEYS: &[&str] = &["name", "sid", "groups"];
pub(super) const SHARE_KEYS: &[&str] = &[
    "name",
    "path",
    "read_only",
    "encrypt",
    "comment",
    "sddl",
    "root_sddl",
    "access_based_enumeration",
    "snapshot_dir",
    "continuous_availability",
    "streams",
    "kernel_change_notify",
    "hide_dot_files",
    "hide_files",
];
pub(super) const ACCOUNT_KEYS: &[&str] = &[
    "name",
    "nt_hash",
    "rid",
    "groups",
    "previous_nt_hash",
    "previous_valid_until",
];
const PASSWORD_REFUSED: &str = "plain-text passwords are not accepted; store the NT hash with \
     `smbd-tools account add --config FILE --user NAME --password-stdin`";

/// Characters a share name may not contain (MS-SRVS 2.2.4.23 share names are file-name like).
const SHARE_NAME_FORBIDDEN: &[char] = &['\\', '/', ':', '*', '?', '"', '<', '>', '|'];
/// Characters an account name may not contain (the Windows user-name rules).
const ACCOUNT_NAME_FORBIDDEN: &[char] = &[
    '\\', '/', ':', '*', '?', '"', '<', '>', '|', '[', ']', ';', '=', ',', '+', '@',
];

/// Parses and checks the whole configuration text.
pub(super) fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
    let doc = ImDocument::parse(text).map_err(|e| ConfigError {
        file: file.to_owned(),
        line: line_of(text, e.span()),
        key: None,
        message: e.message().trim().to_owned(),
    })?;
    let src = Source { text, file };
    let root = TableView::root(&src, doc.as_table());
    root.check_keys(TOP_KEYS, &[])?;

    let mut config = Config::defaults();
    read_server(&root, &mut config)?;
    read_limits(&root, &mut config)?;
    config.shares = read_shares(&root)?;
    config.accounts = read_accounts(&root)?;
    read_kerberos(&root, &mut config)?;
    Ok(config)
}

fn read_server(root: &TableView<'_>, config: &mut Config) -> Result<(), ConfigError> {
    if let Some(at) = root.string("listen")? {
        config.listen = at.value.parse::<SocketAddr>().map_err(|_| {
            root.value_error(
                &at,
                "not an address and port such as \"127.0.0.1:445\" or \"[::]:445\"",
            )
        })?;
    }
    if let Some(at) = root.string("metrics_listen")? {
        config.metrics_listen = Some(at.value.parse::<SocketAddr>().map_err(|_| {
            root.value_error(&at, "not an address and port such as \"127.0.0.1:9922\"")
        })?);
    }
    if let Some(at) = root.string("audit")? {
        config.audit = match at.value.as_str() {
            "text" => crate::audit::AuditFormat::Text,
            "json" => crate::audit::AuditFormat::Json,
            "off" => crate::audit::AuditFormat::Off,
            _ => return Err(root.value_error(&at, "expected text, json or off")),
        };
    }
    if let Some(at) = root.string("audit_file")? {
        if at.value.is_empty() {
            return Err(root.value_error(&at, "must not be empty"));
        }
        config.audit_file = Some(PathBuf::from(at.value));
    }
    if let Some(at) = root.string("server_name")? {
        validate_server_name(&at.value).map_err(|m| root.value_error(&at, m))?;
        config.server_name = at.value.to_ascii_uppercase();
    }
    if let Some(at) = root.string("server_comment")? {
        config.server_comment = at.value;
    }
    if let Some(at) = root.string("state_dir")? {
        if at.value.is_empty() {
            return Err(root.value_error(&at, "must not be empty"));
        }
        config.state_dir = PathBuf::from(at.value);
    }
    if let Some(v) = root.choice("signing")? {
        config.signing = v;
    }
    if let Some(v) = root.choice("encrypt")? {
        config.encrypt = v;
    }
    if let Some(v) = root.choice_list("ciphers")? {
        config.ciphers = v;
    }
    if let Some(v) = root.choice_list("signing_algorithms")? {
        config.signing_algorithms = v;
    }
    if let Some(at) = root.string("log_level")? {
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&at.value) {
            return Err(root.value_error(&at, format!("not a log filter directive: {e}")));
        }
        config.log_level = at.value;
    }
    if let Some(v) = root.bool("allow_anonymous")? {
        config.allow_anonymous = v;
    }
    if let Some(v) = root.bool("multichannel")? {
        config.multichannel = v;
    }
    for i in root.string_list("interfaces")?.unwrap_or_default() {
        let spec = crate::netif::InterfaceSpec::parse(&i.value)
            .map_err(|m| root.value_error(&i, format!("\"{}\": {m}", i.value)))?;
        config.interfaces.push(spec);
    }
    if let Some(v) = root.bool("allow_ntlmv1")? {
        config.allow_ntlmv1 = v;
    }
    Ok(())
}

fn read_kerberos(root: &TableView<'_>, config: &mut Config) -> Result<(), ConfigError> {
    for a in root.string_list("server_aliases")?.unwrap_or_default() {
        if a.value.is_empty() || a.value.contains(['/', '\\', ' ']) {
            return Err(root.value_error(&a, "must be a host name or address"));
        }
        config.server_aliases.push(a.value);
    }
    for k in root.string_list("keytabs")?.unwrap_or_default() {
        if k.value.is_empty() {
            return Err(root.value_error(&k, "must not be empty"));
        }
        config.keytabs.push(PathBuf::from(k.value));
    }
    if let Some(v) = root.bool("allow_rc4")? {
        config.allow_rc4 = v;
    }
    if let Some(n) = root.integer("clock_skew_seconds", 0..=86_400)? {
        config.clock_skew_seconds = u64::try_from(n).unwrap_or(300);
    }
    if let Some(n) = root.integer("replay_cache_entries", 1_000..=100_000_000)? {
        config.replay_cache_entries = usize::try_from(n).unwrap_or(usize::MAX);
    }
    if let Some(at) = root.string("admin_socket")? {
        if at.value.is_empty() {
            return Err(root.value_error(&at, "must not be empty"));
        }
        config.admin_socket = Some(PathBuf::from(at.value));
    }
    for g in root.string_list("admin_groups")?.unwrap_or_default() {
        match g.value.parse::<acl::Sid>() {
            Ok(s) => config.admin_groups.push(s),
            Err(e) => return Err(root.value_error(&g, format!("\"{}\": {e}", g.value))),
        }
    }
    for table in root.tables("principal")? {
        table.check_keys(PRINCIPAL_KEYS, &[])?;
        let name = table.required_string("name")?;
        if !name.value.contains('@') {
            return Err(table.value_error(&name, "must be user@REALM"));
        }
        let sid_at = table.required_string("sid")?;
        let sid = sid_at
            .value
            .parse::<acl::Sid>()
            .map_err(|e| table.value_error(&sid_at, format!("\"{}\": {e}", sid_at.value)))?;
        let mut groups = Vec::new();
        for g in table.string_list("groups")?.unwrap_or_default() {
            match g.value.parse::<acl::Sid>() {
                Ok(s) => groups.push(s),
                Err(e) => return Err(table.value_error(&g, format!("\"{}\": {e}", g.value))),
            }
        }
        config.principals.push(super::PrincipalMapping {
            name: name.value,
            sid,
            groups,
        });
    }
    Ok(())
}

fn read_limits(root: &TableView<'_>, config: &mut Config) -> Result<(), ConfigError> {
    let io_range = i64::from(MIN_MAX_IO_SIZE)..=i64::from(MAX_MAX_IO_SIZE);
    for (key, slot) in [
        ("max_read_size", &mut config.max_read_size),
        ("max_write_size", &mut config.max_write_size),
        ("max_transact_size", &mut config.max_transact_size),
    ] {
        if let Some(n) = root.integer(key, io_range.clone())? {
            *slot = u32::try_from(n).unwrap_or(MAX_MAX_IO_SIZE);
        }
    }
    if let Some(n) = root.integer("max_connections", 1..=1_000_000)? {
        config.max_connections = usize::try_from(n).unwrap_or(1);
    }
    if let Some(n) = root.integer("max_credits", 1..=8192)? {
        config.max_credits = u16::try_from(n).unwrap_or(1);
    }
    read_bounds(root, &mut config.limits)
}

/// The keys of [`crate::limits::Limits`]: deadlines in seconds, caps as counts.
fn read_bounds(
    root: &TableView<'_>,
    limits: &mut crate::limits::Limits,
) -> Result<(), ConfigError> {
    use std::time::Duration;
    let day = 1..=86_400;
    for (key, slot) in [
        ("handshake_timeout_seconds", &mut limits.handshake_timeout),
        ("frame_timeout_seconds", &mut limits.frame_timeout),
        ("send_timeout_seconds", &mut limits.send_timeout),
    ] {
        if let Some(n) = root.integer(key, day.clone())? {
            *slot = Duration::from_secs(n.unsigned_abs());
        }
    }
    if let Some(n) = root.integer("oplock_break_timeout_seconds", 1..=300)? {
        limits.oplock_break_timeout = Duration::from_secs(n.unsigned_abs());
    }
    if let Some(n) = root.integer("idle_timeout_seconds", 0..=7 * 86_400)? {
        limits.idle_timeout = (n > 0).then(|| Duration::from_secs(n.unsigned_abs()));
    }
    if let Some(n) = root.integer("max_send_queue_bytes", 1 << 20..=1 << 34)? {
        limits.max_send_queue_bytes = usize::try_from(n).unwrap_or(usize::MAX);
    }
    for (key, slot) in [
        (
            "max_pending_sessions_per_connection",
            &mut limits.max_pending_sessions_per_connection,
        ),
        ("max_pending_sessions", &mut limits.max_pending_sessions),
        (
            "max_sessions_per_connection",
            &mut limits.max_sessions_per_connection,
        ),
        ("max_trees_per_session", &mut limits.max_trees_per_session),
        ("max_opens_per_session", &mut limits.max_opens_per_session),
        (
            "max_async_per_connection",
            &mut limits.max_async_per_connection,
        ),
        ("max_locks_per_file", &mut limits.max_locks_per_file),
        ("max_pipes_per_session", &mut limits.max_pipes_per_session),
    ] {
        if let Some(n) = root.integer(key, 1..=1_000_000)? {
            *slot = usize::try_from(n).unwrap_or(1);
        }
    }
    Ok(())
}

fn read_shares(root: &TableView<'_>) -> Result<Vec<ShareConfig>, ConfigError> {
    let mut shares: Vec<ShareConfig> = Vec::new();
    for table in root.tables("share")? {
        table.check_keys(SHARE_KEYS, &[])?;
        let name = table.required_string("name")?;
        validate_share_name(&name.value).map_err(|m| table.value_error(&name, m))?;
        if shares
            .iter()
            .any(|s| s.name.eq_ignore_ascii_case(&name.value))
        {
            let m = format!(
                "share \"{}\" is defined twice (names ignore case)",
                name.value
            );
            return Err(table.value_error(&name, m));
        }
        let path = table.required_string("path")?;
        if path.value.is_empty() {
            return Err(table.value_error(&path, "must not be empty"));
        }
        shares.push(ShareConfig {
            name: name.value,
            path: PathBuf::from(path.value),
            read_only: table.bool("read_only")?.unwrap_or(false),
            encrypt: table.choice("encrypt")?.unwrap_or(EncryptPolicy::Off),
            comment: table
                .string("comment")?
                .map(|a| a.value)
                .unwrap_or_default(),
            sddl: sddl_key(&table, "sddl")?,
            root_sddl: sddl_key(&table, "root_sddl")?,
            access_based_enumeration: table.bool("access_based_enumeration")?.unwrap_or(false),
            snapshot_dir: table
                .string("snapshot_dir")?
                .map(|at| PathBuf::from(at.value)),
            continuous_availability: table.bool("continuous_availability")?.unwrap_or(false),
            streams: table.bool("streams")?.unwrap_or(true),
            kernel_change_notify: table.bool("kernel_change_notify")?.unwrap_or(true),
            hide_dot_files: table.bool("hide_dot_files")?.unwrap_or(false),
            hide_files: table
                .string_list("hide_files")?
                .unwrap_or_default()
                .into_iter()
                .map(|at| at.value)
                .collect(),
        });
    }
    Ok(shares)
}

/// An optional SDDL key, checked to parse.
fn sddl_key(table: &TableView<'_>, key: &str) -> Result<Option<String>, ConfigError> {
    let Some(at) = table.string(key)? else {
        return Ok(None);
    };
    acl::SecurityDescriptor::from_sddl(&at.value, None)
        .map_err(|e| table.value_error(&at, format!("not valid SDDL: {e}")))?;
    Ok(Some(at.value))
}

fn read_accounts(root: &TableView<'_>) -> Result<Vec<AccountConfig>, ConfigError> {
    let mut accounts: Vec<AccountConfig> = Vec::new();
    for (index, table) in root.tables("account")?.into_iter().enumerate() {
        table.check_keys(ACCOUNT_KEYS, &[("password", PASSWORD_REFUSED)])?;
        let name = table.required_string("name")?;
        validate_account_name(&name.value).map_err(|m| table.value_error(&name, m))?;
        if accounts
            .iter()
            .any(|a| a.name.eq_ignore_ascii_case(&name.value))
        {
            let m = format!(
                "account \"{}\" is defined twice (names ignore case)",
                name.value
            );
            return Err(table.value_error(&name, m));
        }
        let hash = table.required_string("nt_hash")?;
        let nt_hash = parse_nt_hash(&hash.value)
            .ok_or_else(|| table.value_error(&hash, "must be exactly 32 hexadecimal digits"))?;
        let default_rid = u32::try_from(index)
            .ok()
            .and_then(|i| i.checked_add(FIRST_ACCOUNT_RID));
        let rid = match table.integer("rid", 1..=i64::from(u32::MAX))? {
            Some(n) => u32::try_from(n).ok(),
            None => default_rid,
        };
        let Some(rid) = rid else {
            return Err(table.error_at(None, "rid", "no default RID is left; give one"));
        };
        if let Some(other) = accounts.iter().find(|a| a.rid == rid) {
            let m = format!("RID {rid} is already used by account \"{}\"", other.name);
            return Err(table.error_at(table.span_of("rid"), "rid", m));
        }
        let mut groups = Vec::new();
        for sid in table.string_list("groups")?.unwrap_or_default() {
            match sid.value.parse::<acl::Sid>() {
                Ok(s) => groups.push(s),
                Err(e) => return Err(table.value_error(&sid, format!("\"{}\": {e}", sid.value))),
            }
        }
        let previous = read_previous_hash(&table)?;
        accounts.push(AccountConfig {
            name: name.value,
            nt_hash,
            rid,
            groups,
            previous,
        });
    }
    Ok(accounts)
}

/// An account's `previous_nt_hash` and `previous_valid_until`: both or neither.
fn read_previous_hash(
    table: &TableView<'_>,
) -> Result<Option<([u8; 16], std::time::SystemTime)>, ConfigError> {
    let hash = table.string("previous_nt_hash")?;
    let until = table.string("previous_valid_until")?;
    match (hash, until) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(table.error_at(
            table.span_of("previous_nt_hash"),
            "previous_valid_until",
            "previous_nt_hash needs previous_valid_until (RFC 3339, e.g. 2026-12-05T12:00:00Z)",
        )),
        (None, Some(_)) => Err(table.error_at(
            table.span_of("previous_valid_until"),
            "previous_nt_hash",
            "previous_valid_until needs previous_nt_hash",
        )),
        (Some(hash), Some(until)) => {
            let nt_hash = parse_nt_hash(&hash.value)
                .ok_or_else(|| table.value_error(&hash, "must be exactly 32 hexadecimal digits"))?;
            let time = humantime::parse_rfc3339_weak(&until.value)
                .map_err(|e| table.value_error(&until, format!("not an RFC 3339 time ({e})")))?;
            Ok(Some((nt_hash, time)))
        }
    }
}

/// Checks a server name: 1 to 15 characters, no spaces, none of `\ / : * ? " < > | .`.
pub fn validate_server_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > MAX_SERVER_NAME_LEN {
        return Err(format!(
            "must be 1 to {MAX_SERVER_NAME_LEN} characters long"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !c.is_ascii_graphic() || SHARE_NAME_FORBIDDEN.contains(c) || *c == '.')
    {
        return Err(format!(
            "must not contain {c:?} (ASCII letters, digits and - _ only)"
        ));
    }
    Ok(())
}

/// Checks a share name: 1 to 80 characters, no control characters, none of
/// `\ / : * ? " < > |`, and not the reserved `IPC$`.
pub fn validate_share_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > 80 {
        return Err("must be 1 to 80 characters long".to_owned());
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_control() || SHARE_NAME_FORBIDDEN.contains(c))
    {
        return Err(format!("must not contain {c:?}"));
    }
    if name.eq_ignore_ascii_case("IPC$") {
        return Err("\"IPC$\" is reserved for the server".to_owned());
    }
    Ok(())
}

/// Checks an account name: 1 to 64 characters, no control characters, none of
/// `\ / : * ? " < > | [ ] ; = , + @`.
pub fn validate_account_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > 64 {
        return Err("must be 1 to 64 characters long".to_owned());
    }
    if name.trim() != name {
        return Err("must not begin or end with spaces".to_owned());
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_control() || ACCOUNT_NAME_FORBIDDEN.contains(c))
    {
        return Err(format!("must not contain {c:?}"));
    }
    Ok(())
}

/// Decodes an NT hash written as exactly 32 hexadecimal digits.
pub fn parse_nt_hash(hex: &str) -> Option<[u8; 16]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let [hi, lo] = pair else { return None };
        let hi = char::from(*hi).to_digit(16)?;
        let lo = char::from(*lo).to_digit(16)?;
        *slot = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

/// Encodes an NT hash (or any bytes) as lower-case hexadecimal.
pub fn format_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
