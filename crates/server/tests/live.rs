//! The live WebSocket against a running server, with a real WebSocket
//! client: hints, typing, presence, refusals, and the frame size limit.

use std::time::Duration;

use convene_test_support::server_api::graph::*;
use convene_test_support::server_api::oidc::*;
use convene_test_support::server_api::ServerProcess;
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const LIVE_PATH: &str = convene_proto::live::LIVE_PATH;
/// Long enough for a frame that is coming to arrive on a busy machine.
const PATIENCE: Duration = Duration::from_secs(5);
/// How long to wait for a frame that must not come.
const QUIET: Duration = Duration::from_millis(500);

async fn connect_with(server: &ServerProcess, token: Option<&str>) -> Result<Socket, WsError> {
    let mut request = format!("ws://{}{LIVE_PATH}", server.addr)
        .into_client_request()
        .unwrap();
    if let Some(token) = token {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

/// A socket of `username`, past its `hello`.
async fn connect(server: &ServerProcess, username: &str, oid: &str) -> Socket {
    let token = communication_token(server, username).await;
    let mut socket = connect_with(server, Some(&token)).await.unwrap();
    let hello = next(&mut socket, |_| true).await.expect("hello");
    assert_eq!(hello["type"], "hello", "{hello}");
    assert_eq!(hello["userId"], oid);
    assert_eq!(hello["protocol"], 1);
    socket
}

/// The next frame that `wanted` accepts (others are skipped), or `None`
/// if none comes within the wait.
async fn next_within(
    socket: &mut Socket,
    wait: Duration,
    wanted: impl Fn(&Value) -> bool,
) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .ok()??;
        if let Message::Text(text) = message.ok()? {
            let frame: Value = serde_json::from_str(text.as_str()).unwrap();
            if wanted(&frame) {
                return Some(frame);
            }
        }
    }
}

async fn next(socket: &mut Socket, wanted: impl Fn(&Value) -> bool) -> Option<Value> {
    next_within(socket, PATIENCE, wanted).await
}

fn of_type(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |frame| frame["type"] == kind
}

async fn send_frame(socket: &mut Socket, frame: &str) {
    socket
        .send(Message::Text(frame.to_owned().into()))
        .await
        .unwrap();
}

#[tokio::test]
async fn bob_hears_of_alices_message_and_so_does_her_other_device() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let alice = api_token(&server, "alice@convene.example").await;
    let mut bobs = connect(&server, "bob@convene.example", BOB_OID).await;
    let mut alices_laptop = connect(&server, "alice@convene.example", ALICE_OID).await;

    let chat = chat_of(&server, &alice, &[ALICE_OID, BOB_OID]).await;
    let created = next(&mut bobs, of_type("chatChanged")).await.unwrap();
    assert_eq!(
        created,
        json!({"type": "chatChanged", "chatId": chat, "change": "chat"})
    );

    let message = send_text(&server, &alice, &chat, "ping").await;
    let id = message["id"].as_str().unwrap();
    let expected = json!({"type": "chatChanged", "chatId": chat, "messageId": id,
                          "change": "messageCreated"});
    let is_message = |f: &Value| f["type"] == "chatChanged" && f["change"] != "chat";
    assert_eq!(next(&mut bobs, is_message).await.unwrap(), expected);
    assert_eq!(
        next(&mut alices_laptop, is_message).await.unwrap(),
        expected
    );

    // Reactions and read receipts are hinted too.
    let (status, _) = post(
        &server.url(&format!("/v1.0/chats/{chat}/messages/{id}/setReaction")),
        &alice,
        json!({"reactionType": "👍"}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let updated = next(&mut bobs, is_message).await.unwrap();
    assert_eq!(updated["change"], "messageUpdated");
    assert_eq!(updated["messageId"], id);
    let (status, _) = post(
        &server.url(&format!("/v1.0/chats/{chat}/markChatReadForUser")),
        &alice,
        json!({"user": {"id": ALICE_OID, "tenantId": TENANT}}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let read = next(&mut bobs, is_message).await.unwrap();
    assert_eq!(
        read,
        json!({"type": "chatChanged", "chatId": chat, "change": "read"})
    );
}

#[tokio::test]
async fn typing_reaches_the_other_members_only_and_junk_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let alice = api_token(&server, "alice@convene.example").await;
    let chat = chat_of(&server, &alice, &[ALICE_OID, BOB_OID]).await;
    let mut alices = connect(&server, "alice@convene.example", ALICE_OID).await;
    let mut bobs = connect(&server, "bob@convene.example", BOB_OID).await;
    let mut carols = connect(&server, "carol@convene.example", CAROL_OID).await;

    // Junk first: the socket survives it.
    send_frame(&mut alices, "not json").await;
    send_frame(&mut alices, r#"{"type":"callOffer","sdp":"x"}"#).await;
    send_frame(&mut alices, r#"{"type":"typing"}"#).await;
    // Carol is not in the chat: her typing is dropped.
    let typing = json!({"type": "typing", "chatId": chat}).to_string();
    send_frame(&mut carols, &typing).await;
    send_frame(&mut alices, &typing).await;

    let seen = next(&mut bobs, of_type("typing")).await.unwrap();
    assert_eq!(
        seen,
        json!({"type": "typing", "chatId": chat, "userId": ALICE_OID,
               "displayName": "Alice Example"})
    );
    assert!(next_within(&mut carols, QUIET, of_type("typing"))
        .await
        .is_none());
    assert!(next_within(&mut alices, QUIET, of_type("typing"))
        .await
        .is_none());
    assert!(next_within(&mut bobs, QUIET, of_type("typing"))
        .await
        .is_none());
}

#[tokio::test]
async fn a_missing_or_bad_token_is_refused_before_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let graph = api_token(&server, "alice@convene.example").await;
    for token in [None, Some("garbage"), Some(graph.as_str())] {
        match connect_with(&server, token).await {
            Err(WsError::Http(response)) => {
                assert_eq!(response.status(), 401);
                let body: Value =
                    serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
                assert_eq!(body["error"]["code"], "unauthorized", "{body}");
            }
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("upgraded with {token:?}"),
        }
    }
}

#[tokio::test]
async fn bob_is_available_while_connected_and_offline_after() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let alice = api_token(&server, "alice@convene.example").await;
    let mut alices = connect(&server, "alice@convene.example", ALICE_OID).await;
    let bob_presence = server.url(&format!("/v1.0/users/{BOB_OID}/presence"));
    let (_, before) = get(&bob_presence, &alice).await;
    assert_eq!(before["availability"], "Offline");

    let is_bobs = |f: &Value| f["type"] == "presenceChanged" && f["userId"] == BOB_OID;
    let bobs = connect(&server, "bob@convene.example", BOB_OID).await;
    let online = next(&mut alices, is_bobs).await.unwrap();
    assert_eq!(
        online,
        json!({"type": "presenceChanged", "userId": BOB_OID,
               "availability": "Available", "activity": "Available"})
    );
    let (_, during) = get(&bob_presence, &alice).await;
    assert_eq!(during["availability"], "Available");

    drop(bobs);
    let offline = next(&mut alices, is_bobs).await.unwrap();
    assert_eq!(offline["availability"], "Offline");
    assert_eq!(offline["activity"], "Offline");
    let (_, after) = get(&bob_presence, &alice).await;
    assert_eq!(after["availability"], "Offline");
}

/// A `callInvite` of about `size` bytes: an SDP padded with host
/// candidates, as a real one with many of them is. Its call id is not a
/// UUID, so the server answers it with `callError` once it has read it.
fn padded_invite(size: usize) -> String {
    const CANDIDATE: &str =
        "a=candidate:1467250027 1 udp 2122260223 192.0.2.10 46243 typ host generation 0\r\n";
    let mut sdp = String::from(
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
         m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n",
    );
    let frame = |sdp: &str| {
        json!({"type": "callInvite", "version": 1, "callId": "not-a-uuid",
               "callee": format!("8:orgid:{BOB_OID}"), "media": ["audio"], "sdp": sdp})
        .to_string()
    };
    while frame(&sdp).len() + CANDIDATE.len() + 8 <= size {
        sdp.push_str(CANDIDATE);
    }
    let padding = size.saturating_sub(frame(&sdp).len());
    sdp.push_str(&" ".repeat(padding));
    let frame = frame(&sdp);
    assert_eq!(frame.len(), size);
    frame
}

#[tokio::test]
async fn a_frame_over_the_size_limit_closes_the_socket_but_a_large_sdp_passes() {
    let limit = convene_proto::live::MAX_CLIENT_FRAME_BYTES;
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let mut alices = connect(&server, "alice@convene.example", ALICE_OID).await;

    // Exactly at the limit: read and answered.
    send_frame(&mut alices, &padded_invite(limit)).await;
    let refused = next(&mut alices, of_type("callError"))
        .await
        .expect("a frame of the limit's size is read");
    assert_eq!(refused["code"], "badRequest", "{refused}");

    // One byte more: the socket is closed (a close frame, or the
    // connection just ends), and nothing is answered.
    let _ = alices
        .send(Message::Text(padded_invite(limit + 1).into()))
        .await;
    let closed = tokio::time::timeout(PATIENCE, async {
        loop {
            match alices.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(Message::Text(text))) => panic!("answered an oversized frame: {text}"),
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the socket stayed open after an oversized frame"
    );

    // That socket only: the user connects again at once.
    let mut again = connect(&server, "alice@convene.example", ALICE_OID).await;
    send_frame(&mut again, &padded_invite(limit / 2)).await;
    assert!(next(&mut again, of_type("callError")).await.is_some());
}
