//! OpenID Connect discovery: where an authority's endpoints and keys are.

use serde::Deserialize;
use url::Url;

use super::AuthError;
use crate::http::get_json;

/// The parts of `/.well-known/openid-configuration` Convene uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProviderMetadata {
    /// For Entra's `common` and `organizations` this is the template
    /// `https://login.microsoftonline.com/{tenantid}/v2.0`.
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub jwks_uri: Url,
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
}

/// The placeholder Entra puts in the issuer of multi-tenant authorities.
pub const TENANT_ID_PLACEHOLDER: &str = "{tenantid}";

impl ProviderMetadata {
    pub async fn fetch(http: &reqwest::Client, authority: &Url) -> Result<Self, AuthError> {
        // `join` replaces the last segment unless the base ends with `/`.
        let mut base = authority.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let url = base
            .join(".well-known/openid-configuration")
            .map_err(|source| AuthError::Authority {
                authority: authority.to_string(),
                source,
            })?;
        let metadata: Self = get_json(http, url).await.map_err(AuthError::Discovery)?;
        // Entra does not always list S256, but requires it; an issuer that
        // lists methods without S256 would refuse ours.
        if !metadata.code_challenge_methods_supported.is_empty()
            && !metadata
                .code_challenge_methods_supported
                .iter()
                .any(|m| m == "S256")
        {
            return Err(AuthError::NoPkce);
        }
        Ok(metadata)
    }

    /// The issuer an ID token from tenant `tid` must carry.
    pub fn issuer_for_tenant(&self, tid: &str) -> String {
        self.issuer.replace(TENANT_ID_PLACEHOLDER, tid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entra_template_issuer_takes_the_tokens_tenant() {
        let metadata: ProviderMetadata = serde_json::from_value(serde_json::json!({
            "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
            "authorization_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
            "token_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
            "jwks_uri": "https://login.microsoftonline.com/common/discovery/v2.0/keys"
        }))
        .unwrap();
        assert_eq!(
            metadata.issuer_for_tenant("72f988bf-86f1-41af-91ab-2d7cd011db47"),
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"
        );
    }
}
