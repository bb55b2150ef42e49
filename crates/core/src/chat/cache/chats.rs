//! The chat list: chats, their members and read marks, each chat's sync
//! position, and the rows the list shows.

use convene_proto::graph::{Chat, ChatMember};
use rusqlite::{params, OptionalExtension};

use super::rows::{kind_from_name, kind_name, people, read_marks};
use super::{Cache, CacheError, PREVIEW_CHARS};
use crate::chat::sanitize::preview_text;
use crate::chat::time::normalize;
use crate::chat::view::{ChatSummary, MessagePreview, Person};

/// Where a chat's sync stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncPosition {
    /// The service's newest `lastModifiedDateTime` seen, verbatim.
    pub watermark: Option<String>,
    /// The link to the page older than the oldest cached message.
    pub older_link: Option<String>,
    /// Everything up to the chat's first message is cached.
    pub history_complete: bool,
    pub updated_at: String,
}

impl Cache {
    /// Stores a chat from the service. Returns whether its last activity
    /// moved (so its messages need catching up).
    pub fn upsert_chat(&mut self, chat: &Chat) -> Result<bool, CacheError> {
        let kind = kind_from_name(&chat.chat_type);
        let updated_at = chat
            .last_updated_date_time
            .as_deref()
            .map(normalize)
            .unwrap_or_default();
        let previous: Option<(String, String, String)> = self
            .conn
            .query_row(
                "SELECT updated_at, members, read_marks FROM chats WHERE id = ?1",
                [&chat.id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let (members, read_marks) = match &chat.members {
            Some(members) => (people(members), read_marks(members, &self.me)),
            // Without members in the reply, keep what we knew.
            None => match &previous {
                Some((_, m, r)) => (
                    serde_json::from_str(m).unwrap_or_default(),
                    serde_json::from_str(r).unwrap_or_default(),
                ),
                None => (Vec::new(), Vec::new()),
            },
        };
        let last_read = chat
            .viewpoint
            .as_ref()
            .and_then(|v| v.last_message_read_date_time.as_deref())
            .map(normalize);
        let moved = previous
            .as_ref()
            .is_none_or(|(before, _, _)| updated_at.as_str() > before.as_str());
        self.conn.execute(
            "INSERT INTO chats (id, kind, topic, members, read_marks, updated_at, last_read_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (id) DO UPDATE SET
               kind = excluded.kind, topic = excluded.topic, members = excluded.members,
               read_marks = excluded.read_marks,
               updated_at = max(chats.updated_at, excluded.updated_at),
               last_read_at = CASE
                 WHEN excluded.last_read_at IS NULL THEN chats.last_read_at
                 WHEN chats.last_read_at IS NULL THEN excluded.last_read_at
                 ELSE max(chats.last_read_at, excluded.last_read_at) END",
            params![
                chat.id,
                kind_name(kind),
                chat.topic.as_deref().filter(|t| !t.is_empty()),
                serde_json::to_string(&members).expect("people serialise"),
                serde_json::to_string(&read_marks).expect("marks serialise"),
                updated_at,
                last_read,
            ],
        )?;
        Ok(moved)
    }

    /// Replaces the chat's members' read marks (read receipts).
    pub fn set_members(&mut self, chat_id: &str, members: &[ChatMember]) -> Result<(), CacheError> {
        self.conn.execute(
            "UPDATE chats SET members = ?2, read_marks = ?3 WHERE id = ?1",
            params![
                chat_id,
                serde_json::to_string(&people(members)).expect("people serialise"),
                serde_json::to_string(&read_marks(members, &self.me)).expect("marks serialise"),
            ],
        )?;
        Ok(())
    }

    pub fn has_chat(&self, chat_id: &str) -> Result<bool, CacheError> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM chats WHERE id = ?1", [chat_id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    pub fn chat_ids(&self) -> Result<Vec<String>, CacheError> {
        let mut statement = self.conn.prepare("SELECT id FROM chats")?;
        let ids = statement
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    pub fn sync_position(&self, chat_id: &str) -> Result<SyncPosition, CacheError> {
        self.conn
            .query_row(
                "SELECT watermark, older_link, history_complete, updated_at FROM chats WHERE id = ?1",
                [chat_id],
                |r| {
                    Ok(SyncPosition {
                        watermark: r.get(0)?,
                        older_link: r.get(1)?,
                        history_complete: r.get(2)?,
                        updated_at: r.get(3)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| CacheError::UnknownChat(chat_id.to_owned()))
    }

    /// Moves the watermark forward (never back).
    pub fn advance_watermark(&mut self, chat_id: &str, seen: &str) -> Result<(), CacheError> {
        self.conn.execute(
            "UPDATE chats SET watermark = ?2
             WHERE id = ?1 AND (watermark IS NULL OR watermark < ?2)",
            params![chat_id, seen],
        )?;
        Ok(())
    }

    /// Where paging into older history continues (`None` with
    /// `complete`: the first message is cached).
    pub fn set_older_link(
        &mut self,
        chat_id: &str,
        link: Option<&str>,
        complete: bool,
    ) -> Result<(), CacheError> {
        self.conn.execute(
            "UPDATE chats SET older_link = ?2, history_complete = ?3 WHERE id = ?1",
            params![chat_id, link, complete],
        )?;
        Ok(())
    }

    /// The user has read the chat up to `at`.
    pub fn mark_read(&mut self, chat_id: &str, at: &str) -> Result<(), CacheError> {
        self.conn.execute(
            "UPDATE chats SET last_read_at = ?2
             WHERE id = ?1 AND (last_read_at IS NULL OR last_read_at < ?2)",
            params![chat_id, normalize(at)],
        )?;
        Ok(())
    }

    /// The newest message time in the chat, from anyone.
    pub fn newest_message_at(&self, chat_id: &str) -> Result<Option<String>, CacheError> {
        Ok(self.conn.query_row(
            "SELECT max(created_at) FROM messages WHERE chat_id = ?1",
            [chat_id],
            |r| r.get(0),
        )?)
    }

    pub fn chat_summaries(&self) -> Result<Vec<ChatSummary>, CacheError> {
        let ids = {
            let mut statement = self
                .conn
                .prepare("SELECT id FROM chats ORDER BY updated_at DESC, id")?;
            let ids = statement
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            ids
        };
        ids.iter()
            .map(|id| {
                self.chat_summary(id)
                    .map(|s| s.expect("listed chat exists"))
            })
            .collect()
    }

    pub fn chat_summary(&self, chat_id: &str) -> Result<Option<ChatSummary>, CacheError> {
        let row = self
            .conn
            .query_row(
                "SELECT kind, topic, members, read_marks, updated_at, last_read_at
                 FROM chats WHERE id = ?1",
                [chat_id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<String>>(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((kind, topic, members, marks, updated_at, last_read)) = row else {
            return Ok(None);
        };
        let members: Vec<Person> = serde_json::from_str(&members).unwrap_or_default();
        let others: Vec<Person> = members.into_iter().filter(|p| p.id != self.me).collect();
        let title = match topic {
            Some(topic) => topic,
            None if others.is_empty() => "Just you".to_owned(),
            None => others
                .iter()
                .map(|p| p.display_name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        };
        let last_message = self.last_message_preview(chat_id)?;
        let updated_at = match &last_message {
            Some(m) if m.at > updated_at => m.at.clone(),
            _ => updated_at,
        };
        Ok(Some(ChatSummary {
            id: chat_id.to_owned(),
            kind: kind_from_name(&kind),
            title,
            members: others,
            last_message,
            unread_count: self.unread_in(chat_id, last_read.as_deref())?,
            updated_at,
            read_by: serde_json::from_str(&marks).unwrap_or_default(),
        }))
    }

    fn last_message_preview(&self, chat_id: &str) -> Result<Option<MessagePreview>, CacheError> {
        let newest: Option<(String, String, String)> = self
            .conn
            .query_row(
                // Two index walks, the newest of each, rather than sorting
                // the whole chat.
                "SELECT from_name, body_html, created_at FROM (
                   SELECT * FROM (SELECT from_name, body_html, created_at FROM messages
                     WHERE chat_id = ?1 AND deleted = 0 ORDER BY created_at DESC LIMIT 1)
                   UNION ALL
                   SELECT * FROM (SELECT '' AS from_name, body_html, created_at FROM outbox
                     WHERE chat_id = ?1 ORDER BY created_at DESC LIMIT 1))
                 ORDER BY created_at DESC LIMIT 1",
                [chat_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(newest.map(|(from, html, at)| MessagePreview {
            from: if from.is_empty() { "You".into() } else { from },
            text: preview_text(&html, PREVIEW_CHARS),
            at,
        }))
    }

    fn unread_in(&self, chat_id: &str, last_read: Option<&str>) -> Result<u32, CacheError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM messages
             WHERE chat_id = ?1 AND deleted = 0 AND from_id != ?2
               AND (?3 IS NULL OR created_at > ?3)",
            params![chat_id, self.me, last_read],
            |r| r.get(0),
        )?)
    }

    /// Unread messages over all chats.
    pub fn unread_total(&self) -> Result<u32, CacheError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM messages m JOIN chats c ON c.id = m.chat_id
             WHERE m.deleted = 0 AND m.from_id != ?1
               AND (c.last_read_at IS NULL OR m.created_at > c.last_read_at)",
            [&self.me],
            |r| r.get(0),
        )?)
    }

    /// The signed-in user as this chat's members name them.
    pub(super) fn my_name(&self, chat_id: &str) -> Result<Person, CacheError> {
        let members: Option<String> = self
            .conn
            .query_row("SELECT members FROM chats WHERE id = ?1", [chat_id], |r| {
                r.get(0)
            })
            .optional()?;
        let members: Vec<Person> = members
            .and_then(|m| serde_json::from_str(&m).ok())
            .unwrap_or_default();
        Ok(members
            .into_iter()
            .find(|p| p.id == self.me)
            .unwrap_or(Person {
                id: self.me.clone(),
                display_name: "You".into(),
                user_principal_name: None,
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{chat, message, ME};
    use super::*;

    #[test]
    fn the_preview_is_the_newest_words_and_unread_counts_others_after_my_mark() {
        let mut cache = Cache::in_memory(ME).unwrap();
        cache.upsert_chat(&chat()).unwrap();
        cache
            .upsert_messages(
                "19:c",
                &[
                    message("1", "2026-11-27T10:00:01.000Z", "bob"),
                    message("2", "2026-11-27T10:00:02.000Z", "bob"),
                    message("3", "2026-11-27T10:00:03.000Z", ME),
                ],
            )
            .unwrap();
        cache.mark_read("19:c", "2026-11-27T10:00:01.000Z").unwrap();
        let summary = cache.chat_summary("19:c").unwrap().unwrap();
        assert_eq!(summary.last_message.unwrap().text, "text 3");
        assert_eq!(summary.unread_count, 1, "bob's second message only");
        assert_eq!(cache.unread_total().unwrap(), 1);
    }
}
