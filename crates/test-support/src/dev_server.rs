//! A real `convene-server` process: `--dev` (the embedded default), or in
//! tenant mode behind an outside identity provider.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::workspace::{terminate, workspace_binary};

const READY_PREFIX: &str = "convene-server listening on http://";

pub struct DevServer {
    child: Option<Child>,
    pub addr: SocketAddr,
    data_dir: PathBuf,
    /// More flags, kept for restarts.
    extra: Vec<String>,
    dev: bool,
    /// Where its log goes, and the `RUST_LOG` filter, when a test reads it.
    log: Option<(PathBuf, String)>,
}

impl DevServer {
    /// Starts on an ephemeral loopback port with its data in `data_dir`.
    pub fn start(data_dir: &Path) -> Self {
        Self::start_on("127.0.0.1:0", data_dir)
    }

    /// Starts with more flags, e.g. `--dev-token-lifetime 4`.
    pub fn start_with(data_dir: &Path, extra: &[&str]) -> Self {
        Self::launch(
            "127.0.0.1:0",
            data_dir,
            extra.iter().map(|a| a.to_string()).collect(),
        )
    }

    pub fn start_on(listen: &str, data_dir: &Path) -> Self {
        Self::launch(listen, data_dir, Vec::new())
    }

    /// Starts in tenant mode (no `--dev`): `settings` name the authority,
    /// the client id and the allowed tenants.
    pub fn start_tenant_mode(data_dir: &Path, settings: &[&str]) -> Self {
        Self::start_process(
            "127.0.0.1:0",
            data_dir,
            settings.iter().map(|a| a.to_string()).collect(),
            false,
            None,
        )
    }

    /// Like [`DevServer::start_tenant_mode`], writing its log to `log` with
    /// the `RUST_LOG` filter `filter`.
    pub fn start_tenant_mode_logged(
        data_dir: &Path,
        settings: &[&str],
        log: &Path,
        filter: &str,
    ) -> Self {
        Self::start_process(
            "127.0.0.1:0",
            data_dir,
            settings.iter().map(|a| a.to_string()).collect(),
            false,
            Some((log.to_owned(), filter.to_owned())),
        )
    }

    fn launch(listen: &str, data_dir: &Path, extra: Vec<String>) -> Self {
        Self::start_process(listen, data_dir, extra, true, None)
    }

    fn start_process(
        listen: &str,
        data_dir: &Path,
        extra: Vec<String>,
        dev: bool,
        log: Option<(PathBuf, String)>,
    ) -> Self {
        let mut command = Command::new(workspace_binary("convene-server"));
        command
            .args(dev.then_some("--dev"))
            .args(["--listen", listen, "--data-dir"])
            .arg(data_dir)
            .args(&extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped());
        if let Some((path, filter)) = &log {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .expect("open the server's log file");
            command.env("RUST_LOG", filter).stderr(file);
        }
        let mut child = command.spawn().expect("start convene-server");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix(READY_PREFIX) {
                    let _ = tx.send(addr.trim().to_owned());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("convene-server printed its ready line within 20 s")
            .parse()
            .expect("the ready line holds a socket address");
        Self {
            child: Some(child),
            addr,
            data_dir: data_dir.to_owned(),
            extra,
            dev,
            log,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops it with SIGTERM and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&child);
            let status = child.wait().expect("wait for convene-server");
            assert!(status.success(), "convene-server exited with {status}");
        }
    }

    /// Kills it with SIGKILL, as a crash or a pulled plug would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again (after `stop` or `kill`) on the same address and
    /// data directory.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "the server is still running");
        let again = Self::start_process(
            &self.addr.to_string(),
            &self.data_dir.clone(),
            self.extra.clone(),
            self.dev,
            self.log.clone(),
        );
        *self = again;
    }

    /// Where it keeps its database and keys.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Starts it again on the same address and data directory.
    pub fn restart(&mut self) {
        self.stop();
        let again = Self::start_process(
            &self.addr.to_string(),
            &self.data_dir.clone(),
            self.extra.clone(),
            self.dev,
            self.log.clone(),
        );
        *self = again;
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
