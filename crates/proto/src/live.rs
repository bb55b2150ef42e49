//! The live channel: one WebSocket per signed-in client at [`LIVE_PATH`],
//! authenticated with the communication token (`Authorization: Bearer`).
//!
//! It carries hints, never content: a client told that a chat changed
//! fetches the change through the Graph-shaped REST API, so the code above
//! the transport is the same whether hints arrive here or a poll against
//! real Graph finds them. Call signaling will travel on the same socket.
//!
//! Frames are JSON text messages tagged by `type`. A frame of a type the
//! reader does not know decodes as `Unknown` and is skipped, so either side
//! can add frame types without breaking the other.

use serde::{Deserialize, Serialize};

/// Where the live WebSocket listens on convene-server.
pub const LIVE_PATH: &str = "/v1/live";

/// How long a typing notification stays true unless repeated. Clients
/// repeat `typing` at most every [`TYPING_REPEAT_SECS`] while the user types.
pub const TYPING_TTL_SECS: u64 = 6;
pub const TYPING_REPEAT_SECS: u64 = 3;

/// What the client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ClientFrame {
    /// The user is typing in `chat_id`. The server forwards it to the
    /// chat's other members; a non-member's frame is dropped.
    #[serde(rename_all = "camelCase")]
    Typing { chat_id: String },
    #[serde(other)]
    Unknown,
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ServerFrame {
    /// First frame after the upgrade: who the socket belongs to.
    #[serde(rename_all = "camelCase")]
    Hello {
        /// The caller's Entra object id.
        user_id: String,
        protocol: u32,
    },
    /// Something in a chat the user is a member of changed: fetch it.
    #[serde(rename_all = "camelCase")]
    ChatChanged {
        chat_id: String,
        /// The message concerned, when the change is about one message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<String>,
        change: ChangeKind,
    },
    /// Another member is typing in `chat_id`.
    #[serde(rename_all = "camelCase")]
    Typing {
        chat_id: String,
        /// The typist's Entra object id.
        user_id: String,
        #[serde(default)]
        display_name: Option<String>,
    },
    /// A user's presence changed (someone the client may be showing).
    #[serde(rename_all = "camelCase")]
    PresenceChanged {
        user_id: String,
        availability: String,
        activity: String,
    },
    #[serde(other)]
    Unknown,
}

/// What kind of change a [`ServerFrame::ChatChanged`] hints at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeKind {
    /// A new chat, or new members, or a new topic.
    Chat,
    MessageCreated,
    /// Edited, deleted, undeleted or reacted to.
    MessageUpdated,
    /// A member's read viewpoint moved (read receipts).
    Read,
    #[serde(other)]
    Unknown,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_have_their_documented_json() {
        let frame = ServerFrame::ChatChanged {
            chat_id: "19:a".into(),
            message_id: Some("1700000000000".into()),
            change: ChangeKind::MessageCreated,
        };
        assert_eq!(
            serde_json::to_string(&frame).unwrap(),
            r#"{"type":"chatChanged","chatId":"19:a","messageId":"1700000000000","change":"messageCreated"}"#
        );
        let typing: ClientFrame =
            serde_json::from_str(r#"{"type":"typing","chatId":"19:a"}"#).unwrap();
        assert_eq!(
            typing,
            ClientFrame::Typing {
                chat_id: "19:a".into()
            }
        );
    }

    #[test]
    fn unknown_frames_are_skippable_not_errors() {
        let frame: ServerFrame = serde_json::from_str(r#"{"type":"callOffer","sdp":"x"}"#).unwrap();
        assert_eq!(frame, ServerFrame::Unknown);
        let frame: ServerFrame = serde_json::from_str(
            r#"{"type":"chatChanged","chatId":"19:a","change":"somethingNew"}"#,
        )
        .unwrap();
        assert!(matches!(
            frame,
            ServerFrame::ChatChanged {
                change: ChangeKind::Unknown,
                ..
            }
        ));
    }
}
