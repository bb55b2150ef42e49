//! A call's microphone and speaker outlive the sound server: PulseAudio
//! stops mid-call (as when a headset goes, or the desktop's sound server
//! restarts), the microphone keeps its 20 ms pace with silence and the
//! speaker takes frames without blocking, and when a sound server is back
//! both carry on with it, without being reopened by the caller.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use convene_media::{AudioSource, DeviceChoice, FailoverInput, FailoverOutput};
use convene_test_support::pulse::start_pulse;
use support::sound::{hear_tone, play_tone};

#[test]
fn microphone_and_speaker_carry_on_when_the_sound_server_comes_back() {
    let pulse = start_pulse();
    let mut mic = FailoverInput::open(DeviceChoice::default()).expect("open the microphone");
    let speaker = FailoverOutput::open(DeviceChoice::default()).expect("open the speaker");
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
