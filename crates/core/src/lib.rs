//! The Convene client engine.
//!
//! Everything a Convene client does lives here, with no dependency on Tauri,
//! so that the desktop shell, the CLI and tests drive exactly the same code:
//! the server's settings and reachability (`config`, `connection`), sign-in
//! and accounts (`auth`, `session`, `vault`, `exchange`), chat (`chat`) and
//! 1:1 calls (`call`). A [`Client`] owns one session and reports everything
//! that happens on one ordered stream of [`ClientEvent`]s.

pub mod account;
pub mod auth;
pub mod call;
pub mod chat;
pub mod client;
pub mod clock;
pub mod config;
pub mod connection;
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
pub mod desktop;
pub mod error;
pub mod event;
pub mod exchange;
pub mod http;
pub mod live;
pub mod publish;
pub mod secret;
pub mod session;
pub mod vault;

pub use account::{AccountOptions, CallDevices};
pub use client::Client;
pub use config::{ClientConfig, ConfigError, ServerSettings};
pub use connection::{ConnectionState, ConnectionStatus, MonitorTiming};
pub use error::{UserError, UserErrorCode};
pub use event::{ClientEvent, EventStream, SignInProgress};
pub use secret::Secret;
