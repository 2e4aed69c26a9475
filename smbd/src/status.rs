//! The session report behind `smbd-tools status` (like Samba's smbstatus): who is connected,
//! how they authenticated, and what protects their channel.

use std::fmt::Write as _;

use std::sync::Arc;

use crate::conn::Connection;
use crate::crypto::{Cipher, SigningAlgorithm};
use crate::state::ServerContext;

/// One session as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SessionInfo {
    /// SessionId.
    pub session_id: u64,
    /// User name as the client gave it (the principal name for Kerberos).
    pub user: String,
    /// Domain or realm.
    pub domain: String,
    /// "kerberos", "ntlmv2", "ntlmv1" or "anonymous".
    pub auth: &'static str,
    /// Dialect, e.g. "3.1.1".
    pub dialect: String,
    /// Signing algorithm name.
    pub signing: &'static str,
    /// Cipher name, when the connection negotiated one.
    pub cipher: Option<&'static str>,
    /// Whether the session encrypts every message.
    pub encrypted: bool,
    /// Peer address.
    pub peer: String,
    /// User SID.
    pub user_sid: String,
    /// Group SIDs of the token.
    pub groups: Vec<String>,
    /// The connections the session is bound to (multichannel, MS-SMB2 3.3.5.5.2), the one it
    /// was set up on first.
    pub channels: Vec<ChannelInfo>,
}

/// One channel of a session: a connection it is bound to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChannelInfo {
    /// The server's id of the connection.
    pub conn_id: u64,
    /// Peer address.
    pub peer: String,
    /// The server address the connection arrived on, when known.
    pub local: Option<String>,
    /// The connection's dialect.
    pub dialect: String,
    /// The channel's signing algorithm (its own key's, for a bound channel).
    pub signing: &'static str,
}

fn signing_name(a: SigningAlgorithm) -> &'static str {
    match a {
        SigningAlgorithm::HmacSha256 => "HMAC-SHA256",
        SigningAlgorithm::AesCmac => "AES-CMAC",
        SigningAlgorithm::AesGmac => "AES-GMAC",
    }
}

fn cipher_name(c: Cipher) -> &'static str {
    match c {
        Cipher::Aes128Ccm => "AES-128-CCM",
        Cipher::Aes128Gcm => "AES-128-GCM",
        Cipher::Aes256Ccm => "AES-256-CCM",
        Cipher::Aes256Gcm => "AES-256-GCM",
    }
}

/// A dialect as people write it: "2.0.2" to "3.1.1".
pub fn dialect_name(d: u16) -> String {
    match d {
        0x0202 => "2.0.2".into(),
        0x0210 => "2.1".into(),
        0x0300 => "3.0".into(),
        0x0302 => "3.0.2".into(),
        0x0311 => "3.1.1".into(),
        other => format!("0x{other:04x}"),
    }
}

/// Every authenticated session of every live connection, once each, ordered by session id,
/// with the channels it is bound to (`peer`, `dialect` and `signing` are those of the first).
pub fn sessions(ctx: &ServerContext) -> Vec<SessionInfo> {
    let conns: std::collections::BTreeMap<u64, Arc<Connection>> = ctx
        .channels
        .all()
        .into_iter()
        .filter_map(|c| c.into_any().downcast::<Connection>().ok())
        .map(|c| (c.id, c))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for conn in conns.values() {
        for s in conn.sessions_now() {
            if !seen.insert(s.id) {
                continue;
            }
            let Some(sec) = s.security() else { continue };
            let channels: Vec<ChannelInfo> = s
                .bound_channels()
                .into_iter()
                .filter_map(|id| {
                    let c = conns.get(&id)?;
                    let keys = s.security_on(id)?;
                    Some(ChannelInfo {
                        conn_id: id,
                        peer: c.peer.clone(),
                        local: c.local.map(|a| a.to_string()),
                        dialect: dialect_of(c),
                        signing: signing_name(keys.signer.alg()),
                    })
                })
                .collect();
            let auth = sec.auth.method.name();
            let first = channels.first();
            out.push(SessionInfo {
                session_id: s.id,
                user: sec.auth.user.clone(),
                domain: sec.auth.domain.clone(),
                auth,
                dialect: first.map_or_else(|| dialect_of(conn), |c| c.dialect.clone()),
                signing: signing_name(sec.signer.alg()),
                cipher: sec.cipher.map(cipher_name),
                encrypted: sec.encrypt_data,
                peer: first.map_or_else(|| conn.peer.clone(), |c| c.peer.clone()),
                user_sid: sec.auth.token.user.to_string(),
                groups: sec
                    .auth
                    .token
                    .groups
                    .iter()
                    .map(|g| g.sid.to_string())
                    .collect(),
                channels,
            });
        }
    }
    out.sort_by_key(|s| s.session_id);
    out
}

fn dialect_of(conn: &Connection) -> String {
    conn.negotiated()
        .dialect
        .map_or_else(|| "-".into(), |d| dialect_name(d.0))
}

impl SessionInfo {
    /// One JSON object on one line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A readable block of text: the session, then one line per channel.
    pub fn to_text(&self) -> String {
        let mut t = self.head_text();
        for c in &self.channels {
            let _ = writeln!(
                t,
                "  channel {} from {} to {}, dialect {}, signing {}",
                c.conn_id,
                c.peer,
                c.local.as_deref().unwrap_or("-"),
                c.dialect,
                c.signing
            );
        }
        t
    }

    fn head_text(&self) -> String {
        format!(
            "session {} {}\\{} via {} from {}\n  dialect {}, signing {}, cipher {}{}\n  user {}\n  groups {}\n",
            self.session_id,
            self.domain,
            self.user,
            self.auth,
            self.peer,
            self.dialect,
            self.signing,
            self.cipher.unwrap_or("-"),
            if self.encrypted { " (encrypting)" } else { "" },
            self.user_sid,
            self.groups.join(" "),
        )
    }
}

/// One open as the report shows it (like smbstatus's locked files).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OpenInfo {
    /// FileId.Persistent.
    pub file_id: u64,
    /// The share's name.
    pub share: String,
    /// The path from the share root (the pipe's name on IPC$).
    pub path: String,
    /// Granted access mask.
    pub access: u32,
    /// Share access given at open.
    pub share_access: u32,
    /// "durable v1", "durable v2", "persistent" or "" for an ordinary open.
    pub durable: &'static str,
    /// Whether the open lost its connection and waits for a reconnect.
    pub disconnected: bool,
    /// Byte-range locks the open holds.
    pub locks: usize,
    /// Its oplock ("batch", "exclusive", "level2") or lease ("lease RWH"), or "".
    pub caching: String,
    /// The user's SID.
    pub user_sid: String,
}

/// Every open of the server, by persistent id.
pub fn opens(ctx: &ServerContext) -> Vec<OpenInfo> {
    ctx.opens
        .all()
        .iter()
        .map(|o| OpenInfo {
            file_id: o.id.persistent,
            share: o.share.name.clone(),
            path: o.path(),
            access: o.access,
            share_access: o.share_access,
            durable: match o.durability() {
                Some(d) if d.persistent => "persistent",
                Some(d) if d.version == 1 => "durable v1",
                Some(_) => "durable v2",
                None => "",
            },
            disconnected: o.disconnected_at().is_some(),
            locks: o.entry.as_ref().map_or(0, |e| e.locks_of(o.uid)),
            caching: caching_of(o),
            user_sid: o.owner.user.to_string(),
        })
        .collect()
}

/// An open's oplock or lease, as the report names it.
fn caching_of(o: &crate::state::opens::Open) -> String {
    use crate::oplock::LeaseState;
    use crate::proto::oplock::OplockLevel;
    let Some(e) = &o.entry else {
        return String::new();
    };
    e.caching(false, |c, _| {
        if let Some(l) = c.lease_of(o.uid) {
            let state = if l.state() == LeaseState::NONE {
                "none".to_string()
            } else {
                l.state().to_string()
            };
            return format!("lease {state}");
        }
        match c.oplock_level(o.uid) {
            Some(OplockLevel::BATCH) => "batch".into(),
            Some(OplockLevel::EXCLUSIVE) => "exclusive".into(),
            Some(OplockLevel::LEVEL_II) => "level2".into(),
            _ => String::new(),
        }
    })
}

impl OpenInfo {
    /// One JSON object on one line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// One line of text.
    pub fn to_text(&self) -> String {
        format!(
            "open {} {}\\{} access 0x{:08x} share 0x{:x} locks {}{}{}{} by {}\n",
            self.file_id,
            self.share,
            self.path.replace('/', "\\"),
            self.access,
            self.share_access,
            self.locks,
            if self.caching.is_empty() {
                String::new()
            } else {
                format!(", {}", self.caching)
            },
            if self.durable.is_empty() {
                String::new()
            } else {
                format!(", {}", self.durable)
            },
            if self.disconnected {
                " (disconnected)"
            } else {
                ""
            },
            self.user_sid,
        )
    }
}

/// One byte-range lock as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LockInfo {
    /// FileId.Persistent of the open that holds it.
    pub file_id: u64,
    /// The share's name.
    pub share: String,
    /// The path from the share root.
    pub path: String,
    /// First byte.
    pub offset: u64,
    /// Length in bytes.
    pub length: u64,
    /// Exclusive (true) or shared.
    pub exclusive: bool,
    /// The SID of the user whose open holds it.
    pub user_sid: String,
}

/// Every byte-range lock held by an open of the server, by open and then as granted.
pub fn locks(ctx: &ServerContext) -> Vec<LockInfo> {
    let mut opens = ctx.opens.all();
    opens.sort_by_key(|o| o.id.persistent);
    let mut out = Vec::new();
    for o in &opens {
        let Some(entry) = &o.entry else { continue };
        for l in entry.locks_held_by(o.uid) {
            out.push(LockInfo {
                file_id: o.id.persistent,
                share: o.share.name.clone(),
                path: o.path(),
                offset: l.offset,
                length: l.length,
                exclusive: l.exclusive,
                user_sid: o.owner.user.to_string(),
            });
        }
    }
    out
}

impl LockInfo {
    /// One JSON object on one line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Columns of text, left-aligned and two spaces apart; an empty cell shows as "-".
fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count().max(1));
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (cell, w) in cells.zip(&widths) {
            let cell = if cell.is_empty() { "-" } else { cell };
            let _ = write!(text, "{cell:<w$}  ");
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut head.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

/// The sessions as a table: one row each, the channels counted (JSON has them all).
pub fn sessions_table(sessions: &[SessionInfo]) -> String {
    let rows: Vec<Vec<String>> = sessions
        .iter()
        .map(|s| {
            let user = if s.domain.is_empty() {
                s.user.clone()
            } else {
                format!("{}\\{}", s.domain, s.user)
            };
            vec![
                s.session_id.to_string(),
                user,
                s.auth.to_string(),
                s.dialect.clone(),
                s.signing.to_string(),
                s.cipher.unwrap_or("").to_string(),
                if s.encrypted { "yes" } else { "no" }.to_string(),
                s.peer.clone(),
                s.channels.len().to_string(),
                s.user_sid.clone(),
            ]
        })
        .collect();
    let head = [
        "SESSION", "USER", "AUTH", "DIALECT", "SIGNING", "CIPHER", "ENCRYPT", "PEER", "CHANNELS",
        "SID",
    ];
    table(&head, &rows)
}

/// FILE_SHARE_READ, FILE_SHARE_WRITE and FILE_SHARE_DELETE as the letters R, W and D.
fn sharing_letters(share_access: u32) -> String {
    [(1, 'R'), (2, 'W'), (4, 'D')]
        .iter()
        .filter(|(bit, _)| share_access & bit != 0)
        .map(|(_, c)| *c)
        .collect()
}

/// The opens as a table.
pub fn opens_table(opens: &[OpenInfo]) -> String {
    let rows: Vec<Vec<String>> = opens
        .iter()
        .map(|o| {
            vec![
                o.file_id.to_string(),
                o.share.clone(),
                o.path.clone(),
                format!("0x{:08x}", o.access),
                sharing_letters(o.share_access),
                o.caching.clone(),
                o.durable.to_string(),
                if o.disconnected { "disconnected" } else { "" }.to_string(),
                o.locks.to_string(),
                o.user_sid.clone(),
            ]
        })
        .collect();
    let head = [
        "FILE ID", "SHARE", "PATH", "ACCESS", "SHARING", "CACHING", "DURABLE", "STATE", "LOCKS",
        "SID",
    ];
    table(&head, &rows)
}

/// The byte-range locks as a table.
pub fn locks_table(locks: &[LockInfo]) -> String {
    let rows: Vec<Vec<String>> = locks
        .iter()
        .map(|l| {
            vec![
                l.file_id.to_string(),
                l.share.clone(),
                l.path.clone(),
                l.offset.to_string(),
                l.length.to_string(),
                if l.exclusive { "exclusive" } else { "shared" }.to_string(),
                l.user_sid.clone(),
            ]
        })
        .collect();
    let head = [
        "FILE ID", "SHARE", "PATH", "OFFSET", "LENGTH", "MODE", "SID",
    ];
    table(&head, &rows)
}

#[cfg(test)]
mod tests;
