//! `convene-cli status`: which server, and does it answer.

use std::io::Write;
use std::process::ExitCode;

use convene_core::{Client, ClientConfig, MonitorTiming, ServerSettings};
use convene_proto::ServerMode;
use serde::Serialize;

use crate::EXIT_UNREACHABLE;

/// The `--json` output. Field names are a stable contract for scripts.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusReport {
    server: String,
    reachable: bool,
    server_version: Option<String>,
    mode: Option<ServerMode>,
    error: Option<String>,
    #[serde(flatten)]
    settings: SettingsWithoutServer,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SettingsWithoutServer {
    authority: String,
    tenant: String,
    client_id: String,
}

pub async fn run(config: &ClientConfig, json: bool) -> anyhow::Result<ExitCode> {
    let outcome = Client::probe_server(config, MonitorTiming::default()).await;
    let ServerSettings {
        server_url,
        authority,
        tenant,
        client_id,
    } = config.settings();
    let report = StatusReport {
        server: server_url,
        reachable: outcome.is_ok(),
        server_version: outcome.as_ref().ok().map(|v| v.version.clone()),
        mode: outcome.as_ref().ok().map(|v| v.mode),
        error: outcome.as_ref().err().map(|e| e.to_string()),
        settings: SettingsWithoutServer {
            authority,
            tenant,
            client_id,
        },
    };
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
    } else {
        writeln!(out, "server:    {}", report.server)?;
        writeln!(out, "authority: {}", report.settings.authority)?;
        writeln!(out, "tenant:    {}", report.settings.tenant)?;
        match (&report.server_version, &report.error) {
            (Some(version), _) => {
                let mode = match report.mode {
                    Some(ServerMode::Dev) => " (dev mode)",
                    _ => "",
                };
                writeln!(out, "status:    reachable, convene-server {version}{mode}")?
            }
            (None, Some(error)) => writeln!(out, "status:    unreachable: {error}")?,
            (None, None) => unreachable!("a probe either answers or fails"),
        }
    }
    out.flush()?;
    Ok(if report.reachable {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_UNREACHABLE)
    })
}
