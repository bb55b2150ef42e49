//! A client for Microsoft Graph's chat API (or convene-server's
//! Graph-shaped copy of it): the same code against both.

use std::time::Duration;

use convene_proto::graph::{Chat, ChatMessage, GraphErrorBody, ItemBody, Page, User};
use serde::de::DeserializeOwned;
use serde_json::json;
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
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        http::json_body(response)
            .await
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
        let member = |oid: &str| {
            json!({
                "@odata.type": "#microsoft.graph.aadUserConversationMember",
                "roles": ["owner"],
                "user@odata.bind": format!("https://graph.microsoft.com/v1.0/users('{oid}')"),
            })
        };
        let body = json!({
            "chatType": "oneOnOne",
            "members": [member(me), member(other)],
        });
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

    /// Posts a message; the server answers with it as stored.
    pub async fn send_message(
        &self,
        token: &Secret,
        chat_id: &str,
        body: &ItemBody,
    ) -> Result<ChatMessage, GraphError> {
        let url = self.url(&format!("chats/{}/messages", encode(chat_id)));
        self.send(self.http.post(url).json(&json!({ "body": body })), token)
            .await
    }
}

/// Chat ids contain `:` and `@`; keep them one path segment.
fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
