//! Communication tokens from a running `convene-server`
//! (`POST /v1/communicationToken`): `--dev` against its own issuer, tenant
//! mode against a remote authority (a second server), and forwarding to a
//! (fake) ACS resource with HMAC-signed requests.

use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode as AxumStatus, Uri};
use axum::response::IntoResponse;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use convene_server::acs::signing::{self, SignedHeaders};
use convene_server::acs::AccessKey;
use convene_server::issuer::Clock;
use convene_server::CommunicationTokens;
use convene_test_support::server_api::oidc::*;
use convene_test_support::server_api::{ServerCommand, ServerProcess};
use reqwest::StatusCode;
use serde_json::{json, Value};

const REDIRECT_URI: &str = "http://127.0.0.1:53682/callback";
const ACS_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const TOKEN_PATH: &str = "/v1/communicationToken";

/// `username`'s tokens from `issuer` for `scopes`: access and refresh.
async fn tokens(
    issuer: &ServerProcess,
    tenant: &str,
    username: &str,
    scopes: &str,
) -> (String, String) {
    let code = code_for_user_at(issuer, tenant, username, REDIRECT_URI, scopes).await;
    let (status, body) = redeem_at(issuer, tenant, &code, REDIRECT_URI, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

/// Alice's token for Convene's API, and her refresh token.
async fn alice_api_tokens(issuer: &ServerProcess) -> (String, String) {
    tokens(issuer, TENANT, "alice@convene.example", API_SCOPES).await
}

/// The unverified claims of a JWT.
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Asks for a communication token with `bearer` and `body`.
async fn ask_raw(
    server: &ServerProcess,
    bearer: Option<&str>,
    body: String,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(server.url(TOKEN_PATH))
        .header("content-type", "application/json")
        .body(body);
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn ask(server: &ServerProcess, bearer: &str) -> (StatusCode, Value) {
    ask_raw(server, Some(bearer), String::new()).await
}

/// Asserts an ACS error envelope with `code`, and that it does not repeat
/// the token.
fn assert_acs_error(
    status: StatusCode,
    body: &Value,
    expected: StatusCode,
    code: &str,
    token: &str,
) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(!message.is_empty());
    assert!(!body.to_string().contains(token), "token echoed: {body}");
}

#[tokio::test]
async fn alice_trades_her_api_token_for_a_communication_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let (access, _) = alice_api_tokens(&server).await;
    assert_eq!(claims_of(&access)["aud"], CLIENT_ID);

    let (status, body) = ask(&server, &access).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().unwrap();
    let entra_exp = claims_of(&access)["exp"].as_i64().unwrap();
    let comm = claims_of(token);
    assert_eq!(comm["sub"], format!("8:orgid:{ALICE_OID}"));
    assert_eq!(comm["oid"], ALICE_OID);
    assert_eq!(comm["tid"], TENANT);
    assert_eq!(comm["iss"], "convene-server");
    assert_eq!(comm["aud"], "convene");
    assert_eq!(comm["scope"], "chat voip");
    assert_eq!(comm["exp"], entra_exp, "expires with the Entra token");
    assert_eq!(body.get("acs"), None, "no ACS resource configured");
    assert_eq!(
        body["expiresOn"],
        convene_server::exchange::comm::rfc3339(entra_exp)
    );

    // The library function later APIs use accepts it.
    let tokens = CommunicationTokens::open(dir.path(), Clock::system()).unwrap();
    let identity = tokens.verify_communication_token(token).await.unwrap();
    assert_eq!(identity.raw_id, format!("8:orgid:{ALICE_OID}"));
    assert_eq!(identity.oid.to_string(), ALICE_OID);
    assert_eq!(identity.tid.to_string(), TENANT);
    assert_eq!(
        identity.expires,
        convene_server::exchange::comm::unix_to_system(entra_exp)
    );
}

#[tokio::test]
async fn dave_of_the_second_demo_tenant_gets_his_own() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    for tenant in ["organizations", FABRIKAM_TENANT] {
        let code = code_for_user_at(
            &server,
            tenant,
            "dave@fabrikam.example",
            REDIRECT_URI,
            API_SCOPES,
        )
        .await;
        let (status, body) = redeem_at(&server, tenant, &code, REDIRECT_URI, VERIFIER).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let access = body["access_token"].as_str().unwrap();
        assert_eq!(claims_of(access)["tid"], FABRIKAM_TENANT);

        let (status, body) = ask(&server, access).await;
        assert_eq!(status, StatusCode::OK, "{tenant}: {body}");
        let comm = claims_of(body["token"].as_str().unwrap());
        assert_eq!(comm["sub"], format!("8:orgid:{DAVE_OID}"));
        assert_eq!(comm["oid"], DAVE_OID);
        assert_eq!(comm["tid"], FABRIKAM_TENANT);
    }
}

#[tokio::test]
async fn tokens_for_other_services_tampering_and_bad_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let (access, refresh_token) = alice_api_tokens(&server).await;

    // Tokens for Microsoft's APIs are never accepted, even signed by the
    // trusted issuer: they are not for this server.
    for scopes in [GRAPH_SCOPES, ACS_SCOPES] {
        let (status, other) = refresh(&server, &refresh_token, Some(scopes)).await;
        assert_eq!(status, StatusCode::OK, "{other}");
        let other = other["access_token"].as_str().unwrap();
        let (status, body) = ask(&server, other).await;
        assert_acs_error(
            status,
            &body,
            StatusCode::UNAUTHORIZED,
            "InvalidAccessToken",
            other,
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("own API"),
            "{body}"
        );
    }

    // A changed signature, no token, another scheme.
    let (head, signature) = access.rsplit_once('.').unwrap();
    let flipped: String = signature.chars().rev().collect();
    let tampered = format!("{head}.{flipped}");
    let (status, body) = ask(&server, &tampered).await;
    assert_acs_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "InvalidAccessToken",
        &tampered,
    );
    let (status, body) = ask_raw(&server, None, String::new()).await;
    assert_acs_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "InvalidAccessToken",
        &access,
    );

    // Malformed bodies.
    for body in [
        "{".to_owned(),
        json!({"acsToken": 5}).to_string(),
        "[]".to_owned(),
    ] {
        let (status, answer) = ask_raw(&server, Some(&access), body).await;
        assert_acs_error(
            status,
            &answer,
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &access,
        );
    }

    // Only POST; ACS's own exchange path is not served.
    let response = reqwest::get(server.url(TOKEN_PATH)).await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let response = reqwest::Client::new()
        .post(server.url("/teamsUser/:exchangeAccessToken?api-version=2023-10-01"))
        .json(&json!({"token": access, "appId": CLIENT_ID, "userId": ALICE_OID}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

fn tenant_server(dir: &Path, authority: &ServerProcess, extra: &[&str]) -> ServerProcess {
    ServerCommand::bare()
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .arg("--authority")
        .arg(authority.url(&format!("/{TENANT}/v2.0")))
        .args(["--client-id", CLIENT_ID])
        .args(extra)
        .start()
}

#[tokio::test]
async fn tenant_mode_validates_against_the_authoritys_remote_keys() {
    let issuer_dir = tempfile::tempdir().unwrap();
    let authority = start_with_key(issuer_dir.path());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(COMM_KEY_FILE), test_key()).unwrap();
    let server = tenant_server(dir.path(), &authority, &["--allowed-tenant", TENANT]);
    let (access, refresh_token) = alice_api_tokens(&authority).await;

    let (status, body) = ask(&server, &access).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let comm = claims_of(body["token"].as_str().unwrap());
    assert_eq!(comm["sub"], format!("8:orgid:{ALICE_OID}"));
    assert_eq!(comm["exp"], claims_of(&access)["exp"]);

    let (_, graph) = refresh(&authority, &refresh_token, Some(GRAPH_SCOPES)).await;
    let graph = graph["access_token"].as_str().unwrap();
    let (status, body) = ask(&server, graph).await;
    assert_acs_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "InvalidAccessToken",
        graph,
    );

    // A server that allows another tenant only refuses alice's.
    let other_dir = tempfile::tempdir().unwrap();
    let other = tenant_server(
        other_dir.path(),
        &authority,
        &["--allowed-tenant", "11111111-1111-4111-8111-111111111111"],
    );
    let (status, body) = ask(&other, &access).await;
    assert_acs_error(status, &body, StatusCode::FORBIDDEN, "Forbidden", &access);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(TENANT) && message.contains("not allowed"),
        "{message}"
    );
}

/// What the fake ACS saw.
#[derive(Default)]
struct Seen {
    requests: Vec<(String, Value)>,
}

/// A fake ACS resource on loopback that checks the HMAC signature with
/// `ACS_KEY`, as ACS does, and answers in ACS's shapes.
async fn fake_acs() -> (String, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let key: AccessKey = ACS_KEY.parse().unwrap();
    let record = Arc::clone(&seen);
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let key = key.clone();
            let record = Arc::clone(&record);
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let signed = SignedHeaders {
                    date: header("x-ms-date"),
                    content_sha256: header("x-ms-content-sha256"),
                    authorization: header("authorization"),
                };
                let path_and_query = uri.path_and_query().unwrap().as_str().to_owned();
                let valid = signing::verify(
                    &key,
                    method.as_str(),
                    &path_and_query,
                    &header("host"),
                    &body,
                    &signed,
                );
                let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                record
                    .lock()
                    .unwrap()
                    .requests
                    .push((path_and_query.clone(), json.clone()));
                if !valid {
                    let error =
                        json!({"error": {"code": "Denied", "message": "HMAC signature mismatch"}});
                    return (AxumStatus::UNAUTHORIZED, axum::Json(error)).into_response();
                }
                assert_eq!(
                    path_and_query,
                    "/teamsUser/:exchangeAccessToken?api-version=2023-10-01"
                );
                axum::Json(json!({
                    "token": format!("ACS.TOKEN.FOR.{}", json["userId"].as_str().unwrap()),
                    "expiresOn": "2026-01-01T01:00:00.000Z",
                }))
                .into_response()
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

#[tokio::test]
async fn the_acs_token_is_forwarded_to_acs_signed_and_both_tokens_come_back() {
    let (endpoint, seen) = fake_acs().await;
    let dir = tempfile::tempdir().unwrap();
    write_keys(dir.path());
    let server = ServerCommand::dev(dir.path())
        .args(["--acs-endpoint", &endpoint])
        .env("CONVENE_ACS_ACCESS_KEY", ACS_KEY)
        .start();
    let (access, refresh_token) = alice_api_tokens(&server).await;
    let (_, acs) = refresh(&server, &refresh_token, Some(ACS_SCOPES)).await;
    let acs = acs["access_token"].as_str().unwrap().to_owned();

    // Without the ACS token the server says what it needs.
    let (status, body) = ask(&server, &access).await;
    assert_acs_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "AcsTokenRequired",
        &access,
    );
    assert!(seen.lock().unwrap().requests.is_empty());

    let with_acs = json!({"acsToken": acs}).to_string();
    let (status, body) = ask_raw(&server, Some(&access), with_acs.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Convene's own token, for signaling, presence and history ...
    assert_eq!(
        claims_of(body["token"].as_str().unwrap())["iss"],
        "convene-server"
    );
    // ... and ACS's, beside it.
    assert_eq!(
        body["acs"],
        json!({"token": format!("ACS.TOKEN.FOR.{ALICE_OID}"), "expiresOn": "2026-01-01T01:00:00.000Z"})
    );
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.requests.len(), 1);
        assert_eq!(
            seen.requests[0].1,
            json!({"token": acs, "appId": CLIENT_ID, "userId": ALICE_OID})
        );
    }

    // Refused by our own checks: ACS is not asked.
    let (head, signature) = access.rsplit_once('.').unwrap();
    let tampered = format!("{head}.{}", signature.chars().rev().collect::<String>());
    let (status, _) = ask_raw(&server, Some(&tampered), with_acs).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(seen.lock().unwrap().requests.len(), 1);
    let finished = server.stop();
    for secret in [ACS_KEY, access.as_str(), acs.as_str()] {
        assert!(!finished.stderr.contains(secret), "secret in the log");
    }

    // With the wrong key, ACS refuses, and its error comes back as it was.
    let wrong_dir = tempfile::tempdir().unwrap();
    write_keys(wrong_dir.path());
    let wrong = ServerCommand::dev(wrong_dir.path())
        .args([
            "--acs-endpoint",
            &endpoint,
            "--acs-access-key",
            "d3Jvbmcta2V5",
        ])
        .start();
    let (access, refresh_token) = alice_api_tokens(&wrong).await;
    let (_, acs) = refresh(&wrong, &refresh_token, Some(ACS_SCOPES)).await;
    let with_acs = json!({"acsToken": acs["access_token"]}).to_string();
    let (status, body) = ask_raw(&wrong, Some(&access), with_acs).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        body,
        json!({"error": {"code": "Denied", "message": "HMAC signature mismatch"}})
    );
}

#[test]
fn an_acs_endpoint_without_a_key_or_over_plain_http_stops_startup() {
    let dir = tempfile::tempdir().unwrap();
    ServerCommand::dev(dir.path())
        .args([
            "--acs-endpoint",
            "https://my-resource.communication.azure.com",
        ])
        .run_to_exit()
        .assert_clean_failure("--acs-access-key");
    let finished = ServerCommand::dev(dir.path())
        .args([
            "--acs-endpoint",
            "http://acs.example",
            "--acs-access-key",
            ACS_KEY,
        ])
        .run_to_exit();
    finished.assert_clean_failure("https");
    assert!(!finished.stderr.contains(ACS_KEY));
}
