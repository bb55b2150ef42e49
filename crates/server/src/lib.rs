//! convene-server: the small self-hostable Convene server.
//!
//! Configuration, SQLite storage, `/healthz` and `/version`, the dev issuer
//! (an Entra-shaped OpenID provider under `--dev`), the token exchange
//! (`POST /teamsUser/:exchangeAccessToken`, ACS-shaped) with communication
//! tokens and ACS forwarding, a Graph-compatible chat API under `/v1.0`, the
//! live WebSocket (chat hints, typing, presence), call signaling with call
//! records and ICE servers, and a clean start and stop. The binary in
//! `main.rs` only wires these together, so tests can use them directly.

pub mod acs;
pub mod api;
pub mod call;
pub mod config;
pub mod demo;
pub mod directory;
pub mod exchange;
pub mod graph;
pub mod http;
pub mod hub;
pub mod issuer;
pub mod live;
pub mod presence;
pub mod server;
pub mod shutdown;
pub mod store;

pub use config::{Cli, Config, ConfigError, Mode, TenantConfig};
pub use demo::{
    DemoTenant, DemoUser, DEMO_TENANTS, DEMO_TENANT_DOMAIN, DEMO_TENANT_ID, DEMO_USERS,
    FABRIKAM_TENANT_DOMAIN, FABRIKAM_TENANT_ID,
};
pub use exchange::{CommunicationIdentity, CommunicationTokens};
pub use server::{Server, ServerError};
pub use shutdown::ShutdownSignals;
pub use store::{Store, StoreError, User};

/// The `name` this server reports in `GET /version`.
pub const SERVER_NAME: &str = "convene-server";
