//! Requests that run long: an interim STATUS_PENDING response after [`ASYNC_AFTER`], carrying
//! the credits and the async id the final response will use (MS-SMB2 3.3.4.2).

use super::*;

/// How long a request may run before it gets an interim STATUS_PENDING response.
pub(super) const ASYNC_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

/// Commands that can take long enough to be answered asynchronously.
pub(super) fn may_go_async(cmd: Command) -> bool {
    matches!(
        cmd,
        Command::Create
            | Command::Read
            | Command::Write
            | Command::Flush
            | Command::QueryDirectory
            | Command::Ioctl
            | Command::SetInfo
            | Command::QueryInfo
            | Command::Close
    )
}

/// Sends the interim STATUS_PENDING response of a request that goes async (MS-SMB2 3.3.4.2):
/// it carries the async id and the credits; the final response follows with the same id.
pub(super) async fn send_interim(
    conn: &Connection,
    hdr: &Header,
    async_id: u64,
    sec: Option<&SessionSecurity>,
    encrypted: bool,
) {
    let mut h = hdr.response(NtStatus::PENDING);
    h.flags |= flags::ASYNC_COMMAND;
    h.async_id = async_id;
    let request = hdr.credits.max(hdr.credit_charge.max(1));
    h.credits = conn.credits.lock().unwrap().grant(request);
    let mut msg = Vec::with_capacity(HEADER_LEN + 9);
    h.encode(&mut msg);
    encode_error(&mut msg);
    tracing::debug!(peer = %conn.peer, command = ?hdr.command, async_id, "answered STATUS_PENDING");
    if let Some(frame) = protect_out_of_band(conn, hdr, sec, encrypted, msg) {
        let _ = conn.out.send(frame).await;
    }
}
