//! The handlers' side of a file's LastWriteTime (`state::files::write_time`): WRITE schedules
//! the delayed move and sets ARCHIVE, FLUSH and SET_INFO bring a pending move forward,
//! SET_INFO's explicit, -1 and -2 write times make it sticky, freeze and thaw it, every report
//! of an open file's times shows the server's value, and the end of an open leaves it on disk.
//! The time of day is the server's clock.

use crate::proto::NtStatus;
use crate::state::ServerContext;
use crate::state::opens::Open;
use vfs::{FileRef, FileStat, SetTimes};

/// MS-FSCC 2.4.7: a time of -1 stops the file system from moving it for this handle.
const FREEZE: i64 = -1;
/// MS-FSCC 2.4.7: a time of -2 lets the file system move it again.
const THAW: i64 = -2;

/// The server's time of day as FILETIME.
pub(crate) fn now(server: &ServerContext) -> u64 {
    let d = server
        .clock
        .now()
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    vfs::unix_to_filetime(d.as_secs() as i64, d.subsec_nanos())
}

/// What a write needs read before it runs: the file's metadata when the write time or the
/// attributes matter to it (the open's first write, or none held).
pub(crate) async fn before_write(open: &Open, f: &FileRef) -> Option<FileStat> {
    let entry = open.entry.as_ref()?;
    if !entry.write_times().needs_baseline(open.uid) {
        return None;
    }
    f.stat().await.ok()
}

/// After a write through `open`: the write time moves later (or at close), and the open's
/// first write sets ARCHIVE when a client had cleared it, as Windows does.
pub(crate) async fn after_write(
    server: &ServerContext,
    open: &Open,
    f: &FileRef,
    before: Option<FileStat>,
) {
    let Some(entry) = &open.entry else { return };
    let first = entry.write_times().wrote(
        open.uid,
        before.as_ref().map(|s| s.last_write_time),
        now(server),
    );
    if let Some(st) = before.filter(|s| first && s.attributes & vfs::attr::ARCHIVE == 0) {
        let attributes = st.attributes & vfs::attr::SETTABLE | vfs::attr::ARCHIVE;
        if let Err(e) = f.set_attributes(attributes).await {
            tracing::debug!(error = %e, "setting ARCHIVE after a write failed");
        }
    }
}

/// FLUSH, or a SET_INFO of basic or end-of-file information, through `open`: the open's
/// pending write-time move happens now.
pub(crate) async fn flush(server: &ServerContext, open: &Open, f: &FileRef) {
    let Some(entry) = &open.entry else { return };
    let moved = entry.write_times().flushed(open.uid, now(server));
    if let Some(t) = moved {
        put(f, t).await;
    }
}

/// The LastWriteTime of a SET_INFO basic information: an explicit time is set and sticks to
/// the open, -1 freezes and -2 thaws it. Returns the time to store, if any.
pub(crate) async fn set_basic(
    server: &ServerContext,
    open: &Open,
    f: &FileRef,
    last_write: i64,
) -> Result<Option<u64>, NtStatus> {
    let Some(entry) = &open.entry else {
        return Ok((last_write > 0).then_some(last_write as u64));
    };
    let now = now(server);
    match last_write {
        t if t > 0 => {
            entry.write_times().set(open.uid, t as u64, now);
            Ok(Some(t as u64))
        }
        FREEZE => {
            let current = f.stat().await.map_err(NtStatus::from)?.last_write_time;
            let mut w = entry.write_times();
            let current = w.reported(current, now);
            w.freeze(open.uid, true, current, now);
            Ok(None)
        }
        THAW => {
            entry.write_times().freeze(open.uid, false, 0, now);
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// `stat` of a file open through `open` as the server reports it: with the write time it holds,
/// and HIDDEN when the share hides its name.
pub(crate) fn report(server: &ServerContext, open: &Open, stat: &mut FileStat) {
    stat.attributes = open.share.hide.shown(&open.path(), stat.attributes);
    if let Some(entry) = &open.entry {
        stat.last_write_time = entry
            .write_times()
            .reported(stat.last_write_time, now(server));
    }
}

/// The end of `open` (close, disconnect), before its handle goes: the write time it leaves
/// goes on disk.
pub(crate) async fn closing(server: &ServerContext, open: &Open) {
    let (Some(entry), Some(f)) = (&open.entry, open.file()) else {
        return;
    };
    let others = entry.file_opens().saturating_sub(1);
    let left = entry.write_times().closed(open.uid, others, now(server));
    if let Some(t) = left {
        put(f, t).await;
    }
}

/// Stores `t` as the file's LastWriteTime.
async fn put(f: &FileRef, t: u64) {
    let times = SetTimes {
        last_write: Some(t),
        ..SetTimes::default()
    };
    if let Err(e) = f.set_times(times).await {
        tracing::debug!(error = %e, "storing the write time failed");
    }
}
