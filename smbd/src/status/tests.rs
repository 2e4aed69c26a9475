//! The report's byte-range locks and tables, on an in-memory server.

use std::sync::Arc;

use super::*;
use crate::fuzzing::seeds;
use crate::harness::client::TestClient;
use crate::proto::header::Command;

/// SMB2_LOCKFLAG_SHARED_LOCK, EXCLUSIVE_LOCK and FAIL_IMMEDIATELY.
const SHARED: u32 = 1;
const EXCLUSIVE: u32 = 2;
const FAIL_IMMEDIATELY: u32 = 0x10;

/// A LOCK body (MS-SMB2 2.2.26) taking `(offset, length, flags)` on `file`.
fn lock_body(file: &[u8], locks: &[(u64, u64, u32)]) -> Vec<u8> {
    let mut b = vec![48, 0];
    b.extend_from_slice(&(locks.len() as u16).to_le_bytes());
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(file);
    for (offset, length, flags) in locks {
        b.extend_from_slice(&offset.to_le_bytes());
        b.extend_from_slice(&length.to_le_bytes());
        b.extend_from_slice(&(flags | FAIL_IMMEDIATELY).to_le_bytes());
        b.extend_from_slice(&[0; 4]);
    }
    b
}

/// Opens `name` and returns its FileId.
async fn open(c: &mut TestClient, name: &str) -> [u8; 16] {
    let msg = c.create(name);
    let (status, reply) = c.call(msg).await;
    assert_eq!(status, 0, "create {name}");
    reply[128..144].try_into().unwrap()
}

#[tokio::test]
async fn the_report_lists_each_open_s_byte_range_locks() {
    let server =
        crate::harness::server::Builder::new(Arc::new(vfs::mem::MemFs::new()), 512).build();
    let mut c = TestClient::on_share(server.clone()).await;
    let a = open(&mut c, "a.txt").await;
    let b = open(&mut c, "dir.txt").await;
    for (file, locks) in [
        (&a, vec![(100, 10, EXCLUSIVE), (0, 5, SHARED)]),
        (&b, vec![(7, 1, SHARED)]),
    ] {
        let id = c.next_id();
        let msg = seeds::message(Command::Lock, id, c.sid, 1, &lock_body(file, &locks));
        assert_eq!(c.call(msg).await.0, 0, "lock");
    }

    let locks = locks(&server);
    let seen: Vec<_> = locks
        .iter()
        .map(|l| (l.path.as_str(), l.offset, l.length, l.exclusive))
        .collect();
    assert_eq!(
        seen,
        [
            ("a.txt", 100, 10, true),
            ("a.txt", 0, 5, false),
            ("dir.txt", 7, 1, false)
        ]
    );
    assert_eq!(locks[0].share, "share");
    assert_eq!(
        locks[2].to_json(),
        format!(
            "{{\"file_id\":{},\"share\":\"share\",\"path\":\"dir.txt\",\"offset\":7,\"length\":1,\"exclusive\":false,\"user_sid\":\"{}\"}}",
            locks[2].file_id, locks[2].user_sid
        )
    );

    let text = locks_table(&locks);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("FILE ID") && lines[0].contains("OFFSET  LENGTH  MODE"));
    assert!(lines[1].contains("a.txt") && lines[1].contains("100     10      exclusive"));
    assert!(lines[3].contains("dir.txt") && lines[3].contains("shared"));

    let opens = opens_table(&opens(&server));
    assert!(opens.lines().nth(1).unwrap().contains("a.txt"), "{opens}");
    let sessions = sessions_table(&sessions(&server));
    assert_eq!(sessions.lines().count(), 2, "{sessions}");
    assert!(
        sessions.contains("S-1-5-7"),
        "the anonymous logon: {sessions}"
    );
}

#[test]
fn tables_align_columns_and_mark_empty_cells() {
    let rows = vec![
        vec!["1".to_string(), "long value".to_string(), String::new()],
        vec!["22".to_string(), "x".to_string(), "z".to_string()],
    ];
    assert_eq!(
        table(&["A", "B", "C"], &rows),
        "A   B           C\n1   long value  -\n22  x           z\n"
    );
    assert_eq!(table(&["A", "B"], &[]), "A  B\n");
    assert_eq!(sharing_letters(7), "RWD");
    assert_eq!(sharing_letters(5), "RD");
}
