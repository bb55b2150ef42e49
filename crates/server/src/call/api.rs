//! `GET /v1/calls` (call history) and `GET /v1/ice-servers`, both with
//! `Authorization: Bearer <communication token>`.

use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use convene_proto::call::{
    CallDirection, CallHistory, CallOutcome, CallRecord, MediaKind, CALLS_PAGE, CALLS_PAGE_MAX,
    CALLS_PATH, ICE_SERVERS_PATH,
};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::{raw_id, Calls};
use crate::api::ApiError;
use crate::exchange::{CommunicationIdentity, CommunicationTokens};
use crate::graph::odata;
use crate::store::{CallRow, Store};

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
    let Some(token) = crate::api::bearer_token(headers) else {
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

async fn history(
    State(api): State<Arc<CallsApi>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let who = match identity(&api, &headers).await {
        Ok(who) => who,
        Err(error) => return error.into_response(),
    };
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let top = match odata::option(&pairs, "$top").map(str::parse::<usize>) {
        None => CALLS_PAGE,
        Some(Ok(top)) if (1..=CALLS_PAGE_MAX).contains(&top) => top,
        Some(_) => {
            return ApiError::bad_request(format!(
                "$top must be a number from 1 to {CALLS_PAGE_MAX}."
            ))
            .into_response()
        }
    };
    let before = match odata::cursor(&pairs) {
        Ok(None) => None,
        Ok(Some(cursor)) => match Uuid::try_parse(&cursor.id) {
            Ok(id) => Some((cursor.ms, id)),
            Err(_) => return ApiError::bad_request("The $skiptoken is not valid.").into_response(),
        },
        Err(_) => return ApiError::bad_request("The $skiptoken is not valid.").into_response(),
    };
    let mut rows = match api.store.calls_of(who.oid, top + 1, before).await {
        Ok(rows) => rows,
        Err(error) => {
            tracing::warn!(%error, "calls: cannot read call history");
            return ApiError::unavailable("The call history cannot be read right now.")
                .into_response();
        }
    };
    let more = rows.len() > top;
    rows.truncate(top);
    let next_link = match (more, rows.last()) {
        (true, Some(last)) => {
            let Ok(base) = crate::issuer::base_url(&headers) else {
                return ApiError::bad_request("The request must carry a valid Host header.")
                    .into_response();
            };
            let cursor = crate::store::Cursor {
                ms: last.started_ms,
                id: last.id.to_string(),
            };
            Some(odata::next_link(&base, CALLS_PATH, &pairs, &cursor))
        }
        _ => None,
    };
    Json(CallHistory {
        value: rows.into_iter().map(|row| record(who.oid, row)).collect(),
        next_link,
    })
    .into_response()
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
