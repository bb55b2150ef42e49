//! Convene media: where audio and video come from and go to.
//!
//! Sources and sinks sit behind small traits so that devices, files and
//! synthetic generators are interchangeable; tests and the CLI use the
//! synthetic ones. This crate starts with audio: frames, a sine-tone source,
//! and a Goertzel detector that tells which tone a recording holds.

pub mod audio;
pub mod tone;

pub use audio::{AudioFormat, AudioFrame, AudioSource};
pub use tone::{tone_power, ToneSource};
