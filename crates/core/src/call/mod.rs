//! 1:1 calls: signaling over the live channel to convene-server, media
//! over WebRTC (webrtc-rs) between the two devices, codecs and devices from
//! `convene-media`. See docs/protocol.md for the signaling.
//!
//! Start reading at [`machine`] (what a call does, sans-IO) and
//! [`engine`] (the task that runs it: peer connection, live channel, media).
//! A desktop's devices are in [`devices`]: [`sound`] pairs its microphone
//! and speaker through one echo canceller, [`outlets`] holds decoded video
//! for its window.

pub mod device_watch;
pub mod devices;
pub mod dtx;
pub mod engine;
pub mod history;
pub mod ice;
pub mod jitter;
pub mod keyframe;
pub mod machine;
pub mod media;
pub mod outlets;
pub mod pace;
pub mod peer;
pub mod quality;
pub mod report;
pub mod runtime;
pub mod sim;
pub mod sound;
pub mod view;

pub use convene_proto::call::{CallDirection, CallOutcome, MediaKind};
pub use device_watch::{AudioDeviceInfo, CameraDeviceInfo, DeviceListChange};
pub use devices::DesktopDevices;
pub use engine::{CallEngine, CallSetup};
pub use history::CallHistoryEntry;
pub use ice::IceSource;
pub use machine::CallError;
pub use media::{AudioInput, MediaDevices, VideoInput};
pub use outlets::{VideoPacket, VideoStream, WAIT_FOR_FRAME};
pub use quality::{CallQuality, QualityRating};
pub use sound::SoundDevices;
pub use view::{CallPeer, CallReport, CallSide, CallStage, CallTimings, CallView, EndReason};
