//! A running client keeps its session renewed ahead of expiry without being
//! asked, and says so when the session ends behind its back. The client's
//! clock is moved forward by hand: tokens have the server's normal
//! lifetime, and nothing waits for them to age.

use std::future::pending;
use std::time::Duration;

use convene_core::clock::ManualClock;
use convene_core::config::ConfigLayer;
use convene_core::session::{Resource, Sessions};
use convene_core::vault::{Vault, VaultKind};
use convene_core::{Client, ClientConfig, ClientEvent, MonitorTiming};
use convene_e2e::sessions::spend_refresh_token;
use convene_test_support::browser;
use convene_test_support::dev_server::DevServer;
use convene_test_support::wait::wait_until_async;

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
    // Tokens that live an hour, as Entra's do.
    let server = DevServer::start_with(scratch.path(), &["--dev-token-lifetime", "3600"]);
    let clock = ManualClock::starting_now();
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
    )
    .with_clock(clock.clone());
    let alice = sessions
        .sign_in(
            |url| {
                let url = url.clone();
                tokio::spawn(async move {
                    browser::sign_in_at(url, "alice@convene.example", "convene").await
                });
                Ok(())
            },
            pending(),
            None,
        )
        .await
        .expect("alice signs in");
    let key = alice.key();
    // Every token the running client will use, fetched now: from here on
    // only the clock makes anything due.
    sessions
        .communication_token(&alice)
        .await
        .expect("a communication token");
    for resource in Resource::ALL {
        sessions
            .access_token(&alice, resource)
            .await
            .expect("an access token");
    }
    let at_sign_in = refresh_token(&vault, &key).await;

    let timing = MonitorTiming {
        session_check: Duration::from_millis(250),
        ..MonitorTiming::default()
    };
    let (_client, mut events) = Client::start(config, timing, Ok(sessions));

    // Renewed at sign-in, nothing is due for most of an hour.
    clock.advance(Duration::from_secs(45 * 60));
    // Three of the keeper's checks: only time shows that nothing happens.
    tokio::time::sleep(Duration::from_millis(750)).await;
    assert_eq!(
        refresh_token(&vault, &key).await,
        at_sign_in,
        "nothing renewed 45 minutes into an hour-long token"
    );

    // Nobody asks for a token, yet past its renewal margin the refresh
    // token rotates: the client renewed ahead of expiry by itself.
    clock.advance(Duration::from_secs(14 * 60));
    let renewed = wait_until_async(Duration::from_secs(10), || async {
        refresh_token(&vault, &key).await != at_sign_in
    })
    .await;
    assert!(renewed, "no renewal within 10 s of the hour's end");
    // The keeper renews each resource's token in turn, each rotating the
    // refresh token: let it finish (two checks without a change) before
    // taking the newest.
    let settled = wait_until_async(Duration::from_secs(10), || async {
        let before = refresh_token(&vault, &key).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        refresh_token(&vault, &key).await == before
    })
    .await;
    assert!(settled, "the keeper kept renewing");

    // The session is revoked elsewhere: someone else spends the refresh
    // token and then the one they got for it. (Spending only the first
    // would look to the issuer like this client retrying a rotation whose
    // answer it lost, which it forgives.) The client reports it once.
    let current = refresh_token(&vault, &key).await;
    if let Some(next) = spend_refresh_token(&server, &current).await {
        spend_refresh_token(&server, &next).await;
    }
    // The client learns of it at its next renewal, an hour on.
    clock.advance(Duration::from_secs(3600));
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
