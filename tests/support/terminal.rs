//! A person at a terminal running `convene-cli`, with their own XDG home
//! (so their own current account and chat cache) against a dev server.
//! Sign-ins go to the test session's keyring.

use std::process::{Command, Output};

use serde_json::Value;

use super::server::DevServer;

/// One person's terminal: their own XDG home (so their own current
/// account) against the shared dev server.
pub struct Person {
    server: String,
    home: tempfile::TempDir,
    username: &'static str,
}

impl Person {
    /// A person with their own terminal, signed in through the scripted
    /// browser (their sign-in goes to the test session's keyring).
    pub fn signed_in(server: &DevServer, username: &'static str) -> Self {
        let person = Self {
            server: server.url(),
            home: tempfile::tempdir().unwrap(),
            username,
        };
        let login = person.run(&["login"]);
        assert!(login.status.success(), "{username} signs in: {login:?}");
        person
    }

    /// Runs `convene-cli` as this person (their sign-in is in the test
    /// session's keyring, their current account in their own home).
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run convene-cli")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let browser = super::binaries_dir().join("examples/scripted_browser");
        let home = self.home.path();
        let mut command = Command::new(super::workspace_binary("convene-cli"));
        command
            .args(["--server", &self.server])
            .args(args)
            .env("BROWSER", &browser)
            .env("CONVENE_TEST_USERNAME", self.username)
            .env("CONVENE_CONFIG", home.join("config.toml"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env_remove("CONVENE_SERVER");
        command
    }

    pub fn json_lines(&self, args: &[&str]) -> Vec<Value> {
        let output = self.run(args);
        assert!(output.status.success(), "{args:?}: {output:?}");
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
            .collect()
    }
}
