//! `smbd-tools share list|add|remove`: the `[[share]]` tables of a configuration file, edited
//! with `toml_edit` (comments and other tables kept), checked as a whole configuration before
//! the file is replaced, then applied by the running server through a reload.

use std::io::Write;
use std::path::Path;

use smbd::config::{Config, EncryptPolicy};
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

use crate::cli::{AdminSocket, ShareAddArgs, ShareCommand, ShareRemoveArgs};
use crate::error::ToolError;

/// Runs a `share` command.
pub fn run(cmd: &ShareCommand, out: &mut dyn Write) -> Result<i32, ToolError> {
    match cmd {
        ShareCommand::List(a) => list(&Config::load(&a.config)?, a.json, out),
        ShareCommand::Add(a) => {
            edit(&a.config, |doc| add(doc, a))?;
            say(
                out,
                &format!("share {} added to {}", a.name, a.config.display()),
            )?;
            reload_unless(&a.config, a.no_reload, out)
        }
        ShareCommand::Remove(a) => {
            edit(&a.config, |doc| remove(doc, a))?;
            say(
                out,
                &format!("share {} removed from {}", a.name, a.config.display()),
            )?;
            reload_unless(&a.config, a.no_reload, out)
        }
    }
}

fn say(out: &mut dyn Write, line: &str) -> Result<(), ToolError> {
    writeln!(out, "{line}").map_err(|e| ToolError::io("stdout", e))
}

fn policy_name(p: &EncryptPolicy) -> &'static str {
    match p {
        EncryptPolicy::Off => "off",
        EncryptPolicy::Desired => "desired",
        EncryptPolicy::Required => "required",
    }
}

/// Prints the shares as a table or JSON lines.
fn list(config: &Config, json: bool, out: &mut dyn Write) -> Result<i32, ToolError> {
    let mut text = String::new();
    if json {
        for s in &config.shares {
            let line = serde_json::json!({
                "name": s.name,
                "path": s.path.display().to_string(),
                "read_only": s.read_only,
                "encrypt": policy_name(&s.encrypt),
                "comment": s.comment,
            });
            text.push_str(&format!("{line}\n"));
        }
    } else {
        let rows: Vec<[String; 5]> = config
            .shares
            .iter()
            .map(|s| {
                [
                    s.name.clone(),
                    s.path.display().to_string(),
                    (if s.read_only { "yes" } else { "no" }).into(),
                    policy_name(&s.encrypt).into(),
                    s.comment.clone(),
                ]
            })
            .collect();
        let head = ["NAME", "PATH", "READ-ONLY", "ENCRYPT", "COMMENT"];
        let width = |i: usize| rows.iter().map(|r| r[i].len()).chain([head[i].len()]).max();
        let widths: Vec<usize> = (0..5).map(|i| width(i).unwrap_or(0)).collect();
        for row in std::iter::once(head.map(String::from)).chain(rows) {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            text.push_str(cells.join("  ").trim_end());
            text.push('\n');
        }
    }
    out.write_all(text.as_bytes())
        .map_err(|e| ToolError::io("stdout", e))?;
    Ok(0)
}

/// Applies `change` to the file's document and replaces the file, if the result is a valid
/// configuration whose share folders exist.
fn edit(
    path: &Path,
    change: impl FnOnce(&mut DocumentMut) -> Result<(), ToolError>,
) -> Result<(), ToolError> {
    let before = std::fs::read_to_string(path).map_err(|e| ToolError::io(path, e))?;
    let mut doc: DocumentMut = before
        .parse()
        .map_err(|e| ToolError::Invalid(format!("{}: {e}", path.display())))?;
    change(&mut doc)?;
    let after = doc.to_string();
    let name = path.display().to_string();
    let config = Config::parse(&after, &name)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut resolved = config;
    for s in &mut resolved.shares {
        if s.path.is_relative() {
            s.path = base.join(&s.path);
        }
    }
    resolved.check_paths()?;
    crate::write_atomically(path, after.as_bytes(), true)
}

fn shares(doc: &mut DocumentMut) -> &mut ArrayOfTables {
    if !doc.contains_key("share") {
        doc.insert("share", Item::ArrayOfTables(ArrayOfTables::new()));
    }
    // `share` is an array of tables in any valid configuration (Config::parse checks it).
    doc["share"]
        .as_array_of_tables_mut()
        .expect("[[share]] tables")
}

fn same_name(t: &Table, name: &str) -> bool {
    t.get("name")
        .and_then(|v| v.as_str())
        .is_some_and(|n| n.eq_ignore_ascii_case(name))
}

fn add(doc: &mut DocumentMut, a: &ShareAddArgs) -> Result<(), ToolError> {
    if doc.get("share").is_some_and(|s| !s.is_array_of_tables()) {
        return Err(ToolError::Invalid(
            "`share` is not a list of [[share]] tables".into(),
        ));
    }
    let list = shares(doc);
    if list.iter().any(|t| same_name(t, &a.name)) {
        return Err(ToolError::Invalid(format!(
            "share {} exists already: remove it first",
            a.name
        )));
    }
    let mut t = Table::new();
    t["name"] = value(a.name.as_str());
    t["path"] = value(a.path.display().to_string());
    if !a.comment.is_empty() {
        t["comment"] = value(a.comment.as_str());
    }
    if a.read_only {
        t["read_only"] = value(true);
    }
    if a.encrypt != "off" {
        t["encrypt"] = value(a.encrypt.as_str());
    }
    list.push(t);
    Ok(())
}

fn remove(doc: &mut DocumentMut, a: &ShareRemoveArgs) -> Result<(), ToolError> {
    let missing = || ToolError::Invalid(format!("no share named {}", a.name));
    let list = doc
        .get_mut("share")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(missing)?;
    let before = list.len();
    list.retain(|t| !same_name(t, &a.name));
    if list.len() == before {
        return Err(missing());
    }
    Ok(())
}

/// Tells the server of `config` to reload (as `smbd-tools reload` does), unless asked not to;
/// a server that is not running is not an error (it reads the file when it starts).
fn reload_unless(config: &Path, skip: bool, out: &mut dyn Write) -> Result<i32, ToolError> {
    if skip {
        return Ok(0);
    }
    let target = AdminSocket {
        socket: None,
        config: Some(config.to_path_buf()),
    };
    match crate::status::reload(&target, out) {
        Err(ToolError::Io { what, .. }) => {
            say(
                out,
                &format!(
                    "no server answered on {} (not running?): the change applies when it starts",
                    what.display()
                ),
            )?;
            Ok(0)
        }
        answered => answered,
    }
}
