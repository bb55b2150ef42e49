//! A tone played in real time and a microphone listened to for it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use convene_media::{tone_power, AudioFormat, AudioSink, AudioSource, ToneSource};

/// Plays a 440 Hz tone through `speaker`, paced in real time, until told
/// to stop; returns the speaker and the longest `play` call.
pub fn play_tone<S: AudioSink + Send + 'static>(
    mut speaker: S,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<(S, Duration)> {
    std::thread::spawn(move || {
        let mut tone = ToneSource::new(AudioFormat::OPUS_MONO, 440.0, 0.5);
        let start = Instant::now();
        let mut longest = Duration::ZERO;
        let mut i = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let frame = tone.next_frame(20).unwrap();
            let before = Instant::now();
            speaker.play(&frame);
            longest = longest.max(before.elapsed());
            i += 1;
            let due = start + Duration::from_millis(20 * i);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        (speaker, longest)
    })
}

/// Reads frames until the last second holds the tone (`wanted`) or holds
/// none of it (`!wanted`), for at most `within`; returns how long that
/// took.
pub fn listen_for_tone(
    mic: &mut dyn AudioSource,
    wanted: bool,
    within: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    let mut window = Vec::new();
    while started.elapsed() < within {
        let frame = mic.next_frame(20).expect("the microphone never ends");
        assert_eq!(frame.samples.len(), 960);
        window.extend(frame.samples);
        if window.len() > 48_000 {
            window.drain(..window.len() - 48_000);
            let power = tone_power(&window, 48_000, 440.0);
            if (wanted && power > 0.1) || (!wanted && power < 0.001) {
                return Some(started.elapsed());
            }
        }
    }
    None
}

/// Reads frames until one second in a row holds the tone, for at most
/// `within`; returns how long that took.
pub fn hear_tone(mic: &mut dyn AudioSource, within: Duration) -> Option<Duration> {
    listen_for_tone(mic, true, within)
}
