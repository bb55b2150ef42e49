//! Two people call each other from two terminals through
//! `convene-server --dev`: real WebRTC between two `convene-cli` processes.
//! Each side sends a tone and a test pattern; the test checks the tone the
//! other side recorded (Goertzel) and the pattern frames it decoded (PSNR).
//! Then every other way a call goes, as the people in it notice: decline,
//! cancel, busy, no answer, answered on another device, a callee whose
//! process dies, media through a real TURN relay, and a server restart in
//! the middle of a call. Each checks the exit codes, the `ended` reason on
//! both sides and the server's call history (`convene-cli calls`).

use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use convene_e2e::voice::write_voice;
use convene_media::{read_wav_mono, tone_power};
use convene_test_support::coturn::Coturn;
use convene_test_support::dev_server::DevServer;
use convene_test_support::pulse::{read_raw, Pulse};
use convene_test_support::terminal::{Person, Running};
use convene_test_support::wait::wait_for;
use serde_json::Value;

const ALICE: &str = "alice@convene.example";
const BOB: &str = "bob@convene.example";
const CAROL: &str = "carol@convene.example";

/// `convene-cli call`/`answer` exit code when the call did not connect.
const NOT_CONNECTED: i32 = 5;
/// … and when it connected and then failed.
const CALL_FAILED: i32 = 6;

/// The demo users are the same people on every dev server and the test
/// session has one keyring, so these tests take turns.
static KEYRING: Mutex<()> = Mutex::new(());

/// A dev server of this test's own, taken in turns with the other tests.
struct Room {
    server: DevServer,
    scratch: tempfile::TempDir,
    // Last, so the server is gone before the next test's turn.
    _turn: MutexGuard<'static, ()>,
}

impl Room {
    /// A dev server started with more flags (e.g. a short ring timeout).
    fn open(flags: &[&str]) -> Self {
        let turn = KEYRING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let scratch = tempfile::tempdir().unwrap();
        let server = DevServer::start_with(scratch.path(), flags);
        Self {
            server,
            scratch,
            _turn: turn,
        }
    }

    /// A room where alice and bob are signed in, each at their own terminal.
    fn with_alice_and_bob(flags: &[&str]) -> (Self, Person, Person) {
        let room = Self::open(flags);
        let (alice, bob) = (room.person(ALICE), room.person(BOB));
        (room, alice, bob)
    }

    /// Someone at their own terminal (their own home), signed in.
    fn person(&self, username: &'static str) -> Person {
        Person::signed_in(&self.server, username)
    }

    fn file(&self, name: &str) -> String {
        self.scratch.path().join(name).display().to_string()
    }
}

/// How a terminal's call ended: its exit code and `--json` summary.
struct Ended {
    who: &'static str,
    code: Option<i32>,
    summary: Value,
    stderr: String,
}

/// A running `convene-cli call …` or `answer …` (`--json`): the stages it
/// announces on stderr ("call: connected") are read as they come.
fn spawn(who: &'static str, mut command: Command) -> Running {
    command.arg("--json");
    Running::spawn(who, command)
}

/// How a terminal's call ends.
trait Ends {
    /// Waits up to 40 s for the call to end by itself.
    fn end(self) -> Ended;
    /// Waits up to `within` for the call to end by itself.
    fn end_within(self, within: Duration) -> Ended;
}

impl Ends for Running {
    fn end(self) -> Ended {
        self.end_within(Duration::from_secs(40))
    }

    fn end_within(self, within: Duration) -> Ended {
        let who = self.who();
        let finished = Running::finish_within(self, within);
        let summary = finished.last_json().unwrap_or_else(|| {
            panic!(
                "{who} printed no JSON summary ({}): {}\n{}",
                finished.status, finished.stdout, finished.stderr
            )
        });
        eprintln!("{who}: {summary}");
        Ended {
            who,
            code: finished.status.code(),
            summary,
            stderr: finished.stderr,
        }
    }
}

impl Ended {
    /// The exit code and the reason the person is shown.
    fn expect(&self, code: i32, reason: &str) -> &Self {
        assert_eq!(
            (self.code, self.summary["ended"].as_str()),
            (Some(code), Some(reason)),
            "{}: {}\n{}",
            self.who,
            self.summary,
            self.stderr
        );
        assert_eq!(
            self.summary["connected"],
            code != NOT_CONNECTED,
            "{}: {}",
            self.who,
            self.summary
        );
        self
    }
}

/// `convene-cli call USER ARGS… --json`.
fn call(person: &Person, who: &'static str, callee: &str, args: &[&str]) -> Running {
    let mut all = vec!["call", callee];
    all.extend_from_slice(args);
    spawn(who, person.command(&all))
}

/// `convene-cli answer ARGS… --json`, once it waits with its live channel
/// up, so a call placed next rings there.
fn answering(person: &Person, who: &'static str, args: &[&str]) -> Running {
    let mut all = vec!["answer"];
    all.extend_from_slice(args);
    let mut terminal = spawn(who, person.command(&all));
    terminal.wait_for("waiting for a call", Duration::from_secs(20));
    terminal
}

/// Waits for the server's newest record of `person`'s calls to have
/// `outcome` (records are written a moment after the call ends).
fn recorded(person: &Person, outcome: &str) {
    let mut calls = Vec::new();
    let found = wait_for(Duration::from_secs(5), || {
        calls = person.json_lines(&["calls", "--json"]);
        (calls.first().and_then(|c| c["outcome"].as_str()) == Some(outcome)).then_some(())
    });
    assert!(
        found.is_some(),
        "the newest call should be recorded {outcome}: {calls:?}"
    );
}

/// The recording holds the `expected` tone, not the `other` one, through
/// both halves after the first second (setup, concealment). It is judged in
/// 100 ms windows, two thirds of each half clear: one Goertzel sum over
/// seconds would be cancelled by the phase jumps that a late packet leaves
/// in the tone, and a busy two-core machine drops a few.
fn heard(path: &str, expected: f64, other: f64) {
    let (rate, samples) = read_wav_mono(Path::new(path)).expect("the recording is a WAV file");
    assert_eq!(rate, 48_000);
    assert!(
        samples.len() > 96_000,
        "at least two seconds were recorded: {} samples",
        samples.len()
    );
    let windows: Vec<bool> = samples[48_000..]
        .chunks_exact(4_800)
        .map(|window| {
            let wanted = tone_power(window, rate, expected);
            let unwanted = tone_power(window, rate, other);
            wanted > 0.02 && wanted > unwanted * 50.0
        })
        .collect();
    let picture: String = windows
        .iter()
        .map(|&ok| if ok { '#' } else { '.' })
        .collect();
    eprintln!("{path}: {expected} Hz per 100 ms: {picture}");
    let (first, second) = windows.split_at(windows.len() / 2);
    for (half, part) in [("first", first), ("second", second)] {
        let clear = part.iter().filter(|&&ok| ok).count();
        if clear * 3 < part.len() * 2 {
            // Keep the recording for people to listen to.
            let name = Path::new(path).file_name().expect("a file name");
            let kept = convene_test_support::artifacts_dir("cli_call").join(name);
            let _ = std::fs::copy(path, &kept);
            panic!(
                "{}, {half} half: {expected} Hz is clear in {clear} of {} windows: {picture}",
                kept.display(),
                part.len()
            );
        }
    }
}

#[test]
fn two_terminals_hear_each_others_tone_and_see_each_others_pattern() {
    let (room, alice, bob) = Room::with_alice_and_bob(&[]);
    let (alice_heard, bob_heard) = (room.file("alice-heard.wav"), room.file("bob-heard.wav"));

    let bob_side = answering(
        &bob,
        "bob",
        &[
            "--audio", "tone:660", "--video", "pattern", "--record", &bob_heard,
        ],
    );
    let alice_side = call(
        &alice,
        "alice",
        BOB,
        &[
            "--audio",
            "tone:440",
            "--video",
            "pattern",
            "--duration",
            "4s",
            "--record",
            &alice_heard,
        ],
    );

    let alice_end = alice_side.end();
    let bob_end = bob_side.end();
    alice_end.expect(0, "hungUp");
    bob_end.expect(0, "remoteHungUp");
    for summary in [&alice_end.summary, &bob_end.summary] {
        assert!(summary["setupMs"].as_f64().is_some(), "{summary}");
        // 7.5 fps would be 30 frames, and more arrive on an idle machine;
        // on a busy two-core one a debug build may decode far fewer.
        assert!(
            summary["patternFrames"].as_u64().unwrap() >= 10,
            "pattern frames arrive: {summary}"
        );
        let psnr = summary["psnrMeanDb"].as_f64().unwrap();
        assert!(psnr > 30.0, "decoded frames match what was sent: {summary}");
    }
    assert_eq!(
        alice_end.summary["quality"]["relayed"], false,
        "no TURN server: media goes straight between the two: {}",
        alice_end.summary
    );
    heard(&bob_heard, 440.0, 660.0);
    heard(&alice_heard, 660.0, 440.0);
    recorded(&alice, "hungUp");
}

/// Alice at a terminal with a microphone and a speaker (a private
/// PulseAudio, reached through ALSA as on a desktop): what she says (a
/// 440 Hz tone in 300 ms bursts, played into the room) reaches bob, and
/// what she hears of bob plays aloud. Her microphone picks that up too,
/// but the echo canceller takes it out while her voice goes through, so
/// bob does not hear his own 660 Hz tone come back.
#[test]
fn a_terminal_talks_and_listens_through_its_sound_devices() {
    let (room, alice, bob) = Room::with_alice_and_bob(&[]);
    // In the room's turn: two sound servers at once would clash.
    let pulse = Pulse::start();
    let (alice_heard, bob_heard) = (room.file("alice-heard.wav"), room.file("bob-heard.wav"));
    let voice = room.file("voice.wav");
    // 30 s; a steady tone would be taken for noise and suppressed.
    write_voice(Path::new(&voice), 440.0, 0.3, 1_500, |n| (n / 15) % 2 == 0);
    let mut talking = pulse.play(Path::new(&voice));

    let bob_side = answering(
        &bob,
        "bob",
        &["--audio", "tone:660", "--record", &bob_heard],
    );
    let mut command = alice.command(&[
        "call",
        BOB,
        "--audio",
        "device",
        "--duration",
        "4s",
        "--record",
        &alice_heard,
    ]);
    command.env("PULSE_SERVER", pulse.server());
    let alice_side = spawn("alice", command);
    let alice_end = alice_side.end();
    let bob_end = bob_side.end();
    let _ = talking.kill();
    let _ = talking.wait();
    alice_end.expect(0, "hungUp");
    bob_end.expect(0, "remoteHungUp");

    heard(&alice_heard, 660.0, 440.0);
    let clear = |path: &str, frequency: f64, power: f64| {
        let (rate, samples) = read_wav_mono(Path::new(path)).expect("a WAV file");
        let windows: Vec<bool> = samples
            .get(48_000..)
            .unwrap_or_default()
            .chunks_exact(4_800)
            .map(|w| tone_power(w, rate, frequency) > power)
            .collect();
        windows.iter().filter(|&&ok| ok).count() as f64 / windows.len().max(1) as f64
    };
    // She talks half the time, at 0.09; while bob's tone plays too (he
    // never stops), the canceller lets her through some 15 dB softer, and
    // at times softer still; her pauses are some 90 dB down.
    let voice_share = clear(&bob_heard, 440.0, 0.0001);
    assert!(
        voice_share > 0.33,
        "bob hears alice's microphone in {voice_share:.2} of the call"
    );
    let echo_share = clear(&bob_heard, 660.0, 0.005);
    eprintln!("bob heard alice's voice in {voice_share:.2}, his echo in {echo_share:.2}");
    assert!(
        echo_share < 0.1,
        "bob heard his voice come back from alice's speaker in {echo_share:.2} of the call"
    );
}

/// Bob answers at a desk whose microphone hears his speaker (a private
/// PulseAudio looping one into the other, as a laptop without headphones
/// does). Alice talks; her voice plays aloud on his side and reaches his
/// microphone at nearly its own level, and the echo canceller the CLI
/// shares with the app takes it out again, so she does not hear herself
/// come back.
///
/// Her "voice" is a 440 Hz tone in 300 ms bursts, as speech comes: a
/// steady tone would be learnt as noise and taken down some 45 dB by the
/// noise suppressor alone, which would hide a canceller that does nothing.
#[test]
fn a_caller_does_not_hear_her_voice_come_back_from_the_other_sides_speaker() {
    let (room, alice, bob) = Room::with_alice_and_bob(&[]);
    // In the room's turn: two sound servers at once would clash.
    let pulse = Pulse::start();
    let alice_heard = room.file("alice-heard.wav");
    let voice = room.file("voice.wav");
    write_voice(Path::new(&voice), 440.0, 0.5, 1_500, |n| (n / 15) % 2 == 0);
    let bob_microphone = room.file("bob-microphone.raw");
    let mut microphone = pulse.record(Path::new(&bob_microphone));

    let mut command = bob.command(&["answer", "--audio", "device"]);
    command.env("PULSE_SERVER", pulse.server());
    let mut bob_side = spawn("bob", command);
    bob_side.wait_for("waiting for a call", Duration::from_secs(20));
    let alice_side = call(
        &alice,
        "alice",
        BOB,
        &[
            "--audio",
            &format!("file:{voice}"),
            "--duration",
            "8s",
            "--record",
            &alice_heard,
        ],
    );
    let alice_end = alice_side.end();
    let bob_end = bob_side.end();
    let _ = microphone.kill();
    let _ = microphone.wait();
    alice_end.expect(0, "hungUp");
    bob_end.expect(0, "remoteHungUp");

    // Per 100 ms window, dB against alice's voice (amplitude 0.5).
    let levels = |samples: &[i16]| -> Vec<f64> {
        samples
            .chunks_exact(4_800)
            .map(|w| 10.0 * (tone_power(w, 48_000, 440.0) / 0.25).max(1e-12).log10())
            .collect()
    };
    let picture = |levels: &[f64]| {
        let dbs: Vec<String> = levels.iter().map(|db| format!("{db:.0}")).collect();
        dbs.join(" ")
    };
    // What bob's microphone heard of his speaker: the echo as it would
    // come back without a canceller. Its level: the middle of its loudest
    // second.
    let at_microphone = levels(&read_raw(Path::new(&bob_microphone)));
    eprintln!(
        "bob's microphone, dB per 100 ms: {}",
        picture(&at_microphone)
    );
    let mut loudest = at_microphone.clone();
    loudest.sort_by(|a, b| b.total_cmp(a));
    let echo_db = loudest[loudest.len().min(10) / 2];
    // What came back to alice once the canceller had 3 s to learn the room
    // (it starts knowing nothing of it): the loudest of 20 windows, half of
    // them in her pauses.
    let (rate, samples) = read_wav_mono(Path::new(&alice_heard)).expect("a WAV file");
    assert_eq!(rate, 48_000);
    let came_back = levels(&samples);
    eprintln!("alice heard, dB per 100 ms: {}", picture(&came_back));
    let mut settled = came_back.get(30..).unwrap_or_default().to_vec();
    assert!(settled.len() >= 30, "3 s after the first 3 s: {settled:?}");
    settled.sort_by(|a, b| a.total_cmp(b));
    let back_db = settled[settled.len() * 19 / 20];
    eprintln!("alice's voice: {echo_db:.1} dB at bob's microphone, {back_db:.1} dB back at her");
    assert!(
        echo_db > -6.0,
        "bob's speaker played alice's voice into his microphone: {echo_db:.1} dB"
    );
    assert!(
        back_db < echo_db - 40.0,
        "alice heard her voice come back only {:.1} dB down",
        echo_db - back_db
    );
}

/// Alice says something, falls silent for three seconds, and speaks again.
/// Her silence goes as Opus DTX: a packet now and then instead of fifty a
/// second, which bob hears as silence; her words after it come through.
#[test]
fn a_silence_sends_next_to_nothing_and_speech_after_it_comes_through() {
    let (room, alice, bob) = Room::with_alice_and_bob(&[]);
    let bob_heard = room.file("bob-heard.wav");
    let said = room.file("said.wav");
    let rate = 48_000usize;
    // 1 s, 3 s of silence, 2 s.
    write_voice(Path::new(&said), 440.0, 0.3, 300, |n| {
        !(50..200).contains(&n)
    });

    let bob_side = answering(&bob, "bob", &["--audio", "none", "--record", &bob_heard]);
    let alice_side = call(
        &alice,
        "alice",
        BOB,
        &["--audio", &format!("file:{said}"), "--duration", "5500ms"],
    );
    alice_side.end().expect(0, "hungUp");
    let bob_end = bob_side.end();
    bob_end.expect(0, "remoteHungUp");

    let played = bob_end.summary["audioPlayedMs"].as_u64().unwrap();
    let received = bob_end.summary["audioReceivedMs"].as_u64().unwrap();
    assert!(
        received >= 2_000 && received * 4 < played * 3,
        "{received} ms came in packets for {played} ms played: the silence was not sent frame by frame"
    );
    let (_, heard) = read_wav_mono(Path::new(&bob_heard)).expect("bob's recording");
    let share = |from_ms: usize, to_ms: usize, loud: bool| {
        let part = heard
            .get(from_ms * rate / 1000..to_ms * rate / 1000)
            .unwrap_or_default();
        let windows: Vec<f64> = part
            .chunks_exact(rate / 10)
            .map(|w| tone_power(w, rate as u32, 440.0))
            .collect();
        let matching = windows.iter().filter(|&&p| (p > 0.01) == loud).count();
        matching as f64 / windows.len().max(1) as f64
    };
    let quiet = share(1_500, 3_700, false);
    assert!(
        quiet >= 0.9,
        "the silence is heard as silence in {quiet:.2} of it"
    );
    let again = share(4_300, 5_100, true);
    assert!(
        again >= 0.66,
        "speech after the silence is heard in {again:.2} of it"
    );
}

/// Once the other side reports a clean path (its first report comes
/// after 2 s), audio goes in 40 ms packets, half as many as 20 ms ones,
/// and still sounds as it should.
#[test]
fn on_a_clean_path_audio_goes_in_longer_packets() {
    let (room, alice, bob) = Room::with_alice_and_bob(&[]);
    let bob_heard = room.file("bob-heard.wav");

    let bob_side = answering(
        &bob,
        "bob",
        &["--audio", "tone:660", "--record", &bob_heard],
    );
    let alice_side = call(
        &alice,
        "alice",
        BOB,
        &["--audio", "tone:440", "--duration", "8s"],
    );
    alice_side.end().expect(0, "hungUp");
    let bob_end = bob_side.end();
    bob_end.expect(0, "remoteHungUp");

    let received = bob_end.summary["audioReceivedMs"].as_u64().unwrap();
    let packets = bob_end.summary["audioPacketsReceived"].as_u64().unwrap();
    // 2 s of 20 ms packets and 6 s of 40 ms ones make 32 ms on average;
    // 20 ms packets all along would make 20.
    let average = received as f64 / packets.max(1) as f64;
    assert!(
        received >= 6_000 && average > 27.0,
        "{received} ms in {packets} packets: {average:.1} ms a packet"
    );
    heard(&bob_heard, 440.0, 660.0);
}

#[test]
fn a_declined_call_ends_as_declined_for_the_caller() {
    let (_room, alice, bob) = Room::with_alice_and_bob(&[]);

    let bob_side = answering(&bob, "bob", &["--decline"]);
    let alice_side = call(&alice, "alice", BOB, &[]);

    alice_side.end().expect(NOT_CONNECTED, "declined");
    bob_side.end().expect(NOT_CONNECTED, "hungUp");
    recorded(&alice, "declined");
    recorded(&bob, "declined");
}

#[test]
fn a_caller_who_gives_up_cancels_the_ringing_call() {
    let (_room, alice, bob) = Room::with_alice_and_bob(&[]);

    let mut bob_side = answering(&bob, "bob", &["--ring-for", "10s"]);
    let alice_side = call(&alice, "alice", BOB, &["--give-up-after", "2s"]);
    bob_side.wait_for("incoming from", Duration::from_secs(10));

    let alice_end = alice_side.end_within(Duration::from_secs(10));
    alice_end.expect(NOT_CONNECTED, "hungUp");
    assert!(
        alice_end.summary["ringingMs"].as_f64().is_some(),
        "it rang before alice gave up: {}",
        alice_end.summary
    );
    // Bob hears of it at once, not when his ten seconds of ringing are up.
    bob_side
        .end_within(Duration::from_secs(5))
        .expect(NOT_CONNECTED, "cancelled");
    recorded(&bob, "cancelled");
}

#[test]
fn calling_someone_in_a_call_is_busy() {
    let (room, alice, bob) = Room::with_alice_and_bob(&[]);
    let carol = room.person(CAROL);

    let bob_side = answering(&bob, "bob", &[]);
    let mut alice_side = call(&alice, "alice", BOB, &["--duration", "6s"]);
    alice_side.wait_for("call: connected", Duration::from_secs(15));

    let carol_side = call(&carol, "carol", BOB, &[]);
    let carol_end = carol_side.end_within(Duration::from_secs(15));
    carol_end.expect(NOT_CONNECTED, "busy");

    alice_side.end().expect(0, "hungUp");
    bob_side.end().expect(0, "remoteHungUp");
    recorded(&carol, "busy");
    recorded(&alice, "hungUp");
}

#[test]
fn an_unanswered_call_ends_at_the_servers_ring_timeout() {
    let (_room, alice, bob) = Room::with_alice_and_bob(&["--call-ring-timeout", "2"]);

    let bob_side = answering(&bob, "bob", &["--ring-for", "30s"]);
    let started = Instant::now();
    let alice_side = call(&alice, "alice", BOB, &[]);

    alice_side
        .end_within(Duration::from_secs(15))
        .expect(NOT_CONNECTED, "noAnswer");
    // A missed call on bob's side too, not a cancelled one.
    bob_side
        .end_within(Duration::from_secs(5))
        .expect(NOT_CONNECTED, "noAnswer");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the 2 s ring timeout applied, not the default 45 s"
    );
    recorded(&alice, "noAnswer");
}

#[test]
fn a_call_answered_after_ringing_for_twenty_seconds_connects() {
    let (room, alice, bob) = Room::with_alice_and_bob(&[]);
    let bob_heard = room.file("bob-heard.wav");

    // Longer than ICE waits without candidates (18 s) while the callee's
    // connection is prepared during ringing.
    let bob_side = answering(
        &bob,
        "bob",
        &[
            "--ring-for",
            "20s",
            "--audio",
            "tone:660",
            "--video",
            "none",
            "--record",
            &bob_heard,
        ],
    );
    let started = Instant::now();
    let alice_side = call(
        &alice,
        "alice",
        BOB,
        &["--audio", "tone:440", "--video", "none", "--duration", "3s"],
    );
    let alice_end = alice_side.end_within(Duration::from_secs(60));
    alice_end.expect(0, "hungUp");
    assert!(started.elapsed() >= Duration::from_secs(23), "it rang 20 s");
    bob_side.end().expect(0, "remoteHungUp");
    heard(&bob_heard, 440.0, 660.0);
}

#[test]
fn a_call_answered_on_one_device_stops_ringing_on_the_other() {
    let room = Room::open(&[]);
    let alice = room.person(ALICE);
    // Bob on two machines: two homes, two processes, two live channels.
    let bob_desk = room.person(BOB);
    let bob_laptop = room.person(BOB);

    let desk = answering(&bob_desk, "bob at his desk", &["--ring-for", "1s"]);
    let mut laptop = answering(&bob_laptop, "bob on his laptop", &["--ring-for", "5s"]);
    let alice_side = call(&alice, "alice", BOB, &["--duration", "3s"]);
    laptop.wait_for("incoming from", Duration::from_secs(10));

    // The laptop stops ringing when the desk answers, long before its
    // five seconds are up.
    laptop
        .end_within(Duration::from_secs(8))
        .expect(NOT_CONNECTED, "answeredElsewhere");
    alice_side.end().expect(0, "hungUp");
    desk.end().expect(0, "remoteHungUp");
    recorded(&alice, "hungUp");
}

#[test]
fn a_callee_whose_process_dies_ends_the_call_as_failed() {
    let (_room, alice, bob) = Room::with_alice_and_bob(&["--call-resume-grace", "3"]);

    let mut bob_side = answering(&bob, "bob", &[]);
    let mut alice_side = call(&alice, "alice", BOB, &[]);
    alice_side.wait_for("call: connected", Duration::from_secs(15));
    bob_side.wait_for("call: connected", Duration::from_secs(5));

    bob_side.kill();
    let killed = Instant::now();
    // The server gives bob 3 s to come back; ICE gives up later still.
    let alice_end = alice_side.end_within(Duration::from_secs(20));
    // Connected, then failed: not a success.
    alice_end.expect(CALL_FAILED, "failed");
    eprintln!("alice's call ended {:?} after bob died", killed.elapsed());
    recorded(&alice, "failed");
}

const TURN_SECRET: &str = "convene-call-tests";

#[test]
fn relay_only_calls_go_through_a_real_turn_server() {
    let turn = Coturn::start(TURN_SECRET, "convene");
    let flags = turn.server_flags();
    let (room, alice, bob) =
        Room::with_alice_and_bob(&flags.iter().map(String::as_str).collect::<Vec<_>>());
    let (alice_heard, bob_heard) = (room.file("alice-heard.wav"), room.file("bob-heard.wav"));

    let bob_side = answering(
        &bob,
        "bob",
        &[
            "--relay-only",
            "--audio",
            "tone:660",
            "--record",
            &bob_heard,
        ],
    );
    let alice_side = call(
        &alice,
        "alice",
        BOB,
        &[
            "--relay-only",
            "--audio",
            "tone:440",
            "--record",
            &alice_heard,
            // Quality is read every 2 s: a few readings of the relayed path.
            "--duration",
            "6s",
        ],
    );

    let alice_end = alice_side.end();
    let bob_end = bob_side.end();
    alice_end.expect(0, "hungUp");
    bob_end.expect(0, "remoteHungUp");
    for end in [&alice_end, &bob_end] {
        assert_eq!(
            end.summary["quality"]["relayed"], true,
            "{}: media went through the relay: {}",
            end.who, end.summary
        );
    }
    heard(&bob_heard, 440.0, 660.0);
    heard(&alice_heard, 660.0, 440.0);
}

#[test]
fn a_call_carries_on_through_a_server_restart_and_hangs_up_after_it() {
    let mut room = Room::open(&[]);
    let alice = room.person(ALICE);
    let bob = room.person(BOB);
    let bob_heard = room.file("bob-heard.wav");

    let mut bob_side = answering(
        &bob,
        "bob",
        &["--audio", "tone:660", "--record", &bob_heard],
    );
    let mut alice_side = call(
        &alice,
        "alice",
        BOB,
        &["--audio", "tone:440", "--duration", "9s"],
    );
    // Both sides in the call, media flowing: the server goes now.
    alice_side.wait_for("call: connected", Duration::from_secs(15));
    bob_side.wait_for("call: connected", Duration::from_secs(5));

    let restarting = Instant::now();
    room.server.restart();
    eprintln!("the server restarted in {:?}", restarting.elapsed());

    // The hang-up after the restart reaches bob through the new server.
    alice_side.end().expect(0, "hungUp");
    bob_side
        .end_within(Duration::from_secs(10))
        .expect(0, "remoteHungUp");
    // Media never needed the server: bob heard alice all along.
    heard(&bob_heard, 440.0, 660.0);
    recorded(&alice, "hungUp");
}

/// A short outage: bob's process is frozen (SIGSTOP), so nothing of his
/// reaches alice, as when a laptop's Wi-Fi drops. Alice's side sees the
/// media stop and says it is reconnecting; when bob thaws, the call picks
/// up again without anyone hanging up, and both hear each other after it.
/// (How often ICE restarts while media is lost, and when it gives up, is
/// `convene-e2e`'s `call_outcomes` on a simulated clock.)
#[test]
fn a_short_outage_reconnects_without_hanging_up() {
    let (room, alice, bob) = Room::with_alice_and_bob(&[]);
    let (alice_heard, bob_heard) = (room.file("alice-heard.wav"), room.file("bob-heard.wav"));

    let mut bob_side = answering(
        &bob,
        "bob",
        &["--audio", "tone:660", "--record", &bob_heard],
    );
    let mut alice_side = call(
        &alice,
        "alice",
        BOB,
        &[
            "--audio",
            "tone:440",
            // Alice hangs up (SIGTERM) once the call is back; this is
            // only the backstop.
            "--duration",
            "60s",
            "--record",
            &alice_heard,
        ],
    );
    alice_side.wait_for("call: connected", Duration::from_secs(15));
    bob_side.wait_for("call: connected", Duration::from_secs(5));

    bob_side.signal("STOP");
    alice_side.wait_for("call: reconnecting", Duration::from_secs(10));
    bob_side.signal("CONT");
    // "connected" was said once at the start; the second time is after
    // the outage.
    alice_side.wait_for_times("call: connected", 2, Duration::from_secs(15));
    // Real media for 3 s after the comeback: the recordings' last 2 s are measured.
    std::thread::sleep(Duration::from_secs(3));
    alice_side.signal("TERM");

    let alice_end = alice_side.end();
    alice_end.expect(0, "hungUp");
    let bob_end = bob_side.end();
    bob_end.expect(0, "remoteHungUp");
    // After the outage both hear each other again: the last two seconds of
    // each recording hold the other's tone.
    for (path, expected, other) in [(&alice_heard, 660.0, 440.0), (&bob_heard, 440.0, 660.0)] {
        let (rate, samples) = read_wav_mono(Path::new(path)).unwrap();
        let tail = &samples[samples.len().saturating_sub(2 * rate as usize)..];
        let wanted = tone_power(tail, rate, expected);
        assert!(
            wanted > 0.02 && wanted > tone_power(tail, rate, other) * 50.0,
            "{path}: {expected} Hz after the outage: {wanted}\nalice:\n{}\nbob:\n{}",
            alice_end.stderr,
            bob_end.stderr
        );
    }
}
