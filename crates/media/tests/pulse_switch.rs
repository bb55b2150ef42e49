//! Choosing another microphone or speaker in the picker mid-call switches
//! the running streams at their next frame: nobody hangs up and calls
//! again. A private PulseAudio daemon has two speakers (null sinks), each
//! with a microphone hearing it; ALSA names them for cpal through the
//! pulse plugin, as a desktop's ALSA configuration names a headset.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use convene_media::{audio_devices, DeviceChoice, DeviceKind, FailoverInput, FailoverOutput};
use convene_test_support::pulse::start_pulse;
use support::sound::{hear_tone, listen_for_tone, play_tone};

const HEADSET: &str = "convene_headset";
const HEADSET_MIC: &str = "convene_headset_mic";

/// ALSA devices for the headset's speaker and microphone, in a private
/// HOME's `.asoundrc` (read when ALSA first loads its configuration, so
/// before any device is touched).
fn name_the_headset_for_alsa(home: &std::path::Path) {
    let pcm = |name: &str, description: &str| {
        format!(
            "pcm.{name} {{\n  type pulse\n  device \"{name}\"\n  \
             hint {{ show on description \"{description}\" }}\n}}\n"
        )
    };
    let config = pcm(HEADSET, "Test headset") + &pcm(HEADSET_MIC, "Test headset microphone");
    std::fs::write(home.join(".asoundrc"), config).unwrap();
    // Edition 2021: set_var is safe; this file has one test, so no other
    // thread reads the environment meanwhile.
    std::env::set_var("HOME", home);
}

#[test]
fn choosing_another_device_mid_call_switches_to_it() {
    let home = tempfile::tempdir().unwrap();
    name_the_headset_for_alsa(home.path());
    let pulse = start_pulse();
    pulse.add_speaker_and_mic(HEADSET, HEADSET_MIC);
    let devices = audio_devices().expect("list devices");
    for (name, kind) in [
        (HEADSET, DeviceKind::Output),
        (HEADSET_MIC, DeviceKind::Input),
    ] {
        assert!(
            devices.iter().any(|d| d.name == name && d.kind == kind),
            "{name} is listed: {devices:?}"
        );
    }

    // A call starts on the defaults: the microphone hears the speaker.
    let (mic_choice, speaker_choice) = (DeviceChoice::default(), DeviceChoice::default());
    let mut mic = FailoverInput::open(mic_choice.clone()).expect("open the microphone");
    let speaker = FailoverOutput::open(speaker_choice.clone()).expect("open the speaker");
    let stop = Arc::new(AtomicBool::new(false));
    let player = play_tone(speaker, Arc::clone(&stop));
    assert!(
        hear_tone(&mut mic, Duration::from_secs(10)).is_some(),
        "on the defaults, the microphone hears the speaker"
    );

    // The headset's microphone is chosen: the running microphone switches
    // to it, and it hears nothing (the tone still plays on the default).
    mic_choice.set(Some(HEADSET_MIC.into()));
    let quiet = listen_for_tone(&mut mic, false, Duration::from_secs(10));
    assert_eq!(mic.device_name(), Some(HEADSET_MIC));
    assert_eq!(
        mic_choice.in_use().as_deref(),
        Some(HEADSET_MIC),
        "the picker can tell the headset's microphone is in use"
    );
    assert!(quiet.is_some(), "the headset's microphone hears no tone");

    // The headset's speaker is chosen: the running speaker switches to it,
    // and the headset's microphone hears the tone.
    speaker_choice.set(Some(HEADSET.into()));
    let heard = hear_tone(&mut mic, Duration::from_secs(10));
    stop.store(true, Ordering::Relaxed);
    let (speaker, longest_play) = player.join().unwrap();
    assert_eq!(speaker.device_name(), Some(HEADSET));
    assert_eq!(speaker_choice.in_use().as_deref(), Some(HEADSET));
    assert!(heard.is_some(), "the tone is heard on the headset");
    drop((mic, speaker));
    assert_eq!(
        (mic_choice.in_use(), speaker_choice.in_use()),
        (None, None),
        "closed streams use nothing"
    );
    assert!(
        longest_play < Duration::from_millis(300),
        "switching blocked the speaker for {longest_play:?}"
    );
    eprintln!(
        "heard the tone on the headset {:?} after choosing it",
        heard.unwrap()
    );
}
