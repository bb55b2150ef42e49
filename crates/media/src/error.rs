//! One error type for the whole crate, so callers match on what went wrong
//! rather than on which library said it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    #[error("{codec} codec could not be initialised: {reason}")]
    CodecInit { codec: &'static str, reason: String },
    #[error("{codec} could not encode: {reason}")]
    Encode { codec: &'static str, reason: String },
    #[error("{codec} could not decode: {reason}")]
    Decode { codec: &'static str, reason: String },
    #[error("invalid {what}: {reason}")]
    InvalidInput { what: &'static str, reason: String },
    #[error("bad WAV file {path}: {reason}")]
    BadWav { path: PathBuf, reason: String },
    #[error("could not write WAV file {path}: {reason}")]
    WavWrite { path: PathBuf, reason: String },
    #[error("device not found: {0}")]
    DeviceNotFound(String),
    #[error("device {device}: {reason}")]
    Device { device: String, reason: String },
    #[error("audio processing: {0}")]
    Processing(String),
}
