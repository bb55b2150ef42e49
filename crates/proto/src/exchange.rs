//! The token exchange, in the shape of Azure Communication Services'
//! `POST /teamsUser/:exchangeAccessToken?api-version=2023-10-01`: a client
//! trades its Entra access token (audience ACS) for a communication token.
//!
//! Errors use ACS's envelope, `{"error": {"code", "message"}}`, with the
//! codes in [`codes`].

use std::fmt;

use serde::{Deserialize, Serialize};

/// Path of the exchange. The colon is literal, as at ACS.
pub const EXCHANGE_PATH: &str = "/teamsUser/:exchangeAccessToken";
/// The only `api-version` the exchange speaks.
pub const EXCHANGE_API_VERSION: &str = "2023-10-01";

/// Body of the exchange request. `Debug` hides the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ExchangeRequest {
    /// The caller's Entra access token for
    /// `https://auth.msft.communication.azure.com`.
    pub token: String,
    /// The Entra application (client) id the token was issued to.
    pub app_id: String,
    /// The caller's Entra object id (`oid`).
    pub user_id: String,
}

impl fmt::Debug for ExchangeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExchangeRequest")
            .field("token", &"<redacted>")
            .field("app_id", &self.app_id)
            .field("user_id", &self.user_id)
            .finish()
    }
}

/// Body of a successful exchange. `Debug` hides the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ExchangeResponse {
    /// The communication token.
    pub token: String,
    /// When it expires, RFC 3339 (ACS sends e.g. `2026-01-01T01:00:00Z`).
    pub expires_on: String,
}

impl fmt::Debug for ExchangeResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExchangeResponse")
            .field("token", &"<redacted>")
            .field("expires_on", &self.expires_on)
            .finish()
    }
}

/// ACS's error envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AcsErrorBody {
    pub error: AcsError,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AcsError {
    /// Stable, machine-readable PascalCase code: see [`codes`].
    pub code: String,
    /// For people; never contains a token.
    pub message: String,
}

/// The error codes of the exchange, in ACS's spelling.
pub mod codes {
    /// 401: the Entra token is not valid: bad signature, expired, not yet
    /// valid, wrong audience or issuer, unreadable.
    pub const INVALID_ACCESS_TOKEN: &str = "InvalidAccessToken";
    /// 403: a valid token that may not be exchanged here: another user's
    /// `oid`, another app, a tenant not allowed, missing scopes.
    pub const FORBIDDEN: &str = "Forbidden";
    /// 400: malformed body, missing fields, unsupported `api-version`.
    pub const BAD_REQUEST: &str = "BadRequest";
    /// 502: the configured ACS resource could not be reached or answered
    /// with something unreadable.
    pub const BAD_GATEWAY: &str = "BadGateway";
    /// 500/503: the server cannot issue tokens right now (e.g. no key, the
    /// authority's keys cannot be fetched).
    pub const INTERNAL_ERROR: &str = "InternalError";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_response_are_camel_case_and_debug_hides_tokens() {
        let request: ExchangeRequest =
            serde_json::from_str(r#"{"token":"SECRET.TOKEN","appId":"app","userId":"oid"}"#)
                .unwrap();
        assert_eq!(request.app_id, "app");
        assert_eq!(request.user_id, "oid");
        let printed = format!("{request:?}");
        assert!(!printed.contains("SECRET"), "{printed}");
        assert!(printed.contains("<redacted>") && printed.contains("app"));

        let response = ExchangeResponse {
            token: "COMM.SECRET".into(),
            expires_on: "2026-01-01T01:00:00Z".into(),
        };
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            serde_json::json!({"token": "COMM.SECRET", "expiresOn": "2026-01-01T01:00:00Z"})
        );
        let printed = format!("{response:?}");
        assert!(
            !printed.contains("SECRET") && printed.contains("2026"),
            "{printed}"
        );
    }

    #[test]
    fn error_envelope_is_error_code_message() {
        let body = AcsErrorBody {
            error: AcsError {
                code: codes::FORBIDDEN.into(),
                message: "no".into(),
            },
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"error": {"code": "Forbidden", "message": "no"}})
        );
    }
}
