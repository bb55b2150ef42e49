//! Communication tokens: what signaling, presence and call history
//! authenticate with.
//!
//! A client asks convene-server for one at [`COMMUNICATION_TOKEN_PATH`]
//! with a token for Convene's own API (`Authorization: Bearer`). When the
//! server is set up to forward to an Azure Communication Services
//! resource, it also passes the person's ACS token on to ACS's exchange,
//! `POST /teamsUser/:exchangeAccessToken?api-version=2023-10-01`
//! ([`ExchangeRequest`], [`ExchangeResponse`]), without reading it, and
//! returns ACS's answer beside its own.
//!
//! Errors use ACS's envelope, `{"error": {"code", "message"}}`, with the
//! codes in [`codes`].

use std::fmt;

use serde::{Deserialize, Serialize};

/// Path of ACS's exchange. The colon is literal.
pub const EXCHANGE_PATH: &str = "/teamsUser/:exchangeAccessToken";
/// The `api-version` of ACS's exchange.
pub const EXCHANGE_API_VERSION: &str = "2023-10-01";

/// convene-server's endpoint for a communication token: `POST`, with
/// `Authorization: Bearer` and a token for Convene's own API.
pub const COMMUNICATION_TOKEN_PATH: &str = "/v1/communicationToken";

/// Body of a communication token request (optional). `Debug` hides the
/// token.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommunicationTokenRequest {
    /// The person's Entra token for ACS, needed only when the server
    /// forwards to an ACS resource (it answers `AcsTokenRequired`
    /// otherwise); passed on to ACS, which validates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acs_token: Option<String>,
}

impl fmt::Debug for CommunicationTokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommunicationTokenRequest")
            .field("acs_token", &self.acs_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Body of a communication token answer. `Debug` hides the tokens.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommunicationTokenResponse {
    /// convene-server's communication token.
    pub token: String,
    /// When it expires, RFC 3339.
    pub expires_on: String,
    /// ACS's own answer, when the server forwards to an ACS resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acs: Option<ExchangeResponse>,
}

impl fmt::Debug for CommunicationTokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommunicationTokenResponse")
            .field("token", &"<redacted>")
            .field("expires_on", &self.expires_on)
            .field("acs", &self.acs)
            .finish()
    }
}

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

/// The error codes, in ACS's spelling.
pub mod codes {
    /// 401: the token is not valid: bad signature, expired, not yet
    /// valid, wrong audience or issuer, unreadable, missing.
    pub const INVALID_ACCESS_TOKEN: &str = "InvalidAccessToken";
    /// 403: a valid token that may not be used here: another app, a
    /// tenant not allowed, missing scopes.
    pub const FORBIDDEN: &str = "Forbidden";
    /// 400: malformed body.
    pub const BAD_REQUEST: &str = "BadRequest";
    /// 400: the server forwards to ACS and the request carries no ACS
    /// token: ask again with one.
    pub const ACS_TOKEN_REQUIRED: &str = "AcsTokenRequired";
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
    fn communication_token_bodies_are_camel_case_and_debug_hides_tokens() {
        let request = CommunicationTokenRequest {
            acs_token: Some("ACS.SECRET".into()),
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            serde_json::json!({"acsToken": "ACS.SECRET"})
        );
        assert!(!format!("{request:?}").contains("SECRET"));
        let empty: CommunicationTokenRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(empty.acs_token, None);

        let answer: CommunicationTokenResponse = serde_json::from_value(serde_json::json!({
            "token": "OWN.SECRET", "expiresOn": "2026-01-01T01:00:00Z",
            "acs": {"token": "ACS.SECRET", "expiresOn": "2026-01-01T00:30:00Z"},
        }))
        .unwrap();
        assert_eq!(
            answer.acs.as_ref().unwrap().expires_on,
            "2026-01-01T00:30:00Z"
        );
        assert!(!format!("{answer:?}").contains("SECRET"));
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
