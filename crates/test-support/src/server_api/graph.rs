//! A client of a running `--dev` server's Graph-shaped chat API: tokens for
//! Convene's API from its dev issuer, JSON requests, chats and messages,
//! and Graph's error envelope.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::oidc::*;
use super::ServerProcess;

pub const REDIRECT_URI: &str = "http://127.0.0.1:53682/callback";
pub const BOB_OID: &str = "00000000-b0b0-4000-8000-000000000002";
pub const CAROL_OID: &str = "00000000-ca01-4000-8000-000000000003";

/// The demo tenant a demo user belongs to.
fn tenant_of(username: &str) -> &'static str {
    if username.ends_with("@fabrikam.example") {
        FABRIKAM_TENANT
    } else {
        TENANT
    }
}

/// `username`'s access token with `scopes`.
pub async fn token_with(server: &ServerProcess, username: &str, scopes: &str) -> String {
    let tenant = tenant_of(username);
    let code = code_for_user_at(server, tenant, username, REDIRECT_URI, scopes).await;
    let (status, body) = redeem_at(server, tenant, &code, REDIRECT_URI, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// `username`'s access token for Convene's API (`Convene.Use`), what the
/// server's chat API wants.
pub async fn api_token(server: &ServerProcess, username: &str) -> String {
    token_with(server, username, API_SCOPES).await
}

/// `username`'s communication token, asked for with a token for
/// Convene's API.
pub async fn communication_token(server: &ServerProcess, username: &str) -> String {
    let api = api_token(server, username).await;
    let response = client()
        .post(server.url("/v1/communicationToken"))
        .bearer_auth(api)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// Sends a request; the JSON answer, or `Null` for an empty body.
pub async fn call(
    method: Method,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let bytes = response.bytes().await.unwrap();
    if bytes.is_empty() {
        return (status, Value::Null);
    }
    (status, serde_json::from_slice(&bytes).unwrap())
}

pub async fn get(url: &str, token: &str) -> (StatusCode, Value) {
    call(Method::GET, url, Some(token), &[], None).await
}

pub async fn post(url: &str, token: &str, body: Value) -> (StatusCode, Value) {
    call(Method::POST, url, Some(token), &[], Some(body)).await
}

pub fn member_bind(oid: &str) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.aadUserConversationMember",
        "roles": ["owner"],
        "user@odata.bind": format!("https://graph.microsoft.com/v1.0/users('{oid}')"),
    })
}

pub fn assert_odata_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    assert!(
        body["error"]["innerError"]["request-id"].is_string(),
        "{body}"
    );
}

/// The `oneOnOne` chat of two users, created by `token`'s user.
pub async fn chat_of(server: &ServerProcess, token: &str, members: &[&str]) -> String {
    new_chat(server, token, "oneOnOne", members).await
}

/// A `group` chat of `members`, created by `token`'s user.
pub async fn group_of(server: &ServerProcess, token: &str, members: &[&str]) -> String {
    new_chat(server, token, "group", members).await
}

async fn new_chat(
    server: &ServerProcess,
    token: &str,
    chat_type: &str,
    members: &[&str],
) -> String {
    let members: Vec<Value> = members.iter().map(|m| member_bind(m)).collect();
    let (status, chat) = post(
        &server.url("/v1.0/chats"),
        token,
        json!({"chatType": chat_type, "topic": "a topic", "members": members}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{chat}");
    chat["id"].as_str().unwrap().to_owned()
}

/// Posts `body` as a message; the answer.
pub async fn send_json(
    server: &ServerProcess,
    token: &str,
    chat: &str,
    body: Value,
) -> (StatusCode, Value) {
    post(
        &server.url(&format!("/v1.0/chats/{chat}/messages")),
        token,
        body,
    )
    .await
}

/// Sends a plain text message; the created message.
pub async fn send_text(server: &ServerProcess, token: &str, chat: &str, text: &str) -> Value {
    let (status, message) = send_json(
        server,
        token,
        chat,
        json!({"body": {"contentType": "text", "content": text}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    message
}
