//! The HTTP side of the exchange: query, body, answer.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use convene_proto::{ExchangeRequest, ExchangeResponse, EXCHANGE_API_VERSION};

use super::comm::rfc3339;
use super::{Exchange, ExchangeError};
use crate::acs::ForwardError;

pub async fn exchange(
    State(exchange): State<Arc<Exchange>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match respond(&exchange, &uri, &headers, &body).await {
        Ok(answer) => Json(answer).into_response(),
        Err(error) => {
            // Messages never contain a token, so they may be logged.
            tracing::info!(
                status = error.status.as_u16(),
                code = %error.code,
                message = %error.message,
                "exchange refused"
            );
            error.into_response()
        }
    }
}

async fn respond(
    exchange: &Exchange,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<ExchangeResponse, ExchangeError> {
    check_api_version(uri.query().unwrap_or_default())?;
    let request = parse_body(body)?;
    let base = crate::issuer::base_url(headers).ok();
    let identity = exchange
        .validator
        .validate(
            &request.token,
            &request.app_id,
            &request.user_id,
            base.as_deref(),
        )
        .await?;
    if let Some(acs) = &exchange.acs {
        let answer = acs.exchange(&request).await.map_err(|error| match error {
            ForwardError::Refused { status, body } => ExchangeError::from_acs(status, body),
            other => {
                tracing::warn!(error = %other, "exchange: ACS failed");
                ExchangeError::bad_gateway(other.to_string())
            }
        })?;
        tracing::info!(oid = %identity.oid, tid = %identity.tid, "exchange forwarded to ACS");
        return Ok(answer);
    }
    let token = exchange
        .tokens
        .issue(identity.oid, identity.tid, identity.exp)
        .await
        .map_err(|error| {
            tracing::error!(%error, "exchange: cannot issue a communication token");
            ExchangeError::unavailable("Cannot issue a communication token right now.")
        })?;
    tracing::info!(oid = %identity.oid, tid = %identity.tid, "communication token issued");
    Ok(ExchangeResponse {
        token,
        expires_on: rfc3339(identity.exp),
    })
}

/// `api-version` is required and must be the one version we speak.
pub fn check_api_version(query: &str) -> Result<(), ExchangeError> {
    let versions: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name == "api-version")
        .map(|(_, value)| value.into_owned())
        .collect();
    match versions.as_slice() {
        [version] if version == EXCHANGE_API_VERSION => Ok(()),
        [] => Err(ExchangeError::bad_request(format!(
            "The api-version query parameter is required; this server supports \
             {EXCHANGE_API_VERSION}."
        ))),
        _ => Err(ExchangeError::bad_request(format!(
            "Unsupported api-version; this server supports {EXCHANGE_API_VERSION}."
        ))),
    }
}

/// The body, with messages that name fields but never echo values (a
/// value may be a token).
pub fn parse_body(body: &[u8]) -> Result<ExchangeRequest, ExchangeError> {
    const SHAPE: &str =
        "The body must be a JSON object {\"token\", \"appId\", \"userId\"} of strings.";
    let request: ExchangeRequest = serde_json::from_slice(body).map_err(|error| {
        let message = error.to_string();
        if message.starts_with("missing field") {
            // "missing field `appId` at line 1 column 20": names only.
            ExchangeError::bad_request(format!("{SHAPE} ({message})"))
        } else if error.is_syntax() || error.is_eof() {
            ExchangeError::bad_request(format!(
                "The body is not valid JSON (line {}, column {}).",
                error.line(),
                error.column()
            ))
        } else {
            ExchangeError::bad_request(SHAPE)
        }
    })?;
    for (name, value) in [
        ("token", &request.token),
        ("appId", &request.app_id),
        ("userId", &request.user_id),
    ] {
        if value.trim().is_empty() {
            return Err(ExchangeError::bad_request(format!(
                "{name} must not be empty."
            )));
        }
    }
    Ok(request)
}
