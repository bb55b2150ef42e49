//! Helpers for end-to-end tests: the real convene-server, tauri-driver and
//! the real app in a WebDriver session. Each test reads as its scenario.

#![allow(dead_code)] // each test binary uses a different part of this module

pub mod app;
pub mod chat;
pub mod person;
pub mod procs;
pub mod scene;
pub mod server;
pub mod sessions;
pub mod terminal;
pub mod voice;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Directory holding the workspace's built binaries (`target/debug`): the
/// test executable lives in its `deps/` folder.
pub fn binaries_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("test executable is in target/<profile>/deps")
        .to_owned()
}

/// A built workspace binary, with a clear message when it was not built.
pub fn workspace_binary(name: &str) -> PathBuf {
    let path = binaries_dir().join(name);
    assert!(
        path.exists(),
        "{} not found: build the workspace first (`cargo build --workspace`)",
        path.display()
    );
    path
}

/// Where tests leave screenshots and logs for people to look at.
pub fn artifacts_dir(test: &str) -> PathBuf {
    let root = std::env::var_os("CONVENE_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts"));
    let dir = root.join(test);
    std::fs::create_dir_all(&dir).expect("create artifacts dir");
    dir
}

/// Every file below `dir` (none if it does not exist), as lossy text.
pub fn text_files_under(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(text_files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            found.push((
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    found
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

/// Waits until something accepts TCP connections on `addr`.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nothing listens on {addr} after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends SIGTERM, the way a service manager stops a process.
pub fn terminate(child: &std::process::Child) {
    // SAFETY: kill(2) with a pid we own and a valid signal number.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
}
