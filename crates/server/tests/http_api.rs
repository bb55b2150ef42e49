//! The HTTP endpoints of a running server, over a real socket.

use convene_proto::{ServerMode, ServerVersion, PROTOCOL_VERSION};
use convene_test_support::server_api::{get_json, users_on_disk, ServerCommand};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn healthz_answers_status_ok() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerCommand::dev(dir.path()).start();

    let (status, body) = get_json(&server.url("/healthz")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "ok"}));
}

#[tokio::test]
async fn version_names_server_version_protocols_and_dev_mode() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerCommand::dev(dir.path()).start();

    let (status, body) = get_json(&server.url("/version")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({
            "name": "convene-server",
            "version": env!("CARGO_PKG_VERSION"),
            "protocolVersions": [PROTOCOL_VERSION],
            "mode": "dev",
        })
    );
    let version: ServerVersion = serde_json::from_value(body).unwrap();
    assert!(version.speaks(PROTOCOL_VERSION));
    assert_eq!(version.mode, ServerMode::Dev);
}

#[tokio::test]
async fn unknown_route_is_404_with_a_json_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerCommand::dev(dir.path()).start();

    let (status, body) = get_json(&server.url("/no/such/thing")).await;

    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "notFound");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("/no/such/thing"), "{message}");
}

#[cfg(unix)]
#[tokio::test]
async fn tenant_mode_serves_the_same_endpoints_and_says_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerCommand::bare()
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args([
            "--authority",
            "https://login.microsoftonline.com/organizations/v2.0",
            "--client-id",
            "8d3b5c1e-0000-4000-8000-00000000c11e",
        ])
        .start();

    let (status, body) = get_json(&server.url("/healthz")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    let (_, body) = get_json(&server.url("/version")).await;
    assert_eq!(body["mode"], "tenant");

    // No demo users outside dev mode.
    let finished = server.stop();
    assert!(finished.status.success(), "{finished:#?}");
    assert!(users_on_disk(&dir.path().join("convene.db")).is_empty());
}
