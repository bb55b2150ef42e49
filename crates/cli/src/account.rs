//! `login`, `whoami`, `accounts`, `use` and `logout`: staying signed in
//! from a terminal, with the same sessions the app uses.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use convene_core::auth::browser;
use convene_core::exchange::ExchangeError;
use convene_core::session::{AccountProfile, Resource, SessionError, Sessions};
use convene_core::vault::{Vault, VaultKind};
use convene_core::ClientConfig;
use serde::Serialize;

use crate::EXIT_SIGN_IN_NEEDED;

/// Commands that work with the accounts signed in on this device.
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Sign in with a work account through the browser.
    Login,
    /// Show the signed-in account (renewing its session if need be).
    Whoami {
        #[arg(long)]
        json: bool,
    },
    /// List the accounts signed in on this device; `*` marks the current one.
    Accounts {
        #[arg(long)]
        json: bool,
    },
    /// Make another signed-in account the current one.
    Use {
        /// Username (e.g. bob@convene.example) or user id.
        account: String,
    },
    /// Sign out, removing every secret of the account from this device.
    Logout {
        /// Sign out every account.
        #[arg(long)]
        all: bool,
    },
}

pub async fn run(command: AccountCommand, sessions: &Sessions) -> anyhow::Result<ExitCode> {
    match command {
        AccountCommand::Login => login(sessions).await,
        AccountCommand::Whoami { json } => whoami(sessions, json).await,
        AccountCommand::Accounts { json } => accounts(sessions, json).await,
        AccountCommand::Use { account } => switch(sessions, &account).await,
        AccountCommand::Logout { all } => logout(sessions, all).await,
    }
}

/// The `--json` shape of an account. Field names are a stable contract.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountReport<'a> {
    name: &'a str,
    username: &'a str,
    tenant_id: &'a str,
    user_id: &'a str,
    communication_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    current: Option<bool>,
}

impl<'a> AccountReport<'a> {
    fn new(profile: &'a AccountProfile, current: Option<bool>) -> Self {
        Self {
            name: &profile.name,
            username: &profile.username,
            tenant_id: &profile.tenant_id,
            user_id: &profile.user_id,
            communication_id: profile.communication_id(),
            current,
        }
    }
}

pub async fn open_sessions(config: &ClientConfig, ephemeral: bool) -> anyhow::Result<Sessions> {
    let kind = if ephemeral {
        VaultKind::Ephemeral
    } else {
        VaultKind::System
    };
    let vault = Vault::open(kind).await?;
    let state_file = (!ephemeral)
        .then(dirs::data_dir)
        .flatten()
        .map(|d| d.join("convene").join("current-account"));
    Ok(Sessions::new(
        vault,
        convene_core::http::client(Duration::from_secs(30)),
        config.clone(),
        state_file,
    ))
}

async fn login(sessions: &Sessions) -> anyhow::Result<ExitCode> {
    let profile = sign_in(sessions, None).await?;
    // The server has its say too: an organisation it does not serve is
    // told so now, not at the first chat or call.
    match sessions.communication_token(&profile).await {
        Err(SessionError::Exchange(ExchangeError::Refused {
            status: 401 | 403,
            message,
            ..
        })) => {
            sessions.sign_out(&profile).await?;
            eprintln!(
                "convene-cli: {} signed in, but this Convene server refuses the account: {message}",
                profile.username
            );
            return Ok(ExitCode::FAILURE);
        }
        Err(error) => eprintln!("convene-cli: the server cannot be asked now ({error})"),
        Ok(_) => {}
    }
    println!("Signed in as {} ({})", profile.name, profile.username);
    Ok(ExitCode::SUCCESS)
}

/// The interactive sign-in through the browser; Ctrl-C cancels it.
async fn sign_in(
    sessions: &Sessions,
    login_hint: Option<String>,
) -> Result<AccountProfile, SessionError> {
    sessions
        .sign_in(
            |url| {
                eprintln!("Opening your browser to sign in. If it does not open, visit:\n  {url}");
                browser::open(url)
            },
            async {
                let _ = tokio::signal::ctrl_c().await;
            },
            login_hint,
        )
        .await
}

/// Makes sure `account` may use `resources`: when the organisation's
/// sign-in wants the person first (to approve a permission Convene asks
/// for, or for a policy), says so, runs the interactive step once for the
/// same account and carries on. The account stays signed in throughout.
/// Other failures are left to the command, which knows what to do when
/// offline.
pub async fn approve_if_needed(
    sessions: &Sessions,
    account: &AccountProfile,
    resources: &[Resource],
) -> Result<(), SessionError> {
    for &resource in resources {
        if let Err(SessionError::InteractionRequired { username, .. }) =
            sessions.access_token(account, resource).await
        {
            eprintln!(
                "Convene needs your approval to {} for {username}. You stay signed in.",
                resource.purpose()
            );
            sign_in(sessions, Some(username)).await?;
        }
    }
    Ok(())
}

async fn whoami(sessions: &Sessions, json: bool) -> anyhow::Result<ExitCode> {
    let Some(profile) = sessions.current().await? else {
        eprintln!("convene-cli: not signed in: run `convene-cli login`");
        return Ok(ExitCode::from(EXIT_SIGN_IN_NEEDED));
    };
    // Proves the session is alive, renewing it if need be.
    match sessions.access_token(&profile, Resource::Api).await {
        Ok(_) => {}
        Err(error @ SessionError::SignInAgain { .. }) => {
            eprintln!("convene-cli: {error}: run `convene-cli login`");
            return Ok(ExitCode::from(EXIT_SIGN_IN_NEEDED));
        }
        Err(other) => return Err(other.into()),
    }
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, &AccountReport::new(&profile, None))?;
        writeln!(out)?;
    } else {
        writeln!(out, "{} ({})", profile.name, profile.username)?;
        writeln!(out, "tenant:  {}", profile.tenant_id)?;
        writeln!(out, "user id: {}", profile.user_id)?;
        writeln!(out, "address: {}", profile.communication_id())?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn accounts(sessions: &Sessions, json: bool) -> anyhow::Result<ExitCode> {
    let accounts = sessions.accounts().await?;
    let current = sessions.current().await?.map(|p| p.key());
    let mut out = std::io::stdout().lock();
    if json {
        let reports: Vec<_> = accounts
            .iter()
            .map(|p| AccountReport::new(p, Some(Some(p.key()) == current)))
            .collect();
        serde_json::to_writer(&mut out, &reports)?;
        writeln!(out)?;
    } else if accounts.is_empty() {
        writeln!(out, "No accounts: run `convene-cli login`.")?;
    } else {
        for profile in &accounts {
            let mark = if Some(profile.key()) == current {
                "*"
            } else {
                " "
            };
            writeln!(
                out,
                "{mark} {} ({}) tenant {}",
                profile.name, profile.username, profile.tenant_id
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn switch(sessions: &Sessions, who: &str) -> anyhow::Result<ExitCode> {
    let profile = sessions.switch_to(who).await?;
    println!("Using {} ({})", profile.name, profile.username);
    Ok(ExitCode::SUCCESS)
}

async fn logout(sessions: &Sessions, all: bool) -> anyhow::Result<ExitCode> {
    let targets = if all {
        sessions.accounts().await?
    } else {
        match sessions.current().await? {
            Some(profile) => vec![profile],
            None => {
                eprintln!("convene-cli: not signed in");
                return Ok(ExitCode::from(EXIT_SIGN_IN_NEEDED));
            }
        }
    };
    for profile in &targets {
        sessions.sign_out(profile).await?;
        println!("Signed out {} ({})", profile.name, profile.username);
    }
    Ok(ExitCode::SUCCESS)
}
