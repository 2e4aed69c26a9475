//! Decoding of [`HandleRecord`]'s binary form (laid out in `record.rs`), on the one `Reader`.

use acl::Sid;

use super::record::{
    AppInstance, FLAG_APP_INSTANCE, FLAG_DISCONNECTED, FLAG_PERSISTENT, FileIdentity, HandleRecord,
    LEASE_LEVEL, LOCK_LEN, LOCK_SEQUENCE_SLOTS, LeaseRecord, LockRange, MAX_LOCKS, MAX_PATH_BYTES,
    MAX_SHARE_BYTES, NO_SEQUENCE, Oplock, RECORD_VERSION, RecordError,
};
use crate::proto::codec::{DecodeError, Reader};

impl HandleRecord {
    /// Decodes the binary form that [`HandleRecord::encode`] writes; it must fill `data`
    /// exactly. Never panics, and checks every count against its cap and the bytes left
    /// before allocating anything for it.
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        if r.u8("record version")? != RECORD_VERSION {
            return Err(DecodeError::invalid("record version"));
        }
        let flags = r.u8("record flags")?;
        if flags & !(FLAG_PERSISTENT | FLAG_APP_INSTANCE | FLAG_DISCONNECTED) != 0 {
            return Err(DecodeError::invalid("record flags"));
        }
        let persistent_id = r.u64("persistent id")?;
        let create_guid = r.guid("create guid")?;
        let client_guid = r.guid("client guid")?;
        let file = FileIdentity {
            volume: r.u64("volume")?,
            file_id: r.u64("file id")?,
        };
        let granted_access = r.u32("granted access")?;
        let share_access = r.u32("share access")?;
        let create_options = r.u32("create options")?;
        let durable_timeout_ms = r.u32("durable timeout")?;
        let app_instance = match flags & FLAG_APP_INSTANCE {
            0 => None,
            _ => Some(AppInstance {
                id: r.guid("app instance id")?,
                version_high: r.u64("app instance version high")?,
                version_low: r.u64("app instance version low")?,
            }),
        };
        let disconnected_at_ms = match flags & FLAG_DISCONNECTED {
            0 => None,
            _ => Some(r.u64("disconnected at")?),
        };
        let rec = Self {
            persistent_id,
            create_guid,
            client_guid,
            app_instance,
            file,
            granted_access,
            share_access,
            create_options,
            durable_timeout_ms,
            persistent: flags & FLAG_PERSISTENT != 0,
            disconnected_at_ms,
            oplock: decode_oplock(&mut r)?,
            lock_sequences: decode_sequences(&mut r)?,
            share: decode_text(&mut r, MAX_SHARE_BYTES, "share name")?,
            path: decode_text(&mut r, MAX_PATH_BYTES, "path")?,
            owner: decode_sid(&mut r)?,
            locks: decode_locks(&mut r)?,
        };
        if r.remaining() != 0 {
            return Err(DecodeError::invalid("bytes after the record"));
        }
        rec.check().map_err(|e| match e {
            RecordError::TooLong { what, .. } | RecordError::Invalid { what } => {
                DecodeError::invalid(what)
            }
        })?;
        Ok(rec)
    }
}

/// The oplock level and, for a lease, the lease (whose values `check` then vets).
fn decode_oplock(r: &mut Reader<'_>) -> Result<Oplock, DecodeError> {
    let lease = match r.u8("oplock level")? {
        0 => return Ok(Oplock::None),
        1 => return Ok(Oplock::LevelII),
        8 => return Ok(Oplock::Exclusive),
        9 => return Ok(Oplock::Batch),
        LEASE_LEVEL => LeaseRecord {
            key: r.guid("lease key")?,
            version: r.u8("lease version")?,
            state: r.u32("lease state")?,
            epoch: r.u16("lease epoch")?,
            parent_key: match r.u8("lease has parent")? {
                0 => None,
                1 => Some(r.guid("parent lease key")?),
                _ => return Err(DecodeError::invalid("lease has parent")),
            },
        },
        _ => return Err(DecodeError::invalid("oplock level")),
    };
    Ok(Oplock::Lease(lease))
}

fn decode_sequences(r: &mut Reader<'_>) -> Result<[Option<u8>; LOCK_SEQUENCE_SLOTS], DecodeError> {
    let raw = r.take(LOCK_SEQUENCE_SLOTS, "lock sequences")?;
    let mut out = [None; LOCK_SEQUENCE_SLOTS];
    for (slot, &b) in out.iter_mut().zip(raw) {
        *slot = match b {
            NO_SEQUENCE => None,
            0..=15 => Some(b),
            _ => return Err(DecodeError::invalid("lock sequence")),
        };
    }
    Ok(out)
}

/// A u16 length, then that many bytes of UTF-8, at most `max`.
fn decode_text(r: &mut Reader<'_>, max: usize, what: &'static str) -> Result<String, DecodeError> {
    let len = usize::from(r.u16(what)?);
    if len > max {
        return Err(DecodeError::invalid(what));
    }
    let bytes = r.take(len, what)?;
    let text = std::str::from_utf8(bytes).map_err(|_| DecodeError::invalid(what))?;
    Ok(text.to_owned())
}

fn decode_sid(r: &mut Reader<'_>) -> Result<Sid, DecodeError> {
    let rest = r.at(r.pos(), r.remaining(), "owner SID")?;
    let (sid, used) = Sid::decode(rest).map_err(|_| DecodeError::invalid("owner SID"))?;
    r.skip(used, "owner SID")?;
    Ok(sid)
}

fn decode_locks(r: &mut Reader<'_>) -> Result<Vec<LockRange>, DecodeError> {
    let count = r.u32("lock count")? as usize;
    if count > MAX_LOCKS {
        return Err(DecodeError::invalid("lock count"));
    }
    if count * LOCK_LEN > r.remaining() {
        return Err(DecodeError::truncated("locks"));
    }
    let mut locks = Vec::with_capacity(count);
    for _ in 0..count {
        locks.push(LockRange {
            offset: r.u64("lock offset")?,
            length: r.u64("lock length")?,
            exclusive: match r.u8("lock exclusive")? {
                0 => false,
                1 => true,
                _ => return Err(DecodeError::invalid("lock exclusive")),
            },
        });
    }
    Ok(locks)
}
