//! Where settings come from, and how startup failures are reported.

use std::net::TcpListener;

use convene_test_support::server_api::{get_json, ServerCommand};

const TENANT_A: &str = "11111111-1111-4111-8111-111111111111";
const TENANT_B: &str = "22222222-2222-4222-8222-222222222222";

#[test]
fn busy_port_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();

    let finished = ServerCommand::bare()
        .args(["--dev", "--data-dir"])
        .arg(dir.path())
        .args(["--listen", &addr.to_string()])
        .run_to_exit();

    finished.assert_clean_failure(&format!(
        "cannot listen on {addr}: address already in use (is another convene-server running?)"
    ));
}

#[test]
fn data_dir_under_a_regular_file_is_a_clear_error() {
    // A path through a regular file fails even for root, unlike chmod.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let data_dir = file.join("data");

    let finished = ServerCommand::dev(&data_dir).run_to_exit();

    finished.assert_clean_failure(&format!(
        "cannot use data directory {}: Not a directory",
        data_dir.display()
    ));
}

#[test]
fn data_dir_that_is_a_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data");
    std::fs::write(&file, "x").unwrap();

    let finished = ServerCommand::dev(&file).run_to_exit();

    finished.assert_clean_failure(&format!(
        "cannot use data directory {}: it exists and is not a directory",
        file.display()
    ));
}

#[test]
fn config_file_with_an_unknown_key_is_a_clear_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");
    std::fs::write(&config, "dev = true\nlisten_on = \"127.0.0.1:0\"\n").unwrap();

    let finished = ServerCommand::bare()
        .arg("--config")
        .arg(&config)
        .run_to_exit();

    finished.assert_clean_failure(&format!("invalid config file {}", config.display()));
    assert!(
        finished.stderr.contains("unknown field `listen_on`"),
        "{}",
        finished.stderr
    );
    assert!(finished.stderr.contains("line 2"), "{}", finished.stderr);
}

#[test]
fn config_file_that_is_not_toml_or_missing_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("broken.toml");
    std::fs::write(&config, "dev = [true\n").unwrap();
    ServerCommand::bare()
        .arg("--config")
        .arg(&config)
        .run_to_exit()
        .assert_clean_failure(&format!("invalid config file {}", config.display()));

    let missing = dir.path().join("missing.toml");
    ServerCommand::bare()
        .arg("--config")
        .arg(&missing)
        .run_to_exit()
        .assert_clean_failure(&format!("cannot read config file {}", missing.display()));
}

#[test]
fn tenant_mode_without_authority_or_client_id_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let base = ServerCommand::bare()
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path());

    base.run_to_exit()
        .assert_clean_failure("tenant mode needs --authority");
    base.clone()
        .args(["--authority", "https://login.example/v2.0"])
        .run_to_exit()
        .assert_clean_failure("tenant mode needs --client-id");
    base.clone()
        .args(["--client-id", "app"])
        .run_to_exit()
        .assert_clean_failure("tenant mode needs --authority");
}

#[tokio::test]
async fn environment_variables_take_effect() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("from-env");
    let server = ServerCommand::bare()
        .env("CONVENE_DEV", "1")
        .env("CONVENE_LISTEN", "127.0.0.1:0")
        .env("CONVENE_DATA_DIR", &data_dir)
        .start();

    let (_, body) = get_json(&server.url("/version")).await;
    assert_eq!(body["mode"], "dev");
    assert!(server.addr.ip().is_loopback());
    assert!(data_dir.join("convene.db").is_file());
}

#[tokio::test]
async fn tenant_settings_from_the_environment_take_effect() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerCommand::bare()
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env(
            "CONVENE_AUTHORITY",
            "https://login.example/organizations/v2.0",
        )
        .env("CONVENE_CLIENT_ID", "app")
        .env("CONVENE_ALLOWED_TENANTS", format!("{TENANT_A},{TENANT_B}"))
        .start();

    let (_, body) = get_json(&server.url("/version")).await;
    assert_eq!(body["mode"], "tenant");
}

#[tokio::test]
async fn config_file_settings_take_effect() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        "dev = true\nlisten = \"127.0.0.1:0\"\ndata_dir = \"state\"  # next to this file\n",
    )
    .unwrap();

    let server = ServerCommand::bare().arg("--config").arg(&config).start();

    let (_, body) = get_json(&server.url("/version")).await;
    assert_eq!(body["mode"], "dev");
    assert!(dir.path().join("state/convene.db").is_file());
}

#[cfg(unix)]
#[test]
fn flags_beat_environment_which_beats_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (file_dir, env_dir, flag_dir) = (
        dir.path().join("file"),
        dir.path().join("env"),
        dir.path().join("flag"),
    );
    let config = dir.path().join("server.toml");
    // The file alone would fail: tenant mode without an authority.
    std::fs::write(
        &config,
        format!(
            "dev = false\nlisten = \"127.0.0.1:0\"\ndata_dir = {:?}\n",
            file_dir.to_str().unwrap()
        ),
    )
    .unwrap();
    let with_file_and_env = ServerCommand::bare()
        .arg("--config")
        .arg(&config)
        .env("CONVENE_DEV", "true")
        .env("CONVENE_DATA_DIR", &env_dir);

    // Environment over file: dev mode, env data dir.
    let finished = with_file_and_env.start().stop();
    assert!(finished.status.success(), "{finished:#?}");
    assert!(env_dir.join("convene.db").is_file());
    assert!(!file_dir.exists());

    // Flag over environment.
    let finished = with_file_and_env
        .clone()
        .arg("--data-dir")
        .arg(&flag_dir)
        .start()
        .stop();
    assert!(finished.status.success(), "{finished:#?}");
    assert!(flag_dir.join("convene.db").is_file());
    assert!(!file_dir.exists());

    // A flag can also switch dev mode back off, which then needs tenant flags.
    with_file_and_env
        .clone()
        .arg("--dev=false")
        .run_to_exit()
        .assert_clean_failure("tenant mode needs --authority");
}
