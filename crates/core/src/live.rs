//! The live channel: one WebSocket per account to convene-server that
//! brings chat change hints, typing notifications and call signaling,
//! authenticated with the communication token. It reconnects by itself
//! with backoff; every (re)connection is reported to chat (to catch up on
//! what it missed) and to calls (to resume the call going on).

use std::sync::Arc;
use std::time::Duration;

use convene_proto::live::{ClientFrame, ServerFrame, LIVE_PATH};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use url::Url;

use crate::session::{AccountProfile, SessionError, Sessions};

/// What the live channel tells its listeners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEvent {
    /// Connected (again): anything may have happened meanwhile.
    Connected,
    Disconnected,
    Frame(ServerFrame),
}

/// Sends frames over the live channel while it is up.
#[derive(Debug, Clone)]
pub struct LiveSender {
    frames: mpsc::Sender<Outgoing>,
    connected: watch::Receiver<bool>,
    signed_in: Arc<Notify>,
}

impl LiveSender {
    /// The account was signed in (again): a channel waiting for that
    /// connects at once.
    pub fn signed_in(&self) {
        self.signed_in.notify_one();
    }

    /// Sends if connected; a frame that cannot go now is dropped (typing
    /// notifications are worthless later).
    pub fn try_send(&self, frame: ClientFrame) -> bool {
        *self.connected.borrow() && self.frames.try_send((frame, None)).is_ok()
    }

    pub fn is_connected(&self) -> bool {
        *self.connected.borrow()
    }

    /// Sends a frame that matters (call signaling) and returns once it is
    /// written to the socket, so a process may exit right after a hang-up.
    /// Fails rather than drops when the channel is down.
    pub async fn send(&self, frame: ClientFrame) -> Result<(), NotConnected> {
        if !self.is_connected() {
            return Err(NotConnected);
        }
        let (written, was_written) = oneshot::channel();
        self.frames
            .send((frame, Some(written)))
            .await
            .map_err(|_| NotConnected)?;
        match tokio::time::timeout(Duration::from_secs(5), was_written).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(NotConnected),
        }
    }
}

/// A frame to send, and who wants to hear that it was written.
type Outgoing = (ClientFrame, Option<oneshot::Sender<()>>);

/// The live channel is down; the frame was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not connected to the server")]
pub struct NotConnected;

/// An account's live channel, up for as long as this lives.
#[derive(Debug)]
pub struct LiveChannel {
    sender: LiveSender,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LiveChannel {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the live channel delivers, split by listener: chat hints to the
/// sync engine, call signaling to the call engine (if calls run). Both hear
/// of (re)connections.
#[derive(Debug)]
pub struct LiveListeners {
    pub chat: mpsc::UnboundedReceiver<LiveEvent>,
    pub calls: Option<mpsc::UnboundedReceiver<LiveEvent>>,
}

impl LiveChannel {
    /// Connects to `server` as `account` (inside a tokio runtime), and
    /// keeps reconnecting.
    pub fn open(
        server: Url,
        sessions: Arc<Sessions>,
        account: AccountProfile,
        with_calls: bool,
    ) -> (Self, LiveListeners) {
        let (routes, listeners) = LiveRoutes::new(with_calls);
        let (sender, task) = spawn(server, sessions, account, routes);
        (Self { sender, task }, listeners)
    }

    /// A channel that never connects (polling only): one-shot tools, which
    /// would lose a rotated refresh token if they ended while the channel
    /// renewed one.
    pub fn closed() -> (Self, LiveListeners) {
        let (_, listeners) = LiveRoutes::new(false);
        let (sender, task) = disabled();
        (Self { sender, task }, listeners)
    }

    pub fn sender(&self) -> LiveSender {
        self.sender.clone()
    }
}

/// Where the live channel delivers.
#[derive(Debug, Clone)]
struct LiveRoutes {
    chat: mpsc::UnboundedSender<LiveEvent>,
    calls: Option<mpsc::UnboundedSender<LiveEvent>>,
}

impl LiveRoutes {
    fn new(with_calls: bool) -> (Self, LiveListeners) {
        let (chat, chat_rx) = mpsc::unbounded_channel();
        let (calls, calls_rx) = if with_calls {
            let (tx, rx) = mpsc::unbounded_channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let listeners = LiveListeners {
            chat: chat_rx,
            calls: calls_rx,
        };
        (Self { chat, calls }, listeners)
    }

    /// Delivers `event`; false once the chat side has stopped.
    fn deliver(&self, event: LiveEvent) -> bool {
        let for_calls = match &event {
            LiveEvent::Frame(frame) => frame.is_call(),
            LiveEvent::Connected | LiveEvent::Disconnected => {
                if let Some(calls) = &self.calls {
                    let _ = calls.send(event.clone());
                }
                false
            }
        };
        match (&self.calls, for_calls) {
            (Some(calls), true) => {
                let _ = calls.send(event);
                true
            }
            (None, true) => true,
            (_, false) => self.chat.send(event).is_ok(),
        }
    }
}

/// The WebSocket URL of the live channel on `server`.
pub fn live_url(server: &Url) -> Url {
    let mut url = server.clone();
    let scheme = if server.scheme() == "https" {
        "wss"
    } else {
        "ws"
    };
    url.set_scheme(scheme)
        .expect("ws and wss are valid schemes");
    url.set_path(LIVE_PATH);
    url.set_query(None);
    url
}

/// A sender that never connects.
fn disabled() -> (LiveSender, tokio::task::JoinHandle<()>) {
    let (frames, _) = mpsc::channel(1);
    let (_, connected) = watch::channel(false);
    let sender = LiveSender {
        frames,
        connected,
        signed_in: Arc::new(Notify::new()),
    };
    (sender, tokio::spawn(async {}))
}

/// Keeps the live channel up for as long as the returned task runs.
fn spawn(
    server: Url,
    sessions: Arc<Sessions>,
    account: AccountProfile,
    events: LiveRoutes,
) -> (LiveSender, tokio::task::JoinHandle<()>) {
    let (frames_tx, mut frames_rx) = mpsc::channel::<Outgoing>(32);
    let (connected_tx, connected_rx) = watch::channel(false);
    let url = live_url(&server);
    let signed_in = Arc::new(Notify::new());
    let signed_in_again = Arc::clone(&signed_in);
    let task = tokio::spawn(async move {
        let mut backoff = Backoff::default();
        loop {
            match connect(&url, &sessions, &account).await {
                Ok(socket) => {
                    backoff.reset();
                    let _ = connected_tx.send(true);
                    if !events.deliver(LiveEvent::Connected) {
                        return;
                    }
                    let reason = run(socket, &mut frames_rx, &events).await;
                    let _ = connected_tx.send(false);
                    tracing::info!(%reason, "live channel closed");
                    if !events.deliver(LiveEvent::Disconnected) {
                        return;
                    }
                }
                Err(ConnectError::SignInAgain) => {
                    // The session keeper tells the user; try again when
                    // they sign in again, or slowly in case that was missed.
                    tracing::info!("live channel waits for a new sign-in");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(30)) => {}
                        _ = signed_in_again.notified() => {}
                    }
                    continue;
                }
                Err(ConnectError::Other(reason)) => {
                    tracing::debug!(%reason, "live channel cannot connect");
                }
            }
            tokio::time::sleep(backoff.next_delay()).await;
        }
    });
    (
        LiveSender {
            frames: frames_tx,
            connected: connected_rx,
            signed_in,
        },
        task,
    )
}

enum ConnectError {
    SignInAgain,
    Other(String),
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(
    url: &Url,
    sessions: &Sessions,
    account: &AccountProfile,
) -> Result<Socket, ConnectError> {
    let token = match sessions.communication_token(account).await {
        Ok(token) => token,
        Err(SessionError::SignInAgain { .. }) => return Err(ConnectError::SignInAgain),
        Err(error) => return Err(ConnectError::Other(error.to_string())),
    };
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| ConnectError::Other(e.to_string()))?;
    let bearer = HeaderValue::from_str(&format!("Bearer {}", token.token.expose()))
        .map_err(|_| ConnectError::Other("the token is not a valid header value".into()))?;
    request.headers_mut().insert("Authorization", bearer);
    // No Nagle: call signaling is small frames whose every millisecond
    // counts toward call setup.
    let connecting = tokio_tungstenite::connect_async_with_config(request, None, true);
    let mut socket = match tokio::time::timeout(Duration::from_secs(10), connecting).await {
        Ok(Ok((socket, _response))) => socket,
        // The error names the URL and status, never the request headers.
        Ok(Err(error)) => return Err(ConnectError::Other(error.to_string())),
        Err(_) => return Err(ConnectError::Other("timed out".into())),
    };
    // Connected means greeted: the server says hello once this socket can
    // be reached (called, sent hints), not when the upgrade completes.
    let greeting = async {
        while let Some(message) = socket.next().await {
            if let Message::Text(text) = message.map_err(|e| e.to_string())? {
                if let Ok(ServerFrame::Hello { .. }) = serde_json::from_str(&text) {
                    return Ok(());
                }
            }
        }
        Err("closed before its hello".to_owned())
    };
    match tokio::time::timeout(Duration::from_secs(10), greeting).await {
        Ok(Ok(())) => Ok(socket),
        Ok(Err(reason)) => Err(ConnectError::Other(reason)),
        Err(_) => Err(ConnectError::Other("no hello from the server".into())),
    }
}

/// Pumps frames both ways until the socket ends; returns why.
async fn run(
    socket: Socket,
    outgoing: &mut mpsc::Receiver<Outgoing>,
    events: &LiveRoutes,
) -> String {
    let (mut write, mut read) = socket.split();
    // The server pings every 20 s; silence for much longer means the path
    // is dead even if TCP has not noticed.
    let silence_limit = Duration::from_secs(60);
    loop {
        tokio::select! {
            incoming = tokio::time::timeout(silence_limit, read.next()) => {
                let message = match incoming {
                    Err(_) => return "no word from the server for 60 s".into(),
                    Ok(None) => return "closed by the server".into(),
                    Ok(Some(Err(error))) => return error.to_string(),
                    Ok(Some(Ok(message))) => message,
                };
                match message {
                    Message::Text(text) => match serde_json::from_str::<ServerFrame>(&text) {
                        Ok(ServerFrame::Unknown) => {}
                        Ok(frame) => {
                            if !events.deliver(LiveEvent::Frame(frame)) {
                                return "the client stopped".into();
                            }
                        }
                        Err(error) => tracing::debug!(%error, "unreadable live frame skipped"),
                    },
                    Message::Close(_) => return "closed by the server".into(),
                    // tungstenite answers pings itself.
                    _ => {}
                }
            }
            frame = outgoing.recv() => {
                let Some((frame, written)) = frame else { return "the client stopped".into() };
                let text = serde_json::to_string(&frame).expect("client frames serialise");
                if let Err(error) = write.send(Message::text(text)).await {
                    return error.to_string();
                }
                if let Some(written) = written {
                    let _ = written.send(());
                }
            }
        }
    }
}

/// 0.5 s, 1 s, 2 s … up to 15 s between attempts.
#[derive(Debug, Default)]
struct Backoff {
    failures: u32,
}

impl Backoff {
    fn next_delay(&mut self) -> Duration {
        let delay = Duration::from_millis(500) * 2u32.saturating_pow(self.failures.min(5));
        self.failures += 1;
        delay.min(Duration::from_secs(15))
    }

    fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_live_url_follows_the_server_scheme() {
        let url = live_url(&Url::parse("http://127.0.0.1:8750/").unwrap());
        assert_eq!(url.as_str(), "ws://127.0.0.1:8750/v1/live");
        let url = live_url(&Url::parse("https://chat.example.org/base?x=1").unwrap());
        assert_eq!(url.as_str(), "wss://chat.example.org/v1/live");
    }

    #[test]
    fn reconnection_backs_off_to_a_ceiling() {
        let mut backoff = Backoff::default();
        let delays: Vec<_> = (0..8).map(|_| backoff.next_delay().as_millis()).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_millis(500));
    }
}
