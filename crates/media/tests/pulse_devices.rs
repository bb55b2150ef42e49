//! The device path end to end, on a machine with no sound card: a private
//! PulseAudio daemon provides a null sink (the "speaker") and a source
//! remapped from that sink's monitor (the "microphone"), and cpal reaches
//! it through ALSA's pulse plugin. What DeviceOutput plays into the
//! speaker, DeviceInput hears from the microphone.

use std::time::{Duration, Instant};

use convene_media::{
    audio_devices, tone_power, AudioFormat, AudioSink, AudioSource, DeviceInput, DeviceKind,
    DeviceOutput, MediaError, ToneSource,
};
use convene_test_support::pulse::start_pulse;

#[test]
fn a_tone_played_to_the_speaker_is_heard_by_the_microphone() {
    let pulse = start_pulse();

    let devices = audio_devices().expect("list devices");
    assert!(
        devices
            .iter()
            .any(|d| d.kind == DeviceKind::Input && d.is_default),
        "a default input: {devices:?}"
    );
    assert!(
        devices
            .iter()
            .any(|d| d.kind == DeviceKind::Output && d.is_default),
        "a default output: {devices:?}"
    );
    assert!(matches!(
        DeviceInput::open(Some("no such microphone")),
        Err(MediaError::DeviceNotFound(_))
    ));

    let mut mic = DeviceInput::open(None).expect("open the default input");
    // A PulseAudio source can take ~2 s to deliver its first samples;
    // start the tone only once the microphone is live.
    let warm_up = Instant::now();
    mic.next_frame(20)
        .expect("the microphone starts delivering");
    let mic_start = warm_up.elapsed();
    let mut speaker = DeviceOutput::open(None).expect("open the default output");
    eprintln!(
        "input {} at {:?} (first frame after {mic_start:?}), output {} at {:?}",
        mic.name(),
        mic.native_format(),
        speaker.name(),
        speaker.native_format()
    );

    // Play 3 s of 440 Hz from a thread, paced in real time as a call
    // would; DeviceOutput must not block it.
    let player = std::thread::spawn(move || {
        let mut tone = ToneSource::new(AudioFormat::OPUS_MONO, 440.0, 0.5);
        let start = Instant::now();
        let mut longest_play = Duration::ZERO;
        for i in 0..150u32 {
            let frame = tone.next_frame(20).unwrap();
            let before = Instant::now();
            speaker.play(&frame);
            longest_play = longest_play.max(before.elapsed());
            let due = start + Duration::from_millis(20 * (i as u64 + 1));
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        assert!(speaker.failure().is_none(), "{:?}", speaker.failure());
        // Handed back so the queued end of the tone still plays.
        (speaker, longest_play)
    });

    // Record 3.5 s in 20 ms frames.
    let mut heard = Vec::new();
    let started = Instant::now();
    for _ in 0..175 {
        let frame = mic.next_frame(20).expect("the microphone keeps delivering");
        assert_eq!(frame.format, AudioFormat::OPUS_MONO);
        assert_eq!(frame.samples.len(), 960);
        heard.extend(frame.samples);
    }
    let recorded_for = started.elapsed();
    let (speaker, longest_play) = player.join().unwrap();
    drop(speaker);
    let onset = heard
        .iter()
        .position(|s| s.unsigned_abs() > 1000)
        .unwrap_or(0);
    eprintln!(
        "the tone arrived {} ms after recording began (output queue + PulseAudio)",
        onset / 48
    );
    let profile: Vec<String> = heard
        .chunks(9600)
        .map(|c| format!("{:.2}", tone_power(c, 48_000, 440.0)))
        .collect();
    eprintln!(
        "recorded 3.5 s in {recorded_for:?}; longest DeviceOutput::play {longest_play:?}; \
         dropped {} input samples; 440 Hz power per 200 ms: {}",
        mic.dropped_samples(),
        profile.join(" ")
    );
    // next_frame blocks for real audio: 3.5 s of frames take about 3.5 s.
    assert!(
        recorded_for > Duration::from_millis(3200),
        "frames came faster than real time: {recorded_for:?}"
    );
    assert!(
        longest_play < Duration::from_millis(5),
        "play blocked for {longest_play:?}"
    );

    // From 0.4 s to 2.8 s the tone is steady: every 200 ms window holds
    // it (a dropout would show as a weak window).
    for (i, window) in heard[19_200..134_400].chunks(9600).enumerate() {
        let power = tone_power(window, 48_000, 440.0);
        assert!(
            power > 0.15,
            "window {} (from {} ms) heard the tone weakly: {power:.3}",
            i,
            400 + i * 200
        );
    }
    let middle = &heard[48_000..96_000];
    let at_440 = tone_power(middle, 48_000, 440.0);
    let at_1000 = tone_power(middle, 48_000, 1000.0);
    eprintln!("heard: power {at_440:.3} at 440 Hz, {at_1000:.5} at 1000 Hz");
    assert!(
        at_440 > 0.1,
        "the microphone heard the tone weakly: {at_440}"
    );
    assert!(
        at_1000 < 0.01,
        "the microphone heard other sounds: {at_1000}"
    );

    // The tone stopped at 3 s: the last 200 ms are quiet again.
    let tail = &heard[heard.len() - 9600..];
    assert!(
        tone_power(tail, 48_000, 440.0) < 0.01,
        "the tone went on after the player stopped"
    );

    // The sound server goes away: the microphone reports its end instead
    // of blocking forever.
    drop(pulse);
    let gone = Instant::now();
    while mic.next_frame(20).is_some() {
        assert!(gone.elapsed() < Duration::from_secs(10), "still delivering");
    }
    eprintln!(
        "end of input noticed {:?} after the server stopped",
        gone.elapsed()
    );
}
