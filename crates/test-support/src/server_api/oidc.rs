//! A client of the dev issuer: sign-in with PKCE, codes, tokens. Shared by
//! the issuer's and the exchange's tests.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::{redirect, Client, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

use super::{ServerCommand, ServerProcess};

pub const TENANT: &str = convene_proto::dev::DEV_TENANT_ID;
pub const CLIENT_ID: &str = convene_proto::dev::DEV_CLIENT_ID;
pub const ALICE_OID: &str = "00000000-a11c-4000-8000-000000000001";
/// The second demo tenant, Fabrikam (`fabrikam.example`), and its one user.
pub const FABRIKAM_TENANT: &str = "00000000-c0de-4000-8000-000000000002";
pub const DAVE_OID: &str = "00000000-da7e-4000-8000-000000000004";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const ACS_SCOPES: &str = "openid profile offline_access \
    https://auth.msft.communication.azure.com/Teams.ManageCalls \
    https://auth.msft.communication.azure.com/Teams.ManageChats";
/// Convene's own API, as the dev app exposes it: what the server's chat
/// API and communication tokens want.
pub const API_SCOPES: &str = "openid profile offline_access \
    api://00000000-c0de-4000-8000-0000000000a1/Convene.Use";
pub const GRAPH_SCOPES: &str = "https://graph.microsoft.com/Chat.ReadWrite \
    https://graph.microsoft.com/Presence.Read.All https://graph.microsoft.com/User.ReadBasic.All";
pub const KEY_FILE: &str = "dev-issuer-key.pem";

/// File name of the communication-token key.
pub const COMM_KEY_FILE: &str = "comm-key.pem";

/// Puts the test key in place as both the dev issuer's and the
/// communication-token key, so no test waits for a key to be made.
pub fn write_keys(dir: &Path) {
    std::fs::write(dir.join(KEY_FILE), test_key()).unwrap();
    std::fs::write(dir.join(COMM_KEY_FILE), test_key()).unwrap();
}

/// One RSA key for all tests but the one about making it: generating one
/// takes seconds in a debug build.
pub fn test_key() -> &'static str {
    static PEM: OnceLock<String> = OnceLock::new();
    PEM.get_or_init(|| {
        use rsa::pkcs8::{EncodePrivateKey, LineEnding};
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
    })
}

pub fn start_with_key(dir: &Path) -> ServerProcess {
    write_keys(dir);
    ServerCommand::dev(dir).start()
}

pub fn client() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// An authorization request's parameters, to change per test.
pub fn authorize_params(redirect_uri: &str, scope: &str) -> Vec<(String, String)> {
    [
        ("client_id", CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", redirect_uri),
        ("scope", scope),
        ("state", "state-123"),
        ("nonce", "nonce-456"),
        ("code_challenge", &challenge(VERIFIER)),
        ("code_challenge_method", "S256"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

pub fn authorize_url(server: &ServerProcess, params: &[(String, String)]) -> String {
    authorize_url_at(server, TENANT, params)
}

/// The authorize endpoint under `tenant` (an id, a domain, `common` or
/// `organizations`).
pub fn authorize_url_at(
    server: &ServerProcess,
    tenant: &str,
    params: &[(String, String)],
) -> String {
    let mut url = Url::parse(&server.url(&format!("/{tenant}/oauth2/v2.0/authorize"))).unwrap();
    url.query_pairs_mut().extend_pairs(params);
    url.into()
}

pub fn query_of(location: &str) -> HashMap<String, String> {
    Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// Shows the form, then posts it with the user's credentials; returns the
/// POST's response.
pub async fn sign_in(
    server: &ServerProcess,
    params: &[(String, String)],
    username: &str,
    password: &str,
) -> reqwest::Response {
    sign_in_at(server, TENANT, params, username, password).await
}

/// [`sign_in`] through `tenant`'s authorize endpoint.
pub async fn sign_in_at(
    server: &ServerProcess,
    tenant: &str,
    params: &[(String, String)],
    username: &str,
    password: &str,
) -> reqwest::Response {
    let client = client();
    let form = client
        .get(authorize_url_at(server, tenant, params))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let html = form.text().await.unwrap();
    assert!(html.contains("name=\"username\"") && html.contains("name=\"password\""));
    let mut fields = params.to_vec();
    fields.push(("username".into(), username.into()));
    fields.push(("password".into(), password.into()));
    client
        .post(server.url(&format!("/{tenant}/oauth2/v2.0/authorize")))
        .form(&fields)
        .send()
        .await
        .unwrap()
}

/// Signs alice in and returns the code from the redirect.
pub async fn code_for(server: &ServerProcess, redirect_uri: &str, scope: &str) -> String {
    code_for_user_at(server, TENANT, "alice@convene.example", redirect_uri, scope).await
}

/// Signs `username` in through `tenant` and returns the code from the
/// redirect.
pub async fn code_for_user_at(
    server: &ServerProcess,
    tenant: &str,
    username: &str,
    redirect_uri: &str,
    scope: &str,
) -> String {
    let response = sign_in_at(
        server,
        tenant,
        &authorize_params(redirect_uri, scope),
        username,
        "convene",
    )
    .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(redirect_uri), "{location}");
    let query = query_of(&location);
    assert_eq!(query["state"], "state-123");
    query["code"].clone()
}

pub async fn token(server: &ServerProcess, form: &[(&str, &str)]) -> (StatusCode, Value) {
    token_at(server, TENANT, form).await
}

/// A token request to `tenant`'s token endpoint.
pub async fn token_at(
    server: &ServerProcess,
    tenant: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = client()
        .post(server.url(&format!("/{tenant}/oauth2/v2.0/token")))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

pub async fn redeem(
    server: &ServerProcess,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> (StatusCode, Value) {
    redeem_at(server, TENANT, code, redirect_uri, verifier).await
}

/// [`redeem`] at `tenant`'s token endpoint.
pub async fn redeem_at(
    server: &ServerProcess,
    tenant: &str,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> (StatusCode, Value) {
    token_at(
        server,
        tenant,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ],
    )
    .await
}

pub async fn refresh(
    server: &ServerProcess,
    refresh_token: &str,
    scope: Option<&str>,
) -> (StatusCode, Value) {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT_ID),
        ("refresh_token", refresh_token),
    ];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    token(server, &form).await
}
