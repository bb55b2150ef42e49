//! ACS's HMAC-SHA256 request signing: the scheme every ACS data-plane call
//! authenticates with when it uses the resource's access key.
//!
//! String to sign: `VERB\npathAndQuery\n{x-ms-date};{host};{x-ms-content-sha256}`,
//! the three header values joined by `;`, host without scheme.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use url::Url;

use super::AccessKey;

/// The headers a signed request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `x-ms-date`: the date as given (IMF-fixdate, e.g.
    /// `Thu, 01 Jan 2026 00:00:00 GMT`).
    pub date: String,
    /// `x-ms-content-sha256`: base64 SHA-256 of the body.
    pub content_sha256: String,
    /// `Authorization`: `HMAC-SHA256 SignedHeaders=…&Signature=…`.
    pub authorization: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    #[error("the ACS URL has no host")]
    NoHost,
}

/// The host as ACS signs it: with the port only when it is not the
/// scheme's default (what an HTTP client sends as `Host`).
pub fn host_of(url: &Url) -> Result<String, SigningError> {
    let host = url.host_str().ok_or(SigningError::NoHost)?;
    Ok(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

/// `path?query` of `url`, as it goes on the request line.
pub fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

pub fn content_sha256(body: &[u8]) -> String {
    STANDARD.encode(Sha256::digest(body))
}

/// The signature over the string to sign, base64.
pub fn signature(
    key: &AccessKey,
    method: &str,
    path_and_query: &str,
    date: &str,
    host: &str,
    content_sha256: &str,
) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.bytes()).expect("HMAC takes keys of any size");
    mac.update(string_to_sign(method, path_and_query, date, host, content_sha256).as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Signs a request to `url` (the full URL: its path and query are signed).
pub fn sign(
    key: &AccessKey,
    method: &str,
    url: &Url,
    body: &[u8],
    date: &str,
) -> Result<SignedHeaders, SigningError> {
    let host = host_of(url)?;
    let content_sha256 = content_sha256(body);
    let signature = signature(
        key,
        method,
        &path_and_query(url),
        date,
        &host,
        &content_sha256,
    );
    Ok(SignedHeaders {
        date: date.to_owned(),
        content_sha256,
        authorization: format!(
            "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}"
        ),
    })
}

/// Checks a signed request, as ACS does (the fake ACS in tests uses it):
/// `headers` are the ones the request carried. Compares in constant time.
pub fn verify(
    key: &AccessKey,
    method: &str,
    path_and_query: &str,
    host: &str,
    body: &[u8],
    headers: &SignedHeaders,
) -> bool {
    let Some(given) = headers
        .authorization
        .strip_prefix("HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=")
    else {
        return false;
    };
    let Ok(given) = STANDARD.decode(given) else {
        return false;
    };
    if content_sha256(body) != headers.content_sha256 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key.bytes()).expect("HMAC takes keys of any size");
    mac.update(
        string_to_sign(
            method,
            path_and_query,
            &headers.date,
            host,
            &headers.content_sha256,
        )
        .as_bytes(),
    );
    mac.verify_slice(&given).is_ok()
}

fn string_to_sign(
    method: &str,
    path_and_query: &str,
    date: &str,
    host: &str,
    hash: &str,
) -> String {
    format!(
        "{}\n{path_and_query}\n{date};{host};{hash}",
        method.to_ascii_uppercase()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // A known-answer vector: this key and request must give this signature.
    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    const URL: &str = "https://my-resource.communication.azure.com/teamsUser/:exchangeAccessToken?api-version=2023-10-01";
    const DATE: &str = "Thu, 01 Jan 2026 00:00:00 GMT";
    const BODY: &str = r#"{"token": "ENTRA.ACCESS.TOKEN", "appId": "00000000-aaaa-bbbb-cccc-000000000001", "userId": "aaaaaaaa-0000-4000-8000-000000000001"}"#;
    const CONTENT_SHA256: &str = "bWevQQp8oZHitE3ruG8PpGB/YxzdR3xvHqC4rPF/+50=";
    const SIGNATURE: &str = "3bnsrcjJjSjve0yKESVGjxFjyPZqIxtq5Gkx58rlPO4=";

    #[test]
    fn signs_the_documented_test_vector_exactly() {
        let key: AccessKey = KEY.parse().unwrap();
        let url = Url::parse(URL).unwrap();
        let signed = sign(&key, "POST", &url, BODY.as_bytes(), DATE).unwrap();
        assert_eq!(signed.date, DATE);
        assert_eq!(signed.content_sha256, CONTENT_SHA256);
        assert_eq!(
            signed.authorization,
            format!(
                "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={SIGNATURE}"
            )
        );
        assert_eq!(
            path_and_query(&url),
            "/teamsUser/:exchangeAccessToken?api-version=2023-10-01"
        );
        assert_eq!(
            host_of(&url).unwrap(),
            "my-resource.communication.azure.com"
        );
    }

    #[test]
    fn verify_accepts_the_vector_and_refuses_any_change() {
        let key: AccessKey = KEY.parse().unwrap();
        let pq = "/teamsUser/:exchangeAccessToken?api-version=2023-10-01";
        let host = "my-resource.communication.azure.com";
        let auth = format!(
            "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={SIGNATURE}"
        );
        let body = BODY.as_bytes();
        let headers = SignedHeaders {
            date: DATE.into(),
            content_sha256: CONTENT_SHA256.into(),
            authorization: auth,
        };
        assert!(verify(&key, "POST", pq, host, body, &headers));
        assert!(!verify(&key, "GET", pq, host, body, &headers));
        assert!(!verify(&key, "POST", pq, "other.host", body, &headers));
        assert!(!verify(&key, "POST", pq, host, b"{}", &headers));
        let late = SignedHeaders {
            date: "Fri, 02 Jan 2026 00:00:00 GMT".into(),
            ..headers.clone()
        };
        assert!(!verify(&key, "POST", pq, host, body, &late));
        let other: AccessKey = "b3RoZXIta2V5".parse().unwrap();
        assert!(!verify(&other, "POST", pq, host, body, &headers));
    }

    #[test]
    fn host_keeps_a_non_default_port() {
        let url = Url::parse("http://127.0.0.1:8080/x?y=1").unwrap();
        assert_eq!(host_of(&url).unwrap(), "127.0.0.1:8080");
        assert_eq!(path_and_query(&url), "/x?y=1");
    }
}
