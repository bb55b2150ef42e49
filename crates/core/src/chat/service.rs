//! [`ChatService`]: chat for one signed-in account. It owns the cache, the
//! sync worker and the outbox worker, hears the account's live channel, and
//! answers what the UI (or the CLI) asks.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use convene_proto::graph::ItemBody;
use convene_proto::live::{ClientFrame, TYPING_REPEAT_SECS};
use tokio::sync::{mpsc, Notify};
use url::Url;

use super::cache::Cache;
use super::engine::{with_graph, ChatError, Engine};
use super::event::ChatEvent;
use super::graph::GraphChats;
use super::outbox;
use super::sanitize::sanitize_message_html;
use super::sync::{self, PollTiming, SyncRequest};
use super::view::{ChatSummary, Draft, Person, ThreadMessage, ThreadPage};
use crate::live::{LiveEvent, LiveSender};
use crate::publish::Publisher;
use crate::session::{AccountProfile, Sessions};

/// Where an account's chat cache lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatStorage {
    /// `{dir}/{tenant}.{user}/chat.db`, usually under `$XDG_DATA_HOME/convene/accounts`.
    Disk(PathBuf),
    /// Nothing written to disk (ephemeral sessions, tests).
    Memory,
}

impl ChatStorage {
    /// The default: the user's data directory.
    pub fn default_disk() -> Self {
        match dirs::data_dir() {
            Some(dir) => ChatStorage::Disk(dir.join("convene").join("accounts")),
            None => ChatStorage::Memory,
        }
    }
}

/// What a chat service needs to run.
pub struct ChatSetup {
    pub account: AccountProfile,
    pub sessions: Arc<Sessions>,
    pub http: reqwest::Client,
    pub graph_url: Url,
    /// convene-server: its live channel brings chat hints only when it
    /// also serves the chat API.
    pub server_url: Url,
    pub storage: ChatStorage,
    pub timing: PollTiming,
    /// The account's live channel (typing goes out on it) and what it
    /// brings for chat.
    pub live: LiveSender,
    pub live_events: mpsc::UnboundedReceiver<LiveEvent>,
    pub events: Publisher<ChatEvent>,
}

/// Chat for one account; dropping it stops its workers.
pub struct ChatService {
    engine: Arc<Engine>,
    sync: mpsc::UnboundedSender<SyncRequest>,
    outbox_wake: Arc<Notify>,
    live: LiveSender,
    typing_sent: Mutex<HashMap<String, Instant>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for ChatService {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl std::fmt::Debug for ChatService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatService")
            .field("account", &self.engine.account.user_id)
            .finish_non_exhaustive()
    }
}

impl ChatService {
    /// Opens the account's cache and starts the workers (inside a tokio
    /// runtime). The first sync and any waiting outbox entries start at once.
    pub fn start(setup: ChatSetup) -> Result<Self, ChatError> {
        let account = setup.account;
        let cache = match &setup.storage {
            ChatStorage::Disk(dir) => {
                let folder = format!("{}.{}", account.tenant_id, account.user_id);
                Cache::open(&dir.join(folder).join("chat.db"), &account.user_id)?
            }
            ChatStorage::Memory => Cache::in_memory(&account.user_id)?,
        };
        // convene-server's hints cover chat only when it also serves the
        // chat API; against real Graph the live channel brings typing and
        // presence, and chats are polled as often as without it.
        let mut timing = setup.timing;
        if setup.graph_url.origin() != setup.server_url.origin() {
            timing.with_push = timing.without_push;
        }
        let graph = GraphChats::new(setup.http, setup.graph_url);
        let engine = Arc::new(Engine::new(
            account.clone(),
            setup.sessions.clone(),
            graph,
            cache,
            setup.events,
        ));
        let (sync_tx, sync_rx) = mpsc::unbounded_channel();
        let outbox_wake = Arc::new(Notify::new());
        let sync_task = tokio::spawn(sync::run(
            engine.clone(),
            sync_rx,
            setup.live_events,
            timing,
            outbox_wake.clone(),
        ));
        let outbox_task = tokio::spawn(outbox::run(engine.clone(), outbox_wake.clone()));
        Ok(Self {
            engine,
            sync: sync_tx,
            outbox_wake,
            live: setup.live,
            typing_sent: Mutex::new(HashMap::new()),
            tasks: vec![sync_task, outbox_task],
        })
    }

    pub fn account(&self) -> &AccountProfile {
        &self.engine.account
    }

    /// Whether the live channel is up (hints arrive without polling).
    pub fn is_live(&self) -> bool {
        self.live.is_connected()
    }

    /// The account was signed in (again) or chosen: what waits for a usable
    /// session, the outbox and the live channel, tries at once, and the
    /// chats catch up on what the ended session missed.
    pub fn resume(&self) {
        self.outbox_wake.notify_one();
        self.live.signed_in();
        self.sync_now();
    }

    /// Asks the sync worker to catch up on everything now.
    pub fn sync_now(&self) {
        let _ = self.sync.send(SyncRequest::Everything);
    }

    /// Catches up on everything and waits for it (the CLI's one-shot use).
    pub async fn sync_once(&self) -> Result<(), ChatError> {
        sync::sync_everything(&self.engine).await
    }

    /// The chat list from the cache, newest activity first.
    pub fn chats(&self) -> Result<Vec<ChatSummary>, ChatError> {
        Ok(self.engine.cache().chat_summaries()?)
    }

    /// Up to `limit` messages before the one keyed `before`; pages in older
    /// history from the service when the cache runs out.
    pub async fn thread(
        &self,
        chat_id: &str,
        before: Option<&str>,
        limit: u32,
    ) -> Result<ThreadPage, ChatError> {
        let limit = limit.clamp(1, 500);
        if !self.engine.cache().has_chat(chat_id)? {
            sync::sync_chat(&self.engine, chat_id).await?;
        }
        loop {
            let (messages, more_cached) = self.engine.cache().thread(chat_id, before, limit)?;
            let position = self.engine.cache().sync_position(chat_id)?;
            let complete = position.history_complete;
            if messages.len() as u32 >= limit || complete {
                return Ok(ThreadPage {
                    chat_id: chat_id.to_owned(),
                    messages,
                    has_older: more_cached || !complete,
                });
            }
            // Not enough cached: fetch a page from the service. Offline,
            // show what there is.
            match sync::load_older(&self.engine, chat_id).await {
                Ok(true) => continue,
                Ok(false) => {
                    return Ok(ThreadPage {
                        chat_id: chat_id.to_owned(),
                        messages,
                        has_older: more_cached,
                    })
                }
                Err(error) if error.is_transient() => {
                    tracing::info!(%error, "older messages not available now");
                    return Ok(ThreadPage {
                        chat_id: chat_id.to_owned(),
                        messages,
                        has_older: true,
                    });
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Puts a message in the outbox; it goes out as soon as it can.
    pub fn send(&self, chat_id: &str, draft: Draft) -> Result<ThreadMessage, ChatError> {
        let message = outbox::enqueue(&self.engine, chat_id, draft)?;
        self.engine.publish_messages(chat_id, vec![message.clone()]);
        self.outbox_wake.notify_one();
        Ok(message)
    }

    /// A failed message goes back in the queue.
    pub fn retry(&self, key: &str) -> Result<(), ChatError> {
        let message = self.engine.cache().retry(key)?;
        self.engine
            .publish_messages(&message.chat_id.clone(), vec![message]);
        self.outbox_wake.notify_one();
        Ok(())
    }

    /// Forgets a failed message.
    pub fn discard(&self, key: &str) -> Result<String, ChatError> {
        let chat_id = self.engine.cache().discard(key)?;
        self.engine.publish_chats(&[&chat_id]);
        Ok(chat_id)
    }

    /// Keys of the messages waiting in the outbox (not failed), oldest first.
    pub fn pending_keys(&self) -> Result<Vec<String>, ChatError> {
        Ok(self
            .engine
            .cache()
            .pending()?
            .into_iter()
            .map(|item| item.key)
            .collect())
    }

    pub async fn edit(&self, chat_id: &str, message_id: &str, html: &str) -> Result<(), ChatError> {
        let html = sanitize_message_html(html);
        if super::sanitize::preview_text(&html, 1).is_empty() {
            return Err(ChatError::Invalid("the message is empty".into()));
        }
        let body = ItemBody {
            content_type: "html".into(),
            content: html,
        };
        with_graph!(self.engine, |graph, token| graph
            .edit_message(token, chat_id, message_id, &body));
        self.refresh(chat_id).await
    }

    pub async fn delete(&self, chat_id: &str, message_id: &str) -> Result<(), ChatError> {
        with_graph!(self.engine, |graph, token| graph
            .soft_delete(token, chat_id, message_id));
        self.refresh(chat_id).await
    }

    pub async fn react(
        &self,
        chat_id: &str,
        message_id: &str,
        reaction: &str,
        on: bool,
    ) -> Result<(), ChatError> {
        if reaction.trim().is_empty() || reaction.chars().count() > 16 {
            return Err(ChatError::Invalid("not a reaction".into()));
        }
        with_graph!(self.engine, |graph, token| graph
            .react(token, chat_id, message_id, reaction, on));
        self.refresh(chat_id).await
    }

    /// Catches a chat up now, so a change the user made shows at once
    /// (the hint that follows finds nothing new). The change itself has
    /// already succeeded, so a failure here is only logged and left to the
    /// sync worker.
    async fn refresh(&self, chat_id: &str) -> Result<(), ChatError> {
        let caught_up = async {
            self.ensure_chat(chat_id).await?;
            sync::catch_up(&self.engine, chat_id).await
        }
        .await;
        if let Err(error) = caught_up {
            tracing::info!(%error, "the change shows with the next sync");
            let _ = self.sync.send(SyncRequest::Messages(chat_id.to_owned()));
        }
        Ok(())
    }

    /// Makes sure the cache knows the chat and holds its newest messages
    /// (a chat named by id before the first sync has fetched the list).
    pub async fn ensure_chat(&self, chat_id: &str) -> Result<(), ChatError> {
        if !self.engine.cache().has_chat(chat_id)? {
            sync::sync_chat(&self.engine, chat_id).await?;
        }
        if self
            .engine
            .cache()
            .sync_position(chat_id)?
            .watermark
            .is_none()
        {
            sync::catch_up(&self.engine, chat_id).await?;
        }
        Ok(())
    }

    /// Marks the chat read up to its newest message, here at once and at
    /// the service in the background.
    pub fn mark_read(&self, chat_id: &str) -> Result<(), ChatError> {
        let newest = self.engine.cache().newest_message_at(chat_id)?;
        let Some(newest) = newest else {
            return Ok(());
        };
        self.engine.cache().mark_read(chat_id, &newest)?;
        self.engine.publish_chats(&[chat_id]);
        let engine = self.engine.clone();
        let chat_id = chat_id.to_owned();
        tokio::spawn(async move {
            let result = async {
                let account = &engine.account;
                with_graph!(engine, |graph, token| graph.mark_read(
                    token,
                    &chat_id,
                    &account.user_id,
                    &account.tenant_id
                ));
                Ok::<_, ChatError>(())
            }
            .await;
            if let Err(error) = result {
                // The next mark_read carries it; the local mark stands.
                tracing::info!(%error, "could not tell the service the chat was read");
            }
        });
        Ok(())
    }

    /// Tells the chat's other members the user is typing; at most every
    /// few seconds per chat, and only while the live channel is up.
    pub fn typing(&self, chat_id: &str) {
        let mut sent = self.typing_sent.lock().unwrap_or_else(|p| p.into_inner());
        let due = sent
            .get(chat_id)
            .is_none_or(|at| at.elapsed() >= Duration::from_secs(TYPING_REPEAT_SECS));
        if due
            && self.live.try_send(ClientFrame::Typing {
                chat_id: chat_id.to_owned(),
            })
        {
            sent.insert(chat_id.to_owned(), Instant::now());
        }
    }

    /// People whose name or sign-in name starts with `query` (not the user).
    pub async fn search_people(&self, query: &str) -> Result<Vec<Person>, ChatError> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let users = with_graph!(self.engine, |graph, token| graph.search_users(token, query));
        Ok(users
            .into_iter()
            .filter(|u| u.id != self.engine.account.user_id)
            .map(|u| Person {
                display_name: u.display_name.clone().unwrap_or_else(|| u.id.clone()),
                user_principal_name: u.user_principal_name,
                id: u.id,
            })
            .collect())
    }

    /// The user's user id for a sign-in name, if the directory has one.
    pub async fn find_person(
        &self,
        user_principal_name: &str,
    ) -> Result<Option<Person>, ChatError> {
        Ok(with_graph!(self.engine, |graph, token| graph
            .find_user(token, user_principal_name))
        .map(|u| Person {
            display_name: u.display_name.clone().unwrap_or_else(|| u.id.clone()),
            user_principal_name: u.user_principal_name,
            id: u.id,
        }))
    }

    /// The 1:1 chat with one person, or a new group chat with several.
    pub async fn start_chat(
        &self,
        user_ids: &[String],
        topic: Option<&str>,
    ) -> Result<ChatSummary, ChatError> {
        let me = &self.engine.account.user_id;
        let others: Vec<String> = user_ids.iter().filter(|id| *id != me).cloned().collect();
        let chat = match others.as_slice() {
            [] => return Err(ChatError::Invalid("choose someone to chat with".into())),
            [other] if topic.is_none_or(|t| t.trim().is_empty()) => {
                with_graph!(self.engine, |graph, token| graph
                    .one_on_one(token, me, other))
            }
            _ => {
                with_graph!(self.engine, |graph, token| graph
                    .group_chat(token, me, &others, topic))
            }
        };
        // The reply may lack members; fetch the chat whole.
        let chat = match chat.members {
            Some(_) => chat,
            None => {
                with_graph!(self.engine, |graph, token| graph.chat(token, &chat.id))
            }
        };
        self.engine.cache().upsert_chat(&chat)?;
        if let Err(error) = sync::catch_up(&self.engine, &chat.id).await {
            tracing::info!(%error, "new chat's messages come with the next sync");
        }
        self.engine.publish_chats(&[&chat.id]);
        self.engine
            .cache()
            .chat_summary(&chat.id)?
            .ok_or_else(|| ChatError::Invalid("the new chat vanished".into()))
    }
}
