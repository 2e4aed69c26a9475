//! Every documented key does what it says: each key of `smbd.example.toml` (written or
//! commented out) and each key the parser accepts has an entry below, and each entry proves
//! that changing the key changes the parsed [`Config`].
//!
//! This catches keys that are documented but not read, and keys read but not documented. It
//! does not prove that the server acts on the field; the tests that do are named in the
//! comments where one exists.

use std::collections::BTreeSet;

use super::parse::{ACCOUNT_KEYS, PRINCIPAL_KEYS, SHARE_KEYS, TOP_KEYS};
use super::*;

const EXAMPLE: &str = include_str!("../../smbd.example.toml");

/// What setting a key does.
enum Effect {
    /// The TOML line(s) give the key a non-default value; the function renders the part of
    /// the configuration the key sets, which must differ from the base configuration's.
    Field(&'static str, fn(&Config) -> String),
    /// The key holds tables of another section (checked through that section's keys).
    Tables,
}

/// The base configuration every change is made to: one share, one account, one principal.
fn base_lines(section: &str) -> Vec<(String, String)> {
    match section {
        "" => Vec::new(),
        "share" => vec!["name = \"s\"", "path = \"/srv/s\""],
        "account" => vec![
            "name = \"a\"",
            "nt_hash = \"8846f7eaee8fb117ad06bdd830b7586c\"",
        ],
        "principal" => vec!["name = \"p@EXAMPLE.COM\"", "sid = \"S-1-5-21-1-2-3-1105\""],
        other => panic!("no section {other}"),
    }
    .into_iter()
    .map(|line| {
        let key = line.split_once(' ').map_or(line, |(k, _)| k);
        (key.to_owned(), line.to_owned())
    })
    .collect()
}

/// The document with `change` (a key's line) put into `section`, replacing the base line of
/// the same key.
fn document(section: &str, key: &str, change: &str) -> String {
    let mut text = String::new();
    for s in ["", "share", "account", "principal"] {
        if !s.is_empty() {
            text.push_str(&format!("[[{s}]]\n"));
        }
        let mut lines = base_lines(s);
        if s == section {
            lines.retain(|(k, _)| *k != key);
            lines.push((key.to_owned(), change.to_owned()));
        }
        for (_, line) in lines {
            text.push_str(&line);
            text.push('\n');
        }
        text.push('\n');
    }
    text
}

fn top(key: &str) -> Option<Effect> {
    use Effect::{Field, Tables};
    let limits = |c: &Config| format!("{:?}", c.limits);
    Some(match key {
        "listen" => Field("listen = \"10.1.2.3:4445\"", |c| c.listen.to_string()),
        "server_name" => Field("server_name = \"OTHERNAME\"", |c| c.server_name.clone()),
        "server_comment" => Field("server_comment = \"elsewhere\"", |c| {
            c.server_comment.clone()
        }),
        "server_aliases" => Field("server_aliases = [\"x.example.com\"]", |c| {
            format!("{:?}", c.server_aliases)
        }),
        "state_dir" => Field("state_dir = \"/var/lib/other\"", |c| {
            format!("{:?}", c.state_dir)
        }),
        "signing" => Field("signing = \"enabled\"", |c| format!("{:?}", c.signing)),
        "encrypt" => Field("encrypt = \"required\"", |c| format!("{:?}", c.encrypt)),
        "ciphers" => Field("ciphers = [\"aes-256-gcm\"]", |c| {
            format!("{:?}", c.ciphers)
        }),
        "signing_algorithms" => Field("signing_algorithms = [\"hmac-sha256\"]", |c| {
            format!("{:?}", c.signing_algorithms)
        }),
        "max_read_size" => Field("max_read_size = 65536", |c| c.max_read_size.to_string()),
        "max_write_size" => Field("max_write_size = 65536", |c| c.max_write_size.to_string()),
        "max_transact_size" => Field("max_transact_size = 65536", |c| {
            c.max_transact_size.to_string()
        }),
        "max_connections" => Field("max_connections = 7", |c| c.max_connections.to_string()),
        "max_credits" => Field("max_credits = 512", |c| c.max_credits.to_string()),
        "log_level" => Field("log_level = \"debug\"", |c| c.log_level.clone()),
        "allow_anonymous" => Field("allow_anonymous = true", |c| c.allow_anonymous.to_string()),
        "multichannel" => Field("multichannel = false", |c| c.multichannel.to_string()),
        "interfaces" => Field("interfaces = [\"127.0.0.1\"]", |c| {
            format!("{:?}", c.interfaces)
        }),
        "allow_ntlmv1" => Field("allow_ntlmv1 = true", |c| c.allow_ntlmv1.to_string()),
        "share" | "account" | "principal" => Tables,
        "keytabs" => Field("keytabs = [\"/etc/smbd/k.keytab\"]", |c| {
            format!("{:?}", c.keytabs)
        }),
        "allow_rc4" => Field("allow_rc4 = true", |c| c.allow_rc4.to_string()),
        "clock_skew_seconds" => Field("clock_skew_seconds = 60", |c| {
            c.clock_skew_seconds.to_string()
        }),
        "replay_cache_entries" => Field("replay_cache_entries = 1000", |c| {
            c.replay_cache_entries.to_string()
        }),
        "admin_socket" => Field("admin_socket = \"/run/smbd/admin.sock\"", |c| {
            format!("{:?}", c.admin_socket)
        }),
        "metrics_listen" => Field("metrics_listen = \"127.0.0.1:9922\"", |c| {
            format!("{:?}", c.metrics_listen)
        }),
        "audit" => Field("audit = \"json\"", |c| format!("{:?}", c.audit)),
        "audit_file" => Field("audit_file = \"/var/log/smbd/audit.log\"", |c| {
            format!("{:?}", c.audit_file)
        }),
        "admin_groups" => Field("admin_groups = [\"S-1-5-32-544\"]", |c| {
            format!("{:?}", c.admin_groups)
        }),
        "handshake_timeout_seconds" => Field("handshake_timeout_seconds = 7", limits),
        "oplock_break_timeout_seconds" => Field("oplock_break_timeout_seconds = 7", limits),
        "frame_timeout_seconds" => Field("frame_timeout_seconds = 7", limits),
        "idle_timeout_seconds" => Field("idle_timeout_seconds = 7", limits),
        "send_timeout_seconds" => Field("send_timeout_seconds = 7", limits),
        "max_send_queue_bytes" => Field("max_send_queue_bytes = 2097152", limits),
        "max_pending_sessions_per_connection" => {
            Field("max_pending_sessions_per_connection = 3", limits)
        }
        "max_pending_sessions" => Field("max_pending_sessions = 3", limits),
        "max_sessions_per_connection" => Field("max_sessions_per_connection = 3", limits),
        "max_trees_per_session" => Field("max_trees_per_session = 3", limits),
        "max_opens_per_session" => Field("max_opens_per_session = 3", limits),
        "max_async_per_connection" => Field("max_async_per_connection = 3", limits),
        "max_locks_per_file" => Field("max_locks_per_file = 3", limits),
        "max_pipes_per_session" => Field("max_pipes_per_session = 3", limits),
        _ => return None,
    })
}

fn share(key: &str) -> Option<Effect> {
    use Effect::Field;
    let s = |c: &Config| format!("{:?}", c.shares[0]);
    Some(match key {
        "name" => Field("name = \"t\"", s),
        "path" => Field("path = \"/srv/t\"", s),
        "read_only" => Field("read_only = true", s),
        "encrypt" => Field("encrypt = \"required\"", s),
        "comment" => Field("comment = \"c\"", s),
        "sddl" => Field("sddl = \"D:(A;;FA;;;WD)\"", s),
        "root_sddl" => Field("root_sddl = \"O:BAG:BAD:(A;OICI;FA;;;WD)\"", s),
        "access_based_enumeration" => Field("access_based_enumeration = true", s),
        "snapshot_dir" => Field("snapshot_dir = \"/srv/snapshots\"", s),
        "continuous_availability" => Field("continuous_availability = true", s),
        "streams" => Field("streams = false", s),
        "kernel_change_notify" => Field("kernel_change_notify = false", s),
        "hide_dot_files" => Field("hide_dot_files = true", s),
        "hide_files" => Field("hide_files = [\"*.tmp\"]", s),
        _ => return None,
    })
}

fn account(key: &str) -> Option<Effect> {
    use Effect::Field;
    // The account as the acceptor gets it, secrets included (Debug hides them).
    let a = |c: &Config| {
        let a = &c.accounts[0];
        let l = a.to_local_account();
        let previous = l.previous.map(|p| (p.nt_hash, p.valid_until));
        format!(
            "{} {:?} {} {:?} {previous:?}",
            l.name, l.nt_hash, l.rid, l.groups
        )
    };
    Some(match key {
        "name" => Field("name = \"b\"", a),
        "nt_hash" => Field("nt_hash = \"a4f49c406510bdcab6824ee7c30fd852\"", a),
        "rid" => Field("rid = 1234", a),
        "groups" => Field("groups = [\"S-1-5-32-545\"]", a),
        "previous_nt_hash" | "previous_valid_until" => Field(
            "previous_nt_hash = \"a4f49c406510bdcab6824ee7c30fd852\"\n\
             previous_valid_until = \"2026-12-05T12:00:00Z\"",
            a,
        ),
        _ => return None,
    })
}

fn principal(key: &str) -> Option<Effect> {
    use Effect::Field;
    let p = |c: &Config| format!("{:?}", c.principals[0]);
    Some(match key {
        "name" => Field("name = \"q@EXAMPLE.COM\"", p),
        "sid" => Field("sid = \"S-1-5-21-1-2-3-1106\"", p),
        "groups" => Field("groups = [\"S-1-5-21-1-2-3-513\"]", p),
        _ => return None,
    })
}

fn effect(section: &str, key: &str) -> Option<Effect> {
    match section {
        "" => top(key),
        "share" => share(key),
        "account" => account(key),
        "principal" => principal(key),
        _ => None,
    }
}

/// Every `(section, key)` of the example, written (`key = ...`) or commented out
/// (`# key = ...`), the section being the last `[[name]]` header above it (commented or not);
/// a header documents its top-level key.
fn example_keys() -> BTreeSet<(String, String)> {
    let mut section = String::new();
    let mut keys = BTreeSet::new();
    for line in EXAMPLE.lines() {
        let body = line.trim_start_matches('#').trim();
        if let Some(name) = body.strip_prefix("[[").and_then(|b| b.strip_suffix("]]")) {
            section = name.to_owned();
            keys.insert((String::new(), section.clone()));
            continue;
        }
        let Some((key, _)) = body.split_once('=') else {
            continue;
        };
        let key = key.trim();
        let is_key = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        // Prose in comments has spaces before any '='; a key never does.
        if is_key && (line.starts_with('#') || !line.starts_with(' ')) {
            keys.insert((section.clone(), key.to_owned()));
        }
    }
    keys
}

fn accepted_keys() -> BTreeSet<(String, String)> {
    let mut keys = BTreeSet::new();
    for (section, list) in [
        ("", TOP_KEYS),
        ("share", SHARE_KEYS),
        ("account", ACCOUNT_KEYS),
        ("principal", PRINCIPAL_KEYS),
    ] {
        for k in list {
            keys.insert((section.to_owned(), (*k).to_owned()));
        }
    }
    keys
}

#[test]
fn every_example_key_is_accepted_and_every_accepted_key_documented() {
    let example = example_keys();
    let accepted = accepted_keys();
    let undocumented: Vec<_> = accepted.difference(&example).collect();
    assert!(
        undocumented.is_empty(),
        "keys read but not in smbd.example.toml: {undocumented:?}"
    );
    let unknown: Vec<_> = example.difference(&accepted).collect();
    assert!(
        unknown.is_empty(),
        "keys in smbd.example.toml the parser refuses: {unknown:?}"
    );
    // The written (uncommented) example parses as a whole.
    Config::parse(EXAMPLE, "smbd.example.toml").unwrap();
}

#[test]
fn every_key_changes_the_configuration() {
    let base = Config::parse(&document("", "", ""), "base").unwrap();
    let mut missing = Vec::new();
    for (section, key) in accepted_keys().union(&example_keys()) {
        let Some(effect) = effect(section, key) else {
            missing.push(format!("{section}.{key}"));
            continue;
        };
        let at = format!("[{section}] {key}");
        match effect {
            Effect::Field(change, field) => {
                let text = document(section, key, change);
                let changed = Config::parse(&text, "changed")
                    .unwrap_or_else(|e| panic!("{at}: {change:?} is refused: {e}"));
                assert_ne!(
                    field(&base),
                    field(&changed),
                    "{at}: {change:?} changes nothing"
                );
            }
            Effect::Tables => {}
        }
    }
    assert!(
        missing.is_empty(),
        "keys without an effect entry: {missing:?}"
    );
}
