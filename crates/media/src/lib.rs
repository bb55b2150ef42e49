//! Convene media: where audio and video come from and go to.
//!
//! Sources and sinks sit behind small traits so that devices, files and
//! synthetic generators are interchangeable; tests and the CLI use the
//! synthetic ones. Codecs: Opus for audio and VP8 for video, both through
//! the system libraries (Debian's libopus and libvpx); echo cancellation
//! and noise suppression through WebRTC's audio processing module; sound
//! devices through cpal.

pub mod apm;
pub mod audio;
#[cfg(target_os = "linux")]
pub mod camera;
pub mod devices;
pub mod error;
pub mod failover;
pub mod mute;
pub mod opus;
pub mod resample;
pub mod tone;
pub mod video;
pub mod vp8;
pub mod wav;

pub use apm::{AudioProcessor, EchoCancelled, EchoReference, APM_FRAME_SAMPLES};
pub use audio::{AudioFormat, AudioFrame, AudioSink, AudioSource};
pub use devices::{
    audio_devices, AudioDevice, DeviceInput, DeviceKind, DeviceOutput, DeviceWatcher,
};
pub use error::MediaError;
pub use failover::{DeviceChoice, FailoverInput, FailoverOutput};
pub use mute::MutableSource;
pub use opus::{
    opus_packet_samples, OpusDecoder, OpusEncoder, OPUS_DEFAULT_BITRATE, OPUS_FRAME_SAMPLES,
    OPUS_SAMPLE_RATE,
};
pub use resample::LinearResampler;
pub use tone::{tone_power, ToneSource};
pub use video::{
    i420_len, pattern_index, psnr, scale_to_rgba, PatternSource, VideoFrame, VideoSource,
};
pub use vp8::{EncodedFrame, Vp8Config, Vp8Decoder, Vp8Encoder};
pub use wav::{read_wav_mono, WavRecorder, WavSource};
