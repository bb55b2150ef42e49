//! A communication token from convene-server
//! (`POST /v1/communicationToken`), asked for with a token for Convene's
//! own API. A server that forwards to Azure Communication Services also
//! wants the person's ACS token, which it passes on to ACS unread; it says
//! so with `AcsTokenRequired`.

use std::time::{Duration, SystemTime};

use convene_proto::exchange::{
    codes, AcsErrorBody, CommunicationTokenRequest, CommunicationTokenResponse,
    COMMUNICATION_TOKEN_PATH,
};
use url::Url;

use crate::http::{self, HttpError};
use crate::Secret;

/// What signaling and presence authenticate with.
#[derive(Debug, Clone)]
pub struct CommunicationToken {
    pub token: Secret,
    pub expires_at: SystemTime,
    /// When this client received it, to renew it a share of its lifetime
    /// early.
    pub issued_at: SystemTime,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExchangeError {
    #[error("the server refused a communication token ({code}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("the server's address cannot name the token exchange: {0}")]
    Url(#[from] url::ParseError),
    #[error("cannot reach convene-server at {url}: {}", http::describe(.source))]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("cannot exchange the sign-in for a communication token: {0}")]
    Failed(#[source] HttpError),
    #[error("the server answered the token exchange with {status} and no error")]
    NoErrorBody { status: u16 },
    #[error("the communication token's expiresOn {text:?} is not a date after 1970")]
    BadExpiry {
        text: String,
        #[source]
        source: Option<time::error::Parse>,
    },
}

impl ExchangeError {
    /// The server forwards to ACS and wants the person's ACS token too.
    pub fn wants_acs_token(&self) -> bool {
        matches!(self, ExchangeError::Refused { code, .. } if code == codes::ACS_TOKEN_REQUIRED)
    }
}

/// Asks `server` for a communication token with `api_token` (for
/// Convene's API), and `acs_token` when the server forwards to ACS.
pub async fn exchange(
    http: &reqwest::Client,
    server: &Url,
    api_token: &Secret,
    acs_token: Option<&Secret>,
) -> Result<CommunicationToken, ExchangeError> {
    let url = server.join(COMMUNICATION_TOKEN_PATH.trim_start_matches('/'))?;
    let request = CommunicationTokenRequest {
        acs_token: acs_token.map(|t| t.expose().to_owned()),
    };
    let response = http
        .post(url.clone())
        .bearer_auth(api_token.expose())
        .json(&request)
        .send()
        .await
        .map_err(|source| ExchangeError::Unreachable {
            url: url.to_string(),
            source,
        })?;
    match http::json_body::<CommunicationTokenResponse>(response).await {
        Ok(body) => {
            let expires_at = parse_expiry(&body.expires_on)?;
            Ok(CommunicationToken {
                token: Secret::new(body.token),
                expires_at,
                issued_at: SystemTime::now(),
            })
        }
        Err(HttpError::Status { status, body, .. }) => {
            Err(match serde_json::from_str::<AcsErrorBody>(&body) {
                Ok(envelope) => ExchangeError::Refused {
                    status,
                    code: envelope.error.code,
                    message: envelope.error.message,
                },
                Err(_) => ExchangeError::NoErrorBody { status },
            })
        }
        Err(other) => Err(ExchangeError::Failed(other)),
    }
}

fn parse_expiry(text: &str) -> Result<SystemTime, ExchangeError> {
    let bad = |source| ExchangeError::BadExpiry {
        text: text.to_owned(),
        source,
    };
    let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| bad(Some(e)))?;
    let seconds = u64::try_from(at.unix_timestamp()).map_err(|_| bad(None))?;
    Ok(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_read_as_acs_writes_it() {
        let at = parse_expiry("2026-01-01T01:00:00Z").unwrap();
        assert_eq!(
            at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
            1_767_229_200
        );
        assert!(parse_expiry("2026-01-01T01:00:00.5+00:00").is_ok());
        assert!(parse_expiry("tomorrow").is_err());
    }
}
