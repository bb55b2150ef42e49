//! The dev issuer: an OpenID Connect provider shaped like Entra ID's v2.0
//! endpoints, mounted only with `--dev`, so that a client signs in with no
//! Microsoft tenant. The demo users sign in with one shared password.
//!
//! | | |
//! |---|---|
//! | `GET /{tenant}/v2.0/.well-known/openid-configuration` | discovery |
//! | `GET /{tenant}/discovery/v2.0/keys` | JWKS |
//! | `GET`/`POST /{tenant}/oauth2/v2.0/authorize` | sign-in form; code + PKCE S256 |
//! | `POST /{tenant}/oauth2/v2.0/token` | `authorization_code`, `refresh_token` |
//!
//! `{tenant}` is a demo tenant's id or domain (`convene.example`,
//! `fabrikam.example`), `common` or `organizations`. A user signs in only
//! through their own tenant or `common`/`organizations`; their tokens carry
//! their own `tid` and the issuer `{base}/{tid}/v2.0`. Codes, refresh tokens
//! and the private key are secrets: none is ever logged.

mod authorize;
pub mod claims;
mod discovery;
pub mod error;
pub mod keys;
mod page;
mod password;
pub mod scopes;
mod token;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderMap};
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::rand_core::{OsRng, RngCore};
use uuid::Uuid;

use crate::demo::DemoTenant;
use crate::store::Store;
pub use password::{DevPassword, DEFAULT_DEV_PASSWORD};

pub use error::{OAuthError, OAuthErrorBody};
pub use keys::{KeyError, KeyStore, KEY_FILE};

/// The only client the dev issuer knows: Convene's app registration.
pub const CLIENT_ID: &str = convene_proto::dev::DEV_CLIENT_ID;

/// How long what the issuer hands out stays valid. Tests shorten them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    pub access_token: Duration,
    pub id_token: Duration,
    pub refresh_token: Duration,
    pub code: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            access_token: Duration::from_secs(60 * 60),
            id_token: Duration::from_secs(60 * 60),
            refresh_token: Duration::from_secs(24 * 60 * 60),
            code: Duration::from_secs(5 * 60),
        }
    }
}

/// Where "now" comes from; tests move it.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> SystemTime + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Self(Arc::new(SystemTime::now))
    }

    pub fn from_fn(now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    pub fn now(&self) -> SystemTime {
        (self.0)()
    }

    /// Unix seconds.
    pub fn unix(&self) -> i64 {
        let secs = self
            .now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        i64::try_from(secs).unwrap_or(i64::MAX)
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

/// Everything the issuer's handlers share.
pub struct DevIssuer {
    store: Store,
    keys: KeyStore,
    password: DevPassword,
    lifetimes: Lifetimes,
    clock: Clock,
}

impl fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevIssuer")
            .field("keys", &self.keys)
            .field("lifetimes", &self.lifetimes)
            .finish_non_exhaustive()
    }
}

impl DevIssuer {
    pub fn new(
        store: Store,
        keys: KeyStore,
        password: DevPassword,
        lifetimes: Lifetimes,
        clock: Clock,
    ) -> Self {
        Self {
            store,
            keys,
            password,
            lifetimes,
            clock,
        }
    }

    /// The routes, with the issuer as their state.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route(
                "/{tenant}/v2.0/.well-known/openid-configuration",
                get(discovery::configuration),
            )
            .route("/{tenant}/discovery/v2.0/keys", get(discovery::keys))
            .route(
                "/{tenant}/oauth2/v2.0/authorize",
                get(authorize::show).post(authorize::submit),
            )
            .route("/{tenant}/oauth2/v2.0/token", post(token::token))
            .with_state(self)
    }

    /// The key the issuer signs with (waiting for it to be made if need
    /// be): the exchange checks dev tokens against it.
    pub async fn signing_key(&self) -> Result<Arc<keys::SigningKey>, KeyError> {
        self.keys.get().await
    }

    fn password_matches(&self, given: &str) -> bool {
        // Compare digests: equal length, so timing tells nothing useful.
        use sha2::{Digest, Sha256};
        Sha256::digest(given.as_bytes()) == Sha256::digest(self.password.expose().as_bytes())
    }
}

/// The tenant segment of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantPath {
    /// One demo tenant, by id or by its domain: only its users sign in.
    Tenant(DemoTenant),
    /// `common` or `organizations`: users of any (demo) tenant.
    Multi(&'static str),
}

impl TenantPath {
    pub fn parse(segment: &str) -> Option<Self> {
        for multi in ["common", "organizations"] {
            if segment.eq_ignore_ascii_case(multi) {
                return Some(TenantPath::Multi(multi));
            }
        }
        DemoTenant::by_id_or_domain(segment).map(TenantPath::Tenant)
    }

    /// Whether a user of `tenant_id` may sign in (or redeem a grant)
    /// through this path.
    pub fn admits(&self, tenant_id: Uuid) -> bool {
        match self {
            TenantPath::Tenant(tenant) => tenant.id == tenant_id,
            TenantPath::Multi(_) => true,
        }
    }
}

/// The issuer of a tenant's tokens: `{base}/{tid}/v2.0`.
pub fn issuer_url(base: &str, tenant_id: Uuid) -> String {
    format!("{base}/{tenant_id}/v2.0")
}

/// `http://` plus the Host the client used: the server listens on
/// loopback, so the URL it was reached by is the one to hand back.
pub fn base_url(headers: &HeaderMap) -> Result<String, OAuthError> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let plausible = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !plausible {
        return Err(OAuthError::invalid_request(
            900144,
            "The request must carry a valid Host header.",
        ));
    }
    Ok(format!("http://{host}"))
}

/// A fresh random secret (codes, refresh tokens): base64url of `bytes`
/// random bytes.
pub fn random_secret(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// PKCE S256: base64url(SHA-256(verifier)).
pub fn s256(verifier: &str) -> String {
    use sha2::{Digest, Sha256};
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Form or query parameters, each name at most once.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` text. A name given twice
    /// is an error, so that no two parts of the server read different values.
    pub fn parse(text: &[u8]) -> Result<Self, String> {
        let mut params: Vec<(String, String)> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(text) {
            if params.iter().any(|(n, _)| *n == name) {
                return Err(format!("The parameter '{name}' was given more than once."));
            }
            params.push((name.into_owned(), value.into_owned()));
        }
        Ok(Self(params))
    }

    /// The value, if given and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_are_the_demo_ids_their_domains_common_and_organizations() {
        use crate::demo::{CONVENE_TENANT, FABRIKAM_TENANT, FABRIKAM_TENANT_ID};
        assert_eq!(
            TenantPath::parse(convene_proto::dev::DEV_TENANT_ID),
            Some(TenantPath::Tenant(CONVENE_TENANT))
        );
        assert_eq!(
            TenantPath::parse("convene.example"),
            Some(TenantPath::Tenant(CONVENE_TENANT))
        );
        assert_eq!(
            TenantPath::parse(&FABRIKAM_TENANT_ID.to_string()),
            Some(TenantPath::Tenant(FABRIKAM_TENANT))
        );
        assert_eq!(
            TenantPath::parse("fabrikam.example"),
            Some(TenantPath::Tenant(FABRIKAM_TENANT))
        );
        assert_eq!(
            TenantPath::parse("common"),
            Some(TenantPath::Multi("common"))
        );
        assert_eq!(
            TenantPath::parse("Organizations"),
            Some(TenantPath::Multi("organizations"))
        );
        for other in ["consumers", "11111111-1111-4111-8111-111111111111", ""] {
            assert_eq!(TenantPath::parse(other), None, "{other}");
        }
    }

    #[test]
    fn a_tenant_path_admits_only_its_own_users_and_multi_admits_all() {
        use crate::demo::{DEMO_TENANT_ID, FABRIKAM_TENANT_ID};
        let convene = TenantPath::parse("convene.example").unwrap();
        assert!(convene.admits(DEMO_TENANT_ID));
        assert!(!convene.admits(FABRIKAM_TENANT_ID));
        let organizations = TenantPath::parse("organizations").unwrap();
        assert!(organizations.admits(DEMO_TENANT_ID));
        assert!(organizations.admits(FABRIKAM_TENANT_ID));
    }

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn base_url_comes_from_a_plausible_host_header() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:8750".parse().unwrap());
        assert_eq!(base_url(&headers).unwrap(), "http://127.0.0.1:8750");
        headers.insert(header::HOST, "localhost:1".parse().unwrap());
        assert_eq!(base_url(&headers).unwrap(), "http://localhost:1");
        for bad in ["evil.example/path", "a b", ""] {
            headers.insert(header::HOST, bad.parse().unwrap());
            assert!(base_url(&headers).is_err(), "{bad}");
        }
        assert!(base_url(&HeaderMap::new()).is_err());
    }

    #[test]
    fn params_refuse_duplicates_and_treat_empty_as_absent() {
        let params = Params::parse(b"a=1&b=&c=x%20y").unwrap();
        assert_eq!(params.get("a"), Some("1"));
        assert_eq!(params.get("b"), None);
        assert_eq!(params.get("c"), Some("x y"));
        assert!(Params::parse(b"a=1&a=2").unwrap_err().contains("'a'"));
    }

    #[test]
    fn random_secrets_are_long_and_differ() {
        let a = random_secret(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_secret(32));
    }
}
