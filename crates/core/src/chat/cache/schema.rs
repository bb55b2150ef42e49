//! The cache file's schema history, applied in order on open. Append
//! only: a shipped migration is never edited.

use rusqlite_migration::{Migrations, M};

pub(super) fn migrations() -> Migrations<'static> {
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
