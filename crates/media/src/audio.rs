//! Audio frames and the source trait.

/// Sample rate and channel count of a stream of frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioFormat {
    pub sample_rate: u32,
    pub channels: u16,
}

impl AudioFormat {
    /// What Opus runs at: 48 kHz mono.
    pub const OPUS_MONO: AudioFormat = AudioFormat {
        sample_rate: 48_000,
        channels: 1,
    };

    /// Samples per channel in `millis` milliseconds.
    pub fn samples_per_channel(&self, millis: u32) -> usize {
        (self.sample_rate as u64 * millis as u64 / 1000) as usize
    }
}

/// Interleaved signed 16-bit PCM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioFrame {
    pub format: AudioFormat,
    pub samples: Vec<i16>,
}

/// Something that produces audio, one frame at a time: a microphone, a
/// file, a generator.
pub trait AudioSource: Send {
    fn format(&self) -> AudioFormat;
    /// Fills the next frame of `millis` milliseconds; `None` at the end of
    /// the source.
    fn next_frame(&mut self, millis: u32) -> Option<AudioFrame>;
}

/// Something that plays audio: a speaker, a file, a test recorder.
pub trait AudioSink: Send {
    fn format(&self) -> AudioFormat;
    /// Takes one frame; a device sink must not block the caller for long.
    fn play(&mut self, frame: &AudioFrame);
}
