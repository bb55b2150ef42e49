//! A sine-tone source and a detector for it: a call test plays 440 Hz on
//! one side and checks that the other side hears 440 Hz.

use std::f64::consts::TAU;

use crate::audio::{AudioFormat, AudioFrame, AudioSource};

/// An endless sine tone.
#[derive(Debug, Clone)]
pub struct ToneSource {
    format: AudioFormat,
    frequency: f64,
    amplitude: f64,
    phase: f64,
}

impl ToneSource {
    /// `amplitude` is relative to full scale, 0.0..=1.0.
    pub fn new(format: AudioFormat, frequency: f64, amplitude: f64) -> Self {
        Self {
            format,
            frequency,
            amplitude: amplitude.clamp(0.0, 1.0),
            phase: 0.0,
        }
    }
}

impl AudioSource for ToneSource {
    fn format(&self) -> AudioFormat {
        self.format
    }

    fn next_frame(&mut self, millis: u32) -> Option<AudioFrame> {
        let per_channel = self.format.samples_per_channel(millis);
        let channels = self.format.channels as usize;
        let step = TAU * self.frequency / self.format.sample_rate as f64;
        let scale = self.amplitude * i16::MAX as f64;
        // Within a frame each sample turns the last by one step (a sine per
        // sample was about 3 % of an audio call's CPU). The phase is
        // recomputed exactly once a frame, and kept small, so a long call
        // does not drift.
        let (step_sin, step_cos) = step.sin_cos();
        let (mut sin, mut cos) = self.phase.sin_cos();
        let mut samples = Vec::with_capacity(per_channel * channels);
        for _ in 0..per_channel {
            samples.extend(std::iter::repeat_n((sin * scale) as i16, channels));
            (sin, cos) = (
                sin * step_cos + cos * step_sin,
                cos * step_cos - sin * step_sin,
            );
        }
        self.phase = (self.phase + step * per_channel as f64) % TAU;
        Some(AudioFrame {
            format: self.format,
            samples,
        })
    }
}

/// Relative power of `frequency` in mono `samples` (Goertzel), normalised
/// so that a full-scale sine at exactly that frequency gives about 1.0.
pub fn tone_power(samples: &[i16], sample_rate: u32, frequency: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let coefficient = 2.0 * (TAU * frequency / sample_rate as f64).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &sample in samples {
        let s0 = sample as f64 / i16::MAX as f64 + coefficient * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
    let n = samples.len() as f64;
    4.0 * power / (n * n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_second(frequency: f64) -> Vec<i16> {
        let mut tone = ToneSource::new(AudioFormat::OPUS_MONO, frequency, 0.5);
        (0..50)
            .flat_map(|_| tone.next_frame(20).unwrap().samples)
            .collect()
    }

    #[test]
    fn frames_have_the_requested_length() {
        let stereo = AudioFormat {
            sample_rate: 48_000,
            channels: 2,
        };
        let frame = ToneSource::new(stereo, 440.0, 0.5).next_frame(20).unwrap();
        assert_eq!(frame.samples.len(), 960 * 2);
        assert_eq!(
            frame.samples[0], frame.samples[1],
            "channels carry the same tone"
        );
    }

    #[test]
    fn the_detector_hears_the_tone_that_was_played() {
        let samples = one_second(440.0);
        let at_440 = tone_power(&samples, 48_000, 440.0);
        let at_1000 = tone_power(&samples, 48_000, 1000.0);
        // Half amplitude: power about 0.25 at the tone, nearly nothing elsewhere.
        assert!((at_440 - 0.25).abs() < 0.02, "power at 440 Hz: {at_440}");
        assert!(at_1000 < 0.001, "power at 1000 Hz: {at_1000}");
    }

    #[test]
    fn the_phase_carries_across_frames() {
        // Twenty 20 ms frames of 440 Hz are as clean as one long buffer:
        // a phase jump at frame edges would smear power into other bins.
        let samples = one_second(440.0);
        assert!(tone_power(&samples, 48_000, 460.0) < 0.001);
    }

    #[test]
    fn an_hour_in_the_samples_are_still_the_exact_sine() {
        let mut tone = ToneSource::new(AudioFormat::OPUS_MONO, 440.0, 0.5);
        let frames = 3600 * 50;
        for _ in 1..frames {
            tone.next_frame(20);
        }
        let last = tone.next_frame(20).unwrap().samples;
        let first_sample = (frames - 1) as f64 * 960.0;
        for (i, &sample) in last.iter().enumerate() {
            let t = (first_sample + i as f64) / 48_000.0;
            let exact = (TAU * 440.0 * t).sin() * 0.5 * i16::MAX as f64;
            assert!(
                (sample as f64 - exact).abs() <= 1.0,
                "sample {i}: {sample} against {exact}"
            );
        }
    }

    #[test]
    fn silence_has_no_tone() {
        assert_eq!(tone_power(&[], 48_000, 440.0), 0.0);
        assert!(tone_power(&[0; 4800], 48_000, 440.0) < 1e-12);
    }
}
