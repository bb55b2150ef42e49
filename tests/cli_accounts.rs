//! `convene-cli login`, `whoami`, `accounts`, `use` and `logout` against a
//! real `convene-server --dev`, with the real OS keyring (gnome-keyring in
//! the test session) and a scripted browser filling the login form.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::server::DevServer;

/// A terminal with its own XDG home, pointed at the server.
struct Terminal {
    server: String,
    home: tempfile::TempDir,
}

impl Terminal {
    fn new(server: &DevServer) -> Self {
        Self {
            server: server.url(),
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, username: &str, args: &[&str]) -> Output {
        let browser = support::binaries_dir().join("examples/scripted_browser");
        assert!(
            browser.exists(),
            "build the examples first (cargo test builds them)"
        );
        let home = self.home.path();
        Command::new(support::workspace_binary("convene-cli"))
            .arg("--server")
            .arg(&self.server)
            .args(args)
            .env("BROWSER", &browser)
            .env("CONVENE_TEST_USERNAME", username)
            .env("CONVENE_CONFIG", home.join("config.toml"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env_remove("CONVENE_SERVER")
            .output()
            .expect("run convene-cli")
    }

    fn data_dir(&self) -> &Path {
        self.home.path()
    }
}

fn stdout_json(output: &Output) -> Value {
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[test]
fn alice_signs_in_once_and_stays_signed_in() {
    let scratch = tempfile::tempdir().unwrap();
    let server = DevServer::start(scratch.path());
    let terminal = Terminal::new(&server);

    let login = terminal.run("alice@convene.example", &["login"]);
    assert!(login.status.success(), "{login:?}");
    assert!(String::from_utf8_lossy(&login.stdout).contains("Signed in as Alice Example"));

    // A new process, no browser: the session comes from the keyring.
    let me = stdout_json(&terminal.run("nobody", &["whoami", "--json"]));
    assert_eq!(me["username"], "alice@convene.example");
    assert_eq!(me["name"], "Alice Example");
    assert_eq!(me["tenantId"], "00000000-c0de-4000-8000-000000000001");
    assert_eq!(me["userId"], "00000000-a11c-4000-8000-000000000001");
    assert_eq!(
        me["communicationId"],
        "8:orgid:00000000-a11c-4000-8000-000000000001"
    );
    // Each whoami renews through the rotating refresh token; a second one
    // proves the rotated token was kept.
    let again = stdout_json(&terminal.run("nobody", &["whoami", "--json"]));
    assert_eq!(again["userId"], me["userId"]);

    let logout = terminal.run("nobody", &["logout"]);
    assert!(logout.status.success(), "{logout:?}");
    let after = terminal.run("nobody", &["whoami"]);
    assert_eq!(after.status.code(), Some(4), "signed out: {after:?}");
    let _ = terminal.data_dir();
}

#[test]
fn two_accounts_switch_and_sign_out_separately() {
    let scratch = tempfile::tempdir().unwrap();
    let server = DevServer::start(scratch.path());
    let terminal = Terminal::new(&server);
    assert!(terminal.run("alice", &["login"]).status.success());
    assert!(terminal
        .run("bob@convene.example", &["login"])
        .status
        .success());

    let accounts = stdout_json(&terminal.run("nobody", &["accounts", "--json"]));
    let names: Vec<_> = accounts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["username"].as_str().unwrap(),
                a["current"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("alice@convene.example", false),
            ("bob@convene.example", true)
        ]
    );

    assert!(terminal
        .run("nobody", &["use", "alice@convene.example"])
        .status
        .success());
    let me = stdout_json(&terminal.run("nobody", &["whoami", "--json"]));
    assert_eq!(me["username"], "alice@convene.example");

    assert!(terminal
        .run("nobody", &["logout", "--all"])
        .status
        .success());
    let accounts = stdout_json(&terminal.run("nobody", &["accounts", "--json"]));
    assert_eq!(accounts, serde_json::json!([]));
}
