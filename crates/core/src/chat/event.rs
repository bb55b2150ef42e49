//! What chat reports as it happens; the client passes each on as the
//! [`ClientEvent`](crate::ClientEvent) of the same name.

use super::view::{ChatSummary, Person, ThreadMessage};
use crate::session::AccountProfile;

#[derive(Debug, Clone, PartialEq)]
pub enum ChatEvent {
    /// Chats were added or changed: replace these rows of the chat list.
    Chats { chats: Vec<ChatSummary> },
    /// Messages of one chat were added or changed: replace them by `key`.
    Messages {
        chat_id: String,
        messages: Vec<ThreadMessage>,
    },
    /// Someone else just wrote a message: the moment for a notification.
    Incoming {
        chat: Box<ChatSummary>,
        message: Box<ThreadMessage>,
    },
    /// Someone is typing in a chat.
    Typing { chat_id: String, person: Person },
    /// Unread messages over all chats.
    Unread { total: u32 },
    /// The account's session ended while chat used it.
    SessionExpired { account: AccountProfile },
}
