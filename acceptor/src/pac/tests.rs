//! PAC tests, and a PAC builder the acceptor's end-to-end tests share (they play the KDC).

use super::*;
use crate::krb5::crypto::{Etype, Key};

/// Builds a signed PAC: LOGON_INFO, CLIENT_INFO, optional REQUESTOR, server and KDC checksums.
pub(crate) fn build_pac(
    info: Option<&LogonInfo>,
    client: &ClientInfo,
    requestor: Option<&acl::Sid>,
    server_key: &Key,
    kdc_key: &Key,
) -> Vec<u8> {
    let mut bufs: Vec<(u32, Vec<u8>)> = Vec::new();
    if let Some(i) = info {
        bufs.push((
            buffer_type::LOGON_INFO,
            logon_info::encode::logon_info(i, false),
        ));
    }
    let mut ci = unix_to_filetime(client.auth_time).to_le_bytes().to_vec();
    let name: Vec<u8> = client
        .name
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    ci.extend_from_slice(&(name.len() as u16).to_le_bytes());
    ci.extend_from_slice(&name);
    bufs.push((buffer_type::CLIENT_INFO, ci));
    if let Some(s) = requestor {
        let mut b = Vec::new();
        s.encode(&mut b);
        bufs.push((buffer_type::REQUESTOR, b));
    }
    let sig_buf = |k: &Key| {
        let ty = k.etype().checksum_type().unwrap();
        let mut b = (ty as u32).to_le_bytes().to_vec();
        b.extend(vec![0; k.checksum(17, b"").unwrap().len()]);
        b
    };
    bufs.push((buffer_type::SERVER_CHECKSUM, sig_buf(server_key)));
    bufs.push((buffer_type::KDC_CHECKSUM, sig_buf(kdc_key)));
    let mut out = Vec::new();
    out.extend_from_slice(&(bufs.len() as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    let mut offset = (8 + 16 * bufs.len()).next_multiple_of(8);
    let mut offsets = Vec::new();
    for (ty, b) in &bufs {
        out.extend_from_slice(&ty.to_le_bytes());
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        out.extend_from_slice(&(offset as u64).to_le_bytes());
        offsets.push(offset);
        offset = (offset + b.len()).next_multiple_of(8);
    }
    for (_, b) in &bufs {
        out.resize(out.len().next_multiple_of(8), 0);
        out.extend_from_slice(b);
    }
    out.resize(out.len().next_multiple_of(8), 0);
    let n = bufs.len();
    let (srv_off, kdc_off) = (offsets[n - 2] + 4, offsets[n - 1] + 4);
    let srv = server_key.checksum(17, &out).unwrap();
    out[srv_off..srv_off + srv.len()].copy_from_slice(&srv);
    let kdc = kdc_key.checksum(17, &srv).unwrap();
    out[kdc_off..kdc_off + kdc.len()].copy_from_slice(&kdc);
    out
}

/// A LOGON_INFO with `groups` domain groups, two extra SIDs and two resource groups.
pub(crate) fn sample_logon_info(groups: usize) -> LogonInfo {
    let domain: acl::Sid = "S-1-5-21-100-200-300".parse().unwrap();
    LogonInfo {
        effective_name: "alice".into(),
        full_name: "Alice Example".into(),
        user_id: 1105,
        primary_group_id: 513,
        group_ids: (0..groups as u32).map(|i| (513 + i, 7)).collect(),
        user_flags: logon_info::LOGON_EXTRA_SIDS | logon_info::LOGON_RESOURCE_GROUPS,
        logon_server: "DC1".into(),
        logon_domain_name: "EXAMPLE".into(),
        logon_domain_id: Some(domain),
        user_account_control: 0x10,
        extra_sids: vec![
            ("S-1-18-1".parse().unwrap(), 7),
            ("S-1-5-21-9-9-9-1000".parse().unwrap(), 0x2000_0007),
        ],
        resource_group_domain_sid: Some("S-1-5-21-7-7-7".parse().unwrap()),
        resource_group_ids: vec![(2001, 0x2000_0007), (2002, 0x2000_0007)],
    }
}

fn keys() -> (Key, Key) {
    (
        Key::new(Etype::AES256_SHA1, &[3; 32]).unwrap(),
        Key::new(Etype::AES256_SHA1, &[4; 32]).unwrap(),
    )
}

#[test]
fn pac_round_trip_and_signature() {
    let (srv, kdc) = keys();
    let info = sample_logon_info(5);
    let client = ClientInfo {
        auth_time: 1_700_000_000,
        name: "alice".into(),
    };
    let sid = "S-1-5-21-100-200-300-1105".parse().unwrap();
    let pac_bytes = build_pac(Some(&info), &client, Some(&sid), &srv, &kdc);
    let pac = Pac::parse(&pac_bytes).unwrap();
    assert_eq!(pac.logon_info.as_ref(), Some(&info));
    assert_eq!(pac.client_info.as_ref(), Some(&client));
    assert_eq!(pac.requestor.as_ref(), Some(&sid));
    pac.verify_server_signature(&pac_bytes, &srv).unwrap();
    assert!(pac.verify_server_signature(&pac_bytes, &kdc).is_err());
    // Any change to a signed byte breaks the server signature.
    let mut tampered = pac_bytes.clone();
    let at = tampered.len() - 60;
    tampered[at] ^= 1;
    if let Ok(p) = Pac::parse(&tampered) {
        assert!(p.verify_server_signature(&tampered, &srv).is_err());
    }
}

#[test]
fn ndr_padded_and_unpadded_object_lengths() {
    let info = sample_logon_info(3);
    for pad in [false, true] {
        let b = logon_info::encode::logon_info(&info, pad);
        assert_eq!(logon_info::parse(&b).unwrap(), info);
    }
}

#[test]
fn thousands_of_groups() {
    let (srv, kdc) = keys();
    let info = sample_logon_info(2000);
    let client = ClientInfo {
        auth_time: 0,
        name: "alice".into(),
    };
    let pac_bytes = build_pac(Some(&info), &client, None, &srv, &kdc);
    let pac = Pac::parse(&pac_bytes).unwrap();
    assert_eq!(pac.logon_info.unwrap().group_ids.len(), 2000);
}

#[test]
fn truncated_and_hostile_pacs_fail_cleanly() {
    let (srv, kdc) = keys();
    let client = ClientInfo {
        auth_time: 0,
        name: "alice".into(),
    };
    let pac_bytes = build_pac(Some(&sample_logon_info(4)), &client, None, &srv, &kdc);
    for n in 0..pac_bytes.len() {
        let _ = Pac::parse(&pac_bytes[..n]);
    }
    let ndr = logon_info::encode::logon_info(&sample_logon_info(4), true);
    for n in 0..ndr.len() {
        assert!(logon_info::parse(&ndr[..n]).is_err(), "prefix {n}");
    }
    // A group count of 2^31 with little data is refused before allocating.
    let mut hostile = ndr.clone();
    for i in 16..hostile.len() - 4 {
        let saved: [u8; 4] = hostile[i..i + 4].try_into().unwrap();
        hostile[i..i + 4].copy_from_slice(&0x8000_0000u32.to_le_bytes());
        let _ = logon_info::parse(&hostile);
        hostile[i..i + 4].copy_from_slice(&saved);
    }
    // Buffer offsets outside the PAC.
    let mut bad = pac_bytes.clone();
    bad[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(Pac::parse(&bad), Err(PacError::BadBufferBounds));
    let mut many = pac_bytes;
    many[0..4].copy_from_slice(&1000u32.to_le_bytes());
    assert_eq!(Pac::parse(&many), Err(PacError::BadHeader));
}
