//! The connection monitor against a real HTTP server on loopback: it sees
//! the server, sees it go away, and sees it come back on the same port.

use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use convene_core::config::ConfigLayer;
use convene_core::session::Sessions;
use convene_core::vault::{Vault, VaultKind};
use convene_core::{
    Client, ClientConfig, ClientEvent, ConnectionState, EventStream, MonitorTiming,
};
use convene_proto::{Health, HealthStatus, ServerMode, ServerVersion, PROTOCOL_VERSION};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A minimal stand-in speaking convene-server's health and version shapes.
struct FakeServer {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeServer {
    async fn start(addr: SocketAddr) -> (Self, SocketAddr) {
        let listener = TcpListener::bind(addr).await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route(
                "/healthz",
                get(|| async {
                    Json(Health {
                        status: HealthStatus::Ok,
                    })
                }),
            )
            .route(
                "/version",
                get(|| async {
                    Json(ServerVersion {
                        name: "convene-server".into(),
                        version: "0.0.0-test".into(),
                        protocol_versions: vec![PROTOCOL_VERSION],
                        mode: ServerMode::Dev,
                    })
                }),
            );
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        (
            Self {
                stop: Some(stop),
                task,
            },
            addr,
        )
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap();
    }
}

fn fast_timing() -> MonitorTiming {
    MonitorTiming {
        interval: Duration::from_millis(100),
        retry_min: Duration::from_millis(50),
        retry_max: Duration::from_millis(200),
        failures_until_unreachable: 2,
        probe_timeout: Duration::from_millis(500),
        session_check: Duration::from_secs(30),
    }
}

async fn wait_for(events: &mut EventStream, wanted: ConnectionState) -> Vec<ConnectionState> {
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = events.next().await {
            let ClientEvent::Connection { status } = event else {
                continue;
            };
            seen.push(status.state);
            if status.state == wanted {
                return;
            }
        }
        panic!("event stream ended");
    })
    .await
    .unwrap_or_else(|_| panic!("no {wanted:?} within 10 s; saw {seen:?}"));
    seen
}

#[tokio::test]
async fn sees_a_server_leave_and_come_back() {
    let (server, addr) = FakeServer::start("127.0.0.1:0".parse().unwrap()).await;
    let config = ClientConfig::from_layer(ConfigLayer {
        server: Some(format!("http://{addr}")),
        ..Default::default()
    })
    .unwrap();
    let sessions = Sessions::new(
        Vault::open(VaultKind::Ephemeral).await.unwrap(),
        convene_core::http::client(Duration::from_secs(5)),
        config.clone(),
        None,
    );
    let (client, mut events) = Client::start(config, fast_timing(), Ok(sessions));

    let seen = wait_for(&mut events, ConnectionState::Reachable).await;
    assert_eq!(
        seen,
        [ConnectionState::Checking, ConnectionState::Reachable]
    );
    assert_eq!(
        client.connection_status().server_version.as_deref(),
        Some("0.0.0-test")
    );

    server.stop().await;
    let seen = wait_for(&mut events, ConnectionState::Unreachable).await;
    assert_eq!(
        seen,
        [ConnectionState::Reconnecting, ConnectionState::Unreachable]
    );
    let error = client.connection_status().error.expect("a reason");
    assert!(error.contains(&addr.to_string()), "{error}");

    let (server, _) = FakeServer::start(addr).await;
    wait_for(&mut events, ConnectionState::Reachable).await;
    assert_eq!(client.connection_status().error, None);
    server.stop().await;
}

#[tokio::test]
async fn something_that_is_not_convene_is_reported_as_such() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route("/healthz", get(|| async { "<html>hello</html>" }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let config = ClientConfig::from_layer(ConfigLayer {
        server: Some(format!("http://{addr}")),
        ..Default::default()
    })
    .unwrap();
    let error = Client::probe_server(&config, fast_timing())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("is not a Convene server"), "{error}");
}
