//! Who a secret belongs to, and how vault entries are named in the keyring.

use std::fmt;

use super::error::VaultError;

/// The one keyring "service" every Convene entry is filed under, so that a
/// keyring manager shows them together and they never mix with other apps'.
pub const SERVICE: &str = "Convene";

/// The entry holding the list of accounts that have secrets. It has no `.`,
/// so it can never collide with an account's entries (`{tid}.{oid}...`).
pub(crate) const ACCOUNTS_INDEX: &str = "accounts";

/// A signed-in user, keyed the way Entra keys users: tenant id (`tid`) plus
/// object id (`oid`). The UPN or e-mail can change; these two cannot.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountKey {
    pub tenant_id: String,
    pub object_id: String,
}

impl AccountKey {
    pub fn new(tenant_id: impl Into<String>, object_id: impl Into<String>) -> Self {
        Self {
            tenant_id: tenant_id.into(),
            object_id: object_id.into(),
        }
    }

    /// Both ids must be plain tokens (Entra ids are GUIDs), because they are
    /// spliced into keyring user names with `.`, `/` and `#` as separators.
    pub(crate) fn validate(&self) -> Result<(), VaultError> {
        let ok = |part: &str| {
            !part.is_empty()
                && part.len() <= 64
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if ok(&self.tenant_id) && ok(&self.object_id) {
            Ok(())
        } else {
            Err(VaultError::InvalidAccount(self.to_string()))
        }
    }

    /// The keyring user of this account's name index: `{tid}.{oid}`.
    pub(crate) fn index_user(&self) -> String {
        format!("{}.{}", self.tenant_id, self.object_id)
    }

    /// The keyring user of one secret: `{tid}.{oid}/{name}`.
    pub(crate) fn secret_user(&self, name: &str) -> String {
        format!("{}.{}/{}", self.tenant_id, self.object_id, name)
    }

    /// Parses a line of the accounts index back into a key.
    pub(crate) fn parse_index_line(line: &str) -> Option<Self> {
        let (tid, oid) = line.split_once('.')?;
        let key = Self::new(tid, oid);
        key.validate().ok().map(|()| key)
    }
}

impl fmt::Display for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.tenant_id, self.object_id)
    }
}

/// Secret names are short plain tokens (`refresh_token`, `acs.token`) so they
/// can sit in keyring user names and in the newline-separated index.
pub(crate) fn validate_name(name: &str) -> Result<(), VaultError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(VaultError::InvalidName(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_users_follow_the_documented_layout() {
        let key = AccountKey::new("tid-1", "oid-2");
        assert_eq!(key.index_user(), "tid-1.oid-2");
        assert_eq!(
            key.secret_user("refresh_token"),
            "tid-1.oid-2/refresh_token"
        );
        assert_eq!(AccountKey::parse_index_line("tid-1.oid-2"), Some(key));
    }

    #[test]
    fn separators_are_rejected_in_ids_and_names() {
        for bad in ["", "a.b", "a/b", "a#b", "a\nb"] {
            assert!(AccountKey::new(bad, "oid").validate().is_err(), "{bad:?}");
            assert!(AccountKey::new("tid", bad).validate().is_err(), "{bad:?}");
        }
        for bad in ["", "a/b", "a#b", "a\nb", "a b"] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
        assert!(validate_name("refresh_token.v2-x").is_ok());
    }
}
