//! The outbox table: messages the user wrote, kept until the service has
//! them (then they become the service's message, keeping their key) or
//! until the user discards one that failed.

use std::collections::HashSet;

use convene_proto::graph::request::NewChatMessage;
use convene_proto::graph::{ChatMessage, MessageReference, MESSAGE_REFERENCE};
use rusqlite::{params, OptionalExtension};

use super::failure::SendFailure;
use super::rows::{read_message, MessageRow};
use super::{Cache, CacheError};
use crate::chat::view::{Delivery, ReplyPreview, ThreadMessage};
use crate::error::UserError;

/// A message waiting to be sent, as the outbox worker needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub key: String,
    pub chat_id: String,
    pub created_at: String,
    /// The Graph request body (`body`, `mentions`, `attachments`).
    pub request: NewChatMessage,
    /// Sanitised HTML of the body, for display and reconciliation.
    pub body_html: String,
    /// Times a POST may have reached the service.
    pub attempts: u32,
}

impl Cache {
    /// Stores a message the user wrote, before any network call.
    pub fn enqueue(&mut self, item: &OutboxItem) -> Result<ThreadMessage, CacheError> {
        if !self.has_chat(&item.chat_id)? {
            return Err(CacheError::UnknownChat(item.chat_id.clone()));
        }
        // The outbox sends, and the thread shows, queued messages by this
        // time (then by their random key): messages written within the
        // same millisecond each take the next free one, in order.
        let mut created_at = item.created_at.clone();
        while self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE created_at = ?1)",
            [&created_at],
            |r| r.get::<_, bool>(0),
        )? {
            created_at = crate::chat::time::shift(&created_at, 1);
        }
        self.conn.execute(
            "INSERT INTO outbox (key, chat_id, created_at, request, body_html, reply_to)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                item.key,
                item.chat_id,
                created_at,
                serde_json::to_string(&item.request).expect("a request serialises"),
                item.body_html,
                reply_preview_json(&item.request),
            ],
        )?;
        self.outbox_message(&item.key)
    }

    /// Messages waiting to be sent (not failed), oldest first. An entry
    /// whose request no longer reads can never be sent: it is marked failed
    /// here rather than sent as nothing or left to stall the queue.
    pub fn pending(&self) -> Result<Vec<OutboxItem>, CacheError> {
        let mut statement = self.conn.prepare(
            "SELECT key, chat_id, created_at, request, body_html, attempts FROM outbox
             WHERE failure IS NULL ORDER BY created_at, key",
        )?;
        let rows = statement
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, u32>(5)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut items = Vec::with_capacity(rows.len());
        for (key, chat_id, created_at, request, body_html, attempts) in rows {
            match serde_json::from_str(&request) {
                Ok(request) => items.push(OutboxItem {
                    key,
                    chat_id,
                    created_at,
                    request,
                    body_html,
                    attempts,
                }),
                Err(error) => {
                    tracing::warn!(%key, %error, "an outbox entry cannot be read; marked failed");
                    self.record_failure(
                        &key,
                        &SendFailure::Invalid {
                            message: "the message could not be read back from the outbox".into(),
                        },
                    )?;
                }
            }
        }
        Ok(items)
    }

    /// Counts an attempt before it is made: after a crash mid-send, the
    /// worker knows the service may already have the message.
    pub fn note_attempt(&mut self, key: &str) -> Result<(), CacheError> {
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1 WHERE key = ?1",
            [key],
        )?;
        Ok(())
    }

    /// The service has the message: the outbox entry becomes the message,
    /// keeping its key.
    pub fn mark_sent(
        &mut self,
        key: &str,
        sent: &ChatMessage,
    ) -> Result<ThreadMessage, CacheError> {
        let chat_id: String = self
            .conn
            .query_row("SELECT chat_id FROM outbox WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| CacheError::UnknownOutboxItem(key.to_owned()))?;
        let tx = self.conn.transaction()?;
        let row = MessageRow::from_graph(sent);
        tx.execute(
            "INSERT INTO messages (chat_id, id, created_at, modified_at, edited_at, deleted,
               from_id, from_name, body_html, reactions, reply_to, local_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (chat_id, id) DO UPDATE SET local_key = excluded.local_key",
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
                key,
            ],
        )?;
        tx.execute("DELETE FROM outbox WHERE key = ?1", [key])?;
        let message = read_message(&tx, &self.me, &chat_id, &row.id)?;
        tx.commit()?;
        Ok(message)
    }

    /// Refused for good: kept, shown as failed until retried or discarded.
    pub fn mark_failed(
        &mut self,
        key: &str,
        failure: &SendFailure,
    ) -> Result<ThreadMessage, CacheError> {
        self.record_failure(key, failure)?;
        self.outbox_message(key)
    }

    fn record_failure(&self, key: &str, failure: &SendFailure) -> Result<(), CacheError> {
        let changed = self.conn.execute(
            "UPDATE outbox SET failure = ?2 WHERE key = ?1",
            params![key, failure.to_column()],
        )?;
        if changed == 0 {
            return Err(CacheError::UnknownOutboxItem(key.to_owned()));
        }
        Ok(())
    }

    /// A failed message goes back to the queue.
    pub fn retry(&mut self, key: &str) -> Result<ThreadMessage, CacheError> {
        let changed = self
            .conn
            .execute("UPDATE outbox SET failure = NULL WHERE key = ?1", [key])?;
        if changed == 0 {
            return Err(CacheError::UnknownOutboxItem(key.to_owned()));
        }
        self.outbox_message(key)
    }

    /// Forgets a failed message; returns its chat.
    pub fn discard(&mut self, key: &str) -> Result<String, CacheError> {
        let chat_id: String = self
            .conn
            .query_row(
                "SELECT chat_id FROM outbox WHERE key = ?1 AND failure IS NOT NULL",
                [key],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| CacheError::UnknownOutboxItem(key.to_owned()))?;
        self.conn
            .execute("DELETE FROM outbox WHERE key = ?1", [key])?;
        Ok(chat_id)
    }

    /// Service ids already matched to an outbox entry in this chat: a
    /// reconciliation must not claim them twice.
    pub fn claimed_ids(&self, chat_id: &str) -> Result<HashSet<String>, CacheError> {
        let mut statement = self
            .conn
            .prepare("SELECT id FROM messages WHERE chat_id = ?1 AND local_key IS NOT NULL")?;
        let ids = statement
            .query_map([chat_id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    pub(super) fn outbox_message(&self, key: &str) -> Result<ThreadMessage, CacheError> {
        let (chat_id, created_at, body_html, reply_to, failure): (
            String,
            String,
            String,
            Option<String>,
            Option<String>,
        ) = self
            .conn
            .query_row(
                "SELECT chat_id, created_at, body_html, reply_to, failure FROM outbox WHERE key = ?1",
                [key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?
            .ok_or_else(|| CacheError::UnknownOutboxItem(key.to_owned()))?;
        let delivery = match failure {
            None => Delivery::Sending,
            Some(error) => Delivery::Failed {
                error: UserError::from(&SendFailure::from_column(&error)),
            },
        };
        let me = self.my_name(&chat_id)?;
        Ok(ThreadMessage {
            key: key.to_owned(),
            id: None,
            chat_id,
            from: me,
            mine: true,
            created_at,
            edited_at: None,
            deleted: false,
            body_html,
            delivery,
            reactions: Vec::new(),
            reply_to: reply_to.and_then(|r| serde_json::from_str(&r).ok()),
        })
    }
}

/// The quote shown on an outbox entry that replies to a message.
fn reply_preview_json(request: &NewChatMessage) -> Option<String> {
    let content = request
        .attachments
        .iter()
        .find(|a| a.content_type == MESSAGE_REFERENCE)?
        .content
        .as_deref()?;
    let reference: MessageReference = serde_json::from_str(content).ok()?;
    let preview = ReplyPreview {
        from: reference
            .message_sender
            .and_then(|s| s.user)
            .and_then(|u| u.display_name)
            .unwrap_or_default(),
        preview: reference.message_preview.unwrap_or_default(),
        message_id: reference.message_id,
    };
    serde_json::to_string(&preview).ok()
}

#[cfg(test)]
mod tests {
    use convene_proto::graph::request::MessageAttachment;
    use convene_proto::graph::{ItemBody, TeamworkUserIdentity, UserIdentitySet};

    use super::super::fixtures::{chat, keys, ME};
    use super::*;
    use crate::error::UserErrorCode;

    fn item(key: &str, request: NewChatMessage) -> OutboxItem {
        OutboxItem {
            key: key.into(),
            chat_id: "19:c".into(),
            created_at: "2026-11-27T10:00:00.000Z".into(),
            request,
            body_html: "hi".into(),
            attempts: 0,
        }
    }

    fn stored_raw(cache: &Cache, key: &str, request: &str) {
        cache
            .conn
            .execute(
                "INSERT INTO outbox (key, chat_id, created_at, request, body_html)
                 VALUES (?1, '19:c', '2026-11-27T10:00:00.000Z', ?2, 'hi')",
                params![key, request],
            )
            .unwrap();
    }

    #[test]
    fn requests_queued_before_the_typed_bodies_are_still_sent() {
        let mut cache = Cache::in_memory(ME).unwrap();
        cache.upsert_chat(&chat()).unwrap();
        // As the outbox wrote them with json!: empty lists included.
        stored_raw(
            &cache,
            "k-old",
            r#"{"attachments":[],"body":{"content":"<p>hi</p>","contentType":"html"},"mentions":[{"id":0,"mentionText":"Bob","mentioned":{"user":{"displayName":"Bob","id":"b","userIdentityType":"aadUser"}}}]}"#,
        );
        let pending = cache.pending().unwrap();
        assert_eq!(pending.len(), 1);
        let request = &pending[0].request;
        assert_eq!(request.body.content, "<p>hi</p>");
        assert_eq!(request.mentions[0].mention_text, "Bob");
        assert!(request.attachments.is_empty());
    }

    #[test]
    fn an_unreadable_request_fails_instead_of_being_sent() {
        let mut cache = Cache::in_memory(ME).unwrap();
        cache.upsert_chat(&chat()).unwrap();
        stored_raw(&cache, "k-bad", "null");
        cache
            .enqueue(&item(
                "k-good",
                NewChatMessage::of_body(ItemBody {
                    content_type: "text".into(),
                    content: "hi".into(),
                }),
            ))
            .unwrap();
        let pending: Vec<String> = cache
            .pending()
            .unwrap()
            .into_iter()
            .map(|i| i.key)
            .collect();
        assert_eq!(pending, ["k-good"]);
        let (thread, _) = cache.thread("19:c", None, 10).unwrap();
        let bad = thread.iter().find(|m| m.key == "k-bad").unwrap();
        assert!(
            matches!(&bad.delivery, Delivery::Failed { error } if error.code == UserErrorCode::Invalid),
            "{:?}",
            bad.delivery
        );
        // Discarding it is the way out, as for any failed message.
        assert_eq!(cache.discard("k-bad").unwrap(), "19:c");
    }

    #[test]
    fn a_failed_reply_shows_its_quote_and_the_failure_as_the_ui_error() {
        let mut cache = Cache::in_memory(ME).unwrap();
        cache.upsert_chat(&chat()).unwrap();
        let reference = MessageReference {
            message_id: "17".into(),
            message_preview: Some("the question".into()),
            message_sender: Some(UserIdentitySet {
                user: Some(TeamworkUserIdentity::aad_user("b", "Bob")),
            }),
        };
        let request = NewChatMessage {
            attachments: vec![MessageAttachment {
                id: "17".into(),
                content_type: MESSAGE_REFERENCE.into(),
                content: Some(serde_json::to_string(&reference).unwrap()),
            }],
            ..NewChatMessage::of_body(ItemBody {
                content_type: "html".into(),
                content: "<attachment id=\"17\"></attachment>the answer".into(),
            })
        };
        let queued = cache.enqueue(&item("k-reply", request)).unwrap();
        assert_eq!(
            queued.reply_to,
            Some(ReplyPreview {
                message_id: "17".into(),
                from: "Bob".into(),
                preview: "the question".into(),
            })
        );
        let failure = SendFailure::Refused {
            status: Some(403),
            message: "the chat service refused (403 Forbidden): no".into(),
        };
        let failed = cache.mark_failed("k-reply", &failure).unwrap();
        assert_eq!(
            failed.delivery,
            Delivery::Failed {
                error: UserError {
                    code: UserErrorCode::Refused,
                    message: "the chat service refused (403 Forbidden): no".into(),
                }
            }
        );
        assert!(cache.pending().unwrap().is_empty(), "failed is not pending");
        let retried = cache.retry("k-reply").unwrap();
        assert_eq!(retried.delivery, Delivery::Sending);
    }

    #[test]
    fn messages_queued_in_one_millisecond_go_and_show_in_the_order_written() {
        let mut cache = Cache::in_memory(ME).unwrap();
        cache.upsert_chat(&chat()).unwrap();
        // Keys are random: written in this order, they sort otherwise.
        let written = ["k-f", "k-a", "k-d", "k-b", "k-e", "k-c"];
        for key in written {
            cache
                .enqueue(&OutboxItem {
                    key: key.into(),
                    chat_id: "19:c".into(),
                    created_at: "2026-11-27T10:00:00.000Z".into(),
                    request: NewChatMessage::of_body(ItemBody {
                        content_type: "html".into(),
                        content: key.into(),
                    }),
                    body_html: key.into(),
                    attempts: 0,
                })
                .unwrap();
        }
        let pending: Vec<String> = cache
            .pending()
            .unwrap()
            .into_iter()
            .map(|i| i.key)
            .collect();
        assert_eq!(pending, written, "sent in the order written");
        let (thread, _) = cache.thread("19:c", None, 10).unwrap();
        assert_eq!(keys(&thread), written, "shown in the order written");
    }
}
