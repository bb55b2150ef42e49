//! Starting, stopping and restarting the real binary.
#![cfg(unix)]

use std::time::Duration;

use convene_server::{DEMO_TENANT_ID, DEMO_USERS, FABRIKAM_TENANT_ID};
use convene_test_support::server_api::{get_json, users_on_disk, ServerCommand, READY_PREFIX};

/// Well under the server's 10 s grace period: a prompt stop, not a timeout.
const PROMPT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn sigterm_exits_zero_promptly_after_one_ready_line() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerCommand::dev(dir.path()).start();
    assert_ne!(server.addr.port(), 0, "the ready line shows the real port");
    // A request first, so that the client holds a kept-alive connection.
    let (status, _) = get_json(&server.url("/healthz")).await;
    assert!(status.is_success());

    let finished = server.stop();

    assert_eq!(finished.status.code(), Some(0), "{finished:#?}");
    assert!(finished.elapsed < PROMPT, "took {:?}", finished.elapsed);
    let lines: Vec<&str> = finished.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "stdout: {:?}", finished.stdout);
    assert!(lines[0].starts_with(READY_PREFIX));
    assert!(finished.stderr.contains("SIGTERM"), "{}", finished.stderr);
    // The store was closed: SQLite checkpoints and removes the WAL file
    // when its last connection closes.
    assert!(dir.path().join("convene.db").is_file());
    assert!(!dir.path().join("convene.db-wal").exists());
}

#[test]
fn sigint_also_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerCommand::dev(dir.path()).start();

    let finished = server.stop_with(libc::SIGINT);

    assert_eq!(finished.status.code(), Some(0), "{finished:#?}");
    assert!(finished.elapsed < PROMPT, "took {:?}", finished.elapsed);
}

#[test]
fn dev_mode_warns_that_it_is_for_development_only() {
    let dir = tempfile::tempdir().unwrap();
    let finished = ServerCommand::dev(dir.path()).start().stop();
    assert!(finished.status.success());
    assert!(
        finished.stderr.contains("WARN") && finished.stderr.contains("for development only"),
        "{}",
        finished.stderr
    );
}

#[test]
fn demo_users_are_stored_on_disk_and_persist_across_restarts_once() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("nested").join("data");
    let database = data_dir.join("convene.db");

    let first = ServerCommand::dev(&data_dir).start().stop();
    assert!(first.status.success(), "{first:#?}");
    assert!(database.is_file(), "{} is missing", database.display());
    let after_first = users_on_disk(&database);

    let expected: Vec<(String, String, String)> = DEMO_USERS
        .iter()
        .map(|u| {
            (
                u.object_id.to_string(),
                u.user_principal_name.to_owned(),
                u.display_name.to_owned(),
            )
        })
        .collect();
    let stored: Vec<(String, String, String)> = after_first
        .iter()
        .map(|(id, upn, name, _)| (id.clone(), upn.clone(), name.clone()))
        .collect();
    assert_eq!(stored, expected);

    let second = ServerCommand::dev(&data_dir).start().stop();
    assert!(second.status.success(), "{second:#?}");
    // Same rows, same creation times: kept, not deleted and re-inserted.
    assert_eq!(users_on_disk(&database), after_first);

    let conn = rusqlite::Connection::open(&database).unwrap();
    let mut query = conn
        .prepare("SELECT tenant_id FROM users ORDER BY user_principal_name")
        .unwrap();
    let tenants: Vec<String> = query
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<String> = DEMO_USERS.iter().map(|u| u.tenant_id.to_string()).collect();
    assert_eq!(tenants, expected);
    // alice, bob and carol in the first demo tenant; dave in the second.
    assert_eq!(
        expected,
        [
            DEMO_TENANT_ID,
            DEMO_TENANT_ID,
            DEMO_TENANT_ID,
            FABRIKAM_TENANT_ID
        ]
        .map(|t| t.to_string())
    );
}

#[cfg(target_os = "linux")]
#[test]
fn default_data_dir_is_under_xdg_data_home() {
    let xdg = tempfile::tempdir().unwrap();
    let server = ServerCommand::bare()
        .args(["--dev", "--listen", "127.0.0.1:0"])
        .env("XDG_DATA_HOME", xdg.path())
        .start();
    let finished = server.stop();
    assert!(finished.status.success(), "{finished:#?}");
    assert!(xdg.path().join("convene-server/convene.db").is_file());
}
