//! Call signaling: the payloads of the `call*` frames on the live WebSocket
//! ([`crate::live`]), the call history and the ICE servers endpoints.
//!
//! A call is addressed to a user (`8:orgid:{oid}`) and rings on every
//! connected device of that user; the first device to accept is bound to
//! the call and from then on frames go only between the caller's device and
//! that one. `docs/protocol.md` describes the whole exchange.
//!
//! The JSON spellings are a contract (camelCase, `type`-tagged frames).
//! [`CALL_PROTOCOL_VERSION`] travels in `callInvite` and `callIncoming`; a
//! server refuses an invite of another version with `callError`
//! `unsupportedVersion`.

use serde::{Deserialize, Serialize};

/// Version of the call signaling protocol described here.
pub const CALL_PROTOCOL_VERSION: u32 = 1;

/// `GET`: the signed-in user's calls, newest first ([`CallHistory`]).
pub const CALLS_PATH: &str = "/v1/calls";

/// `GET`: STUN and TURN servers with short-lived credentials ([`IceServers`]).
pub const ICE_SERVERS_PATH: &str = "/v1/ice-servers";

/// What a call carries.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MediaKind {
    Audio,
    Video,
    #[serde(other)]
    Unknown,
}

/// An SDP offer or answer, as `RTCSessionDescription.sdp`.
pub type Sdp = String;

/// One trickled ICE candidate, as a browser's `RTCIceCandidateInit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IceCandidate {
    /// The `candidate:…` line, without `a=`.
    pub candidate: String,
    #[serde(default)]
    pub sdp_mid: Option<String>,
    #[serde(default)]
    pub sdp_m_line_index: Option<u16>,
}

/// The caller starts a call (client → server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invite {
    /// Must be [`CALL_PROTOCOL_VERSION`].
    pub version: u32,
    /// Chosen by the caller: a random UUID.
    pub call_id: String,
    /// `8:orgid:{oid}`.
    pub callee: String,
    pub media: Vec<MediaKind>,
    /// The SDP offer.
    pub sdp: Sdp,
}

/// A call rings on one of the callee's devices (server → client).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Incoming {
    pub version: u32,
    pub call_id: String,
    /// `8:orgid:{oid}` of the caller.
    pub caller: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_name: Option<String>,
    pub media: Vec<MediaKind>,
    /// The caller's SDP offer.
    pub sdp: Sdp,
}

/// A frame that names only its call (ringing, decline, cancel, hangup,
/// resume, answered/declined elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRef {
    pub call_id: String,
}

/// The callee's device accepts (client → server), or the caller hears that
/// it did (server → client).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Accept {
    pub call_id: String,
    /// The SDP answer.
    pub sdp: Sdp,
    /// What the callee sends back; absent means the same as the invite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Vec<MediaKind>>,
}

/// A trickled candidate, or (with `candidate` null or absent) the end of
/// candidates, relayed to the other bound device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    pub call_id: String,
    #[serde(default)]
    pub candidate: Option<IceCandidate>,
}

/// Mid-call renegotiation (video on/off, ICE restart): an offer or its
/// answer, relayed to the other bound device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Negotiation {
    pub call_id: String,
    pub sdp: Sdp,
    /// Media after this offer, when it changes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Vec<MediaKind>>,
}

/// How a call ended.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CallOutcome {
    /// Answered, then one side hung up.
    HungUp,
    /// The callee declined.
    Declined,
    /// The caller gave up before an answer.
    Cancelled,
    /// The callee was already in a call.
    Busy,
    /// Nobody answered within the ring timeout.
    NoAnswer,
    /// The callee had no connected device.
    Unavailable,
    /// A device vanished and did not resume within the grace period.
    Failed,
    #[serde(other)]
    Unknown,
}

impl CallOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::HungUp => "hungUp",
            CallOutcome::Declined => "declined",
            CallOutcome::Cancelled => "cancelled",
            CallOutcome::Busy => "busy",
            CallOutcome::NoAnswer => "noAnswer",
            CallOutcome::Unavailable => "unavailable",
            CallOutcome::Failed => "failed",
            CallOutcome::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "hungUp" => CallOutcome::HungUp,
            "declined" => CallOutcome::Declined,
            "cancelled" => CallOutcome::Cancelled,
            "busy" => CallOutcome::Busy,
            "noAnswer" => CallOutcome::NoAnswer,
            "unavailable" => CallOutcome::Unavailable,
            "failed" => CallOutcome::Failed,
            _ => CallOutcome::Unknown,
        }
    }
}

/// The call is over (server → client).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ended {
    pub call_id: String,
    pub outcome: CallOutcome,
}

/// Where a call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CallPhase {
    Ringing,
    Connected,
    Ended,
    #[serde(other)]
    Unknown,
}

/// Which side of the call a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CallRole {
    Caller,
    Callee,
    #[serde(other)]
    Unknown,
}

/// The answer to `callResume` (server → client).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub call_id: String,
    pub state: CallPhase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<CallRole>,
    /// `8:orgid:{oid}` of the other side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<MediaKind>,
    /// Set when `state` is `ended`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<CallOutcome>,
}

/// A call frame the server refused (server → client, to its sender only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    pub code: CallErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CallErrorCode {
    /// `callInvite` of another [`CALL_PROTOCOL_VERSION`].
    UnsupportedVersion,
    /// A malformed frame: a call id that is not a UUID, a callee that is
    /// not `8:orgid:{oid}`, no media.
    BadRequest,
    /// The call id is already taken.
    CallIdInUse,
    /// No such call, or the sender is not one of its devices.
    NotInCall,
    /// The frame does not fit the call's state (accept when connected…).
    WrongState,
    #[serde(other)]
    Unknown,
}

/// One call of `GET /v1/calls`.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRecord {
    pub id: String,
    /// `8:orgid:{oid}`.
    pub caller: String,
    pub callee: String,
    /// `outgoing` if the signed-in user placed it, else `incoming`.
    pub direction: CallDirection,
    pub media: Vec<MediaKind>,
    /// RFC 3339, UTC.
    pub started_at: String,
    #[serde(default)]
    pub answered_at: Option<String>,
    /// Absent (null) while the call goes on.
    #[serde(default)]
    pub ended_at: Option<String>,
    /// From answer to end, whole seconds; 0 if never answered.
    #[serde(default)]
    pub duration_secs: Option<u64>,
    #[serde(default)]
    pub outcome: Option<CallOutcome>,
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CallDirection {
    Outgoing,
    Incoming,
    #[serde(other)]
    Unknown,
}

/// `GET /v1/calls`: newest first, a page at a time (`$top`, default
/// [`CALLS_PAGE`], at most [`CALLS_PAGE_MAX`]); the next page is at
/// `@odata.nextLink`, as in Graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallHistory {
    pub value: Vec<CallRecord>,
    #[serde(
        rename = "@odata.nextLink",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub next_link: Option<String>,
}

/// Calls in a page of `GET /v1/calls` without `$top`.
pub const CALLS_PAGE: usize = 50;
/// The most `$top` may ask for.
pub const CALLS_PAGE_MAX: usize = 200;

/// One entry of [`IceServers`], shaped as a browser's `RTCIceServer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// `GET /v1/ice-servers`: pass `ice_servers` to `RTCPeerConnection` as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IceServers {
    pub ice_servers: Vec<IceServer>,
    /// Seconds the TURN credential stays valid from now.
    pub ttl_secs: u64,
    /// Unix time (seconds) when it expires; fetch new ones before then.
    pub expires_at: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip_their_names() {
        for outcome in [
            CallOutcome::HungUp,
            CallOutcome::Declined,
            CallOutcome::Cancelled,
            CallOutcome::Busy,
            CallOutcome::NoAnswer,
            CallOutcome::Unavailable,
            CallOutcome::Failed,
        ] {
            assert_eq!(
                serde_json::to_string(&outcome).unwrap(),
                format!("\"{}\"", outcome.as_str())
            );
            assert_eq!(CallOutcome::parse(outcome.as_str()), outcome);
        }
        assert_eq!(CallOutcome::parse("later"), CallOutcome::Unknown);
    }

    #[test]
    fn a_browser_candidate_decodes() {
        let c: Candidate = serde_json::from_str(
            r#"{"callId":"c","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"x"}}"#,
        )
        .unwrap();
        assert_eq!(c.candidate.unwrap().sdp_m_line_index, Some(0));
        let end: Candidate = serde_json::from_str(r#"{"callId":"c","candidate":null}"#).unwrap();
        assert_eq!(end.candidate, None);
    }

    #[test]
    fn the_end_of_candidates_is_a_null_candidate() {
        // Absent reads as null too; it is written as null, as browsers do.
        let absent: Candidate = serde_json::from_str(r#"{"callId":"c"}"#).unwrap();
        assert_eq!(absent.candidate, None);
        let end = Candidate {
            call_id: "c".into(),
            candidate: None,
        };
        assert_eq!(
            serde_json::to_string(&end).unwrap(),
            r#"{"callId":"c","candidate":null}"#
        );
        // A candidate without a mid (a stack that gives only the index).
        let c: Candidate = serde_json::from_str(
            r#"{"callId":"c","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 5000 typ host","sdpMLineIndex":0}}"#,
        )
        .unwrap();
        assert_eq!(c.candidate.unwrap().sdp_mid, None);
    }
}
