//! The SQLite backend: one connection owned by a dedicated thread.
//!
//! rusqlite is blocking, so no query runs on the async runtime: callers send
//! closures to the thread and await the answer. One connection also gives a
//! single writer, which is what SQLite wants anyway.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use rusqlite_migration::{Migrations, M};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::backend::Backend;
use super::{
    chats, AddMember, AuthorizationCode, CallRow, ChangeOutcome, Chat, ChatMember, ChatMessage,
    CreateChat, Cursor, InsertMessage, MessageChange, MessageQuery, NewChat, NewMember, NewMessage,
    RefreshToken, Rotation, SecretHash, StoreError, User,
};

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "convene.db";

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

/// Expired grants are kept this long (seconds) so that a late replay is
/// still told "expired" or "already redeemed" rather than "unknown".
const GRANT_RETENTION: i64 = 24 * 60 * 60;
const MIGRATIONS: Migrations<'static> = Migrations::from_slice(MIGRATION_STEPS);

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

enum Message {
    Run(Job),
    Close(oneshot::Sender<Result<(), rusqlite::Error>>),
}

pub(super) struct SqliteStore {
    path: PathBuf,
    jobs: mpsc::Sender<Message>,
}

impl SqliteStore {
    pub(super) async fn open(data_dir: PathBuf) -> Result<Self, StoreError> {
        let (path, conn) = tokio::task::spawn_blocking(move || open_blocking(&data_dir))
            .await
            .expect("opening the database panicked")?;
        let (jobs, inbox) = mpsc::channel();
        std::thread::Builder::new()
            .name("convene-sqlite".into())
            .spawn(move || serve(conn, inbox))
            .map_err(|source| StoreError::DataDir {
                path: path.clone(),
                source,
            })?;
        Ok(Self { path, jobs })
    }

    /// Runs `f` on the database thread and returns its result.
    pub(super) async fn call<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = reply.send(f(conn));
        });
        self.jobs
            .send(Message::Run(job))
            .map_err(|_| StoreError::Closed)?;
        Ok(answer.await.map_err(|_| StoreError::Closed)??)
    }

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        self.call(|conn| conn.query_row("SELECT 1", [], |row| row.get::<_, i64>(0)))
            .await
            .map(drop)
    }

    pub(super) async fn upsert_users(&self, users: Vec<User>) -> Result<(), StoreError> {
        self.call(move |conn| {
            let tx = conn.transaction()?;
            {
                let mut upsert = tx.prepare(
                    "INSERT INTO users (tenant_id, object_id, user_principal_name, display_name)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (tenant_id, object_id) DO UPDATE SET
                         user_principal_name = excluded.user_principal_name,
                         display_name = excluded.display_name",
                )?;
                for u in &users {
                    upsert.execute(params![
                        u.tenant_id.to_string(),
                        u.object_id.to_string(),
                        u.user_principal_name,
                        u.display_name
                    ])?;
                }
            }
            tx.commit()
        })
        .await
    }

    pub(super) async fn users(&self, tenant_id: Uuid) -> Result<Vec<User>, StoreError> {
        self.call(move |conn| {
            let mut query = conn.prepare(
                "SELECT object_id, user_principal_name, display_name FROM users
                 WHERE tenant_id = ?1 ORDER BY user_principal_name",
            )?;
            let rows = query.query_map([tenant_id.to_string()], |row| {
                Ok(User {
                    tenant_id,
                    object_id: parse_uuid(row, 0)?,
                    user_principal_name: row.get(1)?,
                    display_name: row.get(2)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    pub(super) async fn insert_authorization_code(
        &self,
        code: AuthorizationCode,
        now: i64,
    ) -> Result<(), StoreError> {
        self.call(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "DELETE FROM issuer_codes WHERE expires_at < ?1",
                [now - GRANT_RETENTION],
            )?;
            tx.execute(
                "INSERT INTO issuer_codes (code_hash, client_id, redirect_uri, code_challenge,
                     scope, nonce, tenant_id, object_id, issued_at, expires_at, redeemed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    code.code_hash.as_str(),
                    code.client_id,
                    code.redirect_uri,
                    code.code_challenge,
                    code.scope,
                    code.nonce,
                    code.tenant_id.to_string(),
                    code.object_id.to_string(),
                    code.issued_at,
                    code.expires_at,
                    code.redeemed_at,
                ],
            )?;
            tx.commit()
        })
        .await
    }

    pub(super) async fn authorization_code(
        &self,
        code_hash: SecretHash,
    ) -> Result<Option<AuthorizationCode>, StoreError> {
        self.call(move |conn| {
            conn.query_row(
                "SELECT code_hash, client_id, redirect_uri, code_challenge, scope, nonce,
                     tenant_id, object_id, issued_at, expires_at, redeemed_at
                 FROM issuer_codes WHERE code_hash = ?1",
                [code_hash.as_str()],
                |row| {
                    Ok(AuthorizationCode {
                        code_hash: SecretHash::from_stored(row.get(0)?),
                        client_id: row.get(1)?,
                        redirect_uri: row.get(2)?,
                        code_challenge: row.get(3)?,
                        scope: row.get(4)?,
                        nonce: row.get(5)?,
                        tenant_id: parse_uuid(row, 6)?,
                        object_id: parse_uuid(row, 7)?,
                        issued_at: row.get(8)?,
                        expires_at: row.get(9)?,
                        redeemed_at: row.get(10)?,
                    })
                },
            )
            .optional()
        })
        .await
    }

    pub(super) async fn redeem_authorization_code(
        &self,
        code_hash: SecretHash,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.call(move |conn| {
            let changed = conn.execute(
                "UPDATE issuer_codes SET redeemed_at = ?2
                 WHERE code_hash = ?1 AND redeemed_at IS NULL",
                params![code_hash.as_str(), now],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    pub(super) async fn insert_refresh_token(
        &self,
        token: RefreshToken,
        now: i64,
    ) -> Result<(), StoreError> {
        self.call(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "DELETE FROM issuer_refresh_tokens WHERE expires_at < ?1",
                [now - GRANT_RETENTION],
            )?;
            insert_refresh(&tx, &token)?;
            tx.commit()
        })
        .await
    }

    pub(super) async fn refresh_token(
        &self,
        token_hash: SecretHash,
    ) -> Result<Option<RefreshToken>, StoreError> {
        self.call(move |conn| {
            conn.query_row(
                "SELECT token_hash, family_id, client_id, tenant_id, object_id, scope,
                     issued_at, expires_at, used_at, revoked
                 FROM issuer_refresh_tokens WHERE token_hash = ?1",
                [token_hash.as_str()],
                |row| {
                    Ok(RefreshToken {
                        token_hash: SecretHash::from_stored(row.get(0)?),
                        family_id: parse_uuid(row, 1)?,
                        client_id: row.get(2)?,
                        tenant_id: parse_uuid(row, 3)?,
                        object_id: parse_uuid(row, 4)?,
                        scope: row.get(5)?,
                        issued_at: row.get(6)?,
                        expires_at: row.get(7)?,
                        used_at: row.get(8)?,
                        revoked: row.get::<_, i64>(9)? != 0,
                    })
                },
            )
            .optional()
        })
        .await
    }

    pub(super) async fn rotate_refresh_token(
        &self,
        old: SecretHash,
        new: RefreshToken,
        now: i64,
    ) -> Result<Rotation, StoreError> {
        self.call(move |conn| {
            let tx = conn.transaction()?;
            let changed = tx.execute(
                // Unused, or used within the grace while nothing newer of
                // its family has been used: its holder never got the next.
                "UPDATE issuer_refresh_tokens SET used_at = coalesce(used_at, ?2)
                 WHERE token_hash = ?1 AND revoked = 0
                   AND (used_at IS NULL OR (used_at >= ?3 AND NOT EXISTS (
                     SELECT 1 FROM issuer_refresh_tokens successor
                     WHERE successor.parent_hash = ?1
                       AND successor.used_at IS NOT NULL)))",
                params![
                    old.as_str(),
                    now,
                    now - super::grants::REFRESH_REUSE_GRACE_SECS
                ],
            )?;
            let rotation = if changed == 1 {
                insert_refresh(&tx, &new)?;
                tx.execute(
                    "UPDATE issuer_refresh_tokens SET parent_hash = ?1 WHERE token_hash = ?2",
                    [old.as_str(), new.token_hash.as_str()],
                )?;
                Rotation::Rotated
            } else {
                tx.execute(
                    "UPDATE issuer_refresh_tokens SET revoked = 1 WHERE family_id =
                         (SELECT family_id FROM issuer_refresh_tokens WHERE token_hash = ?1)",
                    [old.as_str()],
                )?;
                Rotation::Refused
            };
            tx.commit()?;
            Ok(rotation)
        })
        .await
    }

    pub(super) async fn revoke_refresh_family(&self, family_id: Uuid) -> Result<(), StoreError> {
        self.call(move |conn| {
            conn.execute(
                "UPDATE issuer_refresh_tokens SET revoked = 1 WHERE family_id = ?1",
                [family_id.to_string()],
            )
        })
        .await
        .map(drop)
    }

    pub(super) async fn close(&self) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        if self.jobs.send(Message::Close(reply)).is_err() {
            return Ok(()); // already closed
        }
        match answer.await {
            Ok(result) => Ok(result?),
            Err(_) => Ok(()), // closed by an earlier call meanwhile
        }
    }
}

/// The trait's SQLite side: the issuer's grants are the inherent methods
/// above, chats are the queries in `chats.rs`, each run on the database
/// thread.
#[async_trait::async_trait]
impl Backend for SqliteStore {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        SqliteStore::ping(self).await
    }

    async fn close(&self) -> Result<(), StoreError> {
        SqliteStore::close(self).await
    }

    async fn upsert_users(&self, users: Vec<User>) -> Result<(), StoreError> {
        SqliteStore::upsert_users(self, users).await
    }

    async fn users(&self, tenant_id: Uuid) -> Result<Vec<User>, StoreError> {
        SqliteStore::users(self, tenant_id).await
    }

    async fn insert_authorization_code(
        &self,
        code: AuthorizationCode,
        now: i64,
    ) -> Result<(), StoreError> {
        SqliteStore::insert_authorization_code(self, code, now).await
    }

    async fn authorization_code(
        &self,
        code_hash: SecretHash,
    ) -> Result<Option<AuthorizationCode>, StoreError> {
        SqliteStore::authorization_code(self, code_hash).await
    }

    async fn redeem_authorization_code(
        &self,
        code_hash: SecretHash,
        now: i64,
    ) -> Result<bool, StoreError> {
        SqliteStore::redeem_authorization_code(self, code_hash, now).await
    }

    async fn insert_refresh_token(&self, token: RefreshToken, now: i64) -> Result<(), StoreError> {
        SqliteStore::insert_refresh_token(self, token, now).await
    }

    async fn refresh_token(
        &self,
        token_hash: SecretHash,
    ) -> Result<Option<RefreshToken>, StoreError> {
        SqliteStore::refresh_token(self, token_hash).await
    }

    async fn rotate_refresh_token(
        &self,
        old: SecretHash,
        new: RefreshToken,
        now: i64,
    ) -> Result<Rotation, StoreError> {
        SqliteStore::rotate_refresh_token(self, old, new, now).await
    }

    async fn revoke_refresh_family(&self, family_id: Uuid) -> Result<(), StoreError> {
        SqliteStore::revoke_refresh_family(self, family_id).await
    }

    async fn create_chat(&self, chat: NewChat) -> Result<CreateChat, StoreError> {
        self.call(move |conn| chats::create_chat(conn, chat)).await
    }

    async fn chat_for_member(
        &self,
        chat_id: String,
        member: Uuid,
    ) -> Result<Option<Chat>, StoreError> {
        self.call(move |conn| chats::chat_for_member(conn, &chat_id, member))
            .await
    }

    async fn chats_of(
        &self,
        member: Uuid,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError> {
        self.call(move |conn| chats::chats_of(conn, member, after, limit))
            .await
    }

    async fn chat_members(&self, chat_id: String) -> Result<Vec<ChatMember>, StoreError> {
        self.call(move |conn| chats::chat_members(conn, &chat_id))
            .await
    }

    async fn add_member(&self, member: NewMember) -> Result<AddMember, StoreError> {
        self.call(move |conn| chats::add_member(conn, member)).await
    }

    async fn set_last_read(
        &self,
        chat_id: String,
        member: Uuid,
        read_ms: Option<i64>,
    ) -> Result<bool, StoreError> {
        self.call(move |conn| chats::set_last_read(conn, &chat_id, member, read_ms))
            .await
    }

    async fn insert_message(&self, message: NewMessage) -> Result<InsertMessage, StoreError> {
        self.call(move |conn| chats::insert_message(conn, message))
            .await
    }

    async fn change_message(
        &self,
        chat_id: String,
        message_id: i64,
        actor: Uuid,
        change: MessageChange,
        now_ms: i64,
    ) -> Result<ChangeOutcome, StoreError> {
        self.call(move |conn| {
            chats::change_message(conn, &chat_id, message_id, actor, change, now_ms)
        })
        .await
    }

    async fn upsert_call(&self, row: CallRow) -> Result<(), StoreError> {
        self.call(move |conn| super::calls::upsert_call(conn, &row))
            .await
    }

    async fn calls_of(
        &self,
        user: Uuid,
        limit: usize,
        before: Option<(i64, Uuid)>,
    ) -> Result<Vec<CallRow>, StoreError> {
        self.call(move |conn| super::calls::calls_of(conn, user, limit, before))
            .await
    }

    async fn open_calls(&self) -> Result<Vec<CallRow>, StoreError> {
        self.call(super::calls::open_calls).await
    }

    async fn messages(&self, query: MessageQuery) -> Result<Vec<ChatMessage>, StoreError> {
        self.call(move |conn| chats::messages(conn, query)).await
    }
}

fn insert_refresh(conn: &Connection, token: &RefreshToken) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO issuer_refresh_tokens (token_hash, family_id, client_id, tenant_id,
             object_id, scope, issued_at, expires_at, used_at, revoked)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            token.token_hash.as_str(),
            token.family_id.to_string(),
            token.client_id,
            token.tenant_id.to_string(),
            token.object_id.to_string(),
            token.scope,
            token.issued_at,
            token.expires_at,
            token.used_at,
            i64::from(token.revoked),
        ],
    )
    .map(drop)
}

pub(super) fn parse_uuid(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Uuid> {
    let text: String = row.get(index)?;
    Uuid::parse_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// Creates the data directory, opens the database and brings it up to date.
fn open_blocking(data_dir: &Path) -> Result<(PathBuf, Connection), StoreError> {
    create_data_dir(data_dir)?;
    let path = data_dir.join(DATABASE_FILE);
    let open_error = |source| StoreError::Open {
        path: path.clone(),
        source,
    };
    let mut conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(open_error)?;
    let journal_mode = configure(&conn).map_err(open_error)?;
    if !journal_mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::NoWal { path, journal_mode });
    }
    MIGRATIONS
        .to_latest(&mut conn)
        .map_err(|source| StoreError::Migrate {
            path: path.clone(),
            source,
        })?;
    Ok((path, conn))
}

/// WAL lets readers and the writer overlap; `synchronous=FULL` makes every
/// commit durable across power loss, which matters more here than speed.
/// Returns the journal mode SQLite actually chose.
fn configure(conn: &Connection) -> rusqlite::Result<String> {
    let journal_mode = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(journal_mode)
}

fn create_data_dir(path: &Path) -> Result<(), StoreError> {
    if path.exists() && !path.is_dir() {
        return Err(StoreError::NotADirectory {
            path: path.to_owned(),
        });
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        // The database will hold people's chats: keep it private.
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path).map_err(|source| StoreError::DataDir {
        path: path.to_owned(),
        source,
    })
}

/// The database thread: runs jobs in order until asked to close or until
/// every `Store` handle is gone.
fn serve(conn: Connection, inbox: mpsc::Receiver<Message>) {
    let mut conn = conn;
    while let Ok(message) = inbox.recv() {
        match message {
            Message::Run(job) => job(&mut conn),
            Message::Close(reply) => {
                let _ = reply.send(conn.close().map_err(|(_, e)| e));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }

    #[tokio::test]
    async fn upsert_is_idempotent_and_updates_names() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("data")).await.unwrap();
        let tenant = Uuid::from_u128(1);
        let mut user = User {
            tenant_id: tenant,
            object_id: Uuid::from_u128(2),
            user_principal_name: "a@example.test".into(),
            display_name: "A".into(),
        };
        store.upsert_users(vec![user.clone()]).await.unwrap();
        user.display_name = "A renamed".into();
        store.upsert_users(vec![user.clone()]).await.unwrap();
        assert_eq!(store.users(tenant).await.unwrap(), vec![user]);
        assert!(store.users(Uuid::from_u128(9)).await.unwrap().is_empty());
    }

    fn code(secret: &str, expires_at: i64) -> AuthorizationCode {
        AuthorizationCode {
            code_hash: SecretHash::of(secret),
            client_id: "client".into(),
            redirect_uri: "http://127.0.0.1:1/cb".into(),
            code_challenge: "challenge".into(),
            scope: "openid".into(),
            nonce: Some("n".into()),
            tenant_id: Uuid::from_u128(1),
            object_id: Uuid::from_u128(2),
            issued_at: expires_at - 300,
            expires_at,
            redeemed_at: None,
        }
    }

    fn refresh(secret: &str, family: Uuid) -> RefreshToken {
        RefreshToken {
            token_hash: SecretHash::of(secret),
            family_id: family,
            client_id: "client".into(),
            tenant_id: Uuid::from_u128(1),
            object_id: Uuid::from_u128(2),
            scope: "openid offline_access".into(),
            issued_at: 1_000,
            expires_at: 90_000,
            used_at: None,
            revoked: false,
        }
    }

    #[tokio::test]
    async fn codes_are_stored_hashed_and_redeemed_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().to_owned()).await.unwrap();
        store
            .insert_authorization_code(code("the-code", 1_300), 1_000)
            .await
            .unwrap();
        let stored = store
            .authorization_code(SecretHash::of("the-code"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored, code("the-code", 1_300));
        let in_clear: i64 = store
            .call(|c| {
                c.query_row(
                    "SELECT count(*) FROM issuer_codes WHERE code_hash = 'the-code'",
                    [],
                    |r| r.get(0),
                )
            })
            .await
            .unwrap();
        assert_eq!(in_clear, 0);

        let hash = || SecretHash::of("the-code");
        assert!(store
            .redeem_authorization_code(hash(), 1_010)
            .await
            .unwrap());
        assert!(!store
            .redeem_authorization_code(hash(), 1_011)
            .await
            .unwrap());
        let stored = store.authorization_code(hash()).await.unwrap().unwrap();
        assert_eq!(stored.redeemed_at, Some(1_010));
        assert!(!store
            .redeem_authorization_code(SecretHash::of("unknown"), 1_010)
            .await
            .unwrap());

        // A day after expiry, the next insert forgets it.
        store
            .insert_authorization_code(code("later", 200_000), 199_700)
            .await
            .unwrap();
        assert!(store.authorization_code(hash()).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn refresh_tokens_rotate_and_a_reuse_revokes_the_family() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().to_owned()).await.unwrap();
        let family = Uuid::from_u128(7);
        store
            .insert_refresh_token(refresh("rt1", family), 1_000)
            .await
            .unwrap();
        let rotation = store
            .rotate_refresh_token(SecretHash::of("rt1"), refresh("rt2", family), 1_100)
            .await
            .unwrap();
        assert_eq!(rotation, Rotation::Rotated);
        let old = store
            .refresh_token(SecretHash::of("rt1"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(old.used_at, Some(1_100));
        assert!(!old.revoked);

        // rt1 again within the reuse grace (its holder died before storing
        // rt2): rotated once more.
        let rotation = store
            .rotate_refresh_token(SecretHash::of("rt1"), refresh("rt2b", family), 1_110)
            .await
            .unwrap();
        assert_eq!(rotation, Rotation::Rotated);

        // rt1 again later: refused, and rt2 is revoked with it.
        let rotation = store
            .rotate_refresh_token(SecretHash::of("rt1"), refresh("rt3", family), 1_200)
            .await
            .unwrap();
        assert_eq!(rotation, Rotation::Refused);
        assert!(store
            .refresh_token(SecretHash::of("rt3"))
            .await
            .unwrap()
            .is_none());
        let newest = store
            .refresh_token(SecretHash::of("rt2"))
            .await
            .unwrap()
            .unwrap();
        assert!(newest.revoked);
        let rotation = store
            .rotate_refresh_token(SecretHash::of("rt2"), refresh("rt4", family), 1_300)
            .await
            .unwrap();
        assert_eq!(rotation, Rotation::Refused);
    }

    #[tokio::test]
    async fn the_reuse_grace_ends_once_a_successor_was_used() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().to_owned()).await.unwrap();
        let family = Uuid::from_u128(8);
        store
            .insert_refresh_token(refresh("a1", family), 1_000)
            .await
            .unwrap();
        let rotate = |old: &'static str, new: &'static str, at: i64| {
            let store = &store;
            async move {
                store
                    .rotate_refresh_token(SecretHash::of(old), refresh(new, family), at)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(rotate("a1", "a2", 1_100).await, Rotation::Rotated);
        assert_eq!(rotate("a2", "a3", 1_100).await, Rotation::Rotated);
        // a2's holder died before storing a3: a2 may come back. a1 was used
        // in the same second, but it is a2's parent, not a successor.
        assert_eq!(rotate("a2", "a3b", 1_105).await, Rotation::Rotated);
        // a1's holder did get a2 (it was used): a1 again is a replay.
        assert_eq!(rotate("a1", "a4", 1_110).await, Rotation::Refused);
        assert!(
            store
                .refresh_token(SecretHash::of("a3"))
                .await
                .unwrap()
                .unwrap()
                .revoked
        );
    }

    #[tokio::test]
    async fn uses_wal_and_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().to_owned()).await.unwrap();
        let (mode, sync) = store
            .call(|c| {
                let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
                let sync: i64 = c.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
                Ok((mode, sync))
            })
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "2 is FULL");
    }

    #[tokio::test]
    async fn closed_store_answers_closed() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().to_owned()).await.unwrap();
        store.ping().await.unwrap();
        store.close().await.unwrap();
        store.close().await.unwrap();
        assert!(matches!(store.ping().await, Err(StoreError::Closed)));
        assert!(
            !dir.path().join("convene.db-wal").exists(),
            "closing checkpoints and removes the WAL file"
        );
    }

    #[tokio::test]
    async fn data_dir_under_a_file_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, b"x").unwrap();
        let wanted = file.join("data");
        let err = SqliteStore::open(wanted.clone()).await.err().unwrap();
        assert!(
            matches!(&err, StoreError::DataDir { path, .. } if *path == wanted),
            "{err:?}"
        );

        let err = SqliteStore::open(file.clone()).await.err().unwrap();
        assert!(
            matches!(&err, StoreError::NotADirectory { path } if *path == file),
            "{err:?}"
        );
    }
}
