//! Messages, their reactions, mentions and quotes in SQLite.

use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use uuid::Uuid;

use super::columns::{json_column, parse_uuid, to_json};
use crate::store::{
    preview_of, ChangeOutcome, ChatMessage, InsertMessage, MessageChange, MessageField,
    MessageQuery, MessageReference, NewMessage, Reaction,
};

const MESSAGE_COLUMNS: &str = "id, chat_id, from_tenant_id, from_object_id, from_display_name, \
     content_type, content, created_ms, modified_ms, deleted_ms, edited_ms, mentions, \
     message_references";

/// The column a message time is kept in.
fn column(field: MessageField) -> &'static str {
    match field {
        MessageField::Created => "created_ms",
        MessageField::LastModified => "modified_ms",
    }
}

fn message_row(row: &Row<'_>) -> rusqlite::Result<ChatMessage> {
    Ok(ChatMessage {
        id: row.get(0)?,
        chat_id: row.get(1)?,
        from_tenant_id: parse_uuid(row, 2)?,
        from_object_id: parse_uuid(row, 3)?,
        from_display_name: row.get(4)?,
        content_type: row.get(5)?,
        content: row.get(6)?,
        created_ms: row.get(7)?,
        modified_ms: row.get(8)?,
        deleted_ms: row.get(9)?,
        edited_ms: row.get(10)?,
        reactions: Vec::new(),
        mentions: json_column(row, 11)?,
        references: json_column(row, 12)?,
    })
}

pub(super) fn insert_message(
    conn: &mut Connection,
    message: NewMessage,
) -> rusqlite::Result<InsertMessage> {
    let tx = conn.transaction()?;
    let sender = message.from_object_id.to_string();
    if let Some(key) = &message.idempotency_key {
        let earlier: Option<i64> = tx
            .query_row(
                "SELECT message_id FROM chat_message_keys
                 WHERE chat_id = ?1 AND object_id = ?2 AND idempotency_key = ?3",
                params![message.chat_id, sender, key],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = earlier {
            let stored = message_in_chat(&tx, &message.chat_id, id)?
                .ok_or(rusqlite::Error::QueryReturnedNoRows)?;
            return Ok(InsertMessage::Existing(stored));
        }
    }
    let (tenant, name): (String, String) = tx.query_row(
        "SELECT tenant_id, display_name FROM chat_members
         WHERE chat_id = ?1 AND object_id = ?2",
        [&message.chat_id, &sender],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut mentions = message.mentions;
    for mention in &mut mentions {
        let member: Option<String> = tx
            .query_row(
                "SELECT display_name FROM chat_members WHERE chat_id = ?1 AND object_id = ?2",
                [&message.chat_id, &mention.user_id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        match member {
            Some(name) => mention.display_name = name,
            None => return Ok(InsertMessage::UnknownMention(mention.user_id)),
        }
    }
    let mut references = Vec::with_capacity(message.references.len());
    for id in message.references {
        let Some(parent) = message_in_chat(&tx, &message.chat_id, id)? else {
            return Ok(InsertMessage::UnknownReference(id));
        };
        let preview = if parent.deleted_ms.is_some() {
            String::new()
        } else {
            preview_of(&parent.content_type, &parent.content)
        };
        references.push(MessageReference {
            message_id: parent.id,
            preview,
            sender_tenant_id: parent.from_tenant_id,
            sender_id: parent.from_object_id,
            sender_name: parent.from_display_name,
        });
    }
    let last: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM chat_messages", [], |r| {
        r.get(0)
    })?;
    let id = message.now_ms.max(last + 1);
    tx.execute(
        "INSERT INTO chat_messages (id, chat_id, from_tenant_id, from_object_id,
             from_display_name, content_type, content, created_ms, modified_ms, mentions,
             message_references)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10)",
        params![
            id,
            message.chat_id,
            tenant,
            sender,
            name,
            message.content_type,
            message.content,
            message.now_ms,
            to_json(&mentions)?,
            to_json(&references)?,
        ],
    )?;
    // What one has written, one has read (as in Teams).
    tx.execute(
        "UPDATE chat_members SET last_read_ms = MAX(COALESCE(last_read_ms, 0), ?3)
         WHERE chat_id = ?1 AND object_id = ?2",
        params![message.chat_id, sender, message.now_ms],
    )?;
    if let Some(key) = &message.idempotency_key {
        tx.execute(
            "INSERT INTO chat_message_keys (chat_id, object_id, idempotency_key, message_id)
             VALUES (?1, ?2, ?3, ?4)",
            params![message.chat_id, sender, key, id],
        )?;
    }
    let stored =
        message_in_chat(&tx, &message.chat_id, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    tx.commit()?;
    Ok(InsertMessage::Created(stored))
}

pub(super) fn messages(
    conn: &Connection,
    query: MessageQuery,
) -> rusqlite::Result<Vec<ChatMessage>> {
    let order = column(query.order);
    let mut sql = format!("SELECT {MESSAGE_COLUMNS} FROM chat_messages WHERE chat_id = ?");
    let mut values: Vec<rusqlite::types::Value> = vec![query.chat_id.into()];
    for filter in &query.filters {
        let op = if filter.greater { ">" } else { "<" };
        sql.push_str(&format!(" AND {} {op} ?", column(filter.field)));
        values.push(filter.ms.into());
    }
    if let Some(cursor) = query.after {
        let id: i64 = cursor.id.parse().unwrap_or(i64::MAX);
        sql.push_str(&format!(" AND ({order} < ? OR ({order} = ? AND id < ?))"));
        values.extend([cursor.ms.into(), cursor.ms.into(), id.into()]);
    }
    sql.push_str(&format!(" ORDER BY {order} DESC, id DESC LIMIT ?"));
    values.push(i64::try_from(query.limit + 1).unwrap_or(i64::MAX).into());
    let mut statement = conn.prepare(&sql)?;
    let rows = statement.query_map(params_from_iter(values), message_row)?;
    let mut page = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    for message in &mut page {
        message.reactions = reactions(conn, message.id)?;
    }
    Ok(page)
}

fn reactions(conn: &Connection, message_id: i64) -> rusqlite::Result<Vec<Reaction>> {
    let mut query = conn.prepare_cached(
        "SELECT reaction_type, tenant_id, object_id, display_name, created_ms
         FROM chat_message_reactions WHERE message_id = ?1 ORDER BY created_ms, rowid",
    )?;
    let rows = query.query_map([message_id], |row| {
        Ok(Reaction {
            reaction_type: row.get(0)?,
            tenant_id: parse_uuid(row, 1)?,
            object_id: parse_uuid(row, 2)?,
            display_name: row.get(3)?,
            created_ms: row.get(4)?,
        })
    })?;
    rows.collect()
}

fn message_in_chat(
    conn: &Connection,
    chat_id: &str,
    message_id: i64,
) -> rusqlite::Result<Option<ChatMessage>> {
    let Some(mut message) = conn
        .query_row(
            &format!("SELECT {MESSAGE_COLUMNS} FROM chat_messages WHERE id = ?1 AND chat_id = ?2"),
            params![message_id, chat_id],
            message_row,
        )
        .optional()?
    else {
        return Ok(None);
    };
    message.reactions = reactions(conn, message.id)?;
    Ok(Some(message))
}

pub(super) fn change_message(
    conn: &mut Connection,
    chat_id: &str,
    message_id: i64,
    actor: Uuid,
    change: MessageChange,
    now_ms: i64,
) -> rusqlite::Result<ChangeOutcome> {
    let tx = conn.transaction()?;
    let Some(message) = message_in_chat(&tx, chat_id, message_id)? else {
        return Ok(ChangeOutcome::NotFound);
    };
    let own = message.from_object_id == actor;
    let deleted = message.deleted_ms.is_some();
    let modified = now_ms.max(message.modified_ms + 1);
    let actor_id = actor.to_string();
    let changed = match change {
        MessageChange::Edit { .. } | MessageChange::SoftDelete | MessageChange::UndoSoftDelete
            if !own =>
        {
            return Ok(ChangeOutcome::NotAuthor)
        }
        MessageChange::Edit { .. } | MessageChange::SetReaction(_) if deleted => {
            return Ok(ChangeOutcome::Deleted)
        }
        MessageChange::Edit {
            content_type,
            content,
        } => tx.execute(
            "UPDATE chat_messages SET content_type = ?2, content = ?3, edited_ms = ?4,
                 modified_ms = ?4 WHERE id = ?1",
            params![message_id, content_type, content, modified],
        )?,
        MessageChange::SoftDelete => tx.execute(
            "UPDATE chat_messages SET deleted_ms = ?2, modified_ms = ?2
             WHERE id = ?1 AND deleted_ms IS NULL",
            params![message_id, modified],
        )?,
        MessageChange::UndoSoftDelete => tx.execute(
            "UPDATE chat_messages SET deleted_ms = NULL, modified_ms = ?2
             WHERE id = ?1 AND deleted_ms IS NOT NULL",
            params![message_id, modified],
        )?,
        MessageChange::SetReaction(reaction_type) => tx.execute(
            "INSERT OR IGNORE INTO chat_message_reactions
                 (message_id, reaction_type, tenant_id, object_id, display_name, created_ms)
             SELECT ?1, ?2, tenant_id, object_id, display_name, ?3 FROM chat_members
             WHERE chat_id = ?4 AND object_id = ?5",
            params![message_id, reaction_type, modified, chat_id, actor_id],
        )?,
        MessageChange::UnsetReaction(reaction_type) => tx.execute(
            "DELETE FROM chat_message_reactions
             WHERE message_id = ?1 AND reaction_type = ?2 AND object_id = ?3",
            params![message_id, reaction_type, actor_id],
        )?,
    };
    if changed > 0 {
        tx.execute(
            "UPDATE chat_messages SET modified_ms = ?2 WHERE id = ?1",
            params![message_id, modified],
        )?;
    }
    let now =
        message_in_chat(&tx, chat_id, message_id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    tx.commit()?;
    Ok(ChangeOutcome::Done(Box::new(now)))
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::super::fixtures::{one_on_one, user, ALICE, BOB};
    use crate::store::{
        ChangeOutcome, CreateChat, InsertMessage, Mention, MessageChange, NewMessage, Store,
    };

    #[tokio::test]
    async fn replies_quote_their_parent_and_keys_make_sends_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(dir.path()).await.unwrap();
        store.upsert_users(vec![user(BOB, "bob")]).await.unwrap();
        let CreateChat::Created(chat) = store.create_chat(one_on_one(1)).await.unwrap() else {
            panic!("not created");
        };
        let send = |message: NewMessage| store.insert_message(message);
        let base = NewMessage {
            chat_id: chat.id.clone(),
            from_object_id: ALICE,
            content_type: "html".into(),
            content: "<p>Hello <b>there</b>,   bob &amp; co</p>".into(),
            now_ms: 1_000,
            ..NewMessage::default()
        };
        let InsertMessage::Created(parent) = send(base.clone()).await.unwrap() else {
            panic!("not created");
        };
        let reply = NewMessage {
            from_object_id: BOB,
            references: vec![parent.id],
            mentions: vec![Mention {
                id: 0,
                mention_text: "Al".into(),
                user_id: ALICE,
                display_name: "whoever".into(),
            }],
            idempotency_key: Some("k1".into()),
            ..base.clone()
        };
        let InsertMessage::Created(first) = send(reply.clone()).await.unwrap() else {
            panic!("not created");
        };
        assert_eq!(first.references[0].preview, "Hello there , bob & co");
        assert_eq!(first.references[0].sender_id, ALICE);
        assert_eq!(first.mentions[0].display_name, "alice");
        assert_eq!(
            send(reply.clone()).await.unwrap(),
            InsertMessage::Existing(first.clone())
        );
        // The key is the sender's own: alice's "k1" is another message.
        let alices = NewMessage {
            idempotency_key: Some("k1".into()),
            ..base.clone()
        };
        assert!(matches!(
            send(alices).await.unwrap(),
            InsertMessage::Created(_)
        ));
        let stranger = Uuid::from_u128(9);
        let bad_mention = NewMessage {
            mentions: vec![Mention {
                user_id: stranger,
                ..first.mentions[0].clone()
            }],
            ..base.clone()
        };
        assert_eq!(
            send(bad_mention).await.unwrap(),
            InsertMessage::UnknownMention(stranger)
        );
        let bad_reference = NewMessage {
            references: vec![42],
            ..base
        };
        assert_eq!(
            send(bad_reference).await.unwrap(),
            InsertMessage::UnknownReference(42)
        );
    }

    #[tokio::test]
    async fn changes_bump_modified_time_and_respect_authorship() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(dir.path()).await.unwrap();
        store.upsert_users(vec![user(BOB, "bob")]).await.unwrap();
        let CreateChat::Created(chat) = store.create_chat(one_on_one(1)).await.unwrap() else {
            panic!("not created");
        };
        let InsertMessage::Created(message) = store
            .insert_message(NewMessage {
                chat_id: chat.id.clone(),
                from_object_id: ALICE,
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
        let change = |actor, change, now_ms| {
            store.change_message(chat.id.clone(), message.id, actor, change, now_ms)
        };
        let edit = MessageChange::Edit {
            content_type: "text".into(),
            content: "hello".into(),
        };
        assert_eq!(
            change(BOB, edit.clone(), 2_000).await.unwrap(),
            ChangeOutcome::NotAuthor
        );
        // A clock that did not move still makes the change visible.
        let ChangeOutcome::Done(edited) = change(ALICE, edit.clone(), 1_000).await.unwrap() else {
            panic!("not edited");
        };
        assert_eq!((edited.modified_ms, edited.edited_ms), (1_001, Some(1_001)));
        assert_eq!(edited.content, "hello");
        let ChangeOutcome::Done(reacted) =
            change(BOB, MessageChange::SetReaction("like".into()), 3_000)
                .await
                .unwrap()
        else {
            panic!("not reacted");
        };
        assert_eq!(reacted.modified_ms, 3_000);
        assert_eq!(reacted.reactions.len(), 1);
        assert_eq!(reacted.reactions[0].display_name, "bob");
        // Setting it again changes nothing.
        let ChangeOutcome::Done(again) =
            change(BOB, MessageChange::SetReaction("like".into()), 4_000)
                .await
                .unwrap()
        else {
            panic!("not reacted");
        };
        assert_eq!(again.modified_ms, 3_000);
        let ChangeOutcome::Done(deleted) = change(ALICE, MessageChange::SoftDelete, 5_000)
            .await
            .unwrap()
        else {
            panic!("not deleted");
        };
        assert_eq!(deleted.deleted_ms, Some(5_000));
        assert_eq!(
            change(ALICE, edit, 6_000).await.unwrap(),
            ChangeOutcome::Deleted
        );
        assert_eq!(
            store
                .change_message(chat.id.clone(), 42, ALICE, MessageChange::SoftDelete, 7_000)
                .await
                .unwrap(),
            ChangeOutcome::NotFound
        );
    }
}
