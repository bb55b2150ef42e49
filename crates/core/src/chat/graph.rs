//! A client for Microsoft Graph's chat API (or convene-server's
//! Graph-shaped copy of it): the same code against both.

use std::time::Duration;

use convene_proto::graph::request::{
    ChatReadMark, ConversationMember, MessageEdit, NewChat, NewChatMessage, PresencesByUserId,
    ReactionChange,
};
use convene_proto::graph::{
    Chat, ChatMember, ChatMessage, GraphErrorBody, ItemBody, Page, Presence, User,
};
use serde::de::DeserializeOwned;
use url::Url;

use crate::http::{self, HttpError};
use crate::Secret;

/// Graph caps message pages at 50.
pub const MAX_PAGE: u32 = 50;
/// A runaway chain of next links is cut here.
const MAX_PAGES: usize = 100;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    #[error("the chat service refused ({status} {code}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("the chat service asks to slow down; try again in {retry_after:?}")]
    Throttled { retry_after: Duration },
    #[error("cannot reach the chat service: {0}")]
    Unreachable(String),
    #[error("the chat service sent something unexpected: {0}")]
    Malformed(String),
}

impl GraphError {
    /// Worth trying again later: the service was unreachable, busy, or
    /// failed on its side. Anything else will fail the same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            GraphError::Unreachable(_) | GraphError::Throttled { .. } => true,
            GraphError::Refused { status, .. } => *status >= 500 || *status == 408,
            GraphError::Malformed(_) => false,
        }
    }

    /// The token was not accepted: renew it and try again.
    pub fn is_unauthenticated(&self) -> bool {
        matches!(self, GraphError::Refused { status: 401, .. })
    }

    fn from_http(error: HttpError, retry_after: Option<Duration>) -> Self {
        match error {
            HttpError::Status { status: 429, .. } => GraphError::Throttled {
                retry_after: retry_after.unwrap_or(Duration::from_secs(5)),
            },
            HttpError::Status { status, body, .. } => {
                match serde_json::from_str::<GraphErrorBody>(&body) {
                    Ok(envelope) => GraphError::Refused {
                        status,
                        code: envelope.error.code,
                        message: envelope.error.message,
                    },
                    Err(_) => GraphError::Refused {
                        status,
                        code: "unknown".into(),
                        message: "no error details".into(),
                    },
                }
            }
            HttpError::Unreachable { url, reason } => {
                GraphError::Unreachable(format!("{url}: {reason}"))
            }
            other => GraphError::Malformed(other.to_string()),
        }
    }
}

/// Graph's chat API at `base` (ending in `/v1.0/`).
#[derive(Debug, Clone)]
pub struct GraphChats {
    http: reqwest::Client,
    base: Url,
}

impl GraphChats {
    pub fn new(http: reqwest::Client, base: Url) -> Self {
        Self { http, base }
    }

    fn url(&self, path: &str) -> Url {
        self.base
            .join(path)
            .expect("a relative Graph path joins onto the base URL")
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        token: &Secret,
    ) -> Result<T, GraphError> {
        let response = request
            .bearer_auth(token.expose())
            .send()
            .await
            .map_err(|e| GraphError::Unreachable(http::describe(&e)))?;
        let retry_after = retry_after(&response);
        http::json_body(response)
            .await
            .map_err(|e| GraphError::from_http(e, retry_after))
    }

    /// For actions that answer 204 (or any 2xx): the body is ignored.
    async fn send_empty(
        &self,
        request: reqwest::RequestBuilder,
        token: &Secret,
    ) -> Result<(), GraphError> {
        let response = request
            .bearer_auth(token.expose())
            .send()
            .await
            .map_err(|e| GraphError::Unreachable(http::describe(&e)))?;
        if response.status().is_success() {
            return Ok(());
        }
        let retry_after = retry_after(&response);
        // Reuse the JSON path for the error envelope.
        http::json_body::<serde_json::Value>(response)
            .await
            .map(|_| ())
            .map_err(|e| GraphError::from_http(e, retry_after))
    }

    /// Follows `@odata.nextLink` verbatim to the end.
    async fn all_pages<T: DeserializeOwned>(
        &self,
        first: Url,
        token: &Secret,
    ) -> Result<Vec<T>, GraphError> {
        let mut items = Vec::new();
        let mut next = Some(first);
        for _ in 0..MAX_PAGES {
            let Some(url) = next.take() else {
                return Ok(items);
            };
            let page: Page<T> = self.send(self.http.get(url), token).await?;
            items.extend(page.value);
            next = match page.next_link {
                Some(link) => {
                    Some(Url::parse(&link).map_err(|e| GraphError::Malformed(e.to_string()))?)
                }
                None => None,
            };
        }
        Err(GraphError::Malformed(format!(
            "more than {MAX_PAGES} pages of results"
        )))
    }

    /// The signed-in user's chats, with their members.
    pub async fn my_chats(&self, token: &Secret) -> Result<Vec<Chat>, GraphError> {
        let mut url = self.url("me/chats");
        url.query_pairs_mut().append_pair("$expand", "members");
        self.all_pages(url, token).await
    }

    /// The newest `top` messages of a chat, newest first.
    pub async fn recent_messages(
        &self,
        token: &Secret,
        chat_id: &str,
        top: u32,
    ) -> Result<Vec<ChatMessage>, GraphError> {
        let mut url = self.url(&format!("chats/{}/messages", encode(chat_id)));
        url.query_pairs_mut()
            .append_pair("$top", &top.clamp(1, MAX_PAGE).to_string())
            .append_pair("$orderby", "createdDateTime desc");
        let page: Page<ChatMessage> = self.send(self.http.get(url), token).await?;
        Ok(page.value)
    }

    /// Messages of a chat created, edited, reacted to or deleted after
    /// `since` (a Graph timestamp), or its newest page when `since` is
    /// `None`; newest first. This is how a delegated client catches up:
    /// Graph's message delta is application-only.
    pub async fn messages_changed_since(
        &self,
        token: &Secret,
        chat_id: &str,
        since: Option<&str>,
    ) -> Result<Vec<ChatMessage>, GraphError> {
        let mut url = self.url(&format!("chats/{}/messages", encode(chat_id)));
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("$top", &MAX_PAGE.to_string())
                .append_pair("$orderby", "lastModifiedDateTime desc");
            if let Some(since) = since {
                // Graph accepts only `gt` and `lt` here. Two changes can
                // share a millisecond, so callers ask from a millisecond
                // before what they have and drop what they already hold.
                query.append_pair("$filter", &format!("lastModifiedDateTime gt {since}"));
            }
        }
        match since {
            Some(_) => self.all_pages(url, token).await,
            None => Ok(self
                .send::<Page<ChatMessage>>(self.http.get(url), token)
                .await?
                .value),
        }
    }

    /// The 1:1 chat between the signed-in user and `other` (both Entra
    /// object ids); Graph returns the existing one if there is one.
    pub async fn one_on_one(
        &self,
        token: &Secret,
        me: &str,
        other: &str,
    ) -> Result<Chat, GraphError> {
        let body = NewChat {
            chat_type: "oneOnOne".to_owned(),
            topic: None,
            members: vec![
                ConversationMember::owner(me),
                ConversationMember::owner(other),
            ],
        };
        self.send(self.http.post(self.url("chats")).json(&body), token)
            .await
    }

    /// The user with this sign-in name, if the directory has one.
    pub async fn find_user(
        &self,
        token: &Secret,
        user_principal_name: &str,
    ) -> Result<Option<User>, GraphError> {
        let mut url = self.url("users");
        // OData string literals double their single quotes.
        let literal = user_principal_name.replace('\'', "''");
        url.query_pairs_mut()
            .append_pair("$filter", &format!("userPrincipalName eq '{literal}'"));
        let page: Page<User> = self.send(self.http.get(url), token).await?;
        Ok(page.value.into_iter().next())
    }

    /// One chat, with its members.
    pub async fn chat(&self, token: &Secret, chat_id: &str) -> Result<Chat, GraphError> {
        let mut url = self.url(&format!("chats/{}", encode(chat_id)));
        url.query_pairs_mut().append_pair("$expand", "members");
        self.send(self.http.get(url), token).await
    }

    /// A chat's members.
    pub async fn members(
        &self,
        token: &Secret,
        chat_id: &str,
    ) -> Result<Vec<ChatMember>, GraphError> {
        let url = self.url(&format!("chats/{}/members", encode(chat_id)));
        self.all_pages(url, token).await
    }

    /// The newest page of a chat's messages, newest first, with the link to
    /// the page before it.
    pub async fn newest_messages(
        &self,
        token: &Secret,
        chat_id: &str,
    ) -> Result<Page<ChatMessage>, GraphError> {
        let mut url = self.url(&format!("chats/{}/messages", encode(chat_id)));
        url.query_pairs_mut()
            .append_pair("$top", &MAX_PAGE.to_string())
            .append_pair("$orderby", "createdDateTime desc");
        self.send(self.http.get(url), token).await
    }

    /// The page a previous page's `@odata.nextLink` points at, verbatim.
    pub async fn next_page<T: DeserializeOwned>(
        &self,
        token: &Secret,
        next_link: &str,
    ) -> Result<Page<T>, GraphError> {
        let url = Url::parse(next_link).map_err(|e| GraphError::Malformed(e.to_string()))?;
        self.send(self.http.get(url), token).await
    }

    /// A new group chat of the signed-in user and `others`.
    pub async fn group_chat(
        &self,
        token: &Secret,
        me: &str,
        others: &[String],
        topic: Option<&str>,
    ) -> Result<Chat, GraphError> {
        let body = NewChat {
            chat_type: "group".to_owned(),
            topic: topic
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            members: std::iter::once(me)
                .chain(others.iter().map(String::as_str))
                .map(ConversationMember::owner)
                .collect(),
        };
        self.send(self.http.post(self.url("chats")).json(&body), token)
            .await
    }

    /// People whose display name or sign-in name starts with `query`.
    pub async fn search_users(&self, token: &Secret, query: &str) -> Result<Vec<User>, GraphError> {
        let mut url = self.url("users");
        // `$search` phrases are quoted; quotes inside are dropped.
        let phrase = query.replace('"', "");
        url.query_pairs_mut()
            .append_pair(
                "$search",
                &format!("\"displayName:{phrase}\" OR \"userPrincipalName:{phrase}\""),
            )
            .append_pair("$top", "20");
        let request = self.http.get(url).header("ConsistencyLevel", "eventual");
        let page: Page<User> = self.send(request, token).await?;
        Ok(page.value)
    }

    /// Posts a message with its mentions and attachments (a reply's
    /// `messageReference`). `idempotency_key` is honoured by convene-server
    /// (Graph ignores the header): the same key never makes two messages.
    pub async fn post_message(
        &self,
        token: &Secret,
        chat_id: &str,
        message: &NewChatMessage,
        idempotency_key: Option<&str>,
    ) -> Result<ChatMessage, GraphError> {
        let url = self.url(&format!("chats/{}/messages", encode(chat_id)));
        let mut request = self.http.post(url).json(message);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        self.send(request, token).await
    }

    /// Replaces the body of one of the user's messages.
    pub async fn edit_message(
        &self,
        token: &Secret,
        chat_id: &str,
        message_id: &str,
        body: &ItemBody,
    ) -> Result<(), GraphError> {
        let url = self.url(&message_url(chat_id, message_id));
        let edit = MessageEdit { body: body.clone() };
        self.send_empty(self.http.patch(url).json(&edit), token)
            .await
    }

    pub async fn soft_delete(
        &self,
        token: &Secret,
        chat_id: &str,
        message_id: &str,
    ) -> Result<(), GraphError> {
        let url = self.url(&format!("{}/softDelete", message_url(chat_id, message_id)));
        self.send_empty(self.http.post(url), token).await
    }

    /// `setReaction` (`on`) or `unsetReaction`.
    pub async fn react(
        &self,
        token: &Secret,
        chat_id: &str,
        message_id: &str,
        reaction: &str,
        on: bool,
    ) -> Result<(), GraphError> {
        let action = if on { "setReaction" } else { "unsetReaction" };
        let url = self.url(&format!("{}/{action}", message_url(chat_id, message_id)));
        let body = ReactionChange {
            reaction_type: reaction.to_owned(),
        };
        self.send_empty(self.http.post(url).json(&body), token)
            .await
    }

    /// Marks the chat read up to now for the signed-in user.
    pub async fn mark_read(
        &self,
        token: &Secret,
        chat_id: &str,
        user_id: &str,
        tenant_id: &str,
    ) -> Result<(), GraphError> {
        let url = self.url(&format!("chats/{}/markChatReadForUser", encode(chat_id)));
        let body = ChatReadMark::read(user_id, tenant_id);
        self.send_empty(self.http.post(url).json(&body), token)
            .await
    }

    /// The presence of these users (Entra object ids).
    pub async fn presences(
        &self,
        token: &Secret,
        user_ids: &[String],
    ) -> Result<Vec<Presence>, GraphError> {
        let url = self.url("communications/getPresencesByUserId");
        let page: Page<Presence> = self
            .send(
                self.http.post(url).json(&PresencesByUserId {
                    ids: user_ids.to_vec(),
                }),
                token,
            )
            .await?;
        Ok(page.value)
    }

    /// Posts a message; the server answers with it as stored.
    pub async fn send_message(
        &self,
        token: &Secret,
        chat_id: &str,
        body: &ItemBody,
    ) -> Result<ChatMessage, GraphError> {
        let url = self.url(&format!("chats/{}/messages", encode(chat_id)));
        let message = NewChatMessage::of_body(body.clone());
        self.send(self.http.post(url).json(&message), token).await
    }
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

fn message_url(chat_id: &str, message_id: &str) -> String {
    format!("chats/{}/messages/{}", encode(chat_id), encode(message_id))
}

/// Chat ids contain `:` and `@`; keep them one path segment.
fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
