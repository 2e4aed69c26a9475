//! Names of snapshots (previous versions): `@GMT-YYYY.MM.DD-HH.MM.SS`, the form Windows'
//! FSCTL_SRV_ENUMERATE_SNAPSHOTS lists (MS-SMB2 3.3.5.15.1) and a TWrp create context's
//! timestamp names (MS-SMB2 2.2.13.2.7).

/// Whether `name` is a snapshot name: `@GMT-YYYY.MM.DD-HH.MM.SS`, digits where digits go.
pub fn is_snapshot_name(name: &str) -> bool {
    const SHAPE: &[u8] = b"@GMT-0000.00.00-00.00.00";
    name.len() == SHAPE.len()
        && name.bytes().zip(SHAPE).all(|(b, &s)| {
            if s == b'0' {
                b.is_ascii_digit()
            } else {
                b == s
            }
        })
}

/// The snapshot name of a FILETIME (100 ns units since 1601-01-01 UTC), to the second.
pub fn snapshot_name(filetime: u64) -> String {
    let (secs, _) = crate::filetime_to_unix(filetime);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "@GMT-{y:04}.{m:02}.{d:02}-{:02}.{:02}.{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// days-to-civil algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_snapshot_name("@GMT-2024.02.29-23.59.01"));
        assert!(!is_snapshot_name("@GMT-2024.02.29-23.59.0"));
        assert!(!is_snapshot_name("@GMT-2024/02.29-23.59.01"));
        assert!(!is_snapshot_name("../GMT-2024.02.29-23.59"));
        // 2024-02-29 23:59:01 UTC is Unix 1709251141.
        let ft = crate::unix_to_filetime(1_709_251_141, 500);
        assert_eq!(snapshot_name(ft), "@GMT-2024.02.29-23.59.01");
        assert_eq!(
            snapshot_name(crate::unix_to_filetime(0, 0)),
            "@GMT-1970.01.01-00.00.00"
        );
    }
}
