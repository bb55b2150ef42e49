//! [`Client`]: one Convene session.

use convene_proto::ServerVersion;
use tokio::sync::mpsc;

use crate::config::ClientConfig;
use crate::connection::{
    ConnectionMonitor, ConnectionStatus, HttpProbe, MonitorTiming, ProbeError, ServerProbe,
};
use crate::event::EventStream;

/// A running client. Create it inside a tokio runtime; dropping it stops its
/// background work.
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    monitor: ConnectionMonitor,
}

impl Client {
    /// Starts a client and its connection monitor. Events arrive on the
    /// returned stream in order, starting with the monitor's first status.
    pub fn start(config: ClientConfig, timing: MonitorTiming) -> (Self, EventStream) {
        let (events, receiver) = mpsc::unbounded_channel();
        let probe = HttpProbe::new(config.server_url.clone(), timing.probe_timeout);
        let monitor = ConnectionMonitor::spawn(&config.server_url, probe, timing, events);
        (Self { config, monitor }, EventStream(receiver))
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The latest known connection status.
    pub fn connection_status(&self) -> ConnectionStatus {
        self.monitor.status()
    }

    /// Probes the server now rather than at the next scheduled check.
    pub fn check_connection_now(&self) {
        self.monitor.check_now();
    }

    /// One probe, without starting a client: for `convene-cli status`.
    pub async fn probe_server(
        config: &ClientConfig,
        timing: MonitorTiming,
    ) -> Result<ServerVersion, ProbeError> {
        HttpProbe::new(config.server_url.clone(), timing.probe_timeout)
            .probe()
            .await
    }
}
