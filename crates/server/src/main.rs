//! The `convene-server` binary: parse settings, start, print the ready line,
//! serve until SIGTERM or SIGINT.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use convene_server::{Cli, Config, Mode, Server, ShutdownSignals};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the cause chain on one line; no backtrace.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr: stdout carries only the ready line.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(config))
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let signals = ShutdownSignals::install().context("cannot install signal handlers")?;
    match &config.mode {
        Mode::Dev => {
            tracing::warn!(
                "dev mode: built-in demo tenant and users, no real sign-in; \
                 for development only, do not expose this server to a network"
            );
            for setting in &config.ignored {
                tracing::warn!("dev mode: ignoring tenant-mode setting `{setting}`");
            }
        }
        Mode::Tenant(tenant) => {
            tracing::info!(
                authority = %tenant.authority,
                client_id = %tenant.client_id,
                allowed_tenants = tenant.allowed_tenants.len(),
                "tenant mode"
            );
            for setting in &config.ignored {
                tracing::warn!("tenant mode: ignoring dev-mode setting `{setting}`");
            }
        }
    }
    tracing::info!(listen = %config.listen, data_dir = %config.data_dir.display(), "starting");

    let server = Server::start(&config).await?;
    announce(server.local_addr());
    server
        .run(async move {
            let name = signals.recv().await;
            tracing::info!("{name} received");
        })
        .await?;
    Ok(())
}

/// Prints the one line scripts and tests wait for. A closed stdout is no
/// reason to stop serving, so a failed write is only logged.
fn announce(addr: SocketAddr) {
    let mut out = std::io::stdout().lock();
    if let Err(error) =
        writeln!(out, "convene-server listening on http://{addr}").and_then(|()| out.flush())
    {
        tracing::warn!(%error, "cannot print the ready line");
    }
}
