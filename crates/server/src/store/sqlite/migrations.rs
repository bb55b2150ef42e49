//! The database schema's history, applied in order on open.

use rusqlite_migration::{Migrations, M};

/// Schema history. Append only: never edit a migration that has shipped.
const MIGRATION_STEPS: &[M<'static>] = &[
    M::up(
        "CREATE TABLE users (
        tenant_id TEXT NOT NULL,
        object_id TEXT NOT NULL,
        user_principal_name TEXT NOT NULL,
        display_name TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        PRIMARY KEY (tenant_id, object_id),
        UNIQUE (tenant_id, user_principal_name)
    ) STRICT;",
    ),
    // The dev issuer's grants. Secrets are stored as SHA-256 hex only;
    // times are Unix seconds.
    M::up(
        "CREATE TABLE issuer_codes (
        code_hash TEXT PRIMARY KEY NOT NULL,
        client_id TEXT NOT NULL,
        redirect_uri TEXT NOT NULL,
        code_challenge TEXT NOT NULL,
        scope TEXT NOT NULL,
        nonce TEXT,
        tenant_id TEXT NOT NULL,
        object_id TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        redeemed_at INTEGER
    ) STRICT;
    CREATE INDEX issuer_codes_expiry ON issuer_codes (expires_at);
    CREATE TABLE issuer_refresh_tokens (
        token_hash TEXT PRIMARY KEY NOT NULL,
        family_id TEXT NOT NULL,
        client_id TEXT NOT NULL,
        tenant_id TEXT NOT NULL,
        object_id TEXT NOT NULL,
        scope TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER,
        revoked INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX issuer_refresh_tokens_family ON issuer_refresh_tokens (family_id);
    CREATE INDEX issuer_refresh_tokens_expiry ON issuer_refresh_tokens (expires_at);",
    ),
    // The Graph-shaped chats. Times are Unix milliseconds; a message's id
    // is its creation time in milliseconds, bumped to stay unique.
    M::up(
        "CREATE TABLE chats (
        id TEXT PRIMARY KEY NOT NULL,
        tenant_id TEXT NOT NULL,
        chat_type TEXT NOT NULL CHECK (chat_type IN ('oneOnOne', 'group')),
        topic TEXT,
        created_ms INTEGER NOT NULL,
        last_updated_ms INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX chats_created ON chats (created_ms, id);
    CREATE TABLE chat_members (
        chat_id TEXT NOT NULL REFERENCES chats (id),
        tenant_id TEXT NOT NULL,
        object_id TEXT NOT NULL,
        display_name TEXT NOT NULL,
        email TEXT NOT NULL,
        roles TEXT NOT NULL,
        PRIMARY KEY (chat_id, object_id)
    ) STRICT;
    CREATE INDEX chat_members_user ON chat_members (object_id, chat_id);
    CREATE TABLE chat_messages (
        id INTEGER PRIMARY KEY NOT NULL,
        chat_id TEXT NOT NULL REFERENCES chats (id),
        from_tenant_id TEXT NOT NULL,
        from_object_id TEXT NOT NULL,
        from_display_name TEXT NOT NULL,
        content_type TEXT NOT NULL CHECK (content_type IN ('text', 'html')),
        content TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        modified_ms INTEGER NOT NULL,
        deleted_ms INTEGER
    ) STRICT;
    CREATE INDEX chat_messages_created ON chat_messages (chat_id, created_ms, id);
    CREATE INDEX chat_messages_modified ON chat_messages (chat_id, modified_ms, id);",
    ),
    // Edits and reactions. A reaction is one user's of one type on one
    // message; the reacting user's name is copied as members' names are.
    M::up(
        "ALTER TABLE chat_messages ADD COLUMN edited_ms INTEGER;
    CREATE TABLE chat_message_reactions (
        message_id INTEGER NOT NULL REFERENCES chat_messages (id),
        reaction_type TEXT NOT NULL,
        tenant_id TEXT NOT NULL,
        object_id TEXT NOT NULL,
        display_name TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        PRIMARY KEY (message_id, object_id, reaction_type)
    ) STRICT;",
    ),
    // Mentions and message references (replies), as JSON arrays, and the
    // Idempotency-Key of each sent message, per sender and chat.
    M::up(
        "ALTER TABLE chat_messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE chat_messages ADD COLUMN message_references TEXT NOT NULL DEFAULT '[]';
    CREATE TABLE chat_message_keys (
        chat_id TEXT NOT NULL REFERENCES chats (id),
        object_id TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        message_id INTEGER NOT NULL REFERENCES chat_messages (id),
        PRIMARY KEY (chat_id, object_id, idempotency_key)
    ) STRICT;",
    ),
    // Each member's read viewpoint, and the history a member added later
    // may see (NULL: all of it).
    M::up(
        "ALTER TABLE chat_members ADD COLUMN last_read_ms INTEGER;
    ALTER TABLE chat_members ADD COLUMN visible_history_ms INTEGER;",
    ),
    // Call records (call history): object ids, times in Unix milliseconds,
    // the outcome's protocol name once ended.
    M::up(
        "CREATE TABLE calls (
        id TEXT PRIMARY KEY,
        caller TEXT NOT NULL,
        callee TEXT NOT NULL,
        media TEXT NOT NULL,
        started_ms INTEGER NOT NULL,
        answered_ms INTEGER,
        ended_ms INTEGER,
        outcome TEXT
    ) STRICT;
    CREATE INDEX calls_by_caller ON calls (caller, started_ms);
    CREATE INDEX calls_by_callee ON calls (callee, started_ms);",
    ),
    // The refresh token each one was rotated from: a used token may come
    // back within the reuse grace only while none of its successors was
    // used, and `used_at` (whole seconds) cannot tell a parent from a child.
    M::up(
        "ALTER TABLE issuer_refresh_tokens ADD COLUMN parent_hash TEXT;
    CREATE INDEX issuer_refresh_tokens_parent ON issuer_refresh_tokens (parent_hash);",
    ),
];

pub(super) const MIGRATIONS: Migrations<'static> = Migrations::from_slice(MIGRATION_STEPS);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }
}
