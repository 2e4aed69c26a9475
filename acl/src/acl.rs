//! Access control lists (MS-DTYP 2.4.5).

use crate::ace::{Ace, AceError};

/// ACL_REVISION: ACLs with only the basic ACE types.
pub const ACL_REVISION: u8 = 2;
/// ACL_REVISION_DS: ACLs that may hold object ACEs.
pub const ACL_REVISION_DS: u8 = 4;

/// An ACL: its revision and its ACEs in stored order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Acl {
    /// AclRevision (2, or 4 when object ACEs are present); kept as read.
    pub revision: u8,
    /// The ACEs, in order.
    pub aces: Vec<Ace>,
}

/// Why an ACL could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AclError {
    /// Fewer than the 8 header bytes.
    TruncatedHeader,
    /// AclRevision is neither 2 nor 4.
    Revision(u8),
    /// AclSize is below 8 or runs past the buffer.
    BadSize(u16),
    /// AceCount ACEs do not fit in AclSize.
    TooManyAces(u16),
    /// An ACE inside is malformed.
    Ace {
        /// Position of the ACE in the list.
        index: u16,
        /// What was wrong with it.
        error: AceError,
    },
    /// The encoded ACL would exceed 65535 bytes or 65535 ACEs.
    TooLarge,
}

impl std::fmt::Display for AclError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TruncatedHeader => f.write_str("ACL header truncated"),
            Self::Revision(r) => write!(f, "ACL revision {r} is not 2, 3 or 4"),
            Self::BadSize(s) => write!(f, "ACL size {s} is invalid"),
            Self::TooManyAces(n) => write!(f, "{n} ACEs do not fit in the ACL size"),
            Self::Ace { index, error } => write!(f, "ACE {index}: {error}"),
            Self::TooLarge => f.write_str("ACL too large to encode"),
        }
    }
}

impl std::error::Error for AclError {}

impl Default for Acl {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl Acl {
    /// An ACL holding `aces`, with revision 4 if any is an object ACE and 2 otherwise.
    pub fn new(aces: Vec<Ace>) -> Self {
        let revision = if aces.iter().any(|a| a.kind.is_object()) {
            ACL_REVISION_DS
        } else {
            ACL_REVISION
        };
        Self { revision, aces }
    }

    /// Length of the binary form.
    pub fn binary_len(&self) -> usize {
        8 + self.aces.iter().map(Ace::binary_len).sum::<usize>()
    }

    /// Appends the binary form; fails if AclSize, AceCount or an AceSize would overflow.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), AclError> {
        let size = u16::try_from(self.binary_len()).map_err(|_| AclError::TooLarge)?;
        let count = u16::try_from(self.aces.len()).map_err(|_| AclError::TooLarge)?;
        out.push(self.revision);
        out.push(0);
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        for ace in &self.aces {
            ace.encode(out);
        }
        Ok(())
    }

    /// Decodes an ACL at the start of `data`. Bytes after the last ACE inside AclSize are
    /// ignored (encoding writes the canonical, tight size).
    pub fn decode(data: &[u8]) -> Result<Self, AclError> {
        let h = data.get(..8).ok_or(AclError::TruncatedHeader)?;
        let revision = h[0];
        // Windows accepts revisions 2 to 4 (ACL_REVISION3 included; smbcacls sends it).
        if !(ACL_REVISION..=ACL_REVISION_DS).contains(&revision) {
            return Err(AclError::Revision(revision));
        }
        let size = u16::from_le_bytes([h[2], h[3]]);
        let count = u16::from_le_bytes([h[4], h[5]]);
        let body = data
            .get(8..usize::from(size))
            .ok_or(AclError::BadSize(size))?;
        // Each ACE takes at least 8 bytes: check before reserving room for them.
        if usize::from(count) * 8 > body.len() {
            return Err(AclError::TooManyAces(count));
        }
        let mut aces = Vec::with_capacity(usize::from(count));
        let mut pos = 0usize;
        for index in 0..count {
            let rest = body.get(pos..).ok_or(AclError::TooManyAces(count))?;
            let (ace, used) = Ace::decode(rest).map_err(|error| AclError::Ace { index, error })?;
            aces.push(ace);
            pos += used;
        }
        Ok(Self { revision, aces })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Sid;

    #[test]
    fn round_trip_and_header() {
        let acl = Acl::new(vec![
            Ace::allow(0, 0x1F_01FF, Sid::builtin_administrators()),
            Ace::deny(0, 0x1, Sid::everyone()),
        ]);
        let mut out = Vec::new();
        acl.encode(&mut out).unwrap();
        assert_eq!(&out[..8], &[2, 0, 52, 0, 2, 0, 0, 0]);
        assert_eq!(out.len(), 52);
        assert_eq!(Acl::decode(&out), Ok(acl));
    }

    #[test]
    fn rejects_bad_headers() {
        assert_eq!(Acl::decode(&[2, 0, 8, 0]), Err(AclError::TruncatedHeader));
        assert_eq!(
            Acl::decode(&[5, 0, 8, 0, 0, 0, 0, 0]),
            Err(AclError::Revision(5))
        );
        // ACL_REVISION3 is accepted as Windows does (smbcacls sends it).
        assert!(Acl::decode(&[3, 0, 8, 0, 0, 0, 0, 0]).is_ok());
        assert_eq!(
            Acl::decode(&[2, 0, 9, 0, 0, 0, 0, 0]),
            Err(AclError::BadSize(9))
        );
        assert_eq!(
            Acl::decode(&[2, 0, 4, 0, 0, 0, 0, 0]),
            Err(AclError::BadSize(4))
        );
        assert_eq!(
            Acl::decode(&[2, 0, 8, 0, 0xFF, 0xFF, 0, 0]),
            Err(AclError::TooManyAces(0xFFFF))
        );
        let mut two = vec![2, 0, 16, 0, 2, 0, 0, 0];
        two.extend_from_slice(&[0, 0, 8, 0, 0, 0, 0, 0]);
        assert!(matches!(
            Acl::decode(&two),
            Err(AclError::TooManyAces(2) | AclError::Ace { .. })
        ));
    }
}
