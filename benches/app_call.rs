//! The real app in a 720p video call: alice in the app (under Xvfb, through
//! tauri-driver) calls bob, whose `convene-cli answer` sends a 1280×720
//! test pattern at 30 fps. Over ten connected seconds it prints the frames
//! the window drew per second, the CPU the app used (its process and the
//! WebKit processes under it) and their memory (PSS), then the same for an
//! audio-only call.
//!
//! Needs a display, tauri-driver, a Secret Service and release builds:
//! `./scripts/bench-app-call.sh` sets all of that up. Prints figures; it
//! never fails on a timing.

use std::time::{Duration, Instant};

use convene_test_support::app::{app_pid, App};
use convene_test_support::procs::{cpu_seconds, pss_kib, tree};
use convene_test_support::scene::AppScene;
use convene_test_support::terminal::Running;

const APP: &str = env!("CARGO_BIN_EXE_convene");
const WAIT: Duration = Duration::from_secs(60);
const WINDOW: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() {
    let scratch = tempfile::tempdir().unwrap();
    let scene = AppScene::open(scratch.path(), APP.as_ref()).await;
    let app = &scene.app;
    let pid = app_pid(APP.as_ref(), scene.home()).expect("the app's process");

    scene.open_chat_from_bob("Call me").await;
    // Let the chat's first paint and sync settle before the idle figure.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = tree(pid);
    println!(
        "app idle in a chat: PSS {:.1} MB over {} processes",
        idle.iter().map(|&p| pss_kib(p)).sum::<u64>() as f64 / 1024.0,
        idle.len()
    );

    for (label, button, video) in [
        ("720p video call", "call-video-button", "pattern:1280x720"),
        ("audio call", "call-audio-button", "none"),
    ] {
        let bob = answering(&scene, video);
        app.click(&format!("[data-testid={button}]")).await;
        app.wait_for_attribute("[data-testid=call-view]", "data-stage", "connected", WAIT)
            .await;
        // Past the call's start-up: the steady state is measured.
        tokio::time::sleep(Duration::from_secs(2)).await;

        let pids = tree(pid);
        let frames_before = frames(app).await;
        let cpu_before = cpu_seconds(&pids);
        let started = Instant::now();
        // The measured window of the call.
        tokio::time::sleep(WINDOW).await;
        let seconds = started.elapsed().as_secs_f64();
        let cpu = (cpu_seconds(&pids) - cpu_before) / seconds * 100.0;
        let fps = (frames(app).await - frames_before) as f64 / seconds;
        let pss = pids.iter().map(|&p| pss_kib(p)).sum::<u64>() as f64 / 1024.0;
        println!(
            "{label}: {fps:.1} frames drawn/s, app CPU {cpu:.1} % of a core \
             (app and WebKit processes), PSS {pss:.1} MB over {} processes",
            pids.len()
        );

        app.click("[data-testid=call-hangup]").await;
        app.wait_for_text("[data-testid=call-ended]", "", WAIT)
            .await;
        let _ = bob.finish_within(WAIT);
        // The ended call's view goes and the chat is back before the next
        // call.
        app.wait_for_absent("[data-testid=call-view]", WAIT).await;
    }
}

/// Bob waits for a call at his terminal, once he is listening.
fn answering(scene: &AppScene, video: &str) -> Running {
    let mut bob = Running::spawn(
        "bob",
        scene
            .bob
            .command(&["answer", "--json", "--audio", "tone:660", "--video", video]),
    );
    bob.wait_for("waiting for a call", WAIT);
    bob
}

/// Frames the remote tile has drawn so far (0 when there is none).
async fn frames(app: &App) -> u64 {
    let Ok(tile) = app
        .client
        .find(fantoccini::Locator::Css("[data-testid=call-remote-video]"))
        .await
    else {
        return 0;
    };
    tile.attr("data-frames")
        .await
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
