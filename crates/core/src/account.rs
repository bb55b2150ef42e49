//! The services of one signed-in account: its live channel, chat and
//! calls, started together and stopped together. Chat and calls both hear
//! the live channel; neither owns it.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::call::{CallEngine, CallSetup, IceSource, MediaDevices};
use crate::chat::{ChatError, ChatEvent, ChatService, ChatSetup, ChatStorage, PollTiming};
use crate::live::LiveChannel;
use crate::publish::Publisher;
use crate::session::{AccountProfile, Sessions};

/// Where chat keeps its cache and how often it polls, whether the live
/// channel opens, and what calls use for sound and pictures.
#[derive(Debug, Clone)]
pub struct AccountOptions {
    pub storage: ChatStorage,
    pub timing: PollTiming,
    /// Open the live channel (hints, typing, call signaling). One-shot
    /// tools leave it shut: a process that ends while the channel renews a
    /// token would lose the rotated refresh token.
    pub live: bool,
    /// Microphone, speaker and camera for calls; without them this client
    /// cannot place or answer calls.
    pub call_devices: Option<CallDevices>,
    /// Calls relay through TURN only.
    pub relay_only: bool,
}

impl Default for AccountOptions {
    /// In memory, live, no calls: the desktop app and the CLI choose the
    /// disk and the devices explicitly.
    fn default() -> Self {
        Self {
            storage: ChatStorage::Memory,
            timing: PollTiming::default(),
            live: true,
            call_devices: None,
            relay_only: false,
        }
    }
}

/// The media devices calls use (the app's: real devices and the window).
#[derive(Clone)]
pub struct CallDevices(pub Arc<dyn MediaDevices>);

impl std::fmt::Debug for CallDevices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallDevices")
    }
}

/// What starting an account's services needs.
pub struct AccountSetup {
    pub account: AccountProfile,
    pub sessions: Arc<Sessions>,
    /// convene-server (live channel, ICE servers).
    pub server_url: Url,
    pub graph_url: Url,
    pub options: AccountOptions,
    pub chat_events: Publisher<ChatEvent>,
}

/// An account's running services; dropping them stops them.
#[derive(Debug)]
pub struct AccountServices {
    chat: Arc<ChatService>,
    calls: Option<Arc<CallEngine>>,
    // Last: chat and calls stop before the channel they listen to.
    _live: LiveChannel,
}

impl AccountServices {
    /// Opens the live channel and starts chat (and calls, if there are
    /// devices for them), inside a tokio runtime.
    pub fn start(setup: AccountSetup) -> Result<Self, ChatError> {
        let AccountSetup {
            account,
            sessions,
            server_url,
            graph_url,
            options,
            chat_events,
        } = setup;
        let with_calls = options.call_devices.is_some();
        let (live, listeners) = if options.live {
            LiveChannel::open(
                server_url.clone(),
                Arc::clone(&sessions),
                account.clone(),
                with_calls,
            )
        } else {
            LiveChannel::closed()
        };
        let http = crate::http::client(Duration::from_secs(30));
        let chat = ChatService::start(ChatSetup {
            account: account.clone(),
            sessions: Arc::clone(&sessions),
            http: http.clone(),
            graph_url,
            server_url: server_url.clone(),
            storage: options.storage,
            timing: options.timing,
            live: live.sender(),
            live_events: listeners.chat,
            events: chat_events,
        })?;
        let calls = match (options.call_devices, listeners.calls) {
            (Some(CallDevices(devices)), Some(live_events)) => {
                Some(Arc::new(CallEngine::start(CallSetup {
                    live: live.sender(),
                    live_events,
                    ice: IceSource::Server {
                        http,
                        server_url,
                        sessions,
                        account,
                    },
                    devices,
                    relay_only: options.relay_only,
                })))
            }
            _ => None,
        };
        Ok(Self {
            chat: Arc::new(chat),
            calls,
            _live: live,
        })
    }

    pub fn account(&self) -> &AccountProfile {
        self.chat.account()
    }

    pub fn chat(&self) -> &Arc<ChatService> {
        &self.chat
    }

    /// The call engine; `None` without call devices or a live channel.
    pub fn calls(&self) -> Option<&Arc<CallEngine>> {
        self.calls.as_ref()
    }

    /// The account was signed in (again) or chosen: chat catches up and
    /// what waited for a usable session tries at once.
    pub fn resume(&self) {
        self.chat.resume();
    }
}
