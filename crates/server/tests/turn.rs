//! `GET /v1/ice-servers`: its shape, its credential, and a real coturn
//! (`turnserver`, Debian package `coturn`) accepting that credential for a
//! TURN Allocate.

use std::net::UdpSocket;
use std::time::Duration;

use base64::Engine;
use convene_test_support::coturn::Coturn;
use convene_test_support::server_api::graph::*;
use convene_test_support::server_api::oidc::*;
use convene_test_support::server_api::{ServerCommand, ServerProcess};
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use reqwest::StatusCode;
use serde_json::{json, Value};

const SECRET: &str = "correct-horse-battery-staple";
const REALM: &str = "convene.test";

async fn ice_servers(server: &ServerProcess, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().get(server.url("/v1/ice-servers"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn start(dir: &std::path::Path, turn_url: &str) -> ServerProcess {
    write_keys(dir);
    ServerCommand::dev(dir)
        .args(["--stun-url", &turn_url.replace("turn:", "stun:")])
        .args(["--turn-url", turn_url, "--turn-secret", SECRET])
        .args(["--turn-ttl", "300"])
        .start()
}

#[tokio::test]
async fn ice_servers_carry_stun_and_a_short_lived_turn_credential() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), "turn:127.0.0.1:3478?transport=udp");
    let (status, body) = ice_servers(&server, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthorized");

    let token = communication_token(&server, "bob@convene.example").await;
    let (status, body) = ice_servers(&server, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(body["ttlSecs"], 300);
    let expires = body["expiresAt"].as_u64().unwrap();
    assert!(expires.abs_diff(now + 300) <= 5, "{body}");
    assert_eq!(
        body["iceServers"][0],
        json!({"urls": ["stun:127.0.0.1:3478?transport=udp"]})
    );
    let turn = &body["iceServers"][1];
    assert_eq!(turn["urls"], json!(["turn:127.0.0.1:3478?transport=udp"]));
    let username = turn["username"].as_str().unwrap();
    assert_eq!(username, format!("{expires}:{BOB_OID}"));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(username.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(turn["credential"], expected);
}

const MAGIC: [u8; 4] = [0x21, 0x12, 0xa4, 0x42];

fn attribute(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// A TURN Allocate request (RFC 5766) for UDP, with the long-term
/// credential (RFC 5389 §15.4) when `auth` gives username, realm, nonce
/// and password.
fn allocate(id: [u8; 12], auth: Option<(&str, &[u8], &[u8], &str)>) -> Vec<u8> {
    let mut attrs = Vec::new();
    attribute(&mut attrs, 0x0019, &[17, 0, 0, 0]); // REQUESTED-TRANSPORT: UDP
    let message = |attrs: &[u8], extra: usize| {
        let mut m = Vec::new();
        m.extend_from_slice(&0x0003u16.to_be_bytes());
        m.extend_from_slice(&((attrs.len() + extra) as u16).to_be_bytes());
        m.extend_from_slice(&MAGIC);
        m.extend_from_slice(&id);
        m.extend_from_slice(attrs);
        m
    };
    let Some((username, realm, nonce, password)) = auth else {
        return message(&attrs, 0);
    };
    attribute(&mut attrs, 0x0006, username.as_bytes());
    attribute(&mut attrs, 0x0014, realm);
    attribute(&mut attrs, 0x0015, nonce);
    // The HMAC covers the message with its length already counting the
    // MESSAGE-INTEGRITY attribute (4 + 20 bytes).
    let signed = message(&attrs, 24);
    let mut key_source = Vec::new();
    key_source.extend_from_slice(username.as_bytes());
    key_source.push(b':');
    key_source.extend_from_slice(realm);
    key_source.push(b':');
    key_source.extend_from_slice(password.as_bytes());
    let key = Md5::digest(&key_source);
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
    mac.update(&signed);
    let mut full = signed;
    attribute(&mut full, 0x0008, &mac.finalize().into_bytes());
    full
}

/// Message type and attributes of a STUN message.
type Stun = (u16, Vec<(u16, Vec<u8>)>);

/// Parses a STUN response.
fn parse(response: &[u8]) -> Stun {
    let kind = u16::from_be_bytes([response[0], response[1]]);
    let mut attrs = Vec::new();
    let mut at = 20;
    while at + 4 <= response.len() {
        let t = u16::from_be_bytes([response[at], response[at + 1]]);
        let len = u16::from_be_bytes([response[at + 2], response[at + 3]]) as usize;
        attrs.push((t, response[at + 4..at + 4 + len].to_vec()));
        at += 4 + len.div_ceil(4) * 4;
    }
    (kind, attrs)
}

fn find(attrs: &[(u16, Vec<u8>)], kind: u16) -> Option<Vec<u8>> {
    attrs
        .iter()
        .find(|(t, _)| *t == kind)
        .map(|(_, v)| v.clone())
}

fn exchange(socket: &UdpSocket, request: &[u8]) -> Option<Stun> {
    socket.send(request).ok()?;
    let mut buf = [0u8; 2048];
    let n = socket.recv(&mut buf).ok()?;
    Some(parse(&buf[..n]))
}

/// Allocates with `password`; the response's type (0x0103 success, 0x0113
/// error) and its error code if any.
fn try_allocate(port: u16, username: &str, password: &str) -> (u16, Option<u16>) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(("127.0.0.1", port)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    // First without credentials, for the realm and nonce (coturn may still
    // be starting: retry for a while).
    let mut challenge = None;
    for attempt in 0..50u8 {
        if let Some(answer) = exchange(&socket, &allocate([attempt; 12], None)) {
            challenge = Some(answer);
            break;
        }
    }
    let (kind, attrs) = challenge.expect("turnserver does not answer");
    assert_eq!(
        kind, 0x0113,
        "an unauthenticated Allocate must be challenged"
    );
    let realm = find(&attrs, 0x0014).expect("REALM");
    let nonce = find(&attrs, 0x0015).expect("NONCE");
    assert_eq!(realm, REALM.as_bytes());
    let request = allocate([0xaa; 12], Some((username, &realm, &nonce, password)));
    let (kind, attrs) = exchange(&socket, &request).expect("no answer to the Allocate");
    let code = find(&attrs, 0x0009).map(|v| u16::from(v[2]) * 100 + u16::from(v[3]));
    (kind, code)
}

#[tokio::test]
async fn a_real_coturn_accepts_the_credential() {
    let turn = Coturn::start(SECRET, REALM);
    let port = turn.port();

    let server_dir = tempfile::tempdir().unwrap();
    let server = start(
        server_dir.path(),
        &format!("turn:127.0.0.1:{port}?transport=udp"),
    );
    let token = communication_token(&server, "alice@convene.example").await;
    let (status, body) = ice_servers(&server, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let username = body["iceServers"][1]["username"]
        .as_str()
        .unwrap()
        .to_owned();
    let credential = body["iceServers"][1]["credential"]
        .as_str()
        .unwrap()
        .to_owned();

    let (ok, wrong) = tokio::task::spawn_blocking(move || {
        (
            try_allocate(port, &username, &credential),
            try_allocate(port, &username, "not-the-credential"),
        )
    })
    .await
    .unwrap();
    assert_eq!(ok, (0x0103, None), "coturn refused the server's credential");
    assert_eq!(wrong, (0x0113, Some(401)), "coturn took a wrong credential");
    drop(turn);
}
