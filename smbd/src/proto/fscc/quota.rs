//! Quota queries: SMB2_QUERY_QUOTA_INFO (MS-SMB2 2.2.37.1) with its FILE_GET_QUOTA_INFORMATION
//! list (MS-FSCC 2.4.36.1), and FILE_QUOTA_INFORMATION answers (MS-FSCC 2.4.36).

use super::FsccError;
use super::wire::{align8, patch_u32, put_u32, put_u64};

/// Fixed part of SMB2_QUERY_QUOTA_INFO before SidBuffer.
const QUERY_FIXED: usize = 16;
/// A SID's fixed part: revision, sub-authority count, 6-byte identifier authority.
const SID_FIXED: usize = 8;
/// Fixed part of one FILE_QUOTA_INFORMATION entry before its SID.
const ENTRY_FIXED: usize = 40;

/// What a quota query asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuotaTarget<'a> {
    /// Every entry of the volume (from the start, or on from the last one returned).
    All,
    /// The entries from this SID on.
    StartSid(&'a [u8]),
    /// The entries of these SIDs.
    Sids(Vec<&'a [u8]>),
}

/// A decoded SMB2_QUERY_QUOTA_INFO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaQuery<'a> {
    /// ReturnSingle: at most one entry.
    pub return_single: bool,
    /// RestartScan: enumerate from the start.
    pub restart_scan: bool,
    /// The entries asked for.
    pub target: QuotaTarget<'a>,
}

/// Checks `sid` is one whole SID: revision 1 and exactly its sub-authorities.
fn check_sid(sid: &[u8]) -> Result<&[u8], FsccError> {
    match sid {
        [1, count, ..] if sid.len() == SID_FIXED + 4 * usize::from(*count) => Ok(sid),
        _ => Err(FsccError::InvalidParameter),
    }
}

fn u32_at(b: &[u8], at: usize) -> Result<usize, FsccError> {
    let bytes = b
        .get(at..at + 4)
        .ok_or(FsccError::InvalidParameter)?
        .try_into()
        .map_err(|_| FsccError::InvalidParameter)?;
    Ok(u32::from_le_bytes(bytes) as usize)
}

/// Decodes the input buffer of a QUERY_INFO of SMB2_0_INFO_QUOTA. Anything that is not an
/// SMB2_QUERY_QUOTA_INFO (short, lengths past the buffer, a SID list that is not a chain of
/// whole entries) is [`FsccError::InvalidParameter`], as MS-SMB2 3.3.5.20.4 requires.
pub fn decode_quota_query(input: &[u8]) -> Result<QuotaQuery<'_>, FsccError> {
    if input.len() < QUERY_FIXED {
        return Err(FsccError::InvalidParameter);
    }
    let list_len = u32_at(input, 4)?;
    let start_len = u32_at(input, 8)?;
    let start_off = u32_at(input, 12)?;
    let buffer = &input[QUERY_FIXED..];
    let target = if list_len != 0 {
        let list = buffer.get(..list_len).ok_or(FsccError::InvalidParameter)?;
        QuotaTarget::Sids(sid_list(list)?)
    } else if start_len != 0 {
        let end = start_off
            .checked_add(start_len)
            .ok_or(FsccError::InvalidParameter)?;
        let sid = buffer
            .get(start_off..end)
            .ok_or(FsccError::InvalidParameter)?;
        QuotaTarget::StartSid(check_sid(sid)?)
    } else {
        QuotaTarget::All
    };
    Ok(QuotaQuery {
        return_single: input[0] != 0,
        restart_scan: input[1] != 0,
        target,
    })
}

/// The SIDs of a FILE_GET_QUOTA_INFORMATION chain filling `list`.
fn sid_list(list: &[u8]) -> Result<Vec<&[u8]>, FsccError> {
    let mut sids = Vec::new();
    let mut at = 0;
    loop {
        let next = u32_at(list, at)?;
        let len = u32_at(list, at + 4)?;
        let start = at + 8;
        let sid = list
            .get(start..start.checked_add(len).ok_or(FsccError::InvalidParameter)?)
            .ok_or(FsccError::InvalidParameter)?;
        sids.push(check_sid(sid)?);
        if next == 0 {
            return Ok(sids);
        }
        if next < 8 + len {
            return Err(FsccError::InvalidParameter);
        }
        at += next;
    }
}

/// One FILE_QUOTA_INFORMATION entry's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuotaFigures {
    /// ChangeTime (FILETIME).
    pub change_time: u64,
    /// QuotaUsed in bytes.
    pub used: u64,
    /// QuotaThreshold in bytes (u64::MAX: none).
    pub threshold: u64,
    /// QuotaLimit in bytes (u64::MAX: none).
    pub limit: u64,
}

/// Appends FILE_QUOTA_INFORMATION entries for `entries` to `out`, 8-byte aligned and chained,
/// as many as fit in `max_len` bytes; returns how many were written.
pub fn encode_quota_entries(
    entries: &[(&[u8], QuotaFigures)],
    max_len: usize,
    out: &mut Vec<u8>,
) -> usize {
    let base = out.len();
    let mut last: Option<usize> = None;
    let mut written = 0;
    for (sid, q) in entries {
        let start = match last {
            Some(_) => base + align8(out.len() - base),
            None => base,
        };
        if start - base + ENTRY_FIXED + sid.len() > max_len {
            break;
        }
        if let Some(prev) = last {
            out.resize(start, 0);
            patch_u32(out, prev, (start - prev) as u32);
        }
        put_u32(out, 0); // NextEntryOffset, patched when another entry follows.
        put_u32(out, sid.len() as u32);
        put_u64(out, q.change_time);
        put_u64(out, q.used);
        put_u64(out, q.threshold);
        put_u64(out, q.limit);
        out.extend_from_slice(sid);
        last = Some(start);
        written += 1;
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    /// S-1-5-32-544.
    const ADMINS: [u8; 16] = [1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0];
    /// S-1-1-0.
    const EVERYONE: [u8; 12] = [1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0];

    fn query(single: u8, list: &[u8], start: &[u8]) -> Vec<u8> {
        let mut b = vec![single, 1, 0, 0];
        b.extend_from_slice(&(list.len() as u32).to_le_bytes());
        b.extend_from_slice(&(start.len() as u32).to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(list);
        b.extend_from_slice(start);
        b
    }

    fn get_entry(next: u32, sid: &[u8]) -> Vec<u8> {
        let mut e = next.to_le_bytes().to_vec();
        e.extend_from_slice(&(sid.len() as u32).to_le_bytes());
        e.extend_from_slice(sid);
        e
    }

    #[test]
    fn decodes_the_three_forms() {
        let all = query(0, &[], &[]);
        let q = decode_quota_query(&all).unwrap();
        assert_eq!(q.target, QuotaTarget::All);
        assert!(q.restart_scan && !q.return_single);
        let start = query(1, &[], &EVERYONE);
        let q = decode_quota_query(&start).unwrap();
        assert_eq!(q.target, QuotaTarget::StartSid(&EVERYONE));
        let mut list = get_entry(24, &ADMINS);
        list.extend(get_entry(0, &EVERYONE));
        let sids = query(0, &list, &[]);
        let q = decode_quota_query(&sids).unwrap();
        assert_eq!(
            q.target,
            QuotaTarget::Sids(vec![&ADMINS[..], &EVERYONE[..]])
        );
    }

    #[test]
    fn refuses_what_is_not_a_query() {
        let bad = FsccError::InvalidParameter;
        assert_eq!(decode_quota_query(&[0; 15]), Err(bad));
        let mut q = query(0, &get_entry(0, &EVERYONE), &[]);
        q[4] = 200; // SidListLength past the buffer
        assert_eq!(decode_quota_query(&q), Err(bad));
        // A SID length past the list, a next offset inside the entry, a broken SID.
        assert_eq!(
            decode_quota_query(&query(0, &get_entry(0, &EVERYONE)[..15], &[])),
            Err(bad)
        );
        let mut looped = get_entry(4, &EVERYONE);
        looped.extend(get_entry(0, &EVERYONE));
        assert_eq!(decode_quota_query(&query(0, &looped, &[])), Err(bad));
        assert_eq!(
            decode_quota_query(&query(0, &get_entry(0, &EVERYONE[..11]), &[])),
            Err(bad)
        );
        assert_eq!(decode_quota_query(&query(0, &[], &ADMINS[..9])), Err(bad));
    }

    #[test]
    fn encodes_chained_entries_that_fit() {
        let zero = QuotaFigures::default();
        let entries = [(&ADMINS[..], zero), (&EVERYONE[..], zero)];
        let mut out = Vec::new();
        assert_eq!(encode_quota_entries(&entries, 4096, &mut out), 2);
        assert_eq!(&out[0..4], &56u32.to_le_bytes(), "40 + 16, 8-aligned");
        assert_eq!(&out[4..8], &16u32.to_le_bytes());
        assert_eq!(&out[40..56], &ADMINS);
        assert_eq!(out.len(), 56 + 40 + 12);
        let mut out = Vec::new();
        assert_eq!(encode_quota_entries(&entries, 60, &mut out), 1);
        assert_eq!(&out[0..4], &[0; 4]);
        assert_eq!(encode_quota_entries(&entries, 10, &mut Vec::new()), 0);
    }
}
