//! The HTTP side: `POST /v1/communicationToken` with a bearer token for
//! Convene's API and an optional `{acsToken}` body.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use convene_proto::exchange::codes;
use convene_proto::{CommunicationTokenRequest, CommunicationTokenResponse, ExchangeRequest};

use super::comm::rfc3339;
use super::{Exchange, ExchangeError};
use crate::acs::ForwardError;

pub async fn communication_token(
    State(exchange): State<Arc<Exchange>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match respond(&exchange, &headers, &body).await {
        Ok(answer) => Json(answer).into_response(),
        Err(error) => {
            // Messages never contain a token, so they may be logged.
            tracing::info!(
                status = error.status.as_u16(),
                code = %error.code,
                message = %error.message,
                "communication token refused"
            );
            error.into_response()
        }
    }
}

async fn respond(
    exchange: &Exchange,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<CommunicationTokenResponse, ExchangeError> {
    let token = bearer(headers)?;
    let request = parse_body(body)?;
    let base = crate::issuer::base_url(headers).ok();
    let caller = exchange
        .validator
        .verify_api_token(token, base.as_deref())
        .await?;
    exchange.directory.remember(&caller).await;
    let acs = match &exchange.acs {
        Some(acs) => {
            let acs_token = request.acs_token.ok_or_else(|| {
                ExchangeError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    codes::ACS_TOKEN_REQUIRED,
                    "This server forwards to Azure Communication Services: send your ACS token \
                     as acsToken.",
                )
            })?;
            // ACS validates the person's token; this server does not read it.
            let forwarded = ExchangeRequest {
                token: acs_token,
                app_id: exchange.validator.client_id.clone(),
                user_id: caller.oid.to_string(),
            };
            let answer = acs
                .exchange(&forwarded)
                .await
                .map_err(|error| match error {
                    ForwardError::Refused { status, body } => ExchangeError::from_acs(status, body),
                    other => {
                        tracing::warn!(error = %other, "exchange: ACS failed");
                        ExchangeError::bad_gateway(other.to_string())
                    }
                })?;
            tracing::info!(oid = %caller.oid, tid = %caller.tid, "exchange forwarded to ACS");
            Some(answer)
        }
        None => None,
    };
    let token = exchange
        .tokens
        .issue(caller.oid, caller.tid, caller.exp)
        .await
        .map_err(|error| {
            tracing::error!(%error, "cannot issue a communication token");
            ExchangeError::unavailable("Cannot issue a communication token right now.")
        })?;
    tracing::info!(oid = %caller.oid, tid = %caller.tid, "communication token issued");
    Ok(CommunicationTokenResponse {
        token,
        expires_on: rfc3339(caller.exp),
        acs,
    })
}

/// The `Authorization: Bearer` token; 401 without one.
pub fn bearer(headers: &HeaderMap) -> Result<&str, ExchangeError> {
    crate::api::bearer_token(headers).ok_or_else(|| {
        ExchangeError::invalid_token("Send a token for Convene's API as Authorization: Bearer.")
    })
}

/// The body: empty, or `{"acsToken": "…"}`. Messages name fields but never
/// echo values (a value may be a token).
pub fn parse_body(body: &[u8]) -> Result<CommunicationTokenRequest, ExchangeError> {
    let shape = || ExchangeError::bad_request("The body must be empty or {\"acsToken\": string}.");
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Ok(CommunicationTokenRequest::default()),
        // serde would take a struct from an array too.
        Some(b'[') => return Err(shape()),
        Some(_) => {}
    }
    serde_json::from_slice(body).map_err(|error| {
        if error.is_syntax() || error.is_eof() {
            ExchangeError::bad_request(format!(
                "The body is not valid JSON (line {}, column {}).",
                error.line(),
                error.column()
            ))
        } else {
            shape()
        }
    })
}
