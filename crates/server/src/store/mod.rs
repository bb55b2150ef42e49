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

    /// Stores a new authorization code, and forgets codes that expired
    /// more than a day before `now`.
    pub async fn insert_authorization_code(
        &self,
        code: AuthorizationCode,
        now: i64,
    ) -> Result<(), StoreError> {
        self.backend.insert_authorization_code(code, now).await
    }

    /// The code with this hash, redeemed or not.
    pub async fn authorization_code(
        &self,
        code_hash: SecretHash,
    ) -> Result<Option<AuthorizationCode>, StoreError> {
        self.backend.authorization_code(code_hash).await
    }

    /// Marks the code redeemed at `now`. False if it was already redeemed
    /// (or is unknown): of two concurrent redemptions only one wins.
    pub async fn redeem_authorization_code(
        &self,
        code_hash: SecretHash,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.backend.redeem_authorization_code(code_hash, now).await
    }

    /// Stores the first refresh token of a family, and forgets refresh
    /// tokens that expired more than a day before `now`.
    pub async fn insert_refresh_token(
        &self,
        token: RefreshToken,
        now: i64,
    ) -> Result<(), StoreError> {
        self.backend.insert_refresh_token(token, now).await
    }

    /// The refresh token with this hash, used, revoked or not.
    pub async fn refresh_token(
        &self,
        token_hash: SecretHash,
    ) -> Result<Option<RefreshToken>, StoreError> {
        self.backend.refresh_token(token_hash).await
    }

    /// In one transaction: marks `old` used at `now` and stores `new`; or,
    /// if `old` was already used or revoked, revokes its whole family.
    pub async fn rotate_refresh_token(
        &self,
        old: SecretHash,
        new: RefreshToken,
        now: i64,
    ) -> Result<Rotation, StoreError> {
        self.backend.rotate_refresh_token(old, new, now).await
    }

    /// Revokes every refresh token of a family (a reused token's).
    pub async fn revoke_refresh_family(&self, family_id: Uuid) -> Result<(), StoreError> {
        self.backend.revoke_refresh_family(family_id).await
    }

    /// Stores a call record, or updates the one with the same id (answer
    /// and end times, outcome, media).
    pub async fn upsert_call(&self, row: CallRow) -> Result<(), StoreError> {
        self.backend.upsert_call(row).await
    }

    /// The calls `user` placed or received, newest first, at most `limit`;
    /// with `before` (a call's start and id), only older ones.
    pub async fn calls_of(
        &self,
        user: Uuid,
        limit: usize,
        before: Option<(i64, Uuid)>,
    ) -> Result<Vec<CallRow>, StoreError> {
        self.backend.calls_of(user, limit, before).await
    }

    /// Calls that were ringing or connected when the server last stopped.
    pub async fn open_calls(&self) -> Result<Vec<CallRow>, StoreError> {
        self.backend.open_calls().await
    }

    /// Finishes queued work and closes the database. Calls after this fail
    /// with [`StoreError::Closed`]; closing twice is harmless.
    pub async fn close(&self) -> Result<(), StoreError> {
        self.backend.close().await
    }
}
