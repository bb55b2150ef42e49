//! Trading the Entra access token (audience ACS) for a communication token
//! at convene-server, in the shape of ACS's
//! `POST /teamsUser/:exchangeAccessToken?api-version=2023-10-01`.

use std::time::{Duration, SystemTime};

use convene_proto::exchange::{
    AcsErrorBody, ExchangeRequest, ExchangeResponse, EXCHANGE_API_VERSION, EXCHANGE_PATH,
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
    #[error("the server refused the token exchange ({code}): {message}")]
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

pub async fn exchange(
    http: &reqwest::Client,
    server: &Url,
    access_token: &Secret,
    app_id: &str,
    user_id: &str,
) -> Result<CommunicationToken, ExchangeError> {
    let mut url = server.join(EXCHANGE_PATH.trim_start_matches('/'))?;
    url.query_pairs_mut()
        .append_pair("api-version", EXCHANGE_API_VERSION);
    let request = ExchangeRequest {
        token: access_token.expose().to_owned(),
        app_id: app_id.to_owned(),
        user_id: user_id.to_owned(),
    };
    let response = http
        .post(url.clone())
        .json(&request)
        .send()
        .await
        .map_err(|source| ExchangeError::Unreachable {
            url: url.to_string(),
            source,
        })?;
    match http::json_body::<ExchangeResponse>(response).await {
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
