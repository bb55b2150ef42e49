//! What the tests and benchmarks of several crates share. Only
//! dev-dependencies (and `convene-e2e`, a crate of tests) use this crate.
//!
//! Always here, with no dependency on a Convene crate:
//! - [`wait`]: waiting for something to come true, the one place the tests'
//!   poll loops pause;
//! - real services a test starts for itself: [`coturn`], a private
//!   PulseAudio ([`pulse`]) or PipeWire ([`pipewire`]), a notification
//!   daemon ([`dunst`]).
//!
//! Behind features, so that a crate that only needs a service does not
//! build the rest:
//! - `tokio`: the async twins in [`wait`];
//! - `processes`: where the workspace's binaries and the repository's
//!   `artifacts/` are (`workspace_binary`, `artifacts_dir`, …), a real
//!   `convene-server --dev` (`dev_server`), a person at a terminal running
//!   `convene-cli` and long-running CLI processes whose stderr is read as it
//!   comes (`terminal`), and what a process costs from `/proc` (`procs`);
//! - `browser`: a person at a browser filling in a provider's sign-in
//!   pages (`browser`), as the `scripted_browser` binary of `convene-e2e` does;
//! - `entra-op`: an Entra-shaped OpenID provider Convene did not write
//!   (Node's `oidc-provider`), for tenant mode (`entra_op`);
//! - `app`: the real app in a WebDriver session through tauri-driver
//!   (`app`), and alice in the app with bob at a terminal (`scene`);
//! - `server-api`: the server crate's helpers (`server_api`): its binary
//!   with exact arguments, and clients of its dev issuer and Graph API.
//!
//! Helpers that drive `convene-core` itself (a signed-in `Client`, the
//! keyring's sessions) live in `convene-e2e`'s library instead: this crate
//! stays below every Convene crate, so that `convene-core` and
//! `convene-media` can dev-depend on it without a cycle.

pub mod coturn;
pub mod dunst;
pub mod pipewire;
pub mod pulse;
pub mod wait;

#[cfg(feature = "processes")]
pub mod dev_server;
#[cfg(feature = "processes")]
pub mod procs;
#[cfg(feature = "processes")]
pub mod terminal;
#[cfg(feature = "processes")]
pub mod workspace;
#[cfg(feature = "processes")]
pub use workspace::{
    artifacts_dir, binaries_dir, free_port, repo_root, scripted_browser, terminate,
    text_files_under, wait_for_port, workspace_binary,
};

#[cfg(feature = "browser")]
pub mod browser;

#[cfg(feature = "entra-op")]
pub mod entra_op;

#[cfg(feature = "app")]
pub mod app;
#[cfg(feature = "app")]
pub mod scene;

#[cfg(feature = "server-api")]
pub mod server_api;
