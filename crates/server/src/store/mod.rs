//! Persistent storage behind one small API.
//!
//! `Store` is what the rest of the server talks to. It holds a [`Backend`]
//! trait object; today the one implementation is SQLite (one file in the
//! data directory). PostgreSQL for larger deployments is meant to become a
//! second implementation, so callers never see which database answers.

mod backend;
mod calls;
mod chats;
mod grants;
mod sqlite;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use uuid::Uuid;

use backend::Backend;

pub use calls::CallRow;
pub use chats::{
    preview_of, AddMember, ChangeOutcome, Chat, ChatMember, ChatMessage, ChatType, CreateChat,
    Cursor, InsertMessage, Mention, MessageChange, MessageField, MessageQuery, MessageReference,
    NewChat, NewMember, NewMessage, Reaction, TimeFilter, PREVIEW_CHARS,
};
pub use grants::{AuthorizationCode, RefreshToken, Rotation, SecretHash, REFRESH_REUSE_GRACE_SECS};
pub use sqlite::DATABASE_FILE;

/// A person known to the server, addressed by tenant and object id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub tenant_id: Uuid,
    pub object_id: Uuid,
    pub user_principal_name: String,
    pub display_name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot use data directory {}", path.display())]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot use data directory {}: it exists and is not a directory", path.display())]
    NotADirectory { path: PathBuf },
    #[error("cannot open database {}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database {} refused WAL mode (journal_mode is {journal_mode})", path.display())]
    NoWal { path: PathBuf, journal_mode: String },
    #[error("cannot bring database {} to the current schema", path.display())]
    Migrate {
        path: PathBuf,
        #[source]
        source: rusqlite_migration::Error,
    },
    #[error("database query failed")]
    Query(#[from] rusqlite::Error),
    #[error("the store is closed")]
    Closed,
}

/// Handle to the server's storage; cheap to clone, shared by all requests.
#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.location())
            .finish()
    }
}

impl Store {
    /// Opens (creating if needed) `convene.db` in `data_dir` and migrates it
    /// to the current schema.
    pub async fn open_sqlite(data_dir: &Path) -> Result<Self, StoreError> {
        let store = sqlite::SqliteStore::open(data_dir.to_owned()).await?;
        Ok(Self {
            backend: Arc::new(store),
        })
    }

    /// Where the data lives, for logs.
    pub fn location(&self) -> String {
        self.backend.location()
    }

    /// Runs a trivial query: proves the database answers, for `/healthz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.backend.ping().await
    }

    /// Inserts the users, or updates the names of those already there (same
    /// tenant and object id). Idempotent, so seeding can run on every start.
    pub async fn upsert_users(&self, users: Vec<User>) -> Result<(), StoreError> {
        self.backend.upsert_users(users).await
    }

    /// The users of one tenant, ordered by sign-in name.
    pub async fn users(&self, tenant_id: Uuid) -> Result<Vec<User>, StoreError> {
        self.backend.users(tenant_id).await
    }

    /// Finishes queued work and closes the database. Calls after this fail
    /// with [`StoreError::Closed`]; closing twice is harmless.
    pub async fn close(&self) -> Result<(), StoreError> {
        self.backend.close().await
    }
}
