//! `GET /v1/calls` (call history) and `GET /v1/ice-servers`, both with
//! `Authorization: Bearer <communication token>`.

use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use convene_proto::call::{
    CallDirection, CallHistory, CallOutcome, CallRecord, MediaKind, CALLS_PATH, ICE_SERVERS_PATH,
};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::{raw_id, Calls};
use crate::exchange::{CommunicationIdentity, CommunicationTokens};
use crate::http::ApiError;
use crate::store::{CallRow, Store};

/// Calls listed by `GET /v1/calls`.
pub const HISTORY_LIMIT: usize = 200;

#[derive(Debug)]
pub struct CallsApi {
    pub tokens: Arc<CommunicationTokens>,
    pub store: Store,
    pub calls: Arc<Calls>,
}

impl CallsApi {
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route(CALLS_PATH, get(history))
            .route(ICE_SERVERS_PATH, get(ice_servers))
            .with_state(self)
    }
}

async fn identity(api: &CallsApi, headers: &HeaderMap) -> Result<CommunicationIdentity, ApiError> {
    let Some(token) = crate::live::bearer_token(headers) else {
        return Err(ApiError::unauthorized(
            "This needs Authorization: Bearer <communication token>.",
        ));
    };
    api.tokens
        .verify_communication_token(token)
        .await
        .map_err(|error| ApiError::unauthorized(error.to_string()))
}

async fn ice_servers(State(api): State<Arc<CallsApi>>, headers: HeaderMap) -> Response {
    match identity(&api, &headers).await {
        Ok(who) => Json(
            api.calls
                .settings()
                .ice
                .servers_for(who.oid, SystemTime::now()),
        )
        .into_response(),
        Err(error) => error.into_response(),
    }
}

async fn history(State(api): State<Arc<CallsApi>>, headers: HeaderMap) -> Response {
    let who = match identity(&api, &headers).await {
        Ok(who) => who,
        Err(error) => return error.into_response(),
    };
    match api.store.calls_of(who.oid, HISTORY_LIMIT).await {
        Ok(rows) => Json(CallHistory {
            value: rows.into_iter().map(|row| record(who.oid, row)).collect(),
        })
        .into_response(),
        Err(error) => {
            tracing::warn!(%error, "calls: cannot read call history");
            ApiError::unavailable("The call history cannot be read right now.").into_response()
        }
    }
}

fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

fn record(me: Uuid, row: CallRow) -> CallRecord {
    let duration_secs = row.ended_ms.map(|end| match row.answered_ms {
        Some(answered) => u64::try_from((end - answered).max(0) / 1000).unwrap_or(0),
        None => 0,
    });
    CallRecord {
        id: row.id.to_string(),
        caller: raw_id(row.caller),
        callee: raw_id(row.callee),
        direction: if row.caller == me {
            CallDirection::Outgoing
        } else {
            CallDirection::Incoming
        },
        media: row
            .media
            .split(',')
            .filter_map(|m| match m {
                "audio" => Some(MediaKind::Audio),
                "video" => Some(MediaKind::Video),
                _ => None,
            })
            .collect(),
        started_at: rfc3339(row.started_ms),
        answered_at: row.answered_ms.map(rfc3339),
        ended_at: row.ended_ms.map(rfc3339),
        duration_secs,
        outcome: row.outcome.as_deref().map(CallOutcome::parse),
    }
}
