//! Linear resampling, fed as samples arrive. Good enough for speech going
//! into Opus (whose band stops at 20 kHz) and far cheaper than a windowed
//! sinc; device and file rates are usually 44.1 or 48 kHz anyway.

/// Converts a stream of mono samples from one rate to another. Keeps its
/// position between calls, so chunks of any size join without clicks.
#[derive(Debug, Clone)]
pub struct LinearResampler {
    /// Input samples per output sample.
    step: f64,
    /// Where the next output falls, in input samples after `prev`.
    pos: f64,
    prev: Option<f32>,
}

impl LinearResampler {
    pub fn new(from_rate: u32, to_rate: u32) -> Self {
        Self {
            step: from_rate as f64 / to_rate.max(1) as f64,
            pos: 0.0,
            prev: None,
        }
    }

    /// True when the rates match and samples pass through unchanged.
    pub fn is_identity(&self) -> bool {
        self.step == 1.0
    }

    /// Takes one input sample and appends the outputs it completes.
    #[inline]
    pub fn push(&mut self, sample: f32, out: &mut impl Extend<f32>) {
        if self.is_identity() {
            out.extend(std::iter::once(sample));
            return;
        }
        let Some(prev) = self.prev else {
            self.prev = Some(sample);
            return;
        };
        // Every output between `prev` and this sample.
        while self.pos < 1.0 {
            out.extend(std::iter::once(prev + (sample - prev) * self.pos as f32));
            self.pos += self.step;
        }
        self.pos -= 1.0;
        self.prev = Some(sample);
    }
}

pub(crate) fn f32_to_i16(sample: f32) -> i16 {
    (sample * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

pub(crate) fn i16_to_f32(sample: i16) -> f32 {
    sample as f32 / 32768.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::tone_power;

    fn resample(input: &[f32], from: u32, to: u32, chunk: usize) -> Vec<f32> {
        let mut r = LinearResampler::new(from, to);
        let mut out = Vec::new();
        for part in input.chunks(chunk) {
            for &s in part {
                r.push(s, &mut out);
            }
        }
        out
    }

    #[test]
    fn lengths_follow_the_rate_ratio() {
        let input = vec![0.0f32; 44_100];
        let out = resample(&input, 44_100, 48_000, 441);
        assert!((out.len() as i64 - 48_000).abs() <= 2, "{}", out.len());
        let out = resample(&vec![0.0; 48_000], 48_000, 16_000, 100);
        assert!((out.len() as i64 - 16_000).abs() <= 2, "{}", out.len());
        assert_eq!(resample(&[0.5, 0.25], 48_000, 48_000, 1), vec![0.5, 0.25]);
    }

    #[test]
    fn a_tone_keeps_its_frequency_across_chunk_boundaries() {
        let input: Vec<f32> = (0..44_100)
            .map(|i| (std::f32::consts::TAU * 440.0 * i as f32 / 44_100.0).sin() * 0.5)
            .collect();
        // Odd chunk sizes put boundaries everywhere in the interpolation.
        let out: Vec<i16> = resample(&input, 44_100, 48_000, 37)
            .into_iter()
            .map(f32_to_i16)
            .collect();
        let at_440 = tone_power(&out, 48_000, 440.0);
        assert!((at_440 - 0.25).abs() < 0.02, "power at 440 Hz: {at_440}");
        assert!(tone_power(&out, 48_000, 480.0) < 0.001);
    }
}
