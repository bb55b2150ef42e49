//! Chat as the UI shows it: what the cache and the outbox hand to the
//! desktop shell (and the CLI). Bodies are already sanitised; times are
//! RFC 3339 strings in UTC with milliseconds, which sort as text.

use serde::{Deserialize, Serialize};

use crate::error::UserError;

/// A person in a chat, addressed by Entra object id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    /// Entra object id.
    pub id: String,
    pub display_name: String,
    /// Sign-in name, when known (`bob@convene.example`).
    pub user_principal_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum ChatKind {
    OneOnOne,
    Group,
    Meeting,
}

/// One row of the chat list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ChatSummary {
    pub id: String,
    pub kind: ChatKind,
    /// The topic, or the other members' names.
    pub title: String,
    /// Everyone but the signed-in user.
    pub members: Vec<Person>,
    pub last_message: Option<MessagePreview>,
    pub unread_count: u32,
    /// When anything last happened in the chat; the list's sort key.
    pub updated_at: String,
    /// How far each other member has read, where the service tells
    /// (convene-server does; real Graph does not).
    pub read_by: Vec<ReadMark>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MessagePreview {
    pub from: String,
    /// Plain text, short.
    pub text: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ReadMark {
    pub user_id: String,
    pub last_read_at: String,
}

/// One message in a thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ThreadMessage {
    /// Stable for the message's whole life, from "sending" to "sent", so a
    /// list keyed by it never remounts a row.
    pub key: String,
    /// The service's id once it has one.
    pub id: Option<String>,
    pub chat_id: String,
    pub from: Person,
    pub mine: bool,
    pub created_at: String,
    pub edited_at: Option<String>,
    pub deleted: bool,
    /// Sanitised HTML, safe to render.
    pub body_html: String,
    pub delivery: Delivery,
    pub reactions: Vec<ReactionCount>,
    pub reply_to: Option<ReplyPreview>,
}

/// Where a message the user wrote is on its way out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum Delivery {
    /// In the outbox; it is retried until it is sent or clearly refused.
    Sending,
    Sent,
    /// Refused for good; the user may retry or discard it.
    Failed {
        error: UserError,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ReactionCount {
    /// The emoji itself (Graph's `reactionType` is a unicode emoji, or a
    /// legacy name such as `like`, which the core maps to one).
    pub reaction: String,
    pub count: u32,
    pub mine: bool,
    pub names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ReplyPreview {
    pub message_id: String,
    pub from: String,
    pub preview: String,
}

/// A slice of a thread, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ThreadPage {
    pub chat_id: String,
    pub messages: Vec<ThreadMessage>,
    /// Older messages exist (in the cache or on the service).
    pub has_older: bool,
}

/// What the composer hands over.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Draft {
    /// HTML from the composer (sanitised again in the core) or plain text.
    pub html: String,
    pub reply_to: Option<String>,
    /// People mentioned; the body refers to them as `<at id="N">`, N being
    /// the index here.
    pub mentions: Vec<Person>,
}
