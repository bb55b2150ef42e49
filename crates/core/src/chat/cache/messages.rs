//! Messages from the service, and threads: pages of messages with the
//! outbox's entries among them.

use convene_proto::graph::ChatMessage;
use rusqlite::{params, OptionalExtension};

use super::rows::{read_message, MessageRow};
use super::{Cache, CacheError};
use crate::chat::view::ThreadMessage;

/// A message written to the cache: whether it is new to this device.
#[derive(Debug, Clone)]
pub struct Stored {
    pub message: ThreadMessage,
    pub is_new: bool,
}

impl Cache {
    /// Stores messages from the service, newest state wins. Unchanged
    /// messages (same `lastModifiedDateTime`) are left out of the result.
    pub fn upsert_messages(
        &mut self,
        chat_id: &str,
        messages: &[ChatMessage],
    ) -> Result<Vec<Stored>, CacheError> {
        let tx = self.conn.transaction()?;
        let mut stored = Vec::new();
        for message in messages {
            if message
                .message_type
                .as_deref()
                .is_some_and(|t| t != "message")
            {
                // System events (members added, …) are not shown yet.
                continue;
            }
            let row = MessageRow::from_graph(message);
            let previous: Option<String> = tx
                .query_row(
                    "SELECT modified_at FROM messages WHERE chat_id = ?1 AND id = ?2",
                    params![chat_id, row.id],
                    |r| r.get(0),
                )
                .optional()?;
            if previous
                .as_deref()
                .is_some_and(|p| p >= row.modified_at.as_str())
            {
                continue;
            }
            tx.execute(
                "INSERT INTO messages (chat_id, id, created_at, modified_at, edited_at, deleted,
                   from_id, from_name, body_html, reactions, reply_to)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (chat_id, id) DO UPDATE SET
                   modified_at = excluded.modified_at, edited_at = excluded.edited_at,
                   deleted = excluded.deleted, from_name = excluded.from_name,
                   body_html = excluded.body_html, reactions = excluded.reactions,
                   reply_to = excluded.reply_to",
                params![
                    chat_id,
                    row.id,
                    row.created_at,
                    row.modified_at,
                    row.edited_at,
                    row.deleted,
                    row.from_id,
                    row.from_name,
                    row.body_html,
                    row.reactions,
                    row.reply_to,
                ],
            )?;
            let message = read_message(&tx, &self.me, chat_id, &row.id)?;
            stored.push(Stored {
                message,
                is_new: previous.is_none(),
            });
        }
        tx.commit()?;
        Ok(stored)
    }

    /// Up to `limit` messages older than the one keyed `before` (the newest
    /// when `None`), oldest first, outbox included; and whether the cache
    /// holds more before them.
    pub fn thread(
        &self,
        chat_id: &str,
        before: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<ThreadMessage>, bool), CacheError> {
        let bound = match before {
            Some(key) => self.position_of(chat_id, key)?,
            None => None,
        };
        let (bound_at, bound_key) = bound.unwrap_or_else(|| ("\u{10FFFF}".into(), String::new()));
        // Each part walks the (chat_id, created_at) index backwards, so a
        // page costs the same in a chat of ten messages or of ten thousand:
        // the messages strictly older than the bound, those stamped in the
        // same millisecond (ordered by key here), and the (short) outbox.
        let mut refs: Vec<(String, String, String, bool)> = Vec::new();
        let mut older = self.conn.prepare_cached(
            "SELECT coalesce(local_key, 'm:' || id), id, created_at FROM messages
             WHERE chat_id = ?1 AND created_at < ?2 ORDER BY created_at DESC LIMIT ?3",
        )?;
        for row in older.query_map(params![chat_id, bound_at, limit + 1], |r| {
            Ok((r.get(2)?, r.get(0)?, r.get(1)?, false))
        })? {
            refs.push(row?);
        }
        let mut same_time = self.conn.prepare_cached(
            "SELECT coalesce(local_key, 'm:' || id), id, created_at FROM messages
             WHERE chat_id = ?1 AND created_at = ?2",
        )?;
        for row in same_time.query_map(params![chat_id, bound_at], |r| {
            Ok((r.get(2)?, r.get(0)?, r.get(1)?, false))
        })? {
            refs.push(row?);
        }
        let mut outbox = self
            .conn
            .prepare_cached("SELECT key, created_at FROM outbox WHERE chat_id = ?1")?;
        for row in outbox.query_map(params![chat_id], |r| {
            let key: String = r.get(0)?;
            Ok((r.get(1)?, key.clone(), key, true))
        })? {
            refs.push(row?);
        }
        refs.retain(|(at, key, _, _)| {
            at.as_str() < bound_at.as_str()
                || (*at == bound_at && key.as_str() < bound_key.as_str())
        });
        refs.sort_by(|a, b| (&b.0, &b.1).cmp(&(&a.0, &a.1)));
        refs.truncate(limit as usize + 1);
        let refs: Vec<(String, String)> = refs
            .into_iter()
            .map(|(_, _, id, queued)| (if queued { "o" } else { "m" }.to_owned(), id))
            .collect();
        let more = refs.len() > limit as usize;
        let mut messages = refs
            .iter()
            .take(limit as usize)
            .map(|(kind, id)| match kind.as_str() {
                "o" => self.outbox_message(id),
                _ => read_message(&self.conn, &self.me, chat_id, id),
            })
            .collect::<Result<Vec<_>, _>>()?;
        messages.reverse();
        Ok((messages, more))
    }

    /// `(created_at, key)` of a thread entry.
    fn position_of(
        &self,
        chat_id: &str,
        key: &str,
    ) -> Result<Option<(String, String)>, CacheError> {
        let found = self
            .conn
            .query_row(
                // `m:{id}` is a message without an outbox past: its primary
                // key; anything else is an outbox key, queued or sent.
                "SELECT created_at FROM outbox WHERE chat_id = ?1 AND key = ?2
                 UNION ALL
                 SELECT created_at FROM messages WHERE chat_id = ?1 AND local_key = ?2
                 UNION ALL
                 SELECT created_at FROM messages
                   WHERE chat_id = ?1 AND id = substr(?2, 3) AND substr(?2, 1, 2) = 'm:'
                 LIMIT 1",
                params![chat_id, key],
                |r| r.get::<_, String>(0),
            )
            .optional()?;
        Ok(found.map(|at| (at, key.to_owned())))
    }

    /// A message by service id, as the UI shows it.
    pub fn message(&self, chat_id: &str, id: &str) -> Result<Option<ThreadMessage>, CacheError> {
        match read_message(&self.conn, &self.me, chat_id, id) {
            Ok(m) => Ok(Some(m)),
            Err(CacheError::Sqlite(rusqlite::Error::QueryReturnedNoRows)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use convene_proto::graph::request::NewChatMessage;
    use convene_proto::graph::ItemBody;

    use super::super::fixtures::{chat, keys, message, ME};
    use super::super::OutboxItem;
    use super::*;
    use crate::chat::view::Delivery;

    #[test]
    fn pages_walk_back_through_shared_milliseconds_and_the_outbox_without_gaps() {
        let mut cache = Cache::in_memory(ME).unwrap();
        cache.upsert_chat(&chat()).unwrap();
        let t = |s: u32| format!("2026-11-27T10:00:{s:02}.000Z");
        // Three messages share a millisecond; one is sent from the outbox.
        let messages = vec![
            message("1", &t(1), "bob"),
            message("2", &t(2), "bob"),
            message("3", &t(2), "bob"),
            message("4", &t(2), "bob"),
            message("5", &t(3), "bob"),
        ];
        cache.upsert_messages("19:c", &messages).unwrap();
        let queued = OutboxItem {
            key: "k-queued".into(),
            chat_id: "19:c".into(),
            created_at: t(4),
            request: NewChatMessage::of_body(ItemBody {
                content_type: "html".into(),
                content: "queued".into(),
            }),
            body_html: "queued".into(),
            attempts: 0,
        };
        cache.enqueue(&queued).unwrap();
        let sent = OutboxItem {
            key: "k-sent".into(),
            created_at: t(2),
            ..queued.clone()
        };
        cache.enqueue(&sent).unwrap();
        cache.mark_sent("k-sent", &message("6", &t(2), ME)).unwrap();

        let mut all = Vec::new();
        let mut before: Option<String> = None;
        loop {
            let (page, more) = cache.thread("19:c", before.as_deref(), 2).unwrap();
            let mut page_keys: Vec<String> = keys(&page).iter().map(|k| k.to_string()).collect();
            before = page_keys.first().cloned();
            page_keys.extend(all);
            all = page_keys;
            if !more {
                break;
            }
        }
        assert_eq!(
            all,
            ["m:1", "k-sent", "m:2", "m:3", "m:4", "m:5", "k-queued"],
            "oldest first, every entry once"
        );
        let (newest, more) = cache.thread("19:c", None, 1).unwrap();
        assert_eq!(keys(&newest), ["k-queued"]);
        assert_eq!(newest[0].delivery, Delivery::Sending);
        assert!(more);
    }
}
