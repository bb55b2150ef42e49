//! ID token validation against tokens this test mints itself, with the
//! issuer's keys served as a JWKS from a loopback axum server: one
//! well-formed token is accepted, and every way a token can be forged,
//! misdirected or stale is rejected with an error that names the problem.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use convene_core::auth::id_token::{validate, Expected, KeyCache};
use convene_core::auth::{AuthError, IdTokenClaims, ProviderMetadata};
use convene_core::http::HttpError;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use url::Url;

const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
const TENANT: &str = "aaaaaaaa-0000-0000-0000-000000000001";
const OTHER_TENANT: &str = "bbbbbbbb-0000-0000-0000-000000000002";
const OID: &str = "cccccccc-0000-0000-0000-000000000003";
const NONCE: &str = "nonce-of-this-sign-in";
const TRUSTED_KID: &str = "trusted-key-1";

/// An RSA key pair in the shapes the test needs: a signing key, the public
/// half as a JWK (`n`, `e`) and as PEM (for the HS256 key-confusion attack).
struct TestKey {
    encoding: EncodingKey,
    n: String,
    e: String,
    public_pem: String,
}

impl TestKey {
    fn generate() -> Self {
        let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("generate RSA key");
        let private_pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .expect("encode private key");
        let public_pem = key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("encode public key");
        Self {
            encoding: EncodingKey::from_rsa_pem(private_pem.as_bytes()).expect("load RSA key"),
            n: URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
            e: URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
            public_pem,
        }
    }

    fn jwk(&self, kid: &str) -> Value {
        json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": self.n, "e": self.e })
    }
}

/// The issuer's real signing key. Generated once per test binary: RSA key
/// generation takes seconds in debug builds.
fn trusted_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(TestKey::generate)
}

/// A key the issuer never published (an attacker's), or — in the rotation
/// test — the issuer's next key.
fn other_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(TestKey::generate)
}

/// How `TestIssuer::mint` signs a token.
enum Alg<'a> {
    /// RS256 with the issuer's trusted key.
    Rs256,
    /// RS256 with some other private key.
    Rs256With(&'a TestKey),
    /// HS256 with the given bytes as the HMAC secret.
    Hs256(&'a [u8]),
    /// `alg: none`: header and payload, empty signature.
    Unsigned,
}

/// A fake OpenID provider: its metadata, and a JWKS endpoint on loopback
/// that counts how often it is fetched and whose keys the test can change.
struct TestIssuer {
    metadata: ProviderMetadata,
    keys: KeyCache,
    served: Arc<Mutex<Vec<Value>>>,
    fetches: Arc<AtomicUsize>,
    server: Option<JoinHandle<()>>,
}

/// How the test issuer's JWKS endpoint behaves.
enum JwksEndpoint {
    /// Serves the published keys (at first only the trusted key).
    Serving,
    /// Answers every request with this status.
    Failing(StatusCode),
    /// Nothing listens on its port.
    Unreachable,
}

#[derive(Clone)]
struct JwksState {
    served: Arc<Mutex<Vec<Value>>>,
    fetches: Arc<AtomicUsize>,
    failure: Option<StatusCode>,
}

async fn jwks(State(state): State<JwksState>) -> Result<Json<Value>, StatusCode> {
    state.fetches.fetch_add(1, Ordering::SeqCst);
    if let Some(status) = state.failure {
        return Err(status);
    }
    let keys = state.served.lock().unwrap().clone();
    Ok(Json(json!({ "keys": keys })))
}

impl TestIssuer {
    /// A single-tenant issuer, `http://127.0.0.1:PORT/TENANT/v2.0`, serving
    /// the trusted key under `TRUSTED_KID`.
    async fn start() -> Self {
        Self::start_with(&format!("/{TENANT}/v2.0"), JwksEndpoint::Serving).await
    }

    /// A multi-tenant issuer whose metadata carries Entra's template,
    /// `http://127.0.0.1:PORT/{tenantid}/v2.0`.
    async fn start_multi_tenant() -> Self {
        Self::start_with("/{tenantid}/v2.0", JwksEndpoint::Serving).await
    }

    async fn start_with(issuer_path: &str, endpoint: JwksEndpoint) -> Self {
        let served = Arc::new(Mutex::new(vec![trusted_key().jwk(TRUSTED_KID)]));
        let fetches = Arc::new(AtomicUsize::new(0));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let failure = match endpoint {
            JwksEndpoint::Serving => None,
            JwksEndpoint::Failing(status) => Some(status),
            JwksEndpoint::Unreachable => None,
        };
        let server = if let JwksEndpoint::Unreachable = endpoint {
            // The port was free a moment ago: connection refused.
            drop(listener);
            None
        } else {
            let app = Router::new()
                .route("/discovery/v2.0/keys", get(jwks))
                .with_state(JwksState {
                    served: served.clone(),
                    fetches: fetches.clone(),
                    failure,
                });
            Some(tokio::spawn(async move {
                axum::serve(listener, app).await.expect("serve JWKS");
            }))
        };
        let base = format!("http://{addr}");
        let jwks_uri = Url::parse(&format!("{base}/discovery/v2.0/keys")).unwrap();
        Self {
            // Through serde, as discovery reads it.
            metadata: serde_json::from_value(json!({
                "issuer": format!("{base}{issuer_path}"),
                "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
                "token_endpoint": format!("{base}/oauth2/v2.0/token"),
                "jwks_uri": jwks_uri,
                "code_challenge_methods_supported": ["S256"],
            }))
            .expect("provider metadata"),
            keys: KeyCache::new(convene_core::http::client(Duration::from_secs(5)), jwks_uri),
            served,
            fetches,
            server,
        }
    }

    /// The issuer a token from `tid` carries.
    fn issuer(&self, tid: &str) -> String {
        self.metadata.issuer_for_tenant(tid)
    }

    /// Claims of a well-formed ID token for `TENANT`; tests change one thing.
    fn good_claims(&self) -> Value {
        let now = now();
        json!({
            "iss": self.issuer(TENANT),
            "aud": CLIENT_ID,
            "tid": TENANT,
            "oid": OID,
            "sub": "pairwise-subject",
            "preferred_username": "ada@example.com",
            "name": "Ada Lovelace",
            "nonce": NONCE,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
        })
    }

    /// A token carrying `claims`, with `kid` (if any) in its header.
    fn mint(&self, claims: Value, kid: Option<&str>, alg: Alg<'_>) -> String {
        let header = |alg| {
            let mut header = Header::new(alg);
            header.kid = kid.map(str::to_owned);
            header
        };
        match alg {
            Alg::Rs256 => self.mint(claims, kid, Alg::Rs256With(trusted_key())),
            Alg::Rs256With(key) => {
                jsonwebtoken::encode(&header(Algorithm::RS256), &claims, &key.encoding)
                    .expect("sign RS256")
            }
            Alg::Hs256(secret) => jsonwebtoken::encode(
                &header(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(secret),
            )
            .expect("sign HS256"),
            Alg::Unsigned => {
                let mut header = json!({ "alg": "none", "typ": "JWT" });
                if let Some(kid) = kid {
                    header["kid"] = json!(kid);
                }
                format!(
                    "{}.{}.",
                    URL_SAFE_NO_PAD.encode(header.to_string()),
                    URL_SAFE_NO_PAD.encode(claims.to_string())
                )
            }
        }
    }

    /// What a sign-in started with `NONCE`, allowing any tenant, expects.
    fn expected(&self) -> Expected<'_> {
        Expected {
            metadata: &self.metadata,
            client_id: CLIENT_ID,
            nonce: NONCE,
            allowed_tenants: &[],
        }
    }

    async fn check(&self, token: &str) -> Result<IdTokenClaims, AuthError> {
        validate(token, &self.keys, &self.expected()).await
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// From now on the JWKS endpoint also serves `key` under `kid`.
    fn publish(&self, kid: &str, key: &TestKey) {
        self.served.lock().unwrap().push(key.jwk(kid));
    }
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The token was refused as untrustworthy, for a reason that mentions
/// `problem` (case-insensitive).
#[track_caller]
fn assert_invalid(result: Result<IdTokenClaims, AuthError>, problem: &str) {
    match result {
        Err(AuthError::InvalidIdToken(why)) => assert!(
            why.to_lowercase().contains(&problem.to_lowercase()),
            "rejected, but the reason {why:?} does not mention {problem:?}"
        ),
        Err(other) => panic!("expected InvalidIdToken mentioning {problem:?}, got {other:?}"),
        Ok(claims) => panic!("expected a rejection ({problem}), but accepted {claims:?}"),
    }
}

// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_well_formed_token_is_accepted() {
    let issuer = TestIssuer::start().await;
    let token = issuer.mint(issuer.good_claims(), Some(TRUSTED_KID), Alg::Rs256);

    let claims = issuer
        .check(&token)
        .await
        .expect("a good token is accepted");

    assert_eq!(claims.tid, TENANT);
    assert_eq!(claims.oid, OID);
    assert_eq!(
        claims.preferred_username.as_deref(),
        Some("ada@example.com")
    );
    assert_eq!(claims.iss, issuer.issuer(TENANT));
    assert_eq!(claims.nonce.as_deref(), Some(NONCE));
    assert_eq!(issuer.fetches(), 1);
}

#[tokio::test]
async fn an_unsigned_alg_none_token_is_rejected() {
    let issuer = TestIssuer::start().await;
    let token = issuer.mint(issuer.good_claims(), Some(TRUSTED_KID), Alg::Unsigned);
    assert!(token.ends_with('.'), "no signature: {token}");

    assert_invalid(issuer.check(&token).await, "`none`");
}

#[tokio::test]
async fn an_hs256_token_keyed_with_the_public_key_is_rejected() {
    // Key confusion: a verifier that let the token pick the algorithm would
    // check this HMAC with the (public) RSA key bytes and accept it.
    let issuer = TestIssuer::start().await;
    let public_pem = trusted_key().public_pem.as_bytes();
    let token = issuer.mint(
        issuer.good_claims(),
        Some(TRUSTED_KID),
        Alg::Hs256(public_pem),
    );

    assert_invalid(issuer.check(&token).await, "HS256");
}

#[tokio::test]
async fn a_token_signed_by_another_key_under_the_trusted_kid_is_rejected() {
    let issuer = TestIssuer::start().await;
    let token = issuer.mint(
        issuer.good_claims(),
        Some(TRUSTED_KID),
        Alg::Rs256With(other_key()),
    );

    assert_invalid(issuer.check(&token).await, "signature");
}

#[tokio::test]
async fn a_token_with_a_flipped_signature_byte_is_rejected() {
    let issuer = TestIssuer::start().await;
    let token = issuer.mint(issuer.good_claims(), Some(TRUSTED_KID), Alg::Rs256);
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let mut signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    signature[100] ^= 0x01;
    let tampered = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(&signature));

    assert_invalid(issuer.check(&tampered).await, "signature");
    // The untouched token is fine: only the flipped bit was refused.
    issuer
        .check(&token)
        .await
        .expect("the original is accepted");
}

#[tokio::test]
async fn a_token_without_a_kid_is_rejected() {
    let issuer = TestIssuer::start().await;
    let token = issuer.mint(issuer.good_claims(), None, Alg::Rs256);

    assert_invalid(issuer.check(&token).await, "key id");
}

#[tokio::test]
async fn a_token_from_another_issuer_is_rejected() {
    let issuer = TestIssuer::start().await;
    let mut claims = issuer.good_claims();
    claims["iss"] = json!(format!("https://evil.example/{TENANT}/v2.0"));
    let token = issuer.mint(claims, Some(TRUSTED_KID), Alg::Rs256);

    assert_invalid(issuer.check(&token).await, "issuer");
}

#[tokio::test]
async fn a_token_without_an_issuer_is_rejected() {
    let issuer = TestIssuer::start().await;
    let mut claims = issuer.good_claims();
    claims.as_object_mut().unwrap().remove("iss");
    let token = issuer.mint(claims, Some(TRUSTED_KID), Alg::Rs256);

    assert_invalid(issuer.check(&token).await, "field `iss`");
}

#[tokio::test]
async fn multi_tenant_issuer_must_name_the_tokens_own_tenant() {
    let issuer = TestIssuer::start_multi_tenant().await;
    assert!(issuer.metadata.issuer.ends_with("/{tenantid}/v2.0"));

    let mut matching = issuer.good_claims();
    matching["tid"] = json!(OTHER_TENANT);
    matching["iss"] = json!(issuer.issuer(OTHER_TENANT));
    let token = issuer.mint(matching, Some(TRUSTED_KID), Alg::Rs256);
    let claims = issuer
        .check(&token)
        .await
        .expect("iss naming the token's own tid is accepted");
    assert_eq!(claims.tid, OTHER_TENANT);

    let mut mismatched = issuer.good_claims();
    mismatched["tid"] = json!(OTHER_TENANT);
    mismatched["iss"] = json!(issuer.issuer(TENANT));
    let token = issuer.mint(mismatched, Some(TRUSTED_KID), Alg::Rs256);
    assert_invalid(issuer.check(&token).await, "issuer");

    // The bare template is never a valid issuer.
    let mut template = issuer.good_claims();
    template["iss"] = json!(issuer.metadata.issuer.clone());
    let token = issuer.mint(template, Some(TRUSTED_KID), Alg::Rs256);
    assert_invalid(issuer.check(&token).await, "issuer");
}

#[tokio::test]
async fn a_token_for_another_client_is_rejected() {
    let issuer = TestIssuer::start().await;
    let mut claims = issuer.good_claims();
    claims["aud"] = json!("some-other-application");
    let token = issuer.mint(claims, Some(TRUSTED_KID), Alg::Rs256);

    assert_invalid(issuer.check(&token).await, "audience");
}

#[tokio::test]
async fn a_token_without_an_audience_is_rejected() {
    let issuer = TestIssuer::start().await;
    let mut claims = issuer.good_claims();
    claims.as_object_mut().unwrap().remove("aud");
    let token = issuer.mint(claims, Some(TRUSTED_KID), Alg::Rs256);

    assert_invalid(issuer.check(&token).await, "claim: aud");
}

#[tokio::test]
async fn several_audiences_need_the_app_as_authorized_party() {
    let issuer = TestIssuer::start().await;
    let mut claims = issuer.good_claims();
    claims["aud"] = json!([CLIENT_ID, "another-app"]);
    let token = issuer.mint(claims.clone(), Some(TRUSTED_KID), Alg::Rs256);
    assert_invalid(issuer.check(&token).await, "azp");

    claims["azp"] = json!(CLIENT_ID);
    let token = issuer.mint(claims, Some(TRUSTED_KID), Alg::Rs256);
    issuer.check(&token).await.expect("issued to this app");
}

#[tokio::test]
async fn a_tenant_outside_the_allow_list_is_not_allowed() {
    let issuer = TestIssuer::start_multi_tenant().await;
    let allowed = vec![TENANT.to_owned()];
    let expected = Expected {
        allowed_tenants: &allowed,
        ..issuer.expected()
    };

    let mut claims = issuer.good_claims();
    claims["tid"] = json!(OTHER_TENANT);
    claims["iss"] = json!(issuer.issuer(OTHER_TENANT));
    let outsider = issuer.mint(claims, Some(TRUSTED_KID), Alg::Rs256);
    match validate(&outsider, &issuer.keys, &expected).await {
        Err(AuthError::TenantNotAllowed { tenant }) => assert_eq!(tenant, OTHER_TENANT),
        other => panic!("expected TenantNotAllowed, got {other:?}"),
    }

    let member = issuer.mint(issuer.good_claims(), Some(TRUSTED_KID), Alg::Rs256);
    let claims = validate(&member, &issuer.keys, &expected)
        .await
        .expect("an allowed tenant signs in");
    assert_eq!(claims.tid, TENANT);
}

#[tokio::test]
async fn a_token_with_another_sign_ins_nonce_is_rejected() {
    let issuer = TestIssuer::start().await;
    let mut claims = issuer.good_claims();
    claims["nonce"] = json!("nonce-of-some-other-sign-in");
    let token = issuer.mint(claims, Some(TRUSTED_KID), Alg::Rs256);

    assert_invalid(issuer.check(&token).await, "nonce");
}

#[tokio::test]
async fn a_token_without_a_nonce_is_rejected() {
    let issuer = TestIssuer::start().await;
    let mut claims = issuer.good_claims();
    claims.as_object_mut().unwrap().remove("nonce");
    let token = issuer.mint(claims, Some(TRUSTED_KID), Alg::Rs256);

    assert_invalid(issuer.check(&token).await, "nonce");
}

#[tokio::test]
async fn an_expired_token_is_rejected_beyond_the_leeway_only() {
    let issuer = TestIssuer::start().await;

    let mut long_expired = issuer.good_claims();
    long_expired["iat"] = json!(now() - 3600);
    long_expired["nbf"] = json!(now() - 3600);
    long_expired["exp"] = json!(now() - 600);
    let token = issuer.mint(long_expired, Some(TRUSTED_KID), Alg::Rs256);
    assert_invalid(issuer.check(&token).await, "expired");

    // 60 s is within the 120 s allowed for clock skew.
    let mut just_expired = issuer.good_claims();
    just_expired["iat"] = json!(now() - 3600);
    just_expired["nbf"] = json!(now() - 3600);
    just_expired["exp"] = json!(now() - 60);
    let token = issuer.mint(just_expired, Some(TRUSTED_KID), Alg::Rs256);
    issuer
        .check(&token)
        .await
        .expect("expired 60 s ago is within the leeway");
}

#[tokio::test]
async fn a_token_without_an_expiry_is_rejected() {
    let issuer = TestIssuer::start().await;
    let mut claims = issuer.good_claims();
    claims.as_object_mut().unwrap().remove("exp");
    let token = issuer.mint(claims, Some(TRUSTED_KID), Alg::Rs256);

    assert_invalid(issuer.check(&token).await, "field `exp`");
}

#[tokio::test]
async fn a_token_not_valid_yet_is_rejected_beyond_the_leeway_only() {
    let issuer = TestIssuer::start().await;
    let mut claims = issuer.good_claims();
    claims["nbf"] = json!(now() + 600);
    let token = issuer.mint(claims, Some(TRUSTED_KID), Alg::Rs256);

    // jsonwebtoken calls this ImmatureSignature.
    assert_invalid(issuer.check(&token).await, "immature");

    // 60 s ahead is within the 120 s allowed for clock skew.
    let mut claims = issuer.good_claims();
    claims["nbf"] = json!(now() + 60);
    let token = issuer.mint(claims, Some(TRUSTED_KID), Alg::Rs256);
    issuer
        .check(&token)
        .await
        .expect("nbf 60 s ahead is within the leeway");
}

#[tokio::test]
async fn an_unknown_kid_refetches_the_keys_once_then_is_rejected() {
    let issuer = TestIssuer::start().await;
    let good = issuer.mint(issuer.good_claims(), Some(TRUSTED_KID), Alg::Rs256);
    issuer.check(&good).await.expect("a good token is accepted");
    assert_eq!(issuer.fetches(), 1);

    let unknown = issuer.mint(
        issuer.good_claims(),
        Some("no-such-key"),
        Alg::Rs256With(other_key()),
    );
    assert_invalid(issuer.check(&unknown).await, "no-such-key");
    assert_eq!(
        issuer.fetches(),
        2,
        "exactly one refetch for the unknown kid"
    );

    // The known key is still cached.
    issuer.check(&good).await.expect("still accepted");
    assert_eq!(issuer.fetches(), 2);
}

#[tokio::test]
async fn a_rotated_in_key_is_accepted_after_one_refetch() {
    let issuer = TestIssuer::start().await;
    let old = issuer.mint(issuer.good_claims(), Some(TRUSTED_KID), Alg::Rs256);
    issuer.check(&old).await.expect("the current key works");
    assert_eq!(issuer.fetches(), 1);

    issuer.publish("rotated-key-2", other_key());
    let new = issuer.mint(
        issuer.good_claims(),
        Some("rotated-key-2"),
        Alg::Rs256With(other_key()),
    );
    let claims = issuer
        .check(&new)
        .await
        .expect("the new key is fetched and trusted");
    assert_eq!(claims.oid, OID);
    assert_eq!(issuer.fetches(), 2);

    issuer.check(&new).await.expect("and now cached");
    issuer
        .check(&old)
        .await
        .expect("the old key is still served");
    assert_eq!(issuer.fetches(), 2);
}

#[tokio::test]
async fn an_unreachable_jwks_endpoint_is_a_keys_error() {
    let issuer =
        TestIssuer::start_with(&format!("/{TENANT}/v2.0"), JwksEndpoint::Unreachable).await;
    let token = issuer.mint(issuer.good_claims(), Some(TRUSTED_KID), Alg::Rs256);

    match issuer.check(&token).await {
        Err(error @ AuthError::Keys(HttpError::Unreachable { .. })) => {
            let why = error.to_string();
            assert!(
                why.contains("connection refused"),
                "the reason names the failure: {why}"
            );
            assert!(
                std::error::Error::source(&error).is_some(),
                "the cause is kept"
            );
        }
        other => panic!("expected AuthError::Keys, got {other:?}"),
    }
}

#[tokio::test]
async fn a_failing_jwks_endpoint_is_a_keys_error() {
    let issuer = TestIssuer::start_with(
        &format!("/{TENANT}/v2.0"),
        JwksEndpoint::Failing(StatusCode::SERVICE_UNAVAILABLE),
    )
    .await;
    let token = issuer.mint(issuer.good_claims(), Some(TRUSTED_KID), Alg::Rs256);

    match issuer.check(&token).await {
        Err(error @ AuthError::Keys(HttpError::Status { status: 503, .. })) => {
            let why = error.to_string();
            assert!(why.contains("503"), "the reason names the status: {why}")
        }
        other => panic!("expected AuthError::Keys, got {other:?}"),
    }
    assert_eq!(issuer.fetches(), 1);
}
