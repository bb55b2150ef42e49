//! The live channel: one WebSocket per signed-in client at [`LIVE_PATH`],
//! authenticated with the communication token (`Authorization: Bearer`).
//!
//! It carries hints, never content: a client told that a chat changed
//! fetches the change through the Graph-shaped REST API, so the code above
//! the transport is the same whether hints arrive here or a poll against
//! real Graph finds them. Call signaling travels on the same socket
//! (`callInvite` and the other `call*` frames, payloads in `crate::call`).
//!
//! Frames are JSON text messages tagged by `type`. A frame of a type the
//! reader does not know decodes as `Unknown` and is skipped, so either side
//! can add frame types without breaking the other.

use serde::{Deserialize, Serialize};

use crate::call;

/// Where the live WebSocket listens on convene-server.
pub const LIVE_PATH: &str = "/v1/live";

/// The largest message a client may send on the live channel, in bytes of
/// JSON (one WebSocket message, however it is fragmented). It leaves room
/// for an SDP with many candidates: a browser's audio and video offer is
/// 5 to 10 KB. The server closes a socket that sends a larger one.
pub const MAX_CLIENT_FRAME_BYTES: usize = 64 * 1024;

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
    /// Call signaling (`crate::call`, `docs/protocol.md`): start a call.
    CallInvite(call::Invite),
    /// A callee's device is ringing.
    CallRinging(call::CallRef),
    /// A callee's device answers with its SDP answer.
    CallAccept(call::Accept),
    /// A callee's device declines (the call ends for every device).
    CallDecline(call::CallRef),
    /// The caller gives up before an answer.
    CallCancel(call::CallRef),
    /// Either bound device ends a connected call.
    CallHangup(call::CallRef),
    /// A trickled ICE candidate, or the end of them.
    CallCandidate(call::Candidate),
    /// Renegotiation: a new offer mid-call…
    CallOffer(call::Negotiation),
    /// …and its answer.
    CallAnswer(call::Negotiation),
    /// After a reconnect: take the call back on this socket.
    CallResume(call::CallRef),
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
    /// A call rings on this device.
    CallIncoming(call::Incoming),
    /// To the caller: a callee's device is ringing.
    CallRinging(call::CallRef),
    /// To the caller: the callee answered (the SDP answer).
    CallAccepted(call::Accept),
    /// To the callee's other devices: one of them answered; stop ringing.
    CallAnsweredElsewhere(call::CallRef),
    /// To the callee's other devices: one of them declined; stop ringing.
    CallDeclinedElsewhere(call::CallRef),
    /// The call is over, with how it ended.
    CallEnded(call::Ended),
    /// The other device's candidate (or end of candidates).
    CallCandidate(call::Candidate),
    /// The other device's renegotiation offer…
    CallOffer(call::Negotiation),
    /// …or answer.
    CallAnswer(call::Negotiation),
    /// The answer to `callResume`.
    CallState(call::State),
    /// A call frame from this socket was refused.
    CallError(call::CallError),
    #[serde(other)]
    Unknown,
}

impl ServerFrame {
    /// Call signaling, as opposed to chat hints, typing and presence.
    pub fn is_call(&self) -> bool {
        matches!(
            self,
            ServerFrame::CallIncoming(_)
                | ServerFrame::CallRinging(_)
                | ServerFrame::CallAccepted(_)
                | ServerFrame::CallAnsweredElsewhere(_)
                | ServerFrame::CallDeclinedElsewhere(_)
                | ServerFrame::CallEnded(_)
                | ServerFrame::CallCandidate(_)
                | ServerFrame::CallOffer(_)
                | ServerFrame::CallAnswer(_)
                | ServerFrame::CallState(_)
                | ServerFrame::CallError(_)
        )
    }
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
        let frame: ServerFrame =
            serde_json::from_str(r#"{"type":"someFutureFrame","sdp":"x"}"#).unwrap();
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

#[cfg(test)]
mod call_tests {
    use super::*;
    use crate::call::*;

    #[test]
    fn call_frames_have_their_documented_json() {
        let invite: ClientFrame = serde_json::from_str(
            r#"{"type":"callInvite","version":1,"callId":"6f1c","callee":"8:orgid:b0b","media":["audio","video"],"sdp":"v=0"}"#,
        )
        .unwrap();
        assert_eq!(
            invite,
            ClientFrame::CallInvite(Invite {
                version: CALL_PROTOCOL_VERSION,
                call_id: "6f1c".into(),
                callee: "8:orgid:b0b".into(),
                media: vec![MediaKind::Audio, MediaKind::Video],
                sdp: "v=0".into(),
            })
        );
        let ended = ServerFrame::CallEnded(Ended {
            call_id: "6f1c".into(),
            outcome: CallOutcome::NoAnswer,
        });
        assert_eq!(
            serde_json::to_string(&ended).unwrap(),
            r#"{"type":"callEnded","callId":"6f1c","outcome":"noAnswer"}"#
        );
        let end: ClientFrame =
            serde_json::from_str(r#"{"type":"callCandidate","callId":"6f1c","candidate":null}"#)
                .unwrap();
        assert_eq!(
            end,
            ClientFrame::CallCandidate(Candidate {
                call_id: "6f1c".into(),
                candidate: None
            })
        );
        let unknown: ClientFrame =
            serde_json::from_str(r#"{"type":"callTransfer","callId":"6f1c"}"#).unwrap();
        assert_eq!(unknown, ClientFrame::Unknown);
    }
}
