//! Call figures, side by side in one run, between two `convene-cli`
//! processes on loopback through `convene-server --dev`:
//!
//! - answer → first decoded audio, over 20 calls (the callee's clock: from
//!   its answer to the first 20 ms of the caller's tone coming out of its
//!   decoder; and the caller's: from hearing of the answer);
//! - CPU, wake-ups and memory of each client in three audio calls (over
//!   10 connected seconds each) in which both sides talk all the time (a
//!   tone each way), three in which they take turns (each speaks for 2 s,
//!   then listens for 2 s: its silence goes as Opus DTX), and a 720p video
//!   call (over 6 s), from /proc.
//!
//! Needs a Secret Service and release builds: `./scripts/bench-calls.sh`
//! sets that up. Prints figures; it never fails on a timing.

use std::time::{Duration, Instant};

use convene_e2e::voice::write_voice;
use convene_test_support::dev_server::DevServer;
use convene_test_support::procs::{context_switches, rss_kib, thread_cpu_seconds};
use convene_test_support::terminal::{Person, Running};
use serde_json::Value;

const BOB: &str = "bob@convene.example";
const SETUP_CALLS: usize = 20;
/// A single audio call's figure moves by a quarter from one minute to the
/// next on a shared machine; the median of a few says more.
const AUDIO_CALLS: usize = 3;
/// In the calls with turns, each side speaks this long, then listens.
const TURN_FRAMES: usize = 100;

/// Who says what in a call: `convene-cli --audio` values.
struct Voices<'a> {
    caller: &'a str,
    callee: &'a str,
}

const TONES: Voices = Voices {
    caller: "tone:440",
    callee: "tone:660",
};

fn main() {
    let scratch = tempfile::tempdir().unwrap();
    let server = DevServer::start(scratch.path());
    let alice = Person::signed_in(&server, "alice@convene.example");
    let bob = Person::signed_in(&server, BOB);

    println!("answer → first decoded audio, {SETUP_CALLS} calls (ms)");
    let mut callee = Vec::new();
    let mut caller = Vec::new();
    let mut connect = Vec::new();
    for _ in 0..SETUP_CALLS {
        let (alice_summary, bob_summary, _) = call(&alice, &bob, &TONES, "1s", "none", None);
        callee.extend(bob_summary["setupMs"].as_f64());
        caller.extend(alice_summary["setupMs"].as_f64());
        connect.extend(bob_summary["connectMs"].as_f64());
    }
    report("callee: its answer → first audio", &mut callee);
    report("caller: answer heard → first audio", &mut caller);
    report("callee: its answer → media connected", &mut connect);

    let caller_turns = scratch.path().join("caller-turns.wav");
    let callee_turns = scratch.path().join("callee-turns.wav");
    write_turns(&caller_turns, 440.0, true);
    write_turns(&callee_turns, 660.0, false);
    let (caller_voice, callee_voice) = (
        format!("file:{}", caller_turns.display()),
        format!("file:{}", callee_turns.display()),
    );
    let turns = Voices {
        caller: &caller_voice,
        callee: &callee_voice,
    };
    for (label, voices) in [
        ("both talking all the time", &TONES),
        ("taking turns", &turns),
    ] {
        let mut audio = Vec::new();
        for run in 1..=AUDIO_CALLS {
            let (alice_summary, bob_summary, usage) = call(
                &alice,
                &bob,
                voices,
                "16s",
                "none",
                Some(Duration::from_secs(10)),
            );
            let usage = usage.expect("measured");
            println!("\naudio call {run} of {AUDIO_CALLS}, {label}, 10 s of the connected call:");
            print_usage(usage, &alice_summary, &bob_summary);
            audio.extend([usage.0.cpu_percent, usage.1.cpu_percent]);
        }
        println!("\naudio calls {label}, both clients of all {AUDIO_CALLS}:");
        report("CPU per client (% of a core)", &mut audio);
    }

    let (alice_summary, bob_summary, usage) = call(
        &alice,
        &bob,
        &TONES,
        "10s",
        "pattern:1280x720",
        Some(Duration::from_secs(6)),
    );
    println!("\n720p video call, 6 s of the connected call:");
    print_usage(usage.expect("measured"), &alice_summary, &bob_summary);
}

fn print_usage(usage: (Usage, Usage), alice: &Value, bob: &Value) {
    for (who, u, summary) in [("caller", usage.0, alice), ("callee", usage.1, bob)] {
        println!(
            "  {who}: CPU {:.2} % of a core, {:.0} wake-ups/s, {:.0} audio packets in/s, RSS {:.1} MB, {} video frames decoded, send {:.0} kbit/s",
            u.cpu_percent,
            u.wake_ups_per_second,
            summary["audioPacketsReceived"].as_f64().unwrap_or(0.0)
                / summary["durationSecs"].as_f64().unwrap_or(1.0).max(1.0),
            u.rss_kb as f64 / 1024.0,
            summary["videoFramesDecoded"],
            summary["quality"]["sendKbps"].as_f64().unwrap_or(0.0),
        );
    }
}

fn report(label: &str, samples: &mut [f64]) {
    if samples.is_empty() {
        println!("  {label}: no samples");
        return;
    }
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "  {label}: median {:.1}, p90 {:.1}, min {:.1}, max {:.1} (n = {})",
        at(0.5),
        at(0.9),
        samples[0],
        samples[samples.len() - 1],
        samples.len()
    );
}

#[derive(Debug, Clone, Copy)]
struct Usage {
    cpu_percent: f64,
    wake_ups_per_second: f64,
    rss_kb: u64,
}

/// One call of `duration`, both sides sending `video`; with `measure`, CPU
/// and memory of both processes over that long from two seconds after the
/// caller connected.
fn call(
    alice: &Person,
    bob: &Person,
    voices: &Voices,
    duration: &str,
    video: &str,
    measure: Option<Duration>,
) -> (Value, Value, Option<(Usage, Usage)>) {
    let answer = [
        "answer",
        "--json",
        "--audio",
        voices.callee,
        "--video",
        video,
    ];
    let mut bob_side = Running::spawn("bob", bob.command(&answer));
    bob_side.wait_for("waiting for a call", Duration::from_secs(20));
    let place = [
        "call",
        BOB,
        "--json",
        "--audio",
        voices.caller,
        "--video",
        video,
        "--duration",
        duration,
    ];
    let mut alice_side = Running::spawn("alice", alice.command(&place));
    let usage = measure.map(|window| {
        alice_side.wait_for("call: connected", Duration::from_secs(20));
        // Past the call's start-up: the steady state is measured.
        std::thread::sleep(Duration::from_secs(2));
        let (a, b) = (alice_side.id(), bob_side.id());
        let read = |pid| (thread_cpu_seconds(pid), context_switches(pid));
        let before = (read(a), read(b));
        let start = Instant::now();
        // The measured window of real media.
        std::thread::sleep(window);
        let seconds = start.elapsed().as_secs_f64();
        let after = (read(a), read(b));
        let usage = |before: (f64, u64), after: (f64, u64), pid| Usage {
            cpu_percent: (after.0 - before.0) / seconds * 100.0,
            wake_ups_per_second: after.1.saturating_sub(before.1) as f64 / seconds,
            rss_kb: rss_kib(pid),
        };
        (usage(before.0, after.0, a), usage(before.1, after.1, b))
    });
    (summary(alice_side), summary(bob_side), usage)
}

/// 20 s of one side of a conversation: a tone for each turn it speaks,
/// silence while the other side does.
fn write_turns(path: &std::path::Path, frequency: f64, speaks_first: bool) {
    write_voice(path, frequency, 0.3, 1_000, |n| {
        (n / TURN_FRAMES).is_multiple_of(2) == speaks_first
    });
}

/// The call's `--json` summary, once the process has ended.
fn summary(side: Running) -> Value {
    let finished = side.finish_within(Duration::from_secs(120));
    finished
        .last_json()
        .unwrap_or_else(|| panic!("a JSON summary: {finished:?}"))
}
