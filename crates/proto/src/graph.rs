//! The parts of Microsoft Graph's chat resources that Convene reads, as
//! Graph documents them. Unknown fields are ignored, so the same types
//! read real Graph and convene-server's Graph-shaped API. The bodies
//! Convene sends are in [`request`].

pub mod request;

use serde::{Deserialize, Deserializer, Serialize};

/// A page of a collection: `value` plus the link to the next page.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Page<T> {
    pub value: Vec<T>,
    /// Follow verbatim; absent on the last page.
    #[serde(rename = "@odata.nextLink", default)]
    pub next_link: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Chat {
    pub id: String,
    /// `oneOnOne`, `group` or `meeting`.
    pub chat_type: String,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub last_updated_date_time: Option<String>,
    #[serde(default)]
    pub members: Option<Vec<ChatMember>>,
    /// The signed-in user's view of the chat (read position).
    #[serde(default)]
    pub viewpoint: Option<ChatViewpoint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatViewpoint {
    #[serde(default)]
    pub is_hidden: Option<bool>,
    #[serde(default)]
    pub last_message_read_date_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMember {
    #[serde(default)]
    pub display_name: Option<String>,
    /// The member's Entra object id.
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// How far the member has read. A convene-server extension (read
    /// receipts); real Graph does not send it.
    #[serde(default)]
    pub last_message_read_date_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    pub id: String,
    #[serde(default)]
    pub chat_id: Option<String>,
    pub created_date_time: String,
    #[serde(default)]
    pub last_modified_date_time: Option<String>,
    /// Set when the body was edited (not for reactions).
    #[serde(default)]
    pub last_edited_date_time: Option<String>,
    #[serde(default)]
    pub deleted_date_time: Option<String>,
    #[serde(default)]
    pub from: Option<MessageFrom>,
    pub body: ItemBody,
    /// `message`, or a system event (`systemEventMessage`, …).
    #[serde(default)]
    pub message_type: Option<String>,
    #[serde(default)]
    pub attachments: Vec<ChatMessageAttachment>,
    #[serde(default)]
    pub mentions: Vec<ChatMessageMention>,
    #[serde(default)]
    pub reactions: Vec<ChatMessageReaction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessageAttachment {
    #[serde(default)]
    pub id: Option<String>,
    /// `messageReference` for a reply's quote.
    #[serde(default)]
    pub content_type: Option<String>,
    /// For a `messageReference`: JSON text of a [`MessageReference`].
    #[serde(default)]
    pub content: Option<String>,
}

/// The attachment `contentType` of a reply's quote.
pub const MESSAGE_REFERENCE: &str = "messageReference";

/// The content of a `messageReference` attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageReference {
    pub message_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_preview: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_sender: Option<UserIdentitySet>,
}

/// Graph's `chatMessageMentionedIdentitySet` (a mention's `mentioned`) and
/// `chatMessageFromIdentitySet` (a quote's `messageSender`): of the
/// identities they may hold, Convene deals in users only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserIdentitySet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<TeamworkUserIdentity>,
}

/// Graph's `userIdentityType` of an Entra (work account) user.
pub const AAD_USER: &str = "aadUser";

/// Graph's `teamworkUserIdentity`: a user as a mention, a quote's sender
/// or a read marker names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamworkUserIdentity {
    /// The user's Entra object id.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `aadUser` for the users Convene knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_identity_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

impl TeamworkUserIdentity {
    /// An Entra user, named.
    pub fn aad_user(id: impl Into<String>, display_name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            display_name: Some(display_name.into()),
            user_identity_type: Some(AAD_USER.to_owned()),
            tenant_id: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessageMention {
    /// Matches `<at id="N">` in the body.
    pub id: i64,
    #[serde(default)]
    pub mention_text: Option<String>,
    #[serde(default)]
    pub mentioned: Option<MessageFrom>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessageReaction {
    /// A unicode emoji, or a legacy name (`like`, `heart`, …).
    pub reaction_type: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub created_date_time: Option<String>,
    #[serde(default)]
    pub user: Option<MessageFrom>,
}

/// A user's presence, as `/me/presence` and `getPresencesByUserId` return it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Presence {
    pub id: String,
    pub availability: String,
    pub activity: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageFrom {
    #[serde(default)]
    pub user: Option<Identity>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemBody {
    /// `text` or `html`; Graph reads a missing (or null) one as `text`.
    #[serde(default = "text", deserialize_with = "text_when_null")]
    pub content_type: String,
    pub content: String,
}

fn text() -> String {
    "text".to_owned()
}

fn text_when_null<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_else(text))
}

/// Graph's error envelope: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GraphErrorBody {
    pub error: GraphErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GraphErrorDetail {
    pub code: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
}
