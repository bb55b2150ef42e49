//! Communication tokens for Convene's API callers,
//! `POST /v1/communicationToken`: the client authenticates with a token for
//! Convene's own API (`Authorization: Bearer`), which the server validates
//! ([`entra`]); the server answers `{token, expiresOn}` with a
//! communication token of its own ([`comm`]). When an ACS resource is
//! configured, the person's ACS token (`{acsToken}` in the body) is
//! forwarded to ACS's exchange (HMAC-signed), unread, and ACS's answer
//! returned beside it as `acs`.
//!
//! | status | code | when |
//! |---|---|---|
//! | 400 | `BadRequest` | malformed body |
//! | 400 | `AcsTokenRequired` | the server forwards to ACS and no `acsToken` came |
//! | 401 | `InvalidAccessToken` | no token, bad signature, expired, not for Convene's API, unknown key |
//! | 403 | `Forbidden` | another app, tenant not allowed, the API's permission missing |
//! | 502 | `BadGateway` | the ACS resource could not be reached or answered nonsense |
//! | 503 | `InternalError` | no signing key, authority keys cannot be fetched |

pub mod comm;
pub mod entra;
mod error;
mod handler;
pub mod jwks;

use std::sync::Arc;

use axum::routing::post;
use axum::Router;

use crate::acs::AcsClient;
use crate::directory::Directory;

pub use comm::{CommTokenError, CommunicationIdentity, CommunicationTokens, COMM_KEY_FILE};
pub use entra::{ApiScope, EntraValidator, Trust, VerifiedToken, DEFAULT_API_PERMISSION};
pub use error::ExchangeError;

/// Everything the exchange needs.
#[derive(Debug)]
pub struct Exchange {
    pub validator: EntraValidator,
    pub tokens: Arc<CommunicationTokens>,
    /// Set when an ACS resource is configured: exchanges go there too.
    pub acs: Option<AcsClient>,
    pub directory: Arc<Directory>,
}

impl Exchange {
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route(
                convene_proto::COMMUNICATION_TOKEN_PATH,
                post(handler::communication_token),
            )
            .with_state(self)
    }
}

#[cfg(test)]
mod tests;
