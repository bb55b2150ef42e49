//! [`Client`]: one Convene session, as the desktop shell drives it.

use std::sync::{Arc, Mutex};

use convene_proto::ServerVersion;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use url::Url;

use crate::auth::AuthError;
use crate::chat::view::{ChatSummary, Draft, Person, ThreadMessage, ThreadPage};
use crate::config::ClientConfig;
use crate::connection::{
    ConnectionMonitor, ConnectionStatus, HttpProbe, MonitorTiming, ProbeError, ServerProbe,
};
use crate::event::{ClientEvent, EventStream, SignInProgress};
use crate::session::{AccountProfile, SessionError, Sessions};
use crate::vault::VaultError;

/// An error as the UI shows it: a stable code to branch on and a sentence
/// for the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct UserError {
    pub code: UserErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum UserErrorCode {
    /// No keyring to keep the sign-in in.
    KeyringUnavailable,
    NotSignedIn,
    SignInAgain,
    SignInInProgress,
    UnknownAccount,
    /// The service cannot be reached now; the action is retried or can be.
    Offline,
    /// The service refused the request (not allowed, not found, too large).
    Refused,
    /// The request itself is not acceptable (empty message, unknown chat).
    Invalid,
    Other,
}

impl From<&SessionError> for UserError {
    fn from(error: &SessionError) -> Self {
        let code = match error {
            SessionError::Vault(VaultError::Unavailable { .. } | VaultError::Locked { .. }) => {
                UserErrorCode::KeyringUnavailable
            }
            SessionError::SignInAgain { .. } => UserErrorCode::SignInAgain,
            SessionError::NotSignedIn => UserErrorCode::NotSignedIn,
            SessionError::UnknownAccount(_) => UserErrorCode::UnknownAccount,
            _ => UserErrorCode::Other,
        };
        Self {
            code,
            message: error.to_string(),
        }
    }
}

/// A running client. Create it inside a tokio runtime; dropping it stops its
/// background work.
pub struct Client {
    config: ClientConfig,
    monitor: ConnectionMonitor,
    sessions: Result<Arc<Sessions>, UserError>,
    events: mpsc::UnboundedSender<ClientEvent>,
    cancel_sign_in: Mutex<Option<oneshot::Sender<()>>>,
    /// The runtime the client started on: its methods may be called from
    /// threads without one (a UI thread).
    runtime: tokio::runtime::Handle,
    session_keeper: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Some(task) = self.session_keeper.lock().expect("not poisoned").take() {
            task.abort();
        }
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts a client and its connection monitor; call it inside a tokio
    /// runtime, which then runs its background work. Events arrive on the
    /// returned stream in order, starting with the monitor's first status.
    /// `sessions` is the signed-in accounts store, or why there is none
    /// (no keyring): the client still runs and says so when asked to sign in.
    pub fn start(
        config: ClientConfig,
        timing: MonitorTiming,
        sessions: Result<Sessions, SessionError>,
    ) -> (Self, EventStream) {
        let (events, receiver) = mpsc::unbounded_channel();
        let probe = HttpProbe::new(config.server_url.clone(), timing.probe_timeout);
        let monitor = ConnectionMonitor::spawn(&config.server_url, probe, timing, events.clone());
        let sessions = sessions.map(Arc::new).map_err(|e| UserError::from(&e));
        let client = Self {
            config,
            monitor,
            sessions,
            events,
            cancel_sign_in: Mutex::new(None),
            runtime: tokio::runtime::Handle::current(),
            session_keeper: Mutex::new(None),
        };
        client.keep_sessions_fresh(timing.session_check);
        (client, EventStream(receiver))
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

    fn sessions(&self) -> Result<&Arc<Sessions>, UserError> {
        self.sessions.as_ref().map_err(Clone::clone)
    }

    /// The account in use, if any.
    pub async fn current_account(&self) -> Result<Option<AccountProfile>, UserError> {
        self.sessions()?
            .current()
            .await
            .map_err(|e| UserError::from(&e))
    }

    /// Every account signed in on this device.
    pub async fn accounts(&self) -> Result<Vec<AccountProfile>, UserError> {
        self.sessions()?
            .accounts()
            .await
            .map_err(|e| UserError::from(&e))
    }

    /// Starts an interactive sign-in in the browser. Progress and the
    /// outcome arrive as [`ClientEvent::SignIn`] and
    /// [`ClientEvent::Account`].
    pub fn begin_sign_in(&self, login_hint: Option<String>) -> Result<(), UserError> {
        let sessions = self.sessions()?.clone();
        let (cancel, cancelled) = oneshot::channel();
        {
            let mut slot = self.cancel_sign_in.lock().expect("not poisoned");
            if slot.as_ref().is_some_and(|s| !s.is_closed()) {
                return Err(UserError {
                    code: UserErrorCode::SignInInProgress,
                    message: "a sign-in is already waiting for the browser".into(),
                });
            }
            *slot = Some(cancel);
        }
        let events = self.events.clone();
        let _ = events.send(ClientEvent::SignIn {
            progress: SignInProgress::WaitingForBrowser,
        });
        self.runtime.spawn(async move {
            let outcome = sessions
                .sign_in(
                    crate::auth::browser::open,
                    async {
                        let _ = cancelled.await;
                    },
                    login_hint,
                )
                .await;
            let progress = match &outcome {
                Ok(_) => SignInProgress::SignedIn,
                Err(SessionError::Auth(AuthError::Cancelled)) => SignInProgress::Cancelled,
                Err(error) => SignInProgress::Failed {
                    error: UserError::from(error),
                },
            };
            if let Err(error) = &outcome {
                tracing::warn!(%error, "sign-in did not complete");
            }
            let _ = events.send(ClientEvent::SignIn { progress });
            if let Ok(profile) = outcome {
                let _ = events.send(ClientEvent::Account {
                    account: Some(profile),
                });
            }
        });
        Ok(())
    }

    /// Stops a sign-in that is waiting for the browser.
    pub fn cancel_sign_in(&self) {
        if let Some(cancel) = self.cancel_sign_in.lock().expect("not poisoned").take() {
            let _ = cancel.send(());
        }
    }

    /// Makes another signed-in account current.
    pub async fn switch_account(&self, user_id: &str) -> Result<AccountProfile, UserError> {
        let profile = self
            .sessions()?
            .switch_to(user_id)
            .await
            .map_err(|e| UserError::from(&e))?;
        let _ = self.events.send(ClientEvent::Account {
            account: Some(profile.clone()),
        });
        Ok(profile)
    }

    /// Signs an account out, removing every secret of it from this device.
    pub async fn sign_out(&self, user_id: &str) -> Result<(), UserError> {
        let sessions = self.sessions()?;
        let accounts = sessions.accounts().await.map_err(|e| UserError::from(&e))?;
        let Some(profile) = accounts.iter().find(|p| p.user_id == user_id) else {
            return Err(UserError {
                code: UserErrorCode::UnknownAccount,
                message: format!("no account {user_id} on this device"),
            });
        };
        sessions
            .sign_out(profile)
            .await
            .map_err(|e| UserError::from(&e))?;
        let current = sessions.current().await.map_err(|e| UserError::from(&e))?;
        let _ = self.events.send(ClientEvent::Account { account: current });
        Ok(())
    }

    /// In the background, for as long as the client runs: keeps the current
    /// account's tokens renewed ahead of expiry (so a call or a message
    /// never waits for a refresh), and says once if its session has ended
    /// (revoked, expired) so the UI can offer to sign in again. It checks
    /// every `every` on the wall clock, so it catches up after a suspend.
    fn keep_sessions_fresh(&self, every: std::time::Duration) {
        let Ok(sessions) = self.sessions() else {
            return;
        };
        let sessions = Arc::downgrade(sessions);
        let events = self.events.clone();
        let task = self.runtime.spawn(async move {
            let mut reported: Option<String> = None;
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(sessions) = sessions.upgrade() else {
                    return;
                };
                let Ok(Some(profile)) = sessions.current().await else {
                    reported = None;
                    continue;
                };
                match sessions.communication_token(&profile).await {
                    Ok(_) => reported = None,
                    Err(SessionError::SignInAgain { .. }) => {
                        if reported.as_deref() != Some(profile.user_id.as_str()) {
                            reported = Some(profile.user_id.clone());
                            let _ = events.send(ClientEvent::SessionExpired { account: profile });
                        }
                    }
                    // Offline or server trouble: the connection monitor says
                    // so; the next tick tries again.
                    Err(error) => tracing::info!(%error, "could not renew the session now"),
                }
            }
        });
        *self.session_keeper.lock().expect("not poisoned") = Some(task);
    }

    // Chat. The sync engine, cache and outbox land behind these next.

    pub async fn chats(&self) -> Result<Vec<ChatSummary>, UserError> {
        Err(chat_not_ready())
    }

    pub async fn thread(
        &self,
        _chat_id: &str,
        _before: Option<&str>,
        _limit: u32,
    ) -> Result<ThreadPage, UserError> {
        Err(chat_not_ready())
    }

    pub async fn send_message(
        &self,
        _chat_id: &str,
        _draft: Draft,
    ) -> Result<ThreadMessage, UserError> {
        Err(chat_not_ready())
    }

    pub async fn retry_message(&self, _key: &str) -> Result<(), UserError> {
        Err(chat_not_ready())
    }

    pub async fn discard_message(&self, _key: &str) -> Result<(), UserError> {
        Err(chat_not_ready())
    }

    pub async fn edit_message(
        &self,
        _chat_id: &str,
        _message_id: &str,
        _html: &str,
    ) -> Result<(), UserError> {
        Err(chat_not_ready())
    }

    pub async fn delete_message(&self, _chat_id: &str, _message_id: &str) -> Result<(), UserError> {
        Err(chat_not_ready())
    }

    pub async fn react(
        &self,
        _chat_id: &str,
        _message_id: &str,
        _reaction: &str,
        _on: bool,
    ) -> Result<(), UserError> {
        Err(chat_not_ready())
    }

    pub async fn mark_read(&self, _chat_id: &str) -> Result<(), UserError> {
        Err(chat_not_ready())
    }

    pub async fn typing(&self, _chat_id: &str) -> Result<(), UserError> {
        Err(chat_not_ready())
    }

    pub async fn search_people(&self, _query: &str) -> Result<Vec<Person>, UserError> {
        Err(chat_not_ready())
    }

    pub async fn start_chat(
        &self,
        _user_ids: Vec<String>,
        _topic: Option<String>,
    ) -> Result<ChatSummary, UserError> {
        Err(chat_not_ready())
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

    /// The authority as configured, for display.
    pub fn authority(&self) -> &Url {
        &self.config.authority
    }
}

fn chat_not_ready() -> UserError {
    UserError {
        code: UserErrorCode::Other,
        message: "chat is not available in this build yet".into(),
    }
}
