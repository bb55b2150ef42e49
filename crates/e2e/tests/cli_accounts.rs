//! `convene-cli login`, `whoami`, `accounts`, `use` and `logout` against a
//! real `convene-server --dev`, with the real OS keyring (gnome-keyring in
//! the test session) and a scripted browser filling the login form.

use std::path::Path;
use std::process::{Command, Output};

use convene_core::config::DEV_TENANT_ID;
use convene_test_support::dev_server::DevServer;
use convene_test_support::{scripted_browser, workspace_binary};
use serde_json::Value;

const ALICE_OID: &str = "00000000-a11c-4000-8000-000000000001";

/// The demo users are the same people on every dev server, and the test
/// session has one keyring: tests that sign them in take turns.
static KEYRING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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
        self.command(username, args)
            .output()
            .expect("run convene-cli")
    }

    /// Like `run`, with every log line the CLI can write (debug level).
    fn run_logged(&self, username: &str, args: &[&str]) -> Output {
        self.command(username, args)
            .env("RUST_LOG", "debug")
            .output()
            .expect("run convene-cli")
    }

    fn command(&self, username: &str, args: &[&str]) -> Command {
        let browser = scripted_browser();
        let home = self.home.path();
        let mut command = Command::new(workspace_binary("convene-cli"));
        command
            .arg("--server")
            .arg(&self.server)
            .args(args)
            .env("BROWSER", &browser)
            .env("CONVENE_TEST_USERNAME", username)
            .env("CONVENE_CONFIG", home.join("config.toml"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env_remove("CONVENE_SERVER")
            .env_remove("RUST_LOG");
        command
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
    let _turn = KEYRING.blocking_lock();
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
}

#[test]
fn two_accounts_switch_and_sign_out_separately() {
    let _turn = KEYRING.blocking_lock();
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

#[tokio::test]
async fn a_revoked_session_asks_to_sign_in_again_and_loses_nothing_else() {
    let _turn = KEYRING.lock().await;
    let scratch = tempfile::tempdir().unwrap();
    let server = DevServer::start(scratch.path());
    let terminal = Terminal::new(&server);
    assert!(terminal.run("alice", &["login"]).status.success());

    // Someone (a password change, an admin) spends the refresh token first.
    convene_e2e::sessions::end_session(&server, ALICE_OID).await;

    let whoami = terminal.run("nobody", &["whoami"]);
    assert_eq!(whoami.status.code(), Some(4), "{whoami:?}");
    let stderr = String::from_utf8_lossy(&whoami.stderr);
    assert!(stderr.contains("sign in again"), "{stderr}");

    // The account is still listed, so the app can offer to sign in again.
    let accounts = stdout_json(&terminal.run("nobody", &["accounts", "--json"]));
    assert_eq!(accounts[0]["username"], "alice@convene.example");

    assert!(terminal.run("alice", &["login"]).status.success());
    assert!(terminal.run("nobody", &["whoami"]).status.success());
    assert!(terminal.run("nobody", &["logout"]).status.success());
}

#[tokio::test]
async fn tokens_never_reach_files_logs_or_output() {
    let _turn = KEYRING.lock().await;
    let scratch = tempfile::tempdir().unwrap();
    let server = DevServer::start(scratch.path());
    let terminal = Terminal::new(&server);
    let mut captured = Vec::new();
    let mut run = |args: &[&str]| {
        let output = terminal.run_logged("alice", args);
        captured.extend_from_slice(&output.stdout);
        captured.extend_from_slice(&output.stderr);
        output
    };

    assert!(run(&["login"]).status.success());
    let first = convene_e2e::sessions::refresh_token_in_keyring(ALICE_OID)
        .await
        .expect("stored");
    assert!(run(&["whoami", "--json"]).status.success());
    assert!(run(&["whoami"]).status.success());
    let rotated = convene_e2e::sessions::refresh_token_in_keyring(ALICE_OID)
        .await
        .expect("stored");
    assert_ne!(first, rotated, "each renewal rotates the refresh token");
    let signed_in_files = files_under(terminal.data_dir());
    assert!(
        !signed_in_files.is_empty(),
        "signed in, the client remembers its current account in a file"
    );
    assert!(run(&["logout"]).status.success());
    assert_eq!(
        convene_e2e::sessions::refresh_token_in_keyring(ALICE_OID).await,
        None
    );

    // Everything the client wrote (while signed in and after), and
    // everything it printed.
    let mut haystacks = vec![("captured output".to_owned(), captured)];
    haystacks.extend(signed_in_files);
    haystacks.extend(files_under(terminal.data_dir()));
    for (place, bytes) in haystacks {
        let text = String::from_utf8_lossy(&bytes);
        // Access and ID tokens are JWTs: their header always starts `eyJ`.
        assert!(!text.contains("eyJ"), "a JWT in {place}");
        assert!(!text.contains(&first), "a refresh token in {place}");
        assert!(!text.contains(&rotated), "a refresh token in {place}");
    }
}

/// Every file below `dir` with its contents.
fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    walk(dir)
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            (path.display().to_string(), bytes)
        })
        .collect()
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn accounts_in_two_tenants_at_once_through_a_multi_tenant_authority() {
    let _turn = KEYRING.blocking_lock();
    let scratch = tempfile::tempdir().unwrap();
    let server = DevServer::start(scratch.path());
    let terminal = Terminal::new(&server);
    let organizations = ["--tenant", "organizations"];
    let with = |args: &[&'static str]| [&organizations[..], args].concat();

    assert!(terminal.run("alice", &with(&["login"])).status.success());
    assert!(terminal
        .run("dave@fabrikam.example", &with(&["login"]))
        .status
        .success());

    let accounts = stdout_json(&terminal.run("nobody", &with(&["accounts", "--json"])));
    let tenants: Vec<_> = accounts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["username"].as_str().unwrap(),
                a["tenantId"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tenants,
        [
            ("alice@convene.example", DEV_TENANT_ID),
            (
                "dave@fabrikam.example",
                "00000000-c0de-4000-8000-000000000002"
            ),
        ]
    );
    // Each account renews against its own tenant's issuer.
    for who in ["alice@convene.example", "dave@fabrikam.example"] {
        assert!(terminal
            .run("nobody", &with(&["use", who]))
            .status
            .success());
        let me = stdout_json(&terminal.run("nobody", &with(&["whoami", "--json"])));
        assert_eq!(me["username"], who);
    }
    assert!(terminal
        .run("nobody", &with(&["logout", "--all"]))
        .status
        .success());
}
