//! Messages as Graph clients write them: mentions, replies (a
//! `messageReference` attachment), and retried sends with `Idempotency-Key`.

use convene_test_support::server_api::graph::*;
use convene_test_support::server_api::oidc::*;
use convene_test_support::server_api::{ServerCommand, ServerProcess};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn mention_of_bob() -> Value {
    json!({"id": 0, "mentionText": "Bob", "mentioned": {"user": {
        "id": BOB_OID, "displayName": "Bob", "userIdentityType": "aadUser"}}})
}

#[tokio::test]
async fn mentions_and_replies_are_stored_and_listed_as_graph_has_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let alice = api_token(&server, "alice@convene.example").await;
    let bob = api_token(&server, "bob@convene.example").await;
    let chat = chat_of(&server, &alice, &[ALICE_OID, BOB_OID]).await;

    let plain = send_text(&server, &bob, &chat, "lunch at noon?").await;
    assert_eq!(plain["messageType"], "message");
    assert_eq!(plain["attachments"], json!([]));
    assert_eq!(plain["mentions"], json!([]));
    assert_eq!(plain["reactions"], json!([]));
    let parent_id = plain["id"].as_str().unwrap();

    let reference = json!({
        "id": parent_id,
        "contentType": "messageReference",
        "content": json!({
            "messageId": parent_id,
            "messagePreview": "lunch at noon?",
            "messageSender": {"user": {"id": BOB_OID, "displayName": "Bob Example"}},
        }).to_string(),
    });
    let (status, reply) = send_json(
        &server,
        &alice,
        &chat,
        json!({
            "body": {"contentType": "html", "content": format!(
                "<attachment id=\"{parent_id}\"></attachment>Yes <at id=\"0\">Bob</at>")},
            "mentions": [mention_of_bob()],
            "attachments": [reference],
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let expected_mention = json!([{
        "id": 0,
        "mentionText": "Bob",
        "mentioned": {
            "application": null, "device": null, "conversation": null, "tag": null,
            "user": {
                "@odata.type": "#microsoft.graph.teamworkUserIdentity",
                "id": BOB_OID,
                "displayName": "Bob Example",
                "userIdentityType": "aadUser",
                "tenantId": TENANT,
            },
        },
    }]);
    assert_eq!(reply["mentions"], expected_mention);
    let attachments = reply["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0]["id"], parent_id);
    assert_eq!(attachments[0]["contentType"], "messageReference");
    assert_eq!(attachments[0]["contentUrl"], Value::Null);
    let quoted: Value = serde_json::from_str(attachments[0]["content"].as_str().unwrap()).unwrap();
    assert_eq!(quoted["messageId"], parent_id);
    assert_eq!(quoted["messagePreview"], "lunch at noon?");
    assert_eq!(quoted["messageSender"]["user"]["id"], BOB_OID);
    assert_eq!(
        quoted["messageSender"]["user"]["displayName"],
        "Bob Example"
    );

    // Every read shows them the same.
    let (status, page) = get(&server.url(&format!("/v1.0/chats/{chat}/messages")), &bob).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let listed = &page["value"][0];
    assert_eq!(listed["id"], reply["id"]);
    assert_eq!(listed["mentions"], reply["mentions"]);
    assert_eq!(listed["attachments"], reply["attachments"]);
    assert_eq!(page["value"][1]["mentions"], json!([]));
}

#[tokio::test]
async fn mentions_and_replies_that_do_not_add_up_are_bad_requests() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let alice = api_token(&server, "alice@convene.example").await;
    let chat = chat_of(&server, &alice, &[ALICE_OID, BOB_OID]).await;
    let other = chat_of(&server, &alice, &[ALICE_OID, CAROL_OID]).await;
    let elsewhere = send_text(&server, &alice, &other, "in another chat").await;
    let elsewhere_id = elsewhere["id"].as_str().unwrap();

    let bad = [
        // Mention id not in the body.
        json!({"body": {"contentType": "html", "content": "Hi Bob"},
               "mentions": [mention_of_bob()]}),
        // Mentions need HTML.
        json!({"body": {"contentType": "text", "content": "Hi <at id=\"0\">Bob</at>"},
               "mentions": [mention_of_bob()]}),
        // Carol is not in this chat.
        json!({"body": {"contentType": "html", "content": "Hi <at id=\"0\">Carol</at>"},
               "mentions": [{"id": 0, "mentionText": "Carol",
                             "mentioned": {"user": {"id": CAROL_OID}}}]}),
        // A reply to a message of another chat.
        json!({"body": {"contentType": "html",
                        "content": format!("<attachment id=\"{elsewhere_id}\"></attachment>x")},
               "attachments": [{"id": elsewhere_id, "contentType": "messageReference"}]}),
        // A reply to no message.
        json!({"body": {"contentType": "html",
                        "content": "<attachment id=\"42\"></attachment>x"},
               "attachments": [{"id": "42", "contentType": "messageReference"}]}),
        // An attachment the body does not place.
        json!({"body": {"contentType": "html", "content": "x"},
               "attachments": [{"id": elsewhere_id, "contentType": "messageReference"}]}),
        // Mentions of the wrong shape.
        json!({"body": {"contentType": "html", "content": "x"}, "mentions": [{"id": "zero"}]}),
    ];
    for body in bad {
        let (status, answer) = send_json(&server, &alice, &chat, body.clone()).await;
        assert_odata_error(status, &answer, StatusCode::BAD_REQUEST, "BadRequest");
    }
    let (_, page) = get(&server.url(&format!("/v1.0/chats/{chat}/messages")), &alice).await;
    assert_eq!(page["value"], json!([]), "nothing was stored");
}

async fn send_with_key(
    server: &ServerProcess,
    token: &str,
    chat: &str,
    key: &str,
    text: &str,
) -> (StatusCode, Value) {
    call(
        Method::POST,
        &server.url(&format!("/v1.0/chats/{chat}/messages")),
        Some(token),
        &[("Idempotency-Key", key)],
        Some(json!({"body": {"contentType": "text", "content": text}})),
    )
    .await
}

#[tokio::test]
async fn a_retried_send_with_the_same_idempotency_key_is_stored_once_even_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let alice = api_token(&server, "alice@convene.example").await;
    let bob = api_token(&server, "bob@convene.example").await;
    let chat = chat_of(&server, &alice, &[ALICE_OID, BOB_OID]).await;

    let (status, first) = send_with_key(&server, &alice, &chat, "send-1", "once").await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, again) = send_with_key(&server, &alice, &chat, "send-1", "once").await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again, first);
    // Another sender's key is their own.
    let (status, bobs) = send_with_key(&server, &bob, &chat, "send-1", "mine").await;
    assert_eq!(status, StatusCode::CREATED, "{bobs}");
    assert_ne!(bobs["id"], first["id"]);
    let (status, body) = send_with_key(&server, &alice, &chat, &"k".repeat(201), "x").await;
    assert_odata_error(status, &body, StatusCode::BAD_REQUEST, "BadRequest");

    let finished = server.stop();
    assert_eq!(finished.status.code(), Some(0), "{}", finished.stderr);
    let server = ServerCommand::dev(dir.path()).start();
    let alice = api_token(&server, "alice@convene.example").await;
    let (status, after) = send_with_key(&server, &alice, &chat, "send-1", "once").await;
    assert_eq!(status, StatusCode::CREATED, "{after}");
    assert_eq!(after["id"], first["id"]);
    let (_, page) = get(&server.url(&format!("/v1.0/chats/{chat}/messages")), &alice).await;
    assert_eq!(page["value"].as_array().unwrap().len(), 2);
}
