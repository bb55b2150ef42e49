//! The outbox: a message the user wrote is on disk before any network
//! call, and leaves the outbox only when the service has it, exactly once.
//!
//! Graph has no idempotency key, so a message whose POST may have reached
//! the service (the app died or the connection dropped mid-request) is
//! looked for among the chat's recent messages before it is sent again.
//! convene-server also honours an `Idempotency-Key` header, which closes
//! the same gap from the other side.

use std::sync::Arc;
use std::time::Duration;

use convene_proto::graph::request::{MessageAttachment, MessageMention, NewChatMessage};
use convene_proto::graph::{
    ChatMessage, ItemBody, MessageReference, TeamworkUserIdentity, UserIdentitySet,
    MESSAGE_REFERENCE,
};
use tokio::sync::Notify;

use super::cache::{CacheError, OutboxItem, SendFailure};
use super::engine::{with_graph, ChatError, Engine};
use super::graph::GraphError;
use super::sanitize::{preview_text, sanitize_message_html};
use super::time::{at, millis_between, shift};
use super::view::{Draft, ThreadMessage};
use crate::session::SessionError;

/// How far before an outbox entry's creation a matching message may be
/// stamped by the service (clocks differ).
const CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;
/// Longest message body Graph accepts.
const MAX_BODY_BYTES: usize = 28 * 1024;

/// Puts a draft in the outbox (sanitised, with Graph's mentions and reply
/// attachment) and returns it as the UI shows it: sending.
pub fn enqueue(engine: &Engine, chat_id: &str, draft: Draft) -> Result<ThreadMessage, ChatError> {
    let mut html = sanitize_message_html(&draft.html);
    if preview_text(&html, 1).is_empty() {
        return Err(ChatError::Invalid("the message is empty".into()));
    }
    let mentions: Vec<_> = draft
        .mentions
        .iter()
        .enumerate()
        .map(|(i, person)| MessageMention {
            id: i as i64,
            mention_text: person.display_name.clone(),
            mentioned: UserIdentitySet {
                user: Some(TeamworkUserIdentity::aad_user(
                    &person.id,
                    &person.display_name,
                )),
            },
        })
        .collect();
    let mut attachments = Vec::new();
    if let Some(parent_id) = &draft.reply_to {
        let parent = engine.cache().message(chat_id, parent_id)?.ok_or_else(|| {
            ChatError::Invalid("the message replied to is not in this chat".into())
        })?;
        let reference = MessageReference {
            message_id: parent_id.clone(),
            message_preview: Some(preview_text(&parent.body_html, 200)),
            message_sender: Some(UserIdentitySet {
                user: Some(TeamworkUserIdentity::aad_user(
                    &parent.from.id,
                    &parent.from.display_name,
                )),
            }),
        };
        attachments.push(MessageAttachment {
            id: parent_id.clone(),
            content_type: MESSAGE_REFERENCE.to_owned(),
            content: Some(serde_json::to_string(&reference).expect("a reference serialises")),
        });
        html = format!("<attachment id=\"{parent_id}\"></attachment>{html}");
    }
    if html.len() > MAX_BODY_BYTES {
        return Err(ChatError::Invalid(format!(
            "the message is too long ({} KB; the limit is 28 KB)",
            html.len() / 1024
        )));
    }
    let item = OutboxItem {
        key: uuid::Uuid::new_v4().to_string(),
        chat_id: chat_id.to_owned(),
        // The client's clock, which tests move: what the outbox stamps is
        // what the thread sorts by until the service's time replaces it.
        created_at: at(engine.sessions.clock().now()),
        body_html: sanitize_message_html(&html),
        request: NewChatMessage {
            body: ItemBody {
                content_type: "html".to_owned(),
                content: html,
            },
            mentions,
            attachments,
        },
        attempts: 0,
    };
    Ok(engine.cache().enqueue(&item)?)
}

impl From<&ChatError> for SendFailure {
    /// What a message refused for good keeps: the error's own words, and
    /// the kind the UI tells apart (as `UserError` has always classed them).
    fn from(error: &ChatError) -> Self {
        let message = error.to_string();
        match error {
            ChatError::Graph(GraphError::Refused { status, .. }) if *status < 500 => {
                SendFailure::Refused {
                    status: Some(*status),
                    message,
                }
            }
            ChatError::Invalid(_)
            | ChatError::Cache(CacheError::UnknownChat(_) | CacheError::UnknownOutboxItem(_)) => {
                SendFailure::Invalid { message }
            }
            _ => SendFailure::Other { message },
        }
    }
}

/// How often a stalled outbox looks again whether its account is usable
/// (a new sign-in also wakes it, through the live channel's reconnection).
const SIGN_IN_RECHECK: Duration = Duration::from_secs(30);

/// Why a pass over the outbox stopped before its end.
enum Stall {
    /// Offline, throttled or the service failing: retry with backoff, no
    /// sooner than the service asked.
    Unreachable { asked_to_wait: Duration },
    /// The account needs its user (a new sign-in, an unlocked keyring).
    AwaitingUser,
}

/// Sends what is in the outbox, in order, until the process ends. Woken by
/// new entries and by reconnection; otherwise retries with backoff.
pub async fn run(engine: Arc<Engine>, wake: Arc<Notify>) {
    let mut failures = 0u32;
    let mut told_the_user = false;
    loop {
        let pending = match engine.cache().pending() {
            Ok(pending) => pending,
            Err(error) => {
                tracing::error!(%error, "cannot read the outbox");
                Vec::new()
            }
        };
        let mut stall = None;
        for item in pending {
            match deliver(&engine, &item).await {
                Ok(message) => {
                    failures = 0;
                    told_the_user = false;
                    engine.publish_messages(&item.chat_id, vec![message]);
                }
                Err(error) if error.needs_the_user() => {
                    // Not the message's fault: it stays queued, and the
                    // rest wait behind it to keep the chat's order.
                    if !told_the_user {
                        tracing::warn!(%error, "messages wait in the outbox for a sign-in");
                        if let ChatError::Session(SessionError::SignInAgain { .. }) = &error {
                            engine.emit(super::event::ChatEvent::SessionExpired {
                                account: engine.account.clone(),
                            });
                        }
                        told_the_user = true;
                    }
                    stall = Some(Stall::AwaitingUser);
                    break;
                }
                Err(error) if error.is_transient() => {
                    tracing::info!(%error, key = %item.key, "message not sent yet; will retry");
                    stall = Some(Stall::Unreachable {
                        asked_to_wait: error.retry_after().unwrap_or_default(),
                    });
                    // Later messages wait: a chat's order is kept.
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, key = %item.key, "message refused");
                    // The cache's lock must be released before publishing,
                    // which takes it again.
                    let failed = engine
                        .cache()
                        .mark_failed(&item.key, &SendFailure::from(&error));
                    match failed {
                        Ok(message) => engine.publish_messages(&item.chat_id, vec![message]),
                        Err(error) => tracing::error!(%error, "cannot record a failed message"),
                    }
                }
            }
        }
        match stall {
            None => wake.notified().await,
            Some(Stall::AwaitingUser) => {
                tokio::select! {
                    _ = tokio::time::sleep(SIGN_IN_RECHECK) => {}
                    _ = wake.notified() => {}
                }
            }
            Some(Stall::Unreachable { asked_to_wait }) => {
                failures += 1;
                // A 429's Retry-After is a floor that a reconnection does not lift.
                let delay = retry_delay(failures).max(asked_to_wait);
                if asked_to_wait.is_zero() {
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = wake.notified() => {}
                    }
                } else {
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

fn retry_delay(failures: u32) -> Duration {
    (Duration::from_millis(250) * 2u32.saturating_pow(failures.min(7))).min(Duration::from_secs(20))
}

/// One message to the service, exactly once.
async fn deliver(engine: &Engine, item: &OutboxItem) -> Result<ThreadMessage, ChatError> {
    let _posting = engine.post_lock.lock().await;
    if item.attempts > 0 {
        if let Some(found) = find_delivered(engine, item).await? {
            tracing::info!(key = %item.key, id = %found.id, "message had already arrived");
            return Ok(engine.cache().mark_sent(&item.key, &found)?);
        }
    }
    engine.cache().note_attempt(&item.key)?;
    let sent = with_graph!(engine, |graph, token| graph.post_message(
        token,
        &item.chat_id,
        &item.request,
        Some(&item.key)
    ));
    Ok(engine.cache().mark_sent(&item.key, &sent)?)
}

/// The service's copy of an outbox entry whose earlier POST may have
/// arrived: a message of the user's, not yet tied to another entry, stamped
/// no earlier than the entry (less clock skew), with the same words.
async fn find_delivered(
    engine: &Engine,
    item: &OutboxItem,
) -> Result<Option<ChatMessage>, ChatError> {
    let since = shift(&item.created_at, -CLOCK_SKEW_MS);
    let recent = with_graph!(engine, |graph, token| graph.messages_changed_since(
        token,
        &item.chat_id,
        Some(&since)
    ));
    let claimed = engine.cache().claimed_ids(&item.chat_id)?;
    let words = preview_text(&item.body_html, usize::MAX);
    let me = &engine.account.user_id;
    let mut matches: Vec<ChatMessage> = recent
        .into_iter()
        .filter(|m| {
            m.from
                .as_ref()
                .and_then(|f| f.user.as_ref())
                .is_some_and(|u| &u.id == me)
                && !claimed.contains(&m.id)
                && m.deleted_date_time.is_none()
                && millis_between(&item.created_at, &m.created_date_time)
                    .is_some_and(|d| d >= -CLOCK_SKEW_MS)
                && preview_text(&sanitize_message_html(&m.body.content), usize::MAX) == words
        })
        .collect();
    // The oldest match: two identical messages sent in a row match in order.
    matches.sort_by(|a, b| a.created_date_time.cmp(&b.created_date_time));
    Ok(matches.into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifting_keeps_the_canonical_form() {
        assert_eq!(
            shift("2026-11-27T11:26:29.000Z", -CLOCK_SKEW_MS),
            "2026-11-27T11:21:29.000Z"
        );
    }

    #[test]
    fn a_refused_message_shows_the_user_what_it_always_did() {
        let errors = [
            ChatError::Graph(GraphError::Refused {
                status: 403,
                code: "Forbidden".into(),
                message: "not a member".into(),
            }),
            ChatError::Graph(GraphError::Malformed("not JSON".into())),
            ChatError::Invalid("the message is empty".into()),
            ChatError::Cache(CacheError::UnknownChat("19:x".into())),
        ];
        for error in &errors {
            let failure = SendFailure::from(error);
            assert_eq!(
                crate::error::UserError::from(&failure),
                crate::error::UserError::from(error),
                "{error}"
            );
        }
        assert_eq!(
            SendFailure::from(&errors[0]),
            SendFailure::Refused {
                status: Some(403),
                message: "the chat service refused (403 Forbidden): not a member".into(),
            }
        );
    }

    #[tokio::test]
    async fn a_message_is_stamped_with_the_clients_clock() {
        use crate::clock::{ManualClock, WallClock};
        use crate::config::ClientConfig;
        use crate::publish::Publisher;
        use crate::session::{AccountProfile, Sessions};
        use crate::vault::{Vault, VaultKind};

        let clock = ManualClock::starting_now();
        // The stamp follows the client's clock, a day on as much as now.
        let a_day = Duration::from_secs(24 * 3600);
        let vault = Vault::open(VaultKind::Ephemeral).await.unwrap();
        let http = crate::http::client(Duration::from_secs(1));
        let config = ClientConfig::default();
        let sessions =
            Sessions::new(vault, http.clone(), config.clone(), None).with_clock(clock.clone());
        let account = AccountProfile {
            tenant_id: "t".into(),
            user_id: "me".into(),
            username: "me@example.org".into(),
            name: "Me".into(),
            authority: "https://login.example.org/t/v2.0".into(),
        };
        let mut cache = super::super::cache::Cache::in_memory("me").unwrap();
        let chat = convene_proto::graph::Chat {
            id: "19:c".into(),
            chat_type: "oneOnOne".into(),
            topic: None,
            last_updated_date_time: None,
            members: Some(vec![]),
            viewpoint: None,
        };
        cache.upsert_chat(&chat).unwrap();
        let engine = Engine::new(
            account,
            Arc::new(sessions),
            super::super::graph::GraphChats::new(http, config.graph_url.clone()),
            cache,
            Publisher::new(|_| true),
        );
        let draft = Draft {
            html: "hello".into(),
            mentions: vec![],
            reply_to: None,
        };
        let before = super::super::time::at(clock.now());
        let shown = enqueue(&engine, "19:c", draft).unwrap();
        assert_eq!(shown.created_at, before);
        clock.advance(a_day);
        let draft = Draft {
            html: "a day later".into(),
            mentions: vec![],
            reply_to: None,
        };
        let later = enqueue(&engine, "19:c", draft).unwrap();
        assert_eq!(later.created_at, super::super::time::at(clock.now()));
        assert_ne!(later.created_at, shown.created_at);
    }

    #[test]
    fn retries_back_off_to_twenty_seconds() {
        assert_eq!(retry_delay(1), Duration::from_millis(500));
        assert_eq!(retry_delay(30), Duration::from_secs(20));
    }
}
