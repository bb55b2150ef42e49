//! The call engine: one call at a time, driven by commands from the UI or
//! CLI, signaling frames from the live channel and events from the peer
//! connection. It runs as one task that owns all call state, so the three
//! never race each other.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use convene_proto::call::{
    self as proto, CallOutcome, CallPhase, IceCandidate, IceServer, IceServers, MediaKind,
    CALL_PROTOCOL_VERSION, ICE_SERVERS_PATH,
};
use convene_proto::live::{ClientFrame, ServerFrame};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use url::Url;
use webrtc::peer_connection::RTCPeerConnectionState;

use super::media::{self, MediaDevices, MediaState};
use super::peer::{Peer, PeerEvent, PeerSettings};
use super::quality::{opus_expected_loss_percent, quality_between, StatsSnapshot};
use super::view::{CallPeer, CallReport, CallSide, CallStage, CallTimings, CallView, EndReason};
use crate::chat::live::{LiveEvent, LiveSender};
use crate::session::{AccountProfile, Sessions};

/// How often quality is read while connected.
const QUALITY_INTERVAL: Duration = Duration::from_secs(2);
/// After this long without media and without a successful ICE restart,
/// the call is over.
const RECONNECT_GIVE_UP: Duration = Duration::from_secs(30);
/// Between ICE restart attempts while reconnecting.
const RESTART_EVERY: Duration = Duration::from_secs(4);
/// An unanswered restart offer is given this long before another.
const UNANSWERED_RESTART: Duration = Duration::from_secs(12);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("already in a call")]
    Busy,
    #[error("no such call")]
    NoSuchCall,
    #[error("not connected to the server: try again in a moment")]
    Offline,
    #[error("{0}")]
    Media(String),
    #[error("the call engine has stopped")]
    Stopped,
}

/// Where ICE servers come from.
#[derive(Clone)]
pub enum IceSource {
    /// `GET /v1/ice-servers` on convene-server, before each call (the TURN
    /// credential is short-lived).
    Server {
        http: reqwest::Client,
        server_url: Url,
        sessions: Arc<Sessions>,
        account: AccountProfile,
    },
    Fixed(Vec<IceServer>),
}

impl IceSource {
    async fn fetch(&self) -> Vec<IceServer> {
        match self {
            IceSource::Fixed(servers) => servers.clone(),
            IceSource::Server {
                http,
                server_url,
                sessions,
                account,
            } => {
                let token = match sessions.communication_token(account).await {
                    Ok(token) => token,
                    Err(error) => {
                        tracing::warn!(%error, "no token for ICE servers: host candidates only");
                        return Vec::new();
                    }
                };
                let Ok(url) = server_url.join(ICE_SERVERS_PATH) else {
                    return Vec::new();
                };
                let response = http.get(url).bearer_auth(token.token.expose()).send().await;
                let servers = match response {
                    Ok(response) => crate::http::json_body::<IceServers>(response)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(error) => Err(crate::http::describe(&error)),
                };
                match servers {
                    Ok(servers) => servers.ice_servers,
                    Err(error) => {
                        tracing::warn!(%error, "no ICE servers: host candidates only");
                        Vec::new()
                    }
                }
            }
        }
    }
}

/// What a call engine needs.
pub struct CallSetup {
    pub live: LiveSender,
    pub live_events: mpsc::UnboundedReceiver<LiveEvent>,
    pub ice: IceSource,
    pub devices: Arc<dyn MediaDevices>,
    /// Relay through TURN only.
    pub relay_only: bool,
}

enum Command {
    Place {
        callee: CallPeer,
        video: bool,
        reply: oneshot::Sender<Result<CallView, CallError>>,
    },
    Answer {
        call_id: String,
        video: bool,
        reply: oneshot::Sender<Result<CallView, CallError>>,
    },
    Decline {
        call_id: String,
        reply: oneshot::Sender<Result<(), CallError>>,
    },
    HangUp {
        reply: oneshot::Sender<Result<(), CallError>>,
    },
    Mute(bool, oneshot::Sender<Result<CallView, CallError>>),
    Camera(bool, oneshot::Sender<Result<CallView, CallError>>),
    Report(oneshot::Sender<Option<CallReport>>),
}

/// Calls for one account. Dropping it hangs up and stops the engine.
pub struct CallEngine {
    commands: mpsc::UnboundedSender<Command>,
    updates: broadcast::Sender<CallView>,
    current: watch::Receiver<Option<CallView>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CallEngine {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for CallEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallEngine").finish_non_exhaustive()
    }
}

impl CallEngine {
    pub fn start(setup: CallSetup) -> Self {
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let (updates, _) = broadcast::channel(64);
        let (current_tx, current) = watch::channel(None);
        let (peer_tx, peer_rx) = mpsc::unbounded_channel();
        let actor = Actor {
            live: setup.live,
            ice: setup.ice,
            devices: setup.devices,
            relay_only: setup.relay_only,
            updates: updates.clone(),
            current: current_tx,
            peer_events: peer_tx,
            call: None,
            last_report: None,
            unsent_end: None,
        };
        let task = super::runtime::spawn(actor.run(commands_rx, setup.live_events, peer_rx));
        Self {
            commands,
            updates,
            current,
            task,
        }
    }

    /// Every change of the current call, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<CallView> {
        self.updates.subscribe()
    }

    /// The call going on (or ringing), if any.
    pub fn current(&self) -> Option<CallView> {
        self.current.borrow().clone()
    }

    /// Calls `callee` (an Entra object id or `8:orgid:{oid}`); `name` is
    /// what the call view shows while the call lasts.
    pub async fn place(
        &self,
        callee: &str,
        name: Option<String>,
        video: bool,
    ) -> Result<CallView, CallError> {
        let callee = CallPeer {
            user_id: callee.trim_start_matches("8:orgid:").to_owned(),
            name,
        };
        self.ask(|reply| Command::Place {
            callee,
            video,
            reply,
        })
        .await?
    }

    pub async fn answer(&self, call_id: &str, video: bool) -> Result<CallView, CallError> {
        let call_id = call_id.to_owned();
        self.ask(|reply| Command::Answer {
            call_id,
            video,
            reply,
        })
        .await?
    }

    pub async fn decline(&self, call_id: &str) -> Result<(), CallError> {
        let call_id = call_id.to_owned();
        self.ask(|reply| Command::Decline { call_id, reply })
            .await?
    }

    /// Ends the current call, whatever its stage (cancel, decline, hang up).
    pub async fn hang_up(&self) -> Result<(), CallError> {
        self.ask(|reply| Command::HangUp { reply }).await?
    }

    pub async fn set_muted(&self, muted: bool) -> Result<CallView, CallError> {
        self.ask(|reply| Command::Mute(muted, reply)).await?
    }

    pub async fn set_camera(&self, on: bool) -> Result<CallView, CallError> {
        self.ask(|reply| Command::Camera(on, reply)).await?
    }

    /// Figures of the current call, or of the last one if none goes on.
    pub async fn report(&self) -> Option<CallReport> {
        self.ask(Command::Report).await.ok().flatten()
    }

    async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, CallError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(command(reply))
            .map_err(|_| CallError::Stopped)?;
        answer.await.map_err(|_| CallError::Stopped)
    }
}

/// Everything about the call going on.
struct Call {
    view: CallView,
    /// The caller's offer, until we answer.
    remote_offer: Option<String>,
    peer: Option<Arc<Peer>>,
    /// The other side's candidates that came before its description.
    early_candidates: Vec<IceCandidate>,
    has_remote_description: bool,
    media: Arc<MediaState>,
    started: Instant,
    /// When this side answered (callee) or heard of the answer (caller).
    answered: Option<Instant>,
    ringing_after: Option<Duration>,
    connected_after: Option<Duration>,
    connected_at: Option<Instant>,
    lost_since: Option<Instant>,
    last_restart: Option<Instant>,
    /// An ICE restart offer went out and its answer has not come back.
    awaiting_answer: bool,
    stats: Option<(Instant, StatsSnapshot)>,
    senders_started: bool,
    video_sender_started: bool,
}

impl Call {
    fn new(view: CallView) -> Self {
        Self {
            view,
            remote_offer: None,
            peer: None,
            early_candidates: Vec::new(),
            has_remote_description: false,
            media: Arc::new(MediaState::default()),
            started: Instant::now(),
            answered: None,
            ringing_after: None,
            connected_after: None,
            connected_at: None,
            lost_since: None,
            last_restart: None,
            awaiting_answer: false,
            stats: None,
            senders_started: false,
            video_sender_started: false,
        }
    }

    fn is_caller(&self) -> bool {
        self.view.side == CallSide::Outgoing
    }

    fn report(&self) -> CallReport {
        let since_answer = |at: Option<&Instant>| match (self.answered, at) {
            (Some(answered), Some(at)) => Some(millis(at.saturating_duration_since(answered))),
            _ => None,
        };
        CallReport {
            view: self.view.clone(),
            timings: CallTimings {
                ringing_ms: self.ringing_after.map(millis),
                connect_ms: self.connected_after.map(millis),
                setup_ms: since_answer(self.media.first_audio.get()),
                first_video_ms: since_answer(self.media.first_video.get()),
            },
            audio_played_ms: self.media.audio_played_ms.load(Ordering::Relaxed),
            audio_received_ms: self.media.audio_received_ms.load(Ordering::Relaxed),
            audio_packets_received: self.media.audio_packets_received.load(Ordering::Relaxed),
            video_frames_decoded: self.media.video_frames_decoded.load(Ordering::Relaxed),
            duration_secs: self
                .connected_at
                .map(|at| at.elapsed().as_secs_f64())
                .unwrap_or(0.0),
        }
    }
}

/// Milliseconds since the call was answered, for setup-time logs.
/// Closing waits on the connection's driver; whoever drops a connection
/// has moved on, whatever the driver is doing.
fn close_in_background(peer: Arc<Peer>) {
    tokio::spawn(async move {
        if tokio::time::timeout(Duration::from_secs(3), peer.close())
            .await
            .is_err()
        {
            tracing::warn!("the peer connection took over 3 s to close");
        }
    });
}

fn call_answered_ms(call: &Option<Call>) -> f64 {
    call.as_ref()
        .and_then(|c| c.answered)
        .map(|at| millis(at.elapsed()))
        .unwrap_or(-1.0)
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn unix_millis() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

fn orgid(user_id: &str) -> String {
    format!("8:orgid:{user_id}")
}

struct Actor {
    live: LiveSender,
    ice: IceSource,
    devices: Arc<dyn MediaDevices>,
    relay_only: bool,
    updates: broadcast::Sender<CallView>,
    current: watch::Sender<Option<CallView>>,
    peer_events: mpsc::UnboundedSender<(String, PeerEvent)>,
    call: Option<Call>,
    last_report: Option<CallReport>,
    /// A cancel, decline or hang-up that could not be sent (the live
    /// channel was down); sent after the next reconnect.
    unsent_end: Option<ClientFrame>,
}

impl Actor {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut live: mpsc::UnboundedReceiver<LiveEvent>,
        mut peer_events: mpsc::UnboundedReceiver<(String, PeerEvent)>,
    ) {
        let mut ticks = tokio::time::interval(QUALITY_INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let media = self.call.as_ref().map(|c| Arc::clone(&c.media));
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.on_command(command).await,
                    None => break,
                },
                event = live.recv() => match event {
                    Some(event) => self.on_live(event).await,
                    None => break,
                },
                Some((call_id, event)) = peer_events.recv() => {
                    if self.call.as_ref().is_some_and(|c| c.view.call_id == call_id) {
                        self.on_peer(event).await;
                    }
                }
                _ = ticks.tick() => self.on_tick().await,
                () = video_arrived(media.as_deref()) => self.on_video_arrived(),
            }
        }
        if self.call.is_some() {
            self.hang_up().await;
        }
    }

    /// The other side's video started (again): shown now, not at the next
    /// quality check; that check hides it when it stops.
    fn on_video_arrived(&mut self) {
        let Some(call) = self.call.as_mut() else {
            return;
        };
        if call.view.remote_video || call.view.stage == CallStage::Ended {
            return;
        }
        call.view.remote_video = true;
        self.publish();
    }

    fn publish(&mut self) {
        if let Some(call) = &self.call {
            // The current call first: whoever hears the update and then
            // asks for the current call must see this state.
            let current = (call.view.stage != CallStage::Ended).then(|| call.view.clone());
            self.current.send_replace(current);
            let _ = self.updates.send(call.view.clone());
        }
    }

    async fn send(&self, frame: ClientFrame) -> Result<(), CallError> {
        self.live.send(frame).await.map_err(|_| CallError::Offline)
    }

    async fn on_command(&mut self, command: Command) {
        match command {
            Command::Place {
                callee,
                video,
                reply,
            } => {
                let _ = reply.send(self.place(callee, video).await);
            }
            Command::Answer {
                call_id,
                video,
                reply,
            } => {
                let _ = reply.send(self.answer(&call_id, video).await);
            }
            Command::Decline { call_id, reply } => {
                let result = match &self.call {
                    Some(call)
                        if call.view.call_id == call_id
                            && call.view.stage == CallStage::Incoming =>
                    {
                        let _ = self
                            .send(ClientFrame::CallDecline(proto::CallRef {
                                call_id: call_id.clone(),
                            }))
                            .await;
                        self.end(EndReason::HungUp, None).await;
                        Ok(())
                    }
                    _ => Err(CallError::NoSuchCall),
                };
                let _ = reply.send(result);
            }
            Command::HangUp { reply } => {
                let result = if self.call.is_some() {
                    self.hang_up().await;
                    Ok(())
                } else {
                    Err(CallError::NoSuchCall)
                };
                let _ = reply.send(result);
            }
            Command::Mute(muted, reply) => {
                let result = self.change(|call| {
                    call.media.muted.store(muted, Ordering::Relaxed);
                    call.view.muted = muted;
                });
                let _ = reply.send(result);
            }
            Command::Camera(on, reply) => {
                let result = self.change(|call| {
                    call.media.camera_on.store(on, Ordering::Relaxed);
                    call.view.camera_on = on;
                });
                if on {
                    self.start_video_if_needed().await;
                }
                let _ = reply.send(result);
            }
            Command::Report(reply) => {
                let report = self
                    .call
                    .as_ref()
                    .map(Call::report)
                    .or_else(|| self.last_report.clone());
                let _ = reply.send(report);
            }
        }
    }

    fn change(&mut self, apply: impl FnOnce(&mut Call)) -> Result<CallView, CallError> {
        let Some(call) = self.call.as_mut() else {
            return Err(CallError::NoSuchCall);
        };
        apply(call);
        let view = call.view.clone();
        self.publish();
        Ok(view)
    }

    async fn new_peer(&self, call_id: &str) -> Result<Arc<Peer>, CallError> {
        let settings = PeerSettings {
            ice_servers: self.ice.fetch().await,
            relay_only: self.relay_only,
        };
        let (tx, mut rx) = mpsc::unbounded_channel();
        let peer = Peer::new(&settings, tx)
            .await
            .map_err(|e| CallError::Media(e.to_string()))?;
        // Tag the peer's events with its call so a late event of an ended
        // call cannot touch the next one.
        let events = self.peer_events.clone();
        let call_id = call_id.to_owned();
        tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                if events.send((call_id.clone(), event)).is_err() {
                    break;
                }
            }
        });
        Ok(Arc::new(peer))
    }

    async fn place(&mut self, callee: CallPeer, video: bool) -> Result<CallView, CallError> {
        if self.call.is_some() {
            return Err(CallError::Busy);
        }
        if !self.live.is_connected() {
            return Err(CallError::Offline);
        }
        let call_id = uuid::Uuid::new_v4().to_string();
        let media_kinds = media_list(video);
        let mut call = Call::new(CallView {
            call_id: call_id.clone(),
            peer: callee.clone(),
            side: CallSide::Outgoing,
            stage: CallStage::Calling,
            media: media_kinds.clone(),
            muted: false,
            camera_on: video,
            remote_video: false,
            connected_at_ms: None,
            ended: None,
            error: None,
            quality: None,
        });
        call.media.camera_on.store(video, Ordering::Relaxed);
        let peer = self.new_peer(&call_id).await?;
        let offer = match peer.offer().await {
            Ok(offer) => offer,
            Err(error) => {
                peer.close().await;
                return Err(CallError::Media(error.to_string()));
            }
        };
        call.peer = Some(peer);
        self.call = Some(call);
        let invite = ClientFrame::CallInvite(proto::Invite {
            version: CALL_PROTOCOL_VERSION,
            call_id,
            callee: orgid(&callee.user_id),
            media: media_kinds,
            sdp: offer,
        });
        if let Err(error) = self.send(invite).await {
            self.end(EndReason::Failed, Some(error.to_string())).await;
            return Err(error);
        }
        self.publish();
        Ok(self
            .call
            .as_ref()
            .map(|c| c.view.clone())
            .expect("just placed"))
    }

    async fn answer(&mut self, call_id: &str, video: bool) -> Result<CallView, CallError> {
        let Some(call) = self.call.as_mut() else {
            return Err(CallError::NoSuchCall);
        };
        if call.view.call_id != call_id || call.view.stage != CallStage::Incoming {
            return Err(CallError::NoSuchCall);
        }
        call.answered = Some(Instant::now());
        call.view.stage = CallStage::Connecting;
        call.view.camera_on = video;
        call.media.camera_on.store(video, Ordering::Relaxed);
        let prepared = call.peer.take();
        let offer = call.remote_offer.take();
        let (peer, answering) = match (prepared, offer) {
            (Some(peer), _) => {
                let answering = peer.answer_offer().await;
                (peer, answering)
            }
            (None, Some(offer)) => {
                let peer = self.new_peer(call_id).await?;
                let answering = peer.answer(&offer).await;
                (peer, answering)
            }
            (None, None) => return Err(CallError::NoSuchCall),
        };
        tracing::debug!(elapsed_ms = call_answered_ms(&self.call), "answer ready");
        let answer = match answering {
            Ok(answer) => answer,
            Err(error) => {
                peer.close().await;
                let message = error.to_string();
                let _ = self
                    .send(ClientFrame::CallDecline(proto::CallRef {
                        call_id: call_id.to_owned(),
                    }))
                    .await;
                self.end(EndReason::Failed, Some(message.clone())).await;
                return Err(CallError::Media(message));
            }
        };
        let call = self.call.as_mut().expect("checked above");
        call.has_remote_description = true;
        for candidate in std::mem::take(&mut call.early_candidates) {
            if let Err(error) = peer.add_candidate(&candidate).await {
                tracing::debug!(%error, "an early candidate was refused");
            }
        }
        call.peer = Some(peer);
        let accept = ClientFrame::CallAccept(proto::Accept {
            call_id: call_id.to_owned(),
            sdp: answer,
            media: Some(media_list(video)),
        });
        if let Err(error) = self.send(accept).await {
            self.end(EndReason::Failed, Some(error.to_string())).await;
            return Err(error);
        }
        tracing::debug!(elapsed_ms = call_answered_ms(&self.call), "accept sent");
        self.publish();
        Ok(self
            .call
            .as_ref()
            .map(|c| c.view.clone())
            .expect("answered"))
    }

    async fn hang_up(&mut self) {
        let Some(call) = &self.call else { return };
        let call_ref = proto::CallRef {
            call_id: call.view.call_id.clone(),
        };
        let frame = match call.view.stage {
            CallStage::Calling | CallStage::Ringing => ClientFrame::CallCancel(call_ref),
            CallStage::Incoming => ClientFrame::CallDecline(call_ref),
            _ => ClientFrame::CallHangup(call_ref),
        };
        if let Err(error) = self.send(frame.clone()).await {
            // Said again as soon as the live channel is back, so the other
            // side hears a hang-up rather than waiting out the server's
            // resume grace.
            tracing::info!(%error, "hang-up waits for the server");
            self.unsent_end = Some(frame);
        }
        self.end(EndReason::HungUp, None).await;
    }

    async fn end(&mut self, reason: EndReason, error: Option<String>) {
        tracing::debug!(?reason, "call ends");
        let Some(call) = self.call.as_mut() else {
            return;
        };
        call.media.stop();
        if let Some(peer) = call.peer.take() {
            close_in_background(peer);
        }
        call.view.stage = CallStage::Ended;
        call.view.ended = Some(reason);
        call.view.error = error;
        call.view.remote_video = false;
        self.publish();
        self.last_report = self.call.take().map(|call| call.report());
    }

    async fn on_live(&mut self, event: LiveEvent) {
        match event {
            LiveEvent::Connected => {
                // A new socket: tell the server it is ours for the call.
                if let Some(call) = &self.call {
                    let resume = ClientFrame::CallResume(proto::CallRef {
                        call_id: call.view.call_id.clone(),
                    });
                    let _ = self.send(resume).await;
                }
                if let Some(frame) = self.unsent_end.take() {
                    let call_id = match &frame {
                        ClientFrame::CallCancel(r)
                        | ClientFrame::CallDecline(r)
                        | ClientFrame::CallHangup(r) => r.call_id.clone(),
                        _ => String::new(),
                    };
                    let resume = ClientFrame::CallResume(proto::CallRef { call_id });
                    if self.send(resume).await.is_ok() && self.send(frame.clone()).await.is_err() {
                        self.unsent_end = Some(frame);
                    }
                }
            }
            LiveEvent::Disconnected => {}
            LiveEvent::Frame(frame) => self.on_frame(frame).await,
        }
    }

    fn is_current(&self, call_id: &str) -> bool {
        self.call
            .as_ref()
            .is_some_and(|c| c.view.call_id == call_id)
    }

    async fn on_frame(&mut self, frame: ServerFrame) {
        if tracing::enabled!(tracing::Level::DEBUG) {
            // The type only: SDP carries the ICE password.
            let kind = serde_json::to_value(&frame)
                .ok()
                .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned));
            tracing::debug!(?kind, "call frame");
        }
        match frame {
            ServerFrame::CallIncoming(incoming) => self.on_incoming(incoming).await,
            ServerFrame::CallRinging(r) if self.is_current(&r.call_id) => {
                let call = self.call.as_mut().expect("current");
                if call.view.stage == CallStage::Calling {
                    call.view.stage = CallStage::Ringing;
                    call.ringing_after = Some(call.started.elapsed());
                    self.publish();
                }
            }
            ServerFrame::CallAccepted(accept) if self.is_current(&accept.call_id) => {
                self.on_accepted(accept).await;
            }
            ServerFrame::CallAnsweredElsewhere(r) if self.is_current(&r.call_id) => {
                self.end(EndReason::AnsweredElsewhere, None).await;
            }
            ServerFrame::CallDeclinedElsewhere(r) if self.is_current(&r.call_id) => {
                self.end(EndReason::DeclinedElsewhere, None).await;
            }
            ServerFrame::CallEnded(ended) if self.is_current(&ended.call_id) => {
                let reason = self.reason_for(ended.outcome);
                self.end(reason, None).await;
            }
            ServerFrame::CallCandidate(c) if self.is_current(&c.call_id) => {
                let Some(candidate) = c.candidate else { return };
                let call = self.call.as_mut().expect("current");
                match (&call.peer, call.has_remote_description) {
                    (Some(peer), true) => {
                        if let Err(error) = peer.add_candidate(&candidate).await {
                            tracing::debug!(%error, "a remote candidate was refused");
                        }
                        tracing::debug!(
                            elapsed_ms = call_answered_ms(&self.call),
                            "remote candidate"
                        );
                    }
                    _ => call.early_candidates.push(candidate),
                }
            }
            ServerFrame::CallOffer(offer) if self.is_current(&offer.call_id) => {
                let Some(peer) = self.call.as_ref().and_then(|c| c.peer.clone()) else {
                    return;
                };
                match peer.answer(&offer.sdp).await {
                    Ok(sdp) => {
                        let _ = self
                            .send(ClientFrame::CallAnswer(proto::Negotiation {
                                call_id: offer.call_id,
                                sdp,
                                media: None,
                            }))
                            .await;
                    }
                    Err(error) => tracing::warn!(%error, "a renegotiation offer failed"),
                }
            }
            ServerFrame::CallAnswer(answer) if self.is_current(&answer.call_id) => {
                let Some(call) = self.call.as_mut() else {
                    return;
                };
                call.awaiting_answer = false;
                let Some(peer) = call.peer.clone() else {
                    return;
                };
                if let Err(error) = peer.accept_answer(&answer.sdp).await {
                    tracing::warn!(%error, "a renegotiation answer failed");
                }
            }
            ServerFrame::CallState(state)
                if self.is_current(&state.call_id) && state.state == CallPhase::Ended =>
            {
                let reason = self.reason_for(state.outcome.unwrap_or(CallOutcome::Failed));
                self.end(reason, None).await;
            }
            ServerFrame::CallError(error) => {
                let ours = error
                    .call_id
                    .as_deref()
                    .is_some_and(|id| self.is_current(id));
                let Some(call) = self.call.as_ref().filter(|_| ours) else {
                    tracing::debug!(?error, "a call frame was refused");
                    return;
                };
                // A refused resume after a server restart is not the end of a
                // call whose media still flows: the two devices keep talking
                // and hang up through whatever server knows them next.
                let media_flows = call.view.stage == CallStage::Connected;
                if error.code == proto::CallErrorCode::NotInCall && media_flows {
                    tracing::info!("the server no longer knows the call; media goes on");
                    return;
                }
                self.end(EndReason::Failed, Some(error.message)).await;
            }
            _ => {}
        }
    }

    fn reason_for(&self, outcome: CallOutcome) -> EndReason {
        let caller = self.call.as_ref().is_some_and(Call::is_caller);
        match outcome {
            CallOutcome::HungUp => EndReason::RemoteHungUp,
            CallOutcome::Declined => EndReason::Declined,
            CallOutcome::Cancelled if caller => EndReason::HungUp,
            CallOutcome::Cancelled => EndReason::Cancelled,
            CallOutcome::Busy => EndReason::Busy,
            CallOutcome::NoAnswer => EndReason::NoAnswer,
            CallOutcome::Unavailable => EndReason::Unavailable,
            CallOutcome::Failed | CallOutcome::Unknown => EndReason::Failed,
        }
    }

    async fn on_incoming(&mut self, incoming: proto::Incoming) {
        if let Some(call) = &self.call {
            if call.view.call_id != incoming.call_id {
                // The server answers busy for a user in a call; a second
                // ring here means our devices disagree. Keep the call we have.
                tracing::info!("a second call rang during a call");
            }
            return;
        }
        let caller = incoming.caller.trim_start_matches("8:orgid:").to_owned();
        let mut call = Call::new(CallView {
            call_id: incoming.call_id.clone(),
            peer: CallPeer {
                user_id: caller,
                name: incoming.caller_name,
            },
            side: CallSide::Incoming,
            stage: CallStage::Incoming,
            media: incoming.media,
            muted: false,
            camera_on: false,
            remote_video: false,
            connected_at_ms: None,
            ended: None,
            error: None,
            quality: None,
        });
        call.remote_offer = Some(incoming.sdp.clone());
        self.call = Some(call);
        let _ = self
            .send(ClientFrame::CallRinging(proto::CallRef {
                call_id: incoming.call_id.clone(),
            }))
            .await;
        self.publish();
        // Set the connection up while it rings (ICE servers, certificate,
        // the offer), so that answering only has to answer.
        match self.new_peer(&incoming.call_id).await {
            Ok(peer) => match peer.take_offer(&incoming.sdp).await {
                Ok(()) => {
                    if let Some(call) = self
                        .call
                        .as_mut()
                        .filter(|c| c.view.call_id == incoming.call_id)
                    {
                        call.has_remote_description = true;
                        call.peer = Some(peer);
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "the caller's offer was refused");
                    peer.close().await;
                }
            },
            Err(error) => tracing::warn!(%error, "no peer connection while ringing"),
        }
    }

    async fn on_accepted(&mut self, accept: proto::Accept) {
        let call = self.call.as_mut().expect("current");
        call.answered = Some(Instant::now());
        call.view.stage = CallStage::Connecting;
        let Some(peer) = call.peer.clone() else {
            return;
        };
        if let Err(error) = peer.accept_answer(&accept.sdp).await {
            let message = error.to_string();
            let _ = self
                .send(ClientFrame::CallHangup(proto::CallRef {
                    call_id: accept.call_id,
                }))
                .await;
            self.end(EndReason::Failed, Some(message)).await;
            return;
        }
        let call = self.call.as_mut().expect("current");
        call.has_remote_description = true;
        for candidate in std::mem::take(&mut call.early_candidates) {
            let _ = peer.add_candidate(&candidate).await;
        }
        self.publish();
    }

    async fn on_peer(&mut self, event: PeerEvent) {
        match event {
            PeerEvent::Candidate(candidate) => {
                tracing::debug!(elapsed_ms = call_answered_ms(&self.call), "local candidate");
                let call_id = self.call.as_ref().expect("current").view.call_id.clone();
                let frame = ClientFrame::CallCandidate(proto::Candidate {
                    call_id,
                    candidate: Some(candidate),
                });
                if self.send(frame).await.is_err() {
                    tracing::debug!("a local candidate was not sent");
                }
            }
            PeerEvent::State(state) => self.on_peer_state(state).await,
            PeerEvent::Track(track) => {
                let call = self.call.as_ref().expect("current");
                let devices = Arc::clone(&self.devices);
                tokio::spawn(media::receive_track(
                    track,
                    devices,
                    Arc::clone(&call.media),
                ));
            }
        }
    }

    async fn on_peer_state(&mut self, state: RTCPeerConnectionState) {
        let call = self.call.as_mut().expect("current");
        match state {
            RTCPeerConnectionState::Connected => {
                tracing::debug!(
                    elapsed_ms = call.answered.map(|at| millis(at.elapsed())),
                    "media connected"
                );
                if call.connected_at.is_none() {
                    call.connected_at = Some(Instant::now());
                    call.connected_after = call.answered.map(|at| at.elapsed());
                    call.view.connected_at_ms = Some(unix_millis());
                }
                call.lost_since = None;
                call.view.stage = CallStage::Connected;
                self.start_senders().await;
                self.publish();
            }
            RTCPeerConnectionState::Disconnected | RTCPeerConnectionState::Failed
                if call.connected_at.is_some() =>
            {
                if call.lost_since.is_none() {
                    call.lost_since = Some(Instant::now());
                }
                call.view.stage = CallStage::Reconnecting;
                self.publish();
                self.restart_ice().await;
            }
            // The connection prepared while ringing has no candidates to try
            // until we answer, and ICE gives up after its failed timeout
            // (18 s). The call still rings; answering builds a fresh one.
            RTCPeerConnectionState::Failed if call.view.stage == CallStage::Incoming => {
                if let Some(peer) = call.peer.take() {
                    tracing::debug!("the connection prepared while ringing timed out");
                    call.has_remote_description = false;
                    close_in_background(peer);
                }
            }
            RTCPeerConnectionState::Failed => {
                let _ = self.hang_up_frame().await;
                self.end(
                    EndReason::Failed,
                    Some("no network path to the other side".into()),
                )
                .await;
            }
            _ => {}
        }
    }

    async fn hang_up_frame(&self) -> Result<(), CallError> {
        let Some(call) = &self.call else {
            return Ok(());
        };
        self.send(ClientFrame::CallHangup(proto::CallRef {
            call_id: call.view.call_id.clone(),
        }))
        .await
    }

    /// The caller restarts ICE (one side only, so offers never cross).
    async fn restart_ice(&mut self) {
        let Some(call) = self.call.as_mut() else {
            return;
        };
        if !call.is_caller() {
            return;
        }
        // One offer at a time: the other side may be away (asleep, frozen,
        // offline) and answer late; a second offer would make that answer
        // stale. A new one only if the last went unanswered for long.
        let wait = if call.awaiting_answer {
            UNANSWERED_RESTART
        } else {
            RESTART_EVERY
        };
        if call.last_restart.is_some_and(|at| at.elapsed() < wait) {
            return;
        }
        call.last_restart = Some(Instant::now());
        let Some(peer) = call.peer.clone() else {
            return;
        };
        let call_id = call.view.call_id.clone();
        match peer.restart_offer().await {
            Ok(sdp) => {
                let offer = ClientFrame::CallOffer(proto::Negotiation {
                    call_id,
                    sdp,
                    media: None,
                });
                match self.send(offer).await {
                    Ok(()) => {
                        if let Some(call) = self.call.as_mut() {
                            call.awaiting_answer = true;
                        }
                    }
                    Err(_) => tracing::info!("ICE restart waits for the server"),
                }
            }
            Err(error) => tracing::warn!(%error, "ICE restart failed"),
        }
    }

    async fn start_senders(&mut self) {
        let Some(call) = self.call.as_mut() else {
            return;
        };
        if call.senders_started {
            return;
        }
        call.senders_started = true;
        let Some(peer) = call.peer.clone() else {
            return;
        };
        let media = Arc::clone(&call.media);
        media
            .target_bitrate
            .store(peer.target_bitrate().to_bits(), Ordering::Relaxed);
        let devices = Arc::clone(&self.devices);
        let microphone = media::off_the_call_thread(move || devices.microphone()).await;
        match (microphone, peer.audio_track().await) {
            (Ok(input), Ok(track)) => media::start_audio_sender(input, track, media),
            (Err(error), _) => {
                tracing::warn!(%error, "no microphone: the other side hears nothing");
            }
            (_, Err(error)) => tracing::warn!(%error, "no audio track"),
        }
        self.start_video_if_needed().await;
    }

    async fn start_video_if_needed(&mut self) {
        let Some(call) = self.call.as_mut() else {
            return;
        };
        if !call.senders_started || call.video_sender_started || !call.view.camera_on {
            return;
        }
        call.video_sender_started = true;
        let Some(peer) = call.peer.clone() else {
            return;
        };
        let media = Arc::clone(&call.media);
        match peer.video_track().await {
            Ok(track) => media::start_video_sender(track, Arc::clone(&self.devices), media),
            Err(error) => tracing::warn!(%error, "no video track"),
        }
    }

    async fn on_tick(&mut self) {
        let Some(call) = self.call.as_mut() else {
            return;
        };
        if let Some(since) = call.lost_since {
            if since.elapsed() > RECONNECT_GIVE_UP {
                let _ = self.hang_up_frame().await;
                self.end(EndReason::Failed, Some("the connection was lost".into()))
                    .await;
                return;
            }
            self.restart_ice().await;
        }
        let Some(call) = self.call.as_mut() else {
            return;
        };
        if call.connected_at.is_none() {
            return;
        }
        let Some(peer) = call.peer.clone() else {
            return;
        };
        let now = Instant::now();
        let snapshot = peer.stats().await;
        call.media
            .target_bitrate
            .store(peer.target_bitrate().to_bits(), Ordering::Relaxed);
        if let Some(lost) = snapshot.audio_sent_fraction_lost {
            call.media
                .audio_expected_loss
                .set(opus_expected_loss_percent(lost));
        }
        let frames = call.media.video_frames_decoded.load(Ordering::Relaxed);
        let previous_frames = call
            .stats
            .as_ref()
            .map(|(_, s)| s.video_frames_received)
            .unwrap_or(0);
        if let Some((at, before)) = &call.stats {
            call.view.quality = Some(quality_between(
                before,
                &snapshot,
                now.duration_since(*at).as_secs_f64(),
            ));
        }
        let mut snapshot = snapshot;
        // Count decoded frames ourselves: that is what reaches the screen.
        snapshot.video_frames_received = frames;
        call.view.remote_video = frames > previous_frames;
        call.stats = Some((now, snapshot));
        self.publish();
    }
}

/// Resolves when the call's decoder reports video starting; never without
/// a call.
async fn video_arrived(media: Option<&MediaState>) {
    match media {
        Some(media) => media.video_arrived.notified().await,
        None => std::future::pending().await,
    }
}

fn media_list(video: bool) -> Vec<MediaKind> {
    if video {
        vec![MediaKind::Audio, MediaKind::Video]
    } else {
        vec![MediaKind::Audio]
    }
}
