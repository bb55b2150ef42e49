//! Startup and shutdown of the whole server: storage, listener, HTTP.

use axum::serve::ListenerExt;
use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::acs::AcsClient;
use crate::call::api::CallsApi;
use crate::call::Calls;
use crate::config::{Config, Mode};
use crate::demo::{DEMO_TENANTS, DEMO_USERS};
use crate::directory::Directory;
use crate::exchange::jwks::RemoteKeys;
use crate::exchange::{ApiScope, CommunicationTokens, EntraValidator, Exchange, Trust};
use crate::graph::{Graph, Throttle};
use crate::http::{self, AppState};
use crate::hub::{Hub, LocalHub};
use crate::issuer::{Clock, DevIssuer, KeyError, KeyStore, Lifetimes};
use crate::live::Live;
use crate::presence::Presence;
use crate::store::{Store, StoreError};

/// How long in-flight requests get to finish after a stop signal; past it
/// the server closes anyway, so that a stuck client cannot block a restart.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    IssuerKey(#[from] KeyError),
    #[error(
        "cannot listen on {addr}: address already in use (is another convene-server running?)"
    )]
    AddrInUse { addr: SocketAddr },
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("the HTTP server failed")]
    Serve(#[source] io::Error),
    #[error("cannot set up the HTTP client for the authority or ACS")]
    HttpClient(#[source] reqwest::Error),
}

/// A server whose storage is open and whose socket is bound, not yet
/// serving. Splitting start from run lets the caller announce the real
/// address (port 0 picks one) before the first request can arrive.
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    state: AppState,
}

impl Server {
    /// Opens the store (seeding the demo users and setting up the dev
    /// issuer in dev mode) and binds.
    pub async fn start(config: &Config) -> Result<Self, ServerError> {
        let store = Store::open_sqlite(&config.data_dir).await?;
        tracing::info!(database = %store.location(), "storage open");
        let state = match app_state(config, &store).await {
            Ok(state) => state,
            Err(error) => {
                let _ = store.close().await;
                return Err(error);
            }
        };
        let listener = match bind(config.listen).await {
            Ok(listener) => listener,
            Err(error) => {
                let _ = store.close().await;
                return Err(error);
            }
        };
        let local_addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
        Ok(Self {
            listener,
            local_addr,
            state,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` completes, then stops accepting, lets
    /// requests in flight finish (up to [`SHUTDOWN_GRACE`]) and closes the
    /// store.
    pub async fn run<F>(self, shutdown: F) -> Result<(), ServerError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let store = self.state.store.clone();
        let (stopping_tx, stopping) = oneshot::channel::<()>();
        let signal = async move {
            shutdown.await;
            tracing::info!("stopping: no new connections; finishing requests in flight");
            let _ = stopping_tx.send(());
        };
        // No Nagle: a call's signaling frames are small and come in bursts;
        // holding one for the previous one's ACK cost 40 ms per hop.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "TCP_NODELAY not set");
            }
        });
        let serve = axum::serve(listener, http::router(self.state))
            .with_graceful_shutdown(signal)
            .into_future();
        let deadline = async move {
            match stopping.await {
                Ok(()) => tokio::time::sleep(SHUTDOWN_GRACE).await,
                Err(_) => std::future::pending().await,
            }
        };
        let served = tokio::select! {
            result = serve => result.map_err(ServerError::Serve),
            () = deadline => {
                tracing::warn!(grace = ?SHUTDOWN_GRACE, "requests still in flight; stopping anyway");
                Ok(())
            }
        };
        let closed = store.close().await;
        served?;
        closed?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// The dev issuer (dev mode), the token exchange and the Graph chat API
/// (both modes).
async fn app_state(config: &Config, store: &Store) -> Result<AppState, ServerError> {
    let mut state = AppState::new(store.clone(), config.mode.server_mode());
    let clock = Clock::system();
    let validator = match &config.mode {
        Mode::Dev => {
            let issuer = Arc::new(dev_issuer(config, store).await?);
            state = state.with_issuer(Arc::clone(&issuer));
            EntraValidator {
                trust: Trust::Dev(issuer),
                client_id: crate::issuer::CLIENT_ID.to_owned(),
                api: ApiScope::new(crate::issuer::CLIENT_ID, None)
                    .expect("the dev client id makes a valid API scope"),
                // Every demo tenant, and only those.
                allowed_tenants: DEMO_TENANTS.iter().map(|t| t.id).collect(),
                clock: clock.clone(),
            }
        }
        Mode::Tenant(tenant) => EntraValidator {
            trust: Trust::Authority(Arc::new(
                RemoteKeys::new(&tenant.authority).map_err(ServerError::HttpClient)?,
            )),
            client_id: tenant.client_id.clone(),
            api: tenant.api.clone(),
            allowed_tenants: tenant.allowed_tenants.clone(),
            clock: clock.clone(),
        },
    };
    let acs = match &config.acs {
        Some(acs) => {
            tracing::info!(endpoint = %acs.endpoint, "token exchanges are forwarded to ACS");
            Some(AcsClient::new(acs.clone()).map_err(ServerError::HttpClient)?)
        }
        None => None,
    };
    let tokens = Arc::new(CommunicationTokens::open(&config.data_dir, clock)?);
    let directory = Arc::new(Directory::new(store.clone()));
    let hub: Arc<dyn Hub> = Arc::new(LocalHub::new());
    let presence = Presence::new(Arc::clone(&hub));
    let calls = Calls::new(Arc::clone(&hub), store.clone(), config.calls.clone());
    calls.restore(store.open_calls().await?);
    let state = state
        .with_graph(Arc::new(Graph {
            store: store.clone(),
            validator: validator.clone(),
            throttle: Throttle::new(config.graph_rate_limit),
            hub: Arc::clone(&hub),
            presence: Arc::clone(&presence),
            directory: Arc::clone(&directory),
        }))
        .with_live(Arc::new(Live {
            tokens: Arc::clone(&tokens),
            store: store.clone(),
            hub,
            presence,
            calls: Arc::clone(&calls),
            calling_tenants: match &config.mode {
                Mode::Tenant(tenant) => tenant.allowed_tenants.clone(),
                // The demo tenants stand for separate organisations.
                Mode::Dev => Vec::new(),
            },
        }))
        .with_calls(Arc::new(CallsApi {
            tokens: Arc::clone(&tokens),
            store: store.clone(),
            calls,
        }));
    Ok(state.with_exchange(Arc::new(Exchange {
        validator,
        tokens,
        acs,
        directory,
    })))
}

/// Seeds the demo users and sets up the dev issuer with its key.
async fn dev_issuer(config: &Config, store: &Store) -> Result<DevIssuer, ServerError> {
    store
        .upsert_users(DEMO_USERS.iter().map(|u| u.to_user()).collect())
        .await?;
    tracing::info!(users = DEMO_USERS.len(), "demo users ready");
    let keys = KeyStore::open(&config.data_dir)?;
    let tenants: Vec<String> = DEMO_TENANTS
        .iter()
        .map(|t| format!("{} ({})", t.id, t.domain))
        .collect();
    tracing::info!(
        tenants = %tenants.join(", "),
        client_id = crate::issuer::CLIENT_ID,
        "dev issuer ready at /{{tenant}}/v2.0"
    );
    Ok(DevIssuer::new(
        store.clone(),
        keys,
        config.dev_password.clone(),
        lifetimes(config),
        Clock::system(),
    ))
}

fn lifetimes(config: &Config) -> Lifetimes {
    let defaults = Lifetimes::default();
    match config.dev_token_lifetime {
        Some(lifetime) => Lifetimes {
            access_token: lifetime,
            id_token: lifetime,
            ..defaults
        },
        None => defaults,
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr).await.map_err(|source| {
        if source.kind() == io::ErrorKind::AddrInUse {
            ServerError::AddrInUse { addr }
        } else {
            ServerError::Bind { addr, source }
        }
    })
}
