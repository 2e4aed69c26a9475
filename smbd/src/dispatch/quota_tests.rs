//! Quotas through whole requests over MemFs: the quota fake file and QUERY_INFO of
//! SMB2_0_INFO_QUOTA on a share without quotas.

use super::file_tests::{Create, OK, OPEN, READ_ATTRIBUTES, READ_DATA, client};
use crate::proto::NtStatus;

/// SMB2_0_INFO_QUOTA.
const QUOTA: u8 = 4;
/// S-1-1-0.
const EVERYONE: [u8; 12] = [1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0];

/// An SMB2_QUERY_QUOTA_INFO asking for `sids` (all entries when empty).
fn query_for(sids: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for (i, sid) in sids.iter().enumerate() {
        let entry_len = (8 + sid.len()).next_multiple_of(4);
        let next = if i + 1 < sids.len() { entry_len } else { 0 };
        list.extend_from_slice(&(next as u32).to_le_bytes());
        list.extend_from_slice(&(sid.len() as u32).to_le_bytes());
        list.extend_from_slice(sid);
        list.resize(list.len().next_multiple_of(4), 0);
    }
    let mut b = vec![0, 1, 0, 0];
    b.extend_from_slice(&(list.len() as u32).to_le_bytes());
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&list);
    b
}

#[tokio::test]
async fn the_fake_file_opens_as_a_hidden_system_directory() {
    let (mut c, fs) = client().await;
    let name = "$Extend\\$Quota:$Q:$INDEX_ALLOCATION";
    let f = c
        .create(
            Create::new(name)
                .access(READ_DATA | READ_ATTRIBUTES)
                .disposition(OPEN)
                .options(0),
        )
        .await;
    // FileBasicInformation: no times, HIDDEN | SYSTEM | DIRECTORY | ARCHIVE.
    let (st, basic) = c.query(f, 1, 4, &[]).await;
    assert_eq!(st, OK);
    assert_eq!(&basic[..32], &[0; 32]);
    assert_eq!(&basic[32..36], &0x36u32.to_le_bytes());
    // Quotas are asked through it; nothing is on the share's storage.
    let (st, _) = c.query(f, QUOTA, 0, &query_for(&[])).await;
    assert_eq!(st, NtStatus::NO_MORE_ENTRIES.0);
    c.close(f).await;
    assert!(vfs::Vfs::stat(&fs, "$Extend").await.is_err());
    // It is never created, deleted or given a descriptor.
    let create = Create::new(name).disposition(2).options(0);
    assert_eq!(c.try_create(create).await, Err(NtStatus::ACCESS_DENIED.0));
    let delete = Create::new(name)
        .access(0x1_0000)
        .disposition(OPEN)
        .options(0);
    assert_eq!(c.try_create(delete).await, Err(NtStatus::ACCESS_DENIED.0));
}

#[tokio::test]
async fn quota_queries_answer_an_empty_list() {
    let (mut c, _fs) = client().await;
    let root = c.create(Create::new("").dir()).await;
    let (st, out) = c.query(root, QUOTA, 0, &query_for(&[&EVERYONE])).await;
    assert_eq!(st, OK);
    assert_eq!(&out[4..8], &12u32.to_le_bytes(), "SidLength");
    assert_eq!(
        &out[8..40],
        &[0; 32],
        "no figures for a SID without an entry"
    );
    assert_eq!(&out[40..], &EVERYONE);
    let (st, _) = c.query(root, QUOTA, 0, &[0; 8]).await;
    assert_eq!(st, NtStatus::INVALID_PARAMETER.0);
    c.close(root).await;
}
