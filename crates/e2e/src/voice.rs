//! Things a person says, written as WAV files for `--audio file:…`: a tone
//! while they speak, silence while they do not.

use std::path::Path;

use convene_media::{AudioFormat, AudioSink, AudioSource, ToneSource, WavRecorder};

/// 20 ms frames of a `frequency` tone at `amplitude`, `frames` of them;
/// frame `n` is silent unless `speaking(n)`.
pub fn write_voice(
    path: &Path,
    frequency: f64,
    amplitude: f64,
    frames: usize,
    speaking: impl Fn(usize) -> bool,
) {
    let mut voice = ToneSource::new(AudioFormat::OPUS_MONO, frequency, amplitude);
    let mut file = WavRecorder::create(path, AudioFormat::OPUS_MONO).expect("create a WAV file");
    for n in 0..frames {
        let mut frame = voice.next_frame(20).expect("a tone never ends");
        if !speaking(n) {
            frame.samples.fill(0);
        }
        file.play(&frame);
    }
    file.finish().expect("write the WAV file");
}
