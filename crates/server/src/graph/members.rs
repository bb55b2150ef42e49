//! A chat's roster and read state: adding members to a group chat, and
//! `markChatReadForUser` / `markChatUnreadForUser`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use convene_proto::graph::request::{
    ChatReadMark, ConversationMember, AAD_USER_CONVERSATION_MEMBER,
};
use convene_proto::live::ChangeKind;
use serde_json::{json, Value};
use uuid::Uuid;

use super::handlers::{bound_user, member_chat, now_ms, parse_body};
use super::odata::{member_json, parse_time};
use super::{Graph, GraphError};
use crate::store::{AddMember, NewMember};

/// Graph's "from the beginning" for `visibleHistoryStartDateTime`.
const ALL_HISTORY: &str = "0001-01-01T00:00:00Z";

/// `POST /v1.0/chats/{id}/members`: a member adds a user of the tenant to
/// a group chat.
pub async fn add_member(
    State(graph): State<Arc<Graph>>,
    Path(chat_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), GraphError> {
    let caller = graph.authorize(&headers).await?;
    let request: ConversationMember = parse_body(&body)?;
    if request
        .odata_type
        .as_deref()
        .is_some_and(|t| t != AAD_USER_CONVERSATION_MEMBER)
    {
        return Err(GraphError::bad_request(format!(
            "Only {AAD_USER_CONVERSATION_MEMBER} members are supported."
        )));
    }
    let object_id = request
        .user_bind
        .as_deref()
        .and_then(|bind| bound_user(bind, &caller.base))
        .ok_or_else(|| {
            GraphError::bad_request(
                "The member needs user@odata.bind as \
                 https://graph.microsoft.com/v1.0/users('<id>').",
            )
        })?;
    let roles = request
        .roles
        .ok_or_else(|| GraphError::bad_request("Must specify a role for the new member."))?;
    if roles.iter().any(|r| r != "owner" && r != "guest") {
        return Err(GraphError::bad_request(
            "roles may hold only 'owner' or 'guest'.",
        ));
    }
    let visible_history_ms = match request.visible_history_start_date_time.as_deref() {
        None | Some(ALL_HISTORY) => None,
        Some(time) => Some(parse_time(time).ok_or_else(|| {
            GraphError::bad_request(format!(
                "visibleHistoryStartDateTime '{time}' is not a date-time."
            ))
        })?),
    };
    let chat = member_chat(&graph, &caller, &chat_id).await?;
    let outcome = graph
        .store
        .add_member(NewMember {
            chat_id: chat.id.clone(),
            tenant_id: chat.tenant_id,
            object_id,
            roles,
            visible_history_ms,
            now_ms: now_ms(),
        })
        .await?;
    let member = match outcome {
        AddMember::Added(member) => {
            graph.notify(&chat.id, None, ChangeKind::Chat).await;
            member
        }
        AddMember::Already(member) => member,
        AddMember::NotGroup => {
            return Err(GraphError::forbidden(
                "Members cannot be added to a oneOnOne chat; create a group chat instead.",
            ))
        }
        AddMember::UnknownUser => {
            return Err(GraphError::not_found(format!(
                "The user {object_id} does not exist in the tenant."
            )))
        }
    };
    let mut value = member_json(&member);
    value["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#chats('{}')/members/$entity",
        caller.base, chat.id
    ));
    Ok((StatusCode::CREATED, Json(value)))
}

/// Parses a mark-read body for the caller: 403 for anyone else.
fn reader(body: &[u8], caller: &super::Caller) -> Result<ChatReadMark, GraphError> {
    let request: ChatReadMark = parse_body(body)?;
    let same_user = Uuid::try_parse(&request.user.id).is_ok_and(|id| id == caller.oid);
    let same_tenant = request
        .user
        .tenant_id
        .as_deref()
        .is_none_or(|t| Uuid::try_parse(t).is_ok_and(|t| t == caller.tid));
    if !same_user || !same_tenant {
        return Err(GraphError::forbidden(
            "A chat can be marked read or unread only for the signed-in user.",
        ));
    }
    Ok(request)
}

/// `POST /v1.0/chats/{id}/markChatReadForUser`: the caller has read
/// everything up to now.
pub async fn mark_read(
    State(graph): State<Arc<Graph>>,
    Path(chat_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, GraphError> {
    let caller = graph.authorize(&headers).await?;
    reader(&body, &caller)?;
    let chat = member_chat(&graph, &caller, &chat_id).await?;
    graph
        .store
        .set_last_read(chat.id.clone(), caller.oid, Some(now_ms()))
        .await?;
    graph.notify(&chat.id, None, ChangeKind::Read).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1.0/chats/{id}/markChatUnreadForUser`: the caller's viewpoint
/// goes back to `lastMessageReadDateTime`, or to just before the newest
/// message.
pub async fn mark_unread(
    State(graph): State<Arc<Graph>>,
    Path(chat_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, GraphError> {
    let caller = graph.authorize(&headers).await?;
    let request = reader(&body, &caller)?;
    let read_ms = match request.last_message_read_date_time.as_deref() {
        None => None,
        Some(time) => Some(parse_time(time).ok_or_else(|| {
            GraphError::bad_request(format!(
                "lastMessageReadDateTime '{time}' is not a date-time."
            ))
        })?),
    };
    let chat = member_chat(&graph, &caller, &chat_id).await?;
    graph
        .store
        .set_last_read(chat.id.clone(), caller.oid, read_ms)
        .await?;
    graph.notify(&chat.id, None, ChangeKind::Read).await;
    Ok(StatusCode::NO_CONTENT)
}
