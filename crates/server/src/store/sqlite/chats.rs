//! Chats and their members in SQLite.

use rusqlite::{params, Connection, OptionalExtension, Row};
use uuid::Uuid;

use super::columns::parse_uuid;
use crate::store::{AddMember, Chat, ChatMember, ChatType, CreateChat, Cursor, NewChat, NewMember};

/// A chat as no member in particular sees it.
const CHAT_COLUMNS: &str =
    "id, tenant_id, chat_type, topic, created_ms, last_updated_ms, NULL, NULL";
/// A chat as member `m` sees it (joined as `m`).
const VIEWED_CHAT_COLUMNS: &str = "chats.id, chats.tenant_id, chat_type, topic, created_ms, \
     last_updated_ms, m.last_read_ms, m.visible_history_ms";
const MEMBER_COLUMNS: &str = "chat_id, tenant_id, object_id, display_name, email, roles, \
     last_read_ms, visible_history_ms";

fn chat_row(row: &Row<'_>) -> rusqlite::Result<Chat> {
    let chat_type: String = row.get(2)?;
    Ok(Chat {
        id: row.get(0)?,
        tenant_id: parse_uuid(row, 1)?,
        chat_type: ChatType::parse(&chat_type).unwrap_or(ChatType::Group),
        topic: row.get(3)?,
        created_ms: row.get(4)?,
        last_updated_ms: row.get(5)?,
        viewer_last_read_ms: row.get(6)?,
        viewer_history_from_ms: row.get(7)?,
    })
}

pub(super) fn chat_by_id(conn: &Connection, id: &str) -> rusqlite::Result<Option<Chat>> {
    conn.query_row(
        &format!("SELECT {CHAT_COLUMNS} FROM chats WHERE id = ?1"),
        [id],
        chat_row,
    )
    .optional()
}

pub(super) fn create_chat(conn: &mut Connection, chat: NewChat) -> rusqlite::Result<CreateChat> {
    let tx = conn.transaction()?;
    let tenant = chat.tenant_id.to_string();
    let creator = &chat.creator;
    tx.execute(
        "INSERT OR IGNORE INTO users (tenant_id, object_id, user_principal_name, display_name)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            creator.tenant_id.to_string(),
            creator.object_id.to_string(),
            creator.user_principal_name,
            creator.display_name
        ],
    )?;
    let mut resolved = Vec::new();
    let mut unknown = Vec::new();
    for (oid, roles) in &chat.members {
        let found: Option<(String, String)> = tx
            .query_row(
                "SELECT display_name, user_principal_name FROM users
                 WHERE tenant_id = ?1 AND object_id = ?2",
                [&tenant, &oid.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match found {
            Some((name, email)) => resolved.push((*oid, name, email, roles.join(" "))),
            None => unknown.push(*oid),
        }
    }
    if !unknown.is_empty() {
        return Ok(CreateChat::UnknownUsers(unknown));
    }
    let id = match chat.chat_type {
        ChatType::OneOnOne => {
            let mut oids: Vec<String> = chat.members.iter().map(|(o, _)| o.to_string()).collect();
            oids.sort();
            let id = format!("19:{}@unq.gbl.spaces", oids.join("_"));
            if let Some(existing) = chat_by_id(&tx, &id)? {
                return Ok(CreateChat::Existing(existing));
            }
            id
        }
        ChatType::Group => format!("19:{}@thread.v2", Uuid::new_v4().simple()),
    };
    tx.execute(
        "INSERT INTO chats (id, tenant_id, chat_type, topic, created_ms, last_updated_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![id, tenant, chat.chat_type.as_str(), chat.topic, chat.now_ms],
    )?;
    for (oid, name, email, roles) in &resolved {
        tx.execute(
            "INSERT INTO chat_members (chat_id, tenant_id, object_id, display_name, email, roles)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, tenant, oid.to_string(), name, email, roles],
        )?;
    }
    let created = chat_by_id(&tx, &id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    tx.commit()?;
    Ok(CreateChat::Created(created))
}

pub(super) fn chat_for_member(
    conn: &Connection,
    id: &str,
    member: Uuid,
) -> rusqlite::Result<Option<Chat>> {
    conn.query_row(
        &format!(
            "SELECT {VIEWED_CHAT_COLUMNS} FROM chats
             JOIN chat_members m ON m.chat_id = chats.id AND m.object_id = ?2
             WHERE chats.id = ?1"
        ),
        [id, &member.to_string()],
        chat_row,
    )
    .optional()
}

pub(super) fn chats_of(
    conn: &Connection,
    member: Uuid,
    after: Option<Cursor>,
    limit: usize,
) -> rusqlite::Result<Vec<Chat>> {
    let (ms, id) = after.map_or((i64::MAX, String::new()), |c| (c.ms, c.id));
    let mut query = conn.prepare(&format!(
        "SELECT {VIEWED_CHAT_COLUMNS} FROM chats
         JOIN chat_members m ON m.chat_id = chats.id AND m.object_id = ?1
         WHERE (created_ms < ?2 OR (created_ms = ?2 AND (?3 = '' OR chats.id < ?3)))
         ORDER BY created_ms DESC, chats.id DESC LIMIT ?4"
    ))?;
    let limit = i64::try_from(limit + 1).unwrap_or(i64::MAX);
    let rows = query.query_map(params![member.to_string(), ms, id, limit], chat_row)?;
    rows.collect()
}

fn member_row(row: &Row<'_>) -> rusqlite::Result<ChatMember> {
    let roles: String = row.get(5)?;
    Ok(ChatMember {
        chat_id: row.get(0)?,
        tenant_id: parse_uuid(row, 1)?,
        object_id: parse_uuid(row, 2)?,
        display_name: row.get(3)?,
        email: row.get(4)?,
        roles: roles.split_whitespace().map(str::to_owned).collect(),
        last_read_ms: row.get(6)?,
        visible_history_ms: row.get(7)?,
    })
}

pub(super) fn chat_members(conn: &Connection, chat_id: &str) -> rusqlite::Result<Vec<ChatMember>> {
    let mut query = conn.prepare(&format!(
        "SELECT {MEMBER_COLUMNS} FROM chat_members WHERE chat_id = ?1 ORDER BY rowid"
    ))?;
    let rows = query.query_map([chat_id], member_row)?;
    rows.collect()
}

fn chat_member(
    conn: &Connection,
    chat_id: &str,
    member: Uuid,
) -> rusqlite::Result<Option<ChatMember>> {
    conn.query_row(
        &format!("SELECT {MEMBER_COLUMNS} FROM chat_members WHERE chat_id = ?1 AND object_id = ?2"),
        [chat_id, &member.to_string()],
        member_row,
    )
    .optional()
}

pub(super) fn add_member(conn: &mut Connection, member: NewMember) -> rusqlite::Result<AddMember> {
    let tx = conn.transaction()?;
    let Some(chat) = chat_by_id(&tx, &member.chat_id)? else {
        return Err(rusqlite::Error::QueryReturnedNoRows);
    };
    if chat.chat_type != ChatType::Group {
        return Ok(AddMember::NotGroup);
    }
    if let Some(existing) = chat_member(&tx, &member.chat_id, member.object_id)? {
        return Ok(AddMember::Already(existing));
    }
    let oid = member.object_id.to_string();
    let inserted = tx.execute(
        "INSERT INTO chat_members (chat_id, tenant_id, object_id, display_name, email, roles,
             visible_history_ms)
         SELECT ?1, tenant_id, object_id, display_name, user_principal_name, ?4, ?5
         FROM users WHERE tenant_id = ?2 AND object_id = ?3",
        params![
            member.chat_id,
            member.tenant_id.to_string(),
            oid,
            member.roles.join(" "),
            member.visible_history_ms
        ],
    )?;
    if inserted == 0 {
        return Ok(AddMember::UnknownUser);
    }
    tx.execute(
        "UPDATE chats SET last_updated_ms = MAX(last_updated_ms, ?2) WHERE id = ?1",
        params![member.chat_id, member.now_ms],
    )?;
    let added = chat_member(&tx, &member.chat_id, member.object_id)?
        .ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    tx.commit()?;
    Ok(AddMember::Added(added))
}

/// Sets `member`'s read viewpoint to `read_ms`, or with `None` to just
/// before the chat's newest message (unread). False if not a member.
pub(super) fn set_last_read(
    conn: &Connection,
    chat_id: &str,
    member: Uuid,
    read_ms: Option<i64>,
) -> rusqlite::Result<bool> {
    let changed = conn.execute(
        "UPDATE chat_members SET last_read_ms = COALESCE(?3,
             (SELECT MAX(created_ms) - 1 FROM chat_messages WHERE chat_id = ?1))
         WHERE chat_id = ?1 AND object_id = ?2",
        params![chat_id, member.to_string(), read_ms],
    )?;
    Ok(changed == 1)
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::super::fixtures::{one_on_one, user, BOB};
    use crate::store::{
        CreateChat, Cursor, InsertMessage, MessageField, MessageQuery, NewMessage, Store,
    };

    #[tokio::test]
    async fn one_on_one_chats_are_unique_and_message_ids_increase() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(dir.path()).await.unwrap();
        let unknown = store.create_chat(one_on_one(1)).await.unwrap();
        assert_eq!(unknown, CreateChat::UnknownUsers(vec![BOB]));
        store.upsert_users(vec![user(BOB, "bob")]).await.unwrap();
        let CreateChat::Created(chat) = store.create_chat(one_on_one(1)).await.unwrap() else {
            panic!("not created");
        };
        let again = store.create_chat(one_on_one(2)).await.unwrap();
        assert_eq!(again, CreateChat::Existing(chat.clone()));

        let mut ids = Vec::new();
        for _ in 0..3 {
            let InsertMessage::Created(message) = store
                .insert_message(NewMessage {
                    chat_id: chat.id.clone(),
                    from_object_id: BOB,
                    content_type: "text".into(),
                    content: "hi".into(),
                    now_ms: 1_000,
                    ..NewMessage::default()
                })
                .await
                .unwrap()
            else {
                panic!("not created");
            };
            assert_eq!(message.from_display_name, "bob");
            ids.push(message.id);
        }
        assert_eq!(ids, [1_000, 1_001, 1_002]);
        let page = store
            .messages(MessageQuery {
                chat_id: chat.id.clone(),
                order: MessageField::Created,
                filters: Vec::new(),
                after: Some(Cursor {
                    ms: 1_000,
                    id: "1002".into(),
                }),
                limit: 5,
            })
            .await
            .unwrap();
        let got: Vec<i64> = page.iter().map(|m| m.id).collect();
        assert_eq!(got, [1_001, 1_000]);
        assert!(store
            .chat_for_member(chat.id.clone(), Uuid::from_u128(9))
            .await
            .unwrap()
            .is_none());
        let bobs = store.chats_of(BOB, None, 10).await.unwrap();
        assert_eq!(bobs.len(), 1);
        assert_eq!(bobs[0].id, chat.id);
        // Bob has read what he wrote.
        assert_eq!(bobs[0].viewer_last_read_ms, Some(1_000));
    }
}
