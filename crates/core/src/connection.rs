//! Is the server there? The connection monitor probes convene-server and
//! reports reachable / reconnecting / unreachable as it changes.
//!
//! The probe and the clock are injectable (a [`ServerProbe`] and tokio's
//! time, which tests pause), so reconnection behaviour is tested
//! deterministically.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use convene_proto::{Health, HealthStatus, ServerVersion, PROTOCOL_VERSION};
use serde::{Deserialize, Serialize};
use tokio::sync::{watch, Notify};
use url::Url;

use crate::http::HttpError;
use crate::publish::Publisher;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum ConnectionState {
    /// The first probe has not answered yet.
    Checking,
    Reachable,
    /// The server stopped answering; retrying quickly before giving up.
    Reconnecting,
    /// The server does not answer (or speaks an incompatible protocol);
    /// still retrying, with backoff.
    Unreachable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionStatus {
    pub state: ConnectionState,
    /// The server's base URL.
    pub server: String,
    /// The server's version, once it has answered.
    pub server_version: Option<String>,
    /// Why the last probe failed, in words a person can act on.
    pub error: Option<String>,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProbeError {
    #[error("no answer from {server}: {reason}")]
    Unreachable { server: String, reason: String },
    #[error("{server} answered {status} to {path}")]
    BadStatus {
        server: String,
        path: &'static str,
        status: u16,
    },
    #[error("{server} is not a Convene server (unexpected reply to {path}: {reason})")]
    NotConvene {
        server: String,
        path: &'static str,
        reason: String,
    },
    #[error(
        "{server} speaks protocol {offered:?} but this Convene speaks {PROTOCOL_VERSION}: update Convene or the server"
    )]
    Incompatible { server: String, offered: Vec<u32> },
}

/// Asks a server whether it is up.
pub trait ServerProbe: Send + Sync + 'static {
    fn probe(&self) -> impl Future<Output = Result<ServerVersion, ProbeError>> + Send;
}

/// Probes over HTTP: `GET /healthz` (which checks the server's store), then
/// `GET /version`.
#[derive(Debug, Clone)]
pub struct HttpProbe {
    http: reqwest::Client,
    server: Url,
}

impl HttpProbe {
    pub fn new(server: Url, timeout: Duration) -> Self {
        Self {
            http: crate::http::client(timeout),
            server,
        }
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &'static str,
    ) -> Result<T, ProbeError> {
        let server = self.server.to_string();
        let url = self
            .server
            .join(path.trim_start_matches('/'))
            .expect("a relative path joins onto a base URL");
        crate::http::get_json(&self.http, url)
            .await
            .map_err(|error| match error {
                HttpError::Unreachable { reason, .. } => ProbeError::Unreachable { server, reason },
                HttpError::Status { status, .. } => ProbeError::BadStatus {
                    server,
                    path,
                    status,
                },
                other => ProbeError::NotConvene {
                    server,
                    path,
                    reason: other.to_string(),
                },
            })
    }
}

impl ServerProbe for HttpProbe {
    async fn probe(&self) -> Result<ServerVersion, ProbeError> {
        let health: Health = self.get_json("/healthz").await?;
        debug_assert_eq!(health.status, HealthStatus::Ok);
        let version: ServerVersion = self.get_json("/version").await?;
        if !version.speaks(PROTOCOL_VERSION) {
            return Err(ProbeError::Incompatible {
                server: self.server.to_string(),
                offered: version.protocol_versions,
            });
        }
        Ok(version)
    }
}

/// How often to probe and how quickly to give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitorTiming {
    /// Between probes while the server answers.
    pub interval: Duration,
    /// First retry after a failure; doubles up to `retry_max`.
    pub retry_min: Duration,
    pub retry_max: Duration,
    /// Consecutive failures after which a reachable server is reported
    /// unreachable (before that it is "reconnecting").
    pub failures_until_unreachable: u32,
    /// Per request.
    pub probe_timeout: Duration,
    /// How often the client checks that the current session's tokens are
    /// renewed ahead of expiry.
    pub session_check: Duration,
}

impl Default for MonitorTiming {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5),
            retry_min: Duration::from_millis(500),
            retry_max: Duration::from_secs(5),
            failures_until_unreachable: 2,
            probe_timeout: Duration::from_secs(3),
            session_check: Duration::from_secs(30),
        }
    }
}

impl MonitorTiming {
    fn retry_delay(&self, failures: u32) -> Duration {
        let exp = failures.saturating_sub(1).min(16);
        self.retry_min
            .saturating_mul(1u32 << exp)
            .min(self.retry_max)
    }
}

/// The pure state machine: what the status becomes after a probe.
fn next_status(
    previous: &ConnectionStatus,
    failures: u32,
    outcome: &Result<ServerVersion, ProbeError>,
    timing: &MonitorTiming,
) -> ConnectionStatus {
    match outcome {
        Ok(version) => ConnectionStatus {
            state: ConnectionState::Reachable,
            server: previous.server.clone(),
            server_version: Some(version.version.clone()),
            error: None,
        },
        Err(error) => {
            let state = match previous.state {
                // Never reached it, or an incompatible server: say so at once.
                ConnectionState::Checking | ConnectionState::Unreachable => {
                    ConnectionState::Unreachable
                }
                _ if matches!(error, ProbeError::Incompatible { .. }) => {
                    ConnectionState::Unreachable
                }
                _ if failures >= timing.failures_until_unreachable => ConnectionState::Unreachable,
                _ => ConnectionState::Reconnecting,
            };
            ConnectionStatus {
                state,
                server: previous.server.clone(),
                server_version: previous.server_version.clone(),
                error: Some(error.to_string()),
            }
        }
    }
}

/// Handle on a running monitor; dropping it stops the monitor.
#[derive(Debug)]
pub(crate) struct ConnectionMonitor {
    status: watch::Receiver<ConnectionStatus>,
    check_now: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl ConnectionMonitor {
    /// Starts probing at once. Every change of status is published.
    pub(crate) fn spawn(
        server: &Url,
        probe: impl ServerProbe,
        timing: MonitorTiming,
        statuses: Publisher<ConnectionStatus>,
    ) -> Self {
        let initial = ConnectionStatus {
            state: ConnectionState::Checking,
            server: server.to_string(),
            server_version: None,
            error: None,
        };
        let (status_tx, status) = watch::channel(initial.clone());
        let check_now = Arc::new(Notify::new());
        let wake = check_now.clone();
        let task = tokio::spawn(async move {
            let _ = statuses.publish(initial.clone());
            let mut current = initial;
            let mut failures = 0u32;
            loop {
                let outcome = probe.probe().await;
                failures = if outcome.is_ok() { 0 } else { failures + 1 };
                let next = next_status(&current, failures, &outcome, &timing);
                if next != current {
                    match &outcome {
                        Ok(_) => {
                            tracing::info!(server = %next.server, state = ?next.state, "server connection changed")
                        }
                        Err(e) => {
                            tracing::warn!(server = %next.server, state = ?next.state, error = %e, "server connection changed")
                        }
                    }
                    current = next;
                    status_tx.send_replace(current.clone());
                    if !statuses.publish(current.clone()) {
                        // Nobody listens any more: the client is gone.
                        return;
                    }
                }
                let delay = if failures == 0 {
                    timing.interval
                } else {
                    timing.retry_delay(failures)
                };
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = wake.notified() => {}
                }
            }
        });
        Self {
            status,
            check_now,
            task,
        }
    }

    pub(crate) fn status(&self) -> ConnectionStatus {
        self.status.borrow().clone()
    }

    /// Probes now instead of waiting for the next scheduled probe.
    pub(crate) fn check_now(&self) {
        self.check_now.notify_one();
    }
}

impl Drop for ConnectionMonitor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use convene_proto::ServerMode;

    use tokio::sync::mpsc;

    use super::*;

    fn version() -> ServerVersion {
        ServerVersion {
            name: "convene-server".into(),
            version: "9.9.9".into(),
            protocol_versions: vec![PROTOCOL_VERSION],
            mode: ServerMode::Dev,
        }
    }

    fn down() -> Result<ServerVersion, ProbeError> {
        Err(ProbeError::Unreachable {
            server: "http://test/".into(),
            reason: "connection refused".into(),
        })
    }

    /// Answers from a script, then repeats the last answer.
    struct ScriptedProbe(Mutex<VecDeque<Result<ServerVersion, ProbeError>>>);

    impl ServerProbe for Arc<ScriptedProbe> {
        async fn probe(&self) -> Result<ServerVersion, ProbeError> {
            let mut script = self.0.lock().unwrap();
            if script.len() > 1 {
                script.pop_front().unwrap()
            } else {
                script.front().cloned().unwrap()
            }
        }
    }

    fn scripted(
        answers: Vec<Result<ServerVersion, ProbeError>>,
    ) -> (ConnectionMonitor, mpsc::UnboundedReceiver<ConnectionStatus>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let probe = Arc::new(ScriptedProbe(Mutex::new(answers.into())));
        let url = Url::parse("http://test/").unwrap();
        let statuses = Publisher::into_channel(tx);
        let monitor = ConnectionMonitor::spawn(&url, probe, MonitorTiming::default(), statuses);
        (monitor, rx)
    }

    async fn next_state(rx: &mut mpsc::UnboundedReceiver<ConnectionStatus>) -> ConnectionState {
        rx.recv().await.expect("monitor alive").state
    }

    #[tokio::test(start_paused = true)]
    async fn reports_checking_then_reachable() {
        let (monitor, mut rx) = scripted(vec![Ok(version())]);
        assert_eq!(next_state(&mut rx).await, ConnectionState::Checking);
        assert_eq!(next_state(&mut rx).await, ConnectionState::Reachable);
        assert_eq!(monitor.status().server_version.as_deref(), Some("9.9.9"));
        assert_eq!(monitor.status().error, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_never_reached_is_unreachable_at_once() {
        let (monitor, mut rx) = scripted(vec![down()]);
        assert_eq!(next_state(&mut rx).await, ConnectionState::Checking);
        assert_eq!(next_state(&mut rx).await, ConnectionState::Unreachable);
        let error = monitor.status().error.unwrap();
        assert!(error.contains("connection refused"), "{error}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_outage_goes_reconnecting_unreachable_and_recovers() {
        let (_monitor, mut rx) = scripted(vec![
            Ok(version()),
            down(),
            down(),
            down(),
            down(),
            Ok(version()),
        ]);
        let started = tokio::time::Instant::now();
        let states = [
            ConnectionState::Checking,
            ConnectionState::Reachable,
            ConnectionState::Reconnecting,
            ConnectionState::Unreachable,
            ConnectionState::Reachable,
        ];
        for expected in states {
            assert_eq!(next_state(&mut rx).await, expected);
        }
        // 5 s interval, then retries after 0.5 s, 1 s, 2 s and 4 s.
        assert_eq!(started.elapsed(), Duration::from_millis(12_500));
    }

    #[tokio::test(start_paused = true)]
    async fn check_now_probes_without_waiting() {
        let (monitor, mut rx) = scripted(vec![down(), Ok(version())]);
        assert_eq!(next_state(&mut rx).await, ConnectionState::Checking);
        assert_eq!(next_state(&mut rx).await, ConnectionState::Unreachable);
        let started = tokio::time::Instant::now();
        monitor.check_now();
        assert_eq!(next_state(&mut rx).await, ConnectionState::Reachable);
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn an_incompatible_server_is_unreachable_with_a_reason() {
        let incompatible = Err(ProbeError::Incompatible {
            server: "http://test/".into(),
            offered: vec![99],
        });
        let (monitor, mut rx) = scripted(vec![Ok(version()), incompatible]);
        assert_eq!(next_state(&mut rx).await, ConnectionState::Checking);
        assert_eq!(next_state(&mut rx).await, ConnectionState::Reachable);
        assert_eq!(next_state(&mut rx).await, ConnectionState::Unreachable);
        assert!(monitor.status().error.unwrap().contains("update Convene"));
    }

    #[test]
    fn retry_delay_doubles_up_to_the_cap() {
        let t = MonitorTiming::default();
        let delays: Vec<_> = (1..=6).map(|n| t.retry_delay(n).as_millis()).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 5000, 5000]);
    }
}
