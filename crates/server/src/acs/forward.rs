//! Forwards a validated exchange to the configured ACS resource, signed
//! with the access key, and returns ACS's answer.

use std::time::{Duration, SystemTime};

use convene_proto::{AcsErrorBody, ExchangeRequest, ExchangeResponse, EXCHANGE_API_VERSION};
use reqwest::StatusCode;

use super::{signing, AcsConfig};

/// ACS answers in well under a second; a client waiting longer than this
/// is better served by an error it can retry.
const ACS_TIMEOUT: Duration = Duration::from_secs(15);

/// What went wrong talking to ACS. No variant holds a token.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// ACS answered with an error; passed on as it came.
    #[error("ACS refused the exchange ({status}): {}", body.error.message)]
    Refused {
        status: StatusCode,
        body: AcsErrorBody,
    },
    #[error("cannot reach ACS: {0}")]
    Unreachable(String),
    #[error("ACS gave an unreadable answer ({0})")]
    BadAnswer(String),
}

/// A client for one ACS resource.
#[derive(Debug, Clone)]
pub struct AcsClient {
    http: reqwest::Client,
    config: AcsConfig,
}

impl AcsClient {
    pub fn new(config: AcsConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(ACS_TIMEOUT)
            // A redirect would send the signed request somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { http, config })
    }

    /// `POST {endpoint}/teamsUser/:exchangeAccessToken?api-version=…`.
    pub async fn exchange(
        &self,
        request: &ExchangeRequest,
    ) -> Result<ExchangeResponse, ForwardError> {
        let mut url = self.config.endpoint.clone();
        // `Url::join` would read `:exchangeAccessToken` as a scheme-less
        // relative path just fine, but set the path outright to be sure.
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}{}", convene_proto::EXCHANGE_PATH));
        url.set_query(Some(&format!("api-version={EXCHANGE_API_VERSION}")));
        let body =
            serde_json::to_vec(request).map_err(|e| ForwardError::BadAnswer(e.to_string()))?;
        let date = httpdate::fmt_http_date(SystemTime::now());
        let signed = signing::sign(&self.config.access_key, "POST", &url, &body, &date)
            .map_err(|e| ForwardError::Unreachable(e.to_string()))?;
        let response = self
            .http
            .post(url)
            .header("x-ms-date", signed.date)
            .header("x-ms-content-sha256", signed.content_sha256)
            .header(reqwest::header::AUTHORIZATION, signed.authorization)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| ForwardError::Unreachable(without_url(e)))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ForwardError::Unreachable(without_url(e)))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|_| {
                ForwardError::BadAnswer(format!("{status}, not {{token, expiresOn}}"))
            });
        }
        match serde_json::from_slice::<AcsErrorBody>(&bytes) {
            Ok(body) => Err(ForwardError::Refused { status, body }),
            Err(_) => Err(ForwardError::BadAnswer(format!(
                "{status} without an error body"
            ))),
        }
    }
}

/// reqwest's errors name the URL; ours has no secret in it, but keep
/// messages short and stable.
fn without_url(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    kind.to_owned()
}
