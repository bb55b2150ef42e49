//! What the dev issuer remembers between requests: authorization codes and
//! refresh tokens. Only SHA-256 hashes of the secrets are stored, so a copy
//! of the database lets no one redeem them.

use uuid::Uuid;

use super::{Store, StoreError};

/// SHA-256 of a code or refresh token, as lowercase hex: the only form in
/// which the store ever sees one.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash(String);

impl SecretHash {
    pub fn of(secret: &str) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(secret.as_bytes());
        Self(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn from_stored(hex: String) -> Self {
        Self(hex)
    }
}

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A hash is not the secret, but there is no reason to print it.
        f.write_str("SecretHash(..)")
    }
}

/// An authorization code the issuer handed out, waiting to be redeemed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub code_hash: SecretHash,
    pub client_id: String,
    pub redirect_uri: String,
    /// PKCE S256 challenge: base64url(SHA-256(code_verifier)).
    pub code_challenge: String,
    /// The scope string of the authorization request, as given.
    pub scope: String,
    pub nonce: Option<String>,
    pub tenant_id: Uuid,
    pub object_id: Uuid,
    /// Unix seconds.
    pub issued_at: i64,
    pub expires_at: i64,
    /// Unix seconds; `None` until redeemed.
    pub redeemed_at: Option<i64>,
}

/// A refresh token. Each use rotates it: the old one is marked used and a
/// new one of the same family is stored. Using a used one again revokes the
/// whole family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub token_hash: SecretHash,
    /// Every token descended from one sign-in shares this id.
    pub family_id: Uuid,
    pub client_id: String,
    pub tenant_id: Uuid,
    pub object_id: Uuid,
    /// The scope string of the original authorization request.
    pub scope: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked: bool,
}

/// Seconds during which a just-used refresh token may be presented once
/// more. A client can be stopped after the issuer rotated its token and
/// before it stored the new one (a killed process, a dropped reply); a
/// short reuse interval (as Okta and Auth0 offer) keeps such a client
/// signed in, while a token replayed later, or after one of its successors
/// was used, still revokes the family.
pub const REFRESH_REUSE_GRACE_SECS: i64 = 30;

/// How [`crate::Store::rotate_refresh_token`] went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The old token is now used (or was used within the reuse grace);
    /// the new one is stored.
    Rotated,
    /// The old token was already used or revoked: nothing stored, and the
    /// family is revoked.
    Refused,
}

impl Store {
    /// Stores a new authorization code, and forgets codes that expired
    /// more than a day before `now`.
    pub async fn insert_authorization_code(
        &self,
        code: AuthorizationCode,
        now: i64,
    ) -> Result<(), StoreError> {
        self.backend.insert_authorization_code(code, now).await
    }

    /// The code with this hash, redeemed or not.
    pub async fn authorization_code(
        &self,
        code_hash: SecretHash,
    ) -> Result<Option<AuthorizationCode>, StoreError> {
        self.backend.authorization_code(code_hash).await
    }

    /// Marks the code redeemed at `now`. False if it was already redeemed
    /// (or is unknown): of two concurrent redemptions only one wins.
    pub async fn redeem_authorization_code(
        &self,
        code_hash: SecretHash,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.backend.redeem_authorization_code(code_hash, now).await
    }

    /// Stores the first refresh token of a family, and forgets refresh
    /// tokens that expired more than a day before `now`.
    pub async fn insert_refresh_token(
        &self,
        token: RefreshToken,
        now: i64,
    ) -> Result<(), StoreError> {
        self.backend.insert_refresh_token(token, now).await
    }

    /// The refresh token with this hash, used, revoked or not.
    pub async fn refresh_token(
        &self,
        token_hash: SecretHash,
    ) -> Result<Option<RefreshToken>, StoreError> {
        self.backend.refresh_token(token_hash).await
    }

    /// In one transaction: marks `old` used at `now` and stores `new`; or,
    /// if `old` was already used or revoked, revokes its whole family.
    pub async fn rotate_refresh_token(
        &self,
        old: SecretHash,
        new: RefreshToken,
        now: i64,
    ) -> Result<Rotation, StoreError> {
        self.backend.rotate_refresh_token(old, new, now).await
    }

    /// Revokes every refresh token of a family (a reused token's).
    pub async fn revoke_refresh_family(&self, family_id: Uuid) -> Result<(), StoreError> {
        self.backend.revoke_refresh_family(family_id).await
    }
}
