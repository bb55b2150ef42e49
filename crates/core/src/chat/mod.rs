//! Chat: message content and, as the chat work lands, the Graph client,
//! the local cache and the outbox.

pub mod cache;
pub mod graph;
pub mod sanitize;
pub mod time;
pub mod view;

pub use graph::{GraphChats, GraphError};
pub use sanitize::{plain_text_to_html, preview_text, sanitize_message_html};
