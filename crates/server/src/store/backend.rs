//! What a database must do for [`super::Store`]. SQLite implements it
//! today; a PostgreSQL implementation can satisfy the same trait later.
//!
//! Every write must be durable when its future completes: the HTTP layer
//! answers `201` only after that, and promises the data survives a crash.

use async_trait::async_trait;
use uuid::Uuid;

use super::{
    AddMember, AuthorizationCode, CallRow, ChangeOutcome, Chat, ChatMember, ChatMessage,
    CreateChat, Cursor, InsertMessage, MessageChange, MessageQuery, NewChat, NewMember, NewMessage,
    RefreshToken, Rotation, SecretHash, StoreError, User,
};

/// A storage backend; see the same-named methods of [`super::Store`] for
/// what each one means.
#[async_trait]
pub(super) trait Backend: Send + Sync {
    fn location(&self) -> String;
    async fn ping(&self) -> Result<(), StoreError>;
    async fn close(&self) -> Result<(), StoreError>;

    async fn upsert_users(&self, users: Vec<User>) -> Result<(), StoreError>;
    async fn users(&self, tenant_id: Uuid) -> Result<Vec<User>, StoreError>;

    async fn insert_authorization_code(
        &self,
        code: AuthorizationCode,
        now: i64,
    ) -> Result<(), StoreError>;
    async fn authorization_code(
        &self,
        code_hash: SecretHash,
    ) -> Result<Option<AuthorizationCode>, StoreError>;
    async fn redeem_authorization_code(
        &self,
        code_hash: SecretHash,
        now: i64,
    ) -> Result<bool, StoreError>;
    async fn insert_refresh_token(&self, token: RefreshToken, now: i64) -> Result<(), StoreError>;
    async fn refresh_token(
        &self,
        token_hash: SecretHash,
    ) -> Result<Option<RefreshToken>, StoreError>;
    async fn rotate_refresh_token(
        &self,
        old: SecretHash,
        new: RefreshToken,
        now: i64,
    ) -> Result<Rotation, StoreError>;
    async fn revoke_refresh_family(&self, family_id: Uuid) -> Result<(), StoreError>;

    async fn create_chat(&self, chat: NewChat) -> Result<CreateChat, StoreError>;
    async fn chat_for_member(
        &self,
        chat_id: String,
        member: Uuid,
    ) -> Result<Option<Chat>, StoreError>;
    async fn chats_of(
        &self,
        member: Uuid,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError>;
    async fn chat_members(&self, chat_id: String) -> Result<Vec<ChatMember>, StoreError>;
    async fn add_member(&self, member: NewMember) -> Result<AddMember, StoreError>;
    async fn set_last_read(
        &self,
        chat_id: String,
        member: Uuid,
        read_ms: Option<i64>,
    ) -> Result<bool, StoreError>;
    async fn insert_message(&self, message: NewMessage) -> Result<InsertMessage, StoreError>;
    async fn change_message(
        &self,
        chat_id: String,
        message_id: i64,
        actor: Uuid,
        change: MessageChange,
        now_ms: i64,
    ) -> Result<ChangeOutcome, StoreError>;
    async fn messages(&self, query: MessageQuery) -> Result<Vec<ChatMessage>, StoreError>;

    async fn upsert_call(&self, row: CallRow) -> Result<(), StoreError>;
    async fn calls_of(
        &self,
        user: Uuid,
        limit: usize,
        before: Option<(i64, Uuid)>,
    ) -> Result<Vec<CallRow>, StoreError>;
    /// Calls without an end: ringing or connected when the server stopped.
    async fn open_calls(&self) -> Result<Vec<CallRow>, StoreError>;
}
