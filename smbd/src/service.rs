//! Notices to the service manager (systemd's `Type=notify`, sd_notify(3)): ready once the
//! server listens, reloading and ready again around a configuration reload, stopping at
//! shutdown, each with a `STATUS=` line `systemctl status` shows. Nothing is sent unless
//! `NOTIFY_SOCKET` is set, so a server started by hand or by a test is unaffected.

use sd_notify::NotifyState;

/// The server listens on `addr`: the unit becomes active.
pub fn ready(addr: std::net::SocketAddr) {
    let status = format!("listening on {addr}");
    send(&[NotifyState::Ready, NotifyState::Status(&status)]);
}

/// A reload starts. systemd wants the monotonic time with it (for `Type=notify-reload`);
/// without a clock reading the notice goes alone.
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[
            NotifyState::Reloading,
            now,
            NotifyState::Status("reloading the configuration"),
        ]),
        Err(_) => send(&[NotifyState::Reloading]),
    }
}

/// A reload ended (applied or refused: the server goes on either way); `outcome` is the line
/// the admin was told.
pub fn reloaded(outcome: &str) {
    let status = status_line(outcome);
    send(&[NotifyState::Ready, NotifyState::Status(&status)]);
}

/// Shutdown starts: the unit becomes deactivating.
pub fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("shutting down")]);
}

/// One line for `STATUS=`: the protocol ends a field at a newline.
fn status_line(text: &str) -> String {
    text.trim().replace('\n', "; ")
}

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!(error = %e, "cannot notify the service manager (NOTIFY_SOCKET)");
    }
}

#[cfg(test)]
mod tests {
    use super::status_line;

    #[test]
    fn status_is_one_line() {
        assert_eq!(status_line("a\nb\n"), "a; b");
        assert_eq!(
            status_line("reload applied: shares +new\n"),
            "reload applied: shares +new"
        );
    }
}
