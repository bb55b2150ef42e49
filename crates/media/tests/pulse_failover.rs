//! A call's microphone and speaker outlive the sound server: PulseAudio
//! stops mid-call (as when a headset goes, or the desktop's sound server
//! restarts), the microphone keeps its 20 ms pace with silence and the
//! speaker takes frames without blocking, and when a sound server is back
//! both carry on with it, without being reopened by the caller.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use convene_media::{
    tone_power, AudioFormat, AudioSink, AudioSource, FailoverInput, FailoverOutput, ToneSource,
};
use support::pulse::start_pulse;

/// Plays a 440 Hz tone through `speaker`, paced in real time, until told
/// to stop; returns the speaker and the longest `play` call.
fn play_tone(
    mut speaker: FailoverOutput,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<(FailoverOutput, Duration)> {
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

/// Reads frames until one second in a row holds the tone, for at most
/// `within`; returns how long that took.
fn hear_tone(mic: &mut FailoverInput, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut window = Vec::new();
    while started.elapsed() < within {
        let frame = mic.next_frame(20).expect("the microphone never ends");
        assert_eq!(frame.samples.len(), 960);
        window.extend(frame.samples);
        if window.len() > 48_000 {
            window.drain(..window.len() - 48_000);
            if tone_power(&window, 48_000, 440.0) > 0.1 {
                return Some(started.elapsed());
            }
        }
    }
    None
}

#[test]
fn microphone_and_speaker_carry_on_when_the_sound_server_comes_back() {
    let pulse = start_pulse();
    let mut mic = FailoverInput::open(None).expect("open the microphone");
    let speaker = FailoverOutput::open(None).expect("open the speaker");
    assert!(mic.device_name().is_some() && speaker.device_name().is_some());
    let stop = Arc::new(AtomicBool::new(false));
    let player = play_tone(speaker, Arc::clone(&stop));
    let first = hear_tone(&mut mic, Duration::from_secs(10));
    assert!(first.is_some(), "the microphone hears the speaker");

    // The sound server goes away: the microphone keeps delivering, on time,
    // silence; the speaker's play never blocks.
    drop(pulse);
    let gone = Instant::now();
    let mut silent = 0;
    while gone.elapsed() < Duration::from_secs(3) {
        let frame = mic.next_frame(20).expect("the microphone never ends");
        if frame.samples.iter().all(|&s| s == 0) {
            silent += 1;
        }
    }
    assert!(
        silent >= 50,
        "silence while there is no device: {silent} frames"
    );
    assert_eq!(mic.device_name(), None);

    // A sound server is back: both find it by themselves.
    let _pulse = start_pulse();
    let back = hear_tone(&mut mic, Duration::from_secs(15));
    stop.store(true, Ordering::Relaxed);
    let (speaker, longest_play) = player.join().unwrap();
    assert!(
        back.is_some(),
        "after the server came back, the microphone heard the speaker again"
    );
    assert!(mic.device_name().is_some() && speaker.device_name().is_some());
    assert!(
        longest_play < Duration::from_millis(300),
        "the speaker blocked the caller for {longest_play:?}"
    );
    eprintln!(
        "heard the tone again {:?} after the server came back",
        back.unwrap()
    );
}
