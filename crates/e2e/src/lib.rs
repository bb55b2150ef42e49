//! Convene end to end, across the client core, the CLI and the server,
//! without the desktop app: this crate's tests (`tests/`) and the helpers
//! they share, which drive `convene-core` itself.
//!
//! - [`call_net`]: client call machines stepped through the server's call
//!   registry on one simulated clock (`tests/call_outcomes.rs`);
//! - [`chat`]: a person using the chat engine through a real `Client`;
//! - [`sessions`]: the test session's keyring, and ending a session behind
//!   the client's back;
//! - [`voice`]: what a person says, as WAV files for `--audio file:…`.
//!
//! The `scripted_browser` binary (`src/bin/scripted_browser.rs`) is the
//! `$BROWSER` these tests and the app's give `convene-cli` and the app: it
//! is built with the workspace (`cargo build --workspace`) and with this
//! crate's tests. Process-level helpers that need no Convene crate (a dev
//! server, a person at a terminal, waiting) are in `convene-test-support`.

pub mod call_net;
pub mod chat;
pub mod sessions;
pub mod voice;

pub use call_net::{CallNet, Device, DeviceId};
