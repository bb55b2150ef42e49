//! The dev issuer's grants in SQLite: authorization codes and refresh
//! tokens, stored by the hash of their secret.

use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

use super::columns::parse_uuid;
use crate::store::{
    AuthorizationCode, RefreshToken, Rotation, SecretHash, REFRESH_REUSE_GRACE_SECS,
};

/// Expired grants are kept this long (seconds) so that a late replay is
/// still told "expired" or "already redeemed" rather than "unknown".
const GRANT_RETENTION: i64 = 24 * 60 * 60;

pub(super) fn insert_authorization_code(
    conn: &mut Connection,
    code: &AuthorizationCode,
    now: i64,
) -> rusqlite::Result<()> {
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
}

pub(super) fn authorization_code(
    conn: &Connection,
    code_hash: &SecretHash,
) -> rusqlite::Result<Option<AuthorizationCode>> {
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
}

pub(super) fn redeem_authorization_code(
    conn: &Connection,
    code_hash: &SecretHash,
    now: i64,
) -> rusqlite::Result<bool> {
    let changed = conn.execute(
        "UPDATE issuer_codes SET redeemed_at = ?2
         WHERE code_hash = ?1 AND redeemed_at IS NULL",
        params![code_hash.as_str(), now],
    )?;
    Ok(changed == 1)
}

pub(super) fn insert_refresh_token(
    conn: &mut Connection,
    token: &RefreshToken,
    now: i64,
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute(
        "DELETE FROM issuer_refresh_tokens WHERE expires_at < ?1",
        [now - GRANT_RETENTION],
    )?;
    insert_refresh(&tx, token)?;
    tx.commit()
}

pub(super) fn refresh_token(
    conn: &Connection,
    token_hash: &SecretHash,
) -> rusqlite::Result<Option<RefreshToken>> {
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
}

/// Marks `old` used and stores `new`; or, when `old` may not be used
/// again, revokes its family.
pub(super) fn rotate_refresh_token(
    conn: &mut Connection,
    old: &SecretHash,
    new: &RefreshToken,
    now: i64,
) -> rusqlite::Result<Rotation> {
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
        params![old.as_str(), now, now - REFRESH_REUSE_GRACE_SECS],
    )?;
    let rotation = if changed == 1 {
        insert_refresh(&tx, new)?;
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
}

pub(super) fn revoke_refresh_family(conn: &Connection, family_id: Uuid) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE issuer_refresh_tokens SET revoked = 1 WHERE family_id = ?1",
        [family_id.to_string()],
    )
    .map(drop)
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

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use crate::store::backend::Backend;
    use crate::store::sqlite::SqliteStore;
    use crate::store::{AuthorizationCode, RefreshToken, Rotation, SecretHash};

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
}
