//! GUIDs as they appear in object ACEs (MS-DTYP 2.3.4).

use std::fmt;
use std::str::FromStr;

/// A GUID in its wire form: `Data1`, `Data2` and `Data3` little-endian, then eight bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Guid(pub [u8; 16]);

/// The text was not of the form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuidParseError;

impl fmt::Display for GuidParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GUID text is not of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
    }
}

impl std::error::Error for GuidParseError {}

impl fmt::Display for Guid {
    /// Lower-case, without braces, as SDDL prints it (MS-DTYP 2.3.4.3).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-",
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u16::from_le_bytes([b[4], b[5]]),
            u16::from_le_bytes([b[6], b[7]]),
            b[8],
            b[9]
        )?;
        for x in &b[10..] {
            write!(f, "{x:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Guid {
    type Err = GuidParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let groups: Vec<&str> = s.split('-').collect();
        let lens = [8, 4, 4, 4, 12];
        if groups.len() != 5
            || groups
                .iter()
                .zip(lens)
                .any(|(g, l)| g.len() != l || !g.bytes().all(|c| c.is_ascii_hexdigit()))
        {
            return Err(GuidParseError);
        }
        let hex = |t: &str| u64::from_str_radix(t, 16).map_err(|_| GuidParseError);
        let mut out = [0u8; 16];
        out[..4].copy_from_slice(&(hex(groups[0])? as u32).to_le_bytes());
        out[4..6].copy_from_slice(&(hex(groups[1])? as u16).to_le_bytes());
        out[6..8].copy_from_slice(&(hex(groups[2])? as u16).to_le_bytes());
        out[8..10].copy_from_slice(&(hex(groups[3])? as u16).to_be_bytes());
        out[10..].copy_from_slice(&hex(groups[4])?.to_be_bytes()[2..]);
        Ok(Self(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip_and_wire_order() {
        // The User class schemaIDGUID, a GUID that appears in countless AD SDDL strings.
        let g: Guid = "bf967aba-0de6-11d0-a285-00aa003049e2".parse().unwrap();
        assert_eq!(
            g.0,
            [
                0xba, 0x7a, 0x96, 0xbf, 0xe6, 0x0d, 0xd0, 0x11, 0xa2, 0x85, 0x00, 0xaa, 0x00, 0x30,
                0x49, 0xe2
            ]
        );
        assert_eq!(g.to_string(), "bf967aba-0de6-11d0-a285-00aa003049e2");
        assert_eq!(
            "BF967ABA-0DE6-11D0-A285-00AA003049E2".parse::<Guid>(),
            Ok(g)
        );
        assert!(
            "bf967aba-0de6-11d0-a285-00aa003049e"
                .parse::<Guid>()
                .is_err()
        );
        assert!(
            "+f967aba-0de6-11d0-a285-00aa003049e2"
                .parse::<Guid>()
                .is_err()
        );
    }
}
