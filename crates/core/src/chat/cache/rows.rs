//! Rows to what the UI shows, and back: a service message flattened for
//! its row, a row read as a thread message, members as people.

use convene_proto::graph::{ChatMember, ChatMessage, MessageReference, MESSAGE_REFERENCE};
use rusqlite::{params, Connection};

use super::{CacheError, PREVIEW_CHARS};
use crate::chat::sanitize::{plain_text_to_html, preview_text, sanitize_message_html};
use crate::chat::time::normalize;
use crate::chat::view::{
    ChatKind, Delivery, Person, ReactionCount, ReadMark, ReplyPreview, ThreadMessage,
};

/// A service message, flattened for its row.
pub(super) struct MessageRow {
    pub id: String,
    pub created_at: String,
    pub modified_at: String,
    pub edited_at: Option<String>,
    pub deleted: bool,
    pub from_id: String,
    pub from_name: String,
    pub body_html: String,
    pub reactions: String,
    pub reply_to: Option<String>,
}

/// A reaction as stored: who reacted with what.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredReaction {
    reaction: String,
    user_id: String,
    name: String,
}

impl MessageRow {
    pub fn from_graph(message: &ChatMessage) -> Self {
        let created_at = normalize(&message.created_date_time);
        let modified_at = message
            .last_modified_date_time
            .as_deref()
            .map(normalize)
            .unwrap_or_else(|| created_at.clone());
        let deleted = message.deleted_date_time.is_some();
        let user = message.from.as_ref().and_then(|f| f.user.as_ref());
        let body_html = if deleted {
            String::new()
        } else if message.body.content_type.eq_ignore_ascii_case("html") {
            sanitize_message_html(&message.body.content)
        } else {
            plain_text_to_html(&message.body.content)
        };
        let reactions: Vec<StoredReaction> = message
            .reactions
            .iter()
            .map(|r| {
                let who = r.user.as_ref().and_then(|u| u.user.as_ref());
                StoredReaction {
                    reaction: emoji_for(&r.reaction_type),
                    user_id: who.map(|u| u.id.clone()).unwrap_or_default(),
                    name: who.and_then(|u| u.display_name.clone()).unwrap_or_default(),
                }
            })
            .collect();
        let reply_to = message
            .attachments
            .iter()
            .find(|a| a.content_type.as_deref() == Some(MESSAGE_REFERENCE))
            .and_then(|a| a.content.as_deref())
            .and_then(|c| serde_json::from_str::<MessageReference>(c).ok())
            .map(|r| ReplyPreview {
                from: r
                    .message_sender
                    .and_then(|s| s.user)
                    .and_then(|u| u.display_name)
                    .unwrap_or_default(),
                preview: preview_text(&r.message_preview.unwrap_or_default(), PREVIEW_CHARS),
                message_id: r.message_id,
            });
        // Graph bumps lastModified for reactions too; a changed body is
        // marked by lastEditedDateTime.
        let edited_at = message
            .last_edited_date_time
            .as_deref()
            .filter(|_| !deleted)
            .map(normalize);
        Self {
            id: message.id.clone(),
            created_at,
            modified_at,
            edited_at,
            deleted,
            from_id: user.map(|u| u.id.clone()).unwrap_or_default(),
            from_name: user
                .and_then(|u| u.display_name.clone())
                .unwrap_or_default(),
            body_html,
            reactions: serde_json::to_string(&reactions).expect("reactions serialise"),
            reply_to: reply_to.map(|r| serde_json::to_string(&r).expect("reply serialises")),
        }
    }
}

pub(super) fn read_message(
    conn: &Connection,
    me: &str,
    chat_id: &str,
    id: &str,
) -> Result<ThreadMessage, CacheError> {
    let message = conn.query_row(
        "SELECT id, created_at, edited_at, deleted, from_id, from_name, body_html, reactions,
                reply_to, local_key
         FROM messages WHERE chat_id = ?1 AND id = ?2",
        params![chat_id, id],
        |r| {
            let id: String = r.get(0)?;
            let from_id: String = r.get(4)?;
            let reactions: String = r.get(7)?;
            let reply_to: Option<String> = r.get(8)?;
            let local_key: Option<String> = r.get(9)?;
            Ok(ThreadMessage {
                key: local_key.unwrap_or_else(|| format!("m:{id}")),
                id: Some(id),
                chat_id: chat_id.to_owned(),
                mine: from_id == me,
                from: Person {
                    id: from_id,
                    display_name: r.get(5)?,
                    user_principal_name: None,
                },
                created_at: r.get(1)?,
                edited_at: r.get(2)?,
                deleted: r.get(3)?,
                body_html: r.get(6)?,
                delivery: Delivery::Sent,
                reactions: count_reactions(&reactions, me),
                reply_to: reply_to.and_then(|r| serde_json::from_str(&r).ok()),
            })
        },
    )?;
    Ok(message)
}

fn count_reactions(stored: &str, me: &str) -> Vec<ReactionCount> {
    let stored: Vec<StoredReaction> = serde_json::from_str(stored).unwrap_or_default();
    let mut counts: Vec<ReactionCount> = Vec::new();
    for r in stored {
        let entry = match counts.iter_mut().position(|c| c.reaction == r.reaction) {
            Some(i) => &mut counts[i],
            None => {
                counts.push(ReactionCount {
                    reaction: r.reaction.clone(),
                    count: 0,
                    mine: false,
                    names: Vec::new(),
                });
                counts.last_mut().expect("just pushed")
            }
        };
        entry.count += 1;
        entry.mine |= r.user_id == me;
        if !r.name.is_empty() {
            entry.names.push(r.name);
        }
    }
    counts
}

/// Graph's legacy reaction names, as the emoji Teams shows for them.
fn emoji_for(reaction_type: &str) -> String {
    match reaction_type {
        "like" => "👍",
        "heart" => "❤️",
        "laugh" => "😆",
        "surprised" => "😮",
        "sad" => "😢",
        "angry" => "😡",
        other => other,
    }
    .to_owned()
}

pub(super) fn people(members: &[ChatMember]) -> Vec<Person> {
    members
        .iter()
        .filter_map(|m| {
            Some(Person {
                id: m.user_id.clone()?,
                display_name: m.display_name.clone().unwrap_or_default(),
                user_principal_name: m.email.clone(),
            })
        })
        .collect()
}

pub(super) fn read_marks(members: &[ChatMember], me: &str) -> Vec<ReadMark> {
    members
        .iter()
        .filter_map(|m| {
            let user_id = m.user_id.clone()?;
            let at = m.last_message_read_date_time.as_deref()?;
            (user_id != me).then(|| ReadMark {
                user_id,
                last_read_at: normalize(at),
            })
        })
        .collect()
}

pub(super) fn kind_name(kind: ChatKind) -> &'static str {
    match kind {
        ChatKind::OneOnOne => "oneOnOne",
        ChatKind::Group => "group",
        ChatKind::Meeting => "meeting",
    }
}

pub(super) fn kind_from_name(name: &str) -> ChatKind {
    match name {
        "oneOnOne" => ChatKind::OneOnOne,
        "meeting" => ChatKind::Meeting,
        _ => ChatKind::Group,
    }
}
