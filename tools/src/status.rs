//! `smbd-tools status`: the running server's sessions, read from its admin socket.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use crate::error::ToolError;

/// Usage of the status command.
pub const USAGE: &str = "\
  smbd-tools status [--socket PATH | --config FILE] [--json] [--opens]
      List the running server's sessions (user, SIDs, auth method, dialect, signing, cipher,
      and each channel: the connections a multichannel session is bound to) through its admin
      socket (admin_socket in the config, default <state_dir>/admin.sock);
      with --opens, its open files instead (path, access, share mode, durable or persistent,
      disconnected and waiting for a reconnect, byte-range locks).
  smbd-tools reload-keytabs [--socket PATH | --config FILE]
      Make the running server re-read its keytabs now.
";

/// Runs `status` or `reload-keytabs` (the words after the command).
pub fn run(command: &str, args: &[String], out: &mut dyn Write) -> Result<i32, ToolError> {
    let mut socket: Option<PathBuf> = None;
    let mut json = false;
    let mut opens = false;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--socket" => socket = it.next().map(PathBuf::from),
            "--config" => {
                let path = it
                    .next()
                    .ok_or_else(|| ToolError::Usage("--config needs a value".into()))?;
                let cfg = smbd::config::Config::load(std::path::Path::new(path))?;
                socket = Some(cfg.admin_socket_path());
            }
            "--json" => json = true,
            "--opens" => opens = true,
            other => {
                return Err(ToolError::Usage(format!(
                    "unknown option {other:?}\n{USAGE}"
                )));
            }
        }
    }
    let socket =
        socket.ok_or_else(|| ToolError::Usage(format!("give --socket or --config\n{USAGE}")))?;
    let request = match (command, json, opens) {
        ("status", true, false) => "status json\n",
        ("status", false, false) => "status\n",
        ("status", true, true) => "opens json\n",
        ("status", false, true) => "opens\n",
        _ => "reload\n",
    };
    let mut s = UnixStream::connect(&socket).map_err(|e| ToolError::io(&socket, e))?;
    s.write_all(request.as_bytes())
        .map_err(|e| ToolError::io(&socket, e))?;
    let mut reply = String::new();
    s.read_to_string(&mut reply)
        .map_err(|e| ToolError::io(&socket, e))?;
    out.write_all(reply.as_bytes())
        .map_err(|e| ToolError::io("stdout", e))?;
    Ok(0)
}
