//! Access tokens: the identity a session acts as (MS-DTYP 2.5.2).

use crate::Sid;

/// SE_GROUP_* attribute bits of a token group (MS-PAC 2.2.1, MS-DTYP 2.5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct GroupAttributes(pub u32);

impl GroupAttributes {
    /// SE_GROUP_MANDATORY.
    pub const MANDATORY: u32 = 0x0000_0001;
    /// SE_GROUP_ENABLED_BY_DEFAULT.
    pub const ENABLED_BY_DEFAULT: u32 = 0x0000_0002;
    /// SE_GROUP_ENABLED.
    pub const ENABLED: u32 = 0x0000_0004;
    /// SE_GROUP_OWNER.
    pub const OWNER: u32 = 0x0000_0008;
    /// SE_GROUP_USE_FOR_DENY_ONLY: the group matches deny ACEs only.
    pub const USE_FOR_DENY_ONLY: u32 = 0x0000_0010;
    /// SE_GROUP_RESOURCE.
    pub const RESOURCE: u32 = 0x2000_0000;
    /// The attributes Windows gives an ordinary enabled group.
    pub const DEFAULT: Self = Self(Self::MANDATORY | Self::ENABLED_BY_DEFAULT | Self::ENABLED);

    /// Whether the group takes part in access checks.
    pub fn is_enabled(self) -> bool {
        self.0 & Self::ENABLED != 0
    }
}

/// One group SID in a token, with its attributes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenGroup {
    /// The group's SID.
    pub sid: Sid,
    /// SE_GROUP_* attributes.
    pub attributes: GroupAttributes,
}

/// A session's identity: the user SID and its group SIDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The user's SID.
    pub user: Sid,
    /// Group SIDs, in the order they were gathered.
    pub groups: Vec<TokenGroup>,
}

impl Token {
    /// A token for `user` with the given groups and the well-known SIDs of a network logon
    /// (Everyone, Authenticated Users, NETWORK, This Organization) added where missing.
    pub fn network_logon(user: Sid, groups: Vec<TokenGroup>) -> Self {
        let mut token = Self { user, groups };
        for sid in [
            Sid::everyone(),
            Sid::authenticated_users(),
            Sid::network(),
            Sid::this_organization(),
        ] {
            token.add_group(sid, GroupAttributes::DEFAULT);
        }
        token
    }

    /// Adds a group unless the token already holds that SID.
    pub fn add_group(&mut self, sid: Sid, attributes: GroupAttributes) {
        if !self.groups.iter().any(|g| g.sid == sid) {
            self.groups.push(TokenGroup { sid, attributes });
        }
    }

    /// Whether the SID is the user or an enabled group of this token.
    pub fn contains(&self, sid: &Sid) -> bool {
        &self.user == sid
            || self
                .groups
                .iter()
                .any(|g| &g.sid == sid && g.attributes.is_enabled())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_logon_adds_well_known_groups_once() {
        let user: Sid = "S-1-5-21-1-2-3-1001".parse().unwrap();
        let t = Token::network_logon(
            user.clone(),
            vec![TokenGroup {
                sid: Sid::everyone(),
                attributes: GroupAttributes::DEFAULT,
            }],
        );
        assert_eq!(t.groups.len(), 4);
        assert!(t.contains(&user));
        assert!(t.contains(&Sid::authenticated_users()));
        assert!(!t.contains(&Sid::builtin_administrators()));
    }
}
