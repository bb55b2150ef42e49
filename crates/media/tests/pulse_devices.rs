//! The device path end to end, on a machine with no sound card: a private
//! PulseAudio daemon provides a null sink (the "speaker") and a source
//! remapped from that sink's monitor (the "microphone"), and cpal reaches
//! it through ALSA's pulse plugin. What DeviceOutput plays into the
//! speaker, DeviceInput hears from the microphone.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use convene_media::{
    audio_devices, tone_power, AudioFormat, AudioSink, AudioSource, DeviceInput, DeviceKind,
    DeviceOutput, MediaError, ToneSource,
};

struct Pulse {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Pulse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pactl(server: &str, args: &[&str]) -> std::io::Result<std::process::Output> {
    Command::new("pactl")
        .args(args)
        .env("PULSE_SERVER", server)
        .output()
}

/// Starts the daemon and points this process's PulseAudio clients (the
/// ALSA plugin inside cpal) at it.
fn start_pulse() -> Pulse {
    let installed = Command::new("pulseaudio")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        installed,
        "pulseaudio is not installed; this test needs it (and pulseaudio-utils, \
         libasound2-plugins): run scripts/setup.sh"
    );
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("native");
    let server = format!("unix:{}", socket.display());
    // -n: no default.pa, only these modules. Running as root only draws a
    // warning when not in --system mode. HOME and XDG_RUNTIME_DIR keep
    // the daemon's cookie and state inside the temp dir.
    let child = Command::new("pulseaudio")
        .args([
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--use-pid-file=no",
            "--disallow-exit",
            "-n",
            "--log-target=stderr",
            "--log-level=error",
        ])
        .arg(format!(
            "--load=module-native-protocol-unix socket={} auth-anonymous=1",
            socket.display()
        ))
        .arg("--load=module-null-sink sink_name=convene_speaker rate=48000")
        .arg(
            "--load=module-remap-source master=convene_speaker.monitor \
             source_name=convene_mic",
        )
        .env("HOME", dir.path())
        .env("XDG_RUNTIME_DIR", dir.path())
        .env_remove("PULSE_SERVER")
        .stdin(Stdio::null())
        .spawn()
        .expect("start pulseaudio");
    let pulse = Pulse { child, _dir: dir };
    wait_until_ready(&server, &socket);
    for args in [
        ["set-default-sink", "convene_speaker"],
        ["set-default-source", "convene_mic"],
    ] {
        let out = pactl(&server, &args).expect("run pactl");
        assert!(out.status.success(), "pactl {args:?}: {out:?}");
    }
    // Edition 2021: set_var is safe; this file has one test, so no other
    // thread reads the environment meanwhile.
    std::env::set_var("PULSE_SERVER", &server);
    pulse
}

fn wait_until_ready(server: &str, socket: &Path) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if socket.exists() && pactl(server, &["info"]).is_ok_and(|o| o.status.success()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the private PulseAudio daemon did not come up on {server}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

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
