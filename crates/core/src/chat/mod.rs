//! Chat: message content and, as the chat work lands, the Graph client,
//! the local cache and the outbox.

pub mod cache;
mod engine;
pub mod graph;
pub mod live;
mod outbox;
pub mod sanitize;
pub mod service;
mod sync;
pub mod time;
pub mod view;

pub use engine::ChatError;
pub use graph::{GraphChats, GraphError};
pub use sanitize::{plain_text_to_html, preview_text, sanitize_message_html};
pub use service::{ChatService, ChatSetup, ChatStorage};
pub use sync::PollTiming;
