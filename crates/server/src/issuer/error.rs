//! OAuth errors in Entra's shape: `{error, error_description, error_codes,
//! timestamp, trace_id, correlation_id}` with status 400, so that a client
//! reads the dev issuer's errors as it reads Entra's.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Body of a token or discovery error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthErrorBody {
    pub error: String,
    pub error_description: String,
    pub error_codes: Vec<u32>,
    pub timestamp: String,
    pub trace_id: String,
    pub correlation_id: String,
}

/// An OAuth error: the `error` code, the AADSTS number and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub code: u32,
    pub message: String,
}

impl OAuthError {
    pub fn new(error: &'static str, code: u32, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
            code,
            message: message.into(),
        }
    }

    pub fn invalid_request(code: u32, message: impl Into<String>) -> Self {
        Self::new("invalid_request", code, message)
    }

    pub fn invalid_grant(code: u32, message: impl Into<String>) -> Self {
        Self::new("invalid_grant", code, message)
    }

    /// A parameter the request must have.
    pub fn missing(parameter: &str) -> Self {
        Self::invalid_request(
            900144,
            format!("The request body must contain the following parameter: '{parameter}'."),
        )
    }

    pub fn unknown_tenant(tenant: &str) -> Self {
        Self::new(
            "invalid_tenant",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID \
                 and are signing into the correct cloud."
            ),
        )
    }

    pub fn unknown_client(client_id: &str) -> Self {
        Self::new(
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory \
                 'Convene dev'."
            ),
        )
    }

    pub fn server_error(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            ..Self::new("server_error", 90100, message)
        }
    }

    /// `error_description` as Entra writes it: code, message, ids, time.
    pub fn body(&self, now: SystemTime) -> OAuthErrorBody {
        let trace_id = Uuid::new_v4().to_string();
        let correlation_id = Uuid::new_v4().to_string();
        let timestamp = entra_timestamp(now);
        OAuthErrorBody {
            error: self.error.to_owned(),
            error_description: format!(
                "AADSTS{}: {} Trace ID: {trace_id} Correlation ID: {correlation_id} \
                 Timestamp: {timestamp}",
                self.code, self.message
            ),
            error_codes: vec![self.code],
            timestamp,
            trace_id,
            correlation_id,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = self.body(SystemTime::now());
        (
            self.status,
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::PRAGMA, "no-cache"),
            ],
            Json(body),
        )
            .into_response()
    }
}

/// `2024-05-01 12:34:56Z`, Entra's `timestamp` format (UTC).
pub fn entra_timestamp(now: SystemTime) -> String {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rest = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_utc_in_entras_format() {
        let at = |secs| entra_timestamp(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01 00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29 00:00:00Z");
        assert_eq!(at(1_767_225_600), "2026-01-01 00:00:00Z");
        assert_eq!(at(1_709_251_199), "2024-02-29 23:59:59Z");
    }

    #[test]
    fn body_has_entras_fields() {
        let err =
            OAuthError::invalid_grant(54005, "OAuth2 Authorization code was already redeemed.");
        let body = err.body(UNIX_EPOCH);
        assert_eq!(body.error, "invalid_grant");
        assert_eq!(body.error_codes, [54005]);
        assert!(body.error_description.starts_with(
            "AADSTS54005: OAuth2 Authorization code was already redeemed. Trace ID: "
        ));
        assert!(body
            .error_description
            .ends_with("Timestamp: 1970-01-01 00:00:00Z"));
        assert_eq!(
            Uuid::parse_str(&body.trace_id).unwrap().get_version_num(),
            4
        );
        assert_ne!(body.trace_id, body.correlation_id);
    }
}
