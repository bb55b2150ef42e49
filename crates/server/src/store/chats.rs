//! Chats, their members and messages (the Graph-shaped chat API's data):
//! what they are, and the [`Store`] calls that keep them.
//!
//! Times are Unix milliseconds. A message's id is its creation time in
//! milliseconds, as Graph's are, but at least one more than the largest id
//! so far, so ids are unique and increase even within one millisecond.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Store, StoreError};

/// `chatType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatType {
    OneOnOne,
    Group,
}

impl ChatType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OneOnOne => "oneOnOne",
            Self::Group => "group",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "oneOnOne" => Some(Self::OneOnOne),
            "group" => Some(Self::Group),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chat {
    pub id: String,
    pub tenant_id: Uuid,
    pub chat_type: ChatType,
    pub topic: Option<String>,
    pub created_ms: i64,
    pub last_updated_ms: i64,
    /// The member it was read for: when they last read it.
    pub viewer_last_read_ms: Option<i64>,
    /// The member it was read for: the oldest messages they may see.
    pub viewer_history_from_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMember {
    pub chat_id: String,
    pub tenant_id: Uuid,
    pub object_id: Uuid,
    pub display_name: String,
    /// The user's sign-in name.
    pub email: String,
    pub roles: Vec<String>,
    /// Their read viewpoint: messages up to this time are read.
    pub last_read_ms: Option<i64>,
    /// The oldest messages they may see; `None` for all.
    pub visible_history_ms: Option<i64>,
}

/// A user to add to a group chat.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub chat_id: String,
    /// The chat's tenant: members are its users.
    pub tenant_id: Uuid,
    pub object_id: Uuid,
    pub roles: Vec<String>,
    pub visible_history_ms: Option<i64>,
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddMember {
    Added(ChatMember),
    /// Already a member: unchanged.
    Already(ChatMember),
    /// One-on-one chats keep their two members.
    NotGroup,
    /// Not a user of the chat's tenant.
    UnknownUser,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub id: i64,
    pub chat_id: String,
    pub from_tenant_id: Uuid,
    pub from_object_id: Uuid,
    pub from_display_name: String,
    /// `text` or `html`.
    pub content_type: String,
    pub content: String,
    pub created_ms: i64,
    pub modified_ms: i64,
    /// When its author last changed its body.
    pub edited_ms: Option<i64>,
    pub deleted_ms: Option<i64>,
    /// Oldest first.
    pub reactions: Vec<Reaction>,
    /// `<at id="N">` mentions of the body, in the order given.
    pub mentions: Vec<Mention>,
    /// The messages this one replies to (Graph's `messageReference`
    /// attachments), as they were when it was sent.
    pub references: Vec<MessageReference>,
}

/// A mention of a chat member: `<at id="{id}">{mention_text}</at>` in the
/// body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    pub id: i64,
    pub mention_text: String,
    pub user_id: Uuid,
    pub display_name: String,
}

/// A quoted message: what a reply shows of its parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageReference {
    pub message_id: i64,
    pub preview: String,
    pub sender_tenant_id: Uuid,
    pub sender_id: Uuid,
    pub sender_name: String,
}

/// The longest preview kept of a quoted message, in characters.
pub const PREVIEW_CHARS: usize = 200;

/// One user's reaction to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    pub reaction_type: String,
    pub tenant_id: Uuid,
    pub object_id: Uuid,
    pub display_name: String,
    pub created_ms: i64,
}

/// What a member does to an existing message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageChange {
    /// Replace the body (author only, not while deleted).
    Edit {
        content_type: String,
        content: String,
    },
    /// Set `deletedDateTime` (author only; again is a no-op).
    SoftDelete,
    /// Clear `deletedDateTime` (author only; when not deleted a no-op).
    UndoSoftDelete,
    /// Add the actor's reaction of this type (any member, not while
    /// deleted; again is a no-op).
    SetReaction(String),
    /// Remove the actor's reaction of this type (absent is a no-op).
    UnsetReaction(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeOutcome {
    /// Changed (or already so); the message as it is now.
    Done(Box<ChatMessage>),
    /// No such message in the chat.
    NotFound,
    /// Only the author may do this.
    NotAuthor,
    /// The message is soft-deleted.
    Deleted,
}

/// A chat to create. The creator must be among `members`.
#[derive(Debug, Clone)]
pub struct NewChat {
    pub tenant_id: Uuid,
    pub chat_type: ChatType,
    pub topic: Option<String>,
    /// The creator, added to the users if the server does not know them
    /// yet (tenant mode learns users from their tokens).
    pub creator: super::User,
    /// Object ids in the creator's tenant, with their roles.
    pub members: Vec<(Uuid, Vec<String>)>,
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateChat {
    Created(Chat),
    /// The one-on-one chat of these two users, which already existed.
    Existing(Chat),
    /// These members are not users of the tenant.
    UnknownUsers(Vec<Uuid>),
}

#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    pub chat_id: String,
    pub from_object_id: Uuid,
    pub content_type: String,
    pub content: String,
    /// Mentions; each user must be a member of the chat. `display_name`
    /// is replaced by the member's own.
    pub mentions: Vec<Mention>,
    /// Ids of messages of the same chat this one replies to.
    pub references: Vec<i64>,
    /// The sender's `Idempotency-Key`: a second message with the same key
    /// from the same sender in the same chat is not stored again.
    pub idempotency_key: Option<String>,
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertMessage {
    Created(ChatMessage),
    /// The message stored earlier under the same idempotency key.
    Existing(ChatMessage),
    /// A mentioned user who is not a member of the chat.
    UnknownMention(Uuid),
    /// A referenced message that is not in the chat.
    UnknownReference(i64),
}

/// The two message times one can order and filter by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageField {
    Created,
    LastModified,
}

/// `field gt ms` (`greater`) or `field lt ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeFilter {
    pub field: MessageField,
    pub greater: bool,
    pub ms: i64,
}

/// Where the previous page ended: its last item's sort time and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub ms: i64,
    pub id: String,
}

/// One page of a chat's messages, newest first by `order`.
#[derive(Debug, Clone)]
pub struct MessageQuery {
    pub chat_id: String,
    pub order: MessageField,
    pub filters: Vec<TimeFilter>,
    pub after: Option<Cursor>,
    pub limit: usize,
}

impl Store {
    /// Adds a user of the chat's tenant to a group chat (the caller has
    /// checked that the chat exists and the actor is in it).
    pub async fn add_member(&self, member: NewMember) -> Result<AddMember, StoreError> {
        self.backend.add_member(member).await
    }

    /// Moves `member`'s read viewpoint to `read_ms` (`None`: just before
    /// the newest message). False if they are not a member.
    pub async fn set_last_read(
        &self,
        chat_id: String,
        member: Uuid,
        read_ms: Option<i64>,
    ) -> Result<bool, StoreError> {
        self.backend.set_last_read(chat_id, member, read_ms).await
    }

    /// Creates a chat, or finds the one-on-one chat of the same two users.
    pub async fn create_chat(&self, chat: NewChat) -> Result<CreateChat, StoreError> {
        self.backend.create_chat(chat).await
    }

    /// The chat if `member` is in it (unknown and foreign chats alike are
    /// `None`).
    pub async fn chat_for_member(
        &self,
        chat_id: String,
        member: Uuid,
    ) -> Result<Option<Chat>, StoreError> {
        self.backend.chat_for_member(chat_id, member).await
    }

    /// A page of `member`'s chats, newest first; `limit + 1` are asked for
    /// so the caller can tell whether there is more.
    pub async fn chats_of(
        &self,
        member: Uuid,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError> {
        self.backend.chats_of(member, after, limit).await
    }

    /// The members of a chat, in the order they were added.
    pub async fn chat_members(&self, chat_id: String) -> Result<Vec<ChatMember>, StoreError> {
        self.backend.chat_members(chat_id).await
    }

    /// Stores a message from a member (the caller has checked membership)
    /// and returns it, or the one stored before under the same idempotency
    /// key; committed with `synchronous=FULL` before this returns.
    pub async fn insert_message(&self, message: NewMessage) -> Result<InsertMessage, StoreError> {
        self.backend.insert_message(message).await
    }

    /// Changes message `message_id` of `chat_id` on behalf of `actor` (a
    /// member: the caller has checked). Any real change moves
    /// `modified_ms` to `now_ms`, or one past its old value if that is not
    /// later, so `lastModifiedDateTime gt` polling sees every change.
    pub async fn change_message(
        &self,
        chat_id: String,
        message_id: i64,
        actor: Uuid,
        change: MessageChange,
        now_ms: i64,
    ) -> Result<ChangeOutcome, StoreError> {
        self.backend
            .change_message(chat_id, message_id, actor, change, now_ms)
            .await
    }

    /// A page of messages (up to `limit + 1`).
    pub async fn messages(&self, query: MessageQuery) -> Result<Vec<ChatMessage>, StoreError> {
        self.backend.messages(query).await
    }
}

/// The start of a message's text for a reply's quote: tags dropped,
/// whitespace collapsed, at most [`PREVIEW_CHARS`] characters.
pub fn preview_of(content_type: &str, content: &str) -> String {
    let mut text = String::with_capacity(content.len().min(PREVIEW_CHARS * 4));
    let mut in_tag = false;
    for c in content.chars() {
        match c {
            '<' if content_type == "html" => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if in_tag => {}
            _ => text.push(c),
        }
    }
    let text = text
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(PREVIEW_CHARS)
        .collect()
}
