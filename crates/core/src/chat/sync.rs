//! The sync worker: keeps the cache in step with the service. It catches up
//! when told to (a hint from the live channel, a reconnection, a poll) and
//! never fetches more than the changes since its watermark. The same code
//! serves push (convene-server) and polling (real Graph): only what wakes it
//! differs.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use convene_proto::live::{ChangeKind, ServerFrame};
use tokio::sync::mpsc;

use super::cache::Stored;
use super::engine::{with_graph, ChatError, Engine};
use super::event::ChatEvent;
use super::time::{normalize, shift};
use super::view::Person;
use crate::live::LiveEvent;

/// What the worker is asked to bring up to date.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SyncRequest {
    /// The chat list, then every chat's new messages.
    Everything,
    /// One chat's details and members (new chat, members, read marks).
    Chat(String),
    /// One chat's messages since its watermark.
    Messages(String),
}

/// How often to look for changes nobody told us about.
#[derive(Debug, Clone, Copy)]
pub struct PollTiming {
    /// While the live channel is up (a safety net).
    pub with_push: Duration,
    /// Without it (real Graph, or the channel is down).
    pub without_push: Duration,
}

impl Default for PollTiming {
    fn default() -> Self {
        Self {
            with_push: Duration::from_secs(120),
            without_push: Duration::from_secs(10),
        }
    }
}

/// Runs until `requests` closes.
pub async fn run(
    engine: Arc<Engine>,
    mut requests: mpsc::UnboundedReceiver<SyncRequest>,
    mut live: mpsc::UnboundedReceiver<LiveEvent>,
    timing: PollTiming,
    outbox_wake: Arc<tokio::sync::Notify>,
) {
    let mut pushing = false;
    let mut pending: BTreeSet<SyncRequest> = BTreeSet::new();
    let mut failures = 0u32;
    let mut asked_to_wait = Duration::ZERO;
    let mut not_before: Option<tokio::time::Instant> = None;
    pending.insert(SyncRequest::Everything);
    loop {
        let wait = if !pending.is_empty() {
            // Failed requests stay pending and are retried after a pause,
            // no shorter than a 429's Retry-After.
            let throttled = not_before
                .map(|t| t.saturating_duration_since(tokio::time::Instant::now()))
                .unwrap_or_default();
            retry_delay(failures).max(throttled)
        } else if pushing {
            timing.with_push
        } else {
            timing.without_push
        };
        tokio::select! {
            request = requests.recv() => match request {
                Some(request) => { pending.insert(request); }
                None => return,
            },
            event = live.recv() => match event {
                Some(LiveEvent::Connected) => {
                    pushing = true;
                    // Whatever happened while disconnected is caught up now,
                    // and the outbox tries again at once.
                    pending.insert(SyncRequest::Everything);
                    outbox_wake.notify_one();
                }
                Some(LiveEvent::Disconnected) => pushing = false,
                Some(LiveEvent::Frame(frame)) => on_frame(&engine, frame, &mut pending),
                None => pushing = false,
            },
            _ = tokio::time::sleep(wait) => {
                if pending.is_empty() {
                    pending.insert(SyncRequest::Everything);
                }
            }
        }
        // Take everything queued so that a burst of hints costs one fetch.
        while let Ok(request) = requests.try_recv() {
            pending.insert(request);
        }
        if pending.is_empty() {
            continue;
        }
        // After a 429, nothing goes out before its Retry-After, hints or not.
        if let Some(until) = not_before {
            if tokio::time::Instant::now() < until {
                continue;
            }
            not_before = None;
        }
        let batch = std::mem::take(&mut pending);
        let mut failed = false;
        for request in batch {
            if failed {
                pending.insert(request);
                continue;
            }
            if let Err(error) = handle(&engine, &request).await {
                if error.is_transient() {
                    asked_to_wait = error.retry_after().unwrap_or_default();
                    tracing::info!(%error, ?request, "sync deferred");
                    pending.insert(request);
                    failed = true;
                } else {
                    tracing::warn!(%error, ?request, "sync failed");
                }
            }
        }
        failures = if failed { failures + 1 } else { 0 };
        if !asked_to_wait.is_zero() {
            not_before = Some(tokio::time::Instant::now() + asked_to_wait);
            asked_to_wait = Duration::ZERO;
        }
    }
}

fn retry_delay(failures: u32) -> Duration {
    if failures == 0 {
        return Duration::ZERO;
    }
    (Duration::from_millis(250) * 2u32.saturating_pow(failures.min(7))).min(Duration::from_secs(30))
}

fn on_frame(engine: &Engine, frame: ServerFrame, pending: &mut BTreeSet<SyncRequest>) {
    match frame {
        ServerFrame::ChatChanged {
            chat_id, change, ..
        } => {
            let known = engine.cache().has_chat(&chat_id).unwrap_or(false);
            match change {
                ChangeKind::MessageCreated | ChangeKind::MessageUpdated if known => {
                    pending.insert(SyncRequest::Messages(chat_id));
                }
                ChangeKind::Read if known => {
                    pending.insert(SyncRequest::Chat(chat_id));
                }
                _ => {
                    pending.insert(SyncRequest::Chat(chat_id.clone()));
                    pending.insert(SyncRequest::Messages(chat_id));
                }
            }
        }
        ServerFrame::Typing {
            chat_id,
            user_id,
            display_name,
        } if user_id != engine.account.user_id => {
            engine.emit(ChatEvent::Typing {
                chat_id,
                person: Person {
                    id: user_id,
                    display_name: display_name.unwrap_or_default(),
                    user_principal_name: None,
                },
            });
        }
        _ => {}
    }
}

async fn handle(engine: &Engine, request: &SyncRequest) -> Result<(), ChatError> {
    match request {
        SyncRequest::Everything => sync_everything(engine).await,
        SyncRequest::Chat(chat_id) => sync_chat(engine, chat_id).await,
        SyncRequest::Messages(chat_id) => catch_up(engine, chat_id).await.map(|_| ()),
    }
}

/// The chat list, then every chat's messages since its watermark.
pub async fn sync_everything(engine: &Engine) -> Result<(), ChatError> {
    let chats = with_graph!(engine, |graph, token| graph.my_chats(token));
    let mut moved = Vec::new();
    {
        let mut cache = engine.cache();
        for chat in &chats {
            if cache.upsert_chat(chat)? {
                moved.push(chat.id.clone());
            }
        }
    }
    // Every chat, not only those that moved: Graph's lastUpdatedDateTime
    // follows renames and members, not messages. A catch-up with nothing
    // new is one small request.
    for chat in &chats {
        catch_up(engine, &chat.id).await?;
    }
    let ids: Vec<&str> = moved.iter().map(String::as_str).collect();
    engine.publish_chats(&ids);
    Ok(())
}

/// One chat's details and members (and so its read marks).
pub async fn sync_chat(engine: &Engine, chat_id: &str) -> Result<(), ChatError> {
    let chat = with_graph!(engine, |graph, token| graph.chat(token, chat_id));
    engine.cache().upsert_chat(&chat)?;
    engine.publish_chats(&[chat_id]);
    Ok(())
}

/// Fetches a chat's changes since its watermark (its newest page the first
/// time) and stores them. New messages from others become `incoming`
/// events, except on the first load of a chat, which is history.
pub async fn catch_up(engine: &Engine, chat_id: &str) -> Result<Vec<Stored>, ChatError> {
    let position = engine.cache().sync_position(chat_id)?;
    let first_load = position.watermark.is_none();
    let (messages, older_link) = match &position.watermark {
        None => {
            let page = with_graph!(engine, |graph, token| graph.newest_messages(token, chat_id));
            (page.value, Some(page.next_link))
        }
        // From a millisecond before the watermark: a change stamped in the
        // same millisecond as the last one seen must not be skipped. What
        // comes back twice is dropped by the cache.
        Some(since) => {
            let since = shift(since, -1);
            let changed = with_graph!(engine, |graph, token| graph.messages_changed_since(
                token,
                chat_id,
                Some(&since)
            ));
            (changed, None)
        }
    };
    let newest_change = messages
        .iter()
        .map(|m| {
            normalize(
                m.last_modified_date_time
                    .as_deref()
                    .unwrap_or(&m.created_date_time),
            )
        })
        .max();
    let stored = {
        // Wait for a send in progress to be recorded first (see post_lock).
        let _posting = engine.post_lock.lock().await;
        let mut cache = engine.cache();
        let stored = cache.upsert_messages(chat_id, &messages)?;
        if let Some(newest) = &newest_change {
            cache.advance_watermark(chat_id, newest)?;
        } else if first_load {
            // An empty chat: later catch-ups start from its creation.
            cache.advance_watermark(chat_id, &position.updated_at)?;
        }
        if let Some(link) = older_link {
            cache.set_older_link(chat_id, link.as_deref(), link.is_none())?;
        }
        stored
    };
    if stored.is_empty() {
        return Ok(stored);
    }
    engine.publish_messages(chat_id, stored.iter().map(|s| s.message.clone()).collect());
    if !first_load {
        announce_incoming(engine, chat_id, &stored);
    }
    Ok(stored)
}

fn announce_incoming(engine: &Engine, chat_id: &str, stored: &[Stored]) {
    let Ok(Some(chat)) = engine.cache().chat_summary(chat_id) else {
        return;
    };
    for s in stored
        .iter()
        .filter(|s| s.is_new && !s.message.mine && !s.message.deleted)
    {
        engine.emit(ChatEvent::Incoming {
            chat: Box::new(chat.clone()),
            message: Box::new(s.message.clone()),
        });
    }
}

/// Fetches one page of history older than what the cache holds. Returns
/// whether anything was added.
pub async fn load_older(engine: &Engine, chat_id: &str) -> Result<bool, ChatError> {
    let position = engine.cache().sync_position(chat_id)?;
    if position.history_complete {
        return Ok(false);
    }
    let Some(link) = position.older_link else {
        // Never loaded: the first catch-up brings the newest page.
        return Ok(!catch_up(engine, chat_id).await?.is_empty());
    };
    let page = with_graph!(engine, |graph, token| graph
        .next_page::<convene_proto::graph::ChatMessage>(
        token, &link
    ));
    let stored = {
        let mut cache = engine.cache();
        let stored = cache.upsert_messages(chat_id, &page.value)?;
        cache.set_older_link(chat_id, page.next_link.as_deref(), page.next_link.is_none())?;
        stored
    };
    Ok(!stored.is_empty() || !page.value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_half_a_minute() {
        assert_eq!(retry_delay(0), Duration::ZERO);
        assert_eq!(retry_delay(1), Duration::from_millis(500));
        assert_eq!(retry_delay(3), Duration::from_secs(2));
        assert_eq!(retry_delay(20), Duration::from_secs(30));
    }
}
