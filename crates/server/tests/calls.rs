//! Call signaling against a running server, with real WebSocket clients:
//! ringing on every device, the answer binding one device, relaying only
//! between the bound devices, the ways a call ends, resume, call records,
//! and ICE servers.

use std::time::Duration;

use convene_test_support::server_api::graph::*;
use convene_test_support::server_api::oidc::*;
use convene_test_support::server_api::{ServerCommand, ServerProcess};
use convene_test_support::wait::wait_for_async;
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const PATIENCE: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(400);
const ALICE: &str = "alice@convene.example";
const BOB: &str = "bob@convene.example";
const CAROL: &str = "carol@convene.example";

fn start(dir: &std::path::Path, extra: &[&str]) -> ServerProcess {
    write_keys(dir);
    ServerCommand::dev(dir).args(extra).start()
}

async fn connect_token(server: &ServerProcess, token: &str) -> Socket {
    let mut request = format!("ws://{}{}", server.addr, convene_proto::live::LIVE_PATH)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let hello = next(&mut socket, "hello").await;
    assert_eq!(hello["type"], "hello");
    socket
}

async fn connect(server: &ServerProcess, username: &str) -> Socket {
    let token = communication_token(server, username).await;
    connect_token(server, &token).await
}

/// The next call frame (presence and other hints are skipped).
async fn next_call_within(socket: &mut Socket, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .ok()??;
        if let Message::Text(text) = message.ok()? {
            let frame: Value = serde_json::from_str(text.as_str()).unwrap();
            if frame["type"].as_str().unwrap_or("").starts_with("call") || frame["type"] == "hello"
            {
                return Some(frame);
            }
        }
    }
}

/// The next call frame, which must be of type `kind`.
async fn next(socket: &mut Socket, kind: &str) -> Value {
    let frame = next_call_within(socket, PATIENCE)
        .await
        .unwrap_or_else(|| panic!("no {kind} frame came"));
    assert_eq!(frame["type"], kind, "{frame}");
    frame
}

async fn quiet(socket: &mut Socket) {
    if let Some(frame) = next_call_within(socket, QUIET).await {
        panic!("unexpected frame {frame}");
    }
}

async fn send(socket: &mut Socket, frame: Value) {
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
}

fn new_call_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn invite(alice: &mut Socket, call: &str, callee: &str) {
    send(
        alice,
        json!({"type": "callInvite", "version": 1, "callId": call,
               "callee": format!("8:orgid:{callee}"), "media": ["audio", "video"],
               "sdp": "v=0 offer"}),
    )
    .await;
}

fn candidate(call: &str, line: &str) -> Value {
    json!({"type": "callCandidate", "callId": call,
           "candidate": {"candidate": line, "sdpMid": "0", "sdpMLineIndex": 0}})
}

async fn calls_of(server: &ServerProcess, token: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(server.url("/v1/calls"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// The record of `call` once it has an outcome (records are written just
/// after the frames go out).
async fn ended_record(server: &ServerProcess, token: &str, call: &str) -> Value {
    wait_for_async(Duration::from_secs(5), || async {
        let (status, body) = calls_of(server, token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == call && !r["outcome"].is_null())
            .cloned()
    })
    .await
    .unwrap_or_else(|| panic!("call {call} has no ended record"))
}

#[tokio::test]
async fn a_call_rings_on_every_device_and_binds_the_one_that_answers() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let alice_token = communication_token(&server, ALICE).await;
    let mut alice = connect_token(&server, &alice_token).await;
    let bob_token = communication_token(&server, BOB).await;
    let mut bob_phone = connect_token(&server, &bob_token).await;
    let mut bob_laptop = connect(&server, BOB).await;
    let mut carol = connect(&server, CAROL).await;

    let call = new_call_id();
    invite(&mut alice, &call, BOB_OID).await;
    for bob in [&mut bob_phone, &mut bob_laptop] {
        let incoming = next(bob, "callIncoming").await;
        assert_eq!(
            incoming,
            json!({"type": "callIncoming", "version": 1, "callId": call,
                   "caller": format!("8:orgid:{ALICE_OID}"), "callerName": "Alice Example",
                   "media": ["audio", "video"], "sdp": "v=0 offer"})
        );
    }
    quiet(&mut carol).await;

    // Ringing reaches alice once; her early candidate waits for the answer.
    send(
        &mut bob_phone,
        json!({"type": "callRinging", "callId": call}),
    )
    .await;
    send(
        &mut bob_laptop,
        json!({"type": "callRinging", "callId": call}),
    )
    .await;
    assert_eq!(
        next(&mut alice, "callRinging").await,
        json!({"type": "callRinging", "callId": call})
    );
    send(&mut alice, candidate(&call, "candidate:early")).await;
    quiet(&mut alice).await;

    // The laptop answers: alice gets the answer, the phone stops ringing,
    // the laptop gets the early candidate.
    send(
        &mut bob_laptop,
        json!({"type": "callAccept", "callId": call, "sdp": "v=0 answer"}),
    )
    .await;
    assert_eq!(
        next(&mut alice, "callAccepted").await,
        json!({"type": "callAccepted", "callId": call, "sdp": "v=0 answer"})
    );
    assert_eq!(
        next(&mut bob_phone, "callAnsweredElsewhere").await,
        json!({"type": "callAnsweredElsewhere", "callId": call})
    );
    let early = next(&mut bob_laptop, "callCandidate").await;
    assert_eq!(early["candidate"]["candidate"], "candidate:early");

    // Candidates, end of candidates and renegotiation go between the two
    // bound devices only.
    send(&mut bob_laptop, candidate(&call, "candidate:bob")).await;
    assert_eq!(
        next(&mut alice, "callCandidate").await,
        candidate(&call, "candidate:bob")
    );
    send(
        &mut alice,
        json!({"type": "callCandidate", "callId": call, "candidate": null}),
    )
    .await;
    assert_eq!(
        next(&mut bob_laptop, "callCandidate").await,
        json!({"type": "callCandidate", "callId": call, "candidate": null})
    );
    send(
        &mut alice,
        json!({"type": "callOffer", "callId": call, "sdp": "v=0 restart", "media": ["audio"]}),
    )
    .await;
    assert_eq!(
        next(&mut bob_laptop, "callOffer").await["sdp"],
        "v=0 restart"
    );
    send(
        &mut bob_laptop,
        json!({"type": "callAnswer", "callId": call, "sdp": "v=0 restarted"}),
    )
    .await;
    assert_eq!(next(&mut alice, "callAnswer").await["sdp"], "v=0 restarted");

    // Neither the phone nor carol can speak in the call.
    for outsider in [&mut bob_phone, &mut carol] {
        send(outsider, candidate(&call, "candidate:injected")).await;
        send(outsider, json!({"type": "callHangup", "callId": call})).await;
        let refused = next(outsider, "callError").await;
        assert_eq!(refused["code"], "notInCall", "{refused}");
        assert_eq!(refused["callId"], call.as_str());
        assert_eq!(next(outsider, "callError").await["code"], "notInCall");
    }
    quiet(&mut alice).await;
    quiet(&mut bob_laptop).await;

    // Alice hangs up; the laptop hears it.
    send(&mut alice, json!({"type": "callHangup", "callId": call})).await;
    assert_eq!(
        next(&mut bob_laptop, "callEnded").await,
        json!({"type": "callEnded", "callId": call, "outcome": "hungUp"})
    );
    quiet(&mut bob_phone).await;

    let record = ended_record(&server, &alice_token, &call).await;
    assert_eq!(record["direction"], "outgoing");
    assert_eq!(record["caller"], format!("8:orgid:{ALICE_OID}"));
    assert_eq!(record["callee"], format!("8:orgid:{BOB_OID}"));
    assert_eq!(record["outcome"], "hungUp");
    assert_eq!(record["media"], json!(["audio"]));
    assert!(record["answeredAt"].is_string() && record["endedAt"].is_string());
    assert!(record["durationSecs"].is_u64());
    let bobs = ended_record(&server, &bob_token, &call).await;
    assert_eq!(bobs["direction"], "incoming");
    // Carol sees none of it; no token, no history.
    let carol_token = communication_token(&server, CAROL).await;
    let (_, carols) = calls_of(&server, &carol_token).await;
    assert_eq!(carols["value"], json!([]));
    let (status, _) = calls_of(&server, "garbage").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn decline_cancel_busy_and_bad_invites() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let alice_token = communication_token(&server, ALICE).await;
    let mut alice = connect_token(&server, &alice_token).await;
    let mut bob_phone = connect(&server, BOB).await;
    let mut bob_laptop = connect(&server, BOB).await;
    let carol_token = communication_token(&server, CAROL).await;
    let mut carol = connect_token(&server, &carol_token).await;

    // Declined on the phone: alice hears it, the laptop stops ringing.
    let declined = new_call_id();
    invite(&mut alice, &declined, BOB_OID).await;
    next(&mut bob_phone, "callIncoming").await;
    next(&mut bob_laptop, "callIncoming").await;
    send(
        &mut bob_phone,
        json!({"type": "callDecline", "callId": declined}),
    )
    .await;
    assert_eq!(
        next(&mut alice, "callEnded").await,
        json!({"type": "callEnded", "callId": declined, "outcome": "declined"})
    );
    assert_eq!(
        next(&mut bob_laptop, "callDeclinedElsewhere").await,
        json!({"type": "callDeclinedElsewhere", "callId": declined})
    );

    // Cancelled by alice before an answer: every device stops ringing.
    let cancelled = new_call_id();
    invite(&mut alice, &cancelled, BOB_OID).await;
    next(&mut bob_phone, "callIncoming").await;
    next(&mut bob_laptop, "callIncoming").await;
    send(
        &mut alice,
        json!({"type": "callCancel", "callId": cancelled}),
    )
    .await;
    for bob in [&mut bob_phone, &mut bob_laptop] {
        assert_eq!(
            next(bob, "callEnded").await,
            json!({"type": "callEnded", "callId": cancelled, "outcome": "cancelled"})
        );
    }

    // Bob in a call with alice: carol's call is busy, and bob's devices
    // never ring.
    let talking = new_call_id();
    invite(&mut alice, &talking, BOB_OID).await;
    next(&mut bob_phone, "callIncoming").await;
    next(&mut bob_laptop, "callIncoming").await;
    send(
        &mut bob_phone,
        json!({"type": "callAccept", "callId": talking, "sdp": "v=0 answer"}),
    )
    .await;
    next(&mut alice, "callAccepted").await;
    next(&mut bob_laptop, "callAnsweredElsewhere").await;
    let busy = new_call_id();
    invite(&mut carol, &busy, BOB_OID).await;
    assert_eq!(
        next(&mut carol, "callEnded").await,
        json!({"type": "callEnded", "callId": busy, "outcome": "busy"})
    );
    quiet(&mut bob_laptop).await;

    // Bad invites are refused to their sender only.
    send(
        &mut carol,
        json!({"type": "callInvite", "version": 99, "callId": new_call_id(),
               "callee": format!("8:orgid:{ALICE_OID}"), "media": ["audio"], "sdp": "x"}),
    )
    .await;
    assert_eq!(
        next(&mut carol, "callError").await["code"],
        "unsupportedVersion"
    );
    send(
        &mut carol,
        json!({"type": "callInvite", "version": 1, "callId": "not-a-uuid",
               "callee": format!("8:orgid:{ALICE_OID}"), "media": ["audio"], "sdp": "x"}),
    )
    .await;
    assert_eq!(next(&mut carol, "callError").await["code"], "badRequest");
    invite(&mut carol, &talking, ALICE_OID).await;
    assert_eq!(next(&mut carol, "callError").await["code"], "callIdInUse");
    quiet(&mut alice).await;

    assert_eq!(
        ended_record(&server, &alice_token, &declined).await["outcome"],
        "declined"
    );
    let cancelled_record = ended_record(&server, &alice_token, &cancelled).await;
    assert_eq!(cancelled_record["outcome"], "cancelled");
    assert_eq!(cancelled_record["durationSecs"], 0);
    assert!(cancelled_record["answeredAt"].is_null());
    assert_eq!(
        ended_record(&server, &carol_token, &busy).await["outcome"],
        "busy"
    );
    // Newest first: the busy call, then the one still going, ...
    let (_, history) = calls_of(&server, &alice_token).await;
    let ids: Vec<&str> = history["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [talking.as_str(), cancelled.as_str(), declined.as_str()]
    );
    assert!(history["value"][0]["outcome"].is_null());
}

#[tokio::test]
async fn an_unanswered_call_ends_after_the_ring_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--call-ring-timeout", "1"]);
    let alice_token = communication_token(&server, ALICE).await;
    let mut alice = connect_token(&server, &alice_token).await;
    let mut bob = connect(&server, BOB).await;
    let call = new_call_id();
    invite(&mut alice, &call, BOB_OID).await;
    next(&mut bob, "callIncoming").await;
    let expected = json!({"type": "callEnded", "callId": call, "outcome": "noAnswer"});
    assert_eq!(next(&mut alice, "callEnded").await, expected);
    assert_eq!(next(&mut bob, "callEnded").await, expected);
    assert_eq!(
        ended_record(&server, &alice_token, &call).await["outcome"],
        "noAnswer"
    );
    // Carol is not connected: her call ends at once as unavailable.
    let unavailable = new_call_id();
    invite(&mut alice, &unavailable, CAROL_OID).await;
    assert_eq!(
        next(&mut alice, "callEnded").await,
        json!({"type": "callEnded", "callId": unavailable, "outcome": "unavailable"})
    );
}

#[tokio::test]
async fn a_dropped_device_resumes_within_the_grace_or_the_call_fails() {
    let dir = tempfile::tempdir().unwrap();
    // The shortest grace there is: the timing itself is unit-tested on a
    // fake clock (`call::registry`); here, real sockets drop and resume.
    let server = start(dir.path(), &["--call-resume-grace", "1"]);
    let alice_token = communication_token(&server, ALICE).await;
    let mut alice = connect_token(&server, &alice_token).await;
    let bob_token = communication_token(&server, BOB).await;
    let mut bob = connect_token(&server, &bob_token).await;
    let call = new_call_id();
    invite(&mut alice, &call, BOB_OID).await;
    next(&mut bob, "callIncoming").await;
    send(
        &mut bob,
        json!({"type": "callAccept", "callId": call, "sdp": "v=0 answer"}),
    )
    .await;
    next(&mut alice, "callAccepted").await;

    // Alice's socket drops; she comes back and resumes.
    drop(alice);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut alice = connect_token(&server, &alice_token).await;
    send(&mut alice, json!({"type": "callResume", "callId": call})).await;
    assert_eq!(
        next(&mut alice, "callState").await,
        json!({"type": "callState", "callId": call, "state": "connected", "role": "caller",
               "peer": format!("8:orgid:{BOB_OID}"), "media": ["audio", "video"]})
    );
    // The call is bound to her new socket. (That it still stands past the
    // grace is timing, on a simulated clock in `call::registry`'s tests and
    // convene-e2e's `call_outcomes`.)
    send(&mut bob, candidate(&call, "candidate:after-resume")).await;
    assert_eq!(
        next(&mut alice, "callCandidate").await["candidate"]["candidate"],
        "candidate:after-resume"
    );

    // Bob's socket drops and he does not come back: the call fails.
    drop(bob);
    assert_eq!(
        next(&mut alice, "callEnded").await,
        json!({"type": "callEnded", "callId": call, "outcome": "failed"})
    );
    let record = ended_record(&server, &alice_token, &call).await;
    assert_eq!(record["outcome"], "failed");
    // A late resume hears how it ended.
    let mut bob = connect_token(&server, &bob_token).await;
    send(&mut bob, json!({"type": "callResume", "callId": call})).await;
    let state = next(&mut bob, "callState").await;
    assert_eq!(state["state"], "ended");
    assert_eq!(state["outcome"], "failed");
    assert_eq!(state["role"], "callee");
}

#[tokio::test]
async fn nobody_outside_the_callers_organisation_can_be_called() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let mut alice = connect(&server, ALICE).await;
    let mut dave = connect(&server, "dave@fabrikam.example").await;

    // Dave (Fabrikam) is signed in, but alice (Convene) learns no more than
    // for someone signed out, and his devices never ring.
    let call = new_call_id();
    invite(&mut alice, &call, DAVE_OID).await;
    assert_eq!(
        next(&mut alice, "callEnded").await,
        json!({"type": "callEnded", "callId": call, "outcome": "unavailable"})
    );
    quiet(&mut dave).await;
}

#[tokio::test]
async fn a_device_that_connects_while_a_call_rings_rings_too_and_can_answer() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let mut alice = connect(&server, ALICE).await;
    let mut bob_phone = connect(&server, BOB).await;

    let call = new_call_id();
    invite(&mut alice, &call, BOB_OID).await;
    let incoming = next(&mut bob_phone, "callIncoming").await;

    // Bob opens his laptop while the phone rings: it rings with the same
    // call, offer included, and answering there binds the laptop.
    let mut bob_laptop = connect(&server, BOB).await;
    assert_eq!(next(&mut bob_laptop, "callIncoming").await, incoming);
    send(
        &mut bob_laptop,
        json!({"type": "callAccept", "callId": call, "sdp": "v=0 answer"}),
    )
    .await;
    next(&mut alice, "callAccepted").await;
    assert_eq!(
        next(&mut bob_phone, "callAnsweredElsewhere").await,
        json!({"type": "callAnsweredElsewhere", "callId": call})
    );

    // Once answered, a device that connects is not rung.
    let mut bob_tablet = connect(&server, BOB).await;
    quiet(&mut bob_tablet).await;
}

#[tokio::test]
async fn the_call_history_comes_a_page_at_a_time_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let alice_token = communication_token(&server, ALICE).await;
    let mut alice = connect_token(&server, &alice_token).await;
    let mut bob = connect(&server, BOB).await;

    let mut placed = Vec::new();
    for _ in 0..5 {
        let call = new_call_id();
        invite(&mut alice, &call, BOB_OID).await;
        next(&mut bob, "callIncoming").await;
        send(&mut bob, json!({"type": "callDecline", "callId": call})).await;
        next(&mut alice, "callEnded").await;
        ended_record(&server, &alice_token, &call).await;
        placed.push(call);
    }
    let get = |url: String| {
        let token = alice_token.clone();
        async move {
            let response = reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };

    let mut seen = Vec::new();
    let mut pages = 0;
    let mut url = server.url("/v1/calls?$top=2");
    loop {
        let (status, body) = get(url.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let ids: Vec<String> = body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect();
        assert!(ids.len() <= 2, "{body}");
        seen.extend(ids);
        pages += 1;
        match body["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    placed.reverse();
    assert_eq!(seen, placed, "every call once, newest first");
    assert_eq!(pages, 3);

    // Without $top, one page holds them all; bad paging options are 400s.
    let (_, all) = get(server.url("/v1/calls")).await;
    assert_eq!(all["value"].as_array().unwrap().len(), 5);
    assert!(all.get("@odata.nextLink").is_none(), "{all}");
    for bad in ["$top=0", "$top=201", "$top=many", "$skiptoken=not-ours"] {
        let (status, body) = get(server.url(&format!("/v1/calls?{bad}"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
}
