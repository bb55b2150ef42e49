//! The SQLite backend: one connection owned by a dedicated thread.
//!
//! rusqlite is blocking, so no query runs on the async runtime: callers send
//! closures to the thread and await the answer. One connection also gives a
//! single writer, which is what SQLite wants anyway. The queries live with
//! their tables: `users`, `grants`, `chats`, `messages`, `calls`.

mod calls;
mod chats;
mod columns;
#[cfg(test)]
mod fixtures;
mod grants;
mod messages;
mod migrations;
mod users;

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::backend::Backend;
use super::{
    AddMember, AuthorizationCode, CallRow, ChangeOutcome, Chat, ChatMember, ChatMessage,
    CreateChat, Cursor, InsertMessage, MessageChange, MessageQuery, NewChat, NewMember, NewMessage,
    RefreshToken, Rotation, SecretHash, StoreError, User,
};
use migrations::MIGRATIONS;

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "convene.db";

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

/// The trait's SQLite side: each query runs on the database thread.
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
        self.call(move |conn| users::upsert_users(conn, &users))
            .await
    }

    async fn users(&self, tenant_id: Uuid) -> Result<Vec<User>, StoreError> {
        self.call(move |conn| users::users(conn, tenant_id)).await
    }

    async fn insert_authorization_code(
        &self,
        code: AuthorizationCode,
        now: i64,
    ) -> Result<(), StoreError> {
        self.call(move |conn| grants::insert_authorization_code(conn, &code, now))
            .await
    }

    async fn authorization_code(
        &self,
        code_hash: SecretHash,
    ) -> Result<Option<AuthorizationCode>, StoreError> {
        self.call(move |conn| grants::authorization_code(conn, &code_hash))
            .await
    }

    async fn redeem_authorization_code(
        &self,
        code_hash: SecretHash,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.call(move |conn| grants::redeem_authorization_code(conn, &code_hash, now))
            .await
    }

    async fn insert_refresh_token(&self, token: RefreshToken, now: i64) -> Result<(), StoreError> {
        self.call(move |conn| grants::insert_refresh_token(conn, &token, now))
            .await
    }

    async fn refresh_token(
        &self,
        token_hash: SecretHash,
    ) -> Result<Option<RefreshToken>, StoreError> {
        self.call(move |conn| grants::refresh_token(conn, &token_hash))
            .await
    }

    async fn rotate_refresh_token(
        &self,
        old: SecretHash,
        new: RefreshToken,
        now: i64,
    ) -> Result<Rotation, StoreError> {
        self.call(move |conn| grants::rotate_refresh_token(conn, &old, &new, now))
            .await
    }

    async fn revoke_refresh_family(&self, family_id: Uuid) -> Result<(), StoreError> {
        self.call(move |conn| grants::revoke_refresh_family(conn, family_id))
            .await
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
        self.call(move |conn| messages::insert_message(conn, message))
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
            messages::change_message(conn, &chat_id, message_id, actor, change, now_ms)
        })
        .await
    }

    async fn messages(&self, query: MessageQuery) -> Result<Vec<ChatMessage>, StoreError> {
        self.call(move |conn| messages::messages(conn, query)).await
    }

    async fn upsert_call(&self, row: CallRow) -> Result<(), StoreError> {
        self.call(move |conn| calls::upsert_call(conn, &row)).await
    }

    async fn calls_of(
        &self,
        user: Uuid,
        limit: usize,
        before: Option<(i64, Uuid)>,
    ) -> Result<Vec<CallRow>, StoreError> {
        self.call(move |conn| calls::calls_of(conn, user, limit, before))
            .await
    }

    async fn open_calls(&self) -> Result<Vec<CallRow>, StoreError> {
        self.call(calls::open_calls).await
    }
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
