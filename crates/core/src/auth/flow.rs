//! One interactive sign-in, start to finish.

use std::future::Future;
use std::time::Duration;

use url::Url;

use super::discovery::ProviderMetadata;
use super::id_token::{self, Expected, IdTokenClaims, KeyCache};
use super::loopback::{Callback, LoopbackListener};
use super::pkce::{random_token, Pkce};
use super::token::{self, Grant, TokenResponse};
use super::{AuthError, ProviderError};

/// What to sign in to and with.
#[derive(Debug, Clone)]
pub struct SignInRequest {
    pub authority: Url,
    pub client_id: String,
    /// The authorize request's scopes: every resource the person consents
    /// to in this sign-in (plus `openid profile offline_access`).
    pub scopes: Vec<String>,
    /// The scopes the code is redeemed for: one resource, as Entra issues
    /// one access token per resource; the refresh token gets the others.
    pub token_scopes: Vec<String>,
    /// Tenants allowed to sign in; empty means any.
    pub allowed_tenants: Vec<String>,
    /// How long to wait for the browser.
    pub timeout: Duration,
    /// A hint for the account picker (`login_hint`), e.g. when signing in
    /// again to an account whose session ended.
    pub login_hint: Option<String>,
    /// Ask the browser to let the person choose an account
    /// (`prompt=select_account`), e.g. when adding a second one.
    pub select_account: bool,
}

/// A completed sign-in: who, and their first tokens.
#[derive(Debug)]
pub struct SignedIn {
    pub claims: IdTokenClaims,
    pub tokens: TokenResponse,
    pub metadata: ProviderMetadata,
}

/// Runs the authorization code flow with PKCE: discovery, a loopback
/// listener, the browser (through `open_browser`), the code exchange and
/// the ID token's validation. `cancel` ends it early (the person pressed
/// Cancel).
pub async fn sign_in(
    http: &reqwest::Client,
    request: &SignInRequest,
    open_browser: impl FnOnce(&Url) -> Result<(), AuthError>,
    cancel: impl Future<Output = ()>,
) -> Result<SignedIn, AuthError> {
    let metadata = ProviderMetadata::fetch(http, &request.authority).await?;
    let pkce = Pkce::generate();
    let state = random_token();
    let nonce = random_token();
    let listener = LoopbackListener::bind().await?;
    let redirect_uri = listener.redirect_uri().clone();
    let scopes = request.scopes.join(" ");

    let mut authorize = metadata.authorization_endpoint.clone();
    {
        let mut query = authorize.query_pairs_mut();
        query
            .append_pair("client_id", &request.client_id)
            .append_pair("response_type", "code")
            .append_pair("response_mode", "query")
            .append_pair("redirect_uri", redirect_uri.as_str())
            .append_pair("scope", &scopes)
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &pkce.challenge)
            .append_pair("code_challenge_method", "S256");
        if let Some(hint) = &request.login_hint {
            query.append_pair("login_hint", hint);
        }
        if request.select_account {
            query.append_pair("prompt", "select_account");
        }
    }
    open_browser(&authorize)?;
    tracing::info!(authority = %request.authority, "waiting for the browser sign-in");

    let callback = tokio::select! {
        callback = listener.receive() => callback?,
        _ = tokio::time::sleep(request.timeout) => return Err(AuthError::TimedOut),
        _ = cancel => return Err(AuthError::Cancelled),
    };
    let code = match callback {
        Callback::Code { code, state: got } if got == state => code,
        Callback::Code { .. } => return Err(AuthError::StateMismatch),
        Callback::Error {
            error, description, ..
        } => {
            return Err(AuthError::Provider(ProviderError {
                error,
                error_description: description,
                error_codes: Vec::new(),
                suberror: None,
            }))
        }
    };

    let tokens = token::request(
        http,
        &metadata.token_endpoint,
        &request.client_id,
        &request.token_scopes.join(" "),
        Grant::AuthorizationCode {
            code: &code,
            redirect_uri: &redirect_uri,
            verifier: &pkce.verifier,
        },
    )
    .await?;
    let id_token = tokens
        .id_token
        .as_ref()
        .ok_or_else(|| AuthError::InvalidIdToken("the provider sent no ID token".into()))?;
    let keys = KeyCache::new(http.clone(), metadata.jwks_uri.clone());
    let claims = id_token::validate(
        id_token.expose(),
        &keys,
        &Expected {
            metadata: &metadata,
            client_id: &request.client_id,
            nonce: &nonce,
            allowed_tenants: &request.allowed_tenants,
        },
    )
    .await?;
    tracing::info!(tenant = %claims.tid, "signed in");
    Ok(SignedIn {
        claims,
        tokens,
        metadata,
    })
}
