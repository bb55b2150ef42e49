//! The signing keys of a remote OpenID authority (tenant mode): discovery
//! (`{authority}/.well-known/openid-configuration`) gives the issuer and
//! `jwks_uri`; the keys are cached, and fetched again when a token names a
//! key id we do not know (keys rotate), at most once per
//! [`MIN_REFETCH`] so that made-up key ids cannot make us hammer the
//! authority.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use tokio::sync::Mutex;
use url::Url;

pub const MIN_REFETCH: Duration = Duration::from_secs(10);
/// Even known keys are refreshed this often, so a revoked key goes away.
pub const MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, thiserror::Error)]
pub enum JwksError {
    #[error("cannot fetch the authority's OpenID metadata or keys: {0}")]
    Fetch(String),
    #[error("the token is signed with a key the authority does not list")]
    UnknownKey,
}

/// What discovery and the JWKS say.
#[derive(Clone)]
struct Cached {
    /// May hold `{tenantid}` (multi-tenant authorities).
    issuer: String,
    keys: HashMap<String, DecodingKey>,
    fetched: Instant,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: Url,
}

#[derive(Deserialize)]
struct KeySet {
    keys: Vec<serde_json::Value>,
}

/// A remote authority's issuer and keys.
pub struct RemoteKeys {
    metadata: Url,
    http: reqwest::Client,
    cache: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for RemoteKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteKeys")
            .field("metadata", &self.metadata.as_str())
            .finish_non_exhaustive()
    }
}

/// `{authority}/.well-known/openid-configuration`.
pub fn metadata_url(authority: &Url) -> Url {
    let mut url = authority.clone();
    let path = format!(
        "{}/.well-known/openid-configuration",
        authority.path().trim_end_matches('/')
    );
    url.set_path(&path);
    url.set_query(None);
    url
}

impl RemoteKeys {
    pub fn new(authority: &Url) -> Result<Self, reqwest::Error> {
        Ok(Self {
            metadata: metadata_url(authority),
            http: reqwest::Client::builder().timeout(FETCH_TIMEOUT).build()?,
            cache: Mutex::new(None),
        })
    }

    /// The key with id `kid` and the issuer (template) from discovery.
    pub async fn key(&self, kid: &str) -> Result<(DecodingKey, String), JwksError> {
        let mut cache = self.cache.lock().await;
        let stale = |c: &Cached| c.fetched.elapsed() >= MAX_AGE;
        if cache.as_ref().is_none_or(stale) {
            *cache = Some(self.fetch().await?);
        }
        let found = |c: &Cached| c.keys.get(kid).map(|k| (k.clone(), c.issuer.clone()));
        if let Some(hit) = cache.as_ref().and_then(found) {
            return Ok(hit);
        }
        let recent = cache
            .as_ref()
            .is_some_and(|c| c.fetched.elapsed() < MIN_REFETCH);
        if recent {
            return Err(JwksError::UnknownKey);
        }
        *cache = Some(self.fetch().await?);
        cache.as_ref().and_then(found).ok_or(JwksError::UnknownKey)
    }

    async fn fetch(&self) -> Result<Cached, JwksError> {
        let discovery: Discovery = self.get_json(self.metadata.clone()).await?;
        let set: KeySet = self.get_json(discovery.jwks_uri).await?;
        // Skip keys we cannot use (other types, no kid) rather than fail.
        let keys: HashMap<String, DecodingKey> = set
            .keys
            .into_iter()
            .filter_map(|value| serde_json::from_value::<Jwk>(value).ok())
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                DecodingKey::from_jwk(&jwk).ok().map(|key| (kid, key))
            })
            .collect();
        tracing::info!(
            metadata = %self.metadata,
            keys = keys.len(),
            "authority signing keys fetched"
        );
        Ok(Cached {
            issuer: discovery.issuer,
            keys,
            fetched: Instant::now(),
        })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: Url) -> Result<T, JwksError> {
        let fail = |what: String| {
            tracing::warn!(%url, "{what}");
            JwksError::Fetch(what)
        };
        let response = self
            .http
            .get(url.clone())
            .send()
            .await
            .map_err(|e| fail(format!("GET {url} failed: {e}")))?;
        if !response.status().is_success() {
            return Err(fail(format!("GET {url} answered {}", response.status())));
        }
        response
            .json()
            .await
            .map_err(|e| fail(format!("GET {url}: unreadable JSON: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_url_appends_the_well_known_path() {
        let cases = [
            (
                "https://login.microsoftonline.com/organizations/v2.0",
                "https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration",
            ),
            (
                "http://127.0.0.1:9/t/v2.0/",
                "http://127.0.0.1:9/t/v2.0/.well-known/openid-configuration",
            ),
        ];
        for (authority, metadata) in cases {
            assert_eq!(
                metadata_url(&Url::parse(authority).unwrap()).as_str(),
                metadata
            );
        }
    }
}
