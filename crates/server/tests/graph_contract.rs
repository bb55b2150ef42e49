//! Every route added for mentions, members, read state and presence
//! answers a request without a token with Graph's 401 envelope.

use convene_test_support::server_api::graph::*;
use convene_test_support::server_api::oidc::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn new_routes_need_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let chat = "19:x@thread.v2";
    let routes = [
        (Method::POST, format!("/v1.0/chats/{chat}/members")),
        (
            Method::POST,
            format!("/v1.0/chats/{chat}/markChatReadForUser"),
        ),
        (
            Method::POST,
            format!("/v1.0/chats/{chat}/markChatUnreadForUser"),
        ),
        (Method::GET, "/v1.0/me/presence".to_owned()),
        (Method::GET, format!("/v1.0/users/{BOB_OID}/presence")),
        (
            Method::POST,
            "/v1.0/communications/getPresencesByUserId".to_owned(),
        ),
        (
            Method::POST,
            format!("/v1.0/users/{BOB_OID}/presence/setPresence"),
        ),
        (
            Method::POST,
            format!("/v1.0/users/{BOB_OID}/presence/clearPresence"),
        ),
    ];
    for (method, path) in routes {
        let (status, body) = call(method, &server.url(&path), None, &[], Some(json!({}))).await;
        assert_odata_error(
            status,
            &body,
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
        );
    }
    // And a chat that does not exist is 404 for a signed-in member-to-be.
    let alice = api_token(&server, "alice@convene.example").await;
    let (status, body) = post(
        &server.url(&format!("/v1.0/chats/{chat}/markChatReadForUser")),
        &alice,
        json!({"user": {"id": ALICE_OID}}),
    )
    .await;
    assert_odata_error(status, &body, StatusCode::NOT_FOUND, "NotFound");
}
