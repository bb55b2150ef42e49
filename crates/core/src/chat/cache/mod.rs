//! The local chat cache: one SQLite file per account in the XDG data
//! directory. It holds the chat list, the messages seen so far (sanitised),
//! each chat's sync position, and the outbox, so the app opens instantly,
//! works offline and never loses a message the user wrote.
//!
//! The outbox lives in the same file as the messages so that "sent" is one
//! transaction: the outbox row goes and the service's message arrives
//! together, or neither does.
//!
//! [`Cache`] is opened here; its chat, message and outbox calls are in the
//! files of those names, and `rows` turns rows into what the UI shows.

mod chats;
mod failure;
#[cfg(test)]
mod fixtures;
mod messages;
mod outbox;
mod rows;
mod schema;

use std::path::Path;

use rusqlite::Connection;

pub use chats::SyncPosition;
pub use failure::SendFailure;
pub use messages::Stored;
pub use outbox::OutboxItem;

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
        schema::migrations().to_latest(&mut conn)?;
        Ok(Self {
            conn,
            me: me.to_owned(),
        })
    }

    pub fn me(&self) -> &str {
        &self.me
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
