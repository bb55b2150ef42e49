//! A Microsoft Graph-compatible subset of the chat API under `/v1.0`:
//! create and list chats, list members, list and send messages, with
//! Graph's JSON shapes, paging (`@odata.nextLink`) and OData errors.
//!
//! It serves `convene-server --dev` and organisations that self-host chat;
//! organisations on Microsoft 365 point clients at Microsoft Graph itself.
//! Every route wants `Authorization: Bearer` with a token for Convene's own
//! API (never a Graph token: those are Microsoft's to validate), checked
//! by [`EntraValidator::verify_api_token`]: the trusted authority, this
//! server's app, its API permission, an allowed tenant. The caller is
//! remembered in the [`Directory`].

mod compose;
mod error;
mod handlers;
mod members;
pub(crate) mod odata;
mod presence;
mod throttle;
mod users;

use std::sync::Arc;

use axum::http::HeaderMap;
use axum::routing::{get, patch, post};
use axum::Router;
use convene_proto::live::{ChangeKind, ServerFrame};
use uuid::Uuid;

use crate::directory::Directory;
use crate::exchange::{EntraValidator, VerifiedToken};
use crate::hub::Hub;
use crate::presence::Presence;
use crate::store::Store;

pub use error::GraphError;
pub use throttle::Throttle;

/// The audience of Microsoft Graph access tokens.
pub const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";
/// The largest message body Graph accepts (28 KB), in bytes of content.
pub const MAX_MESSAGE_BYTES: usize = 28 * 1024;

/// The chat API's state.
pub struct Graph {
    pub store: Store,
    pub validator: EntraValidator,
    pub throttle: Throttle,
    /// Where chat changes are announced (the live sockets).
    pub hub: Arc<dyn Hub>,
    pub presence: Arc<Presence>,
    pub directory: Arc<Directory>,
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

impl Graph {
    /// Hints to every member's sockets (the actor's other devices too)
    /// that the chat changed. A failure to read the members is logged, not
    /// returned: the change itself is already stored.
    pub async fn notify(&self, chat_id: &str, message_id: Option<i64>, change: ChangeKind) {
        let members = match self.store.chat_members(chat_id.to_owned()).await {
            Ok(members) => members,
            Err(error) => {
                tracing::warn!(%error, "graph: cannot tell the chat's members of a change");
                return;
            }
        };
        let users: Vec<Uuid> = members.iter().map(|m| m.object_id).collect();
        let frame = ServerFrame::ChatChanged {
            chat_id: chat_id.to_owned(),
            message_id: message_id.map(|id| id.to_string()),
            change,
        };
        self.hub.send_to_users(&users, &frame, None);
    }

    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/v1.0/chats", post(handlers::create_chat))
            .route("/v1.0/me/chats", get(handlers::my_chats))
            .route("/v1.0/chats/{chat_id}", get(handlers::get_chat))
            .route(
                "/v1.0/chats/{chat_id}/members",
                get(handlers::members).post(members::add_member),
            )
            .route(
                "/v1.0/chats/{chat_id}/markChatReadForUser",
                post(members::mark_read),
            )
            .route(
                "/v1.0/chats/{chat_id}/markChatUnreadForUser",
                post(members::mark_unread),
            )
            .route(
                "/v1.0/chats/{chat_id}/messages",
                get(handlers::messages).post(handlers::send_message),
            )
            .route(
                "/v1.0/chats/{chat_id}/messages/{message_id}",
                patch(handlers::edit_message),
            )
            .route(
                "/v1.0/chats/{chat_id}/messages/{message_id}/softDelete",
                post(handlers::soft_delete),
            )
            .route(
                "/v1.0/chats/{chat_id}/messages/{message_id}/undoSoftDelete",
                post(handlers::undo_soft_delete),
            )
            .route(
                "/v1.0/chats/{chat_id}/messages/{message_id}/setReaction",
                post(handlers::set_reaction),
            )
            .route(
                "/v1.0/chats/{chat_id}/messages/{message_id}/unsetReaction",
                post(handlers::unset_reaction),
            )
            .route("/v1.0/me/presence", get(presence::mine))
            .route("/v1.0/users/{user}/presence", get(presence::of_user))
            .route(
                "/v1.0/users/{user}/presence/setPresence",
                post(presence::set),
            )
            .route(
                "/v1.0/users/{user}/presence/clearPresence",
                post(presence::clear),
            )
            .route(
                "/v1.0/communications/getPresencesByUserId",
                post(presence::by_user_ids),
            )
            .route("/v1.0/users", get(users::list))
            .route("/v1.0/users/{user}", get(users::one))
            .with_state(self)
    }

    /// Checks the bearer token: 401 `InvalidAuthenticationToken` if it is
    /// missing or not acceptable, 403 `Forbidden` if it may not be used
    /// here (another app, a tenant not allowed, no API permission).
    pub async fn authorize(&self, headers: &HeaderMap) -> Result<Caller, GraphError> {
        let token = crate::api::bearer_token(headers)
            .ok_or_else(|| GraphError::unauthenticated("Access token is empty."))?;
        let base = crate::issuer::base_url(headers)
            .map_err(|_| GraphError::bad_request("The request must carry a valid Host header."))?;
        let verified = self
            .validator
            .verify_api_token(token, Some(&base))
            .await
            .map_err(|error| {
                if error.status.is_server_error() {
                    GraphError::unavailable(error.message)
                } else if error.status == axum::http::StatusCode::FORBIDDEN {
                    GraphError::forbidden(error.message)
                } else {
                    GraphError::unauthenticated(error.message)
                }
            })?;
        self.directory.remember(&verified).await;
        self.throttle.check(verified.oid)?;
        Ok(Caller {
            tid: verified.tid,
            oid: verified.oid,
            token: verified,
            base,
        })
    }
}
