//! Where the workspace's built binaries and the repository's `artifacts/`
//! are, whichever crate's test or benchmark asks, and small process and
//! port helpers for the tests that start those binaries.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::wait::wait_until;

/// Directory holding the workspace's built binaries (`target/debug`, or
/// `target/release` for a benchmark): the running test executable lives in
/// its `deps/` folder, whichever crate it tests.
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

/// The stand-in for a person at a browser that tests set as `$BROWSER`
/// (`convene-e2e`'s `scripted_browser` binary, built with the workspace).
pub fn scripted_browser() -> PathBuf {
    workspace_binary("scripted_browser")
}

/// The repository's root: two levels above this crate.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/test-support is two levels below the repository root")
        .to_owned()
}

/// Where tests leave screenshots and logs for people to look at: the
/// repository's `artifacts/<test>` (or `$CONVENE_ARTIFACTS/<test>`).
pub fn artifacts_dir(test: &str) -> PathBuf {
    let root = std::env::var_os("CONVENE_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("artifacts"));
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
    assert!(
        wait_until(timeout, || TcpStream::connect_timeout(
            &addr,
            Duration::from_millis(200)
        )
        .is_ok()),
        "nothing listens on {addr} after {timeout:?}"
    );
}

/// Sends SIGTERM, the way a service manager stops a process.
pub fn terminate(child: &std::process::Child) {
    // SAFETY: kill(2) with a pid we own and a valid signal number.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
}
