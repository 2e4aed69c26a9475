//! The audit log: one line per logon, failed logon, logoff, share access and access denial,
//! tagged with the Windows security event an admin greps for (4624, 4625, 4634, 5140, 5145):
//! who (user, domain, SID), from where (the client's address), what, and the status. Names,
//! SIDs and statuses only: never a key, a password or a ticket.
//!
//! `audit = "text"` (the default) writes `key=value` lines, `"json"` one JSON object per
//! line, `"off"` nothing; they go to `audit_file` when it is set (appended, one line per
//! event), else to the server's log under the target `smbd::audit`.

use std::io::Write as _;
use std::path::Path;
use std::sync::Mutex;
use std::time::SystemTime;

/// How audit lines are written (`audit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditFormat {
    /// No audit lines.
    Off,
    /// `key=value` pairs.
    Text,
    /// One JSON object.
    Json,
}

/// What happened, with the Windows security event that records the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// 4624: a session was set up (or reauthenticated).
    Logon,
    /// 4625: a session setup failed.
    LogonFailed,
    /// 4634: a session ended (LOGOFF, or its last connection closed).
    Logoff,
    /// 5140: a share was connected to, or refused.
    ShareAccess,
    /// 5145: an operation on a file or folder was refused.
    AccessDenied,
}

impl Event {
    /// The Windows security event id.
    pub fn id(self) -> u32 {
        match self {
            Self::Logon => 4624,
            Self::LogonFailed => 4625,
            Self::Logoff => 4634,
            Self::ShareAccess => 5140,
            Self::AccessDenied => 5145,
        }
    }

    /// A short name.
    pub fn action(self) -> &'static str {
        match self {
            Self::Logon => "logon",
            Self::LogonFailed => "logon_failed",
            Self::Logoff => "logoff",
            Self::ShareAccess => "share_access",
            Self::AccessDenied => "access_denied",
        }
    }
}

/// Who acted: the session's user, or what a failed logon claimed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Who {
    /// User name (empty when unknown: a Kerberos ticket that did not decrypt).
    pub user: String,
    /// Domain or realm.
    pub domain: String,
    /// The user's SID, once authenticated.
    pub sid: Option<String>,
}

impl Who {
    /// The identity of an authenticated session.
    pub fn of(auth: &acceptor::AuthContext) -> Self {
        Self {
            user: auth.user.clone(),
            domain: auth.domain.clone(),
            sid: Some(auth.token.user.to_string()),
        }
    }
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// What happened.
    pub event: Event,
    /// Whether it succeeded.
    pub success: bool,
    /// Who.
    pub who: Who,
    /// The client's address.
    pub client: String,
    /// The NT status answered.
    pub status: crate::proto::NtStatus,
    /// Further facts (session id, share, path, access asked...), in order.
    pub details: Vec<(&'static str, String)>,
}

/// Where audit lines go.
pub struct AuditLog {
    format: AuditFormat,
    file: Option<Mutex<std::fs::File>>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("format", &self.format)
            .field("file", &self.file.is_some())
            .finish()
    }
}

impl Default for AuditLog {
    fn default() -> Self {
        Self {
            format: AuditFormat::Text,
            file: None,
        }
    }
}

impl AuditLog {
    /// An audit log in `format`, appended to `file` when given (created if missing, mode
    /// 0600), else written to the server's log.
    pub fn open(format: AuditFormat, file: Option<&Path>) -> std::io::Result<Self> {
        let file = match file {
            Some(path) if format != AuditFormat::Off => {
                use std::os::unix::fs::OpenOptionsExt as _;
                let f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .mode(0o600)
                    .open(path)?;
                Some(Mutex::new(f))
            }
            _ => None,
        };
        Ok(Self { format, file })
    }

    /// Whether events are recorded at all.
    pub fn enabled(&self) -> bool {
        self.format != AuditFormat::Off
    }

    /// Writes one event's line, stamped `now`.
    pub fn record(&self, now: SystemTime, r: &Record) {
        let line = match self.format {
            AuditFormat::Off => return,
            AuditFormat::Text => text_line(now, r),
            AuditFormat::Json => json_line(now, r),
        };
        match &self.file {
            Some(f) => {
                let mut f = f.lock().unwrap();
                if let Err(e) = f.write_all(format!("{line}\n").as_bytes()) {
                    tracing::error!(error = %e, "audit file write failed");
                }
            }
            None => tracing::info!(target: "smbd::audit", "{line}"),
        }
    }
}

/// The user as Windows shows it: DOMAIN\user (or user alone).
fn account(who: &Who) -> String {
    if who.domain.is_empty() {
        who.user.clone()
    } else {
        format!("{}\\{}", who.domain, who.user)
    }
}

fn status_name(s: crate::proto::NtStatus) -> String {
    format!("{s:?}")
}

/// A text value, quoted when it has a space, a quote, an `=` or nothing.
fn text_value(v: &str) -> String {
    if !v.is_empty() && !v.contains([' ', '"', '=', '\\', '\n', '\t']) {
        v.to_string()
    } else {
        format!("{v:?}")
    }
}

fn text_line(now: SystemTime, r: &Record) -> String {
    let mut fields: Vec<(&str, String)> = vec![
        ("time", humantime::format_rfc3339_millis(now).to_string()),
        ("event", r.event.id().to_string()),
        ("action", r.event.action().to_string()),
        (
            "result",
            (if r.success { "success" } else { "failure" }).to_string(),
        ),
        ("user", account(&r.who)),
    ];
    if let Some(sid) = &r.who.sid {
        fields.push(("sid", sid.clone()));
    }
    fields.push(("client", r.client.clone()));
    fields.push(("status", status_name(r.status)));
    fields.extend(r.details.iter().map(|(k, v)| (*k, v.clone())));
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", text_value(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn json_line(now: SystemTime, r: &Record) -> String {
    let mut m = serde_json::Map::new();
    m.insert(
        "time".into(),
        humantime::format_rfc3339_millis(now).to_string().into(),
    );
    m.insert("event".into(), r.event.id().into());
    m.insert("action".into(), r.event.action().into());
    m.insert("success".into(), r.success.into());
    m.insert("user".into(), r.who.user.clone().into());
    m.insert("domain".into(), r.who.domain.clone().into());
    if let Some(sid) = &r.who.sid {
        m.insert("sid".into(), sid.clone().into());
    }
    m.insert("client".into(), r.client.clone().into());
    m.insert("status".into(), status_name(r.status).into());
    m.insert("status_code".into(), format!("0x{:08X}", r.status.0).into());
    for (k, v) in &r.details {
        m.insert((*k).to_string(), v.clone().into());
    }
    serde_json::Value::Object(m).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::NtStatus;

    fn record() -> Record {
        Record {
            event: Event::AccessDenied,
            success: false,
            who: Who {
                user: "alice".into(),
                domain: "EXAMPLE".into(),
                sid: Some("S-1-5-21-1-2-3-1105".into()),
            },
            client: "192.0.2.7:50123".into(),
            status: NtStatus::ACCESS_DENIED,
            details: vec![
                ("share", "team".into()),
                ("path", "plans\\q3 \"draft\".docx".into()),
            ],
        }
    }

    const T: u64 = 1_764_806_400; // 2025-12-04T00:00:00Z

    #[test]
    fn a_text_line_names_the_event_who_where_what_and_the_status() {
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(T);
        assert_eq!(
            text_line(now, &record()),
            "time=2025-12-04T00:00:00.000Z event=5145 action=access_denied result=failure \
             user=\"EXAMPLE\\\\alice\" sid=S-1-5-21-1-2-3-1105 client=192.0.2.7:50123 \
             status=ACCESS_DENIED share=team path=\"plans\\\\q3 \\\"draft\\\".docx\""
        );
    }

    #[test]
    fn a_json_line_is_one_object() {
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(T);
        let v: serde_json::Value = serde_json::from_str(&json_line(now, &record())).unwrap();
        assert_eq!(v["event"], 5145);
        assert_eq!(v["user"], "alice");
        assert_eq!(v["domain"], "EXAMPLE");
        assert_eq!(v["status_code"], "0xC0000022");
        assert_eq!(v["path"], "plans\\q3 \"draft\".docx");
        assert_eq!(v["success"], false);
    }

    #[test]
    fn a_file_gets_one_line_per_event() {
        let dir = std::env::temp_dir().join(format!("smbd-audit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.log");
        let log = AuditLog::open(AuditFormat::Json, Some(&path)).unwrap();
        log.record(SystemTime::now(), &record());
        log.record(SystemTime::now(), &record());
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
