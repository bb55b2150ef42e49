//! End-to-end: the real app binary in a real window under Xvfb, driven
//! through tauri-driver and WebKitWebDriver, against a real convene-server.
//!
//! They need a display, tauri-driver and the built workspace, so they are
//! ignored by a plain `cargo test`; `./scripts/test.sh` runs them with
//! `--ignored` after starting Xvfb.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use convene_test_support::app::{app_pid, wait_for_exit, App, AppHome, TauriDriver};
use convene_test_support::dev_server::DevServer;
use convene_test_support::wait::{wait_for, wait_until};
use convene_test_support::{artifacts_dir, scripted_browser, text_files_under, workspace_binary};

const STATE: &str = "[data-testid=connection-state]";
const WAIT: Duration = Duration::from_secs(30);
const APP: &str = env!("CARGO_BIN_EXE_convene");

/// A dev server, and Convene on its sign-in screen showing it reachable.
/// Fields drop in order: the window first, the server last.
struct SignInScene {
    app: App,
    driver: TauriDriver,
    env: Vec<(&'static str, String)>,
    home: AppHome,
    server: DevServer,
}

impl SignInScene {
    async fn open(scratch: &Path) -> Self {
        Self::open_with(scratch, Vec::new()).await
    }

    /// `extra` environment for the app, e.g. a scripted `$BROWSER`.
    async fn open_with(scratch: &Path, extra: Vec<(&'static str, String)>) -> Self {
        let server = DevServer::start(&scratch.join("server"));
        let home = AppHome::new(&scratch.join("home"));
        let mut env = vec![("CONVENE_SERVER", server.url())];
        env.extend(extra);
        let driver = TauriDriver::start(&home, &env);
        let app = driver.launch(APP.as_ref()).await;
        let took = app
            .wait_for_attribute(STATE, "data-state", "reachable", WAIT)
            .await;
        eprintln!("reachable shown after {took:?}");
        Self {
            app,
            driver,
            env,
            home,
            server,
        }
    }

    /// Launches the app again in this scene's home and environment.
    async fn relaunch(&mut self) {
        self.driver = TauriDriver::start(&self.home, &self.env);
        self.app = self.driver.launch(APP.as_ref()).await;
    }
}

#[tokio::test]
#[ignore = "needs Xvfb and tauri-driver: run through ./scripts/test.sh"]
async fn sign_in_screen_shows_the_server_going_away_and_coming_back() {
    let scratch = tempfile::tempdir().unwrap();
    let artifacts = artifacts_dir("sign-in-screen");
    let SignInScene {
        app,
        driver,
        home,
        mut server,
        ..
    } = SignInScene::open(scratch.path()).await;

    // The first screen is sign-in, naming the server it will use.
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
    assert!(
        home.logs().contains("first screen rendered"),
        "no log of the start-up in {}",
        home.log_dir().display()
    );
}

#[tokio::test]
#[ignore = "needs Xvfb and tauri-driver: run through ./scripts/test.sh"]
async fn a_second_launch_hands_over_to_the_running_window() {
    let scratch = tempfile::tempdir().unwrap();
    let scene = SignInScene::open(scratch.path()).await;

    // Launch Convene again, as a person clicking its icon would.
    let mut second = Command::new(APP);
    scene.home.apply(&mut second);
    let mut second = second
        .envs(scene.env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start a second Convene");
    let status = wait_for(Duration::from_secs(20), || second.try_wait().unwrap())
        .expect("the second launch kept running instead of handing over");
    assert!(status.success(), "second launch exited with {status}");

    // The first one got the hand-over and still serves its window.
    assert!(
        wait_until(Duration::from_secs(10), || scene
            .home
            .logs()
            .contains("second launch: focusing the running instance")),
        "the running app never heard of the second launch"
    );
    let screen = scene.app.text("[data-testid=sign-in-screen]").await;
    assert!(screen.contains("Convene"), "{screen}");
}

#[tokio::test]
#[ignore = "needs Xvfb and tauri-driver: run through ./scripts/test.sh"]
async fn the_window_comes_back_with_the_size_it_had() {
    let scratch = tempfile::tempdir().unwrap();
    let mut scene = SignInScene::open(scratch.path()).await;
    let (width, height) = (913, 657);
    scene
        .app
        .client
        .set_window_size(width, height)
        .await
        .expect("resize the window");
    let resized = scene.app.client.get_window_size().await.unwrap();
    assert_eq!(resized, (width.into(), height.into()));

    // Quit the way a session logout does: SIGTERM.
    let pid = app_pid(APP.as_ref(), &scene.home).expect("find the app's process");
    // SAFETY: kill(2) on a pid we just found, with a valid signal.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    wait_for_exit(pid, Duration::from_secs(10));
    assert!(scene.home.logs().contains("SIGTERM: quitting"));

    scene.relaunch().await;
    scene
        .app
        .wait_for_attribute(STATE, "data-state", "reachable", WAIT)
        .await;
    let restored = scene.app.client.get_window_size().await.unwrap();
    assert_eq!(
        restored,
        (width.into(), height.into()),
        "window size after restart"
    );
}

#[tokio::test]
#[ignore = "needs Xvfb, tauri-driver and a Secret Service: run through ./scripts/test.sh"]
async fn alice_signs_in_in_the_app_and_is_still_signed_in_after_a_restart() {
    let scratch = tempfile::tempdir().unwrap();
    let artifacts = artifacts_dir("sign-in");
    let browser_log = scratch.path().join("browser.log");
    let browser = scripted_browser();
    let mut scene = SignInScene::open_with(
        scratch.path(),
        vec![
            ("BROWSER", browser.display().to_string()),
            ("CONVENE_TEST_USERNAME", "alice@convene.example".into()),
            (
                "CONVENE_TEST_BROWSER_LOG",
                browser_log.display().to_string(),
            ),
        ],
    )
    .await;

    scene.app.click("[data-testid=sign-in-button]").await;
    scene
        .app
        .wait_for_text("[data-testid=signed-in-user]", "Alice Example", WAIT)
        .await;
    scene.app.screenshot(&artifacts.join("signed-in.png")).await;
    let visits = || {
        std::fs::read_to_string(&browser_log)
            .unwrap_or_default()
            .lines()
            .count()
    };
    assert_eq!(visits(), 1, "one trip through the browser");

    // Quit and start again: still signed in, and no browser opened.
    let pid = app_pid(APP.as_ref(), &scene.home).expect("find the app's process");
    // SAFETY: kill(2) on a pid we just found, with a valid signal.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    wait_for_exit(pid, Duration::from_secs(10));
    scene.relaunch().await;
    scene
        .app
        .wait_for_text("[data-testid=signed-in-user]", "Alice Example", WAIT)
        .await;
    assert_eq!(visits(), 1, "no browser after a restart");

    // The session is in the keyring, and in none of the app's files.
    let vault = convene_core::vault::Vault::open(convene_core::vault::VaultKind::System)
        .await
        .expect("the test's keyring");
    let alice = convene_core::vault::AccountKey::new(
        convene_core::config::DEV_TENANT_ID,
        "00000000-a11c-4000-8000-000000000001",
    );
    let refresh_token = vault
        .load(&alice, "refresh_token")
        .await
        .unwrap()
        .expect("alice's refresh token is in the keyring");
    for dir in [
        "config/convene",
        "data/convene",
        "state/convene",
        "cache/convene",
    ] {
        for (file, text) in text_files_under(&scene.home.root.join(dir)) {
            assert!(!text.contains("eyJ"), "a JWT in {file}");
            assert!(
                !text.contains(refresh_token.expose()),
                "the refresh token in {file}"
            );
        }
    }
    assert!(
        scene.home.logs().contains("signed in"),
        "the log says that someone signed in (and nothing secret)"
    );

    // Sign out through the account menu: the sign-in screen returns, and
    // the keyring no longer holds alice's session.
    scene.app.click("[data-testid=account-button]").await;
    scene.app.click("[data-testid=sign-out]").await;
    scene
        .app
        .wait_for_text("[data-testid=sign-in-button]", "Sign in", WAIT)
        .await;
    let accounts = Command::new(workspace_binary("convene-cli"))
        .args(["--server", &scene.server.url(), "accounts", "--json"])
        .output()
        .expect("run convene-cli accounts");
    assert_eq!(
        String::from_utf8_lossy(&accounts.stdout).trim(),
        "[]",
        "no account left in the keyring: {accounts:?}"
    );
}
