//! A person using the chat engine through a real `Client`: signed in with
//! the dev issuer, the chat cache on disk in a folder the test owns.

use std::future::pending;
use std::path::Path;
use std::time::Duration;

use convene_core::chat::view::{Draft, ThreadMessage};
use convene_core::chat::{ChatStorage, GraphChats, GraphError, PollTiming};
use convene_core::clock::Clock;
use convene_core::config::ConfigLayer;
use convene_core::session::{AccountProfile, Sessions};
use convene_core::vault::{Vault, VaultKind};
use convene_core::{AccountOptions, Client, ClientConfig, ClientEvent, EventStream, MonitorTiming};
use convene_proto::graph::ChatMessage;

/// A signed-in person's vault, kept across client restarts.
pub struct Account {
    pub vault: Vault,
    pub profile: AccountProfile,
    pub config: ClientConfig,
}

impl Account {
    /// Signs `username` in at the dev server (the password is the dev one).
    pub async fn sign_in(server_url: &str, username: &str) -> Self {
        // `RUST_LOG=convene_core=debug` shows what the engine does.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let config = ClientConfig::from_layer(ConfigLayer {
            server: Some(server_url.to_owned()),
            ..Default::default()
        })
        .unwrap();
        let vault = Vault::open(VaultKind::Ephemeral).await.unwrap();
        let profile = sign_in_with(&sessions(&vault, &config), username).await;
        Self {
            vault,
            profile,
            config,
        }
    }

    /// Signs in again, as the person would after their session ended: the
    /// new refresh token goes to the same vault.
    pub async fn sign_in_again(&self) {
        sign_in_with(&sessions(&self.vault, &self.config), &self.profile.username).await;
    }

    /// A running client for this account, its chat cache in `cache_dir`.
    pub async fn client(&self, cache_dir: &Path) -> (Client, EventStream) {
        self.client_on(cache_dir, convene_core::clock::system())
            .await
    }

    /// As [`Account::client`], judging token expiry by `clock` (a
    /// [`convene_core::clock::ManualClock`] lets a test age tokens at once).
    pub async fn client_on(&self, cache_dir: &Path, clock: Clock) -> (Client, EventStream) {
        let sessions = sessions(&self.vault, &self.config).with_clock(clock);
        sessions
            .switch_to(&self.profile.user_id)
            .await
            .expect("the account is in the vault");
        let chat = AccountOptions {
            storage: ChatStorage::Disk(cache_dir.to_owned()),
            timing: PollTiming {
                with_push: Duration::from_secs(30),
                without_push: Duration::from_millis(300),
            },
            ..AccountOptions::default()
        };
        Client::start_with_options(
            self.config.clone(),
            MonitorTiming::default(),
            Ok(sessions),
            chat,
        )
    }
}

impl Account {
    /// Every message of a chat as the service holds it, oldest first.
    pub async fn server_messages(&self, chat_id: &str) -> Vec<ChatMessage> {
        let sessions = sessions(&self.vault, &self.config);
        let token = sessions
            .access_token(&self.profile, sessions.chat_resource())
            .await
            .unwrap();
        let graph = GraphChats::new(
            convene_core::http::client(Duration::from_secs(10)),
            self.config.graph_url.clone(),
        );
        let mut page = as_told(|| graph.newest_messages(&token, chat_id)).await;
        let mut all = std::mem::take(&mut page.value);
        while let Some(link) = page.next_link.take() {
            page = as_told(|| graph.next_page(&token, &link)).await;
            all.append(&mut page.value);
        }
        all.reverse();
        all
    }
}

/// Tests that throttle the server get throttled here too: a throttled
/// request is made again after the wait the server asked for.
async fn as_told<T, F, Fut>(mut request: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, GraphError>>,
{
    loop {
        match request().await {
            Err(GraphError::Throttled { retry_after }) => tokio::time::sleep(retry_after).await,
            other => return other.unwrap(),
        }
    }
}

async fn sign_in_with(sessions: &Sessions, username: &str) -> AccountProfile {
    let who = username.to_owned();
    sessions
        .sign_in(
            move |url| {
                let url = url.clone();
                let who = who.clone();
                tokio::spawn(async move {
                    convene_test_support::browser::sign_in_at(url, &who, "convene").await
                });
                Ok(())
            },
            pending(),
            None,
        )
        .await
        .expect("signs in")
}

fn sessions(vault: &Vault, config: &ClientConfig) -> Sessions {
    Sessions::new(
        vault.clone(),
        convene_core::http::client(Duration::from_secs(10)),
        config.clone(),
        None,
    )
}

pub fn text(body: &str) -> Draft {
    Draft {
        html: body.to_owned(),
        reply_to: None,
        mentions: Vec::new(),
    }
}

/// Waits for the first event `pick` accepts, failing after `within`.
pub async fn next_matching<T>(
    events: &mut EventStream,
    within: Duration,
    what: &str,
    mut pick: impl FnMut(&ClientEvent) -> Option<T>,
) -> T {
    tokio::time::timeout(within, async {
        loop {
            let event = events.next().await.expect("the client is running");
            if let Some(found) = pick(&event) {
                return found;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {what} within {within:?}"))
}

/// The message with `key` once it reports `state` ("sent", "failed").
pub fn delivered(event: &ClientEvent, key: &str, sent: bool) -> Option<ThreadMessage> {
    let ClientEvent::Messages { messages, .. } = event else {
        return None;
    };
    messages
        .iter()
        .find(|m| {
            m.key == key
                && matches!(
                    (&m.delivery, sent),
                    (convene_core::chat::view::Delivery::Sent, true)
                        | (convene_core::chat::view::Delivery::Failed { .. }, false)
                )
        })
        .cloned()
}
