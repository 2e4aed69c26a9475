//! Live reconfiguration: SIGHUP or `smbd-tools reload` re-reads the whole configuration file
//! and applies it without dropping a session. Everything is built and checked first; a file
//! with an error is refused as a whole and the running configuration stays.
//!
//! What applies at once: shares added (served to the next TREE_CONNECT), removed (their trees
//! end: the next request on one gets NETWORK_NAME_DELETED, their opens close) or changed (the
//! same, then served with the new definition); accounts, keytabs, principal mappings and the
//! other acceptor keys (the next session setup uses them; sessions already set up keep their
//! identity); limits and admin groups; the log level; the audit log. What needs a restart
//! (the listening address, server name, dialect and crypto offers, I/O sizes...) is named in
//! the reply and left as it runs.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::config::Config;
use crate::state::{ServerContext, Share};

/// Applies a new log filter directive (`log_level`); an error leaves the old one.
pub type LogLevelSetter = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// Re-reads the configuration file of a running server.
pub struct Reloader {
    /// The configuration file; None when the server runs a quick start.
    path: Option<PathBuf>,
    /// The configuration in force.
    current: Mutex<Config>,
    guid: [u8; 16],
    replay: Arc<acceptor::krb5::replay::ReplayCache>,
    set_log_level: Option<LogLevelSetter>,
}

/// What a reload changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Shares served from now on that were not before.
    pub added: Vec<String>,
    /// Shares no longer served.
    pub removed: Vec<String>,
    /// Shares served with a new definition.
    pub changed: Vec<String>,
    /// Trees ended because their share went away or changed.
    pub trees_ended: usize,
    /// Keys that changed but take effect only at the next start.
    pub need_restart: Vec<&'static str>,
}

impl Applied {
    /// One line for the admin: what changed.
    pub fn summary(&self) -> String {
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        let mut s = format!(
            "configuration reloaded: shares added {}, removed {}, changed {}; {} tree(s) ended",
            list(&self.added),
            list(&self.removed),
            list(&self.changed),
            self.trees_ended
        );
        if !self.need_restart.is_empty() {
            s.push_str(&format!(
                "; changed but applied only at restart: {}",
                self.need_restart.join(", ")
            ));
        }
        s
    }
}

impl Reloader {
    /// A reloader for a server started from `path` with `current` (None: a quick start, which
    /// has no file to re-read).
    pub fn new(
        path: Option<PathBuf>,
        current: Config,
        guid: [u8; 16],
        replay: Arc<acceptor::krb5::replay::ReplayCache>,
        set_log_level: Option<LogLevelSetter>,
    ) -> Self {
        Self {
            path,
            current: Mutex::new(current),
            guid,
            replay,
            set_log_level,
        }
    }

    /// Re-reads the file and applies it to `ctx`; on any error nothing changes.
    pub fn reload(&self, ctx: &Arc<ServerContext>) -> Result<Applied, String> {
        let path = self
            .path
            .as_deref()
            .ok_or("the server runs a quick start: there is no configuration file to re-read")?;
        let new = Config::load(path).map_err(|e| e.to_string())?;
        new.check_paths().map_err(|e| e.to_string())?;
        let mut current = self.current.lock().unwrap();
        let applied = self.apply(ctx, &current, &new)?;
        *current = new;
        Ok(applied)
    }

    /// Builds everything `new` needs, then swaps it in.
    fn apply(
        &self,
        ctx: &Arc<ServerContext>,
        old: &Config,
        new: &Config,
    ) -> Result<Applied, String> {
        // Checked now, applied by `set_log_level` once everything else is built.
        tracing_subscriber::EnvFilter::try_new(&new.log_level)
            .map_err(|e| format!("log_level {:?}: {e}", new.log_level))?;
        let mut applied = Applied {
            need_restart: restart_only_changes(old, new),
            ..Applied::default()
        };
        // Shares: the same definition keeps its live share (and its trees); any other is made
        // anew, with a backend opened now.
        let live = ctx.shares();
        let mut shares = Vec::with_capacity(new.shares.len());
        for s in &new.shares {
            let same = old
                .shares
                .iter()
                .find(|o| o.name.eq_ignore_ascii_case(&s.name));
            let kept = same
                .filter(|o| *o == s)
                .and_then(|_| live.iter().find(|l| l.name.eq_ignore_ascii_case(&s.name)));
            match kept {
                Some(share) => shares.push(share.clone()),
                None => {
                    let disk = crate::setup::disk_share(s)
                        .map_err(|e| format!("share {}: {}: {e}", s.name, s.path.display()))?;
                    shares.push(Arc::new(Share::disk(ctx.next_share_index(), disk)));
                    if same.is_some() {
                        applied.changed.push(s.name.clone());
                    } else {
                        applied.added.push(s.name.clone());
                    }
                }
            }
        }
        for o in &old.shares {
            if !new
                .shares
                .iter()
                .any(|s| s.name.eq_ignore_ascii_case(&o.name))
            {
                applied.removed.push(o.name.clone());
            }
        }
        let auth = crate::setup::auth_provider(new, self.guid, self.replay.clone())
            .map_err(|e| e.to_string())?;
        let audit = crate::setup::audit_log(new).map_err(|e| e.to_string())?;
        // Everything is built: apply.
        if let Some(set) = &self.set_log_level {
            set(&new.log_level)?;
        }
        let mut settings = crate::state::Settings::clone(&ctx.settings());
        settings.limits = new.limits.clone();
        settings.admin_groups = new.admin_groups.clone();
        ctx.set_settings(settings);
        ctx.set_auth(auth);
        ctx.set_audit(audit);
        ctx.set_shares(shares);
        applied.trees_ended = crate::dispatch::end_trees_of_unserved_shares(ctx);
        Ok(applied)
    }
}

/// The keys that differ between `old` and `new` and apply only when the server starts.
fn restart_only_changes(old: &Config, new: &Config) -> Vec<&'static str> {
    let mut keys = Vec::new();
    let mut check = |name: &'static str, differs: bool| {
        if differs {
            keys.push(name);
        }
    };
    check("listen", old.listen != new.listen);
    check("server_name", old.server_name != new.server_name);
    check("server_comment", old.server_comment != new.server_comment);
    check("state_dir", old.state_dir != new.state_dir);
    check("signing", old.signing != new.signing);
    check("encrypt", old.encrypt != new.encrypt);
    check("ciphers", old.ciphers != new.ciphers);
    check(
        "signing_algorithms",
        old.signing_algorithms != new.signing_algorithms,
    );
    check("max_read_size", old.max_read_size != new.max_read_size);
    check("max_write_size", old.max_write_size != new.max_write_size);
    check(
        "max_transact_size",
        old.max_transact_size != new.max_transact_size,
    );
    check(
        "max_connections",
        old.max_connections != new.max_connections,
    );
    check("max_credits", old.max_credits != new.max_credits);
    check("multichannel", old.multichannel != new.multichannel);
    check("interfaces", old.interfaces != new.interfaces);
    check(
        "replay_cache_entries",
        old.replay_cache_entries != new.replay_cache_entries,
    );
    check("admin_socket", old.admin_socket != new.admin_socket);
    check("metrics_listen", old.metrics_listen != new.metrics_listen);
    keys
}
