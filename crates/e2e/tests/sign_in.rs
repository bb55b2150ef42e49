//! Signing in through convene-server's dev issuer with the core's
//! authorization code + PKCE flow: a real server, a real loopback listener,
//! a "person" filling the login form.

use std::future::pending;
use std::time::Duration;

use convene_core::auth::{sign_in, AuthError, SignInRequest};
use convene_core::config::{DEV_CLIENT_ID, DEV_TENANT_ID};
use convene_e2e::sessions::person_at_browser as person;
use convene_test_support::dev_server::DevServer;

const ALICE_OID: &str = "00000000-a11c-4000-8000-000000000001";
const ACS_CALLS: &str = "https://auth.msft.communication.azure.com/Teams.ManageCalls";

fn request(server: &DevServer) -> SignInRequest {
    SignInRequest {
        authority: format!("{}/{DEV_TENANT_ID}/v2.0/", server.url())
            .parse()
            .unwrap(),
        client_id: DEV_CLIENT_ID.into(),
        scopes: ["openid", "profile", "offline_access", ACS_CALLS]
            .map(String::from)
            .to_vec(),
        token_scopes: ["openid", "profile", "offline_access", ACS_CALLS]
            .map(String::from)
            .to_vec(),
        allowed_tenants: Vec::new(),
        timeout: Duration::from_secs(30),
        login_hint: None,
        select_account: false,
    }
}

#[tokio::test]
async fn alice_signs_in_and_gets_validated_claims_and_tokens() {
    let scratch = tempfile::tempdir().unwrap();
    let server = DevServer::start(scratch.path());
    let http = convene_core::http::client(Duration::from_secs(30));

    let signed_in = sign_in(
        &http,
        &request(&server),
        person("alice@convene.example", "convene"),
        pending(),
    )
    .await
    .expect("sign-in succeeds");
    assert_eq!(signed_in.claims.tid, DEV_TENANT_ID);
    assert_eq!(signed_in.claims.oid, ALICE_OID);
    assert_eq!(
        signed_in.claims.preferred_username.as_deref(),
        Some("alice@convene.example")
    );
    assert!(!signed_in.tokens.access_token.is_empty());
    assert!(
        signed_in.tokens.refresh_token.is_some(),
        "offline_access gives a refresh token"
    );
}

#[tokio::test]
async fn a_tenant_outside_the_allow_list_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let server = DevServer::start(scratch.path());
    let http = convene_core::http::client(Duration::from_secs(30));
    let mut request = request(&server);
    request.allowed_tenants = vec!["11111111-2222-4333-8444-555555555555".into()];

    let error = sign_in(
        &http,
        &request,
        person("bob@convene.example", "convene"),
        pending(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, AuthError::TenantNotAllowed { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn cancel_and_timeout_end_the_sign_in() {
    let scratch = tempfile::tempdir().unwrap();
    let server = DevServer::start(scratch.path());
    let http = convene_core::http::client(Duration::from_secs(30));
    let nobody = |_: &reqwest::Url| Ok(());

    // The person gives up once the browser is open.
    let (opened, browser_open) = tokio::sync::oneshot::channel();
    let cancelled = sign_in(
        &http,
        &request(&server),
        move |_: &reqwest::Url| {
            let _ = opened.send(());
            Ok(())
        },
        async {
            let _ = browser_open.await;
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(cancelled, AuthError::Cancelled), "{cancelled}");

    let mut quick = request(&server);
    quick.timeout = Duration::from_millis(200);
    let timed_out = sign_in(&http, &quick, nobody, pending()).await.unwrap_err();
    assert!(matches!(timed_out, AuthError::TimedOut), "{timed_out}");
}

#[tokio::test]
async fn alice_trades_her_sign_in_for_a_communication_token() {
    use convene_core::session::Sessions;
    use convene_core::vault::{Vault, VaultKind};

    let scratch = tempfile::tempdir().unwrap();
    let server = DevServer::start(scratch.path());
    let config = convene_core::ClientConfig::from_layer(convene_core::config::ConfigLayer {
        server: Some(server.url()),
        ..Default::default()
    })
    .unwrap();
    let sessions = Sessions::new(
        Vault::open(VaultKind::Ephemeral).await.unwrap(),
        convene_core::http::client(Duration::from_secs(30)),
        config,
        None,
    );
    let alice = sessions
        .sign_in(person("alice@convene.example", "convene"), pending(), None)
        .await
        .expect("sign-in succeeds");

    let token = sessions
        .communication_token(&alice)
        .await
        .expect("exchange");
    let claims = jwt_claims(token.token.expose());
    assert_eq!(claims["sub"], format!("8:orgid:{ALICE_OID}"));
    assert_eq!(alice.communication_id(), format!("8:orgid:{ALICE_OID}"));
    assert!(token.expires_at > std::time::SystemTime::now());

    // Asked again, it is the same token: no second exchange before expiry.
    let again = sessions.communication_token(&alice).await.unwrap();
    assert_eq!(again.token.expose(), token.token.expose());

    // One access token per resource: the sign-in's code was redeemed for
    // Convene's API, ACS's comes from the refresh token.
    let api = sessions
        .access_token(&alice, convene_core::session::Resource::Api)
        .await
        .unwrap();
    assert_eq!(jwt_claims(api.expose())["aud"], DEV_CLIENT_ID);
    let acs = sessions
        .access_token(&alice, convene_core::session::Resource::Communication)
        .await
        .expect("an ACS token without another sign-in");
    let claims = jwt_claims(acs.expose());
    assert_eq!(claims["aud"], "https://auth.msft.communication.azure.com");
    assert!(claims["scp"]
        .as_str()
        .unwrap()
        .contains("Teams.ManageCalls"));
}

/// The claims of a JWT, unverified: the server already checked it.
fn jwt_claims(jwt: &str) -> serde_json::Value {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_response_with_another_state_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let server = DevServer::start(scratch.path());
    let http = convene_core::http::client(Duration::from_secs(30));
    // A page in the browser (or an attacker) sends a code for some other
    // sign-in to Convene's loopback address.
    let forger = |authorize: &reqwest::Url| {
        let redirect = authorize
            .query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .map(|(_, v)| v.into_owned())
            .expect("the authorize URL names the redirect");
        tokio::spawn(async move {
            let _ = reqwest::get(format!("{redirect}?code=stolen&state=forged")).await;
        });
        Ok(())
    };
    let error = sign_in(&http, &request(&server), forger, pending())
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::StateMismatch), "{error}");
}
