//! End-to-end: the real app binary in a real window under Xvfb, driven
//! through tauri-driver and WebKitWebDriver, against a real convene-server.
//!
//! They need a display, tauri-driver and the built workspace, so they are
//! ignored by a plain `cargo test`; `./scripts/test.sh` runs them with
//! `--ignored` after starting Xvfb.

mod support;

use std::time::Duration;

use support::app::{AppHome, TauriDriver};
use support::server::DevServer;

const STATE: &str = "[data-testid=connection-state]";
const WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
#[ignore = "needs Xvfb and tauri-driver: run through ./scripts/test.sh"]
async fn sign_in_screen_shows_the_server_going_away_and_coming_back() {
    let scratch = tempfile::tempdir().unwrap();
    let artifacts = support::artifacts_dir("sign-in-screen");
    let mut server = DevServer::start(&scratch.path().join("server"));
    let home = AppHome::new(&scratch.path().join("home"));
    let driver = TauriDriver::start(&home, &[("CONVENE_SERVER", server.url())]);
    let app = driver.launch(env!("CARGO_BIN_EXE_convene").as_ref()).await;

    // The first screen is sign-in, naming the server it will use.
    let took = app
        .wait_for_attribute(STATE, "data-state", "reachable", WAIT)
        .await;
    eprintln!("reachable shown after {took:?}");
    let server_url = app.text("[data-testid=server-url]").await;
    assert!(
        server_url.contains(&server.addr.to_string()),
        "sign-in screen names {server_url:?}, not {}",
        server.addr
    );
    app.screenshot(&artifacts.join("reachable.png")).await;

    // The server goes away: the screen says so.
    server.stop();
    let took = app
        .wait_for_attribute(STATE, "data-state", "unreachable", WAIT)
        .await;
    eprintln!("unreachable shown after {took:?}");
    let state_text = app.text(STATE).await;
    assert!(
        state_text.to_lowercase().contains("can't reach"),
        "unreachable state reads {state_text:?}"
    );
    app.screenshot(&artifacts.join("unreachable.png")).await;

    // It comes back on the same address: the screen recovers by itself.
    server.restart();
    let took = app
        .wait_for_attribute(STATE, "data-state", "reachable", WAIT)
        .await;
    eprintln!("recovered after {took:?}");
    app.screenshot(&artifacts.join("recovered.png")).await;
    app.close().await;
    drop(driver);

    // The shell logged to its rotating file in the XDG state directory.
    let logs: Vec<_> = std::fs::read_dir(home.log_dir())
        .expect("the app created its log directory")
        .filter_map(Result::ok)
        .collect();
    assert!(
        !logs.is_empty(),
        "no log file in {}",
        home.log_dir().display()
    );
}
