//! Errors of the communication token endpoint, in ACS's envelope. Messages say what is wrong with the
//! token, never what the token is.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use convene_proto::exchange::codes;
use convene_proto::{AcsError, AcsErrorBody};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl ExchangeError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// 401: the token itself is not acceptable.
    pub fn invalid_token(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            codes::INVALID_ACCESS_TOKEN,
            message,
        )
    }

    /// 403: a good token that may not be exchanged here.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, codes::FORBIDDEN, message)
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, message)
    }

    /// 502: the ACS resource failed us.
    pub fn bad_gateway(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, codes::BAD_GATEWAY, message)
    }

    /// 503: cannot issue or check tokens right now; worth a retry.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::INTERNAL_ERROR,
            message,
        )
    }

    /// ACS's own error, passed on with its status.
    pub fn from_acs(status: StatusCode, body: AcsErrorBody) -> Self {
        Self {
            status,
            code: body.error.code,
            message: body.error.message,
        }
    }
}

impl IntoResponse for ExchangeError {
    fn into_response(self) -> Response {
        let body = AcsErrorBody {
            error: AcsError {
                code: self.code,
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}
