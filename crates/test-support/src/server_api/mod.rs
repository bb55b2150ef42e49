//! The server crate's own helpers: the real `convene-server` binary run
//! with exactly the arguments and environment a test gives, and clients of
//! its dev issuer ([`oidc`]) and Graph-shaped API ([`graph`]).
//!
//! Every server gets `--listen 127.0.0.1:0` (or says its own address) so that
//! tests can run in parallel, and `CONVENE_*` variables from the outer
//! environment are removed so that only what a test sets takes effect.

pub mod graph;
pub mod oidc;

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::wait::wait_for;
use crate::workspace::workspace_binary;

/// How long a debug build on a busy 2-core CI machine may take to start.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a process that is expected to exit (error or stop) may take.
pub const EXIT_TIMEOUT: Duration = Duration::from_secs(30);

pub const READY_PREFIX: &str = "convene-server listening on http://";

/// What to start: arguments and environment of one server process.
#[derive(Debug, Clone, Default)]
pub struct ServerCommand {
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
}

impl ServerCommand {
    /// No arguments at all.
    pub fn bare() -> Self {
        Self::default()
    }

    /// A dev-mode server on a free loopback port with its data in `data_dir`.
    pub fn dev(data_dir: &Path) -> Self {
        Self::bare()
            .args(["--dev", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Self {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    fn command(&self) -> Command {
        let mut command = Command::new(workspace_binary("convene-server"));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("CONVENE_") {
                command.env_remove(&key);
            }
        }
        command
            .env("RUST_LOG", "info")
            .env_remove("RUST_BACKTRACE")
            .args(&self.args)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Starts the server and waits for its ready line; panics (with the
    /// server's stderr) if it exits or stays silent instead.
    pub fn start(&self) -> ServerProcess {
        let mut child = self.command().spawn().expect("spawn convene-server");
        let stderr = drain(child.stderr.take().unwrap());
        let (lines_tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut process = ServerProcess {
            child,
            addr: "0.0.0.0:0".parse().unwrap(),
            ready_line: String::new(),
            lines,
            stderr: Some(stderr),
        };
        match process.lines.recv_timeout(READY_TIMEOUT) {
            Ok(line) => {
                let addr = line
                    .strip_prefix(READY_PREFIX)
                    .unwrap_or_else(|| panic!("unexpected first stdout line: {line:?}"));
                process.addr = addr.parse().expect("ready line has an address");
                process.ready_line = line;
                process
            }
            Err(_) => {
                let _ = process.child.kill();
                let finished = process.finish();
                panic!(
                    "convene-server did not get ready within {READY_TIMEOUT:?} ({}); stderr:\n{}",
                    finished.status, finished.stderr
                );
            }
        }
    }

    /// Runs a server that is expected to exit by itself (a startup error).
    pub fn run_to_exit(&self) -> Finished {
        let mut child = self.command().spawn().expect("spawn convene-server");
        let stdout = drain(child.stdout.take().unwrap());
        let stderr = drain(child.stderr.take().unwrap());
        let status = wait_with_timeout(&mut child, EXIT_TIMEOUT).unwrap_or_else(|| {
            let _ = child.kill();
            let _ = child.wait();
            panic!("convene-server did not exit within {EXIT_TIMEOUT:?}");
        });
        Finished {
            status,
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
            elapsed: Duration::ZERO,
        }
    }
}

/// A running server; killed on drop if a test did not stop it.
pub struct ServerProcess {
    child: Child,
    /// The address from the ready line.
    pub addr: SocketAddr,
    pub ready_line: String,
    lines: mpsc::Receiver<String>,
    stderr: Option<JoinHandle<String>>,
}

/// How a process ended and everything it printed.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// From the stop signal to the exit (zero when no signal was sent).
    pub elapsed: Duration,
}

impl Finished {
    /// Asserts the process failed cleanly: exit code 1, `message` on stderr,
    /// no ready line, no panic.
    pub fn assert_clean_failure(&self, message: &str) {
        assert_eq!(self.status.code(), Some(1), "{self:#?}");
        assert!(
            self.stderr.contains(message),
            "stderr lacks {message:?}:\n{}",
            self.stderr
        );
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("backtrace"),
            "{}",
            self.stderr
        );
        assert!(!self.stdout.contains(READY_PREFIX), "{}", self.stdout);
    }
}

impl ServerProcess {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends `signal` and waits for the process to exit.
    #[cfg(unix)]
    pub fn stop_with(mut self, signal: libc::c_int) -> Finished {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) has no memory-safety preconditions; the pid is our
        // own child, which has not been reaped yet, so it cannot be reused.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill: {}", std::io::Error::last_os_error());
        let sent = Instant::now();
        let Some(_) = wait_with_timeout(&mut self.child, EXIT_TIMEOUT) else {
            let _ = self.child.kill();
            let finished = self.finish();
            panic!(
                "convene-server ignored signal {signal} for {EXIT_TIMEOUT:?}; stderr:\n{}",
                finished.stderr
            );
        };
        let elapsed = sent.elapsed();
        Finished {
            elapsed,
            ..self.finish()
        }
    }

    /// Sends SIGTERM and waits.
    #[cfg(unix)]
    pub fn stop(self) -> Finished {
        self.stop_with(libc::SIGTERM)
    }

    /// Waits for the process (which must be exiting) and collects output.
    fn finish(&mut self) -> Finished {
        let status = self.child.wait().expect("wait for convene-server");
        let mut stdout = self.ready_line.clone();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            stdout.push('\n');
            stdout.push_str(&line);
        }
        if !stdout.is_empty() {
            stdout.push('\n');
        }
        let stderr = self
            .stderr
            .take()
            .map(|h| h.join().unwrap())
            .unwrap_or_default();
        Finished {
            status,
            stdout,
            stderr,
            elapsed: Duration::ZERO,
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads a pipe to its end on a thread, so that the child never blocks on a
/// full pipe.
fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    wait_for(timeout, || child.try_wait().expect("try_wait"))
}

/// GETs `url` and returns the status and the JSON body.
pub async fn get_json(url: &str) -> (reqwest::StatusCode, serde_json::Value) {
    let response = reqwest::get(url).await.expect("request");
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/json", "content type of {url}");
    (status, response.json().await.expect("JSON body"))
}

/// The demo users in a database file, as (object id, upn, name, created_at),
/// read directly from disk while no server runs.
pub fn users_on_disk(database: &Path) -> Vec<(String, String, String, String)> {
    let conn =
        rusqlite::Connection::open_with_flags(database, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open database read-only");
    let mut query = conn
        .prepare(
            "SELECT object_id, user_principal_name, display_name, created_at
             FROM users ORDER BY user_principal_name",
        )
        .unwrap();
    query
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}
