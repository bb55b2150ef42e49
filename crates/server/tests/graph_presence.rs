//! Graph's presence routes on a running server: reads, many at once,
//! setPresence/clearPresence, scopes and bad input.

use convene_test_support::server_api::graph::*;
use convene_test_support::server_api::oidc::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn bob_sets_and_clears_his_presence_and_alice_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let alice = api_token(&server, "alice@convene.example").await;
    let bob = api_token(&server, "bob@convene.example").await;

    let (status, mine) = get(&server.url("/v1.0/me/presence"), &alice).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["id"], ALICE_OID);
    assert_eq!(mine["availability"], "Offline");
    assert_eq!(mine["activity"], "Offline");
    assert!(mine["@odata.context"].as_str().unwrap().ends_with(&format!(
        "/v1.0/$metadata#users('{ALICE_OID}')/presence/$entity"
    )));

    let set_url = server.url(&format!("/v1.0/users/{BOB_OID}/presence/setPresence"));
    let (status, body) = post(
        &set_url,
        &bob,
        json!({"sessionId": CLIENT_ID, "availability": "Busy", "activity": "InACall",
               "expirationDuration": "PT1H"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let bob_url = server.url(&format!("/v1.0/users/{BOB_OID}/presence"));
    let (status, seen) = get(&bob_url, &alice).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(
        (
            seen["id"].clone(),
            seen["availability"].clone(),
            seen["activity"].clone()
        ),
        (json!(BOB_OID), json!("Busy"), json!("InACall"))
    );
    assert_eq!(seen["statusMessage"], Value::Null);

    let (status, many) = post(
        &server.url("/v1.0/communications/getPresencesByUserId"),
        &alice,
        json!({"ids": [BOB_OID, CAROL_OID, DAVE_OID]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{many}");
    let value = many["value"].as_array().unwrap();
    assert_eq!(value.len(), 3);
    assert_eq!(value[0]["availability"], "Busy");
    assert_eq!(value[1]["id"], CAROL_OID);
    assert_eq!(value[1]["availability"], "Offline");
    // Another organisation's user: nothing leaks.
    assert_eq!(value[2]["availability"], "PresenceUnknown");

    let (status, _) = post(
        &server.url(&format!("/v1.0/users/{BOB_OID}/presence/clearPresence")),
        &bob,
        json!({"sessionId": CLIENT_ID}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, seen) = get(&bob_url, &alice).await;
    assert_eq!(seen["availability"], "Offline");
}

#[tokio::test]
async fn presence_is_ones_own_to_set_and_wants_good_input() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let alice = api_token(&server, "alice@convene.example").await;
    let bob = api_token(&server, "bob@convene.example").await;

    let set_alice = server.url(&format!("/v1.0/users/{ALICE_OID}/presence/setPresence"));
    let good = json!({"sessionId": "s", "availability": "Away", "activity": "Away"});
    // Only one's own presence.
    let (status, body) = post(&set_alice, &bob, good.clone()).await;
    assert_odata_error(status, &body, StatusCode::FORBIDDEN, "Forbidden");

    let set_bob = server.url(&format!("/v1.0/users/{BOB_OID}/presence/setPresence"));
    for bad in [
        json!({"sessionId": "s", "availability": "Busy", "activity": "Away"}),
        json!({"sessionId": "s", "availability": "Away", "activity": "Away",
               "expirationDuration": "PT1M"}),
        json!({"sessionId": "s", "availability": "Away", "activity": "Away",
               "expirationDuration": "PT5H"}),
        json!({"sessionId": "s", "availability": "Away", "activity": "Away",
               "expirationDuration": "an hour"}),
        json!({"sessionId": "", "availability": "Away", "activity": "Away"}),
        json!({"availability": "Away"}),
    ] {
        let (status, body) = post(&set_bob, &bob, bad).await;
        assert_odata_error(status, &body, StatusCode::BAD_REQUEST, "BadRequest");
    }
    let many = server.url("/v1.0/communications/getPresencesByUserId");
    for bad in [json!({"ids": []}), json!({"ids": ["bob"]}), json!({})] {
        let (status, body) = post(&many, &alice, bad).await;
        assert_odata_error(status, &body, StatusCode::BAD_REQUEST, "BadRequest");
    }
    let (status, body) = get(
        &server.url(&format!("/v1.0/users/{DAVE_OID}/presence")),
        &alice,
    )
    .await;
    assert_odata_error(
        status,
        &body,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
    );
}
