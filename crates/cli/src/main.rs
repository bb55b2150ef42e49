//! `convene-cli`: the Convene client core from a terminal.
//!
//! Exit codes (scripts rely on them):
//! - 0: success (for `status`: the server answers)
//! - 1: an error (bad configuration, I/O, …), explained on stderr
//! - 2: bad usage (unknown flag, missing argument)
//! - 3: the server does not answer (or speaks an incompatible protocol)
//! - 4: not signed in, or the session has ended: run `convene-cli login`
//! - 5: a call that did not connect (declined, busy, no answer, …)
//! - 6: a call that connected and then failed

mod account;
mod call;
mod chat;
mod status;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use convene_core::config::ConfigLayer;
use convene_core::ClientConfig;

#[derive(Debug, Parser)]
#[command(name = "convene-cli", version, about = "Convene from a terminal")]
struct Cli {
    /// convene-server base URL [env: CONVENE_SERVER] [default: http://127.0.0.1:8750]
    #[arg(long, global = true, value_name = "URL")]
    server: Option<String>,
    /// OpenID Connect authority [env: CONVENE_AUTHORITY] [default: {server}/{tenant}/v2.0]
    #[arg(long, global = true, value_name = "URL")]
    authority: Option<String>,
    /// App registration (client) id [env: CONVENE_CLIENT_ID]
    #[arg(long, global = true, value_name = "ID")]
    client_id: Option<String>,
    /// Tenant GUID, `organizations` or `common` [env: CONVENE_TENANT]
    #[arg(long, global = true, value_name = "TENANT")]
    tenant: Option<String>,
    /// Keep secrets in memory only, never in the OS keyring (kiosks, tests):
    /// nothing survives this command.
    #[arg(long, global = true)]
    ephemeral: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the server this client would use and whether it answers.
    Status {
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List the microphones and speakers `--audio device:NAME` can name.
    Devices {
        /// One JSON object per device instead of text.
        #[arg(long)]
        json: bool,
    },
    #[command(flatten)]
    Account(account::AccountCommand),
    #[command(flatten)]
    Chat(chat::ChatCommand),
    #[command(flatten)]
    Call(call::CallCommand),
}

/// Exit code when the server does not answer.
const EXIT_UNREACHABLE: u8 = 3;
/// Exit code when no account is signed in or its session has ended.
const EXIT_SIGN_IN_NEEDED: u8 = 4;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            // rtc_ice warns on every check tick while a ringing call waits
            // for the caller's candidates: expected, and 100 lines a second.
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,rtc_ice=error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("convene-cli: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let overrides = ConfigLayer {
        server: cli.server,
        authority: cli.authority,
        client_id: cli.client_id,
        tenant: cli.tenant,
        ..ConfigLayer::default()
    };
    let config = ClientConfig::load(overrides, |name| std::env::var(name).ok())?;
    // One thread is enough: a call's media runs on the core's call thread.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Status { json } => status::run(&config, json).await,
            Command::Devices { json } => call::list_devices(json),
            Command::Account(command) => {
                let sessions = account::open_sessions(&config, cli.ephemeral).await?;
                account::run(command, &sessions).await
            }
            Command::Call(command) => {
                let sessions = account::open_sessions(&config, cli.ephemeral).await?;
                call::run(command, &config, std::sync::Arc::new(sessions)).await
            }
            Command::Chat(command) => {
                let sessions = account::open_sessions(&config, cli.ephemeral).await?;
                chat::run(
                    command,
                    &config,
                    std::sync::Arc::new(sessions),
                    cli.ephemeral,
                )
                .await
            }
        }
    })
}
