//! Alice in the real app (under Xvfb, through tauri-driver), signed in to a
//! real dev server: the opening of every end-to-end scenario with a second
//! person at a terminal.

use std::path::Path;
use std::time::Duration;

use crate::app::{App, AppHome, TauriDriver};
use crate::dev_server::DevServer;
use crate::terminal::Person;
use crate::workspace::scripted_browser;

const WAIT: Duration = Duration::from_secs(30);

/// A dev server, alice signed in to the app, bob signed in at a terminal.
pub struct AppScene {
    pub app: App,
    pub bob: Person,
    pub server: DevServer,
    _driver: TauriDriver,
    _home: AppHome,
}

impl AppScene {
    /// The app's home (config, data, logs), e.g. to find its process.
    pub fn home(&self) -> &AppHome {
        &self._home
    }

    pub async fn open(scratch: &Path, application: &Path) -> Self {
        Self::open_with_env(scratch, application, &[]).await
    }

    /// As `open`, with more environment for the app (e.g. where its
    /// PipeWire is).
    pub async fn open_with_env(
        scratch: &Path,
        application: &Path,
        extra_env: &[(&'static str, String)],
    ) -> Self {
        Self::open_with(scratch, application, extra_env, &[]).await
    }

    /// As `open_with_env`, the server started with more flags (e.g. the
    /// TURN server it hands out).
    pub async fn open_with(
        scratch: &Path,
        application: &Path,
        extra_env: &[(&'static str, String)],
        server_flags: &[&str],
    ) -> Self {
        let server = DevServer::start_with(&scratch.join("server"), server_flags);
        let home = AppHome::new(&scratch.join("home"));
        let browser = scripted_browser();
        let mut env = vec![
            ("CONVENE_SERVER", server.url()),
            ("BROWSER", browser.display().to_string()),
            ("CONVENE_TEST_USERNAME", "alice@convene.example".into()),
        ];
        env.extend(extra_env.iter().cloned());
        let driver = TauriDriver::start(&home, &env);
        let app = driver.launch(application).await;
        app.wait_for_attribute(
            "[data-testid=connection-state]",
            "data-state",
            "reachable",
            WAIT,
        )
        .await;
        app.click("[data-testid=sign-in-button]").await;
        // Signed in: the chat pane is there.
        app.wait_for_text("[data-testid=chat-list]", "", WAIT).await;
        // Bob signs in after alice: an app without an account of its own
        // starts as whoever the keyring holds.
        let bob = Person::signed_in(&server, "bob@convene.example");
        Self {
            app,
            bob,
            server,
            _driver: driver,
            _home: home,
        }
    }

    /// Bob writes to alice, and alice opens that chat in the app: where a
    /// call scenario starts from.
    pub async fn open_chat_from_bob(&self, text: &str) {
        let sent = self
            .bob
            .json_lines(&["send", "alice@convene.example", text, "--json"]);
        let chat_id = sent[0]["chatId"].as_str().expect("the chat's id");
        let row = format!("[data-testid=chat-row][data-chat-id=\"{chat_id}\"]");
        self.app.wait_for_text(&row, "", WAIT).await;
        self.app.click(&row).await;
    }
}
