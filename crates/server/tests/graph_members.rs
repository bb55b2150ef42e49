//! Adding members to group chats, and read viewpoints
//! (`markChatReadForUser`, `markChatUnreadForUser`, the chat's `viewpoint`
//! and the members' `lastMessageReadDateTime` extension).

use convene_test_support::server_api::graph::*;
use convene_test_support::server_api::oidc::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn new_member(bind: String) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.aadUserConversationMember",
        "user@odata.bind": bind,
        "roles": ["owner"],
        "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z",
    })
}

fn graph_bind(oid: &str) -> String {
    format!("https://graph.microsoft.com/v1.0/users('{oid}')")
}

#[tokio::test]
async fn a_member_adds_carol_to_a_group_chat_and_she_sees_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let alice = api_token(&server, "alice@convene.example").await;
    let bob = api_token(&server, "bob@convene.example").await;
    let carol = api_token(&server, "carol@convene.example").await;
    let dave = api_token(&server, "dave@fabrikam.example").await;
    let one_on_one = chat_of(&server, &alice, &[ALICE_OID, BOB_OID]).await;
    let (status, created) = post(
        &server.url("/v1.0/chats"),
        &alice,
        json!({"chatType": "group", "topic": "Lunch",
               "members": [member_bind(ALICE_OID), member_bind(BOB_OID)]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let chat = created["id"].as_str().unwrap().to_owned();
    send_text(&server, &alice, &chat, "before carol").await;

    let members_url = server.url(&format!("/v1.0/chats/{chat}/members"));
    // Bob adds carol, with this server's own form of the bind.
    let (status, added) = post(
        &members_url,
        &bob,
        new_member(server.url(&format!("/v1.0/users('{CAROL_OID}')"))),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(
        added["@odata.type"],
        "#microsoft.graph.aadUserConversationMember"
    );
    assert_eq!(added["userId"], CAROL_OID);
    assert_eq!(added["displayName"], "Carol Example");
    assert_eq!(added["roles"], json!(["owner"]));
    assert_eq!(added["tenantId"], TENANT);
    assert_eq!(added["email"], "carol@convene.example");
    assert_eq!(added["visibleHistoryStartDateTime"], "0001-01-01T00:00:00Z");
    assert!(added["id"].is_string());
    assert!(added["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("/members/$entity"));

    let (status, members) = get(&members_url, &carol).await;
    assert_eq!(status, StatusCode::OK, "{members}");
    assert_eq!(members["value"].as_array().unwrap().len(), 3);
    let (_, page) = get(&server.url(&format!("/v1.0/chats/{chat}/messages")), &carol).await;
    assert_eq!(page["value"][0]["body"]["content"], "before carol");
    // Adding her again changes nothing.
    let (status, again) = post(&members_url, &alice, new_member(graph_bind(CAROL_OID))).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    let (_, members) = get(&members_url, &carol).await;
    assert_eq!(members["value"].as_array().unwrap().len(), 3);

    // A oneOnOne chat keeps its two members.
    let (status, body) = post(
        &server.url(&format!("/v1.0/chats/{one_on_one}/members")),
        &alice,
        new_member(graph_bind(CAROL_OID)),
    )
    .await;
    assert_odata_error(status, &body, StatusCode::FORBIDDEN, "Forbidden");
    // A non-member cannot add anyone; the chat does not exist for him.
    let (status, body) = post(&members_url, &dave, new_member(graph_bind(DAVE_OID))).await;
    assert_odata_error(status, &body, StatusCode::NOT_FOUND, "NotFound");
    // Dave is no user of this tenant; nobody is nobody.
    let (status, body) = post(&members_url, &alice, new_member(graph_bind(DAVE_OID))).await;
    assert_odata_error(status, &body, StatusCode::NOT_FOUND, "NotFound");
    // Bad input.
    for bad in [
        json!({"roles": ["owner"]}),
        json!({"user@odata.bind": graph_bind(CAROL_OID)}),
        json!({"user@odata.bind": "https://example.com/v1.0/users('x')", "roles": ["owner"]}),
        json!({"user@odata.bind": graph_bind(CAROL_OID), "roles": ["king"]}),
        json!({"@odata.type": "#microsoft.graph.skypeUserConversationMember",
               "user@odata.bind": graph_bind(CAROL_OID), "roles": ["owner"]}),
        json!({"user@odata.bind": graph_bind(CAROL_OID), "roles": ["owner"],
               "visibleHistoryStartDateTime": "last week"}),
        json!("not an object"),
    ] {
        let (status, body) = post(&members_url, &alice, bad).await;
        assert_odata_error(status, &body, StatusCode::BAD_REQUEST, "BadRequest");
    }
}

#[tokio::test]
async fn a_member_added_with_limited_history_sees_only_what_followed() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let alice = api_token(&server, "alice@convene.example").await;
    let carol = api_token(&server, "carol@convene.example").await;
    let chat = group_of(&server, &alice, &[ALICE_OID, BOB_OID]).await;
    send_text(&server, &alice, &chat, "old news").await;
    let first_seen = send_text(&server, &alice, &chat, "from here on").await;
    let mut body = new_member(graph_bind(CAROL_OID));
    body["visibleHistoryStartDateTime"] = first_seen["createdDateTime"].clone();
    let (status, added) = post(
        &server.url(&format!("/v1.0/chats/{chat}/members")),
        &alice,
        body,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(
        added["visibleHistoryStartDateTime"],
        first_seen["createdDateTime"]
    );
    let later = send_text(&server, &alice, &chat, "fresh").await;
    let (_, page) = get(&server.url(&format!("/v1.0/chats/{chat}/messages")), &carol).await;
    let ids: Vec<&Value> = page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["id"])
        .collect();
    assert_eq!(ids, [&later["id"], &first_seen["id"]]);
}

fn reader(oid: &str) -> Value {
    json!({"user": {"id": oid, "tenantId": TENANT}})
}

#[tokio::test]
async fn bob_marks_the_chat_read_and_unread_and_alice_sees_his_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let alice = api_token(&server, "alice@convene.example").await;
    let bob = api_token(&server, "bob@convene.example").await;
    let carol = api_token(&server, "carol@convene.example").await;
    let chat = chat_of(&server, &alice, &[ALICE_OID, BOB_OID]).await;
    let sent = send_text(&server, &alice, &chat, "read me").await;

    let chat_url = server.url(&format!("/v1.0/chats/{chat}"));
    let (_, viewed) = get(&chat_url, &bob).await;
    assert_eq!(
        viewed["viewpoint"],
        json!({"isHidden": false, "lastMessageReadDateTime": null})
    );
    // Sending marks it read for the sender.
    let (_, viewed) = get(&chat_url, &alice).await;
    assert_eq!(
        viewed["viewpoint"]["lastMessageReadDateTime"],
        sent["createdDateTime"]
    );

    let read_url = server.url(&format!("/v1.0/chats/{chat}/markChatReadForUser"));
    let (status, body) = post(&read_url, &bob, reader(BOB_OID)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, viewed) = get(&chat_url, &bob).await;
    let read_at = viewed["viewpoint"]["lastMessageReadDateTime"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(read_at.as_str() >= sent["createdDateTime"].as_str().unwrap());
    // The same viewpoint in /me/chats, and as the member extension.
    let (_, mine) = get(&server.url("/v1.0/me/chats?$expand=members"), &bob).await;
    assert_eq!(
        mine["value"][0]["viewpoint"]["lastMessageReadDateTime"],
        read_at.as_str()
    );
    let (_, members) = get(&server.url(&format!("/v1.0/chats/{chat}/members")), &alice).await;
    let bob_member = members["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["userId"] == BOB_OID)
        .unwrap();
    assert_eq!(bob_member["lastMessageReadDateTime"], read_at.as_str());
    let expanded = mine["value"][0]["members"].as_array().unwrap();
    assert!(expanded
        .iter()
        .all(|m| m.get("lastMessageReadDateTime").is_some()));

    // Unread: back to a given time, or to just before the newest message.
    let unread_url = server.url(&format!("/v1.0/chats/{chat}/markChatUnreadForUser"));
    let mut body = reader(BOB_OID);
    body["lastMessageReadDateTime"] = json!("2026-01-01T00:00:00.000Z");
    let (status, answer) = post(&unread_url, &bob, body).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    let (_, viewed) = get(&chat_url, &bob).await;
    assert_eq!(
        viewed["viewpoint"]["lastMessageReadDateTime"],
        "2026-01-01T00:00:00.000Z"
    );
    let (status, _) = post(&unread_url, &bob, reader(BOB_OID)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, viewed) = get(&chat_url, &bob).await;
    let viewpoint = viewed["viewpoint"]["lastMessageReadDateTime"]
        .as_str()
        .unwrap();
    assert!(
        viewpoint < sent["createdDateTime"].as_str().unwrap(),
        "{viewpoint}"
    );

    // Only for oneself; only members; only good input.
    let (status, body) = post(&read_url, &alice, reader(BOB_OID)).await;
    assert_odata_error(status, &body, StatusCode::FORBIDDEN, "Forbidden");
    let wrong_tenant = json!({"user": {"id": ALICE_OID, "tenantId": FABRIKAM_TENANT}});
    let (status, body) = post(&read_url, &alice, wrong_tenant).await;
    assert_odata_error(status, &body, StatusCode::FORBIDDEN, "Forbidden");
    let (status, body) = post(&read_url, &carol, reader(CAROL_OID)).await;
    assert_odata_error(status, &body, StatusCode::NOT_FOUND, "NotFound");
    let (status, body) = post(&read_url, &bob, json!({"who": "me"})).await;
    assert_odata_error(status, &body, StatusCode::BAD_REQUEST, "BadRequest");
    let mut body = reader(BOB_OID);
    body["lastMessageReadDateTime"] = json!("soon");
    let (status, body) = post(&unread_url, &bob, body).await;
    assert_odata_error(status, &body, StatusCode::BAD_REQUEST, "BadRequest");
}
