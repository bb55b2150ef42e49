//! `GET`/`POST /{tenant}/oauth2/v2.0/authorize`: the authorization code
//! flow with PKCE S256, for loopback redirect URIs only.
//!
//! `GET` checks the request and shows the sign-in form; the form posts the
//! same parameters back with `username` and `password`, which are checked
//! again before a code is handed out. Errors go to the client's redirect URI
//! once it is known to be good (`?error=…&error_description=…&state=…`), as
//! at Entra; before that, they are a 400 page.
//!
//! A user signs in only through their own tenant (its id or domain) or
//! `common`/`organizations`. A user of another demo tenant who signs in
//! through a tenant's own authority, with the right password, gets the form
//! again with Entra's AADSTS50020 ("User account … from identity provider …
//! does not exist in tenant …"): Entra shows that error on its own sign-in
//! page, with no redirect to the app, so the user can choose another
//! account; likewise here.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use url::{Host, Url};

use super::page::{error_page, html, login_form};
use super::scopes::Scopes;
use super::{random_secret, DevIssuer, Params, TenantPath, CLIENT_ID};
use crate::demo::{DemoTenant, DEMO_TENANTS};
use crate::store::{AuthorizationCode, SecretHash, User};

/// A checked authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub client_id: String,
    /// Exactly as given: the token request must repeat it.
    pub redirect_uri: String,
    pub redirect: Url,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub login_hint: Option<String>,
}

/// Why an authorization request was refused, and how to say so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A 400 page: the redirect URI is missing or not to be trusted.
    Page(String),
    /// An error sent to the client's redirect URI.
    Redirect {
        to: Box<Url>,
        error: &'static str,
        code: u32,
        message: String,
        state: Option<String>,
    },
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Page(message) => html(StatusCode::BAD_REQUEST, error_page(&message)),
            Refusal::Redirect {
                to,
                error,
                code,
                message,
                state,
            } => {
                let description = format!("AADSTS{code}: {message}");
                let mut pairs = vec![("error", error), ("error_description", &description)];
                if let Some(state) = &state {
                    pairs.push(("state", state));
                }
                found(&with_query(&to, &pairs))
            }
        }
    }
}

/// Only `http://127.0.0.1[:port]/…` and `http://localhost[:port]/…`, as a
/// native app's loopback listener uses; no user info, no fragment.
pub fn loopback_redirect(redirect_uri: &str) -> Result<Url, String> {
    let url = Url::parse(redirect_uri).map_err(|e| format!("not a URL: {e}"))?;
    let loopback = match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
        _ => false,
    };
    if url.scheme() != "http" || !loopback {
        return Err(
            "only loopback redirect URIs (http://127.0.0.1:port/… or http://localhost:port/…) \
             are registered for this application"
                .into(),
        );
    }
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err("a redirect URI may carry no user info and no fragment".into());
    }
    Ok(url)
}

/// Checks an authorization request, in the order Entra does: what makes the
/// redirect URI trustworthy first, then everything else.
pub fn validate(params: &Params) -> Result<AuthorizeRequest, Refusal> {
    let client_id = params.get("client_id").ok_or_else(|| {
        Refusal::Page(
            "AADSTS900144: The request body must contain the following parameter: 'client_id'."
                .into(),
        )
    })?;
    if client_id != CLIENT_ID {
        return Err(Refusal::Page(format!(
            "AADSTS700016: Application with identifier '{client_id}' was not found in the \
             directory 'Convene dev'."
        )));
    }
    let redirect_uri = params.get("redirect_uri").ok_or_else(|| {
        Refusal::Page(
            "AADSTS900144: The request body must contain the following parameter: \
             'redirect_uri'."
                .into(),
        )
    })?;
    let redirect = loopback_redirect(redirect_uri).map_err(|why| {
        Refusal::Page(format!(
            "AADSTS50011: The redirect URI '{redirect_uri}' specified in the request does not \
             match the redirect URIs configured for the application '{CLIENT_ID}': {why}."
        ))
    })?;
    let state = params.get("state").map(str::to_owned);
    let refuse = |error: &'static str, code: u32, message: String| Refusal::Redirect {
        to: Box::new(redirect.clone()),
        error,
        code,
        message,
        state: state.clone(),
    };
    let missing = |name: &str| {
        refuse(
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    };

    if let Some(mode) = params.get("response_mode") {
        if mode != "query" {
            return Err(refuse(
                "invalid_request",
                900144,
                format!("The response_mode '{mode}' is not supported; use 'query'."),
            ));
        }
    }
    match params.get("response_type") {
        None => return Err(missing("response_type")),
        Some("code") => {}
        Some(other) => {
            return Err(refuse(
                "unsupported_response_type",
                700054,
                format!("response_type '{other}' is not enabled for the application."),
            ))
        }
    }
    let scope = params.get("scope").ok_or_else(|| missing("scope"))?;
    if let Err(error) = Scopes::parse(scope) {
        let (error, code, message) = error.describe();
        return Err(refuse(error, code, message));
    }
    let code_challenge = params.get("code_challenge").ok_or_else(|| {
        refuse(
            "invalid_request",
            9002325,
            "Proof Key for Code Exchange is required: the request must carry a \
             'code_challenge' (and 'code_challenge_method' S256)."
                .into(),
        )
    })?;
    if params.get("code_challenge_method") != Some("S256") {
        return Err(refuse(
            "invalid_request",
            9002325,
            "The 'code_challenge_method' must be 'S256'.".into(),
        ));
    }
    let well_formed = code_challenge.len() == 43
        && code_challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(refuse(
            "invalid_request",
            9002325,
            "The 'code_challenge' must be base64url(SHA-256(code_verifier)), 43 characters.".into(),
        ));
    }
    Ok(AuthorizeRequest {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        redirect,
        scope: scope.to_owned(),
        state,
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge: code_challenge.to_owned(),
        login_hint: params.get("login_hint").map(str::to_owned),
    })
}

/// `GET`: check the request, show the form.
pub async fn show(
    State(issuer): State<Arc<DevIssuer>>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let (tenant_path, params) = match checked_params(&tenant, query.unwrap_or_default().as_bytes())
    {
        Ok(checked) => checked,
        Err(refusal) => return refusal.into_response(),
    };
    match validate(&params) {
        Ok(request) => {
            issuer.keys.warm_up();
            let username = request.login_hint.as_deref().unwrap_or_default();
            html(
                StatusCode::OK,
                login_form(&action(&tenant), tenant_path, &params, username, None),
            )
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// `POST`: check the request again, then the user and password; on success
/// redirect to the client with a code.
pub async fn submit(
    State(issuer): State<Arc<DevIssuer>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    let (tenant_path, params) = match checked_params(&tenant, &body) {
        Ok(checked) => checked,
        Err(refusal) => return refusal.into_response(),
    };
    let request = match validate(&params) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(),
    };
    let username = params.get("username").unwrap_or_default().trim();
    let form_again = |message: &str| {
        html(
            StatusCode::OK,
            login_form(
                &action(&tenant),
                tenant_path,
                &params,
                username,
                Some(message),
            ),
        )
    };
    let Some(password) = params.get("password").filter(|_| !username.is_empty()) else {
        return form_again("Enter your user name and password.");
    };
    let user = match find_user(&issuer, tenant_path, username).await {
        Ok(user) => user,
        Err(error) => {
            tracing::error!(%error, "dev issuer: cannot read the demo users");
            return server_error();
        }
    };
    let user = match user {
        Some(user) if issuer.password_matches(password) => user,
        _ => {
            tracing::info!("dev issuer: sign-in refused (unknown user or wrong password)");
            return form_again("Your account or password is incorrect.");
        }
    };
    if let TenantPath::Tenant(resource_tenant) = tenant_path {
        if user.tenant_id != resource_tenant.id {
            tracing::info!(
                user = %user.user_principal_name,
                tenant = %resource_tenant.id,
                "dev issuer: sign-in refused: the user is not in this tenant (AADSTS50020)"
            );
            return form_again(&not_in_tenant(&user, resource_tenant));
        }
    }

    let code = random_secret(32);
    let now = issuer.clock.unix();
    let record = AuthorizationCode {
        code_hash: SecretHash::of(&code),
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        scope: request.scope.clone(),
        nonce: request.nonce.clone(),
        tenant_id: user.tenant_id,
        object_id: user.object_id,
        issued_at: now,
        expires_at: now + seconds(issuer.lifetimes.code),
        redeemed_at: None,
    };
    if let Err(error) = issuer.store.insert_authorization_code(record, now).await {
        tracing::error!(%error, "dev issuer: cannot store an authorization code");
        return server_error();
    }
    tracing::info!(user = %user.user_principal_name, "dev issuer: signed in");
    let mut pairs = vec![("code", code.as_str())];
    if let Some(state) = &request.state {
        pairs.push(("state", state));
    }
    found(&with_query(&request.redirect, &pairs))
}

/// The demo user `username` names: a full sign-in name, or the part
/// before `@`. Every demo tenant is searched (a user of another tenant is
/// refused afterwards, with the right error), the path's own tenant first,
/// so that a bare name means that tenant's user.
async fn find_user(
    issuer: &DevIssuer,
    tenant_path: TenantPath,
    username: &str,
) -> Result<Option<User>, crate::store::StoreError> {
    let mut tenants = DEMO_TENANTS.to_vec();
    tenants.sort_by_key(|t| !matches!(tenant_path, TenantPath::Tenant(own) if own.id == t.id));
    for tenant in tenants {
        let found = issuer.store.users(tenant.id).await?.into_iter().find(|u| {
            let upn = &u.user_principal_name;
            upn.eq_ignore_ascii_case(username)
                || upn
                    .split_once('@')
                    .is_some_and(|(local, _)| local.eq_ignore_ascii_case(username))
        });
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// Entra's AADSTS50020, for a user signing in through a tenant not theirs.
fn not_in_tenant(user: &User, tenant: DemoTenant) -> String {
    let home = DemoTenant::by_id(user.tenant_id)
        .map(|t| t.domain.to_owned())
        .unwrap_or_else(|| user.tenant_id.to_string());
    format!(
        "AADSTS50020: User account '{upn}' from identity provider '{home}' does not exist in \
         tenant '{tenant_name}' and cannot access the application '{CLIENT_ID}'(Convene dev) \
         in that tenant. The account needs to be added as an external user in the tenant \
         first. Sign in again with a different user account, or through the 'organizations' \
         or 'common' endpoint.",
        upn = user.user_principal_name,
        tenant_name = tenant.display_name,
    )
}

fn checked_params(tenant: &str, text: &[u8]) -> Result<(TenantPath, Params), Refusal> {
    let Some(tenant_path) = TenantPath::parse(tenant) else {
        return Err(Refusal::Page(format!(
            "AADSTS90002: Tenant '{tenant}' not found."
        )));
    };
    let params =
        Params::parse(text).map_err(|why| Refusal::Page(format!("AADSTS900144: {why}")))?;
    Ok((tenant_path, params))
}

fn action(tenant: &str) -> String {
    format!("/{tenant}/oauth2/v2.0/authorize")
}

fn server_error() -> Response {
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        error_page("The server could not complete the sign-in. Try again."),
    )
}

pub(super) fn seconds(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

fn with_query(url: &Url, pairs: &[(&str, &str)]) -> Url {
    let mut url = url.clone();
    url.query_pairs_mut().extend_pairs(pairs);
    url
}

/// `302 Found` to `to`, uncacheable (it may carry a code).
fn found(to: &Url) -> Response {
    match HeaderValue::from_str(to.as_str()) {
        Ok(location) => (
            StatusCode::FOUND,
            [
                (header::LOCATION, location),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(_) => html(
            StatusCode::BAD_REQUEST,
            error_page("The redirect URI cannot be used."),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn params(extra: &[(&str, &str)], without: &[&str]) -> Params {
        let mut pairs = vec![
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", "http://127.0.0.1:53124/callback"),
            ("scope", "openid profile offline_access User.Read"),
            ("state", "st-1"),
            ("nonce", "n-1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        pairs.retain(|(n, _)| !without.contains(n) && !extra.iter().any(|(e, _)| e == n));
        pairs.extend_from_slice(extra);
        let text = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        Params::parse(text.as_bytes()).unwrap()
    }

    fn redirect_error(refusal: Refusal) -> (&'static str, Option<String>) {
        match refusal {
            Refusal::Redirect { error, state, .. } => (error, state),
            Refusal::Page(message) => panic!("expected a redirect, got page: {message}"),
        }
    }

    #[test]
    fn a_complete_request_is_accepted() {
        let request = validate(&params(&[], &[])).unwrap();
        assert_eq!(request.redirect_uri, "http://127.0.0.1:53124/callback");
        assert_eq!(request.state.as_deref(), Some("st-1"));
        assert_eq!(request.nonce.as_deref(), Some("n-1"));
        assert_eq!(request.code_challenge, CHALLENGE);
    }

    #[test]
    fn only_loopback_http_redirects_are_accepted() {
        for good in [
            "http://127.0.0.1:1/cb",
            "http://localhost:65535/",
            "http://LOCALHOST:8400/a/b?x=1",
            "http://127.0.0.1/cb",
        ] {
            assert!(loopback_redirect(good).is_ok(), "{good}");
        }
        for bad in [
            "https://127.0.0.1:1/cb",
            "http://example.com:1/cb",
            "http://127.0.0.2:1/cb",
            "http://[::1]:1/cb",
            "http://localhost.example.com:1/",
            "http://user@127.0.0.1:1/cb",
            "http://127.0.0.1:1/cb#frag",
            "com.example.app:/cb",
            "not a url",
        ] {
            assert!(loopback_redirect(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn client_and_redirect_problems_are_pages_not_redirects() {
        for p in [
            params(&[("client_id", "someone-else")], &[]),
            params(&[], &["client_id"]),
            params(&[("redirect_uri", "http://evil.example:1/cb")], &[]),
            params(&[], &["redirect_uri"]),
        ] {
            assert!(matches!(validate(&p), Err(Refusal::Page(_))), "{p:?}");
        }
    }

    #[test]
    fn other_problems_go_to_the_redirect_uri_with_the_state() {
        let cases: [(Params, &str); 7] = [
            (params(&[], &["code_challenge"]), "invalid_request"),
            (
                params(&[("code_challenge_method", "plain")], &[]),
                "invalid_request",
            ),
            (
                params(&[("code_challenge", "short")], &[]),
                "invalid_request",
            ),
            (
                params(&[("response_type", "token")], &[]),
                "unsupported_response_type",
            ),
            (params(&[], &["scope"]), "invalid_request"),
            (
                params(&[("scope", "openid Mail.Send")], &[]),
                "invalid_scope",
            ),
            (
                params(&[("response_mode", "form_post")], &[]),
                "invalid_request",
            ),
        ];
        for (p, expected) in cases {
            let (error, state) = redirect_error(validate(&p).unwrap_err());
            assert_eq!(error, expected, "{p:?}");
            assert_eq!(state.as_deref(), Some("st-1"));
        }
    }

    #[test]
    fn a_user_of_another_tenant_is_told_aadsts50020() {
        use crate::demo::{CONVENE_TENANT, DAVE};
        let message = not_in_tenant(&DAVE.to_user(), CONVENE_TENANT);
        assert!(message.starts_with("AADSTS50020: "), "{message}");
        assert!(message.contains("'dave@fabrikam.example'"), "{message}");
        assert!(message.contains("'fabrikam.example'"), "{message}");
        assert!(message.contains("'Convene Example'"), "{message}");
    }

    #[test]
    fn error_redirect_keeps_the_redirect_uris_query() {
        let refusal = validate(&params(
            &[("redirect_uri", "http://localhost:9/cb?app=1")],
            &["code_challenge"],
        ))
        .unwrap_err();
        let response = refusal.into_response();
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
        let query: Vec<(String, String)> = location.query_pairs().into_owned().collect();
        assert_eq!(query[0], ("app".into(), "1".into()));
        assert_eq!(query[1], ("error".into(), "invalid_request".into()));
        assert!(query[2].1.starts_with("AADSTS9002325: "));
        assert_eq!(query[3], ("state".into(), "st-1".into()));
    }
}
