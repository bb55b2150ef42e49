//! The users the server knows, per tenant.

use rusqlite::{params, Connection};
use uuid::Uuid;

use super::columns::parse_uuid;
use crate::store::User;

pub(super) fn upsert_users(conn: &mut Connection, users: &[User]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut upsert = tx.prepare(
            "INSERT INTO users (tenant_id, object_id, user_principal_name, display_name)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (tenant_id, object_id) DO UPDATE SET
                 user_principal_name = excluded.user_principal_name,
                 display_name = excluded.display_name",
        )?;
        for u in users {
            upsert.execute(params![
                u.tenant_id.to_string(),
                u.object_id.to_string(),
                u.user_principal_name,
                u.display_name
            ])?;
        }
    }
    tx.commit()
}

pub(super) fn users(conn: &Connection, tenant_id: Uuid) -> rusqlite::Result<Vec<User>> {
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
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use crate::store::backend::Backend;
    use crate::store::sqlite::SqliteStore;
    use crate::store::User;

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
}
