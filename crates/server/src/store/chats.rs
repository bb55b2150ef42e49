//! Chats, their members and messages (the Graph-shaped chat API's data).
//!
//! Times are Unix milliseconds. A message's id is its creation time in
//! milliseconds, as Graph's are, but at least one more than the largest id
//! so far, so ids are unique and increase even within one millisecond.

use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::sqlite::parse_uuid;
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

impl MessageField {
    fn column(self) -> &'static str {
        match self {
            Self::Created => "created_ms",
            Self::LastModified => "modified_ms",
        }
    }
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

/// A chat as no member in particular sees it.
const CHAT_COLUMNS: &str =
    "id, tenant_id, chat_type, topic, created_ms, last_updated_ms, NULL, NULL";
/// A chat as member `m` sees it (joined as `m`).
const VIEWED_CHAT_COLUMNS: &str = "chats.id, chats.tenant_id, chat_type, topic, created_ms, \
     last_updated_ms, m.last_read_ms, m.visible_history_ms";
const MEMBER_COLUMNS: &str = "chat_id, tenant_id, object_id, display_name, email, roles, \
     last_read_ms, visible_history_ms";
const MESSAGE_COLUMNS: &str = "id, chat_id, from_tenant_id, from_object_id, from_display_name, \
     content_type, content, created_ms, modified_ms, deleted_ms, edited_ms, mentions, \
     message_references";

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

fn chat_row(row: &Row<'_>) -> rusqlite::Result<Chat> {
    let chat_type: String = row.get(2)?;
    Ok(Chat {
        id: row.get(0)?,
        tenant_id: parse_uuid(row, 1)?,
        chat_type: ChatType::parse(&chat_type).unwrap_or(ChatType::Group),
        topic: row.get(3)?,
        created_ms: row.get(4)?,
        last_updated_ms: row.get(5)?,
        viewer_last_read_ms: row.get(6)?,
        viewer_history_from_ms: row.get(7)?,
    })
}

fn message_row(row: &Row<'_>) -> rusqlite::Result<ChatMessage> {
    Ok(ChatMessage {
        id: row.get(0)?,
        chat_id: row.get(1)?,
        from_tenant_id: parse_uuid(row, 2)?,
        from_object_id: parse_uuid(row, 3)?,
        from_display_name: row.get(4)?,
        content_type: row.get(5)?,
        content: row.get(6)?,
        created_ms: row.get(7)?,
        modified_ms: row.get(8)?,
        deleted_ms: row.get(9)?,
        edited_ms: row.get(10)?,
        reactions: Vec::new(),
        mentions: json_column(row, 11)?,
        references: json_column(row, 12)?,
    })
}

/// A JSON array column (mentions, references).
fn json_column<T: for<'de> Deserialize<'de>>(row: &Row<'_>, index: usize) -> rusqlite::Result<T> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn to_json<T: Serialize>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
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

fn chat_by_id(conn: &Connection, id: &str) -> rusqlite::Result<Option<Chat>> {
    conn.query_row(
        &format!("SELECT {CHAT_COLUMNS} FROM chats WHERE id = ?1"),
        [id],
        chat_row,
    )
    .optional()
}

pub(super) fn create_chat(conn: &mut Connection, chat: NewChat) -> rusqlite::Result<CreateChat> {
    let tx = conn.transaction()?;
    let tenant = chat.tenant_id.to_string();
    let creator = &chat.creator;
    tx.execute(
        "INSERT OR IGNORE INTO users (tenant_id, object_id, user_principal_name, display_name)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            creator.tenant_id.to_string(),
            creator.object_id.to_string(),
            creator.user_principal_name,
            creator.display_name
        ],
    )?;
    let mut resolved = Vec::new();
    let mut unknown = Vec::new();
    for (oid, roles) in &chat.members {
        let found: Option<(String, String)> = tx
            .query_row(
                "SELECT display_name, user_principal_name FROM users
                 WHERE tenant_id = ?1 AND object_id = ?2",
                [&tenant, &oid.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match found {
            Some((name, email)) => resolved.push((*oid, name, email, roles.join(" "))),
            None => unknown.push(*oid),
        }
    }
    if !unknown.is_empty() {
        return Ok(CreateChat::UnknownUsers(unknown));
    }
    let id = match chat.chat_type {
        ChatType::OneOnOne => {
            let mut oids: Vec<String> = chat.members.iter().map(|(o, _)| o.to_string()).collect();
            oids.sort();
            let id = format!("19:{}@unq.gbl.spaces", oids.join("_"));
            if let Some(existing) = chat_by_id(&tx, &id)? {
                return Ok(CreateChat::Existing(existing));
            }
            id
        }
        ChatType::Group => format!("19:{}@thread.v2", Uuid::new_v4().simple()),
    };
    tx.execute(
        "INSERT INTO chats (id, tenant_id, chat_type, topic, created_ms, last_updated_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![id, tenant, chat.chat_type.as_str(), chat.topic, chat.now_ms],
    )?;
    for (oid, name, email, roles) in &resolved {
        tx.execute(
            "INSERT INTO chat_members (chat_id, tenant_id, object_id, display_name, email, roles)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, tenant, oid.to_string(), name, email, roles],
        )?;
    }
    let created = chat_by_id(&tx, &id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    tx.commit()?;
    Ok(CreateChat::Created(created))
}

pub(super) fn chat_for_member(
    conn: &Connection,
    id: &str,
    member: Uuid,
) -> rusqlite::Result<Option<Chat>> {
    conn.query_row(
        &format!(
            "SELECT {VIEWED_CHAT_COLUMNS} FROM chats
             JOIN chat_members m ON m.chat_id = chats.id AND m.object_id = ?2
             WHERE chats.id = ?1"
        ),
        [id, &member.to_string()],
        chat_row,
    )
    .optional()
}

pub(super) fn chats_of(
    conn: &Connection,
    member: Uuid,
    after: Option<Cursor>,
    limit: usize,
) -> rusqlite::Result<Vec<Chat>> {
    let (ms, id) = after.map_or((i64::MAX, String::new()), |c| (c.ms, c.id));
    let mut query = conn.prepare(&format!(
        "SELECT {VIEWED_CHAT_COLUMNS} FROM chats
         JOIN chat_members m ON m.chat_id = chats.id AND m.object_id = ?1
         WHERE (created_ms < ?2 OR (created_ms = ?2 AND (?3 = '' OR chats.id < ?3)))
         ORDER BY created_ms DESC, chats.id DESC LIMIT ?4"
    ))?;
    let limit = i64::try_from(limit + 1).unwrap_or(i64::MAX);
    let rows = query.query_map(params![member.to_string(), ms, id, limit], chat_row)?;
    rows.collect()
}

fn member_row(row: &Row<'_>) -> rusqlite::Result<ChatMember> {
    let roles: String = row.get(5)?;
    Ok(ChatMember {
        chat_id: row.get(0)?,
        tenant_id: parse_uuid(row, 1)?,
        object_id: parse_uuid(row, 2)?,
        display_name: row.get(3)?,
        email: row.get(4)?,
        roles: roles.split_whitespace().map(str::to_owned).collect(),
        last_read_ms: row.get(6)?,
        visible_history_ms: row.get(7)?,
    })
}

pub(super) fn chat_members(conn: &Connection, chat_id: &str) -> rusqlite::Result<Vec<ChatMember>> {
    let mut query = conn.prepare(&format!(
        "SELECT {MEMBER_COLUMNS} FROM chat_members WHERE chat_id = ?1 ORDER BY rowid"
    ))?;
    let rows = query.query_map([chat_id], member_row)?;
    rows.collect()
}

fn chat_member(
    conn: &Connection,
    chat_id: &str,
    member: Uuid,
) -> rusqlite::Result<Option<ChatMember>> {
    conn.query_row(
        &format!("SELECT {MEMBER_COLUMNS} FROM chat_members WHERE chat_id = ?1 AND object_id = ?2"),
        [chat_id, &member.to_string()],
        member_row,
    )
    .optional()
}

pub(super) fn add_member(conn: &mut Connection, member: NewMember) -> rusqlite::Result<AddMember> {
    let tx = conn.transaction()?;
    let Some(chat) = chat_by_id(&tx, &member.chat_id)? else {
        return Err(rusqlite::Error::QueryReturnedNoRows);
    };
    if chat.chat_type != ChatType::Group {
        return Ok(AddMember::NotGroup);
    }
    if let Some(existing) = chat_member(&tx, &member.chat_id, member.object_id)? {
        return Ok(AddMember::Already(existing));
    }
    let oid = member.object_id.to_string();
    let inserted = tx.execute(
        "INSERT INTO chat_members (chat_id, tenant_id, object_id, display_name, email, roles,
             visible_history_ms)
         SELECT ?1, tenant_id, object_id, display_name, user_principal_name, ?4, ?5
         FROM users WHERE tenant_id = ?2 AND object_id = ?3",
        params![
            member.chat_id,
            member.tenant_id.to_string(),
            oid,
            member.roles.join(" "),
            member.visible_history_ms
        ],
    )?;
    if inserted == 0 {
        return Ok(AddMember::UnknownUser);
    }
    tx.execute(
        "UPDATE chats SET last_updated_ms = MAX(last_updated_ms, ?2) WHERE id = ?1",
        params![member.chat_id, member.now_ms],
    )?;
    let added = chat_member(&tx, &member.chat_id, member.object_id)?
        .ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    tx.commit()?;
    Ok(AddMember::Added(added))
}

/// Sets `member`'s read viewpoint to `read_ms`, or with `None` to just
/// before the chat's newest message (unread). False if not a member.
pub(super) fn set_last_read(
    conn: &Connection,
    chat_id: &str,
    member: Uuid,
    read_ms: Option<i64>,
) -> rusqlite::Result<bool> {
    let changed = conn.execute(
        "UPDATE chat_members SET last_read_ms = COALESCE(?3,
             (SELECT MAX(created_ms) - 1 FROM chat_messages WHERE chat_id = ?1))
         WHERE chat_id = ?1 AND object_id = ?2",
        params![chat_id, member.to_string(), read_ms],
    )?;
    Ok(changed == 1)
}

pub(super) fn insert_message(
    conn: &mut Connection,
    message: NewMessage,
) -> rusqlite::Result<InsertMessage> {
    let tx = conn.transaction()?;
    let sender = message.from_object_id.to_string();
    if let Some(key) = &message.idempotency_key {
        let earlier: Option<i64> = tx
            .query_row(
                "SELECT message_id FROM chat_message_keys
                 WHERE chat_id = ?1 AND object_id = ?2 AND idempotency_key = ?3",
                params![message.chat_id, sender, key],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = earlier {
            let stored = message_in_chat(&tx, &message.chat_id, id)?
                .ok_or(rusqlite::Error::QueryReturnedNoRows)?;
            return Ok(InsertMessage::Existing(stored));
        }
    }
    let (tenant, name): (String, String) = tx.query_row(
        "SELECT tenant_id, display_name FROM chat_members
         WHERE chat_id = ?1 AND object_id = ?2",
        [&message.chat_id, &sender],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut mentions = message.mentions;
    for mention in &mut mentions {
        let member: Option<String> = tx
            .query_row(
                "SELECT display_name FROM chat_members WHERE chat_id = ?1 AND object_id = ?2",
                [&message.chat_id, &mention.user_id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        match member {
            Some(name) => mention.display_name = name,
            None => return Ok(InsertMessage::UnknownMention(mention.user_id)),
        }
    }
    let mut references = Vec::with_capacity(message.references.len());
    for id in message.references {
        let Some(parent) = message_in_chat(&tx, &message.chat_id, id)? else {
            return Ok(InsertMessage::UnknownReference(id));
        };
        let preview = if parent.deleted_ms.is_some() {
            String::new()
        } else {
            preview_of(&parent.content_type, &parent.content)
        };
        references.push(MessageReference {
            message_id: parent.id,
            preview,
            sender_tenant_id: parent.from_tenant_id,
            sender_id: parent.from_object_id,
            sender_name: parent.from_display_name,
        });
    }
    let last: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM chat_messages", [], |r| {
        r.get(0)
    })?;
    let id = message.now_ms.max(last + 1);
    tx.execute(
        "INSERT INTO chat_messages (id, chat_id, from_tenant_id, from_object_id,
             from_display_name, content_type, content, created_ms, modified_ms, mentions,
             message_references)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10)",
        params![
            id,
            message.chat_id,
            tenant,
            sender,
            name,
            message.content_type,
            message.content,
            message.now_ms,
            to_json(&mentions)?,
            to_json(&references)?,
        ],
    )?;
    // What one has written, one has read (as in Teams).
    tx.execute(
        "UPDATE chat_members SET last_read_ms = MAX(COALESCE(last_read_ms, 0), ?3)
         WHERE chat_id = ?1 AND object_id = ?2",
        params![message.chat_id, sender, message.now_ms],
    )?;
    if let Some(key) = &message.idempotency_key {
        tx.execute(
            "INSERT INTO chat_message_keys (chat_id, object_id, idempotency_key, message_id)
             VALUES (?1, ?2, ?3, ?4)",
            params![message.chat_id, sender, key, id],
        )?;
    }
    let stored =
        message_in_chat(&tx, &message.chat_id, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    tx.commit()?;
    Ok(InsertMessage::Created(stored))
}

pub(super) fn messages(
    conn: &Connection,
    query: MessageQuery,
) -> rusqlite::Result<Vec<ChatMessage>> {
    let order = query.order.column();
    let mut sql = format!("SELECT {MESSAGE_COLUMNS} FROM chat_messages WHERE chat_id = ?");
    let mut values: Vec<rusqlite::types::Value> = vec![query.chat_id.into()];
    for filter in &query.filters {
        let op = if filter.greater { ">" } else { "<" };
        sql.push_str(&format!(" AND {} {op} ?", filter.field.column()));
        values.push(filter.ms.into());
    }
    if let Some(cursor) = query.after {
        let id: i64 = cursor.id.parse().unwrap_or(i64::MAX);
        sql.push_str(&format!(" AND ({order} < ? OR ({order} = ? AND id < ?))"));
        values.extend([cursor.ms.into(), cursor.ms.into(), id.into()]);
    }
    sql.push_str(&format!(" ORDER BY {order} DESC, id DESC LIMIT ?"));
    values.push(i64::try_from(query.limit + 1).unwrap_or(i64::MAX).into());
    let mut statement = conn.prepare(&sql)?;
    let rows = statement.query_map(params_from_iter(values), message_row)?;
    let mut page = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    for message in &mut page {
        message.reactions = reactions(conn, message.id)?;
    }
    Ok(page)
}

fn reactions(conn: &Connection, message_id: i64) -> rusqlite::Result<Vec<Reaction>> {
    let mut query = conn.prepare_cached(
        "SELECT reaction_type, tenant_id, object_id, display_name, created_ms
         FROM chat_message_reactions WHERE message_id = ?1 ORDER BY created_ms, rowid",
    )?;
    let rows = query.query_map([message_id], |row| {
        Ok(Reaction {
            reaction_type: row.get(0)?,
            tenant_id: parse_uuid(row, 1)?,
            object_id: parse_uuid(row, 2)?,
            display_name: row.get(3)?,
            created_ms: row.get(4)?,
        })
    })?;
    rows.collect()
}

fn message_in_chat(
    conn: &Connection,
    chat_id: &str,
    message_id: i64,
) -> rusqlite::Result<Option<ChatMessage>> {
    let Some(mut message) = conn
        .query_row(
            &format!("SELECT {MESSAGE_COLUMNS} FROM chat_messages WHERE id = ?1 AND chat_id = ?2"),
            params![message_id, chat_id],
            message_row,
        )
        .optional()?
    else {
        return Ok(None);
    };
    message.reactions = reactions(conn, message.id)?;
    Ok(Some(message))
}

pub(super) fn change_message(
    conn: &mut Connection,
    chat_id: &str,
    message_id: i64,
    actor: Uuid,
    change: MessageChange,
    now_ms: i64,
) -> rusqlite::Result<ChangeOutcome> {
    let tx = conn.transaction()?;
    let Some(message) = message_in_chat(&tx, chat_id, message_id)? else {
        return Ok(ChangeOutcome::NotFound);
    };
    let own = message.from_object_id == actor;
    let deleted = message.deleted_ms.is_some();
    let modified = now_ms.max(message.modified_ms + 1);
    let actor_id = actor.to_string();
    let changed = match change {
        MessageChange::Edit { .. } | MessageChange::SoftDelete | MessageChange::UndoSoftDelete
            if !own =>
        {
            return Ok(ChangeOutcome::NotAuthor)
        }
        MessageChange::Edit { .. } | MessageChange::SetReaction(_) if deleted => {
            return Ok(ChangeOutcome::Deleted)
        }
        MessageChange::Edit {
            content_type,
            content,
        } => tx.execute(
            "UPDATE chat_messages SET content_type = ?2, content = ?3, edited_ms = ?4,
                 modified_ms = ?4 WHERE id = ?1",
            params![message_id, content_type, content, modified],
        )?,
        MessageChange::SoftDelete => tx.execute(
            "UPDATE chat_messages SET deleted_ms = ?2, modified_ms = ?2
             WHERE id = ?1 AND deleted_ms IS NULL",
            params![message_id, modified],
        )?,
        MessageChange::UndoSoftDelete => tx.execute(
            "UPDATE chat_messages SET deleted_ms = NULL, modified_ms = ?2
             WHERE id = ?1 AND deleted_ms IS NOT NULL",
            params![message_id, modified],
        )?,
        MessageChange::SetReaction(reaction_type) => tx.execute(
            "INSERT OR IGNORE INTO chat_message_reactions
                 (message_id, reaction_type, tenant_id, object_id, display_name, created_ms)
             SELECT ?1, ?2, tenant_id, object_id, display_name, ?3 FROM chat_members
             WHERE chat_id = ?4 AND object_id = ?5",
            params![message_id, reaction_type, modified, chat_id, actor_id],
        )?,
        MessageChange::UnsetReaction(reaction_type) => tx.execute(
            "DELETE FROM chat_message_reactions
             WHERE message_id = ?1 AND reaction_type = ?2 AND object_id = ?3",
            params![message_id, reaction_type, actor_id],
        )?,
    };
    if changed > 0 {
        tx.execute(
            "UPDATE chat_messages SET modified_ms = ?2 WHERE id = ?1",
            params![message_id, modified],
        )?;
    }
    let now =
        message_in_chat(&tx, chat_id, message_id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    tx.commit()?;
    Ok(ChangeOutcome::Done(Box::new(now)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::User;

    const TENANT: Uuid = Uuid::from_u128(1);
    const ALICE: Uuid = Uuid::from_u128(2);
    const BOB: Uuid = Uuid::from_u128(3);

    fn user(oid: Uuid, name: &str) -> User {
        User {
            tenant_id: TENANT,
            object_id: oid,
            user_principal_name: format!("{name}@example"),
            display_name: name.to_owned(),
        }
    }

    fn one_on_one(now_ms: i64) -> NewChat {
        NewChat {
            tenant_id: TENANT,
            chat_type: ChatType::OneOnOne,
            topic: None,
            creator: user(ALICE, "alice"),
            members: vec![(ALICE, vec!["owner".into()]), (BOB, vec!["owner".into()])],
            now_ms,
        }
    }

    #[tokio::test]
    async fn one_on_one_chats_are_unique_and_message_ids_increase() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(dir.path()).await.unwrap();
        let unknown = store.create_chat(one_on_one(1)).await.unwrap();
        assert_eq!(unknown, CreateChat::UnknownUsers(vec![BOB]));
        store.upsert_users(vec![user(BOB, "bob")]).await.unwrap();
        let CreateChat::Created(chat) = store.create_chat(one_on_one(1)).await.unwrap() else {
            panic!("not created");
        };
        let again = store.create_chat(one_on_one(2)).await.unwrap();
        assert_eq!(again, CreateChat::Existing(chat.clone()));

        let mut ids = Vec::new();
        for _ in 0..3 {
            let InsertMessage::Created(message) = store
                .insert_message(NewMessage {
                    chat_id: chat.id.clone(),
                    from_object_id: BOB,
                    content_type: "text".into(),
                    content: "hi".into(),
                    now_ms: 1_000,
                    ..NewMessage::default()
                })
                .await
                .unwrap()
            else {
                panic!("not created");
            };
            assert_eq!(message.from_display_name, "bob");
            ids.push(message.id);
        }
        assert_eq!(ids, [1_000, 1_001, 1_002]);
        let page = store
            .messages(MessageQuery {
                chat_id: chat.id.clone(),
                order: MessageField::Created,
                filters: Vec::new(),
                after: Some(Cursor {
                    ms: 1_000,
                    id: "1002".into(),
                }),
                limit: 5,
            })
            .await
            .unwrap();
        let got: Vec<i64> = page.iter().map(|m| m.id).collect();
        assert_eq!(got, [1_001, 1_000]);
        assert!(store
            .chat_for_member(chat.id.clone(), Uuid::from_u128(9))
            .await
            .unwrap()
            .is_none());
        let bobs = store.chats_of(BOB, None, 10).await.unwrap();
        assert_eq!(bobs.len(), 1);
        assert_eq!(bobs[0].id, chat.id);
        // Bob has read what he wrote.
        assert_eq!(bobs[0].viewer_last_read_ms, Some(1_000));
    }

    #[tokio::test]
    async fn replies_quote_their_parent_and_keys_make_sends_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(dir.path()).await.unwrap();
        store.upsert_users(vec![user(BOB, "bob")]).await.unwrap();
        let CreateChat::Created(chat) = store.create_chat(one_on_one(1)).await.unwrap() else {
            panic!("not created");
        };
        let send = |message: NewMessage| store.insert_message(message);
        let base = NewMessage {
            chat_id: chat.id.clone(),
            from_object_id: ALICE,
            content_type: "html".into(),
            content: "<p>Hello <b>there</b>,   bob &amp; co</p>".into(),
            now_ms: 1_000,
            ..NewMessage::default()
        };
        let InsertMessage::Created(parent) = send(base.clone()).await.unwrap() else {
            panic!("not created");
        };
        let reply = NewMessage {
            from_object_id: BOB,
            references: vec![parent.id],
            mentions: vec![Mention {
                id: 0,
                mention_text: "Al".into(),
                user_id: ALICE,
                display_name: "whoever".into(),
            }],
            idempotency_key: Some("k1".into()),
            ..base.clone()
        };
        let InsertMessage::Created(first) = send(reply.clone()).await.unwrap() else {
            panic!("not created");
        };
        assert_eq!(first.references[0].preview, "Hello there , bob & co");
        assert_eq!(first.references[0].sender_id, ALICE);
        assert_eq!(first.mentions[0].display_name, "alice");
        assert_eq!(
            send(reply.clone()).await.unwrap(),
            InsertMessage::Existing(first.clone())
        );
        // The key is the sender's own: alice's "k1" is another message.
        let alices = NewMessage {
            idempotency_key: Some("k1".into()),
            ..base.clone()
        };
        assert!(matches!(
            send(alices).await.unwrap(),
            InsertMessage::Created(_)
        ));
        let stranger = Uuid::from_u128(9);
        let bad_mention = NewMessage {
            mentions: vec![Mention {
                user_id: stranger,
                ..first.mentions[0].clone()
            }],
            ..base.clone()
        };
        assert_eq!(
            send(bad_mention).await.unwrap(),
            InsertMessage::UnknownMention(stranger)
        );
        let bad_reference = NewMessage {
            references: vec![42],
            ..base
        };
        assert_eq!(
            send(bad_reference).await.unwrap(),
            InsertMessage::UnknownReference(42)
        );
    }

    #[tokio::test]
    async fn changes_bump_modified_time_and_respect_authorship() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(dir.path()).await.unwrap();
        store.upsert_users(vec![user(BOB, "bob")]).await.unwrap();
        let CreateChat::Created(chat) = store.create_chat(one_on_one(1)).await.unwrap() else {
            panic!("not created");
        };
        let InsertMessage::Created(message) = store
            .insert_message(NewMessage {
                chat_id: chat.id.clone(),
                from_object_id: ALICE,
                content_type: "text".into(),
                content: "hi".into(),
                now_ms: 1_000,
                ..NewMessage::default()
            })
            .await
            .unwrap()
        else {
            panic!("not created");
        };
        let change = |actor, change, now_ms| {
            store.change_message(chat.id.clone(), message.id, actor, change, now_ms)
        };
        let edit = MessageChange::Edit {
            content_type: "text".into(),
            content: "hello".into(),
        };
        assert_eq!(
            change(BOB, edit.clone(), 2_000).await.unwrap(),
            ChangeOutcome::NotAuthor
        );
        // A clock that did not move still makes the change visible.
        let ChangeOutcome::Done(edited) = change(ALICE, edit.clone(), 1_000).await.unwrap() else {
            panic!("not edited");
        };
        assert_eq!((edited.modified_ms, edited.edited_ms), (1_001, Some(1_001)));
        assert_eq!(edited.content, "hello");
        let ChangeOutcome::Done(reacted) =
            change(BOB, MessageChange::SetReaction("like".into()), 3_000)
                .await
                .unwrap()
        else {
            panic!("not reacted");
        };
        assert_eq!(reacted.modified_ms, 3_000);
        assert_eq!(reacted.reactions.len(), 1);
        assert_eq!(reacted.reactions[0].display_name, "bob");
        // Setting it again changes nothing.
        let ChangeOutcome::Done(again) =
            change(BOB, MessageChange::SetReaction("like".into()), 4_000)
                .await
                .unwrap()
        else {
            panic!("not reacted");
        };
        assert_eq!(again.modified_ms, 3_000);
        let ChangeOutcome::Done(deleted) = change(ALICE, MessageChange::SoftDelete, 5_000)
            .await
            .unwrap()
        else {
            panic!("not deleted");
        };
        assert_eq!(deleted.deleted_ms, Some(5_000));
        assert_eq!(
            change(ALICE, edit, 6_000).await.unwrap(),
            ChangeOutcome::Deleted
        );
        assert_eq!(
            store
                .change_message(chat.id.clone(), 42, ALICE, MessageChange::SoftDelete, 7_000)
                .await
                .unwrap(),
            ChangeOutcome::NotFound
        );
    }
}
