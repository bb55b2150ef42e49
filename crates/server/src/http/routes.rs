//! Request handlers.

use std::time::Duration;

use axum::extract::State;
use axum::http::{Method, Uri};
use axum::Json;
use convene_proto::{Health, HealthStatus, ServerVersion};

use super::{ApiError, AppState};

/// A health check that hangs is as bad as one that fails: probes give up
/// after a few seconds, so answer 503 before they do.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /healthz`: 200 only if the store answers a trivial query.
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    match tokio::time::timeout(HEALTH_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Ok(Json(Health {
            status: HealthStatus::Ok,
        })),
        Ok(Err(error)) => {
            tracing::warn!(%error, "health check: storage failed");
            Err(ApiError::unavailable(format!(
                "storage is not answering: {error}"
            )))
        }
        Err(_) => {
            tracing::warn!("health check: storage timed out");
            Err(ApiError::unavailable(format!(
                "storage did not answer within {HEALTH_TIMEOUT:?}"
            )))
        }
    }
}

/// `GET /version`: who this server is and which protocols it speaks.
pub async fn version(State(state): State<AppState>) -> Json<ServerVersion> {
    Json(state.version)
}

pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("no such resource: {method} {}", uri.path()))
}

pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::method_not_allowed(format!("{method} is not allowed on {}", uri.path()))
}
