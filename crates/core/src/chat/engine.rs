//! What the chat workers share: the account, the Graph client, the cache
//! and the way out to the client's event stream.

use std::sync::{Arc, Mutex, MutexGuard};

use super::cache::{Cache, CacheError};
use super::event::ChatEvent;
use super::graph::{GraphChats, GraphError};
use super::view::ThreadMessage;
use crate::error::{UserError, UserErrorCode};
use crate::publish::Publisher;
use crate::session::{AccountProfile, SessionError, Sessions};
use crate::Secret;

/// One request to the chat service with the account's token:
/// `with_graph!(engine, |graph, token| graph.chat(token, id))` evaluates to
/// the request's answer (`?` applied). When the service refuses the token
/// (401), it is dropped and the request tried once more with a new one.
/// A macro because an async closure borrowing its arguments cannot yet
/// promise a `Send` future, which the chat tasks need.
macro_rules! with_graph {
    ($engine:expr, |$graph:ident, $token:ident| $request:expr) => {{
        let engine: &$crate::chat::engine::Engine = &$engine;
        let first = {
            let $token = &engine.graph_token().await?;
            let $graph = &engine.graph;
            $request.await
        };
        match first {
            Err(error) if error.is_unauthenticated() => {
                engine.forget_graph_token().await;
                let $token = &engine.graph_token().await?;
                let $graph = &engine.graph;
                $request.await?
            }
            other => other?,
        }
    }};
}
pub(crate) use with_graph;

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("{0}")]
    Invalid(String),
}

impl ChatError {
    /// How long the service asked to be left alone (429 `Retry-After`).
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            ChatError::Graph(GraphError::Throttled { retry_after }) => Some(*retry_after),
            _ => None,
        }
    }

    /// The account, not the request, is in the way: its session ended or
    /// its secrets cannot be read. Nothing about the message is wrong, so
    /// it waits for the user instead of failing.
    pub fn needs_the_user(&self) -> bool {
        matches!(self, ChatError::Session(_)) && !self.is_transient()
    }

    /// Worth trying again later (offline, throttled, the service failed,
    /// the cache file busy or its disk full).
    pub fn is_transient(&self) -> bool {
        match self {
            ChatError::Graph(e) => e.is_transient() || e.is_unauthenticated(),
            // Token renewal that could not reach the authority or the
            // exchange; anything else about the session needs the user.
            ChatError::Session(SessionError::Auth(_) | SessionError::Exchange(_)) => true,
            ChatError::Session(_) => false,
            ChatError::Cache(e) => e.is_transient(),
            ChatError::Invalid(_) => false,
        }
    }
}

impl From<&ChatError> for UserError {
    fn from(error: &ChatError) -> Self {
        let code = match error {
            ChatError::Session(e) => return UserError::from(e),
            ChatError::Graph(e) if e.is_transient() => UserErrorCode::Offline,
            ChatError::Graph(GraphError::Refused { status, .. }) if *status < 500 => {
                UserErrorCode::Refused
            }
            ChatError::Invalid(_) | ChatError::Cache(CacheError::UnknownChat(_)) => {
                UserErrorCode::Invalid
            }
            ChatError::Cache(CacheError::UnknownOutboxItem(_)) => UserErrorCode::Invalid,
            _ => UserErrorCode::Other,
        };
        UserError {
            code,
            message: error.to_string(),
        }
    }
}

impl From<ChatError> for UserError {
    fn from(error: ChatError) -> Self {
        UserError::from(&error)
    }
}

/// The state every chat worker holds a reference to.
pub struct Engine {
    pub account: AccountProfile,
    pub sessions: Arc<Sessions>,
    pub graph: GraphChats,
    cache: Mutex<Cache>,
    events: Publisher<ChatEvent>,
    /// Held while a message is being posted and recorded as sent, and
    /// while a catch-up stores what it fetched: so a catch-up never stores
    /// the user's just-posted message before the outbox has tied it to its
    /// outbox key.
    pub post_lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("account", &self.account.user_id)
            .finish_non_exhaustive()
    }
}

impl Engine {
    pub fn new(
        account: AccountProfile,
        sessions: Arc<Sessions>,
        graph: GraphChats,
        cache: Cache,
        events: Publisher<ChatEvent>,
    ) -> Self {
        Self {
            account,
            sessions,
            graph,
            cache: Mutex::new(cache),
            events,
            post_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The cache, for one short synchronous use (never across an await).
    pub fn cache(&self) -> MutexGuard<'_, Cache> {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The token for the chat API: Convene's API token when chat is
    /// convene-server's, a Graph token when it is Microsoft Graph.
    pub async fn graph_token(&self) -> Result<Secret, ChatError> {
        Ok(self
            .sessions
            .access_token(&self.account, self.sessions.chat_resource())
            .await?)
    }

    /// Drops the cached token the chat service refused (401) before it was
    /// due for renewal (revoked early, or the clocks disagree).
    pub async fn forget_graph_token(&self) {
        tracing::info!("the chat service refused the token: renewing it");
        self.sessions
            .forget_token(&self.account, self.sessions.chat_resource())
            .await;
    }

    pub fn emit(&self, event: ChatEvent) {
        // Nobody listening is no error: chat keeps its cache either way.
        let _ = self.events.publish(event);
    }

    /// Tells the UI about changed messages of one chat, and what that did
    /// to the chat's row and the unread total.
    pub fn publish_messages(&self, chat_id: &str, messages: Vec<ThreadMessage>) {
        if !messages.is_empty() {
            self.emit(ChatEvent::Messages {
                chat_id: chat_id.to_owned(),
                messages,
            });
        }
        self.publish_chats(&[chat_id]);
    }

    /// Sends the rows of these chats and the unread total.
    pub fn publish_chats(&self, chat_ids: &[&str]) {
        let (chats, total) = {
            let cache = self.cache();
            let chats: Vec<_> = chat_ids
                .iter()
                .filter_map(|id| cache.chat_summary(id).ok().flatten())
                .collect();
            (chats, cache.unread_total().unwrap_or(0))
        };
        if !chats.is_empty() {
            self.emit(ChatEvent::Chats { chats });
        }
        self.emit(ChatEvent::Unread { total });
    }
}
