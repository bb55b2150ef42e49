//! Unit tests of the validator of Convene API tokens against a dev issuer
//! with a moving clock.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use super::comm::unix_to_system;
use super::handler::parse_body;
use super::*;
use crate::demo::{ALICE, DEMO_TENANT_ID};
use crate::issuer::DevPassword;
use crate::issuer::{Clock, DevIssuer, KeyStore, Lifetimes, CLIENT_ID};
use crate::store::Store;

const BASE: &str = "http://127.0.0.1:8750";
const NOW: i64 = 1_767_225_600;

struct Fixture {
    _dir: tempfile::TempDir,
    issuer: Arc<DevIssuer>,
    validator: EntraValidator,
    now: Arc<AtomicI64>,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(crate::issuer::KEY_FILE),
        crate::issuer::keys::test_key_pem(),
    )
    .unwrap();
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    let now = Arc::new(AtomicI64::new(NOW));
    let at = Arc::clone(&now);
    let clock = Clock::from_fn(move || unix_to_system(at.load(Ordering::SeqCst)));
    let issuer = Arc::new(DevIssuer::new(
        store,
        KeyStore::open(dir.path()).unwrap(),
        DevPassword::default(),
        Lifetimes::default(),
        clock.clone(),
    ));
    let validator = EntraValidator {
        trust: Trust::Dev(Arc::clone(&issuer)),
        client_id: CLIENT_ID.to_owned(),
        api: ApiScope::new(CLIENT_ID, None).unwrap(),
        allowed_tenants: vec![DEMO_TENANT_ID],
        clock,
    };
    Fixture {
        _dir: dir,
        issuer,
        validator,
        now,
    }
}

/// Claims as the dev issuer writes them for alice and Convene's API.
fn claims() -> Value {
    json!({
        "aud": CLIENT_ID,
        "iss": format!("{BASE}/{DEMO_TENANT_ID}/v2.0"),
        "tid": DEMO_TENANT_ID,
        "oid": ALICE.object_id,
        "sub": "pairwise",
        "appid": CLIENT_ID,
        "azp": CLIENT_ID,
        "scp": "Convene.Use",
        "iat": NOW,
        "nbf": NOW,
        "exp": NOW + 3600,
        "ver": "2.0",
    })
}

impl Fixture {
    async fn sign(&self, claims: &Value) -> String {
        self.issuer
            .signing_key()
            .await
            .unwrap()
            .sign(claims)
            .unwrap()
    }

    async fn check(&self, claims: &Value) -> Result<VerifiedToken, ExchangeError> {
        let token = self.sign(claims).await;
        self.validator.verify_api_token(&token, Some(BASE)).await
    }
}

fn assert_refused(result: Result<VerifiedToken, ExchangeError>, status: StatusCode, code: &str) {
    let error = result.expect_err("should be refused");
    assert_eq!(
        (error.status, error.code.as_str()),
        (status, code),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_good_token_gives_the_user_tenant_and_expiry() {
    let f = fixture().await;
    let verified = f.check(&claims()).await.unwrap();
    assert_eq!(
        (verified.oid, verified.tid, verified.exp),
        (ALICE.object_id, DEMO_TENANT_ID, NOW + 3600)
    );
    // appid may be missing when azp says it (v2.0 tokens).
    let mut v2 = claims();
    v2.as_object_mut().unwrap().remove("appid");
    assert!(f.check(&v2).await.is_ok());
    // v1.0 tokens name the API by its identifier URI.
    let mut v1 = claims();
    v1["aud"] = format!("api://{CLIENT_ID}").into();
    assert!(f.check(&v1).await.is_ok());
}

#[tokio::test]
async fn expiry_and_nbf_have_two_minutes_leeway() {
    let f = fixture().await;
    f.now.store(NOW + 3600 + 119, Ordering::SeqCst);
    assert!(f.check(&claims()).await.is_ok());
    f.now.store(NOW + 3600 + 120, Ordering::SeqCst);
    assert_refused(
        f.check(&claims()).await,
        StatusCode::UNAUTHORIZED,
        "InvalidAccessToken",
    );

    f.now.store(NOW - 119, Ordering::SeqCst);
    assert!(f.check(&claims()).await.is_ok());
    f.now.store(NOW - 121, Ordering::SeqCst);
    let error = f.check(&claims()).await.unwrap_err();
    assert_eq!(error.status, StatusCode::UNAUTHORIZED);
    assert!(error.message.contains("nbf"), "{error:?}");
}

#[tokio::test]
async fn bad_tokens_are_401_and_refused_exchanges_403() {
    let f = fixture().await;
    let unauthorized =
        |c: Value| async move { (c, StatusCode::UNAUTHORIZED, "InvalidAccessToken") };
    let forbidden = |c: Value| async move { (c, StatusCode::FORBIDDEN, "Forbidden") };
    let mut cases = Vec::new();
    // Tokens for Microsoft's APIs are never accepted, whoever signed them.
    for audience in [
        "https://graph.microsoft.com",
        "00000003-0000-0000-c000-000000000000",
        "https://auth.msft.communication.azure.com",
    ] {
        let mut c = claims();
        c["aud"] = audience.into();
        cases.push(unauthorized(c).await);
    }
    let mut c = claims();
    c["iss"] = "http://elsewhere.example/v2.0".into();
    cases.push(unauthorized(c).await);
    let mut c = claims();
    c.as_object_mut().unwrap().remove("oid");
    cases.push(unauthorized(c).await);
    let mut c = claims();
    c["appid"] = "another-app".into();
    c["azp"] = "another-app".into();
    cases.push(forbidden(c).await);
    let mut c = claims();
    c["scp"] = "Teams.ManageCalls Chat.ReadWrite".into();
    cases.push(forbidden(c).await);
    let other_tenant = Uuid::parse_str("11111111-1111-4111-8111-111111111111").unwrap();
    let mut c = claims();
    c["tid"] = other_tenant.to_string().into();
    c["iss"] = format!("{BASE}/{other_tenant}/v2.0").into();
    cases.push(forbidden(c).await);
    for (claims, status, code) in cases {
        assert_refused(f.check(&claims).await, status, code);
    }
}

#[tokio::test]
async fn tampered_unsigned_and_garbage_tokens_are_401_and_never_echoed() {
    let f = fixture().await;
    let token = f.sign(&claims()).await;
    let mut parts: Vec<&str> = token.split('.').collect();
    let signature = parts[2].chars().rev().collect::<String>();
    parts[2] = &signature;
    let tampered = parts.join(".");
    for bad in [tampered.as_str(), "not-a-jwt", "a.b.c"] {
        let error = f
            .validator
            .verify_api_token(bad, Some(BASE))
            .await
            .unwrap_err();
        assert_eq!(error.status, StatusCode::UNAUTHORIZED, "{error:?}");
        assert!(!error.message.contains(bad), "{error:?}");
    }
}

#[test]
fn the_body_is_empty_or_an_acs_token_and_never_echoed() {
    assert_eq!(parse_body(b"").unwrap().acs_token, None);
    assert_eq!(parse_body(b"{}").unwrap().acs_token, None);
    assert_eq!(
        parse_body(br#"{"acsToken": "t"}"#)
            .unwrap()
            .acs_token
            .as_deref(),
        Some("t")
    );
    let secret = "SECRET.TOKEN.VALUE";
    for body in [
        "{".to_owned(),
        format!(r#"{{"acsToken": 5, "note": "{secret}"}}"#),
        format!(r#"["{secret}"]"#),
    ] {
        let error = parse_body(body.as_bytes()).unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(!error.message.contains("SECRET"), "{}", error.message);
    }
}

#[test]
fn the_api_scope_is_the_client_ids_unless_configured() {
    let default = ApiScope::new("app-id", None).unwrap();
    assert_eq!(
        (default.uri.as_str(), default.permission.as_str()),
        ("api://app-id", "Convene.Use")
    );
    let named = ApiScope::new("app-id", Some("api://contoso.example/convene/Chat.Use")).unwrap();
    assert_eq!(
        (named.uri.as_str(), named.permission.as_str()),
        ("api://contoso.example/convene", "Chat.Use")
    );
    assert!(ApiScope::new("app-id", Some("Convene.Use")).is_err());
}
