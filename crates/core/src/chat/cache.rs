//! The local chat cache: one SQLite file per account in the XDG data
//! directory. It holds the chat list, the messages seen so far (sanitised),
//! each chat's sync position, and the outbox, so the app opens instantly,
//! works offline and never loses a message the user wrote.
//!
//! The outbox lives in the same file as the messages so that "sent" is one
//! transaction: the outbox row goes and the service's message arrives
//! together, or neither does.

use std::collections::HashSet;
use std::path::Path;

use convene_proto::graph::{Chat, ChatMember, ChatMessage, MessageReference};
use rusqlite::{params, Connection, OptionalExtension};
use rusqlite_migration::{Migrations, M};

use super::sanitize::{plain_text_to_html, preview_text, sanitize_message_html};
use super::time::normalize;
use super::view::{
    ChatKind, ChatSummary, Delivery, MessagePreview, Person, ReactionCount, ReadMark, ReplyPreview,
    ThreadMessage,
};
use crate::error::{UserError, UserErrorCode};

/// Preview length in the chat list.
const PREVIEW_CHARS: usize = 120;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot create the chat cache folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("the chat cache cannot be brought to the current schema: {0}")]
    Migrate(#[from] rusqlite_migration::Error),
    #[error("the chat cache failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("no chat {0} in the cache")]
    UnknownChat(String),
    #[error("no message {0} waiting in the outbox")]
    UnknownOutboxItem(String),
}

impl CacheError {
    /// The file was busy (another process holds a lock past the busy
    /// timeout) or the disk was full or failed: worth trying again later,
    /// unlike a broken schema or an unknown chat.
    pub fn is_transient(&self) -> bool {
        use rusqlite::ErrorCode;
        matches!(
            self,
            CacheError::Sqlite(rusqlite::Error::SqliteFailure(failure, _))
                if matches!(
                    failure.code,
                    ErrorCode::DatabaseBusy
                        | ErrorCode::DatabaseLocked
                        | ErrorCode::DiskFull
                        | ErrorCode::SystemIoFailure
                )
        )
    }
}

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(
            "CREATE TABLE chats (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            topic TEXT,
            members TEXT NOT NULL,
            read_marks TEXT NOT NULL DEFAULT '[]',
            updated_at TEXT NOT NULL,
            last_read_at TEXT,
            watermark TEXT,
            older_link TEXT,
            history_complete INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE messages (
            chat_id TEXT NOT NULL,
            id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            modified_at TEXT NOT NULL,
            edited_at TEXT,
            deleted INTEGER NOT NULL,
            from_id TEXT NOT NULL,
            from_name TEXT NOT NULL,
            body_html TEXT NOT NULL,
            reactions TEXT NOT NULL,
            reply_to TEXT,
            local_key TEXT,
            PRIMARY KEY (chat_id, id)
        );
        CREATE INDEX messages_by_time ON messages (chat_id, created_at);
        CREATE TABLE outbox (
            key TEXT PRIMARY KEY,
            chat_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            request TEXT NOT NULL,
            body_html TEXT NOT NULL,
            reply_to TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            failure TEXT
        );
        CREATE INDEX outbox_by_time ON outbox (created_at);",
        ),
        // Thread pages look up their bound by outbox key.
        M::up(
            "CREATE INDEX messages_by_local_key ON messages (chat_id, local_key)
             WHERE local_key IS NOT NULL;",
        ),
    ])
}

/// A message waiting to be sent, as the outbox worker needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub key: String,
    pub chat_id: String,
    pub created_at: String,
    /// The Graph request body (`body`, `mentions`, `attachments`).
    pub request: serde_json::Value,
    /// Sanitised HTML of the body, for display and reconciliation.
    pub body_html: String,
    /// Times a POST may have reached the service.
    pub attempts: u32,
}

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

/// A message written to the cache: whether it is new to this device.
#[derive(Debug, Clone)]
pub struct Stored {
    pub message: ThreadMessage,
    pub is_new: bool,
}

#[derive(Debug)]
pub struct Cache {
    conn: Connection,
    /// The signed-in user's object id.
    me: String,
}

impl Cache {
    /// Opens (creating) the cache file and migrates it.
    pub fn open(path: &Path, me: &str) -> Result<Self, CacheError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| CacheError::Folder {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let conn = Connection::open(path)?;
        // WAL: readers never wait for the writer; FULL sync: a message the
        // user wrote is on disk before the UI says "sending".
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Self::with_connection(conn, me)
    }

    /// A cache that lives in memory only (tests, kiosks).
    pub fn in_memory(me: &str) -> Result<Self, CacheError> {
        Self::with_connection(Connection::open_in_memory()?, me)
    }

    fn with_connection(mut conn: Connection, me: &str) -> Result<Self, CacheError> {
        migrations().to_latest(&mut conn)?;
        Ok(Self {
            conn,
            me: me.to_owned(),
        })
    }

    pub fn me(&self) -> &str {
        &self.me
    }

    // ---- chats ----

    /// Stores a chat from the service. Returns whether its last activity
    /// moved (so its messages need catching up).
    pub fn upsert_chat(&mut self, chat: &Chat) -> Result<bool, CacheError> {
        let kind = match chat.chat_type.as_str() {
            "oneOnOne" => ChatKind::OneOnOne,
            "meeting" => ChatKind::Meeting,
            _ => ChatKind::Group,
        };
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

    // ---- messages ----

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

    // ---- outbox ----

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
            created_at = super::time::shift(&created_at, 1);
        }
        self.conn.execute(
            "INSERT INTO outbox (key, chat_id, created_at, request, body_html, reply_to)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                item.key,
                item.chat_id,
                created_at,
                item.request.to_string(),
                item.body_html,
                reply_preview_json(&item.request),
            ],
        )?;
        self.outbox_message(&item.key)
    }

    /// Messages waiting to be sent (not failed), oldest first.
    pub fn pending(&self) -> Result<Vec<OutboxItem>, CacheError> {
        let mut statement = self.conn.prepare(
            "SELECT key, chat_id, created_at, request, body_html, attempts FROM outbox
             WHERE failure IS NULL ORDER BY created_at, key",
        )?;
        let items = statement
            .query_map([], |r| {
                let request: String = r.get(3)?;
                Ok(OutboxItem {
                    key: r.get(0)?,
                    chat_id: r.get(1)?,
                    created_at: r.get(2)?,
                    request: serde_json::from_str(&request).unwrap_or_default(),
                    body_html: r.get(4)?,
                    attempts: r.get(5)?,
                })
            })?
            .collect::<Result<_, _>>()?;
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
        error: &UserError,
    ) -> Result<ThreadMessage, CacheError> {
        let changed = self.conn.execute(
            "UPDATE outbox SET failure = ?2 WHERE key = ?1",
            params![key, serde_json::to_string(error).expect("errors serialise")],
        )?;
        if changed == 0 {
            return Err(CacheError::UnknownOutboxItem(key.to_owned()));
        }
        self.outbox_message(key)
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

    fn outbox_message(&self, key: &str) -> Result<ThreadMessage, CacheError> {
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
                error: serde_json::from_str(&error).unwrap_or(UserError {
                    code: UserErrorCode::Other,
                    message: error,
                }),
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

    fn my_name(&self, chat_id: &str) -> Result<Person, CacheError> {
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

/// A service message, flattened for its row.
struct MessageRow {
    id: String,
    created_at: String,
    modified_at: String,
    edited_at: Option<String>,
    deleted: bool,
    from_id: String,
    from_name: String,
    body_html: String,
    reactions: String,
    reply_to: Option<String>,
}

/// A reaction as stored: who reacted with what.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredReaction {
    reaction: String,
    user_id: String,
    name: String,
}

impl MessageRow {
    fn from_graph(message: &ChatMessage) -> Self {
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
            .find(|a| a.content_type.as_deref() == Some("messageReference"))
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

fn read_message(
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

fn people(members: &[ChatMember]) -> Vec<Person> {
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

fn read_marks(members: &[ChatMember], me: &str) -> Vec<ReadMark> {
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

/// The quote shown on an outbox entry that replies to a message.
fn reply_preview_json(request: &serde_json::Value) -> Option<String> {
    let content = request["attachments"]
        .as_array()?
        .iter()
        .find(|a| a["contentType"] == "messageReference")?["content"]
        .as_str()?;
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

fn kind_name(kind: ChatKind) -> &'static str {
    match kind {
        ChatKind::OneOnOne => "oneOnOne",
        ChatKind::Group => "group",
        ChatKind::Meeting => "meeting",
    }
}

fn kind_from_name(name: &str) -> ChatKind {
    match name {
        "oneOnOne" => ChatKind::OneOnOne,
        "meeting" => ChatKind::Meeting,
        _ => ChatKind::Group,
    }
}

#[cfg(test)]
mod tests {
    use convene_proto::graph::{Identity, ItemBody, MessageFrom};

    use super::*;

    const ME: &str = "me";

    fn chat() -> Chat {
        Chat {
            id: "19:c".into(),
            chat_type: "oneOnOne".into(),
            topic: None,
            last_updated_date_time: Some("2026-11-27T10:00:00.000Z".into()),
            members: Some(vec![]),
            viewpoint: None,
        }
    }

    fn message(id: &str, at: &str, from: &str) -> ChatMessage {
        ChatMessage {
            id: id.into(),
            chat_id: None,
            created_date_time: at.into(),
            last_modified_date_time: Some(at.into()),
            last_edited_date_time: None,
            deleted_date_time: None,
            from: Some(MessageFrom {
                user: Some(Identity {
                    id: from.into(),
                    display_name: Some(from.into()),
                }),
            }),
            body: ItemBody {
                content_type: "text".into(),
                content: format!("text {id}"),
            },
            message_type: Some("message".into()),
            attachments: vec![],
            mentions: vec![],
            reactions: vec![],
        }
    }

    fn keys(messages: &[ThreadMessage]) -> Vec<&str> {
        messages.iter().map(|m| m.key.as_str()).collect()
    }

    #[test]
    fn a_busy_or_full_file_is_worth_retrying_and_a_missing_chat_is_not() {
        let failure = |code| {
            CacheError::Sqlite(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                None,
            ))
        };
        assert!(failure(rusqlite::ffi::SQLITE_BUSY).is_transient());
        assert!(failure(rusqlite::ffi::SQLITE_FULL).is_transient());
        assert!(failure(rusqlite::ffi::SQLITE_IOERR).is_transient());
        assert!(!failure(rusqlite::ffi::SQLITE_CORRUPT).is_transient());
        assert!(!CacheError::UnknownChat("19:x".into()).is_transient());
    }

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
            request: serde_json::json!({}),
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
                    request: serde_json::json!({}),
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
