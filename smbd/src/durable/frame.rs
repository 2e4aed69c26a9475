//! The journal's entries and how they are framed.
//!
//! A journal file is the 8 bytes of [`MAGIC`], then entries, each framed as
//!
//! ```text
//! u32 payload length   u32 CRC-32C of (the 4 length bytes, then the payload)   payload
//! payload: u8 kind, then for a Put (1) a record's binary form,
//!                        for a Remove (2) the u64 persistent id
//! ```
//!
//! Every integer is little-endian. The checksum covers the length, so a garbled length is found
//! as surely as a garbled payload, and a run of zeros (what a torn write can leave) never passes
//! (the CRC-32C of four zero bytes is not zero).

use super::crc::Crc32c;
use super::record::{HandleRecord, MAX_RECORD_LEN, RecordError};
use crate::proto::codec::{DecodeError, Reader, WriteLe};

/// The first bytes of a journal file: its format's name and version.
pub(crate) const MAGIC: [u8; 8] = *b"SMBDHJ01";
/// Length and checksum before each payload.
pub(crate) const FRAME_HEADER_LEN: usize = 8;
/// The longest payload an entry can have: its kind and the longest record.
pub(crate) const MAX_PAYLOAD: usize = 1 + MAX_RECORD_LEN;

const KIND_PUT: u8 = 1;
const KIND_REMOVE: u8 = 2;

/// One journal entry, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    /// The record for its persistent id, inserted or replacing the one there.
    Put(Box<HandleRecord>),
    /// The record for this persistent id is gone.
    Remove(u64),
}

/// A framed Put of `rec`: what is appended to the journal and what a snapshot is made of.
pub(crate) fn put_frame(rec: &HandleRecord) -> Result<Vec<u8>, RecordError> {
    let mut payload = vec![KIND_PUT];
    rec.encode(&mut payload)?;
    Ok(framed(&payload))
}

/// A framed Remove of `persistent_id`.
pub(crate) fn remove_frame(persistent_id: u64) -> Vec<u8> {
    let mut payload = vec![KIND_REMOVE];
    payload.put_u64(persistent_id);
    framed(&payload)
}

fn framed(payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() as u32).to_le_bytes();
    let crc = Crc32c::new().update(&len).update(payload).finish();
    let mut out = Vec::with_capacity(FRAME_HEADER_LEN + payload.len());
    out.extend_from_slice(&len);
    out.put_u32(crc);
    out.extend_from_slice(payload);
    out
}

/// The record inside a Put frame made by [`put_frame`].
pub(crate) fn record_of(frame: &[u8]) -> Result<HandleRecord, DecodeError> {
    match frame.get(FRAME_HEADER_LEN..) {
        Some([KIND_PUT, record @ ..]) => HandleRecord::decode(record),
        _ => Err(DecodeError::invalid("put frame")),
    }
}

/// Where a scan of the entries stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// At the end of the bytes, after a whole entry.
    Clean,
    /// At an entry that is cut short, or fails its checksum and reaches the end of the bytes,
    /// or at zeros through the end: what a crash during an append leaves.
    Torn,
    /// At an entry with a garbled length, or one that fails its checksum with bytes other than
    /// zeros after it: damage that a torn append does not explain.
    Corrupt,
}

/// The outcome of [`scan`]: where the last good entry ends and why the scan stopped there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scanned {
    /// Bytes from the start of the scanned slice through the last good entry.
    pub(crate) good_len: usize,
    /// Why the scan stopped.
    pub(crate) end: End,
}

/// Walks the framed entries of `body` (a journal without its magic), handing each good one
/// and its frame to `apply` in order, and stops at the end or at the first bad frame.
///
/// A frame whose checksum holds but whose payload does not decode is not damage a crash can
/// cause (a newer format, or a bug): that is an error with its offset, and nothing is dropped.
pub(crate) fn scan(
    body: &[u8],
    mut apply: impl FnMut(Entry, &[u8]),
) -> Result<Scanned, (usize, DecodeError)> {
    let mut at = 0;
    while at < body.len() {
        let rest = &body[at..];
        let Some(frame_len) = checked_frame_len(rest) else {
            let end = if damaged_before_end(rest) {
                End::Corrupt
            } else {
                End::Torn
            };
            return Ok(Scanned { good_len: at, end });
        };
        let frame = &rest[..frame_len];
        let entry = decode_payload(&frame[FRAME_HEADER_LEN..]).map_err(|e| (at, e))?;
        apply(entry, frame);
        at += frame_len;
    }
    Ok(Scanned {
        good_len: at,
        end: End::Clean,
    })
}

/// The length of the whole frame at the start of `rest` when it is all there, within the cap,
/// and its checksum holds.
fn checked_frame_len(rest: &[u8]) -> Option<usize> {
    let mut r = Reader::new(rest);
    let len_bytes = r.take(4, "entry length").ok()?;
    let crc = r.u32("entry checksum").ok()?;
    let len = u32::from_le_bytes(len_bytes.try_into().ok()?) as usize;
    if len > MAX_PAYLOAD {
        return None;
    }
    let payload = r.take(len, "entry payload").ok()?;
    let sum = Crc32c::new().update(len_bytes).update(payload).finish();
    (sum == crc).then_some(FRAME_HEADER_LEN + len)
}

/// Whether a bad frame at the start of `rest` is more than the last append cut short: its
/// length is garbled, or bytes other than zeros (which a crash can leave past the last write)
/// follow the place it claims to end.
fn damaged_before_end(rest: &[u8]) -> bool {
    let Some(len) = rest.get(..4) else {
        return false;
    };
    let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    if rest.iter().all(|&b| b == 0) {
        return false;
    }
    if len > MAX_PAYLOAD {
        return true;
    }
    let after = rest.get(FRAME_HEADER_LEN + len..).unwrap_or_default();
    after.iter().any(|&b| b != 0)
}

fn decode_payload(payload: &[u8]) -> Result<Entry, DecodeError> {
    match payload {
        [KIND_PUT, record @ ..] => HandleRecord::decode(record).map(|r| Entry::Put(Box::new(r))),
        [KIND_REMOVE, id @ ..] => {
            let id: [u8; 8] = id
                .try_into()
                .map_err(|_| DecodeError::invalid("remove entry length"))?;
            Ok(Entry::Remove(u64::from_le_bytes(id)))
        }
        [] => Err(DecodeError::truncated("entry kind")),
        _ => Err(DecodeError::invalid("entry kind")),
    }
}
