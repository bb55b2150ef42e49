//! A running client keeps its session renewed ahead of expiry without being
//! asked, and says so when the session ends behind its back.

mod support;

use std::future::pending;
use std::time::{Duration, Instant};

use convene_core::config::ConfigLayer;
use convene_core::session::Sessions;
use convene_core::vault::{Vault, VaultKind};
use convene_core::{Client, ClientConfig, ClientEvent, MonitorTiming};
use support::server::DevServer;

async fn refresh_token(vault: &Vault, sessions_key: &convene_core::vault::AccountKey) -> String {
    vault
        .load(sessions_key, "refresh_token")
        .await
        .unwrap()
        .map(|s| s.expose().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_client_renews_in_the_background_and_reports_an_ended_session() {
    let scratch = tempfile::tempdir().unwrap();
    // Tokens that live four seconds instead of Entra's hour.
    let server = DevServer::start_with(scratch.path(), &["--dev-token-lifetime", "4"]);
    let config = ClientConfig::from_layer(ConfigLayer {
        server: Some(server.url()),
        ..Default::default()
    })
    .unwrap();
    let vault = Vault::open(VaultKind::Ephemeral).await.unwrap();
    let sessions = Sessions::new(
        vault.clone(),
        convene_core::http::client(Duration::from_secs(30)),
        config.clone(),
        None,
    );
    let alice = sessions
        .sign_in(
            |url| {
                let url = url.clone();
                tokio::spawn(async move {
                    support::person::sign_in_at(url, "alice@convene.example", "convene").await
                });
                Ok(())
            },
            pending(),
            None,
        )
        .await
        .expect("alice signs in");
    let key = alice.key();
    let at_sign_in = refresh_token(&vault, &key).await;

    let timing = MonitorTiming {
        session_check: Duration::from_millis(250),
        ..MonitorTiming::default()
    };
    let (_client, mut events) = Client::start(config, timing, Ok(sessions));

    // Nobody asks for a token, yet the refresh token rotates: the client
    // renewed ahead of expiry by itself.
    let started = Instant::now();
    while refresh_token(&vault, &key).await == at_sign_in {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no renewal within 20 s of four-second tokens"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The session is revoked elsewhere: someone else spends the refresh
    // token and then the one they got for it. (Spending only the first
    // would look to the issuer like this client retrying a rotation whose
    // answer it lost, which it forgives.) The client reports it once.
    let current = refresh_token(&vault, &key).await;
    if let Some(next) = support::sessions::spend_refresh_token(&server, &current).await {
        support::sessions::spend_refresh_token(&server, &next).await;
    }
    let expired = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match events.next().await.expect("client alive") {
                ClientEvent::SessionExpired { account } => return account,
                _ => continue,
            }
        }
    })
    .await
    .expect("the client reports the ended session within 20 s");
    assert_eq!(expired.username, "alice@convene.example");
}
