//! The one way the core talks HTTP: timeouts, no redirects followed (a
//! redirect from an identity or API endpoint is never expected, and
//! following one could leak a token to another host), and bounded bodies.

use std::time::Duration;

use serde::de::DeserializeOwned;
use url::Url;

/// Largest JSON body the core reads from a server; anything larger is an
/// error for that request, never an out-of-memory.
pub const MAX_JSON_BYTES: usize = 4 * 1024 * 1024;

pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Convene/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a reqwest client with rustls and timeouts builds")
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    #[error("no answer from {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered {status}")]
    Status {
        url: String,
        status: u16,
        /// The body, for error envelopes; bounded.
        body: String,
    },
    #[error("{url} sent a reply larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("{url} sent a reply that is not what was expected: {reason}")]
    Malformed { url: String, reason: String },
}

/// Words a person can act on, without the library's internals.
pub fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection refused or host unreachable".into()
    } else {
        e.to_string()
    }
}

/// Reads at most `limit` bytes of a response body.
pub async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, HttpError> {
    let url = response.url().to_string();
    if response
        .content_length()
        .is_some_and(|n| n as usize > limit)
    {
        return Err(HttpError::TooLarge { url, limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| HttpError::Unreachable {
        url: url.clone(),
        reason: describe(&e),
    })? {
        if body.len() + chunk.len() > limit {
            return Err(HttpError::TooLarge { url, limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses a successful response's JSON body; a non-2xx status is an
/// [`HttpError::Status`] carrying the (bounded) body.
pub async fn json_body<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, HttpError> {
    let url = response.url().to_string();
    let status = response.status();
    let body = read_limited(response, MAX_JSON_BYTES).await?;
    if !status.is_success() {
        return Err(HttpError::Status {
            url,
            status: status.as_u16(),
            body: String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]).into_owned(),
        });
    }
    serde_json::from_slice(&body).map_err(|e| HttpError::Malformed {
        url,
        reason: e.to_string(),
    })
}

pub async fn get_json<T: DeserializeOwned>(
    http: &reqwest::Client,
    url: Url,
) -> Result<T, HttpError> {
    let response = http
        .get(url.clone())
        .send()
        .await
        .map_err(|e| HttpError::Unreachable {
            url: url.to_string(),
            reason: describe(&e),
        })?;
    json_body(response).await
}
