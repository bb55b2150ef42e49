//! Checks the bearer tokens convene-server accepts: tokens for Convene's
//! own API (the app registration's exposed scope), from the trusted
//! authority, for an allowed tenant. Tokens for other services (Graph,
//! ACS) are never accepted: Microsoft's own APIs' tokens are not for third
//! parties to validate, and a server that took them would also be handed
//! them.

use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use uuid::Uuid;

use super::jwks::{JwksError, RemoteKeys};
use super::ExchangeError;
use crate::issuer::{Clock, DevIssuer};

/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: i64 = 120;
/// The permission Convene's app registration exposes unless configured
/// otherwise.
pub const DEFAULT_API_PERMISSION: &str = "Convene.Use";

/// Whose keys sign the tokens we accept.
#[derive(Debug, Clone)]
pub enum Trust {
    /// `--dev`: our own dev issuer; its issuer URL is the base the client
    /// reached us by.
    Dev(Arc<DevIssuer>),
    /// Tenant mode: a remote authority.
    Authority(Arc<RemoteKeys>),
}

/// Convene's own API as the app registration exposes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiScope {
    /// The identifier URI, e.g. `api://{client id}`: the audience of v1.0
    /// tokens (v2.0 tokens name the client id).
    pub uri: String,
    /// The delegated permission, e.g. `Convene.Use`, as `scp` names it.
    pub permission: String,
}

impl ApiScope {
    /// `api://{client id}/Convene.Use`, unless `scope` names another
    /// (`{identifier URI}/{permission}`).
    pub fn new(client_id: &str, scope: Option<&str>) -> Result<Self, String> {
        let default = format!("api://{client_id}/{DEFAULT_API_PERMISSION}");
        let scope = scope.unwrap_or(&default);
        match scope.rsplit_once('/') {
            Some((uri, permission)) if !uri.is_empty() && !permission.is_empty() && uri.contains("://") => {
                Ok(Self {
                    uri: uri.to_owned(),
                    permission: permission.to_owned(),
                })
            }
            _ => Err(format!(
                "the API scope {scope:?} is not {{identifier URI}}/{{permission}}, e.g. api://{client_id}/{DEFAULT_API_PERMISSION}"
            )),
        }
    }
}

/// What bearer tokens are checked against.
#[derive(Debug, Clone)]
pub struct EntraValidator {
    pub trust: Trust,
    pub client_id: String,
    pub api: ApiScope,
    /// Empty: any tenant.
    pub allowed_tenants: Vec<Uuid>,
    pub clock: Clock,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    tid: Option<Uuid>,
    oid: Option<Uuid>,
    appid: Option<String>,
    azp: Option<String>,
    scp: Option<String>,
    exp: i64,
    nbf: Option<i64>,
    name: Option<String>,
    preferred_username: Option<String>,
}

/// The claims of an access token that passed [`EntraValidator::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub oid: Uuid,
    pub tid: Uuid,
    /// Unix seconds.
    pub exp: i64,
    /// `appid` (v1.0) or `azp` (v2.0); empty if neither.
    pub app: String,
    /// Space-separated permission names; empty if none.
    pub scp: String,
    pub name: Option<String>,
    pub preferred_username: Option<String>,
}

impl VerifiedToken {
    /// Whether `scp` names `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scp.split(' ').any(|s| s == scope)
    }
}

impl EntraValidator {
    /// Checks a bearer token for Convene's own API: what [`verify`]
    /// checks, with this app's audience (its client id, or its identifier
    /// URI), then that it was issued to this app (`azp`/`appid`), carries
    /// the API's permission, and comes from an allowed tenant (403
    /// `Forbidden` for those). `base` is `http://{Host}` of the request
    /// (the dev issuer's issuer URL).
    ///
    /// [`verify`]: EntraValidator::verify
    pub async fn verify_api_token(
        &self,
        token: &str,
        base: Option<&str>,
    ) -> Result<VerifiedToken, ExchangeError> {
        let audiences = [self.client_id.as_str(), self.api.uri.as_str()];
        let claims = self.verify(token, &audiences, base).await?;
        if claims.app != self.client_id {
            return Err(ExchangeError::forbidden(format!(
                "The access token was issued to another application, not this server's ({}).",
                self.client_id
            )));
        }
        if !self.allowed_tenants.is_empty() && !self.allowed_tenants.contains(&claims.tid) {
            return Err(ExchangeError::forbidden(format!(
                "Your organisation (tenant {}) is not allowed on this Convene server.",
                claims.tid
            )));
        }
        if !claims.has_scope(&self.api.permission) {
            return Err(ExchangeError::forbidden(format!(
                "The access token lacks the permission {}.",
                self.api.permission
            )));
        }
        Ok(claims)
    }

    /// Checks what every API checks of an access token for one of
    /// `audiences`: RS256 signature by a trusted key, `aud`, `iss`,
    /// `exp`/`nbf` (with [`LEEWAY_SECS`]), and that it names a user (`tid`,
    /// `oid`). Failures are 401 `InvalidAccessToken` (503 when keys cannot
    /// be had).
    pub async fn verify(
        &self,
        token: &str,
        audiences: &[&str],
        base: Option<&str>,
    ) -> Result<VerifiedToken, ExchangeError> {
        log_audience(token);
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| ExchangeError::invalid_token("The access token is not a JWT."))?;
        if header.alg != Algorithm::RS256 {
            return Err(ExchangeError::invalid_token(
                "The access token must be signed with RS256.",
            ));
        }
        let kid = header.kid.ok_or_else(|| {
            ExchangeError::invalid_token("The access token names no signing key (kid).")
        })?;
        let (key, issuer_template) = self.key(&kid, base).await?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(audiences);
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        // Times are checked below against the injectable clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|error| {
                ExchangeError::invalid_token(match error.kind() {
                    ErrorKind::InvalidSignature => {
                        "The access token's signature is not valid.".to_owned()
                    }
                    ErrorKind::InvalidAudience => {
                        "The access token is not for this server (aud): Convene accepts only \
                         tokens for its own API."
                            .to_owned()
                    }
                    ErrorKind::MissingRequiredClaim(_) => {
                        "The access token lacks exp, aud or iss.".to_owned()
                    }
                    _ => "The access token is malformed.".to_owned(),
                })
            })?
            .claims;

        let now = self.clock.unix();
        if claims.exp + LEEWAY_SECS <= now {
            return Err(ExchangeError::invalid_token(
                "The access token has expired.",
            ));
        }
        if claims.nbf.is_some_and(|nbf| nbf - LEEWAY_SECS > now) {
            return Err(ExchangeError::invalid_token(
                "The access token is not valid yet (nbf).",
            ));
        }
        let (Some(tid), Some(oid)) = (claims.tid, claims.oid) else {
            return Err(ExchangeError::invalid_token(
                "The access token lacks the tid or oid claim.",
            ));
        };
        if !issuer_matches(&issuer_template, &claims.iss, tid) {
            return Err(ExchangeError::invalid_token(
                "The access token was not issued by the trusted authority (iss).",
            ));
        }
        Ok(VerifiedToken {
            oid,
            tid,
            exp: claims.exp,
            app: claims.appid.or(claims.azp).unwrap_or_default(),
            scp: claims.scp.unwrap_or_default(),
            name: claims.name,
            preferred_username: claims.preferred_username,
        })
    }

    /// The key for `kid` and the issuer the token must name (`{tenantid}`
    /// standing for its `tid`).
    async fn key(
        &self,
        kid: &str,
        base: Option<&str>,
    ) -> Result<(DecodingKey, String), ExchangeError> {
        match &self.trust {
            Trust::Dev(issuer) => {
                let key = issuer.signing_key().await.map_err(|error| {
                    tracing::error!(%error, "exchange: no dev issuer key");
                    ExchangeError::unavailable("The dev issuer's key is not available.")
                })?;
                if key.kid() != kid {
                    return Err(unknown_key());
                }
                let jwk = key.jwk();
                let decoding = DecodingKey::from_rsa_components(&jwk.n, &jwk.e).map_err(|_| {
                    ExchangeError::unavailable("The dev issuer's key is not usable.")
                })?;
                let base = base.ok_or_else(|| {
                    ExchangeError::bad_request("The request must carry a valid Host header.")
                })?;
                Ok((decoding, format!("{base}/{{tenantid}}/v2.0")))
            }
            Trust::Authority(remote) => remote.key(kid).await.map_err(|error| match error {
                JwksError::UnknownKey => unknown_key(),
                JwksError::Fetch(_) => ExchangeError::unavailable(
                    "Cannot fetch the signing keys of the trusted authority; try again later.",
                ),
            }),
        }
    }
}

/// Logs (at debug, target `convene_server::bearer`) the audience of every
/// bearer token presented, before any check: what an operator, or a test,
/// reads to be sure no token for another service ever reaches the server.
fn log_audience(token: &str) {
    use base64::Engine as _;
    let audience = token
        .split('.')
        .nth(1)
        .and_then(|payload| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .ok()
        })
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        .map(|claims| claims["aud"].to_string())
        .unwrap_or_else(|| "<unreadable>".to_owned());
    tracing::debug!(target: "convene_server::bearer", %audience, "bearer token presented");
}

fn unknown_key() -> ExchangeError {
    ExchangeError::invalid_token(
        "The access token is signed with a key the authority does not list.",
    )
}

/// `iss` must be the authority's issuer with `{tenantid}` replaced by the
/// token's `tid`. For Microsoft's own authority, v1.0 tokens (which ACS
/// audience tokens often are) name `https://sts.windows.net/{tid}/`.
pub fn issuer_matches(template: &str, iss: &str, tid: Uuid) -> bool {
    let tid = tid.to_string();
    if iss == template.replace("{tenantid}", &tid) {
        return true;
    }
    template.starts_with("https://login.microsoftonline.com/")
        && iss == format!("https://sts.windows.net/{tid}/")
}
