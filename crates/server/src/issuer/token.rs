//! `POST /{tenant}/oauth2/v2.0/token`: redeems authorization codes (with
//! PKCE) and rotates refresh tokens, answering in Entra's shape.
//!
//! Tokens carry the user's own `tid` and name their tenant's issuer,
//! `{base}/{tid}/v2.0`, whichever tenant path the request came through. A
//! tenant's own token endpoint redeems only its users' codes and refresh
//! tokens (`invalid_grant`, AADSTS50020); `common` and `organizations`
//! redeem any.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::authorize::seconds;
use super::claims::{self, Validity};
use super::scopes::{AccessGrant, Scopes};
use super::{
    base_url, issuer_url, random_secret, s256, DevIssuer, OAuthError, Params, TenantPath, CLIENT_ID,
};
use crate::store::{RefreshToken, Rotation, SecretHash, User};

/// A successful token response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub token_type: String,
    pub scope: String,
    pub expires_in: i64,
    pub ext_expires_in: i64,
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// What a grant resolved to, before tokens are minted.
struct Issue {
    user: User,
    client_id: String,
    /// The scope string of the original authorization request.
    granted: Scopes,
    access: AccessGrant,
    nonce: Option<String>,
    /// The refresh token to hand back, already stored.
    refresh_token: Option<String>,
}

pub async fn token(
    State(issuer): State<Arc<DevIssuer>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match respond(&issuer, &tenant, &headers, &body).await {
        Ok(response) => (
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::PRAGMA, "no-cache"),
            ],
            Json(response),
        )
            .into_response(),
        Err(error) => {
            tracing::info!(
                error = error.error,
                code = error.code,
                "dev issuer: token request refused"
            );
            error.into_response()
        }
    }
}

async fn respond(
    issuer: &DevIssuer,
    tenant: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<TokenResponse, OAuthError> {
    let tenant_path =
        TenantPath::parse(tenant).ok_or_else(|| OAuthError::unknown_tenant(tenant))?;
    let base = base_url(headers)?;
    let params = Params::parse(body).map_err(|why| OAuthError::invalid_request(900144, why))?;
    let grant_type = params
        .get("grant_type")
        .ok_or_else(|| OAuthError::missing("grant_type"))?;
    let client_id = params
        .get("client_id")
        .ok_or_else(|| OAuthError::missing("client_id"))?;
    if client_id != CLIENT_ID {
        return Err(OAuthError::unknown_client(client_id));
    }
    let issue = match grant_type {
        "authorization_code" => redeem_code(issuer, tenant_path, &params).await?,
        "refresh_token" => refresh(issuer, tenant_path, &params).await?,
        other => {
            return Err(OAuthError::new(
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{other}'."),
            ))
        }
    };
    mint(issuer, &base, issue).await
}

async fn redeem_code(
    issuer: &DevIssuer,
    tenant_path: TenantPath,
    params: &Params,
) -> Result<Issue, OAuthError> {
    let code = params
        .get("code")
        .ok_or_else(|| OAuthError::missing("code"))?;
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| OAuthError::missing("redirect_uri"))?;
    let verifier = params
        .get("code_verifier")
        .ok_or_else(|| OAuthError::missing("code_verifier"))?;
    let now = issuer.clock.unix();
    let hash = SecretHash::of(code);
    let record = issuer
        .store
        .authorization_code(hash.clone())
        .await
        .map_err(storage)?
        .ok_or_else(|| {
            OAuthError::invalid_grant(9002313, "The provided authorization code is not valid.")
        })?;
    if record.redeemed_at.is_some() {
        return Err(already_redeemed());
    }
    if record.expires_at <= now {
        return Err(OAuthError::invalid_grant(
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. \
             Send a new interactive authorization request for this user and resource.",
        ));
    }
    if record.client_id != params.get("client_id").unwrap_or_default() {
        return Err(OAuthError::invalid_grant(
            70000,
            "The authorization code was issued to another application.",
        ));
    }
    admitted(tenant_path, record.tenant_id)?;
    if record.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            500112,
            format!(
                "The reply address '{redirect_uri}' does not match the reply address provided \
                 when requesting the authorization code."
            ),
        ));
    }
    let verifier_ok = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !verifier_ok || s256(verifier) != record.code_challenge {
        return Err(OAuthError::invalid_grant(
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the \
             authorization request.",
        ));
    }
    let granted = Scopes::parse(&record.scope).map_err(scope_error)?;
    let access = requested_grant(params, &granted)?;
    // Only now is the code spent: of two racing redemptions one wins.
    if !issuer
        .store
        .redeem_authorization_code(hash, now)
        .await
        .map_err(storage)?
    {
        return Err(already_redeemed());
    }
    let user = find_user(issuer, record.tenant_id, record.object_id).await?;
    let refresh_token = if granted.has("offline_access") {
        let secret = random_secret(48);
        let token = new_refresh(
            issuer,
            &secret,
            Uuid::new_v4(),
            &record.client_id,
            &user,
            &record.scope,
        );
        issuer
            .store
            .insert_refresh_token(token, now)
            .await
            .map_err(storage)?;
        Some(secret)
    } else {
        None
    };
    Ok(Issue {
        user,
        client_id: record.client_id,
        granted,
        access,
        nonce: record.nonce,
        refresh_token,
    })
}

async fn refresh(
    issuer: &DevIssuer,
    tenant_path: TenantPath,
    params: &Params,
) -> Result<Issue, OAuthError> {
    let secret = params
        .get("refresh_token")
        .ok_or_else(|| OAuthError::missing("refresh_token"))?;
    let now = issuer.clock.unix();
    let hash = SecretHash::of(secret);
    let invalid = || {
        OAuthError::invalid_grant(
            9002313,
            "The provided refresh token is not valid: it is unknown, was revoked, or was \
             already used (refresh tokens are single-use; keep the newest).",
        )
    };
    let record = issuer
        .store
        .refresh_token(hash.clone())
        .await
        .map_err(storage)?
        .ok_or_else(invalid)?;
    if record.revoked {
        return Err(invalid());
    }
    let grace_since = now - crate::store::REFRESH_REUSE_GRACE_SECS;
    if record.used_at.is_some_and(|used| used < grace_since) {
        // A used token coming back means two holders: trust neither.
        issuer
            .store
            .revoke_refresh_family(record.family_id)
            .await
            .map_err(storage)?;
        tracing::warn!(
            "dev issuer: a used refresh token was presented again; its family is revoked"
        );
        return Err(invalid());
    }
    if record.expires_at <= now {
        return Err(OAuthError::invalid_grant(
            700082,
            "The refresh token has expired due to inactivity.",
        ));
    }
    if record.client_id != params.get("client_id").unwrap_or_default() {
        return Err(OAuthError::invalid_grant(
            70000,
            "The refresh token was issued to another application.",
        ));
    }
    admitted(tenant_path, record.tenant_id)?;
    let granted = Scopes::parse(&record.scope).map_err(scope_error)?;
    let access = requested_grant(params, &granted)?;
    let user = find_user(issuer, record.tenant_id, record.object_id).await?;
    let next = random_secret(48);
    let token = new_refresh(
        issuer,
        &next,
        record.family_id,
        &record.client_id,
        &user,
        &record.scope,
    );
    match issuer
        .store
        .rotate_refresh_token(hash, token, now)
        .await
        .map_err(storage)?
    {
        Rotation::Rotated => {}
        Rotation::Refused => return Err(invalid()),
    }
    Ok(Issue {
        user,
        client_id: record.client_id,
        granted,
        access,
        // Entra puts no nonce in a refreshed ID token.
        nonce: None,
        refresh_token: Some(next),
    })
}

/// The resource of this token request: its own `scope` if it has one (one
/// resource at most), else the first resource of the original request.
fn requested_grant(params: &Params, granted: &Scopes) -> Result<AccessGrant, OAuthError> {
    match params.get("scope") {
        Some(raw) => Scopes::parse(raw)
            .and_then(|scopes| scopes.single_grant(raw))
            .map_err(scope_error),
        None => Ok(granted.first_grant()),
    }
}

fn new_refresh(
    issuer: &DevIssuer,
    secret: &str,
    family_id: Uuid,
    client_id: &str,
    user: &User,
    scope: &str,
) -> RefreshToken {
    let now = issuer.clock.unix();
    RefreshToken {
        token_hash: SecretHash::of(secret),
        family_id,
        client_id: client_id.to_owned(),
        tenant_id: user.tenant_id,
        object_id: user.object_id,
        scope: scope.to_owned(),
        issued_at: now,
        expires_at: now + seconds(issuer.lifetimes.refresh_token),
        used_at: None,
        revoked: false,
    }
}

async fn mint(issuer: &DevIssuer, base: &str, issue: Issue) -> Result<TokenResponse, OAuthError> {
    let key = issuer.keys.get().await.map_err(|error| {
        tracing::error!(%error, "dev issuer: no signing key");
        OAuthError::server_error("The signing key is not available.")
    })?;
    let now = issuer.clock.unix();
    let iss = issuer_url(base, issue.user.tenant_id);
    let access_lifetime = seconds(issuer.lifetimes.access_token);
    let access = claims::access_token(
        &iss,
        &issue.client_id,
        &issue.user,
        &issue.access,
        Validity {
            issued_at: now,
            expires_at: now + access_lifetime,
        },
    );
    let signing_failed = |error: jsonwebtoken::errors::Error| {
        tracing::error!(%error, "dev issuer: cannot sign a token");
        OAuthError::server_error("The token could not be signed.")
    };
    let access_token = key.sign(&access).map_err(signing_failed)?;
    let id_token = if issue.granted.has("openid") {
        let claims = claims::id_token(
            &iss,
            &issue.client_id,
            &issue.user,
            issue.nonce,
            Validity {
                issued_at: now,
                expires_at: now + seconds(issuer.lifetimes.id_token),
            },
        );
        Some(key.sign(&claims).map_err(signing_failed)?)
    } else {
        None
    };
    let scope: Vec<String> = issue
        .access
        .qualified()
        .chain(issue.granted.openid.iter().map(|s| s.to_string()))
        .collect();
    tracing::info!(
        user = %issue.user.user_principal_name,
        aud = issue.access.resource.audience(),
        "dev issuer: tokens issued"
    );
    Ok(TokenResponse {
        token_type: "Bearer".to_owned(),
        scope: scope.join(" "),
        expires_in: access_lifetime,
        ext_expires_in: access_lifetime,
        access_token,
        refresh_token: issue.refresh_token,
        id_token,
    })
}

async fn find_user(
    issuer: &DevIssuer,
    tenant_id: Uuid,
    object_id: Uuid,
) -> Result<User, OAuthError> {
    let users = issuer.store.users(tenant_id).await.map_err(storage)?;
    users
        .into_iter()
        .find(|u| u.object_id == object_id)
        .ok_or_else(|| OAuthError::invalid_grant(50034, "The user account does not exist."))
}

/// A grant of a user of `tenant_id` may be redeemed through this path: the
/// user's own tenant, `common` or `organizations`.
fn admitted(tenant_path: TenantPath, tenant_id: Uuid) -> Result<(), OAuthError> {
    if tenant_path.admits(tenant_id) {
        return Ok(());
    }
    Err(OAuthError::invalid_grant(
        50020,
        format!(
            "The user account of the grant is from tenant '{tenant_id}' and does not exist in \
             this tenant. Redeem it through the user's own tenant, 'organizations' or 'common'."
        ),
    ))
}

fn already_redeemed() -> OAuthError {
    OAuthError::invalid_grant(
        54005,
        "OAuth2 Authorization code was already redeemed, please retry with a new valid code or \
         use an existing refresh token.",
    )
}

fn scope_error(error: super::scopes::ScopeError) -> OAuthError {
    let (error, code, message) = error.describe();
    OAuthError::new(error, code, message)
}

fn storage(error: crate::store::StoreError) -> OAuthError {
    tracing::error!(%error, "dev issuer: storage failed");
    OAuthError::server_error("The server could not reach its storage.")
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::time::{Duration, UNIX_EPOCH};

    use axum::body::{to_bytes, Body};
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    use super::super::{keys, Clock, KeyStore, Lifetimes};
    use super::*;
    use crate::demo::{DemoUser, ALICE, DAVE, DEMO_TENANT_ID, DEMO_USERS, FABRIKAM_TENANT_ID};
    use crate::issuer::DevPassword;
    use crate::store::{AuthorizationCode, Store};

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const REDIRECT: &str = "http://127.0.0.1:4000/cb";

    struct Fixture {
        _dir: tempfile::TempDir,
        store: Store,
        issuer: Arc<DevIssuer>,
        now: Arc<AtomicI64>,
    }

    async fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(dir.path()).await.unwrap();
        store
            .upsert_users(DEMO_USERS.iter().map(|u| u.to_user()).collect())
            .await
            .unwrap();
        std::fs::write(dir.path().join(keys::KEY_FILE), keys::test_key_pem()).unwrap();
        let now = Arc::new(AtomicI64::new(1_800_000_000));
        let clock_now = Arc::clone(&now);
        let clock = Clock::from_fn(move || {
            UNIX_EPOCH + Duration::from_secs(clock_now.load(Ordering::SeqCst) as u64)
        });
        let issuer = Arc::new(DevIssuer::new(
            store.clone(),
            KeyStore::open(dir.path()).unwrap(),
            DevPassword::default(),
            Lifetimes::default(),
            clock,
        ));
        Fixture {
            _dir: dir,
            store,
            issuer,
            now,
        }
    }

    impl Fixture {
        async fn code(&self, secret: &str, scope: &str) {
            self.code_of(secret, scope, ALICE).await;
        }

        async fn code_of(&self, secret: &str, scope: &str, user: DemoUser) {
            let now = self.now.load(Ordering::SeqCst);
            let record = AuthorizationCode {
                code_hash: SecretHash::of(secret),
                client_id: CLIENT_ID.into(),
                redirect_uri: REDIRECT.into(),
                code_challenge: s256(VERIFIER),
                scope: scope.into(),
                nonce: Some("n".into()),
                tenant_id: user.tenant_id,
                object_id: user.object_id,
                issued_at: now,
                expires_at: now + 300,
                redeemed_at: None,
            };
            self.store
                .insert_authorization_code(record, now)
                .await
                .unwrap();
        }

        fn advance(&self, secs: i64) {
            self.now.fetch_add(secs, Ordering::SeqCst);
        }

        async fn post(&self, form: &[(&str, &str)]) -> (StatusCode, serde_json::Value) {
            self.post_at(&DEMO_TENANT_ID.to_string(), form).await
        }

        async fn post_at(
            &self,
            tenant: &str,
            form: &[(&str, &str)],
        ) -> (StatusCode, serde_json::Value) {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish();
            let request = Request::post(format!("/{tenant}/oauth2/v2.0/token"))
                .header("host", "127.0.0.1:4999")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap();
            let response = Arc::clone(&self.issuer)
                .router()
                .oneshot(request)
                .await
                .unwrap();
            let status = response.status();
            let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
            (status, serde_json::from_slice(&bytes).unwrap())
        }

        async fn refresh(&self, token: &str) -> (StatusCode, serde_json::Value) {
            self.post(&[
                ("grant_type", "refresh_token"),
                ("client_id", CLIENT_ID),
                ("refresh_token", token),
            ])
            .await
        }

        async fn redeem(&self, code: &str) -> (StatusCode, serde_json::Value) {
            self.redeem_at(&DEMO_TENANT_ID.to_string(), code).await
        }

        async fn redeem_at(&self, tenant: &str, code: &str) -> (StatusCode, serde_json::Value) {
            self.post_at(
                tenant,
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", CLIENT_ID),
                    ("code", code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", VERIFIER),
                ],
            )
            .await
        }
    }

    fn claims(token: &str) -> serde_json::Value {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn a_grant_is_redeemed_only_through_its_users_tenant_or_a_multi_tenant_path() {
        let f = fixture().await;
        f.code_of("c", "openid offline_access", DAVE).await;
        let (status, body) = f.redeem_at("convene.example", "c").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"], "invalid_grant");
        assert_eq!(body["error_codes"], serde_json::json!([50020]));

        // Refused without spending the code: organizations redeems it.
        let (status, body) = f.redeem_at("organizations", "c").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let id = claims(body["id_token"].as_str().unwrap());
        assert_eq!(id["tid"], FABRIKAM_TENANT_ID.to_string());
        assert_eq!(
            id["iss"],
            format!("http://127.0.0.1:4999/{FABRIKAM_TENANT_ID}/v2.0")
        );
        let refresh_token = body["refresh_token"].as_str().unwrap().to_owned();
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("refresh_token", refresh_token.as_str()),
        ];
        let (status, body) = f.post_at(&DEMO_TENANT_ID.to_string(), &form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error_codes"], serde_json::json!([50020]));
        let (status, body) = f.post_at("fabrikam.example", &form).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let access = claims(body["access_token"].as_str().unwrap());
        assert_eq!(access["tid"], FABRIKAM_TENANT_ID.to_string());
        assert_eq!(access["oid"], DAVE.object_id.to_string());
    }

    #[tokio::test]
    async fn a_code_expires_after_five_minutes() {
        let f = fixture().await;
        f.code("fresh", "openid offline_access").await;
        f.code("stale", "openid offline_access").await;
        f.advance(299);
        let (status, _) = f.redeem("fresh").await;
        assert_eq!(status, StatusCode::OK);
        f.advance(1);
        let (status, body) = f.redeem("stale").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_grant");
        assert_eq!(body["error_codes"], serde_json::json!([70008]));
    }

    #[tokio::test]
    async fn a_refresh_token_expires_after_a_day_and_each_new_one_gets_a_new_day() {
        let f = fixture().await;
        f.code("c", "openid offline_access").await;
        let (_, body) = f.redeem("c").await;
        let first = body["refresh_token"].as_str().unwrap().to_owned();

        f.advance(23 * 3600);
        let (status, body) = f.refresh(&first).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let second = body["refresh_token"].as_str().unwrap().to_owned();
        f.advance(24 * 3600);
        let (status, body) = f.refresh(&second).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error_codes"], serde_json::json!([700082]));
    }

    #[tokio::test]
    async fn a_token_presented_again_at_once_still_works_as_a_client_that_died_mid_refresh_needs() {
        let f = fixture().await;
        f.code("c", "openid offline_access").await;
        let (_, body) = f.redeem("c").await;
        let first = body["refresh_token"].as_str().unwrap().to_owned();
        let (status, _) = f.refresh(&first).await;
        assert_eq!(status, StatusCode::OK);
        // The reply was lost: the client still holds `first`.
        f.advance(5);
        let (status, body) = f.refresh(&first).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let newest = body["refresh_token"].as_str().unwrap().to_owned();
        let (status, _) = f.refresh(&newest).await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_reused_refresh_token_revokes_the_newer_one_too() {
        let f = fixture().await;
        f.code("c", "openid offline_access").await;
        let (_, body) = f.redeem("c").await;
        let first = body["refresh_token"].as_str().unwrap().to_owned();
        let (_, body) = f.refresh(&first).await;
        let second = body["refresh_token"].as_str().unwrap().to_owned();
        // Replayed after the reuse grace: two holders, trust neither.
        f.advance(crate::store::REFRESH_REUSE_GRACE_SECS + 1);
        let (status, body) = f.refresh(&first).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant"))
        );
        let (status, _) = f.refresh(&second).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn without_offline_access_there_is_no_refresh_token_and_without_openid_no_id_token() {
        let f = fixture().await;
        f.code("c", "https://graph.microsoft.com/User.Read").await;
        let (status, body) = f.redeem("c").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.get("refresh_token").is_none());
        assert!(body.get("id_token").is_none());
        assert_eq!(body["scope"], "https://graph.microsoft.com/User.Read");
    }

    #[tokio::test]
    async fn bad_requests_say_what_is_wrong() {
        let f = fixture().await;
        type Form<'a> = &'a [(&'a str, &'a str)];
        let cases: [(Form, &str, u32); 4] = [
            (&[("client_id", CLIENT_ID)], "invalid_request", 900144),
            (
                &[("grant_type", "password"), ("client_id", CLIENT_ID)],
                "unsupported_grant_type",
                70003,
            ),
            (
                &[("grant_type", "refresh_token"), ("client_id", "other")],
                "unauthorized_client",
                700016,
            ),
            (
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", CLIENT_ID),
                    ("refresh_token", "nope"),
                ],
                "invalid_grant",
                9002313,
            ),
        ];
        for (form, error, code) in cases {
            let (status, body) = f.post(form).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{form:?}");
            assert_eq!(body["error"], error, "{form:?}");
            assert_eq!(body["error_codes"], serde_json::json!([code]), "{form:?}");
        }
    }
}
