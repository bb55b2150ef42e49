//! The Graph-compatible chat API (`/v1.0`) of a running `--dev` server,
//! with Graph tokens from its dev issuer.

use std::collections::HashSet;

use convene_test_support::server_api::graph::{api_token, token_with};
use convene_test_support::server_api::oidc::*;
use convene_test_support::server_api::{ServerCommand, ServerProcess};
use reqwest::StatusCode;
use serde_json::{json, Value};

const REDIRECT_URI: &str = "http://127.0.0.1:53682/callback";
const BOB_OID: &str = "00000000-b0b0-4000-8000-000000000002";
const CAROL_OID: &str = "00000000-ca01-4000-8000-000000000003";

async fn call(
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
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

async fn get(url: &str, token: &str) -> (StatusCode, Value) {
    call(reqwest::Method::GET, url, Some(token), None).await
}

async fn post(url: &str, token: &str, body: Value) -> (StatusCode, Value) {
    call(reqwest::Method::POST, url, Some(token), Some(body)).await
}

fn one_on_one(a: &str, b: &str) -> Value {
    let member = |oid: &str| {
        json!({
            "@odata.type": "#microsoft.graph.aadUserConversationMember",
            "roles": ["owner"],
            "user@odata.bind": format!("https://graph.microsoft.com/v1.0/users('{oid}')"),
        })
    };
    json!({"chatType": "oneOnOne", "members": [member(a), member(b)]})
}

fn assert_odata_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    assert!(
        body["error"]["innerError"]["request-id"].is_string(),
        "{body}"
    );
}

/// Alice's and bob's chat, created by alice.
async fn alice_and_bob_chat(server: &ServerProcess, alice: &str) -> String {
    let (status, chat) = post(
        &server.url("/v1.0/chats"),
        alice,
        one_on_one(ALICE_OID, BOB_OID),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{chat}");
    chat["id"].as_str().unwrap().to_owned()
}

async fn send(server: &ServerProcess, token: &str, chat: &str, kind: &str, text: &str) -> Value {
    let (status, message) = post(
        &server.url(&format!("/v1.0/chats/{chat}/messages")),
        token,
        json!({"body": {"contentType": kind, "content": text}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    // Distinct milliseconds, so `gt` filters can split any two messages.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    message
}

#[tokio::test]
async fn alice_and_bob_chat_and_page_through_messages() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let alice = api_token(&server, "alice@convene.example").await;
    let bob = api_token(&server, "bob@convene.example").await;

    let (status, chat) = post(
        &server.url("/v1.0/chats"),
        &alice,
        one_on_one(ALICE_OID, BOB_OID),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{chat}");
    assert_eq!(chat["chatType"], "oneOnOne");
    let chat_id = chat["id"].as_str().unwrap().to_owned();
    // The same two users: the same chat, whoever asks and in any order.
    let (_, again) = post(
        &server.url("/v1.0/chats"),
        &bob,
        one_on_one(BOB_OID, ALICE_OID),
    )
    .await;
    assert_eq!(again["id"], chat_id.as_str());
    assert_eq!(again["createdDateTime"], chat["createdDateTime"]);

    let text = send(&server, &alice, &chat_id, "text", "hello bob").await;
    assert_eq!(text["messageType"], "message");
    assert_eq!(text["chatId"], chat_id.as_str());
    assert_eq!(text["deletedDateTime"], Value::Null);
    assert_eq!(text["from"]["user"]["id"], ALICE_OID);
    assert_eq!(text["from"]["user"]["displayName"], "Alice Example");
    assert_eq!(text["from"]["user"]["userIdentityType"], "aadUser");
    assert_eq!(text["from"]["user"]["tenantId"], TENANT);
    assert_eq!(
        text["body"],
        json!({"contentType": "text", "content": "hello bob"})
    );
    let html = send(&server, &alice, &chat_id, "html", "<p>hi <b>bob</b></p>").await;
    assert_eq!(html["body"]["contentType"], "html");
    assert_eq!(html["body"]["content"], "<p>hi <b>bob</b></p>");
    let mut sent = vec![text, html];
    for i in 0..3 {
        sent.push(send(&server, &bob, &chat_id, "text", &format!("reply {i}")).await);
    }

    // Bob's chats, with members.
    let (status, chats) = get(&server.url("/v1.0/me/chats?$expand=members"), &bob).await;
    assert_eq!(status, StatusCode::OK, "{chats}");
    let value = chats["value"].as_array().unwrap();
    assert_eq!(value.len(), 1);
    assert_eq!(value[0]["id"], chat_id.as_str());
    let names: Vec<&str> = value[0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"Alice Example") && names.contains(&"Bob Example"));
    let (status, members) = get(&server.url(&format!("/v1.0/chats/{chat_id}/members")), &bob).await;
    assert_eq!(status, StatusCode::OK, "{members}");
    assert_eq!(members["value"].as_array().unwrap().len(), 2);
    let (status, one) = get(&server.url(&format!("/v1.0/chats/{chat_id}")), &bob).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["id"], chat_id.as_str());

    // All messages, newest first.
    let (status, all) = get(
        &server.url(&format!("/v1.0/chats/{chat_id}/messages")),
        &bob,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let ids: Vec<&str> = all["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = sent.iter().map(|m| m["id"].as_str().unwrap()).collect();
    expected.reverse();
    assert_eq!(ids, expected);
    assert!(all.get("@odata.nextLink").is_none());

    // Pages of two, following nextLink verbatim.
    let mut url = server.url(&format!(
        "/v1.0/chats/{chat_id}/messages?$top=2&$orderby=createdDateTime%20desc"
    ));
    let mut paged = Vec::new();
    let mut pages = 0;
    loop {
        let (status, page) = get(&url, &bob).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        let items = page["value"].as_array().unwrap();
        assert!(items.len() <= 2);
        paged.extend(items.iter().map(|m| m["id"].as_str().unwrap().to_owned()));
        match page["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(next.starts_with(&server.url("/v1.0/")), "{next}");
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(paged, expected);
    assert_eq!(paged.iter().collect::<HashSet<_>>().len(), paged.len());

    // Only what changed after the second message.
    let since = sent[1]["lastModifiedDateTime"].as_str().unwrap();
    let (status, newer) = get(
        &server.url(&format!(
            "/v1.0/chats/{chat_id}/messages?$orderby=lastModifiedDateTime%20desc\
             &$filter=lastModifiedDateTime%20gt%20{since}"
        )),
        &bob,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{newer}");
    let newer: Vec<&str> = newer["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(newer, expected[..3]);

    let (status, body) = get(
        &server.url(&format!("/v1.0/chats/{chat_id}/messages?$top=51")),
        &bob,
    )
    .await;
    assert_odata_error(status, &body, StatusCode::BAD_REQUEST, "BadRequest");
}

#[tokio::test]
async fn outsiders_and_bad_tokens_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let alice = api_token(&server, "alice@convene.example").await;
    let carol = api_token(&server, "carol@convene.example").await;
    let chat_id = alice_and_bob_chat(&server, &alice).await;
    send(&server, &alice, &chat_id, "text", "private").await;

    // Carol is no member: the chat does not exist for her.
    let messages = server.url(&format!("/v1.0/chats/{chat_id}/messages"));
    let (status, body) = get(&messages, &carol).await;
    assert_odata_error(status, &body, StatusCode::NOT_FOUND, "NotFound");
    let (status, body) = get(&server.url(&format!("/v1.0/chats/{chat_id}")), &carol).await;
    assert_odata_error(status, &body, StatusCode::NOT_FOUND, "NotFound");
    let (status, body) = post(
        &messages,
        &carol,
        json!({"body": {"contentType": "text", "content": "let me in"}}),
    )
    .await;
    assert_odata_error(status, &body, StatusCode::NOT_FOUND, "NotFound");
    let (status, body) = get(&server.url("/v1.0/me/chats"), &carol).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"], json!([]));

    // A chat she is not in, and one with a user who does not exist.
    let (status, body) = post(
        &server.url("/v1.0/chats"),
        &carol,
        one_on_one(ALICE_OID, BOB_OID),
    )
    .await;
    assert_odata_error(status, &body, StatusCode::BAD_REQUEST, "BadRequest");
    let nobody = "00000000-0000-4000-8000-00000000dead";
    let (status, body) = post(
        &server.url("/v1.0/chats"),
        &alice,
        one_on_one(ALICE_OID, nobody),
    )
    .await;
    assert_odata_error(status, &body, StatusCode::NOT_FOUND, "NotFound");

    // No token, a mangled one, and one for another resource.
    let (status, body) = call(reqwest::Method::GET, &messages, None, None).await;
    assert_odata_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
    );
    let (status, body) = get(&messages, &format!("{alice}x")).await;
    assert_odata_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
    );
    let code = code_for(&server, REDIRECT_URI, ACS_SCOPES).await;
    let (_, tokens) = redeem(&server, &code, REDIRECT_URI, VERIFIER).await;
    let acs = tokens["access_token"].as_str().unwrap();
    let (status, body) = get(&messages, acs).await;
    assert_odata_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
    );

    // Graph's message size limit.
    let (status, body) = post(
        &messages,
        &alice,
        json!({"body": {"contentType": "text", "content": "x".repeat(28 * 1024 + 1)}}),
    )
    .await;
    assert_odata_error(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
    );
}

#[tokio::test]
async fn a_created_message_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let alice = api_token(&server, "alice@convene.example").await;
    let chat_id = alice_and_bob_chat(&server, &alice).await;
    let message = send(&server, &alice, &chat_id, "text", "still here?").await;
    let finished = server.stop();
    assert_eq!(finished.status.code(), Some(0), "{}", finished.stderr);

    let server = ServerCommand::dev(dir.path()).start();
    // The issuer names the Host, so a new port needs a new token.
    let bob = api_token(&server, "bob@convene.example").await;
    let (status, page) = get(
        &server.url(&format!("/v1.0/chats/{chat_id}/messages")),
        &bob,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        page["value"],
        json!([message.as_object().map(|m| {
            let mut m = m.clone();
            m.remove("@odata.context");
            m
        })])
    );
}

async fn patch(url: &str, token: &str, body: Value) -> (StatusCode, Value) {
    call(reqwest::Method::PATCH, url, Some(token), Some(body)).await
}

async fn get_with(url: &str, token: &str, headers: &[(&str, &str)]) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().get(url).bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// The messages `token`'s user lists with `query`.
async fn listed(server: &ServerProcess, token: &str, chat: &str, query: &str) -> Vec<Value> {
    let (status, page) = get(
        &server.url(&format!("/v1.0/chats/{chat}/messages{query}")),
        token,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["value"].as_array().unwrap().clone()
}

fn ids(messages: &[Value]) -> Vec<&str> {
    messages.iter().map(|m| m["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn bob_finds_alice_in_the_people_picker() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let bob = api_token(&server, "bob@convene.example").await;

    // By sign-in name.
    let (status, found) = get(
        &server.url("/v1.0/users?$filter=userPrincipalName%20eq%20'alice@convene.example'"),
        &bob,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(
        found["value"],
        json!([{
            "id": ALICE_OID,
            "displayName": "Alice Example",
            "userPrincipalName": "alice@convene.example",
            "mail": "alice@convene.example",
        }])
    );
    assert!(found["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("/v1.0/$metadata#users"));

    // By name, which needs ConsistencyLevel: eventual as at Graph.
    let search = server.url("/v1.0/users?$search=%22displayName:alice%22");
    let (status, body) = get(&search, &bob).await;
    assert_odata_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "Request_UnsupportedQuery",
    );
    let (status, found) = get_with(&search, &bob, &[("ConsistencyLevel", "eventual")]).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let value = found["value"].as_array().unwrap();
    assert_eq!(value.len(), 1, "{found}");
    assert_eq!(value[0]["id"], ALICE_OID);

    // Everyone of bob's tenant (not Fabrikam's dave), paged by $top.
    let (status, all) = get_with(
        &server.url("/v1.0/users?$search=%22userPrincipalName:convene%22&$top=2&$count=true"),
        &bob,
        &[("ConsistencyLevel", "eventual")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all["@odata.count"], 3);
    assert_eq!(ids(all["value"].as_array().unwrap()), [ALICE_OID, BOB_OID]);
    let next = all["@odata.nextLink"].as_str().unwrap();
    let (status, rest) = get_with(next, &bob, &[("ConsistencyLevel", "eventual")]).await;
    assert_eq!(status, StatusCode::OK, "{rest}");
    assert_eq!(ids(rest["value"].as_array().unwrap()), [CAROL_OID]);
    assert!(rest.get("@odata.nextLink").is_none());
    let (_, everyone) = get(&server.url("/v1.0/users"), &bob).await;
    let everyone = everyone["value"].as_array().unwrap();
    assert_eq!(everyone.len(), 3);
    assert!(!ids(everyone).contains(&DAVE_OID));

    // One user, by id or by sign-in name; dave is in another tenant.
    let (status, alice) = get(&server.url(&format!("/v1.0/users/{ALICE_OID}")), &bob).await;
    assert_eq!(status, StatusCode::OK, "{alice}");
    assert_eq!(alice["userPrincipalName"], "alice@convene.example");
    let (status, alice) = get(&server.url("/v1.0/users/Alice@convene.example"), &bob).await;
    assert_eq!(status, StatusCode::OK, "{alice}");
    assert_eq!(alice["id"], ALICE_OID);
    let (status, body) = get(&server.url(&format!("/v1.0/users/{DAVE_OID}")), &bob).await;
    assert_odata_error(
        status,
        &body,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
    );
    let (status, body) = get(&server.url("/v1.0/users?$filter=jobTitle%20eq%20'x'"), &bob).await;
    assert_odata_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "Request_UnsupportedQuery",
    );

    // A Graph token, even one its own issuer signed, is not for this
    // server: Convene accepts only tokens for its own API.
    let graph = token_with(&server, "bob@convene.example", GRAPH_SCOPES).await;
    let (status, body) = get(&server.url("/v1.0/users"), &graph).await;
    assert_odata_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("only tokens for its own API"),
        "{body}"
    );
}

#[tokio::test]
async fn alice_edits_and_deletes_her_message_and_bob_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let alice = api_token(&server, "alice@convene.example").await;
    let bob = api_token(&server, "bob@convene.example").await;
    let chat_id = alice_and_bob_chat(&server, &alice).await;
    let first = send(&server, &alice, &chat_id, "text", "helo bob").await;
    let second = send(&server, &bob, &chat_id, "text", "hi").await;
    let id = first["id"].as_str().unwrap();
    let url = server.url(&format!("/v1.0/chats/{chat_id}/messages/{id}"));
    let seen = second["lastModifiedDateTime"].as_str().unwrap().to_owned();

    let (status, body) = patch(
        &url,
        &alice,
        json!({"body": {"contentType": "html", "content": "<p>hello bob</p>"}}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(body, Value::Null);

    // Bob polls for changes since the newest message he had seen.
    let changed = listed(
        &server,
        &bob,
        &chat_id,
        &format!(
            "?$orderby=lastModifiedDateTime%20desc&$filter=lastModifiedDateTime%20gt%20{seen}"
        ),
    )
    .await;
    assert_eq!(ids(&changed), [id]);
    let edited = &changed[0];
    assert_eq!(
        edited["body"],
        json!({"contentType": "html", "content": "<p>hello bob</p>"})
    );
    assert_eq!(edited["createdDateTime"], first["createdDateTime"]);
    assert!(
        edited["lastModifiedDateTime"].as_str().unwrap() > seen.as_str(),
        "{edited}"
    );
    assert_eq!(edited["lastEditedDateTime"], edited["lastModifiedDateTime"]);
    assert_eq!(edited["deletedDateTime"], Value::Null);

    // Not bob's message to change.
    let (status, body) = patch(
        &url,
        &bob,
        json!({"body": {"contentType": "text", "content": "bob was here"}}),
    )
    .await;
    assert_odata_error(status, &body, StatusCode::FORBIDDEN, "Forbidden");
    let (status, body) = post(&format!("{url}/softDelete"), &bob, json!({})).await;
    assert_odata_error(status, &body, StatusCode::FORBIDDEN, "Forbidden");
    let (status, body) = patch(
        &url,
        &alice,
        json!({"body": {"contentType": "text", "content": " "}}),
    )
    .await;
    assert_odata_error(status, &body, StatusCode::BAD_REQUEST, "BadRequest");

    // Soft delete: still listed, with its id, a deletion time and no body.
    let seen = edited["lastModifiedDateTime"].as_str().unwrap().to_owned();
    let (status, body) = post(&format!("{url}/softDelete"), &alice, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let changed = listed(
        &server,
        &bob,
        &chat_id,
        &format!("?$filter=lastModifiedDateTime%20gt%20{seen}"),
    )
    .await;
    assert_eq!(ids(&changed), [id]);
    let deleted = &changed[0];
    assert!(deleted["deletedDateTime"].is_string(), "{deleted}");
    assert_eq!(deleted["deletedDateTime"], deleted["lastModifiedDateTime"]);
    assert_eq!(deleted["body"]["content"], "");
    assert_eq!(ids(&listed(&server, &bob, &chat_id, "").await).len(), 2);
    let (status, body) = patch(
        &url,
        &alice,
        json!({"body": {"contentType": "text", "content": "too late"}}),
    )
    .await;
    assert_odata_error(status, &body, StatusCode::BAD_REQUEST, "BadRequest");

    // And back.
    let seen = deleted["lastModifiedDateTime"].as_str().unwrap().to_owned();
    let (status, body) = post(&format!("{url}/undoSoftDelete"), &alice, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let changed = listed(
        &server,
        &bob,
        &chat_id,
        &format!("?$filter=lastModifiedDateTime%20gt%20{seen}"),
    )
    .await;
    assert_eq!(ids(&changed), [id]);
    assert_eq!(changed[0]["deletedDateTime"], Value::Null);
    assert_eq!(changed[0]["body"]["content"], "<p>hello bob</p>");

    // Unknown messages are not found.
    let (status, body) = post(
        &server.url(&format!("/v1.0/chats/{chat_id}/messages/123/softDelete")),
        &alice,
        json!({}),
    )
    .await;
    assert_odata_error(status, &body, StatusCode::NOT_FOUND, "NotFound");
}

#[tokio::test]
async fn bob_reacts_and_alice_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let alice = api_token(&server, "alice@convene.example").await;
    let bob = api_token(&server, "bob@convene.example").await;
    let chat_id = alice_and_bob_chat(&server, &alice).await;
    let message = send(&server, &alice, &chat_id, "text", "lunch?").await;
    let id = message["id"].as_str().unwrap();
    let url = server.url(&format!("/v1.0/chats/{chat_id}/messages/{id}"));
    let thumbs = json!({"reactionType": "👍"});

    for _ in 0..2 {
        let (status, body) = post(&format!("{url}/setReaction"), &bob, thumbs.clone()).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    let since = message["lastModifiedDateTime"].as_str().unwrap();
    let changed = listed(
        &server,
        &alice,
        &chat_id,
        &format!("?$filter=lastModifiedDateTime%20gt%20{since}"),
    )
    .await;
    assert_eq!(ids(&changed), [id]);
    let reactions = changed[0]["reactions"].as_array().unwrap();
    assert_eq!(reactions.len(), 1, "{reactions:?}");
    assert_eq!(reactions[0]["reactionType"], "👍");
    assert_eq!(reactions[0]["displayName"], "Like");
    assert!(reactions[0]["createdDateTime"].is_string());
    assert_eq!(reactions[0]["user"]["user"]["id"], BOB_OID, "{reactions:?}");
    assert_eq!(reactions[0]["user"]["user"]["displayName"], "Bob Example");
    assert_eq!(reactions[0]["user"]["user"]["userIdentityType"], "aadUser");

    let (status, body) = post(
        &format!("{url}/setReaction"),
        &bob,
        json!({"reactionType": ""}),
    )
    .await;
    assert_odata_error(status, &body, StatusCode::BAD_REQUEST, "BadRequest");

    let since = changed[0]["lastModifiedDateTime"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = post(&format!("{url}/unsetReaction"), &bob, thumbs).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let changed = listed(
        &server,
        &alice,
        &chat_id,
        &format!("?$filter=lastModifiedDateTime%20gt%20{since}"),
    )
    .await;
    assert_eq!(ids(&changed), [id]);
    assert_eq!(changed[0]["reactions"], json!([]));
}

#[tokio::test]
async fn outsiders_cannot_change_messages() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let alice = api_token(&server, "alice@convene.example").await;
    let carol = api_token(&server, "carol@convene.example").await;
    let chat_id = alice_and_bob_chat(&server, &alice).await;
    let message = send(&server, &alice, &chat_id, "text", "private").await;
    let id = message["id"].as_str().unwrap();
    let url = server.url(&format!("/v1.0/chats/{chat_id}/messages/{id}"));

    let (status, body) = patch(
        &url,
        &carol,
        json!({"body": {"contentType": "text", "content": "mine now"}}),
    )
    .await;
    assert_odata_error(status, &body, StatusCode::NOT_FOUND, "NotFound");
    for action in ["softDelete", "undoSoftDelete"] {
        let (status, body) = post(&format!("{url}/{action}"), &carol, json!({})).await;
        assert_odata_error(status, &body, StatusCode::NOT_FOUND, "NotFound");
    }
    for action in ["setReaction", "unsetReaction"] {
        let (status, body) = post(
            &format!("{url}/{action}"),
            &carol,
            json!({"reactionType": "👍"}),
        )
        .await;
        assert_odata_error(status, &body, StatusCode::NOT_FOUND, "NotFound");
    }
    // Nothing changed.
    let (_, page) = get(
        &server.url(&format!("/v1.0/chats/{chat_id}/messages")),
        &alice,
    )
    .await;
    assert_eq!(page["value"][0]["body"]["content"], "private");
    assert_eq!(page["value"][0]["reactions"], json!([]));
    assert_eq!(
        page["value"][0]["lastModifiedDateTime"],
        message["lastModifiedDateTime"]
    );
}

#[tokio::test]
async fn a_caller_over_the_rate_limit_is_told_when_to_retry() {
    let dir = tempfile::tempdir().unwrap();
    write_keys(dir.path());
    let server = ServerCommand::dev(dir.path())
        .args(["--graph-rate-limit", "2"])
        .start();
    let alice = api_token(&server, "alice@convene.example").await;
    let bob = api_token(&server, "bob@convene.example").await;
    let url = server.url("/v1.0/me/chats");

    for _ in 0..2 {
        assert_eq!(get(&url, &alice).await.0, StatusCode::OK);
    }
    let response = reqwest::Client::new()
        .get(&url)
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "TooManyRequests");

    // Bob is not held back by alice, and alice may go on after waiting.
    assert_eq!(get(&url, &bob).await.0, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(get(&url, &alice).await.0, StatusCode::OK);
}
