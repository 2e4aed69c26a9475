//! The server GUID (MS-SMB2 3.3.1.5 ServerGuid), kept across restarts in the state directory.

use std::io::{self, Write};
use std::path::Path;

use super::parse::{format_hex, parse_nt_hash};

/// Name of the file in the state directory holding the GUID as 32 hex digits and a newline.
pub const SERVER_GUID_FILE: &str = "server-guid";

/// Loads the server GUID from `state_dir/server-guid` (32 hex digits), or on first start creates
/// `state_dir` if needed and stores a new random (RFC 4122 version 4) GUID there.
///
/// A file that exists but does not hold 32 hex digits is an `InvalidData` error rather than
/// being replaced, so a damaged state directory is noticed.
pub fn load_or_create_server_guid(state_dir: &Path) -> io::Result<[u8; 16]> {
    let path = state_dir.join(SERVER_GUID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => return decode(&text, &path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::create_dir_all(state_dir)?;
    let mut guid = [0u8; 16];
    getrandom::getrandom(&mut guid).map_err(|e| io::Error::other(e.to_string()))?;
    guid[6] = (guid[6] & 0x0F) | 0x40;
    guid[8] = (guid[8] & 0x3F) | 0x80;

    // Write a temporary file and rename it, so a crash never leaves half a GUID behind.
    let tmp = state_dir.join(format!("{SERVER_GUID_FILE}.tmp{}", std::process::id()));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(format!("{}\n", format_hex(&guid)).as_bytes())?;
    file.sync_all()?;
    drop(file);
    if let Err(e) = std::fs::rename(&tmp, &path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(guid)
}

fn decode(text: &str, path: &Path) -> io::Result<[u8; 16]> {
    parse_nt_hash(text.trim()).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} does not hold 32 hexadecimal digits", path.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::TempDir;

    #[test]
    fn created_once_then_reloaded() {
        let dir = TempDir::new("guid");
        let state = dir.path().join("nested/state");
        let first = load_or_create_server_guid(&state).unwrap();
        assert_eq!(first[6] >> 4, 4, "version 4");
        assert_eq!(first[8] & 0xC0, 0x80, "RFC 4122 variant");
        let text = std::fs::read_to_string(state.join(SERVER_GUID_FILE)).unwrap();
        assert_eq!(text.trim().len(), 32);
        assert_eq!(load_or_create_server_guid(&state).unwrap(), first);
    }

    #[test]
    fn damaged_file_is_an_error() {
        let dir = TempDir::new("guid-bad");
        std::fs::write(dir.path().join(SERVER_GUID_FILE), "not a guid").unwrap();
        let err = load_or_create_server_guid(dir.path()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
