//! Security identifiers (MS-DTYP 2.4.2).

use std::fmt;
use std::str::FromStr;

/// Maximum number of sub-authorities a SID may carry (MS-DTYP 2.4.2.2).
pub(crate) const MAX_SUB_AUTHORITIES: usize = 15;

/// A security identifier: revision 1, a 48-bit identifier authority and up to 15 sub-authorities.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid {
    authority: u64,
    subs: Vec<u32>,
}

/// Why a SID could not be parsed from text or bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SidParseError {
    /// The text does not follow `S-1-<authority>-<sub>...`.
    Syntax,
    /// The revision is not 1.
    Revision,
    /// More than 15 sub-authorities, or fewer bytes than the count announces.
    Length,
}

impl fmt::Display for SidParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Syntax => "SID text is not of the form S-1-<authority>-<sub>...",
            Self::Revision => "SID revision is not 1",
            Self::Length => "SID sub-authority count or length is invalid",
        })
    }
}

impl std::error::Error for SidParseError {}

impl Sid {
    /// Builds a SID from its identifier authority and sub-authorities.
    ///
    /// Panics if more than 15 sub-authorities are given (a programming error, not input).
    pub fn new(authority: u64, subs: &[u32]) -> Self {
        assert!(
            subs.len() <= MAX_SUB_AUTHORITIES,
            "too many sub-authorities"
        );
        Self {
            authority: authority & 0xFFFF_FFFF_FFFF,
            subs: subs.to_vec(),
        }
    }

    /// The 48-bit identifier authority.
    pub fn authority(&self) -> u64 {
        self.authority
    }

    /// The sub-authorities, the last being the RID.
    pub fn sub_authorities(&self) -> &[u32] {
        &self.subs
    }

    /// The relative identifier (last sub-authority), if any.
    pub fn rid(&self) -> Option<u32> {
        self.subs.last().copied()
    }

    /// A new SID made of this one (a domain) followed by `rid`.
    pub fn with_rid(&self, rid: u32) -> Result<Self, SidParseError> {
        if self.subs.len() >= MAX_SUB_AUTHORITIES {
            return Err(SidParseError::Length);
        }
        let mut subs = self.subs.clone();
        subs.push(rid);
        Ok(Self {
            authority: self.authority,
            subs,
        })
    }

    /// Length of the binary form in bytes.
    pub fn binary_len(&self) -> usize {
        8 + 4 * self.subs.len()
    }

    /// Appends the binary form (MS-DTYP 2.4.2.2) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(1);
        out.push(self.subs.len() as u8);
        out.extend_from_slice(&self.authority.to_be_bytes()[2..]);
        for s in &self.subs {
            out.extend_from_slice(&s.to_le_bytes());
        }
    }

    /// Parses the binary form from the start of `data`, returning the SID and the bytes used.
    pub fn decode(data: &[u8]) -> Result<(Self, usize), SidParseError> {
        if data.len() < 8 {
            return Err(SidParseError::Length);
        }
        if data[0] != 1 {
            return Err(SidParseError::Revision);
        }
        let count = data[1] as usize;
        if count > MAX_SUB_AUTHORITIES {
            return Err(SidParseError::Length);
        }
        let len = 8 + 4 * count;
        if data.len() < len {
            return Err(SidParseError::Length);
        }
        let mut auth = [0u8; 8];
        auth[2..].copy_from_slice(&data[2..8]);
        let subs = data[8..len]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Ok((
            Self {
                authority: u64::from_be_bytes(auth),
                subs,
            },
            len,
        ))
    }

    /// Everyone (S-1-1-0).
    pub fn everyone() -> Self {
        Self::new(1, &[0])
    }

    /// NT AUTHORITY\Authenticated Users (S-1-5-11).
    pub fn authenticated_users() -> Self {
        Self::new(5, &[11])
    }

    /// NT AUTHORITY\NETWORK (S-1-5-2).
    pub fn network() -> Self {
        Self::new(5, &[2])
    }

    /// NT AUTHORITY\This Organization (S-1-5-15).
    pub fn this_organization() -> Self {
        Self::new(5, &[15])
    }

    /// BUILTIN\Administrators (S-1-5-32-544).
    pub fn builtin_administrators() -> Self {
        Self::new(5, &[32, 544])
    }

    /// BUILTIN\Users (S-1-5-32-545).
    pub fn builtin_users() -> Self {
        Self::new(5, &[32, 545])
    }

    /// NT AUTHORITY\ANONYMOUS LOGON (S-1-5-7).
    pub fn anonymous() -> Self {
        Self::new(5, &[7])
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.authority >= 1 << 32 {
            write!(f, "S-1-0x{:012X}", self.authority)?;
        } else {
            write!(f, "S-1-{}", self.authority)?;
        }
        for s in &self.subs {
            write!(f, "-{s}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Sid {
    type Err = SidParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split('-');
        if !parts.next().is_some_and(|p| p.eq_ignore_ascii_case("S")) {
            return Err(SidParseError::Syntax);
        }
        if parts.next() != Some("1") {
            return Err(SidParseError::Revision);
        }
        let auth_text = parts.next().ok_or(SidParseError::Syntax)?;
        let authority = match auth_text
            .strip_prefix("0x")
            .or_else(|| auth_text.strip_prefix("0X"))
        {
            Some(hex) => u64::from_str_radix(hex, 16).map_err(|_| SidParseError::Syntax)?,
            None => auth_text
                .parse::<u64>()
                .map_err(|_| SidParseError::Syntax)?,
        };
        if authority >= 1 << 48 {
            return Err(SidParseError::Syntax);
        }
        let mut subs = Vec::new();
        for p in parts {
            if subs.len() == MAX_SUB_AUTHORITIES {
                return Err(SidParseError::Length);
            }
            subs.push(p.parse::<u32>().map_err(|_| SidParseError::Syntax)?);
        }
        Ok(Self { authority, subs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_binary_round_trip() {
        let sid: Sid = "S-1-5-21-1004336348-1177238915-682003330-512"
            .parse()
            .unwrap();
        assert_eq!(
            sid.to_string(),
            "S-1-5-21-1004336348-1177238915-682003330-512"
        );
        let mut bin = Vec::new();
        sid.encode(&mut bin);
        assert_eq!(bin.len(), sid.binary_len());
        let (back, used) = Sid::decode(&bin).unwrap();
        assert_eq!(back, sid);
        assert_eq!(used, bin.len());
        assert_eq!(sid.rid(), Some(512));
    }

    #[test]
    fn rejects_bad_input() {
        assert!("S-2-5".parse::<Sid>().is_err());
        assert!("X-1-5".parse::<Sid>().is_err());
        assert!("S-1-5-x".parse::<Sid>().is_err());
        assert_eq!(
            Sid::decode(&[1, 16, 0, 0, 0, 0, 0, 5]),
            Err(SidParseError::Length)
        );
        assert_eq!(
            Sid::decode(&[1, 1, 0, 0, 0, 0, 0, 5]),
            Err(SidParseError::Length)
        );
    }
}
