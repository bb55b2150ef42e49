//! Muting without stopping: the call keeps sending frames at the same pace,
//! only silent, so the far side's jitter buffer and our RTP timestamps are
//! undisturbed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::audio::{AudioFormat, AudioFrame, AudioSource};

/// Wraps an [`AudioSource`]; while the shared flag is set it emits silence
/// of the same length instead of the inner source's samples.
pub struct MutableSource<S> {
    inner: S,
    muted: Arc<AtomicBool>,
}

impl<S: AudioSource> MutableSource<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            muted: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The shared flag: store `true` to mute, `false` to unmute, from any
    /// thread.
    pub fn mute_handle(&self) -> Arc<AtomicBool> {
        self.muted.clone()
    }

    pub fn set_muted(&self, muted: bool) {
        self.muted.store(muted, Ordering::Relaxed);
    }

    pub fn is_muted(&self) -> bool {
        self.muted.load(Ordering::Relaxed)
    }

    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: AudioSource> AudioSource for MutableSource<S> {
    fn format(&self) -> AudioFormat {
        self.inner.format()
    }

    fn next_frame(&mut self, millis: u32) -> Option<AudioFrame> {
        // Still pull from the inner source: a microphone's buffer must keep
        // draining and a file must keep advancing while muted.
        let mut frame = self.inner.next_frame(millis)?;
        if self.muted.load(Ordering::Relaxed) {
            frame.samples.fill(0);
        }
        Some(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::{tone_power, ToneSource};

    #[test]
    fn muting_gives_silence_of_the_same_length_and_unmuting_restores_the_tone() {
        let tone = ToneSource::new(AudioFormat::OPUS_MONO, 440.0, 0.5);
        let mut source = MutableSource::new(tone);
        let handle = source.mute_handle();

        let before = source.next_frame(20).unwrap();
        assert!(tone_power(&before.samples, 48_000, 440.0) > 0.2);

        handle.store(true, Ordering::Relaxed);
        assert!(source.is_muted());
        let muted = source.next_frame(20).unwrap();
        assert_eq!(muted.samples.len(), 960);
        assert!(muted.samples.iter().all(|&s| s == 0));

        source.set_muted(false);
        let after = source.next_frame(20).unwrap();
        assert!(tone_power(&after.samples, 48_000, 440.0) > 0.2);
    }
}
