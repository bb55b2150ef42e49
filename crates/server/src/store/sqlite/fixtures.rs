//! What the SQLite tests share: a tenant, two users and their chat.

use uuid::Uuid;

use crate::store::{ChatType, NewChat, User};

pub(super) const TENANT: Uuid = Uuid::from_u128(1);
pub(super) const ALICE: Uuid = Uuid::from_u128(2);
pub(super) const BOB: Uuid = Uuid::from_u128(3);

pub(super) fn user(oid: Uuid, name: &str) -> User {
    User {
        tenant_id: TENANT,
        object_id: oid,
        user_principal_name: format!("{name}@example"),
        display_name: name.to_owned(),
    }
}

pub(super) fn one_on_one(now_ms: i64) -> NewChat {
    NewChat {
        tenant_id: TENANT,
        chat_type: ChatType::OneOnOne,
        topic: None,
        creator: user(ALICE, "alice"),
        members: vec![(ALICE, vec!["owner".into()]), (BOB, vec!["owner".into()])],
        now_ms,
    }
}
