//! What the UI and the CLI see of a call.

use convene_proto::call::MediaKind;
use serde::{Deserialize, Serialize};

use super::quality::CallQuality;

/// Where a call stands, from this device's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum CallStage {
    /// We placed the call; the server has not reached a device yet.
    Calling,
    /// We placed the call and the other side's device rings.
    Ringing,
    /// The other side calls us; we have not answered.
    Incoming,
    /// Answered; media is being set up.
    Connecting,
    Connected,
    /// Media stopped flowing; trying to get it back without hanging up.
    Reconnecting,
    Ended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum CallSide {
    Outgoing,
    Incoming,
}

/// Why a call ended, as a person would say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum EndReason {
    /// This side hung up (or cancelled, or declined).
    HungUp,
    /// The other side hung up.
    RemoteHungUp,
    /// The other side declined.
    Declined,
    /// The other side gave up before we answered.
    Cancelled,
    /// The other side is in another call.
    Busy,
    NoAnswer,
    /// The other side is not signed in anywhere.
    Unavailable,
    /// Another of our devices answered.
    AnsweredElsewhere,
    /// Another of our devices declined.
    DeclinedElsewhere,
    /// The connection could not be made or was lost for good.
    Failed,
}

/// The person on the other end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CallPeer {
    /// Entra object id.
    pub user_id: String,
    pub name: Option<String>,
}

/// A call as shown: one of these is sent on every change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CallView {
    pub call_id: String,
    pub peer: CallPeer,
    pub side: CallSide,
    pub stage: CallStage,
    /// What the call was placed with.
    pub media: Vec<MediaKind>,
    pub muted: bool,
    pub camera_on: bool,
    /// The other side's video is arriving.
    pub remote_video: bool,
    /// Unix time in milliseconds when media first flowed (for the duration).
    pub connected_at_ms: Option<f64>,
    pub ended: Option<EndReason>,
    /// Why it failed, in words, when it did.
    pub error: Option<String>,
    pub quality: Option<CallQuality>,
}

/// How long setting up took, in milliseconds (`convene-cli --json`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CallTimings {
    /// Placing the call until the other device rang.
    pub ringing_ms: Option<f64>,
    /// Answering (callee) or hearing of the answer (caller) until media connected.
    pub connect_ms: Option<f64>,
    /// Answering (or hearing of the answer) until the first decoded audio.
    pub setup_ms: Option<f64>,
    /// Answering (or hearing of the answer) until the first decoded video frame.
    pub first_video_ms: Option<f64>,
}

/// A call's figures at its end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CallReport {
    pub view: CallView,
    pub timings: CallTimings,
    /// The other side's audio played, and how much of it came in packets
    /// (less while the other side was silent: DTX).
    pub audio_played_ms: u64,
    pub audio_received_ms: u64,
    pub audio_packets_received: u64,
    pub video_frames_decoded: u64,
    pub duration_secs: f64,
}
