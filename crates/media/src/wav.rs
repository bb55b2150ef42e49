//! WAV files as sources and sinks: a call can send a recording instead of
//! the microphone, and tests record what they heard.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use crate::audio::{AudioFormat, AudioFrame, AudioSink, AudioSource};
use crate::error::MediaError;
use crate::resample::{f32_to_i16, LinearResampler};

fn bad(path: &Path, e: impl std::fmt::Display) -> MediaError {
    MediaError::BadWav {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Reads samples one frame (all channels) at a time, as mono f32.
struct MonoReader {
    reader: hound::WavReader<BufReader<File>>,
    channels: usize,
    /// Divides an integer sample into -1.0..1.0; `None` for float files.
    int_scale: Option<f32>,
}

impl MonoReader {
    fn open(path: &Path) -> Result<Self, MediaError> {
        let reader = hound::WavReader::open(path).map_err(|e| bad(path, e))?;
        let spec = reader.spec();
        if spec.channels == 0 || spec.sample_rate == 0 {
            return Err(bad(path, "no channels or a zero sample rate"));
        }
        let int_scale = match spec.sample_format {
            hound::SampleFormat::Int => Some((1u64 << (spec.bits_per_sample - 1)) as f32),
            hound::SampleFormat::Float => None,
        };
        Ok(Self {
            reader,
            channels: spec.channels as usize,
            int_scale,
        })
    }

    fn rate(&self) -> u32 {
        self.reader.spec().sample_rate
    }

    /// The next frame's channels averaged; `None` at the end of the data
    /// (a truncated last frame or a read error ends the stream too).
    fn next(&mut self) -> Option<f32> {
        let mut sum = 0.0f32;
        for _ in 0..self.channels {
            let value = match self.int_scale {
                Some(scale) => self.reader.samples::<i32>().next()?.ok()? as f32 / scale,
                None => self.reader.samples::<f32>().next()?.ok()?,
            };
            sum += value;
        }
        Some(sum / self.channels as f32)
    }
}

/// A WAV file as a 48 kHz mono [`AudioSource`]: channels are averaged and
/// other rates resampled linearly. Streams from disk, so long files cost
/// no memory. The last frame is padded with silence to the full length;
/// after it, `next_frame` returns `None`.
pub struct WavSource {
    reader: MonoReader,
    resampler: LinearResampler,
    pending: VecDeque<f32>,
    ended: bool,
}

impl WavSource {
    pub fn open(path: &Path) -> Result<Self, MediaError> {
        let reader = MonoReader::open(path)?;
        let resampler = LinearResampler::new(reader.rate(), AudioFormat::OPUS_MONO.sample_rate);
        Ok(Self {
            reader,
            resampler,
            pending: VecDeque::new(),
            ended: false,
        })
    }
}

impl AudioSource for WavSource {
    fn format(&self) -> AudioFormat {
        AudioFormat::OPUS_MONO
    }

    fn next_frame(&mut self, millis: u32) -> Option<AudioFrame> {
        let wanted = AudioFormat::OPUS_MONO.samples_per_channel(millis);
        while self.pending.len() < wanted {
            match self.reader.next() {
                Some(sample) => self.resampler.push(sample, &mut self.pending),
                None => break,
            }
        }
        if self.pending.is_empty() || self.ended {
            self.ended = true;
            return None;
        }
        let take = wanted.min(self.pending.len());
        let mut samples: Vec<i16> = self.pending.drain(..take).map(f32_to_i16).collect();
        if samples.len() < wanted {
            samples.resize(wanted, 0);
            self.ended = true;
        }
        Some(AudioFrame {
            format: AudioFormat::OPUS_MONO,
            samples,
        })
    }
}

/// Reads a whole WAV file as mono 16-bit samples at its own rate
/// (channels averaged, no resampling).
pub fn read_wav_mono(path: &Path) -> Result<(u32, Vec<i16>), MediaError> {
    let mut reader = MonoReader::open(path)?;
    let rate = reader.rate();
    let mut samples = Vec::with_capacity(reader.reader.duration() as usize);
    while let Some(s) = reader.next() {
        samples.push(f32_to_i16(s));
    }
    Ok((rate, samples))
}

/// Records what it is given to a 16-bit PCM WAV file. Frames whose format
/// differs from the recorder's are refused; the first such problem (or
/// write error) is reported by [`WavRecorder::finish`], since `play` has
/// no way to return one.
pub struct WavRecorder {
    path: PathBuf,
    format: AudioFormat,
    writer: hound::WavWriter<BufWriter<File>>,
    error: Option<MediaError>,
}

impl WavRecorder {
    pub fn create(path: &Path, format: AudioFormat) -> Result<Self, MediaError> {
        let spec = hound::WavSpec {
            channels: format.channels,
            sample_rate: format.sample_rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(path, spec).map_err(|e| MediaError::WavWrite {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            format,
            writer,
            error: None,
        })
    }

    /// Writes the header's final sizes and closes the file.
    pub fn finish(self) -> Result<(), MediaError> {
        let path = self.path;
        if let Some(e) = self.error {
            return Err(e);
        }
        self.writer.finalize().map_err(|e| MediaError::WavWrite {
            path,
            reason: e.to_string(),
        })
    }
}

impl AudioSink for WavRecorder {
    fn format(&self) -> AudioFormat {
        self.format
    }

    fn play(&mut self, frame: &AudioFrame) {
        if self.error.is_some() {
            return;
        }
        if frame.format != self.format {
            self.error = Some(MediaError::WavWrite {
                path: self.path.clone(),
                reason: format!("frame is {:?}, the file is {:?}", frame.format, self.format),
            });
            return;
        }
        let mut writer = self.writer.get_i16_writer(frame.samples.len() as u32);
        for &s in &frame.samples {
            writer.write_sample(s);
        }
        if let Err(e) = writer.flush() {
            self.error = Some(MediaError::WavWrite {
                path: self.path.clone(),
                reason: e.to_string(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::{tone_power, ToneSource};

    #[test]
    fn write_then_read_gives_back_the_same_samples() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tone.wav");
        let mut tone = ToneSource::new(AudioFormat::OPUS_MONO, 440.0, 0.5);
        let mut recorder = WavRecorder::create(&path, AudioFormat::OPUS_MONO).unwrap();
        let mut written = Vec::new();
        for _ in 0..25 {
            let frame = tone.next_frame(20).unwrap();
            written.extend_from_slice(&frame.samples);
            recorder.play(&frame);
        }
        recorder.finish().unwrap();

        let (rate, read) = read_wav_mono(&path).unwrap();
        assert_eq!(rate, 48_000);
        assert_eq!(read, written);

        // As a source, a 48 kHz mono file passes through unchanged, in
        // frames, then ends.
        let mut source = WavSource::open(&path).unwrap();
        let mut streamed = Vec::new();
        while let Some(frame) = source.next_frame(20) {
            assert_eq!(frame.samples.len(), 960);
            streamed.extend(frame.samples);
        }
        assert_eq!(streamed, written);
        assert!(source.next_frame(20).is_none());
    }

    #[test]
    fn a_44k1_stereo_file_comes_out_48k_mono_with_the_tone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stereo.wav");
        let stereo = AudioFormat {
            sample_rate: 44_100,
            channels: 2,
        };
        let mut tone = ToneSource::new(stereo, 440.0, 0.5);
        let mut recorder = WavRecorder::create(&path, stereo).unwrap();
        // 1 s of tone.
        for _ in 0..100 {
            recorder.play(&tone.next_frame(10).unwrap());
        }
        recorder.finish().unwrap();

        let mut source = WavSource::open(&path).unwrap();
        assert_eq!(source.format(), AudioFormat::OPUS_MONO);
        let mut out = Vec::new();
        let mut frames = 0;
        while let Some(frame) = source.next_frame(20) {
            assert_eq!(frame.format, AudioFormat::OPUS_MONO);
            assert_eq!(frame.samples.len(), 960);
            out.extend(frame.samples);
            frames += 1;
        }
        // 1 s at 48 kHz is 50 frames of 20 ms (the last padded).
        assert!((50..=51).contains(&frames), "{frames} frames");
        let steady = &out[..48_000 - 960];
        let at_440 = tone_power(steady, 48_000, 440.0);
        assert!((at_440 - 0.25).abs() < 0.02, "power at 440 Hz: {at_440}");
        assert!(tone_power(steady, 48_000, 480.0) < 0.001);
    }

    #[test]
    fn a_file_that_is_not_wav_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("not.wav");
        std::fs::write(&path, b"this is not a RIFF file").unwrap();
        let err = WavSource::open(&path).err().expect("an error");
        assert!(matches!(err, MediaError::BadWav { .. }));
        assert!(err.to_string().contains("not.wav"), "{err}");
        assert!(read_wav_mono(&dir.path().join("missing.wav")).is_err());
    }

    #[test]
    fn a_frame_of_another_format_is_reported_on_finish() {
        let dir = tempfile::tempdir().unwrap();
        let mut recorder =
            WavRecorder::create(&dir.path().join("x.wav"), AudioFormat::OPUS_MONO).unwrap();
        let stereo = AudioFormat {
            sample_rate: 48_000,
            channels: 2,
        };
        recorder.play(&ToneSource::new(stereo, 440.0, 0.5).next_frame(20).unwrap());
        assert!(recorder.finish().is_err());
    }
}
