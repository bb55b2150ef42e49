//! Chat from a terminal, through the same engine the app uses: a cache on
//! disk, the outbox (a message is stored before it is sent and goes out
//! exactly once, even if this process is killed), live hints or polling.
//! Message bodies are printed sanitised, as the app shows them.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Subcommand;
use convene_core::account::{AccountOptions, AccountServices, AccountSetup};
use convene_core::chat::view::{Delivery, Draft, ThreadMessage};
use convene_core::chat::{plain_text_to_html, ChatError, ChatService, ChatStorage, PollTiming};
use convene_core::publish::Publisher;
use convene_core::session::{SessionError, Sessions};
use convene_core::{ClientConfig, ClientEvent, UserError, UserErrorCode};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::{EXIT_SIGN_IN_NEEDED, EXIT_UNREACHABLE};

#[derive(Debug, Subcommand)]
pub enum ChatCommand {
    /// List your chats.
    Chats {
        #[arg(long)]
        json: bool,
    },
    /// Show a chat's newest messages, oldest first.
    Messages {
        chat_id: String,
        /// How many.
        #[arg(long, default_value_t = 20)]
        top: u32,
        /// One JSON object per message.
        #[arg(long)]
        json: bool,
    },
    /// Print messages as they arrive (and edits, deletions and reactions),
    /// until interrupted. Hints come over the live channel; without it the
    /// chats are polled.
    Watch {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// Milliseconds between polls when there is no live channel.
        #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(100..))]
        interval_ms: u64,
    },
    /// Send a message to a chat id, or to a person (user id or username);
    /// a 1:1 chat is created when there is none. The message is stored
    /// first: if it cannot go out now, the next `convene-cli` chat command
    /// (or `flush`) sends it.
    Send {
        /// A chat id (`19:…`), a user id, or a username such as bob@convene.example.
        to: String,
        text: String,
        /// Reply to this message of the chat.
        #[arg(long, value_name = "MESSAGE_ID")]
        reply_to: Option<String>,
        #[arg(long)]
        json: bool,
        /// Seconds to wait for the message to go out before leaving it in
        /// the outbox (exit code 3).
        #[arg(long, default_value_t = 30)]
        wait: u64,
    },
    /// Send what is waiting in the outbox and report it.
    Flush {
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 30)]
        wait: u64,
    },
    /// Replace the text of one of your messages.
    Edit {
        chat_id: String,
        message_id: String,
        text: String,
    },
    /// Delete one of your messages.
    Delete { chat_id: String, message_id: String },
    /// Show the chat's other members that you are typing, for a while.
    Typing {
        chat_id: String,
        /// Seconds to keep typing.
        #[arg(long = "for", default_value_t = 5)]
        seconds: u64,
    },
    /// React to a message with an emoji (or take your reaction back).
    React {
        chat_id: String,
        message_id: String,
        reaction: String,
        #[arg(long)]
        remove: bool,
    },
}

/// A message as scripts read it: stable field names, the body sanitised.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MessageReport<'a> {
    id: Option<&'a str>,
    chat_id: &'a str,
    from: &'a str,
    from_name: &'a str,
    created_date_time: &'a str,
    edited_date_time: Option<&'a str>,
    deleted: bool,
    /// Sanitised HTML (plain text is escaped first).
    body: &'a str,
    /// `sending`, `sent` or `failed`.
    state: &'static str,
    reactions: Vec<ReactionReport<'a>>,
    reply_to: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct ReactionReport<'a> {
    reaction: &'a str,
    count: u32,
}

impl<'a> MessageReport<'a> {
    fn new(message: &'a ThreadMessage) -> Self {
        Self {
            id: message.id.as_deref(),
            chat_id: &message.chat_id,
            from: &message.from.id,
            from_name: &message.from.display_name,
            created_date_time: &message.created_at,
            edited_date_time: message.edited_at.as_deref(),
            deleted: message.deleted,
            body: &message.body_html,
            state: match message.delivery {
                Delivery::Sending => "sending",
                Delivery::Sent => "sent",
                Delivery::Failed { .. } => "failed",
            },
            reactions: message
                .reactions
                .iter()
                .map(|r| ReactionReport {
                    reaction: &r.reaction,
                    count: r.count,
                })
                .collect(),
            reply_to: message.reply_to.as_ref().map(|r| r.message_id.as_str()),
        }
    }
}

/// The CLI keeps its own chat cache, apart from the app's: two processes
/// must never deliver the same outbox.
fn storage(ephemeral: bool) -> ChatStorage {
    match dirs::data_dir() {
        Some(dir) if !ephemeral => {
            ChatStorage::Disk(dir.join("convene").join("cli").join("accounts"))
        }
        _ => ChatStorage::Memory,
    }
}

pub async fn run(
    command: ChatCommand,
    config: &ClientConfig,
    sessions: Arc<Sessions>,
    ephemeral: bool,
) -> anyhow::Result<ExitCode> {
    let Some(me) = sessions.current().await? else {
        eprintln!("convene-cli: not signed in: run `convene-cli login`");
        return Ok(ExitCode::from(EXIT_SIGN_IN_NEEDED));
    };
    crate::account::approve_if_needed(&sessions, &me, &[sessions.chat_resource()]).await?;
    // Only these stay long enough to want the live channel.
    let live = matches!(
        command,
        ChatCommand::Watch { .. } | ChatCommand::Typing { .. }
    );
    let interval = match &command {
        ChatCommand::Watch { interval_ms, .. } => Duration::from_millis(*interval_ms),
        _ => Duration::from_secs(10),
    };
    let (events_tx, events) = mpsc::unbounded_channel();
    let services = AccountServices::start(AccountSetup {
        account: me,
        sessions,
        server_url: config.server_url.clone(),
        graph_url: config.graph_url.clone(),
        options: AccountOptions {
            storage: storage(ephemeral),
            timing: PollTiming {
                with_push: Duration::from_secs(60),
                without_push: interval,
            },
            live,
            ..AccountOptions::default()
        },
        chat_events: Publisher::into_channel(events_tx),
    })?;
    let service = Arc::clone(services.chat());
    let outcome = Terminal {
        service,
        events,
        _services: services,
    }
    .run(command)
    .await;
    Ok(match outcome {
        Ok(code) => code,
        Err(error) => {
            let error = UserError::from(&error);
            eprintln!("convene-cli: {}", error.message);
            ExitCode::from(match error.code {
                UserErrorCode::SignInAgain
                | UserErrorCode::InteractionRequired
                | UserErrorCode::NotSignedIn => EXIT_SIGN_IN_NEEDED,
                UserErrorCode::Offline => EXIT_UNREACHABLE,
                _ => 1,
            })
        }
    })
}

struct Terminal {
    service: Arc<ChatService>,
    events: mpsc::UnboundedReceiver<ClientEvent>,
    /// Keeps the live channel (`watch`, `typing`) up.
    _services: AccountServices,
}

impl Terminal {
    async fn run(mut self, command: ChatCommand) -> Result<ExitCode, ChatError> {
        let mut out = std::io::stdout().lock();
        match command {
            ChatCommand::Chats { json } => {
                self.service.sync_once().await?;
                let chats = self.service.chats()?;
                if json {
                    serde_json::to_writer(&mut out, &chats).map_err(io)?;
                    writeln!(out).map_err(io)?;
                } else {
                    for chat in &chats {
                        let unread = match chat.unread_count {
                            0 => String::new(),
                            n => format!("  [{n} unread]"),
                        };
                        writeln!(out, "{}  {}{unread}", chat.id, chat.title).map_err(io)?;
                    }
                }
            }
            ChatCommand::Messages { chat_id, top, json } => {
                self.service.sync_once().await?;
                let page = self.service.thread(&chat_id, None, top).await?;
                for message in &page.messages {
                    print_message(&mut out, message, json)?;
                }
            }
            ChatCommand::Watch { json, .. } => {
                drop(out);
                self.watch(json).await?;
            }
            ChatCommand::Send {
                to,
                text,
                reply_to,
                json,
                wait,
            } => {
                let chat_id = self.resolve_chat(&to).await?;
                let draft = Draft {
                    html: plain_text_to_html(&text),
                    reply_to,
                    mentions: Vec::new(),
                };
                let queued = self.service.send(&chat_id, draft)?;
                let Some(sent) = self.wait_for_delivery(&[queued.key], wait).await?.pop() else {
                    eprintln!(
                        "convene-cli: not sent yet; it stays in the outbox and goes out with \
                         the next chat command (or `convene-cli flush`)"
                    );
                    return Ok(ExitCode::from(EXIT_UNREACHABLE));
                };
                if let Delivery::Failed { error } = &sent.delivery {
                    eprintln!("convene-cli: the message was refused: {}", error.message);
                    return Ok(ExitCode::FAILURE);
                }
                if json {
                    print_message(&mut out, &sent, true)?;
                } else {
                    let id = sent.id.as_deref().unwrap_or("?");
                    writeln!(out, "sent {id} to {chat_id}").map_err(io)?;
                }
            }
            ChatCommand::Flush { json, wait } => {
                let waiting = self.service.pending_keys()?;
                let delivered = self.wait_for_delivery(&waiting, wait).await?;
                for message in &delivered {
                    print_message(&mut out, message, json)?;
                }
                if delivered.len() < waiting.len() {
                    eprintln!(
                        "convene-cli: {} message(s) still in the outbox",
                        waiting.len() - delivered.len()
                    );
                    return Ok(ExitCode::from(EXIT_UNREACHABLE));
                }
                let refused = delivered
                    .iter()
                    .filter(|m| matches!(m.delivery, Delivery::Failed { .. }))
                    .count();
                if refused > 0 {
                    eprintln!("convene-cli: {refused} message(s) were refused");
                    return Ok(ExitCode::FAILURE);
                }
            }
            ChatCommand::Edit {
                chat_id,
                message_id,
                text,
            } => {
                let html = plain_text_to_html(&text);
                self.service.edit(&chat_id, &message_id, &html).await?;
            }
            ChatCommand::Delete {
                chat_id,
                message_id,
            } => self.service.delete(&chat_id, &message_id).await?,
            ChatCommand::Typing { chat_id, seconds } => {
                let until = tokio::time::Instant::now() + Duration::from_secs(seconds);
                let mut announced = false;
                while tokio::time::Instant::now() < until {
                    // `typing` repeats itself no more often than the protocol asks.
                    if self.service.is_live() {
                        self.service.typing(&chat_id);
                        announced = true;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                if !announced {
                    eprintln!("convene-cli: no live connection to the server");
                    return Ok(ExitCode::from(EXIT_UNREACHABLE));
                }
            }
            ChatCommand::React {
                chat_id,
                message_id,
                reaction,
                remove,
            } => {
                self.service
                    .react(&chat_id, &message_id, &reaction, !remove)
                    .await?
            }
        }
        Ok(ExitCode::SUCCESS)
    }

    /// A chat id as given, or the 1:1 chat with a person named by id or
    /// username.
    async fn resolve_chat(&self, to: &str) -> Result<String, ChatError> {
        if to.starts_with("19:") {
            self.service.ensure_chat(to).await?;
            return Ok(to.to_owned());
        }
        let other = if to.contains('@') {
            self.service
                .find_person(to)
                .await?
                .ok_or_else(|| ChatError::Invalid(format!("no user {to} in your organisation")))?
                .id
        } else {
            to.to_owned()
        };
        Ok(self.service.start_chat(&[other], None).await?.id)
    }

    /// Waits until each key is sent or failed, or `wait_secs` pass; returns
    /// those that got there, in the order given.
    async fn wait_for_delivery(
        &mut self,
        keys: &[String],
        wait_secs: u64,
    ) -> Result<Vec<ThreadMessage>, ChatError> {
        let mut done: HashMap<String, ThreadMessage> = HashMap::new();
        let deadline = tokio::time::sleep(Duration::from_secs(wait_secs));
        tokio::pin!(deadline);
        while done.len() < keys.len() {
            tokio::select! {
                _ = &mut deadline => break,
                event = self.events.recv() => {
                    let messages = match event {
                        Some(ClientEvent::Messages { messages, .. }) => messages,
                        // What is not sent yet stays in the outbox for
                        // after the new sign-in; waiting longer is no use.
                        Some(ClientEvent::SessionExpired { account }) => {
                            eprintln!(
                                "convene-cli: {} message(s) stay in the outbox: after \
                                 `convene-cli login` they go out with the next chat command \
                                 (or `convene-cli flush`)",
                                keys.len() - done.len()
                            );
                            return Err(SessionError::SignInAgain { username: account.username }.into());
                        }
                        _ => continue,
                    };
                    for message in messages {
                        if keys.contains(&message.key) && !matches!(message.delivery, Delivery::Sending) {
                            done.insert(message.key.clone(), message);
                        }
                    }
                }
            }
        }
        Ok(keys.iter().filter_map(|k| done.remove(k)).collect())
    }

    /// Prints each message once as it arrives or changes; what was there
    /// before the watch began is history and is not printed.
    async fn watch(&mut self, json: bool) -> Result<(), ChatError> {
        self.service.sync_once().await?;
        let mut seen: HashMap<String, String> = HashMap::new();
        for chat in self.service.chats()? {
            for message in self.service.thread(&chat.id, None, 500).await?.messages {
                seen.insert(message.key.clone(), fingerprint(&message));
            }
        }
        // Caught up: whatever arrives or changes from now on is printed.
        eprintln!("watching for new messages");
        loop {
            let event = tokio::select! {
                event = self.events.recv() => event,
                _ = tokio::signal::ctrl_c() => return Ok(()),
            };
            let Some(event) = event else { return Ok(()) };
            let ClientEvent::Messages { mut messages, .. } = event else {
                continue;
            };
            // A catch-up brings several at once, newest first: they are
            // printed in the order they were written.
            messages.sort_by_cached_key(|m| convene_core::chat::time::normalize(&m.created_at));
            for message in messages {
                if !matches!(message.delivery, Delivery::Sent) {
                    continue;
                }
                let print = fingerprint(&message);
                if seen.get(&message.key) == Some(&print) {
                    continue;
                }
                seen.insert(message.key.clone(), print);
                let mut out = std::io::stdout().lock();
                print_message(&mut out, &message, json)?;
                out.flush().map_err(io)?;
            }
        }
    }
}

/// What makes a message worth printing again: an edit, a deletion, a
/// change of reactions.
fn fingerprint(message: &ThreadMessage) -> String {
    let reactions: Vec<String> = message
        .reactions
        .iter()
        .map(|r| format!("{}{}", r.reaction, r.count))
        .collect();
    format!(
        "{:?}|{}|{}",
        message.edited_at,
        message.deleted,
        reactions.join(",")
    )
}

fn print_message(
    out: &mut impl Write,
    message: &ThreadMessage,
    json: bool,
) -> Result<(), ChatError> {
    let report = MessageReport::new(message);
    if json {
        serde_json::to_writer(&mut *out, &report).map_err(io)?;
        writeln!(out).map_err(io)?;
    } else {
        let marks = match (report.deleted, report.edited_date_time.is_some()) {
            (true, _) => " (deleted)",
            (false, true) => " (edited)",
            _ => "",
        };
        writeln!(
            out,
            "[{}] {}: {}{marks}",
            report.created_date_time, report.from_name, report.body
        )
        .map_err(io)?;
    }
    Ok(())
}

fn io(error: impl std::fmt::Display) -> ChatError {
    ChatError::Invalid(format!("cannot write the output: {error}"))
}
