//! `smbd-tools status` and `reload`: the running server's sessions, opens and locks, and a
//! reload of its configuration, through its admin socket.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use crate::cli::{AdminSocket, StatusArgs};
use crate::error::ToolError;

/// The sections of the report, in the order they are shown: (name, table heading).
const SECTIONS: [(&str, &str); 3] = [
    ("sessions", "Sessions"),
    ("opens", "Open files"),
    ("locks", "Byte-range locks"),
];

/// The admin socket `target` names: the path given, or the one of the configuration file.
pub fn socket_path(target: &AdminSocket) -> Result<PathBuf, ToolError> {
    match (&target.socket, &target.config) {
        (Some(socket), _) => Ok(socket.clone()),
        (None, Some(config)) => Ok(smbd::config::Config::load(config)?.admin_socket_path()),
        (None, None) => Err(ToolError::Usage(
            "give --socket PATH or --config FILE".into(),
        )),
    }
}

/// Sends one command line to the admin socket and returns the reply.
pub fn ask(socket: &PathBuf, command: &str) -> Result<String, ToolError> {
    let mut s = UnixStream::connect(socket).map_err(|e| ToolError::io(socket, e))?;
    s.write_all(format!("{command}\n").as_bytes())
        .map_err(|e| ToolError::io(socket, e))?;
    let mut reply = String::new();
    s.read_to_string(&mut reply)
        .map_err(|e| ToolError::io(socket, e))?;
    Ok(reply)
}

/// Runs `status`: the chosen sections (all without a choice) as tables, or one JSON object
/// with a list per section.
pub fn status(args: &StatusArgs, out: &mut dyn Write) -> Result<i32, ToolError> {
    let socket = socket_path(&args.socket)?;
    let picked = [args.sessions, args.opens, args.locks];
    let all = !picked.contains(&true);
    let sections: Vec<_> = SECTIONS
        .iter()
        .zip(picked)
        .filter(|(_, on)| all || *on)
        .map(|(s, _)| *s)
        .collect();
    let mut text = String::new();
    for (i, (name, heading)) in sections.iter().enumerate() {
        if args.json {
            let reply = ask(&socket, &format!("{name} json"))?;
            text.push_str(&json_member(name, &reply, i == 0));
        } else {
            let reply = ask(&socket, &format!("{name} table"))?;
            if i > 0 {
                text.push('\n');
            }
            text.push_str(&format!("{heading}:\n{reply}"));
        }
    }
    if args.json {
        text.push_str("}\n");
    }
    out.write_all(text.as_bytes())
        .map_err(|e| ToolError::io("stdout", e))?;
    Ok(0)
}

/// One member of the JSON object: `"name":[` and the server's objects (one a line), one an
/// output line, comma-separated.
fn json_member(name: &str, reply: &str, first: bool) -> String {
    let items: Vec<&str> = reply.lines().filter(|l| !l.trim().is_empty()).collect();
    let open = if first { "{" } else { "," };
    if items.is_empty() {
        return format!("{open}\"{name}\":[]");
    }
    format!("{open}\"{name}\":[\n{}\n]", items.join(",\n"))
}

/// Runs `reload` (and `keytab reload`): the server re-reads its configuration and says what
/// changed; exit status 1 when it refused the file.
pub fn reload(target: &AdminSocket, out: &mut dyn Write) -> Result<i32, ToolError> {
    let reply = ask(&socket_path(target)?, "reload")?;
    out.write_all(reply.as_bytes())
        .map_err(|e| ToolError::io("stdout", e))?;
    Ok(if reply.starts_with("reload refused") {
        1
    } else {
        0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_members_make_one_object() {
        let mut doc = json_member("sessions", "{\"a\":1}\n{\"a\":2}\n", true);
        doc.push_str(&json_member("opens", "", false));
        doc.push_str(&json_member("locks", "{\"b\":3}\n", false));
        doc.push_str("}\n");
        assert_eq!(
            doc,
            "{\"sessions\":[\n{\"a\":1},\n{\"a\":2}\n],\"opens\":[],\"locks\":[\n{\"b\":3}\n]}\n"
        );
    }
}
