//! Sessions from the outside: a person signing in at the browser, and
//! ending a demo user's session behind the client's back, as a password
//! change or an administrator would (the refresh token in the test
//! session's keyring is redeemed by someone else, twice).

use convene_core::auth::AuthError;
use convene_core::config::{DEV_CLIENT_ID, DEV_TENANT_ID};
use convene_core::vault::{AccountKey, Vault, VaultKind};

use convene_test_support::browser;
use convene_test_support::dev_server::DevServer;

/// The refresh token the keyring holds for this demo user right now.
pub async fn refresh_token_in_keyring(object_id: &str) -> Option<String> {
    let vault = Vault::open(VaultKind::System)
        .await
        .expect("the test's keyring");
    vault
        .load(&AccountKey::new(DEV_TENANT_ID, object_id), "refresh_token")
        .await
        .expect("read the keyring")
        .map(|secret| secret.expose().to_owned())
}

/// Redeems a refresh token at the dev issuer, as another holder would;
/// returns the rotated one, or `None` if the issuer refused it.
pub async fn spend_refresh_token(server: &DevServer, token: &str) -> Option<String> {
    let spent = reqwest::Client::new()
        .post(format!(
            "{}/{DEV_TENANT_ID}/oauth2/v2.0/token",
            server.url()
        ))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", DEV_CLIENT_ID),
            ("refresh_token", token),
            (
                "scope",
                "openid offline_access https://graph.microsoft.com/User.Read",
            ),
        ])
        .send()
        .await
        .unwrap();
    spent.json::<serde_json::Value>().await.unwrap()["refresh_token"]
        .as_str()
        .map(str::to_owned)
}

/// Makes the keyring's refresh token for this user dead: it is redeemed,
/// and the token it was rotated into is used too, so the keyring's copy is
/// not merely a reply that got lost (which the issuer forgives for 30 s).
pub async fn end_session(server: &DevServer, object_id: &str) {
    let stored = refresh_token_in_keyring(object_id)
        .await
        .expect("a refresh token stored at sign-in");
    let newer = spend_refresh_token(server, &stored)
        .await
        .expect("the stored token is redeemed");
    spend_refresh_token(server, &newer)
        .await
        .expect("its successor is redeemed");
}

/// The `open_browser` of a sign-in: a person who signs in as `username`
/// with `password` in whatever pages the provider shows, until the app's
/// loopback page thanks them.
pub fn person_at_browser(
    username: &'static str,
    password: &'static str,
) -> impl FnOnce(&reqwest::Url) -> Result<(), AuthError> {
    move |url| {
        let url = url.clone();
        tokio::spawn(async move {
            let page = browser::sign_in_at(url, username, password).await;
            assert!(page.contains("You can close this tab"), "{page}");
        });
        Ok(())
    }
}
