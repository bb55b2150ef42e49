//! A Microsoft Graph-compatible subset of the chat API under `/v1.0`:
//! create and list chats, list members, list and send messages, with
//! Graph's JSON shapes, paging (`@odata.nextLink`) and OData errors.
//!
//! Every route wants `Authorization: Bearer` with a Graph access token
//! (`aud` `https://graph.microsoft.com`) from the trusted authority, checked
//! like the token exchange checks ACS tokens ([`EntraValidator::verify`]),
//! for this server's app and an allowed tenant. Reads need `Chat.Read` or
//! `Chat.ReadWrite` in `scp`, writes `Chat.ReadWrite`.

mod error;
mod handlers;
mod odata;

use std::sync::Arc;

use axum::http::{header, HeaderMap};
use axum::routing::{get, post};
use axum::Router;
use uuid::Uuid;

use crate::exchange::{EntraValidator, VerifiedToken};
use crate::store::Store;

pub use error::GraphError;

/// The audience of Microsoft Graph access tokens.
pub const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";
/// The largest message body Graph accepts (28 KB), in bytes of content.
pub const MAX_MESSAGE_BYTES: usize = 28 * 1024;

/// The chat API's state.
pub struct Graph {
    pub store: Store,
    pub validator: EntraValidator,
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graph")
            .field("store", &self.store.location())
            .field("validator", &self.validator)
            .finish()
    }
}

/// Who is calling: a verified token's user.
#[derive(Debug, Clone)]
pub struct Caller {
    pub tid: Uuid,
    pub oid: Uuid,
    pub token: VerifiedToken,
    /// `http://{Host}`, for absolute `@odata.nextLink`s.
    pub base: String,
}

/// What a route needs of the token's scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

impl Graph {
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .without_v07_checks()
            .route("/v1.0/chats", post(handlers::create_chat))
            .route("/v1.0/me/chats", get(handlers::my_chats))
            .route("/v1.0/chats/{chat_id}", get(handlers::get_chat))
            .route("/v1.0/chats/{chat_id}/members", get(handlers::members))
            .route(
                "/v1.0/chats/{chat_id}/messages",
                get(handlers::messages).post(handlers::send_message),
            )
            .with_state(self)
    }

    /// Checks the bearer token: 401 `InvalidAuthenticationToken` if it is
    /// missing or not acceptable, 403 `Forbidden` if it lacks the scope.
    pub async fn authorize(
        &self,
        headers: &HeaderMap,
        access: Access,
    ) -> Result<Caller, GraphError> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| GraphError::unauthenticated("Access token is empty."))?;
        let base = crate::issuer::base_url(headers)
            .map_err(|_| GraphError::bad_request("The request must carry a valid Host header."))?;
        let verified = self
            .validator
            .verify(token, GRAPH_AUDIENCE, Some(&base))
            .await
            .map_err(|error| {
                if error.status.is_server_error() {
                    GraphError::unavailable(error.message)
                } else {
                    GraphError::unauthenticated(error.message)
                }
            })?;
        if verified.app != self.validator.client_id {
            return Err(GraphError::unauthenticated(format!(
                "The access token is not for this server's application ({}).",
                self.validator.client_id
            )));
        }
        let allowed = &self.validator.allowed_tenants;
        if !allowed.is_empty() && !allowed.contains(&verified.tid) {
            return Err(GraphError::unauthenticated(format!(
                "The tenant {} is not allowed on this server.",
                verified.tid
            )));
        }
        let needed: &[&str] = match access {
            Access::Read => &["Chat.Read", "Chat.ReadWrite"],
            Access::Write => &["Chat.ReadWrite"],
        };
        if !needed.iter().any(|s| verified.has_scope(s)) {
            return Err(GraphError::forbidden(format!(
                "Missing scope permissions on the request. API requires one of '{}'. \
                 Scopes on the request '{}'",
                needed.join(", "),
                verified.scp
            )));
        }
        Ok(Caller {
            tid: verified.tid,
            oid: verified.oid,
            token: verified,
            base,
        })
    }
}
