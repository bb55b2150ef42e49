//! The `/v1.0` chat routes.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use convene_proto::graph::request::{
    MessageEdit, NewChat as NewChatBody, ReactionChange, AAD_USER_CONVERSATION_MEMBER,
};
use convene_proto::live::ChangeKind;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::compose::{checked_body, compose, idempotency_key};
use super::odata::{self, chat_json, member_json, message_json};
use super::{Caller, Graph, GraphError};
use crate::store::{
    ChangeOutcome, Chat, ChatType, CreateChat, Cursor, InsertMessage, MessageChange, MessageQuery,
    NewChat, NewMessage, User,
};

/// Graph's page size limit for chats and messages.
const MAX_TOP: usize = 50;
const DEFAULT_MESSAGES_TOP: usize = 20;
const DEFAULT_CHATS_TOP: usize = 50;
const USER_BIND_PREFIX: &str = "https://graph.microsoft.com/v1.0/users('";
const GRAPH_ROOT: &str = "https://graph.microsoft.com";

type Created = (StatusCode, Json<Value>);

pub(super) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub(super) fn parse_body<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, GraphError> {
    serde_json::from_slice(body)
        .map_err(|error| GraphError::bad_request(format!("Invalid request body: {error}")))
}

/// The chat if the caller is a member. Unknown chats and chats of others
/// are both 404 `NotFound`, so chat ids cannot be probed.
pub(super) async fn member_chat(
    graph: &Graph,
    caller: &Caller,
    chat_id: &str,
) -> Result<Chat, GraphError> {
    graph
        .store
        .chat_for_member(chat_id.to_owned(), caller.oid)
        .await?
        .ok_or_else(|| GraphError::not_found(format!("Chat '{chat_id}' was not found.")))
}

/// `https://graph.microsoft.com/v1.0/users('<oid>')` (or `users/<oid>`),
/// or the same under this server's own base URL.
pub(super) fn bound_user(bind: &str, base: &str) -> Option<Uuid> {
    let path = bind
        .strip_prefix(GRAPH_ROOT)
        .or_else(|| bind.strip_prefix(base))?;
    let id = path
        .strip_prefix("/v1.0/users('")
        .and_then(|rest| rest.strip_suffix("')"))
        .or_else(|| path.strip_prefix("/v1.0/users/"))?;
    Uuid::try_parse(id).ok()
}

/// `POST /v1.0/chats`.
pub async fn create_chat(
    State(graph): State<Arc<Graph>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Created, GraphError> {
    let caller = graph.authorize(&headers).await?;
    let request: NewChatBody = parse_body(&body)?;
    let chat_type = ChatType::parse(&request.chat_type)
        .ok_or_else(|| GraphError::bad_request("chatType must be 'oneOnOne' or 'group'."))?;
    let mut members: Vec<(Uuid, Vec<String>)> = Vec::new();
    for member in request.members {
        if member
            .odata_type
            .as_deref()
            .is_some_and(|t| t != AAD_USER_CONVERSATION_MEMBER)
        {
            return Err(GraphError::bad_request(format!(
                "Only {AAD_USER_CONVERSATION_MEMBER} members are supported."
            )));
        }
        let oid = member
            .user_bind
            .as_deref()
            .and_then(|bind| bound_user(bind, &caller.base))
            .ok_or_else(|| {
                GraphError::bad_request(format!(
                    "Each member needs user@odata.bind as {USER_BIND_PREFIX}<id>')."
                ))
            })?;
        if members.iter().any(|(o, _)| *o == oid) {
            return Err(GraphError::bad_request(format!(
                "The user {oid} is listed twice."
            )));
        }
        members.push((oid, member.roles.unwrap_or_default()));
    }
    if !members.iter().any(|(oid, _)| *oid == caller.oid) {
        return Err(GraphError::bad_request(
            "The caller must be one of the chat's members.",
        ));
    }
    match chat_type {
        ChatType::OneOnOne if members.len() != 2 => {
            return Err(GraphError::bad_request(
                "A oneOnOne chat has exactly two members.",
            ))
        }
        ChatType::Group if members.len() < 2 => {
            return Err(GraphError::bad_request(
                "A group chat needs at least two members.",
            ))
        }
        _ => {}
    }
    let topic = match chat_type {
        ChatType::Group => request.topic.filter(|t| !t.trim().is_empty()),
        ChatType::OneOnOne => None,
    };
    let token = &caller.token;
    let creator = User {
        tenant_id: caller.tid,
        object_id: caller.oid,
        user_principal_name: token
            .preferred_username
            .clone()
            .unwrap_or_else(|| caller.oid.to_string()),
        display_name: token.name.clone().unwrap_or_else(|| caller.oid.to_string()),
    };
    let outcome = graph
        .store
        .create_chat(NewChat {
            tenant_id: caller.tid,
            chat_type,
            topic,
            creator,
            members,
            now_ms: now_ms(),
        })
        .await?;
    let (status, chat) = match outcome {
        CreateChat::Created(chat) => {
            graph.notify(&chat.id, None, ChangeKind::Chat).await;
            (StatusCode::CREATED, chat)
        }
        CreateChat::Existing(chat) => (StatusCode::CREATED, chat),
        CreateChat::UnknownUsers(unknown) => {
            let ids: Vec<String> = unknown.iter().map(Uuid::to_string).collect();
            return Err(GraphError::not_found(format!(
                "These users do not exist in the tenant: {}.",
                ids.join(", ")
            )));
        }
    };
    let mut value = chat_json(&chat, None);
    value["@odata.context"] = json!(format!("{}/v1.0/$metadata#chats/$entity", caller.base));
    Ok((status, Json(value)))
}

/// `GET /v1.0/me/chats` (`$top`, `$expand=members`, `$skiptoken`).
pub async fn my_chats(
    State(graph): State<Arc<Graph>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, GraphError> {
    let caller = graph.authorize(&headers).await?;
    let pairs = odata::query_pairs(query.as_deref());
    let top = odata::top(&pairs, DEFAULT_CHATS_TOP, MAX_TOP)?;
    let expand = match odata::option(&pairs, "$expand") {
        None => false,
        Some("members") => true,
        Some(other) => {
            return Err(GraphError::bad_request(format!(
                "Unsupported $expand '{other}': only 'members' is supported."
            )))
        }
    };
    let after = odata::cursor(&pairs)?;
    let mut chats = graph.store.chats_of(caller.oid, after, top).await?;
    let more = chats.len() > top;
    chats.truncate(top);
    let mut value = Vec::with_capacity(chats.len());
    for chat in &chats {
        let members = if expand {
            Some(graph.store.chat_members(chat.id.clone()).await?)
        } else {
            None
        };
        value.push(chat_json(chat, members.as_deref()));
    }
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#chats", caller.base),
        "@odata.count": value.len(),
        "value": value,
    });
    if let (true, Some(last)) = (more, chats.last()) {
        let cursor = Cursor {
            ms: last.created_ms,
            id: last.id.clone(),
        };
        body["@odata.nextLink"] = json!(odata::next_link(
            &caller.base,
            "/v1.0/me/chats",
            &pairs,
            &cursor
        ));
    }
    Ok(Json(body))
}

/// `GET /v1.0/chats/{id}` (`$expand=members`).
pub async fn get_chat(
    State(graph): State<Arc<Graph>>,
    Path(chat_id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, GraphError> {
    let caller = graph.authorize(&headers).await?;
    let pairs = odata::query_pairs(query.as_deref());
    let chat = member_chat(&graph, &caller, &chat_id).await?;
    let members = match odata::option(&pairs, "$expand") {
        None => None,
        Some("members") => Some(graph.store.chat_members(chat.id.clone()).await?),
        Some(other) => {
            return Err(GraphError::bad_request(format!(
                "Unsupported $expand '{other}': only 'members' is supported."
            )))
        }
    };
    let mut value = chat_json(&chat, members.as_deref());
    value["@odata.context"] = json!(format!("{}/v1.0/$metadata#chats/$entity", caller.base));
    Ok(Json(value))
}

/// `GET /v1.0/chats/{id}/members`.
pub async fn members(
    State(graph): State<Arc<Graph>>,
    Path(chat_id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, GraphError> {
    let caller = graph.authorize(&headers).await?;
    let chat = member_chat(&graph, &caller, &chat_id).await?;
    let members = graph.store.chat_members(chat.id.clone()).await?;
    let value: Vec<Value> = members.iter().map(member_json).collect();
    Ok(Json(json!({
        "@odata.context": format!("{}/v1.0/$metadata#chats('{}')/members", caller.base, chat.id),
        "@odata.count": value.len(),
        "value": value,
    })))
}

/// `GET /v1.0/chats/{id}/messages` (`$top`, `$orderby`, `$filter`,
/// `$skiptoken`).
pub async fn messages(
    State(graph): State<Arc<Graph>>,
    Path(chat_id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, GraphError> {
    let caller = graph.authorize(&headers).await?;
    let pairs = odata::query_pairs(query.as_deref());
    let top = odata::top(&pairs, DEFAULT_MESSAGES_TOP, MAX_TOP)?;
    let order = odata::order_by(&pairs)?;
    let mut filters = odata::filters(&pairs)?;
    let after = odata::cursor(&pairs)?;
    let chat = member_chat(&graph, &caller, &chat_id).await?;
    // A member added with limited history sees nothing older.
    if let Some(from_ms) = chat.viewer_history_from_ms {
        filters.push(crate::store::TimeFilter {
            field: crate::store::MessageField::Created,
            greater: true,
            ms: from_ms - 1,
        });
    }
    let mut page = graph
        .store
        .messages(MessageQuery {
            chat_id: chat.id.clone(),
            order,
            filters,
            after,
            limit: top,
        })
        .await?;
    let more = page.len() > top;
    page.truncate(top);
    let value: Vec<Value> = page.iter().map(message_json).collect();
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#chats('{}')/messages", caller.base, chat.id),
        "@odata.count": value.len(),
        "value": value,
    });
    if let (true, Some(last)) = (more, page.last()) {
        let ms = match order {
            crate::store::MessageField::Created => last.created_ms,
            crate::store::MessageField::LastModified => last.modified_ms,
        };
        let cursor = Cursor {
            ms,
            id: last.id.to_string(),
        };
        let path = format!("/v1.0/chats/{}/messages", chat.id);
        body["@odata.nextLink"] = json!(odata::next_link(&caller.base, &path, &pairs, &cursor));
    }
    Ok(Json(body))
}

/// `POST /v1.0/chats/{id}/messages`.
pub async fn send_message(
    State(graph): State<Arc<Graph>>,
    Path(chat_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Created, GraphError> {
    let caller = graph.authorize(&headers).await?;
    let composed = compose(parse_body(&body)?)?;
    let idempotency_key = idempotency_key(&headers)?;
    let chat = member_chat(&graph, &caller, &chat_id).await?;
    let outcome = graph
        .store
        .insert_message(NewMessage {
            chat_id: chat.id.clone(),
            from_object_id: caller.oid,
            content_type: composed.content_type,
            content: composed.content,
            mentions: composed.mentions,
            references: composed.references,
            idempotency_key,
            now_ms: now_ms(),
        })
        .await?;
    let message = match outcome {
        InsertMessage::Created(message) => {
            let id = Some(message.id);
            graph.notify(&chat.id, id, ChangeKind::MessageCreated).await;
            message
        }
        InsertMessage::Existing(message) => message,
        InsertMessage::UnknownMention(user) => {
            return Err(GraphError::bad_request(format!(
                "The mentioned user {user} is not a member of the chat."
            )))
        }
        InsertMessage::UnknownReference(id) => {
            return Err(GraphError::bad_request(format!(
                "The referenced message {id} is not in this chat."
            )))
        }
    };
    let mut value = message_json(&message);
    value["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#chats('{}')/messages/$entity",
        caller.base, chat.id
    ));
    Ok((StatusCode::CREATED, Json(value)))
}

/// The longest `reactionType` accepted, in bytes (an emoji sequence or a
/// legacy name like `like`).
const MAX_REACTION_BYTES: usize = 64;

/// Applies `change` to a message of a chat the caller is in: 404 for
/// unknown and foreign chats and unknown messages alike, 403 for changing
/// someone else's message, 400 for editing or reacting to a deleted one;
/// otherwise `204 No Content`, as Graph answers.
async fn change(
    graph: &Graph,
    headers: &HeaderMap,
    chat_id: &str,
    message_id: &str,
    change: impl FnOnce() -> Result<MessageChange, GraphError>,
) -> Result<StatusCode, GraphError> {
    let caller = graph.authorize(headers).await?;
    let change = change()?;
    let chat = member_chat(graph, &caller, chat_id).await?;
    let not_found = || GraphError::not_found(format!("Message '{message_id}' was not found."));
    let id: i64 = message_id.parse().map_err(|_| not_found())?;
    match graph
        .store
        .change_message(chat.id.clone(), id, caller.oid, change, now_ms())
        .await?
    {
        ChangeOutcome::Done(_) => {
            graph
                .notify(&chat.id, Some(id), ChangeKind::MessageUpdated)
                .await;
            Ok(StatusCode::NO_CONTENT)
        }
        ChangeOutcome::NotFound => Err(not_found()),
        ChangeOutcome::NotAuthor => Err(GraphError::forbidden(
            "Only the sender of a message can change or delete it.",
        )),
        ChangeOutcome::Deleted => Err(GraphError::bad_request(
            "The message is deleted; undo the deletion first.",
        )),
    }
}

/// `PATCH /v1.0/chats/{id}/messages/{id}`: the sender replaces the body.
pub async fn edit_message(
    State(graph): State<Arc<Graph>>,
    Path((chat_id, message_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, GraphError> {
    change(&graph, &headers, &chat_id, &message_id, || {
        let request: MessageEdit = parse_body(&body)?;
        let (content_type, content) = checked_body(request.body)?;
        Ok(MessageChange::Edit {
            content_type,
            content,
        })
    })
    .await
}

/// `POST /v1.0/chats/{id}/messages/{id}/softDelete`.
pub async fn soft_delete(
    State(graph): State<Arc<Graph>>,
    Path((chat_id, message_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, GraphError> {
    change(&graph, &headers, &chat_id, &message_id, || {
        Ok(MessageChange::SoftDelete)
    })
    .await
}

/// `POST /v1.0/chats/{id}/messages/{id}/undoSoftDelete`.
pub async fn undo_soft_delete(
    State(graph): State<Arc<Graph>>,
    Path((chat_id, message_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, GraphError> {
    change(&graph, &headers, &chat_id, &message_id, || {
        Ok(MessageChange::UndoSoftDelete)
    })
    .await
}

fn reaction_type(body: &[u8]) -> Result<String, GraphError> {
    let request: ReactionChange = parse_body(body)?;
    let reaction = request.reaction_type.trim();
    if reaction.is_empty() || reaction.len() > MAX_REACTION_BYTES {
        return Err(GraphError::bad_request(format!(
            "reactionType must be a reaction (an emoji), 1 to {MAX_REACTION_BYTES} bytes."
        )));
    }
    Ok(reaction.to_owned())
}

/// `POST /v1.0/chats/{id}/messages/{id}/setReaction`.
pub async fn set_reaction(
    State(graph): State<Arc<Graph>>,
    Path((chat_id, message_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, GraphError> {
    change(&graph, &headers, &chat_id, &message_id, || {
        reaction_type(&body).map(MessageChange::SetReaction)
    })
    .await
}

/// `POST /v1.0/chats/{id}/messages/{id}/unsetReaction`.
pub async fn unset_reaction(
    State(graph): State<Arc<Graph>>,
    Path((chat_id, message_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, GraphError> {
    change(&graph, &headers, &chat_id, &message_id, || {
        reaction_type(&body).map(MessageChange::UnsetReaction)
    })
    .await
}
