//! The one ordered stream of events from a client to whoever drives it (the
//! desktop shell, the CLI, a test).

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::connection::ConnectionStatus;

/// Something that happened in the client. New kinds are added as features
/// land, so match with a wildcard arm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "type", rename_all = "camelCase")]
#[non_exhaustive]
pub enum ClientEvent {
    /// The connection to the server changed.
    Connection { status: ConnectionStatus },
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
