//! `convene-cli status` against a real `convene-server --dev`: the spellings
//! and exit codes that scripts rely on.

use std::process::{Command, Output};

use convene_test_support::dev_server::DevServer;
use convene_test_support::workspace_binary;
use serde_json::Value;

fn cli(args: &[&str]) -> Output {
    Command::new(workspace_binary("convene-cli"))
        .args(args)
        .env_remove("CONVENE_SERVER")
        .env("CONVENE_CONFIG", "/nonexistent/convene-test-config.toml")
        .output()
        .expect("run convene-cli")
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON object ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[test]
fn status_reports_a_running_server_then_a_stopped_one() {
    let scratch = tempfile::tempdir().unwrap();
    let mut server = DevServer::start(scratch.path());
    let url = server.url();

    let up = cli(&["--server", &url, "status", "--json"]);
    assert_eq!(up.status.code(), Some(0), "{up:?}");
    let report = json_of(&up);
    assert_eq!(report["server"], format!("{url}/"));
    assert_eq!(report["reachable"], true);
    assert_eq!(report["mode"], "dev");
    assert_eq!(report["serverVersion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(report["error"], Value::Null);

    let text = cli(&["--server", &url, "status"]);
    assert_eq!(text.status.code(), Some(0));
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("reachable, convene-server"), "{text}");
    assert!(text.contains(&url), "{text}");

    server.stop();
    let down = cli(&["--server", &url, "status", "--json"]);
    assert_eq!(down.status.code(), Some(3), "unreachable exits 3: {down:?}");
    let report = json_of(&down);
    assert_eq!(report["reachable"], false);
    assert!(
        report["error"].as_str().unwrap().contains("no answer"),
        "{report}"
    );
}

#[test]
fn bad_settings_and_usage_have_their_own_exit_codes() {
    let bad_url = cli(&["--server", "ftp://example.org", "status"]);
    assert_eq!(bad_url.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad_url.stderr);
    assert!(stderr.contains("not a valid http(s) URL"), "{stderr}");

    let usage = cli(&["status", "--no-such-flag"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn the_server_setting_comes_from_the_environment_too() {
    let scratch = tempfile::tempdir().unwrap();
    let server = DevServer::start(scratch.path());
    let output = Command::new(workspace_binary("convene-cli"))
        .args(["status", "--json"])
        .env("CONVENE_SERVER", server.url())
        .env("CONVENE_CONFIG", "/nonexistent/convene-test-config.toml")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(json_of(&output)["reachable"], true);
}
