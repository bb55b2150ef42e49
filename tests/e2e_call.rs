//! End-to-end call: alice in the real app (under Xvfb, through tauri-driver
//! and WebKitWebDriver) calls bob, who answers at a terminal with
//! `convene-cli answer`. The app shows ringing, then connected with bob's
//! test pattern arriving in the remote tile; bob decodes the app's video;
//! alice hangs up and both sides see the call end. Ignored by a plain
//! `cargo test`; `./scripts/test.sh` runs it with `--ignored`.

use std::time::Duration;

use convene_test_support::app::App;
use convene_test_support::artifacts_dir;
use convene_test_support::coturn::Coturn;
use convene_test_support::scene::AppScene;
use convene_test_support::terminal::{Finished, Running};
use convene_test_support::wait::wait_for_async;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);
const APP: &str = env!("CARGO_BIN_EXE_convene");

#[tokio::test]
#[ignore = "needs Xvfb, tauri-driver and a Secret Service: run through ./scripts/test.sh"]
async fn alice_in_the_app_calls_bob_at_a_terminal() {
    let scratch = tempfile::tempdir().unwrap();
    let artifacts = artifacts_dir("call");
    let scene = AppScene::open(scratch.path(), APP.as_ref()).await;
    let app = &scene.app;

    scene.open_chat_from_bob("Call me when you can").await;

    // Bob waits for the call at his terminal and lets it ring a little.
    let bob = bob_answers(
        &scene,
        &[
            "--ring-for",
            "2s",
            "--audio",
            "tone:660",
            "--video",
            "pattern",
        ],
    );

    app.click("[data-testid=call-video-button]").await;
    app.wait_for_attribute("[data-testid=call-view]", "data-stage", "ringing", WAIT)
        .await;
    app.screenshot(&artifacts.join("ringing.png")).await;
    app.wait_for_attribute("[data-testid=call-view]", "data-stage", "connected", WAIT)
        .await;

    // Bob's pattern reaches the remote tile, frame after frame.
    wait_for_frames(&scene, "[data-testid=call-remote-video]", 30).await;
    // Shown as soon as it comes, not at the next quality check (2 s).
    let remote_shown = app
        .client
        .find(fantoccini::Locator::Css("[data-testid=call-remote-video]"))
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap();
    assert!(remote_shown, "bob's picture is shown, not his initials");
    app.wait_for_text("[data-testid=call-duration]", "", WAIT)
        .await;
    app.screenshot(&artifacts.join("connected.png")).await;

    app.click("[data-testid=call-hangup]").await;
    app.wait_for_attribute("[data-testid=call-ended]", "data-reason", "hungUp", WAIT)
        .await;

    // Bob heard the hang-up and decoded the app's video (its test pattern).
    let summary = summary(wait_for(bob, WAIT));
    assert_eq!(summary["ended"], "remoteHungUp", "{summary}");
    assert!(
        summary["patternFrames"].as_u64().unwrap_or(0) > 10,
        "bob decoded the app's video: {summary}"
    );
    assert!(
        summary["psnrMeanDb"].as_f64().unwrap_or(0.0) > 30.0,
        "{summary}"
    );

    // The Calls tab lists it.
    app.click("[data-testid=rail-calls]").await;
    app.wait_for_content("[data-testid=call-history-row]", "Bob Example", WAIT)
        .await;
    app.screenshot(&artifacts.join("history.png")).await;
}

/// Bob's side allows only relayed media (`--relay-only`), so alice's app
/// must reach him through the TURN server (a real coturn) that the server
/// hands out with short-lived credentials. The call connects, video flows
/// both ways, and the app's quality details say the call goes through a
/// relay.
#[tokio::test]
#[ignore = "needs Xvfb, tauri-driver, coturn and a Secret Service: run through ./scripts/test.sh"]
async fn alice_in_the_app_reaches_bob_through_a_relay() {
    const TURN_SECRET: &str = "convene-e2e-relay";
    let turn = Coturn::start(TURN_SECRET, "convene");
    let flags = turn.server_flags();
    let scratch = tempfile::tempdir().unwrap();
    let artifacts = artifacts_dir("call-relay");
    let scene = AppScene::open_with(
        scratch.path(),
        APP.as_ref(),
        &[],
        &flags.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    let app = &scene.app;

    scene
        .open_chat_from_bob("I'm behind a strict firewall")
        .await;
    let mut bob = bob_answers(
        &scene,
        &["--relay-only", "--audio", "tone:660", "--video", "pattern"],
    );

    app.click("[data-testid=call-video-button]").await;
    app.wait_for_attribute("[data-testid=call-view]", "data-stage", "connected", WAIT)
        .await;
    wait_for_frames(&scene, "[data-testid=call-remote-video]", 30).await;

    // The quality details (the indicator's tooltip, shown on focus) name
    // the path once the first reading is in.
    app.click("[data-testid=call-quality]").await;
    app.wait_for_text("[role=tooltip]", "Through a relay server", WAIT)
        .await;
    app.screenshot(&artifacts.join("relayed.png")).await;
    // Bob's side has measured the relayed path too before the hang-up.
    bob.wait_for("call: media through a relay", WAIT);

    app.click("[data-testid=call-hangup]").await;
    let summary = summary(wait_for(bob, WAIT));
    assert_eq!(summary["ended"], "remoteHungUp", "{summary}");
    assert_eq!(summary["quality"]["relayed"], true, "{summary}");
    assert!(
        summary["patternFrames"].as_u64().unwrap_or(0) > 10,
        "bob decoded the app's video through the relay: {summary}"
    );
}

fn wait_for(bob: Running, timeout: Duration) -> Finished {
    bob.finish_within(timeout)
}

/// Bob calls alice while her window is in the background: a desktop
/// notification (on dunst, a real notification service) says who calls and
/// carries the buttons. It goes away when bob gives up; on the next call
/// Decline in the notification declines it; on the one after, Answer in the
/// notification connects the call in the app.
#[tokio::test]
#[ignore = "needs Xvfb, tauri-driver, dunst and a Secret Service: run through ./scripts/test.sh"]
async fn bob_calls_alice_who_answers_from_the_desktop_notification() {
    let scratch = tempfile::tempdir().unwrap();
    let artifacts = artifacts_dir("call-notification");
    let dunst = convene_test_support::dunst::Dunst::start();
    let scene = AppScene::open(scratch.path(), APP.as_ref()).await;
    let app = &scene.app;
    // Alice is in another window: the desktop notification is for her.
    app.client
        .minimize_window()
        .await
        .expect("minimise the window");
    let calling = |extra: &[&str]| {
        let mut args = vec![
            "call",
            "alice@convene.example",
            "--json",
            "--audio",
            "tone:440",
            "--video",
            "none",
        ];
        args.extend_from_slice(extra);
        Running::spawn("bob", scene.bob.command(&args))
    };

    // Bob gives up: the notification goes with the call.
    let bob = calling(&["--give-up-after", "4s"]);
    dunst.wait_displayed(1, WAIT);
    let ended = summary(wait_for(bob, WAIT));
    assert_eq!(ended["ended"], "hungUp", "{ended}");
    assert_eq!(ended["connected"], false, "{ended}");
    dunst.wait_displayed(0, WAIT);

    // Declined from the notification.
    let bob = calling(&["--give-up-after", "20s"]);
    dunst.wait_displayed(1, WAIT);
    let buttons = dunst.press("Decline");
    assert_eq!(buttons, ["Answer", "Decline", "Open"]);
    let ended = summary(wait_for(bob, WAIT));
    assert_eq!(ended["ended"], "declined", "{ended}");
    dunst.wait_displayed(0, WAIT);

    // Answered from the notification: the app is in the call.
    let bob = calling(&["--duration", "4s"]);
    dunst.wait_displayed(1, WAIT);
    dunst.press("Answer");
    app.wait_for_attribute("[data-testid=call-view]", "data-stage", "connected", WAIT)
        .await;
    dunst.wait_displayed(0, WAIT);
    app.screenshot(&artifacts.join("answered.png")).await;
    let ended = summary(wait_for(bob, WAIT));
    assert_eq!(ended["ended"], "hungUp", "{ended}");
    assert_eq!(ended["connected"], true, "{ended}");
    app.wait_for_attribute(
        "[data-testid=call-ended]",
        "data-reason",
        "remoteHungUp",
        WAIT,
    )
    .await;
}

/// Alice has a camera (PipeWire's video test source on a private PipeWire
/// with WirePlumber, as a desktop would route a webcam): the device picker
/// lists it, her self-view shows it, and bob receives its pictures, not the
/// test pattern the app falls back to without a camera. Camera off releases
/// it, choosing her other camera mid-call switches to it, and a headset
/// and a camera plugged in while the device picker is open show up in it.
#[tokio::test]
#[ignore = "needs Xvfb, tauri-driver, PipeWire and a Secret Service: run through ./scripts/test.sh"]
async fn alice_sends_her_camera_to_bob() {
    let scratch = tempfile::tempdir().unwrap();
    let artifacts = artifacts_dir("call-camera");
    let pipewire = convene_test_support::pipewire::Session::start_with_cameras(&[
        (FIRST_CAMERA, "Test Camera"),
        (SECOND_CAMERA, "Second Camera"),
    ]);
    let runtime = pipewire.runtime_dir().display().to_string();
    // One more ALSA configuration file for the app, empty for now: a
    // headset is "plugged in" by defining one there, since ALSA reloads its
    // configuration when one of these files changes. (A real USB headset
    // shows up as a new sound card instead; this machine has none.)
    let sound_devices = scratch.path().join("sound-devices.conf");
    std::fs::write(&sound_devices, "").unwrap();
    let alsa_config = format!("/usr/share/alsa/alsa.conf:{}", sound_devices.display());
    let scene = AppScene::open_with_env(
        scratch.path(),
        APP.as_ref(),
        &[
            ("PIPEWIRE_RUNTIME_DIR", runtime),
            ("ALSA_CONFIG_PATH", alsa_config),
        ],
    )
    .await;
    let app = &scene.app;

    scene.open_chat_from_bob("Show me").await;
    let bob = bob_answers(&scene, &["--audio", "tone:660", "--video", "none"]);

    app.click("[data-testid=call-video-button]").await;
    app.wait_for_attribute("[data-testid=call-view]", "data-stage", "connected", WAIT)
        .await;
    wait_for_frames(&scene, "[data-testid=call-local-video]", 10).await;
    pipewire.wait_for_node(CAMERA_STREAM, true);

    // Camera off releases the camera (its light would go off); back on,
    // it opens again and the pictures carry on.
    app.click("[data-testid=call-camera]").await;
    pipewire.wait_for_node(CAMERA_STREAM, false);
    app.click("[data-testid=call-camera]").await;
    pipewire.wait_for_node(CAMERA_STREAM, true);
    let before = frames_drawn(app, "[data-testid=call-local-video]").await;
    wait_for_frames(&scene, "[data-testid=call-local-video]", before + 10).await;

    // Choosing the other camera mid-call switches to it at once: the
    // capture stream is fed by it, and the pictures carry on.
    let (current, other) = if pipewire.is_linked(FIRST_CAMERA, CAMERA_STREAM) {
        (FIRST_CAMERA, SECOND_CAMERA)
    } else {
        (SECOND_CAMERA, FIRST_CAMERA)
    };
    app.click("[data-testid=call-devices]").await;
    app.wait_for_content("[role=menu]", "Second Camera", WAIT)
        .await;
    app.screenshot(&artifacts.join("camera.png")).await;

    // A headset plugged in while the picker is open shows up in it.
    std::fs::write(
        &sound_devices,
        "pcm.convene_headset {\n  type null\n  hint { show on description \"Test Headset\" }\n}\n",
    )
    .unwrap();
    app.wait_for_content("[role=menu]", "convene_headset", WAIT)
        .await;
    // So does a camera.
    pipewire.add_camera(THIRD_CAMERA, "Third Camera");
    app.wait_for_content("[role=menu]", "Third Camera", WAIT)
        .await;

    app.click(&format!("[data-testid=camera-{other}]")).await;
    pipewire.wait_for_link(other, CAMERA_STREAM);
    assert!(
        !pipewire.is_linked(current, CAMERA_STREAM),
        "{current} was released"
    );
    let before = frames_drawn(app, "[data-testid=call-local-video]").await;
    wait_for_frames(&scene, "[data-testid=call-local-video]", before + 10).await;

    app.click("[data-testid=call-hangup]").await;
    let summary = summary(wait_for(bob, WAIT));
    assert_eq!(summary["ended"], "remoteHungUp", "{summary}");
    assert!(
        summary["videoFramesDecoded"].as_u64().unwrap_or(0) > 20,
        "bob received alice's video: {summary}"
    );
    assert_eq!(
        summary["patternFrames"], 0,
        "what bob saw came from the camera, not the stand-in pattern: {summary}"
    );
}

/// Bob waits at his terminal for a call (`convene-cli answer --json ARGS`),
/// once he is listening.
fn bob_answers(scene: &AppScene, args: &[&str]) -> Running {
    let mut all = vec!["answer", "--json"];
    all.extend_from_slice(args);
    let mut bob = Running::spawn("bob", scene.bob.command(&all));
    bob.wait_for("waiting for a call", WAIT);
    bob
}

/// The test cameras (PipeWire nodes) the camera test offers the app.
const FIRST_CAMERA: &str = "convene-test-camera";
const SECOND_CAMERA: &str = "convene-second-camera";
/// Plugged in mid-call.
const THIRD_CAMERA: &str = "convene-third-camera";

/// The PipeWire node the app's camera capture shows up as.
const CAMERA_STREAM: &str = convene_media::camera::CAPTURE_NODE_NAME;

/// Frames the video tile at `css` has drawn.
async fn frames_drawn(app: &App, css: &str) -> u64 {
    app.client
        .find(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .attr("data-frames")
        .await
        .unwrap()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Waits until the video tile at `css` has drawn more than `count` frames;
/// the app's log tells why when it does not.
async fn wait_for_frames(scene: &AppScene, css: &str, count: u64) {
    let drew = wait_for_async(WAIT, || async {
        let frames = frames_drawn(&scene.app, css).await;
        (frames > count).then_some(frames)
    })
    .await;
    if drew.is_none() {
        let frames = frames_drawn(&scene.app, css).await;
        panic!(
            "{css} drew {frames} frames; the app logged:\n{}",
            scene.home().logs()
        );
    }
}

/// The last JSON line a `convene-cli call`/`answer` printed: its summary.
fn summary(finished: Finished) -> Value {
    finished
        .last_json()
        .unwrap_or_else(|| panic!("a summary: {finished:?}"))
}
