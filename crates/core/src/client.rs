//! [`Client`]: one Convene session, as the desktop shell drives it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use convene_proto::ServerVersion;
use tokio::sync::{mpsc, oneshot};
use url::Url;

use crate::account::{AccountOptions, AccountServices, AccountSetup};
use crate::auth::AuthError;
use crate::call::{CallEngine, CallHistoryEntry, CallView};
use crate::chat::view::{ChatSummary, Draft, Person, ThreadMessage, ThreadPage};
use crate::chat::ChatService;
use crate::config::ClientConfig;
use crate::connection::{
    ConnectionMonitor, ConnectionStatus, HttpProbe, MonitorTiming, ProbeError, ServerProbe,
};
use crate::error::{UserError, UserErrorCode};
use crate::event::{ClientEvent, EventStream, SignInProgress};
use crate::publish::Publisher;
use crate::session::{AccountProfile, SessionError, Sessions};

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
    current: Arc<CurrentAccount>,
}

/// The services of the account in use, started when an account becomes
/// current and stopped when it stops being so.
struct CurrentAccount {
    options: AccountOptions,
    config: ClientConfig,
    events: mpsc::UnboundedSender<ClientEvent>,
    services: tokio::sync::Mutex<Option<Arc<AccountServices>>>,
}

impl CurrentAccount {
    /// The services for `account`, started if they are not the ones running.
    async fn follow(
        &self,
        sessions: &Arc<Sessions>,
        account: Option<AccountProfile>,
    ) -> Result<Option<Arc<AccountServices>>, UserError> {
        let mut slot = self.services.lock().await;
        let Some(account) = account else {
            *slot = None;
            return Ok(None);
        };
        if let Some(services) = slot.as_ref() {
            if services.account().user_id == account.user_id
                && services.account().tenant_id == account.tenant_id
            {
                services.resume();
                return Ok(Some(services.clone()));
            }
        }
        *slot = None;
        let services = AccountServices::start(AccountSetup {
            account,
            sessions: sessions.clone(),
            server_url: self.config.server_url.clone(),
            graph_url: self.config.graph_url.clone(),
            options: self.options.clone(),
            chat_events: Publisher::into_channel(self.events.clone()),
        })
        .map_err(UserError::from)?;
        if let Some(engine) = services.calls() {
            let mut updates = engine.subscribe();
            let events = self.events.clone();
            // Ends with the engine (its sender closes the channel).
            tokio::spawn(async move {
                loop {
                    match updates.recv().await {
                        Ok(call) => {
                            let _ = events.send(ClientEvent::Call {
                                call: Box::new(call),
                            });
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    }
                }
            });
        }
        let services = Arc::new(services);
        *slot = Some(services.clone());
        Ok(Some(services))
    }
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
        Self::start_with_options(config, timing, sessions, AccountOptions::default())
    }

    /// [`Client::start`], with the account's services as `options` say
    /// (chat's cache, call devices). They start at once for the account in
    /// use, so messages arrive before the UI asks for them.
    pub fn start_with_options(
        config: ClientConfig,
        timing: MonitorTiming,
        sessions: Result<Sessions, SessionError>,
        options: AccountOptions,
    ) -> (Self, EventStream) {
        let (events, receiver) = mpsc::unbounded_channel();
        let probe = HttpProbe::new(config.server_url.clone(), timing.probe_timeout);
        let statuses = Publisher::into_channel(events.clone());
        let monitor = ConnectionMonitor::spawn(&config.server_url, probe, timing, statuses);
        let sessions = sessions.map(Arc::new).map_err(|e| UserError::from(&e));
        let current = Arc::new(CurrentAccount {
            options,
            config: config.clone(),
            events: events.clone(),
            services: tokio::sync::Mutex::new(None),
        });
        let client = Self {
            config,
            monitor,
            sessions,
            events,
            cancel_sign_in: Mutex::new(None),
            runtime: tokio::runtime::Handle::current(),
            session_keeper: Mutex::new(None),
            current,
        };
        client.keep_sessions_fresh(timing.session_check);
        client.follow_current_account();
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
        let current = self.current.clone();
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
                    account: Some(profile.clone()),
                });
                if let Err(error) = current.follow(&sessions, Some(profile)).await {
                    tracing::warn!(?error, "chat could not start");
                }
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
        self.current
            .follow(self.sessions()?, Some(profile.clone()))
            .await?;
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
        let _ = self.events.send(ClientEvent::Account {
            account: current.clone(),
        });
        self.current.follow(sessions, current).await?;
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
                // The communication token (Convene's API token with it),
                // then chat's, so that a permission the person has not
                // approved is asked for once, up front.
                let mut outcome = sessions.communication_token(&profile).await.map(|_| ());
                if outcome.is_ok() {
                    let chat = sessions.chat_resource();
                    outcome = sessions.access_token(&profile, chat).await.map(|_| ());
                }
                let event = match outcome {
                    Ok(()) => {
                        reported = None;
                        continue;
                    }
                    Err(SessionError::SignInAgain { .. }) => ClientEvent::SessionExpired {
                        account: profile.clone(),
                    },
                    Err(SessionError::InteractionRequired { resource, .. }) => {
                        ClientEvent::InteractionRequired {
                            account: profile.clone(),
                            purpose: resource.purpose().to_owned(),
                        }
                    }
                    // Offline or server trouble: the connection monitor says
                    // so; the next tick tries again.
                    Err(error) => {
                        tracing::info!(%error, "could not renew the session now");
                        continue;
                    }
                };
                if reported.as_deref() != Some(profile.user_id.as_str()) {
                    reported = Some(profile.user_id.clone());
                    let _ = events.send(event);
                }
            }
        });
        *self.session_keeper.lock().expect("not poisoned") = Some(task);
    }

    /// Starts the services of the account in use, if any, in the background.
    fn follow_current_account(&self) {
        let Ok(sessions) = self.sessions().cloned() else {
            return;
        };
        let current = self.current.clone();
        self.runtime.spawn(async move {
            match sessions.current().await {
                Ok(account) => {
                    if let Err(error) = current.follow(&sessions, account).await {
                        tracing::warn!(?error, "chat could not start");
                    }
                }
                Err(error) => tracing::info!(%error, "no account to start chat for"),
            }
        });
    }

    /// The services of the account in use. Sign-in, switching and signing
    /// out move the running ones along (`CurrentAccount::follow`), so
    /// running ones are the current account's and the keyring is not asked
    /// again on every command.
    async fn services(&self) -> Result<Arc<AccountServices>, UserError> {
        if let Some(services) = self.current.services.lock().await.clone() {
            return Ok(services);
        }
        let sessions = self.sessions()?;
        let current = sessions.current().await.map_err(|e| UserError::from(&e))?;
        self.current
            .follow(sessions, current)
            .await?
            .ok_or_else(|| UserError::from(&SessionError::NotSignedIn))
    }

    /// Chat for the account in use.
    pub async fn chat(&self) -> Result<Arc<ChatService>, UserError> {
        Ok(self.services().await?.chat().clone())
    }

    /// The signed-in account's call engine.
    pub async fn calls(&self) -> Result<Arc<CallEngine>, UserError> {
        self.services()
            .await?
            .calls()
            .cloned()
            .ok_or_else(|| UserError {
                code: UserErrorCode::Other,
                message: "calls are not available in this client".into(),
            })
    }

    /// Calls a person (Entra object id).
    /// Calls `user_id`. The call view shows the name the chats know the
    /// person by, else `name` (e.g. from a people search).
    pub async fn place_call(
        &self,
        user_id: &str,
        video: bool,
        name: Option<String>,
    ) -> Result<CallView, UserError> {
        let engine = self.calls().await?;
        let known = self.chat().await?.chats()?.into_iter().find_map(|chat| {
            chat.members
                .into_iter()
                .find(|p| p.id == user_id)
                .map(|p| p.display_name)
        });
        Ok(engine.place(user_id, known.or(name), video).await?)
    }

    pub async fn answer_call(&self, call_id: &str, video: bool) -> Result<CallView, UserError> {
        Ok(self.calls().await?.answer(call_id, video).await?)
    }

    pub async fn decline_call(&self, call_id: &str) -> Result<(), UserError> {
        Ok(self.calls().await?.decline(call_id).await?)
    }

    /// Ends the current call, whatever its stage.
    pub async fn hang_up(&self) -> Result<(), UserError> {
        Ok(self.calls().await?.hang_up().await?)
    }

    pub async fn set_muted(&self, muted: bool) -> Result<CallView, UserError> {
        Ok(self.calls().await?.set_muted(muted).await?)
    }

    pub async fn set_camera(&self, on: bool) -> Result<CallView, UserError> {
        Ok(self.calls().await?.set_camera(on).await?)
    }

    /// The account's calls, newest first, with names where chat knows them.
    pub async fn call_history(&self) -> Result<Vec<CallHistoryEntry>, UserError> {
        let sessions = self.sessions()?;
        let chat = self.chat().await?;
        let names: HashMap<String, String> = chat
            .chats()?
            .into_iter()
            .flat_map(|c| c.members)
            .map(|p| (p.id, p.display_name))
            .collect();
        let http = crate::http::client(std::time::Duration::from_secs(15));
        crate::call::history::fetch(
            &http,
            &self.config.server_url,
            sessions,
            chat.account(),
            &names,
        )
        .await
        .map_err(|error| match error {
            crate::call::history::HistoryError::Session(e) => UserError::from(&e),
            other => UserError {
                code: UserErrorCode::Offline,
                message: other.to_string(),
            },
        })
    }

    /// The call going on, if any (for a window opened mid-call).
    pub async fn current_call(&self) -> Result<Option<CallView>, UserError> {
        Ok(self.calls().await?.current())
    }

    /// The chat list, newest activity first.
    pub async fn chats(&self) -> Result<Vec<ChatSummary>, UserError> {
        Ok(self.chat().await?.chats()?)
    }

    pub async fn thread(
        &self,
        chat_id: &str,
        before: Option<&str>,
        limit: u32,
    ) -> Result<ThreadPage, UserError> {
        Ok(self.chat().await?.thread(chat_id, before, limit).await?)
    }

    pub async fn send_message(
        &self,
        chat_id: &str,
        draft: Draft,
    ) -> Result<ThreadMessage, UserError> {
        Ok(self.chat().await?.send(chat_id, draft)?)
    }

    pub async fn retry_message(&self, key: &str) -> Result<(), UserError> {
        Ok(self.chat().await?.retry(key)?)
    }

    pub async fn discard_message(&self, key: &str) -> Result<(), UserError> {
        self.chat().await?.discard(key)?;
        Ok(())
    }

    pub async fn edit_message(
        &self,
        chat_id: &str,
        message_id: &str,
        html: &str,
    ) -> Result<(), UserError> {
        Ok(self.chat().await?.edit(chat_id, message_id, html).await?)
    }

    pub async fn delete_message(&self, chat_id: &str, message_id: &str) -> Result<(), UserError> {
        Ok(self.chat().await?.delete(chat_id, message_id).await?)
    }

    pub async fn react(
        &self,
        chat_id: &str,
        message_id: &str,
        reaction: &str,
        on: bool,
    ) -> Result<(), UserError> {
        Ok(self
            .chat()
            .await?
            .react(chat_id, message_id, reaction, on)
            .await?)
    }

    pub async fn mark_read(&self, chat_id: &str) -> Result<(), UserError> {
        Ok(self.chat().await?.mark_read(chat_id)?)
    }

    pub async fn typing(&self, chat_id: &str) -> Result<(), UserError> {
        self.chat().await?.typing(chat_id);
        Ok(())
    }

    pub async fn search_people(&self, query: &str) -> Result<Vec<Person>, UserError> {
        Ok(self.chat().await?.search_people(query).await?)
    }

    pub async fn start_chat(
        &self,
        user_ids: Vec<String>,
        topic: Option<String>,
    ) -> Result<ChatSummary, UserError> {
        Ok(self
            .chat()
            .await?
            .start_chat(&user_ids, topic.as_deref())
            .await?)
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
