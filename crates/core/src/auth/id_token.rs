//! Checking an ID token before believing who signed in: signature (RS256
//! only, keys from the issuer's JWKS), issuer (with Entra's `{tenantid}`
//! template), audience, lifetime, nonce and tenant.

use std::collections::HashMap;

use jsonwebtoken::jwk::{JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::Mutex;
use url::Url;

use super::discovery::ProviderMetadata;
use super::AuthError;
use crate::http::get_json;

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECONDS: u64 = 120;

/// Who signed in, as the ID token says. Users are keyed by `tid` + `oid`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub tid: String,
    pub oid: String,
    #[serde(default)]
    pub preferred_username: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub nonce: Option<String>,
    pub exp: u64,
    /// One audience (a string) or several (an array).
    #[serde(default)]
    pub aud: serde_json::Value,
    /// The party the token was issued to; required when there are several
    /// audiences (OpenID Connect Core §3.1.3.7).
    #[serde(default)]
    pub azp: Option<String>,
}

/// The issuer's signing keys, fetched once and again only when a token
/// names a key id the cache does not know (keys rotate).
#[derive(Debug)]
pub struct KeyCache {
    http: reqwest::Client,
    jwks_uri: Url,
    keys: Mutex<HashMap<String, DecodingKey>>,
}

impl KeyCache {
    pub fn new(http: reqwest::Client, jwks_uri: Url) -> Self {
        Self {
            http,
            jwks_uri,
            keys: Mutex::new(HashMap::new()),
        }
    }

    async fn refresh(&self) -> Result<HashMap<String, DecodingKey>, AuthError> {
        let set: JwkSet = get_json(&self.http, self.jwks_uri.clone())
            .await
            .map_err(AuthError::Keys)?;
        Ok(set
            .keys
            .iter()
            // A key published for encryption is never trusted to sign.
            .filter(|jwk| {
                matches!(
                    jwk.common.public_key_use,
                    None | Some(PublicKeyUse::Signature)
                )
            })
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                DecodingKey::from_jwk(jwk).ok().map(|key| (kid, key))
            })
            .collect())
    }

    /// The key for `kid`, refetching the set at most once per call.
    pub async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        let mut keys = self.keys.lock().await;
        if let Some(key) = keys.get(kid) {
            return Ok(key.clone());
        }
        *keys = self.refresh().await?;
        keys.get(kid)
            .cloned()
            .ok_or_else(|| AuthError::InvalidIdToken(format!("signed with unknown key {kid:?}")))
    }
}

/// What an ID token must match.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    pub metadata: &'a ProviderMetadata,
    pub client_id: &'a str,
    pub nonce: &'a str,
    /// Tenants allowed to sign in; empty means any.
    pub allowed_tenants: &'a [String],
}

pub async fn validate(
    token: &str,
    keys: &KeyCache,
    expected: &Expected<'_>,
) -> Result<IdTokenClaims, AuthError> {
    let invalid = |why: String| AuthError::InvalidIdToken(why);
    // decode_header refuses `alg: none`, which jsonwebtoken does not model.
    let header = jsonwebtoken::decode_header(token).map_err(|e| invalid(e.to_string()))?;
    if header.alg != Algorithm::RS256 {
        return Err(invalid(format!("algorithm {:?} is not RS256", header.alg)));
    }
    let kid = header
        .kid
        .ok_or_else(|| invalid("no key id (kid)".into()))?;
    let key = keys.key(&kid).await?;

    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[expected.client_id]);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    let claims = jsonwebtoken::decode::<IdTokenClaims>(token, &key, &validation)
        .map_err(|e| invalid(e.to_string()))?
        .claims;

    // Checked here rather than by the library: for Entra's multi-tenant
    // authorities the issuer depends on the token's own tenant.
    let issuer = expected.metadata.issuer_for_tenant(&claims.tid);
    if claims.iss != issuer {
        return Err(invalid(format!(
            "issuer {:?} is not {:?}",
            claims.iss, issuer
        )));
    }
    let audiences = claims.aud.as_array().map_or(1, Vec::len);
    if audiences > 1 && claims.azp.as_deref() != Some(expected.client_id) {
        return Err(invalid(
            "several audiences but not issued to this app (azp)".into(),
        ));
    }
    if claims.nonce.as_deref() != Some(expected.nonce) {
        return Err(invalid("nonce does not match this sign-in".into()));
    }
    if !expected.allowed_tenants.is_empty()
        && !expected.allowed_tenants.iter().any(|t| t == &claims.tid)
    {
        return Err(AuthError::TenantNotAllowed {
            tenant: claims.tid.clone(),
        });
    }
    Ok(claims)
}
