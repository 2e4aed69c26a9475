//! Adding or replacing an `[[account]]` table in a configuration file's text, keeping every
//! other table, comment and blank line as it was (via `toml_edit`).

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, Value};

use crate::error::ToolError;

/// Text of a configuration file created from nothing.
pub const NEW_FILE_HEADER: &str = "\
# smbd configuration, created by `smbd-tools account add`.
# See smbd.example.toml for every key; check this file with `smbd-tools config check`.
";

/// The account to store.
pub struct NewAccount<'a> {
    /// User name (matched case-insensitively against existing accounts).
    pub name: &'a str,
    /// The NT hash to store.
    pub nt_hash: [u8; 16],
    /// The RID to set, or `None` to keep the existing one (or the default for a new account).
    pub rid: Option<u32>,
    /// The groups to set, or `None` to keep the existing ones (none for a new account).
    pub groups: Option<&'a [acl::Sid]>,
    /// When an existing account's hash changes: keep the old one as `previous_nt_hash`,
    /// accepted until this time, or drop it (`None`).
    pub keep_old_until: Option<std::time::SystemTime>,
}

/// Whether the account was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A new `[[account]]` table was appended.
    Added,
    /// An existing table with the same name was updated in place.
    Replaced,
}

/// Returns `text` with `account` added or replaced, and which of the two happened.
///
/// A replaced account loses any `password` key (the server refuses them). The result is not
/// checked here; the caller parses it with `smbd::config::Config::parse` before writing.
pub fn upsert_account(
    text: &str,
    account: &NewAccount<'_>,
) -> Result<(String, Outcome), ToolError> {
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        ToolError::Invalid(format!("not valid TOML: {}", e.message().trim()))
    })?;
    let item = doc
        .entry("account")
        .or_insert(Item::ArrayOfTables(ArrayOfTables::new()));
    let Some(tables) = item.as_array_of_tables_mut() else {
        return Err(ToolError::Invalid(
            "the `account` key is not written as [[account]] tables; cannot edit it".into(),
        ));
    };
    let hash = smbd::config::format_hex(&account.nt_hash);
    let existing = tables.iter_mut().find(|t| {
        t.get("name")
            .and_then(Item::as_str)
            .is_some_and(|n| n.eq_ignore_ascii_case(account.name))
    });
    let outcome = match existing {
        Some(table) => {
            table.remove("password");
            keep_previous(table, account, &hash);
            fill(table, account, hash);
            Outcome::Replaced
        }
        None => {
            let mut table = Table::new();
            set_keep_decor(&mut table, "name", Value::from(account.name));
            fill(&mut table, account, hash);
            tables.push(table);
            Outcome::Added
        }
    };
    Ok((doc.to_string(), outcome))
}

/// Before an existing account's hash is replaced: keeps the old hash as the previous one until
/// `keep_old_until`, or drops any previous hash when there is no window. Storing the same
/// password again changes nothing.
fn keep_previous(table: &mut Table, account: &NewAccount<'_>, new_hash: &str) {
    let old = table
        .get("nt_hash")
        .and_then(Item::as_str)
        .map(str::to_owned);
    let Some(old) = old.filter(|o| !o.eq_ignore_ascii_case(new_hash)) else {
        return;
    };
    match account.keep_old_until {
        Some(until) => {
            let until = humantime::format_rfc3339_seconds(until).to_string();
            set_keep_decor(
                table,
                "previous_nt_hash",
                Value::from(old.to_ascii_lowercase()),
            );
            set_keep_decor(table, "previous_valid_until", Value::from(until));
        }
        None => {
            table.remove("previous_nt_hash");
            table.remove("previous_valid_until");
        }
    }
}

fn fill(table: &mut Table, account: &NewAccount<'_>, hash: String) {
    set_keep_decor(table, "nt_hash", Value::from(hash));
    if let Some(rid) = account.rid {
        set_keep_decor(table, "rid", Value::from(i64::from(rid)));
    }
    if let Some(groups) = account.groups {
        let array: Array = groups.iter().map(|s| s.to_string()).collect();
        set_keep_decor(table, "groups", Value::Array(array));
    }
}

/// Sets `key` to `value`, keeping the old value's surrounding spaces and trailing comment.
fn set_keep_decor(table: &mut Table, key: &str, mut value: Value) {
    if let Some(old) = table.get(key).and_then(Item::as_value) {
        *value.decor_mut() = old.decor().clone();
    }
    table.insert(key, Item::Value(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: [u8; 16] = [0xAB; 16];

    fn new<'a>(name: &'a str, rid: Option<u32>, groups: Option<&'a [acl::Sid]>) -> NewAccount<'a> {
        NewAccount {
            name,
            nt_hash: HASH,
            rid,
            groups,
            keep_old_until: None,
        }
    }

    #[test]
    fn appends_to_empty_text() {
        let (text, outcome) = upsert_account("", &new("alice", None, None)).unwrap();
        assert_eq!(outcome, Outcome::Added);
        assert_eq!(
            text,
            "[[account]]\nname = \"alice\"\nnt_hash = \"abababababababababababababababab\"\n"
        );
        let c = smbd::config::Config::parse(&text, "t").unwrap();
        assert_eq!(c.accounts[0].name, "alice");
        assert_eq!(c.accounts[0].nt_hash, HASH);
    }

    #[test]
    fn replaces_in_place_keeping_comments() {
        let before = "\
# top comment
listen = \"127.0.0.1:4445\"

[[account]]
name = \"Alice\"   # the boss
nt_hash = \"00000000000000000000000000000000\" # old hash
password = \"oops\"
rid = 1234

[[share]]
name = \"s\"
path = \"/s\"
";
        let groups = [acl::Sid::builtin_users()];
        let (after, outcome) = upsert_account(before, &new("alice", None, Some(&groups))).unwrap();
        assert_eq!(outcome, Outcome::Replaced);
        let expected = "\
# top comment
listen = \"127.0.0.1:4445\"

[[account]]
name = \"Alice\"   # the boss
nt_hash = \"abababababababababababababababab\" # old hash
rid = 1234
groups = [\"S-1-5-32-545\"]

[[share]]
name = \"s\"
path = \"/s\"
";
        assert_eq!(after, expected);
    }

    #[test]
    fn new_account_follows_the_last_account() {
        let before = "[[account]]\nname = \"a\"\nnt_hash = \"00000000000000000000000000000000\"\n\n\
                      [[share]] # shares\nname = \"s\"\npath = \"/s\"\n";
        let (after, outcome) = upsert_account(before, &new("b", Some(7), None)).unwrap();
        assert_eq!(outcome, Outcome::Added);
        let c = smbd::config::Config::parse(&after, "t").unwrap();
        assert_eq!(c.accounts[1].name, "b");
        assert_eq!(c.accounts[1].rid, 7);
        assert_eq!(c.shares[0].name, "s");
        let expected = "[[account]]\nname = \"a\"\nnt_hash = \"00000000000000000000000000000000\"\n\n\
                        [[account]]\nname = \"b\"\nnt_hash = \"abababababababababababababababab\"\nrid = 7\n\n\
                        [[share]] # shares\nname = \"s\"\npath = \"/s\"\n";
        assert_eq!(after, expected);
    }

    #[test]
    fn replaced_password_keeps_the_old_hash_for_the_window() {
        let old = smbd::config::format_hex(&acceptor::nt_hash("old"));
        let before = format!("[[account]]\nname = \"a\"\nnt_hash = \"{old}\"\n");
        let until = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_472_000);
        let account = NewAccount {
            keep_old_until: Some(until),
            ..new("A", None, None)
        };
        let (after, outcome) = upsert_account(&before, &account).unwrap();
        assert_eq!(outcome, Outcome::Replaced);
        let expected = format!(
            "[[account]]\nname = \"a\"\nnt_hash = \"abababababababababababababababab\"\n\
             previous_nt_hash = \"{old}\"\nprevious_valid_until = \"2026-12-05T12:00:00Z\"\n"
        );
        assert_eq!(after, expected);
        let c = smbd::config::Config::parse(&after, "t").unwrap();
        assert_eq!(
            c.accounts[0].previous,
            Some((acceptor::nt_hash("old"), until))
        );

        // The same password again leaves the window alone.
        let (again, _) = upsert_account(&after, &account).unwrap();
        assert_eq!(again, after);
        // A change with no window (--keep-old-for 0) drops the previous hash.
        let third = NewAccount {
            nt_hash: [0xCD; 16],
            ..new("a", None, None)
        };
        let (dropped, _) = upsert_account(&after, &third).unwrap();
        let c = smbd::config::Config::parse(&dropped, "t").unwrap();
        assert_eq!(c.accounts[0].nt_hash, [0xCD; 16]);
        assert_eq!(c.accounts[0].previous, None);
        assert!(!dropped.contains("previous"));
        // A new account has no previous hash, whatever the window.
        let (fresh, outcome) = upsert_account(
            "",
            &NewAccount {
                keep_old_until: Some(until),
                ..new("b", None, None)
            },
        )
        .unwrap();
        assert_eq!(outcome, Outcome::Added);
        assert!(!fresh.contains("previous"));
    }

    #[test]
    fn inline_account_array_is_refused() {
        let text = "account = [{ name = \"a\", nt_hash = \"\" }]\n";
        assert!(upsert_account(text, &new("b", None, None)).is_err());
        assert!(upsert_account("account = ", &new("b", None, None)).is_err());
    }
}
