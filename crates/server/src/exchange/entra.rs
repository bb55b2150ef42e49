//! Checks the caller's Entra-shaped access token, as ACS's exchange does:
//! signature (the authority's keys), audience, issuer, expiry, then that
//! the token may be exchanged here (app, user, tenant, scopes).

use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use uuid::Uuid;

use super::jwks::{JwksError, RemoteKeys};
use super::ExchangeError;
use crate::issuer::{Clock, DevIssuer};

/// The audience of tokens for Azure Communication Services.
pub const ACS_AUDIENCE: &str = "https://auth.msft.communication.azure.com";
/// Scopes the exchange requires, as `scp` names them.
pub const REQUIRED_SCOPES: [&str; 2] = ["Teams.ManageCalls", "Teams.ManageChats"];
/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: i64 = 120;

/// Whose keys sign the tokens we accept.
#[derive(Debug, Clone)]
pub enum Trust {
    /// `--dev`: our own dev issuer; its issuer URL is the base the client
    /// reached us by.
    Dev(Arc<DevIssuer>),
    /// Tenant mode: a remote authority.
    Authority(Arc<RemoteKeys>),
}

/// What the exchange checks tokens against.
#[derive(Debug, Clone)]
pub struct EntraValidator {
    pub trust: Trust,
    pub client_id: String,
    /// Empty: any tenant.
    pub allowed_tenants: Vec<Uuid>,
    pub clock: Clock,
}

/// Who a valid Entra token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraIdentity {
    pub oid: Uuid,
    pub tid: Uuid,
    /// Unix seconds.
    pub exp: i64,
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
    /// Checks `token` for an exchange by `app_id` for `user_id`. `base` is
    /// `http://{Host}` of the request (the dev issuer's issuer URL).
    pub async fn validate(
        &self,
        token: &str,
        app_id: &str,
        user_id: &str,
        base: Option<&str>,
    ) -> Result<EntraIdentity, ExchangeError> {
        let claims = self.verify(token, ACS_AUDIENCE, base).await?;
        let (tid, oid) = (claims.tid, claims.oid);
        if claims.app != self.client_id || app_id != self.client_id {
            return Err(ExchangeError::forbidden(format!(
                "The access token and appId must both be for this server's application \
                 ({}).",
                self.client_id
            )));
        }
        if Uuid::try_parse(user_id.trim()).ok() != Some(oid) {
            return Err(ExchangeError::forbidden(
                "userId is not the object id (oid) of the token's user.",
            ));
        }
        if !self.allowed_tenants.is_empty() && !self.allowed_tenants.contains(&tid) {
            return Err(ExchangeError::forbidden(format!(
                "The tenant {tid} is not allowed on this server."
            )));
        }
        let missing: Vec<&str> = REQUIRED_SCOPES
            .into_iter()
            .filter(|need| !claims.has_scope(need))
            .collect();
        if !missing.is_empty() {
            return Err(ExchangeError::forbidden(format!(
                "The access token lacks the scopes {}.",
                missing.join(", ")
            )));
        }
        Ok(EntraIdentity {
            oid,
            tid,
            exp: claims.exp,
        })
    }

    /// Checks what every API checks of an access token for `audience`:
    /// RS256 signature by a trusted key, `aud`, `iss`, `exp`/`nbf` (with
    /// [`LEEWAY_SECS`]), and that it names a user (`tid`, `oid`). Failures
    /// are 401 `InvalidAccessToken` (503 when keys cannot be had).
    pub async fn verify(
        &self,
        token: &str,
        audience: &str,
        base: Option<&str>,
    ) -> Result<VerifiedToken, ExchangeError> {
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
        validation.set_audience(&[audience]);
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
                        format!("The access token is not for {audience} (aud).")
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
