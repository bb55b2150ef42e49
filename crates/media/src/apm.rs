//! Echo cancellation and noise suppression: WebRTC's AudioProcessing
//! module, as packaged by PulseAudio (Debian's libwebrtc-audio-processing,
//! 0.3) through the `webrtc-audio-processing` 0.5 crate. Later versions of
//! that crate need the 1.x/2.x library, which Debian 12 does not ship.
//!
//! The module works in 10 ms frames at 48 kHz mono. The playback side
//! feeds what goes to the speaker (`process_render`), the capture side
//! cleans what the microphone heard (`process_capture`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use webrtc_audio_processing as apm;

use crate::audio::{AudioFormat, AudioFrame, AudioSink, AudioSource};
use crate::error::MediaError;
use crate::resample::{f32_to_i16, i16_to_f32};

/// 10 ms at 48 kHz: the module's frame.
pub const APM_FRAME_SAMPLES: usize = 480;
/// Played frames held back at most (100 ms) waiting for microphone frames
/// to interleave with; past that (no capture running) they go in at once.
const MOST_RENDER_HELD: usize = 10;

/// Echo cancellation (delay-agnostic, so the device latency need not be
/// known) and noise suppression, with a high-pass filter for rumble. Gain
/// control stays off: it would undo the user's own level and make test
/// tones unpredictable.
///
/// Clones share one module: give one to the playback thread for
/// [`process_render`](Self::process_render) and keep one for capture.
///
/// The canceller tracks the echo best when played and captured frames
/// reach it in turn, one each, while a call hands them over in bursts (a
/// 40 ms packet is four frames). Played frames therefore wait in a queue
/// and go in one before each captured frame: fed four and four, the
/// canceller took a test's echo down by 38 dB instead of 97.
#[derive(Clone)]
pub struct AudioProcessor {
    inner: apm::Processor,
    buf: Vec<f32>,
    render_held: Arc<Mutex<VecDeque<Vec<f32>>>>,
}

impl AudioProcessor {
    pub fn new() -> Result<Self, MediaError> {
        let init = apm::InitializationConfig {
            num_capture_channels: 1,
            num_render_channels: 1,
            ..Default::default()
        };
        let mut inner = apm::Processor::new(&init).map_err(|e| MediaError::CodecInit {
            codec: "WebRTC audio processing",
            reason: e.to_string(),
        })?;
        inner.set_config(apm::Config {
            echo_cancellation: Some(apm::EchoCancellation {
                suppression_level: apm::EchoCancellationSuppressionLevel::High,
                enable_extended_filter: true,
                enable_delay_agnostic: true,
                stream_delay_ms: None,
            }),
            noise_suppression: Some(apm::NoiseSuppression {
                suppression_level: apm::NoiseSuppressionLevel::High,
            }),
            enable_high_pass_filter: true,
            ..Default::default()
        });
        Ok(Self {
            inner,
            buf: vec![0.0; APM_FRAME_SAMPLES],
            render_held: Arc::default(),
        })
    }

    fn check(samples: usize) -> Result<(), MediaError> {
        if samples == 0 || !samples.is_multiple_of(APM_FRAME_SAMPLES) {
            return Err(MediaError::InvalidInput {
                what: "audio processing frame",
                reason: format!(
                    "{samples} samples is not a whole number of 10 ms frames at 48 kHz mono"
                ),
            });
        }
        Ok(())
    }

    /// Tells the echo canceller what is being played (48 kHz mono, any
    /// whole number of 10 ms frames, so a 20 ms Opus frame goes in as is).
    pub fn process_render(&mut self, far_end: &[i16]) -> Result<(), MediaError> {
        Self::check(far_end.len())?;
        let mut held = self
            .render_held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for chunk in far_end.chunks_exact(APM_FRAME_SAMPLES) {
            held.push_back(chunk.iter().map(|&s| i16_to_f32(s)).collect());
        }
        while held.len() > MOST_RENDER_HELD {
            let mut frame = held.pop_front().expect("more than enough held");
            render_frame(&mut self.inner, &mut frame)?;
        }
        Ok(())
    }

    /// Removes echo and noise from microphone samples in place (48 kHz
    /// mono, whole 10 ms frames).
    pub fn process_capture(&mut self, near_end: &mut [i16]) -> Result<(), MediaError> {
        Self::check(near_end.len())?;
        for chunk in near_end.chunks_exact_mut(APM_FRAME_SAMPLES) {
            let played = self
                .render_held
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop_front();
            if let Some(mut played) = played {
                render_frame(&mut self.inner, &mut played)?;
            }
            for (b, &s) in self.buf.iter_mut().zip(chunk.iter()) {
                *b = i16_to_f32(s);
            }
            self.inner
                .process_capture_frame(&mut self.buf)
                .map_err(|e| MediaError::Processing(e.to_string()))?;
            for (s, &b) in chunk.iter_mut().zip(&self.buf) {
                *s = f32_to_i16(b);
            }
        }
        Ok(())
    }
}

fn render_frame(inner: &mut apm::Processor, frame: &mut [f32]) -> Result<(), MediaError> {
    inner
        .process_render_frame(frame)
        .map_err(|e| MediaError::Processing(e.to_string()))
}

/// A microphone with the speaker's echo taken out: give the speaker an
/// [`EchoReference`] holding a clone of the same processor. A frame the
/// module refuses (a partial one) passes through as it came.
pub struct EchoCancelled<S> {
    pub microphone: S,
    pub processor: AudioProcessor,
}

impl<S: AudioSource> AudioSource for EchoCancelled<S> {
    fn format(&self) -> AudioFormat {
        self.microphone.format()
    }

    fn next_frame(&mut self, millis: u32) -> Option<AudioFrame> {
        let mut frame = self.microphone.next_frame(millis)?;
        let _ = self.processor.process_capture(&mut frame.samples);
        Some(frame)
    }
}

/// A speaker that tells the echo canceller what it plays.
pub struct EchoReference<K> {
    pub speaker: K,
    pub processor: AudioProcessor,
}

impl<K: AudioSink> AudioSink for EchoReference<K> {
    fn format(&self) -> AudioFormat {
        self.speaker.format()
    }

    fn play(&mut self, frame: &AudioFrame) {
        let _ = self.processor.process_render(&frame.samples);
        self.speaker.play(frame);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::{tone_power, ToneSource};

    /// Far-end "speech": a 440 Hz tone in 300 ms bursts with pauses, so
    /// the noise suppressor (which goes for steady sounds) takes less of
    /// it than the echo canceller.
    fn far_end(seconds: usize) -> Vec<i16> {
        let mut tone = ToneSource::new(AudioFormat::OPUS_MONO, 440.0, 0.5);
        (0..seconds * 100)
            .flat_map(|i| {
                let mut frame = tone.next_frame(10).unwrap().samples;
                if (i / 30) % 2 == 1 {
                    frame.fill(0);
                }
                frame
            })
            .collect()
    }

    /// What the microphone hears: the far end 40 ms later at half level.
    fn echo_of(far: &[i16]) -> Vec<i16> {
        let delay = 48 * 40;
        (0..far.len())
            .map(|i| if i < delay { 0 } else { far[i - delay] / 2 })
            .collect()
    }

    fn run(with_reference: bool) -> Vec<i16> {
        let far = far_end(6);
        let mut mic = echo_of(&far);
        let mut processor = AudioProcessor::new().unwrap();
        for (f, m) in far
            .chunks(APM_FRAME_SAMPLES)
            .zip(mic.chunks_mut(APM_FRAME_SAMPLES))
        {
            if with_reference {
                processor.process_render(f).unwrap();
            } else {
                processor.process_render(&[0; APM_FRAME_SAMPLES]).unwrap();
            }
            processor.process_capture(m).unwrap();
        }
        mic
    }

    #[test]
    fn the_echo_of_a_played_tone_is_removed() {
        let far = far_end(6);
        let raw = echo_of(&far);
        let without = run(false);
        let with = run(true);
        // The last 3 s, after the canceller has converged.
        let tail = |s: &[i16]| s[48_000 * 3..].to_vec();
        let raw_power = tone_power(&tail(&raw), 48_000, 440.0);
        let kept_without = tone_power(&tail(&without), 48_000, 440.0);
        let kept_with = tone_power(&tail(&with), 48_000, 440.0);
        let db = |p: f64| 10.0 * (p / raw_power).log10();
        eprintln!(
            "echo at 440 Hz: without reference {:.1} dB, with reference {:.1} dB",
            db(kept_without),
            db(kept_with)
        );
        // The noise suppressor alone takes some of a pure tone; knowing
        // what was played, the echo canceller removes it almost entirely.
        assert!(db(kept_with) < -40.0, "{:.1} dB", db(kept_with));
        assert!(
            db(kept_with) < db(kept_without) - 30.0,
            "the far-end reference made only {:.1} dB of difference",
            db(kept_without) - db(kept_with)
        );
    }

    #[test]
    fn the_wrappers_tell_the_canceller_what_plays_and_clean_the_microphone() {
        struct Speaker(Vec<i16>);
        impl AudioSink for Speaker {
            fn format(&self) -> AudioFormat {
                AudioFormat::OPUS_MONO
            }
            fn play(&mut self, frame: &AudioFrame) {
                self.0.extend_from_slice(&frame.samples);
            }
        }
        /// A microphone that hears the room's echo.
        struct Microphone(std::vec::IntoIter<i16>);
        impl AudioSource for Microphone {
            fn format(&self) -> AudioFormat {
                AudioFormat::OPUS_MONO
            }
            fn next_frame(&mut self, millis: u32) -> Option<AudioFrame> {
                let samples: Vec<i16> = self.0.by_ref().take(48 * millis as usize).collect();
                (!samples.is_empty()).then_some(AudioFrame {
                    format: AudioFormat::OPUS_MONO,
                    samples,
                })
            }
        }

        let far = far_end(6);
        let raw = echo_of(&far);
        // A call hands audio over 20 ms at a time, or 40 ms on a clean path.
        for millis in [20, 40] {
            let processor = AudioProcessor::new().unwrap();
            let mut speaker = EchoReference {
                speaker: Speaker(Vec::new()),
                processor: processor.clone(),
            };
            let mut microphone = EchoCancelled {
                microphone: Microphone(raw.clone().into_iter()),
                processor,
            };
            let mut heard = Vec::new();
            for chunk in far.chunks(48 * millis as usize) {
                speaker.play(&AudioFrame {
                    format: AudioFormat::OPUS_MONO,
                    samples: chunk.to_vec(),
                });
                heard.extend(microphone.next_frame(millis).unwrap().samples);
            }
            assert_eq!(speaker.speaker.0, far, "the speaker plays what it is given");
            let tail = |s: &[i16]| tone_power(&s[48_000 * 3..], 48_000, 440.0);
            let db = 10.0 * (tail(&heard) / tail(&raw)).log10();
            eprintln!("{millis} ms at a time: the echo is {db:.1} dB down");
            assert!(
                db < -60.0,
                "{millis} ms at a time: the echo was only {db:.1} dB down"
            );
        }
    }

    #[test]
    fn steady_noise_is_suppressed() {
        // White noise from a fixed-seed generator at about -20 dBFS.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut noise: Vec<i16> = (0..48_000 * 3)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                ((state >> 48) as i16) / 10
            })
            .collect();
        let energy = |s: &[i16]| s.iter().map(|&v| (v as f64).powi(2)).sum::<f64>();
        let before = energy(&noise[48_000 * 2..]);
        let mut processor = AudioProcessor::new().unwrap();
        for chunk in noise.chunks_mut(960) {
            processor.process_render(&[0; 960]).unwrap();
            processor.process_capture(chunk).unwrap();
        }
        let after = energy(&noise[48_000 * 2..]);
        let db = 10.0 * (after / before).log10();
        eprintln!("white noise after suppression: {db:.1} dB");
        assert!(db < -6.0, "noise only down {db:.1} dB");
    }

    #[test]
    fn partial_frames_are_refused() {
        let mut processor = AudioProcessor::new().unwrap();
        assert!(processor.process_render(&[0; 100]).is_err());
        assert!(processor.process_capture(&mut [0; 500]).is_err());
        fn send<T: Send>() {}
        send::<AudioProcessor>();
    }
}
