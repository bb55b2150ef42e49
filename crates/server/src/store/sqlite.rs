//! The SQLite backend: one connection owned by a dedicated thread.
//!
//! rusqlite is blocking, so no query runs on the async runtime: callers send
//! closures to the thread and await the answer. One connection also gives a
//! single writer, which is what SQLite wants anyway.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use rusqlite::{params, Connection, OpenFlags};
use rusqlite_migration::{Migrations, M};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::{StoreError, User};

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "convene.db";

/// Schema history. Append only: never edit a migration that has shipped.
const MIGRATION_STEPS: &[M<'static>] = &[M::up(
    "CREATE TABLE users (
        tenant_id TEXT NOT NULL,
        object_id TEXT NOT NULL,
        user_principal_name TEXT NOT NULL,
        display_name TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        PRIMARY KEY (tenant_id, object_id),
        UNIQUE (tenant_id, user_principal_name)
    ) STRICT;",
)];
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

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the database thread and returns its result.
    async fn call<R, F>(&self, f: F) -> Result<R, StoreError>
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

fn parse_uuid(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Uuid> {
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
