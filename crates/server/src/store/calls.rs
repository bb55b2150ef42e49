//! Call records: who called whom, when, for how long, and how it ended.

use uuid::Uuid;

use super::{Store, StoreError};

/// One call as stored. Written when the call starts, again when it is
/// answered and when it ends (the same id each time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRow {
    pub id: Uuid,
    pub caller: Uuid,
    pub callee: Uuid,
    /// Media kinds as their protocol names, comma-separated (`audio,video`).
    pub media: String,
    pub started_ms: i64,
    pub answered_ms: Option<i64>,
    pub ended_ms: Option<i64>,
    /// The protocol's outcome name (`hungUp`, `declined`, …); None while
    /// the call goes on.
    pub outcome: Option<String>,
}

impl Store {
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
}
