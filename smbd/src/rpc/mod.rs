//! Named pipes over IPC$: connection-oriented DCE/RPC (MS-RPCE 2.2.2, C706 chapter 12) with
//! the NDR 2.0 transfer syntax, serving the `srvsvc` interface (MS-SRVS: share enumeration and
//! server information, so `smbclient -L` and Windows can list shares) and the `wkssvc`
//! interface's NetrWkstaGetInfo level 100 (MS-WKST).
//!
//! The SMB layer opens a [`Pipe`] per CREATE on IPC$ and feeds it WRITE, READ and
//! FSCTL_PIPE_TRANSCEIVE payloads; no I/O happens here.

mod error;
pub mod ndr;
pub mod pdu;
mod pipe;
mod srvsvc;
mod wkssvc;

#[cfg(test)]
mod tests;

pub use error::RpcError;
pub use pipe::Pipe;

use std::borrow::Cow;

/// What the pipes tell about the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerIdentity {
    /// NetBIOS name of the server, upper case (e.g. "FILESRV").
    pub name: String,
    /// Server comment shown by `smbclient -L` and NetrServerGetInfo level 101.
    pub comment: String,
    /// The shares, in the order they are listed. IPC$ may be included; if no share of kind
    /// [`ShareKind::Ipc`] is present the pipes list a standard IPC$ (see [`ShareEntry::ipc`]).
    pub shares: Vec<ShareEntry>,
}

impl ServerIdentity {
    /// Every share the pipes report: `shares`, plus IPC$ when the list has no IPC share.
    pub fn all_shares(&self) -> Cow<'_, [ShareEntry]> {
        if self.shares.iter().any(|s| s.kind == ShareKind::Ipc) {
            Cow::Borrowed(&self.shares)
        } else {
            let mut v = self.shares.clone();
            v.push(ShareEntry::ipc());
            Cow::Owned(v)
        }
    }

    /// The share called `name`, compared case-insensitively.
    pub fn find_share(&self, name: &str) -> Option<ShareEntry> {
        self.all_shares()
            .iter()
            .find(|s| eq_ignore_case(&s.name, name))
            .cloned()
    }
}

/// One share as the pipes describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareEntry {
    /// Share name as clients type it (e.g. "public", "IPC$").
    pub name: String,
    /// Disk or IPC.
    pub kind: ShareKind,
    /// Free-text remark.
    pub comment: String,
    /// The local path reported at info levels 2 and 502, in the Windows form clients expect
    /// ("C:\srv\public"); [`ShareEntry::disk`] derives it from a Unix path the way Samba does.
    pub path: String,
}

impl ShareEntry {
    /// A disk share exported from `unix_path`; the reported path is "C:" followed by the Unix
    /// path with '/' turned into '\' (what Samba reports).
    pub fn disk(name: &str, comment: &str, unix_path: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind: ShareKind::Disk,
            comment: comment.to_owned(),
            path: windows_style_path(unix_path),
        }
    }

    /// The standard IPC$ share ("IPC Service", empty path).
    pub fn ipc() -> Self {
        Self {
            name: "IPC$".to_owned(),
            kind: ShareKind::Ipc,
            comment: "IPC Service".to_owned(),
            path: String::new(),
        }
    }

    /// The MS-SRVS 2.2.2.4 share type: STYPE_DISKTREE (0) or STYPE_IPC | STYPE_SPECIAL.
    pub fn stype(&self) -> u32 {
        match self.kind {
            ShareKind::Disk => STYPE_DISKTREE,
            ShareKind::Ipc => STYPE_IPC | STYPE_SPECIAL,
        }
    }
}

/// Kind of share (MS-SRVS 2.2.2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareKind {
    /// A directory tree (STYPE_DISKTREE).
    Disk,
    /// Interprocess communication, i.e. IPC$ (STYPE_IPC | STYPE_SPECIAL).
    Ipc,
}

/// STYPE_DISKTREE (MS-SRVS 2.2.2.4).
pub const STYPE_DISKTREE: u32 = 0;
/// STYPE_IPC (MS-SRVS 2.2.2.4).
pub const STYPE_IPC: u32 = 3;
/// STYPE_SPECIAL: an administrative share (MS-SRVS 2.2.2.4).
pub const STYPE_SPECIAL: u32 = 0x8000_0000;

/// The pipes this module serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipeKind {
    /// `\PIPE\srvsvc`, the Server Service Remote Protocol (MS-SRVS).
    Srvsvc,
    /// `\PIPE\wkssvc`, the Workstation Service Remote Protocol (MS-WKST).
    Wkssvc,
}

impl PipeKind {
    /// The pipe for `name` (case-insensitive, with or without a leading "\" or "\PIPE\").
    pub fn from_name(name: &str) -> Option<Self> {
        let mut n = name.strip_prefix('\\').unwrap_or(name);
        if n.len() >= 5 && n.is_char_boundary(5) && n[..5].eq_ignore_ascii_case("PIPE\\") {
            n = &n[5..];
        }
        if n.eq_ignore_ascii_case("srvsvc") {
            Some(Self::Srvsvc)
        } else if n.eq_ignore_ascii_case("wkssvc") {
            Some(Self::Wkssvc)
        } else {
            None
        }
    }

    /// Canonical lower-case pipe name, as used in the bind_ack secondary address.
    pub fn name(self) -> &'static str {
        match self {
            Self::Srvsvc => "srvsvc",
            Self::Wkssvc => "wkssvc",
        }
    }
}

/// True if `name` (case-insensitive, without a leading "\" or "\PIPE\") is a pipe we serve.
pub fn is_known_pipe(name: &str) -> bool {
    PipeKind::from_name(name).is_some()
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

fn windows_style_path(unix_path: &str) -> String {
    let mut out = String::from("C:");
    if !unix_path.starts_with('/') {
        out.push('\\');
    }
    out.extend(unix_path.chars().map(|c| if c == '/' { '\\' } else { c }));
    out
}

#[cfg(test)]
mod identity_tests {
    use super::*;

    #[test]
    fn pipe_names() {
        for n in [
            "srvsvc",
            "SRVSVC",
            "\\srvsvc",
            "\\PIPE\\srvsvc",
            "PIPE\\SrvSvc",
            "wkssvc",
        ] {
            assert!(is_known_pipe(n), "{n}");
        }
        for n in [
            "lsarpc",
            "",
            "\\",
            "PIPE\\",
            "srvsvc2",
            "\\\\srvsvc",
            "PIPé\\x",
        ] {
            assert!(!is_known_pipe(n), "{n}");
        }
    }

    #[test]
    fn ipc_is_added_once_and_lookup_ignores_case() {
        let mut id = ServerIdentity {
            name: "SRV".into(),
            comment: String::new(),
            shares: vec![ShareEntry::disk("Data", "", "/srv/data")],
        };
        assert_eq!(id.all_shares().len(), 2);
        assert_eq!(id.find_share("ipc$").unwrap().stype(), 0x8000_0003);
        assert_eq!(id.find_share("DATA").unwrap().path, "C:\\srv\\data");
        id.shares.push(ShareEntry::ipc());
        assert_eq!(id.all_shares().len(), 2);
        assert!(id.find_share("nope").is_none());
    }
}
