//! The HTTP surface: routes, shared state and JSON errors.

mod routes;

use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use convene_proto::{ServerMode, ServerVersion, PROTOCOL_VERSION};
use tower_http::trace::TraceLayer;

use crate::call::api::CallsApi;
use crate::exchange::Exchange;
use crate::graph::Graph;
use crate::issuer::DevIssuer;
use crate::live::Live;
use crate::store::Store;

pub use crate::api::{ApiError, ErrorBody, ErrorDetail};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub version: ServerVersion,
    /// The dev issuer's routes are mounted only when this is set (`--dev`).
    pub issuer: Option<Arc<DevIssuer>>,
    /// The token exchange, mounted when set.
    pub exchange: Option<Arc<Exchange>>,
    /// The Graph-compatible chat API (`/v1.0`), mounted when set.
    pub graph: Option<Arc<Graph>>,
    /// The live WebSocket, mounted when set.
    pub live: Option<Arc<Live>>,
    /// Call history and ICE servers, mounted when set.
    pub calls: Option<Arc<CallsApi>>,
}

impl AppState {
    pub fn new(store: Store, mode: ServerMode) -> Self {
        Self {
            store,
            version: ServerVersion {
                name: crate::SERVER_NAME.to_owned(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                protocol_versions: vec![PROTOCOL_VERSION],
                mode,
            },
            issuer: None,
            exchange: None,
            graph: None,
            live: None,
            calls: None,
        }
    }

    /// Mounts the token exchange too.
    pub fn with_exchange(self, exchange: Arc<Exchange>) -> Self {
        Self {
            exchange: Some(exchange),
            ..self
        }
    }

    /// Mounts the Graph-compatible chat API too.
    pub fn with_graph(self, graph: Arc<Graph>) -> Self {
        Self {
            graph: Some(graph),
            ..self
        }
    }

    /// Mounts the live WebSocket too.
    pub fn with_live(self, live: Arc<Live>) -> Self {
        Self {
            live: Some(live),
            ..self
        }
    }

    /// Mounts call history and ICE servers too.
    pub fn with_calls(self, calls: Arc<CallsApi>) -> Self {
        Self {
            calls: Some(calls),
            ..self
        }
    }

    /// Mounts the dev issuer too.
    pub fn with_issuer(self, issuer: Arc<DevIssuer>) -> Self {
        Self {
            issuer: Some(issuer),
            ..self
        }
    }
}

/// The whole application. Unknown paths and methods answer with JSON
/// errors too, so clients never have to parse an empty or HTML body.
pub fn router(state: AppState) -> Router {
    let issuer = state.issuer.clone();
    let exchange = state.exchange.clone();
    let graph = state.graph.clone();
    let live = state.live.clone();
    let calls = state.calls.clone();
    let mut app = Router::new()
        .route("/healthz", get(routes::healthz))
        .route("/version", get(routes::version))
        .with_state(state);
    if let Some(exchange) = exchange {
        app = app.merge(exchange.router());
    }
    if let Some(graph) = graph {
        app = app.merge(graph.router());
    }
    if let Some(live) = live {
        app = app.merge(live.router());
    }
    if let Some(calls) = calls {
        app = app.merge(calls.router());
    }
    if let Some(issuer) = issuer {
        app = app.merge(issuer.router());
    }
    app.fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(TraceLayer::new_for_http())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{to_bytes, Body};
    use axum::http::{HeaderMap, Request, StatusCode};
    use serde_json::Value;
    use tower::ServiceExt;

    async fn call(app: Router, method: &str, uri: &str) -> (StatusCode, HeaderMap, Value) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(content_type, "application/json", "{uri}");
        let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, headers, serde_json::from_slice(&body).unwrap())
    }

    async fn app() -> (tempfile::TempDir, Store, Router) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(dir.path()).await.unwrap();
        let app = router(AppState::new(store.clone(), ServerMode::Tenant));
        (dir, store, app)
    }

    #[tokio::test]
    async fn healthz_is_ok_while_the_store_answers() {
        let (_dir, _store, app) = app().await;
        let (status, _, body) = call(app, "GET", "/healthz").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, serde_json::json!({"status": "ok"}));
    }

    #[tokio::test]
    async fn healthz_is_503_with_json_when_the_store_is_gone() {
        let (_dir, store, app) = app().await;
        store.close().await.unwrap();
        let (status, _, body) = call(app, "GET", "/healthz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["error"]["code"], "serviceUnavailable");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("storage"));
    }

    #[tokio::test]
    async fn version_reports_the_mode_it_was_given() {
        let (_dir, _store, app) = app().await;
        let (status, _, body) = call(app, "GET", "/version").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["mode"], "tenant");
        assert_eq!(
            body["protocolVersions"],
            serde_json::json!([PROTOCOL_VERSION])
        );
    }

    #[tokio::test]
    async fn wrong_method_is_405_with_json() {
        let (_dir, _store, app) = app().await;
        let (status, headers, body) = call(app, "POST", "/healthz").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(body["error"]["code"], "methodNotAllowed");
        assert_eq!(headers["allow"], "GET,HEAD");
    }
}
