//! Quotas: QUERY_INFO of SMB2_0_INFO_QUOTA (MS-SMB2 3.3.5.20.4) and the quota fake file
//! `$Extend\$Quota:$Q:$INDEX_ALLOCATION` that quota tools open to ask it (smbcquotas,
//! Windows' quota tab; smbtorture smb2.create.quota-fake-file).
//!
//! No per-user quotas are configured on any share, so the volume's quota list is empty: an
//! enumeration answers STATUS_NO_MORE_ENTRIES, and a query for given SIDs answers each with
//! zero figures, as MS-SMB2 3.3.5.20.4 says of a SID the object store has no entry for.
//! FileFsControlInformation says the same (no quota flags, no default threshold or limit).

use std::sync::Arc;

use async_trait::async_trait;

use super::Reply;
use crate::proto::NtStatus;
use crate::proto::dir::encode_buffer_response;
use crate::proto::fscc::{QuotaFigures, QuotaTarget, decode_quota_query, encode_quota_entries};
use vfs::{DirEntry, FileStat, SetTimes, VfsError, VfsFile, VfsResult, attr};

/// The quota fake file's path, as a client names it.
const FAKE_FILE: &str = "$Extend\\$Quota:$Q:$INDEX_ALLOCATION";
/// Its file id: outside what inode numbers reach.
const FAKE_FILE_ID: u64 = u64::MAX - 0x51;

/// Whether a CREATE names the quota fake file (case aside, with or without a leading `\`).
pub(crate) fn is_fake_file(name: &str) -> bool {
    name.trim_start_matches('\\')
        .eq_ignore_ascii_case(FAKE_FILE)
}

/// The quota fake file's handle: a hidden system directory with no times (as Windows and
/// Samba answer), which holds nothing and refuses every change.
pub(crate) struct QuotaFile;

impl QuotaFile {
    /// Its metadata.
    pub(crate) fn stat() -> FileStat {
        FileStat {
            attributes: attr::HIDDEN | attr::SYSTEM | attr::DIRECTORY | attr::ARCHIVE,
            file_id: FAKE_FILE_ID,
            links: 1,
            is_dir: true,
            ..FileStat::default()
        }
    }

    /// The handle, as the open's file.
    pub(crate) fn handle() -> vfs::FileRef {
        Arc::new(Self)
    }

    /// The path the open records for it.
    pub(crate) fn path() -> String {
        "$Extend/$Quota".to_owned()
    }
}

#[async_trait]
impl VfsFile for QuotaFile {
    async fn stat(&self) -> VfsResult<FileStat> {
        Ok(Self::stat())
    }
    async fn read_at(&self, _offset: u64, _len: usize) -> VfsResult<Vec<u8>> {
        Err(VfsError::IsADirectory)
    }
    async fn write_at(&self, _offset: u64, _data: Vec<u8>) -> VfsResult<usize> {
        Err(VfsError::AccessDenied)
    }
    async fn flush(&self) -> VfsResult<()> {
        Ok(())
    }
    async fn set_len(&self, _len: u64) -> VfsResult<()> {
        Err(VfsError::AccessDenied)
    }
    async fn allocate(&self, _len: u64) -> VfsResult<()> {
        Err(VfsError::AccessDenied)
    }
    async fn overwrite(
        &self,
        _attributes: u32,
        _allocation: u64,
        _supersede: bool,
    ) -> VfsResult<()> {
        Err(VfsError::AccessDenied)
    }
    async fn set_times(&self, _times: SetTimes) -> VfsResult<()> {
        Err(VfsError::AccessDenied)
    }
    async fn set_attributes(&self, _attributes: u32) -> VfsResult<()> {
        Err(VfsError::AccessDenied)
    }
    async fn read_dir(&self, _cookie: u64, _max: usize) -> VfsResult<Vec<DirEntry>> {
        Ok(Vec::new())
    }
    async fn get_meta(&self, _name: &str) -> VfsResult<Option<Vec<u8>>> {
        Ok(None)
    }
    async fn set_meta(&self, _name: &str, _value: Vec<u8>) -> VfsResult<()> {
        Err(VfsError::AccessDenied)
    }
}

/// QUERY_INFO of SMB2_0_INFO_QUOTA with `input` (an SMB2_QUERY_QUOTA_INFO) and room for
/// `output_len` bytes.
pub(crate) fn query(input: &[u8], output_len: usize, out: &mut Vec<u8>) -> Result<Reply, NtStatus> {
    let q = decode_quota_query(input).map_err(|e| NtStatus(e.nt_status()))?;
    let QuotaTarget::Sids(sids) = q.target else {
        // The volume's list holds no entry.
        return Err(NtStatus::NO_MORE_ENTRIES);
    };
    let take = if q.return_single { 1 } else { sids.len() };
    let entries: Vec<_> = sids
        .into_iter()
        .take(take)
        .map(|sid| (sid, QuotaFigures::default()))
        .collect();
    let mut buf = Vec::new();
    if encode_quota_entries(&entries, output_len, &mut buf) == 0 {
        return Err(NtStatus::BUFFER_TOO_SMALL);
    }
    encode_buffer_response(out, &buf);
    Ok(Reply::Done(NtStatus::SUCCESS))
}
