//! Chat for one signed-in account: the Graph client, the local cache, the
//! outbox, the sync worker fed by the live channel's hints, and the
//! sanitiser for message HTML. [`ChatService`] owns them and is what the
//! app and the CLI talk to; it reports what changed as [`ChatEvent`]s.

pub mod cache;
mod engine;
pub mod event;
pub mod graph;
mod outbox;
pub mod sanitize;
pub mod service;
mod sync;
pub mod time;
pub mod view;

pub use engine::ChatError;
pub use event::ChatEvent;
pub use graph::{GraphChats, GraphError};
pub use sanitize::{plain_text_to_html, preview_text, sanitize_message_html};
pub use service::{ChatService, ChatSetup, ChatStorage};
pub use sync::PollTiming;
