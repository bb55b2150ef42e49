//! A person at a terminal running `convene-cli`, with their own XDG home
//! (so their own current account and chat cache) against a dev server.
//! Sign-ins go to the test session's keyring. A long-running command
//! (`call`, `answer`, `watch`) is a [`Running`] process whose stderr is read
//! as it comes, so a test waits for what it says ("call: connected")
//! rather than for a fixed time.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

use crate::dev_server::DevServer;
use crate::wait::wait_for;
use crate::workspace::{scripted_browser, workspace_binary};

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
        let browser = scripted_browser();
        let home = self.home.path();
        let mut command = Command::new(workspace_binary("convene-cli"));
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

/// A process started with its stdout and stderr piped: stderr is collected
/// line by line on a thread as it comes, stdout when it ends.
pub struct Running {
    who: &'static str,
    child: Child,
    stderr: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
}

/// How a [`Running`] process ended and everything it printed.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// The last line of stdout that is a JSON value (`--json` summaries).
    pub fn last_json(&self) -> Option<Value> {
        self.stdout
            .lines()
            .rev()
            .find_map(|line| serde_json::from_str(line).ok())
    }
}

impl Running {
    /// Starts `command` (stdout and stderr piped); `who` names it in
    /// failure messages.
    pub fn spawn(who: &'static str, mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {who}: {e}"));
        let pipe = child.stderr.take().expect("piped stderr");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut text = sink.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        Self {
            who,
            child,
            stderr,
            reader: Some(reader),
        }
    }

    pub fn who(&self) -> &'static str {
        self.who
    }

    /// Its process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// What it has written to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until it has printed `text` on stderr; panics (with its
    /// stderr) if it exits or stays silent for `within` instead.
    pub fn wait_for(&mut self, text: &str, within: Duration) {
        self.wait_for_times(text, 1, within);
    }

    /// Waits until `text` has been printed `times` times on stderr.
    pub fn wait_for_times(&mut self, text: &str, times: usize, within: Duration) {
        let outcome = wait_for(within, || {
            if self.stderr().matches(text).count() >= times {
                return Some(Ok(()));
            }
            self.child.try_wait().expect("poll the process").map(Err)
        });
        let exited = match outcome {
            Some(Ok(())) => return,
            Some(Err(status)) => Some(status),
            None => None,
        };
        panic!(
            "{} never said {text:?} {times} time(s) within {within:?} (exit {exited:?}):\n{}",
            self.who,
            self.stderr()
        );
    }

    /// Sends `signal` (as `kill -SIGNAL` would: "STOP", "CONT", "TERM").
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {}", self.id());
    }

    /// SIGKILL, as a crash or a closed laptop lid would.
    pub fn kill(mut self) {
        self.child.kill().expect("kill the process");
        let _ = self.child.wait();
    }

    /// Waits for it to exit on its own within `within`; kills it and
    /// panics (with its stderr) if it does not.
    pub fn finish_within(mut self, within: Duration) -> Finished {
        let status = wait_for(within, || self.child.try_wait().expect("poll the process"));
        let Some(status) = status else {
            let _ = self.child.kill();
            let _ = self.child.wait();
            panic!(
                "{} did not finish within {within:?}:\n{}",
                self.who,
                self.stderr()
            );
        };
        let mut stdout = String::new();
        if let Some(mut pipe) = self.child.stdout.take() {
            pipe.read_to_string(&mut stdout).expect("read stdout");
        }
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        Finished {
            status,
            stdout,
            stderr: self.stderr(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
