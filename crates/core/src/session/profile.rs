//! What Convene remembers about a signed-in account besides its secrets.

use serde::{Deserialize, Serialize};

use crate::auth::IdTokenClaims;
use crate::vault::AccountKey;

/// Who an account is. Not secret, but kept in the vault beside the
/// account's tokens so the two cannot drift apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AccountProfile {
    pub tenant_id: String,
    /// Entra object id (`oid`): how Convene addresses the user.
    pub user_id: String,
    /// Sign-in name (`preferred_username`), usually the e-mail address.
    pub username: String,
    /// Display name.
    pub name: String,
    /// The authority the account signed in with.
    pub authority: String,
}

impl AccountProfile {
    pub fn from_claims(claims: &IdTokenClaims, authority: &url::Url) -> Self {
        Self {
            tenant_id: claims.tid.clone(),
            user_id: claims.oid.clone(),
            username: claims.preferred_username.clone().unwrap_or_default(),
            name: claims
                .name
                .clone()
                .or_else(|| claims.preferred_username.clone())
                .unwrap_or_default(),
            authority: authority.to_string(),
        }
    }

    pub fn key(&self) -> AccountKey {
        AccountKey::new(&self.tenant_id, &self.user_id)
    }

    /// The address calls and chats use: ACS's raw id for a Teams user.
    pub fn communication_id(&self) -> String {
        format!("8:orgid:{}", self.user_id)
    }
}
