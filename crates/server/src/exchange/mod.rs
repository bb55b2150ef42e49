//! The token exchange, `POST /teamsUser/:exchangeAccessToken`
//! (`?api-version=2023-10-01`), in the shape of ACS's: the client sends its
//! ACS-audience Entra token `{token, appId, userId}`; the server validates
//! it ([`entra`]) and answers `{token, expiresOn}` with a communication
//! token of its own ([`comm`]), or, when an ACS resource is configured,
//! forwards the exchange there (HMAC-signed) and passes on ACS's answer.
//!
//! | status | code | when |
//! |---|---|---|
//! | 400 | `BadRequest` | wrong or missing `api-version`, malformed body |
//! | 401 | `InvalidAccessToken` | bad signature, expired, wrong `aud` or `iss`, unknown key |
//! | 403 | `Forbidden` | another user's `oid`, another app, tenant not allowed, scopes missing |
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

pub use comm::{CommTokenError, CommunicationIdentity, CommunicationTokens, COMM_KEY_FILE};
pub use entra::{EntraIdentity, EntraValidator, Trust, VerifiedToken};
pub use error::ExchangeError;

/// Everything the exchange needs.
#[derive(Debug)]
pub struct Exchange {
    pub validator: EntraValidator,
    pub tokens: Arc<CommunicationTokens>,
    /// Set when an ACS resource is configured: exchanges go there.
    pub acs: Option<AcsClient>,
}

impl Exchange {
    /// The route. Its path has a literal `:` segment, which axum 0.8 only
    /// allows on a router built `without_v07_checks` (see `http::router`).
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .without_v07_checks()
            .route(convene_proto::EXCHANGE_PATH, post(handler::exchange))
            .with_state(self)
    }
}

#[cfg(test)]
mod tests;
