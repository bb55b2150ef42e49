//! Graph's presence routes: read one's own or others' presence, read many
//! at once, and set or clear an app session's presence.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use convene_proto::graph::request::PresencesByUserId;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::time::Instant;
use uuid::Uuid;

use super::handlers::parse_body;
use super::{Caller, Graph, GraphError};
use crate::presence::{parse_duration, Session, Status, MAX_EXPIRATION, MIN_EXPIRATION, SETTABLE};

/// Graph's limit on `getPresencesByUserId`.
const MAX_IDS: usize = 650;

fn presence_json(user: Uuid, status: &Status) -> Value {
    json!({
        "id": user,
        "availability": status.availability,
        "activity": status.activity,
        "statusMessage": null,
    })
}

/// One presence with its `@odata.context`.
fn one(caller: &Caller, user: Uuid, status: &Status) -> Json<Value> {
    let mut value = presence_json(user, status);
    value["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#users('{user}')/presence/$entity",
        caller.base
    ));
    Json(value)
}

/// The user `id` names, if they are a user of the caller's tenant (404
/// `Request_ResourceNotFound` otherwise, as for `/users/{id}`).
async fn tenant_user(graph: &Graph, caller: &Caller, id: &str) -> Result<Uuid, GraphError> {
    let not_found = || GraphError::no_resource(format!("Resource '{id}' does not exist."));
    let oid = Uuid::try_parse(id).map_err(|_| not_found())?;
    if oid == caller.oid {
        return Ok(oid);
    }
    let users = graph.store.users(caller.tid).await?;
    users
        .iter()
        .any(|u| u.object_id == oid)
        .then_some(oid)
        .ok_or_else(not_found)
}

/// `GET /v1.0/me/presence`.
pub async fn mine(
    State(graph): State<Arc<Graph>>,
    headers: HeaderMap,
) -> Result<Json<Value>, GraphError> {
    let caller = graph.authorize(&headers).await?;
    Ok(one(&caller, caller.oid, &graph.presence.status(caller.oid)))
}

/// `GET /v1.0/users/{id}/presence`.
pub async fn of_user(
    State(graph): State<Arc<Graph>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, GraphError> {
    let caller = graph.authorize(&headers).await?;
    let user = tenant_user(&graph, &caller, &id).await?;
    Ok(one(&caller, user, &graph.presence.status(user)))
}

/// `POST /v1.0/communications/getPresencesByUserId`. Users outside the
/// caller's tenant are `PresenceUnknown`, so presence never leaks across
/// organisations.
pub async fn by_user_ids(
    State(graph): State<Arc<Graph>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, GraphError> {
    let caller = graph.authorize(&headers).await?;
    let request: PresencesByUserId = parse_body(&body)?;
    if request.ids.is_empty() || request.ids.len() > MAX_IDS {
        return Err(GraphError::bad_request(format!(
            "ids must hold 1 to {MAX_IDS} user ids."
        )));
    }
    let mut ids = Vec::with_capacity(request.ids.len());
    for id in &request.ids {
        let oid = Uuid::try_parse(id)
            .map_err(|_| GraphError::bad_request(format!("'{id}' is not a user id (a GUID).")))?;
        if !ids.contains(&oid) {
            ids.push(oid);
        }
    }
    let users = graph.store.users(caller.tid).await?;
    let value: Vec<Value> = ids
        .iter()
        .map(|oid| {
            let known = *oid == caller.oid || users.iter().any(|u| u.object_id == *oid);
            let status = if known {
                graph.presence.status(*oid)
            } else {
                Status {
                    availability: "PresenceUnknown".into(),
                    activity: "PresenceUnknown".into(),
                }
            };
            presence_json(*oid, &status)
        })
        .collect();
    Ok(Json(json!({
        "@odata.context": format!("{}/v1.0/$metadata#Collection(microsoft.graph.presence)", caller.base),
        "value": value,
    })))
}

/// 403 unless `id` is the caller: delegated presence is one's own.
fn own(caller: &Caller, id: &str) -> Result<(), GraphError> {
    if Uuid::try_parse(id).is_ok_and(|oid| oid == caller.oid) {
        Ok(())
    } else {
        Err(GraphError::forbidden(
            "Presence can be set or cleared only for the signed-in user.",
        ))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SetBody {
    session_id: String,
    availability: String,
    activity: String,
    expiration_duration: Option<String>,
}

/// `POST /v1.0/users/{id}/presence/setPresence` → `200`.
pub async fn set(
    State(graph): State<Arc<Graph>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, GraphError> {
    let caller = graph.authorize(&headers).await?;
    own(&caller, &id)?;
    let request: SetBody = parse_body(&body)?;
    if request.session_id.trim().is_empty() {
        return Err(GraphError::bad_request("sessionId is required."));
    }
    if !SETTABLE
        .iter()
        .any(|(a, b)| *a == request.availability && *b == request.activity)
    {
        let pairs: Vec<String> = SETTABLE.iter().map(|(a, b)| format!("{a}/{b}")).collect();
        return Err(GraphError::bad_request(format!(
            "availability/activity must be one of {}.",
            pairs.join(", ")
        )));
    }
    let lifetime = match request.expiration_duration.as_deref() {
        None => MIN_EXPIRATION,
        Some(text) => parse_duration(text)
            .filter(|d| (MIN_EXPIRATION..=MAX_EXPIRATION).contains(d))
            .ok_or_else(|| {
                GraphError::bad_request(format!(
                    "expirationDuration '{text}' must be an ISO 8601 duration from PT5M to PT4H."
                ))
            })?,
    };
    graph.presence.set(
        caller.oid,
        caller.tid,
        Session {
            session_id: request.session_id,
            status: Status {
                availability: request.availability,
                activity: request.activity,
            },
            expires: Instant::now() + lifetime,
        },
    );
    Ok(StatusCode::OK)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClearBody {
    session_id: String,
}

/// `POST /v1.0/users/{id}/presence/clearPresence` → `200`, whether or not
/// the session had set anything.
pub async fn clear(
    State(graph): State<Arc<Graph>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, GraphError> {
    let caller = graph.authorize(&headers).await?;
    own(&caller, &id)?;
    let request: ClearBody = parse_body(&body)?;
    graph
        .presence
        .clear(caller.oid, caller.tid, &request.session_id);
    Ok(StatusCode::OK)
}
