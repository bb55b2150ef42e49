//! The one ordered stream of events from a client to whoever drives it (the
//! desktop shell, the CLI, a test).

use serde::Serialize;
use tokio::sync::mpsc;

use crate::call::CallView;
use crate::chat::view::{ChatSummary, Person, ThreadMessage};
use crate::chat::ChatEvent;
use crate::connection::ConnectionStatus;
use crate::error::UserError;
use crate::session::AccountProfile;

/// Something that happened in the client. New kinds are added as features
/// land, so match with a wildcard arm.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "type", rename_all = "camelCase")]
#[non_exhaustive]
pub enum ClientEvent {
    /// The connection to the server changed.
    Connection { status: ConnectionStatus },
    /// An interactive sign-in moved on.
    SignIn { progress: SignInProgress },
    /// The account in use changed (`None`: nobody is signed in).
    Account { account: Option<AccountProfile> },
    /// The account's session ended (revoked, expired, password changed):
    /// it needs a new sign-in; nothing else is lost.
    SessionExpired { account: AccountProfile },
    /// The account needs the person in the browser once, to approve what
    /// Convene asks for (`purpose`, in words for a prompt); it stays
    /// signed in, and what needs the approval waits for it.
    InteractionRequired {
        account: AccountProfile,
        purpose: String,
    },
    /// Chats were added or changed (new message, unread count, members):
    /// replace these rows of the chat list.
    Chats { chats: Vec<ChatSummary> },
    /// Messages of one chat were added or changed (arrived, edited,
    /// deleted, reacted to, sent, failed): replace them by `key`.
    #[serde(rename_all = "camelCase")]
    Messages {
        chat_id: String,
        messages: Vec<ThreadMessage>,
    },
    /// Someone else just wrote a message: the moment for a notification.
    Incoming {
        chat: Box<ChatSummary>,
        message: Box<ThreadMessage>,
    },
    /// Someone is typing in a chat (true for a few seconds).
    #[serde(rename_all = "camelCase")]
    Typing { chat_id: String, person: Person },
    /// Unread messages over all chats, for the tray and the taskbar.
    Unread { total: u32 },
    /// A call rang, was answered, connected, changed or ended.
    Call { call: Box<CallView> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum SignInProgress {
    /// The browser is open on the sign-in page.
    WaitingForBrowser,
    SignedIn,
    Cancelled,
    Failed {
        error: UserError,
    },
}

impl From<ChatEvent> for ClientEvent {
    fn from(event: ChatEvent) -> Self {
        match event {
            ChatEvent::Chats { chats } => ClientEvent::Chats { chats },
            ChatEvent::Messages { chat_id, messages } => {
                ClientEvent::Messages { chat_id, messages }
            }
            ChatEvent::Incoming { chat, message } => ClientEvent::Incoming { chat, message },
            ChatEvent::Typing { chat_id, person } => ClientEvent::Typing { chat_id, person },
            ChatEvent::Unread { total } => ClientEvent::Unread { total },
            ChatEvent::SessionExpired { account } => ClientEvent::SessionExpired { account },
        }
    }
}

impl From<ConnectionStatus> for ClientEvent {
    fn from(status: ConnectionStatus) -> Self {
        ClientEvent::Connection { status }
    }
}

/// Receives a client's events in the order they happened.
#[derive(Debug)]
pub struct EventStream(pub(crate) mpsc::UnboundedReceiver<ClientEvent>);

impl EventStream {
    /// The next event; `None` once the client is gone.
    pub async fn next(&mut self) -> Option<ClientEvent> {
        self.0.recv().await
    }
}
