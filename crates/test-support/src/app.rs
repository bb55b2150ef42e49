//! The real Convene app in a real window, driven through tauri-driver and
//! WebKitWebDriver.

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::wait::{wait_for_async, wait_until, wait_until_async};
use crate::workspace::{free_port, wait_for_port};

/// tauri-driver, from PATH or cargo's bin directory.
fn tauri_driver_binary() -> PathBuf {
    let in_path = std::env::var_os("PATH").into_iter().flat_map(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("tauri-driver"))
            .collect::<Vec<_>>()
    });
    let in_cargo =
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/tauri-driver"));
    in_path
        .chain(in_cargo)
        .find(|p| p.is_file())
        .expect("tauri-driver not found: run ./scripts/setup.sh (cargo install tauri-driver)")
}

/// Per-test XDG directories, so the app's config, data, logs and window
/// state never touch the user's own.
pub struct AppHome {
    pub root: PathBuf,
}

impl AppHome {
    pub fn new(root: &Path) -> Self {
        for dir in ["config", "data", "state", "cache"] {
            std::fs::create_dir_all(root.join(dir)).expect("create XDG dir");
        }
        Self {
            root: root.to_owned(),
        }
    }

    pub fn log_dir(&self) -> PathBuf {
        self.root.join("state/convene/logs")
    }

    /// Everything the app logged to its rotating log files.
    pub fn logs(&self) -> String {
        let Ok(entries) = std::fs::read_dir(self.log_dir()) else {
            return String::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .collect()
    }

    /// Sets this home's XDG directories on a command that starts the app.
    pub fn apply(&self, command: &mut Command) {
        command
            .env("XDG_CONFIG_HOME", self.root.join("config"))
            .env("XDG_DATA_HOME", self.root.join("data"))
            .env("XDG_STATE_HOME", self.root.join("state"))
            .env("XDG_CACHE_HOME", self.root.join("cache"))
            .env_remove("CONVENE_CONFIG");
    }
}

/// A running tauri-driver; the app starts when a session is created.
pub struct TauriDriver {
    child: Child,
    addr: SocketAddr,
}

impl TauriDriver {
    /// Starts tauri-driver so that the app it launches sees `env` and `home`.
    pub fn start(home: &AppHome, env: &[(&str, String)]) -> Self {
        let port = free_port();
        let native_port = free_port();
        let mut command = Command::new(tauri_driver_binary());
        command
            // Its own process group, so that WebKitWebDriver, the app and
            // WebKit's processes all end with it.
            .process_group(0)
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .stdout(Stdio::null());
        if Path::new("/usr/bin/WebKitWebDriver").exists() {
            command.args(["--native-driver", "/usr/bin/WebKitWebDriver"]);
        }
        home.apply(&mut command);
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().expect("start tauri-driver");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        wait_for_port(addr, Duration::from_secs(20));
        // tauri-driver listens before WebKitWebDriver, which it starts, does;
        // a session asked for in between is cut off without an answer.
        let native: SocketAddr = format!("127.0.0.1:{native_port}").parse().unwrap();
        wait_for_port(native, Duration::from_secs(20));
        Self { child, addr }
    }

    /// Launches the app and opens a WebDriver session on its window.
    pub async fn launch(&self, application: &Path) -> App {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "tauri:options".into(),
            json!({ "application": application }),
        );
        // One kept-alive HTTP connection: WebKitWebDriver drops clients that
        // reconnect for every request.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://{}", self.addr))
            .await
            .expect("open a WebDriver session on the app");
        App { client }
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        let group = -(self.child.id() as libc::pid_t);
        // SAFETY: kill(2) on the process group this driver leads.
        unsafe { libc::kill(group, libc::SIGTERM) };
        wait_until(Duration::from_secs(3), || {
            !matches!(self.child.try_wait(), Ok(None))
        });
        // SAFETY: as above; whatever is left of the group goes now.
        unsafe { libc::kill(group, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// The app's window, as a person sees it.
pub struct App {
    pub client: Client,
}

impl App {
    /// Waits for the element to have `attribute == value`; returns how long it took.
    pub async fn wait_for_attribute(
        &self,
        css: &str,
        attribute: &str,
        value: &str,
        timeout: Duration,
    ) -> Duration {
        let started = Instant::now();
        let last = Mutex::new(None);
        let seen = wait_until_async(timeout, || async {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                let now = element.attr(attribute).await.ok().flatten();
                *last.lock().unwrap() = now;
            }
            last.lock().unwrap().as_deref() == Some(value)
        })
        .await;
        let last = last.into_inner().unwrap();
        assert!(
            seen,
            "{css} never had {attribute}={value:?} within {timeout:?}; last seen {last:?}"
        );
        started.elapsed()
    }

    /// Waits for the element to contain `expected` in its text.
    pub async fn wait_for_text(&self, css: &str, expected: &str, timeout: Duration) {
        let last = Mutex::new(None);
        let seen = wait_until_async(timeout, || async {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                let now = element.text().await.ok();
                *last.lock().unwrap() = now;
            }
            let last = last.lock().unwrap();
            last.as_deref().is_some_and(|t| t.contains(expected))
        })
        .await;
        let last = last.into_inner().unwrap();
        assert!(
            seen,
            "{css} never showed {expected:?} within {timeout:?}; last seen {last:?}"
        );
    }

    /// Waits for the element's `textContent` to contain `expected`: also
    /// text that the layout truncates with an ellipsis, which WebDriver's
    /// rendered text leaves out.
    pub async fn wait_for_content(&self, css: &str, expected: &str, timeout: Duration) {
        let last = Mutex::new(None);
        let seen = wait_until_async(timeout, || async {
            let found = self
                .client
                .execute(
                    "return document.querySelector(arguments[0])?.textContent ?? null;",
                    vec![serde_json::Value::String(css.to_owned())],
                )
                .await;
            let mut last = last.lock().unwrap();
            if let Ok(serde_json::Value::String(text)) = found {
                *last = Some(text);
            }
            last.as_deref().is_some_and(|t| t.contains(expected))
        })
        .await;
        let last = last.into_inner().unwrap();
        assert!(
            seen,
            "{css} never contained {expected:?} within {timeout:?}; last seen {last:?}"
        );
    }

    /// Waits until no element matches `css` (a view has closed).
    pub async fn wait_for_absent(&self, css: &str, timeout: Duration) {
        let gone = wait_until_async(timeout, || async {
            self.client.find(Locator::Css(css)).await.is_err()
        })
        .await;
        assert!(gone, "{css} still there after {timeout:?}");
    }

    /// Clicks the element once it is there.
    pub async fn click(&self, css: &str) {
        let last_error = Mutex::new(None);
        let element = wait_for_async(Duration::from_secs(10), || async {
            match self.client.find(Locator::Css(css)).await {
                Ok(element) => Some(element),
                Err(e) => {
                    *last_error.lock().unwrap() = Some(e.to_string());
                    None
                }
            }
        })
        .await
        .unwrap_or_else(|| {
            let error = last_error.lock().unwrap().take().unwrap_or_default();
            panic!("{css} not found to click: {error}")
        });
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} not found: {e}"))
            .text()
            .await
            .expect("element text")
    }

    /// Saves a PNG of the window once two animation frames have painted.
    /// Saves what the test's X display shows (the app's window) as PNG,
    /// once the page has painted twice. Taken from the X server, not
    /// through WebDriver: WebKitWebDriver's snapshot never returns when
    /// WebKit paints without compositing, as the app does without a GPU.
    pub async fn screenshot(&self, path: &Path) {
        self.client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 requestAnimationFrame(() => requestAnimationFrame(() => done()));",
                vec![],
            )
            .await
            .expect("wait for two animation frames");
        let output = tokio::process::Command::new("import")
            .args(["-window", "root"])
            .arg(path)
            .output()
            .await
            .expect("run ImageMagick's import (./scripts/setup.sh installs it)");
        assert!(
            output.status.success(),
            "screenshot of the display: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let png = std::fs::read(path).expect("read the screenshot");
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// The pid of the app process that `home` belongs to: the app binary whose
/// environment points at this home's config directory.
pub fn app_pid(application: &Path, home: &AppHome) -> Option<u32> {
    let marker = format!("XDG_CONFIG_HOME={}", home.root.join("config").display());
    let application = application.canonicalize().ok()?;
    std::fs::read_dir("/proc").ok()?.find_map(|entry| {
        let entry = entry.ok()?;
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let exe = std::fs::read_link(entry.path().join("exe")).ok()?;
        if exe != application {
            return None;
        }
        let environ = std::fs::read(entry.path().join("environ")).ok()?;
        environ
            .split(|&b| b == 0)
            .any(|var| var == marker.as_bytes())
            .then_some(pid)
    })
}

/// Waits until process `pid` has gone.
pub fn wait_for_exit(pid: u32, timeout: Duration) {
    let gone = wait_until(timeout, || {
        // A zombie has exited; its parent (WebKitWebDriver) reaps it later.
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        !Path::new(&format!("/proc/{pid}")).exists()
            || state
                .rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z'))
    });
    assert!(gone, "process {pid} still runs after {timeout:?}");
}
