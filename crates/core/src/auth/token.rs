//! The token endpoint: a code for tokens, a refresh token for new tokens.

use serde::Deserialize;
use url::Url;

use super::{AuthError, ProviderError};
use crate::http::{self, HttpError};
use crate::Secret;

/// A successful token response (RFC 6749 §5.1, with Entra's `id_token`).
#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    #[serde(default)]
    pub token_type: String,
    /// Space-separated scopes granted.
    #[serde(default)]
    pub scope: String,
    #[serde(deserialize_with = "number_or_string")]
    pub expires_in: u64,
    pub access_token: Secret,
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    #[serde(default)]
    pub id_token: Option<Secret>,
}

pub enum Grant<'a> {
    AuthorizationCode {
        code: &'a str,
        redirect_uri: &'a Url,
        verifier: &'a Secret,
    },
    RefreshToken {
        refresh_token: &'a Secret,
    },
}

pub async fn request(
    http: &reqwest::Client,
    token_endpoint: &Url,
    client_id: &str,
    scopes: &str,
    grant: Grant<'_>,
) -> Result<TokenResponse, AuthError> {
    let mut form: Vec<(&str, &str)> = vec![("client_id", client_id), ("scope", scopes)];
    match &grant {
        Grant::AuthorizationCode {
            code,
            redirect_uri,
            verifier,
        } => form.extend([
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", verifier.expose()),
        ]),
        Grant::RefreshToken { refresh_token } => form.extend([
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ]),
    }
    let response = http
        .post(token_endpoint.clone())
        .form(&form)
        .send()
        .await
        .map_err(|source| AuthError::Unreachable {
            url: token_endpoint.to_string(),
            source,
        })?;
    match http::json_body::<TokenResponse>(response).await {
        Ok(tokens) => Ok(tokens),
        Err(HttpError::Status { status, body, .. }) if (400..500).contains(&status) => {
            Err(match serde_json::from_str::<ProviderError>(&body) {
                Ok(error) => AuthError::Provider(error),
                Err(_) => AuthError::NoOAuthError {
                    url: token_endpoint.to_string(),
                    status,
                },
            })
        }
        Err(e) => Err(AuthError::Token(e)),
    }
}

/// Entra's v2 endpoint sends `expires_in` as a number, older endpoints and
/// some providers as a string.
fn number_or_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Value {
        Number(u64),
        Text(String),
    }
    match Value::deserialize(deserializer)? {
        Value::Number(n) => Ok(n),
        Value::Text(t) => t
            .parse()
            .map_err(|_| serde::de::Error::custom("expires_in is not a number of seconds")),
    }
}
