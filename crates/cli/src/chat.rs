//! `chats`, `messages` and `send`: chat from a terminal. Message bodies are
//! printed sanitised, as the app shows them.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use convene_core::chat::{sanitize_message_html, GraphChats};
use convene_core::session::{AccountProfile, Resource, Sessions};
use convene_core::Secret;
use convene_proto::graph::{ChatMessage, ItemBody};
use serde::Serialize;

use crate::EXIT_SIGN_IN_NEEDED;

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
        /// How many (at most 50).
        #[arg(long, default_value_t = 20)]
        top: u32,
        /// One JSON object per message.
        #[arg(long)]
        json: bool,
    },
    /// Print messages as they arrive (and edits and deletions), until
    /// interrupted. Polls, as a delegated Graph client must.
    Watch {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// Milliseconds between polls.
        #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(100..))]
        interval_ms: u64,
    },
    /// Send a message to a chat id, or to a person (user id or username);
    /// a 1:1 chat is created when there is none.
    Send {
        /// A chat id (`19:…`), a user id, or a username such as bob@convene.example.
        to: String,
        text: String,
        #[arg(long)]
        json: bool,
    },
}

/// A message as scripts read it: stable field names, the body sanitised.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MessageReport<'a> {
    id: &'a str,
    chat_id: Option<&'a str>,
    from: Option<&'a str>,
    from_name: Option<&'a str>,
    created_date_time: &'a str,
    deleted: bool,
    /// Sanitised HTML (plain text is escaped first).
    body: String,
}

impl<'a> MessageReport<'a> {
    fn new(message: &'a ChatMessage) -> Self {
        let user = message.from.as_ref().and_then(|f| f.user.as_ref());
        let body = if message.body.content_type == "html" {
            sanitize_message_html(&message.body.content)
        } else {
            convene_core::chat::plain_text_to_html(&message.body.content)
        };
        Self {
            id: &message.id,
            chat_id: message.chat_id.as_deref(),
            from: user.map(|u| u.id.as_str()),
            from_name: user.and_then(|u| u.display_name.as_deref()),
            created_date_time: &message.created_date_time,
            deleted: message.deleted_date_time.is_some(),
            body,
        }
    }
}

pub async fn run(
    command: ChatCommand,
    sessions: &Sessions,
    graph: &GraphChats,
) -> anyhow::Result<ExitCode> {
    let Some(me) = sessions.current().await? else {
        eprintln!("convene-cli: not signed in: run `convene-cli login`");
        return Ok(ExitCode::from(EXIT_SIGN_IN_NEEDED));
    };
    let token = sessions.access_token(&me, Resource::Graph).await?;
    let mut out = std::io::stdout().lock();
    match command {
        ChatCommand::Chats { json } => {
            let chats = graph.my_chats(&token).await?;
            if json {
                serde_json::to_writer(&mut out, &chats)?;
                writeln!(out)?;
                return Ok(ExitCode::SUCCESS);
            }
            for chat in &chats {
                let others: Vec<_> = chat
                    .members
                    .iter()
                    .flatten()
                    .filter(|m| m.user_id.as_deref() != Some(me.user_id.as_str()))
                    .filter_map(|m| m.display_name.as_deref())
                    .collect();
                let title = chat.topic.clone().unwrap_or_else(|| others.join(", "));
                writeln!(out, "{}  {}  ({})", chat.id, title, chat.chat_type)?;
            }
        }
        ChatCommand::Messages { chat_id, top, json } => {
            let mut messages = graph.recent_messages(&token, &chat_id, top).await?;
            messages.reverse();
            for message in &messages {
                print_message(&mut out, message, json)?;
            }
        }
        ChatCommand::Watch { json, interval_ms } => {
            drop(out);
            watch(
                sessions,
                graph,
                &me,
                json,
                Duration::from_millis(interval_ms),
            )
            .await?;
        }
        ChatCommand::Send { to, text, json } => {
            let chat_id = resolve_chat(graph, &token, &me, &to).await?;
            let body = ItemBody {
                content_type: "text".into(),
                content: text,
            };
            let sent = graph.send_message(&token, &chat_id, &body).await?;
            if json {
                print_message(&mut out, &sent, true)?;
            } else {
                writeln!(out, "sent {} to {}", sent.id, chat_id)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Polls every chat for changes since the last one seen, printing each
/// change once, oldest first; ends on Ctrl-C.
async fn watch(
    sessions: &Sessions,
    graph: &GraphChats,
    me: &AccountProfile,
    json: bool,
    every: Duration,
) -> anyhow::Result<()> {
    // Per chat: the newest lastModifiedDateTime seen, and the (id, time)
    // pairs already printed at exactly that time (a `gt` filter may repeat
    // them when several changes share a millisecond).
    let mut seen: HashMap<String, (String, HashSet<(String, String)>)> = HashMap::new();
    let mut first_round = true;
    let mut ticks = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
        // Renewed as needed; cheap while the cached token is fresh.
        let token = sessions.access_token(me, Resource::Graph).await?;
        for chat in graph.my_chats(&token).await? {
            let since = seen.get(&chat.id).map(|(time, _)| time.clone());
            let mut changes = graph
                .messages_changed_since(&token, &chat.id, since.as_deref())
                .await?;
            changes.reverse();
            let entry = seen
                .entry(chat.id.clone())
                .or_insert_with(|| (String::new(), HashSet::new()));
            for message in changes {
                let modified = message
                    .last_modified_date_time
                    .clone()
                    .unwrap_or_else(|| message.created_date_time.clone());
                let key = (message.id.clone(), modified.clone());
                if entry.1.contains(&key) {
                    continue;
                }
                if modified > entry.0 {
                    // Only changes at the newest time can come back.
                    entry.1.retain(|(_, time)| *time == modified);
                    entry.0 = modified;
                }
                entry.1.insert(key);
                // What was there before the watch began is history.
                if !first_round || since.is_some() {
                    let mut out = std::io::stdout().lock();
                    print_message(&mut out, &message, json)?;
                    out.flush()?;
                }
            }
        }
        first_round = false;
    }
}

fn print_message(out: &mut impl Write, message: &ChatMessage, json: bool) -> anyhow::Result<()> {
    let report = MessageReport::new(message);
    if json {
        serde_json::to_writer(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "[{}] {}: {}",
            report.created_date_time,
            report.from_name.unwrap_or("?"),
            report.body
        )?;
    }
    Ok(())
}

/// A chat id as given, or the 1:1 chat with a person named by id or
/// username.
async fn resolve_chat(
    graph: &GraphChats,
    token: &Secret,
    me: &AccountProfile,
    to: &str,
) -> anyhow::Result<String> {
    if to.starts_with("19:") {
        return Ok(to.to_owned());
    }
    let other = if to.contains('@') {
        graph
            .find_user(token, to)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no user {to} in your organisation"))?
            .id
    } else {
        to.to_owned()
    };
    Ok(graph.one_on_one(token, &me.user_id, &other).await?.id)
}
