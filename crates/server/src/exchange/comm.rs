//! Communication tokens: what the exchange hands out, and what every later
//! API (signaling, presence) authenticates its caller with. RS256 JWTs
//! signed by the server's own key (`comm-key.pem`), which is independent of
//! the dev issuer so that tenant mode has one too.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::issuer::keys::SigningKey;
use crate::issuer::{Clock, KeyError, KeyStore};

/// File name of the communication-token key inside the data directory.
pub const COMM_KEY_FILE: &str = "comm-key.pem";
pub const COMM_ISSUER: &str = "convene-server";
pub const COMM_AUDIENCE: &str = "convene";
pub const COMM_SCOPE: &str = "chat voip";

/// The claims of a communication token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommClaims {
    /// The ACS raw id of a Teams user: `8:orgid:{oid}`.
    pub sub: String,
    pub oid: Uuid,
    pub tid: Uuid,
    pub iss: String,
    pub aud: String,
    pub scope: String,
    pub exp: i64,
    pub iat: i64,
}

/// Who a valid communication token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunicationIdentity {
    /// `8:orgid:{oid}`.
    pub raw_id: String,
    pub oid: Uuid,
    pub tid: Uuid,
    pub expires: SystemTime,
}

#[derive(Debug, thiserror::Error)]
pub enum CommTokenError {
    #[error("the communication token has expired")]
    Expired,
    #[error("the communication token is not valid: {0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("cannot sign the communication token")]
    Sign,
}

/// The ACS raw id of a Teams user.
pub fn raw_id(oid: Uuid) -> String {
    format!("8:orgid:{oid}")
}

/// Issues and verifies communication tokens.
#[derive(Debug)]
pub struct CommunicationTokens {
    keys: KeyStore,
    clock: Clock,
}

impl CommunicationTokens {
    /// Reads `comm-key.pem` from `data_dir`, or makes it on first use
    /// (lazily: making it takes seconds in a debug build).
    pub fn open(data_dir: &Path, clock: Clock) -> Result<Self, KeyError> {
        Ok(Self::new(
            KeyStore::open_named(data_dir, COMM_KEY_FILE, "communication token key")?,
            clock,
        ))
    }

    pub fn new(keys: KeyStore, clock: Clock) -> Self {
        Self { keys, clock }
    }

    async fn key(&self) -> Result<Arc<SigningKey>, KeyError> {
        self.keys.get().await
    }

    /// A token for `oid` in `tid` that expires at `exp` (Unix seconds): the
    /// Entra token's expiry, so that it never outlives the sign-in.
    pub async fn issue(&self, oid: Uuid, tid: Uuid, exp: i64) -> Result<String, CommTokenError> {
        let claims = CommClaims {
            sub: raw_id(oid),
            oid,
            tid,
            iss: COMM_ISSUER.to_owned(),
            aud: COMM_AUDIENCE.to_owned(),
            scope: COMM_SCOPE.to_owned(),
            exp,
            iat: self.clock.unix(),
        };
        self.key()
            .await?
            .sign(&claims)
            .map_err(|_| CommTokenError::Sign)
    }

    /// Checks a communication token (signature, issuer, audience, expiry,
    /// subject) and says whom it is for.
    pub async fn verify_communication_token(
        &self,
        token: &str,
    ) -> Result<CommunicationIdentity, CommTokenError> {
        let key = self.key().await?;
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| CommTokenError::Invalid("not a JWT"))?;
        if header.alg != Algorithm::RS256 || header.kid.as_deref() != Some(key.kid()) {
            return Err(CommTokenError::Invalid("not signed by this server"));
        }
        let jwk = key.jwk();
        let decoding = DecodingKey::from_rsa_components(&jwk.n, &jwk.e)
            .map_err(|_| CommTokenError::Invalid("unusable key"))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[COMM_AUDIENCE]);
        validation.set_issuer(&[COMM_ISSUER]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        // Expiry is checked below against the injectable clock.
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<CommClaims>(token, &decoding, &validation)
            .map_err(|error| {
                use jsonwebtoken::errors::ErrorKind;
                CommTokenError::Invalid(match error.kind() {
                    ErrorKind::InvalidSignature => "bad signature",
                    ErrorKind::InvalidAudience => "wrong audience",
                    ErrorKind::InvalidIssuer => "wrong issuer",
                    _ => "malformed",
                })
            })?
            .claims;
        if claims.exp <= self.clock.unix() {
            return Err(CommTokenError::Expired);
        }
        if claims.sub != raw_id(claims.oid) {
            return Err(CommTokenError::Invalid("subject and oid disagree"));
        }
        Ok(CommunicationIdentity {
            raw_id: claims.sub,
            oid: claims.oid,
            tid: claims.tid,
            expires: unix_to_system(claims.exp),
        })
    }
}

pub fn unix_to_system(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0))
}

/// RFC 3339 in UTC with a `Z`, as ACS writes `expiresOn`.
pub fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    const OID: Uuid = uuid::uuid!("00000000-a11c-4000-8000-000000000001");
    const TID: Uuid = crate::demo::DEMO_TENANT_ID;

    fn tokens_at(dir: &Path, now: Arc<AtomicI64>) -> CommunicationTokens {
        std::fs::write(dir.join(COMM_KEY_FILE), crate::issuer::keys::test_key_pem()).unwrap();
        let clock = Clock::from_fn(move || unix_to_system(now.load(Ordering::SeqCst)));
        CommunicationTokens::open(dir, clock).unwrap()
    }

    #[test]
    fn rfc3339_matches_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_767_225_600), "2026-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400 + 3_661), "2000-02-29T01:01:01Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[tokio::test]
    async fn an_issued_token_verifies_until_it_expires() {
        let dir = tempfile::tempdir().unwrap();
        let now = Arc::new(AtomicI64::new(1_767_225_600));
        let tokens = tokens_at(dir.path(), Arc::clone(&now));
        let token = tokens.issue(OID, TID, 1_767_229_200).await.unwrap();
        let identity = tokens.verify_communication_token(&token).await.unwrap();
        assert_eq!(
            identity,
            CommunicationIdentity {
                raw_id: format!("8:orgid:{OID}"),
                oid: OID,
                tid: TID,
                expires: unix_to_system(1_767_229_200),
            }
        );
        now.store(1_767_229_200, Ordering::SeqCst);
        assert!(matches!(
            tokens.verify_communication_token(&token).await,
            Err(CommTokenError::Expired)
        ));
    }

    #[tokio::test]
    async fn tampered_foreign_and_garbage_tokens_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let tokens = tokens_at(dir.path(), Arc::new(AtomicI64::new(1_000)));
        let token = tokens.issue(OID, TID, 5_000).await.unwrap();

        // Another subject in the payload, same signature.
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        let mut claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        claims["oid"] = "00000000-b0b0-4000-8000-000000000002".into();
        claims["sub"] = "8:orgid:00000000-b0b0-4000-8000-000000000002".into();
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        let tampered = parts.join(".");
        assert!(matches!(
            tokens.verify_communication_token(&tampered).await,
            Err(CommTokenError::Invalid("bad signature"))
        ));

        // Signed by the same key but for another audience.
        let key = tokens.key().await.unwrap();
        let mut foreign = serde_json::to_value(CommClaims {
            sub: raw_id(OID),
            oid: OID,
            tid: TID,
            iss: COMM_ISSUER.into(),
            aud: "someone-else".into(),
            scope: COMM_SCOPE.into(),
            exp: 5_000,
            iat: 1_000,
        })
        .unwrap();
        let wrong_aud = key.sign(&foreign).unwrap();
        assert!(matches!(
            tokens.verify_communication_token(&wrong_aud).await,
            Err(CommTokenError::Invalid("wrong audience"))
        ));
        foreign["aud"] = COMM_AUDIENCE.into();
        foreign["sub"] = "8:orgid:someone-else".into();
        let wrong_sub = key.sign(&foreign).unwrap();
        assert!(matches!(
            tokens.verify_communication_token(&wrong_sub).await,
            Err(CommTokenError::Invalid(_))
        ));

        assert!(tokens.verify_communication_token("garbage").await.is_err());
        let message = tokens
            .verify_communication_token(&tampered)
            .await
            .unwrap_err()
            .to_string();
        assert!(!message.contains(&parts[1]), "{message}");
    }
}
