//! The call engine: the driver of [`CallMachine`]. It runs as one task that
//! owns the machine, the call's peer connection and its media state, so
//! that commands from the UI or CLI, signaling frames from the live channel
//! and events from the peer connection never race each other. Each input
//! goes through the machine; the driver performs the outputs in order
//! (sending frames, working the peer connection, starting media,
//! publishing views) and feeds their results back as inputs.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use convene_proto::live::ServerFrame;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use webrtc::peer_connection::RTCPeerConnectionState;

use super::ice::IceSource;
use super::machine::{
    CallError, CallMachine, Command, Input, LiveInput, Now, Output, PeerAction, PeerDone,
    PeerState, Reply,
};
use super::media::{self, MediaDevices, MediaState};
use super::peer::{Peer, PeerEvent, PeerSettings};
use super::quality::opus_expected_loss_percent;
use super::report::report;
use super::view::{CallPeer, CallReport, CallView};
use crate::live::{LiveEvent, LiveSender};

/// What a call engine needs.
pub struct CallSetup {
    pub live: LiveSender,
    pub live_events: mpsc::UnboundedReceiver<LiveEvent>,
    pub ice: IceSource,
    pub devices: Arc<dyn MediaDevices>,
    /// Relay through TURN only.
    pub relay_only: bool,
}

/// A command and where its answer goes.
enum Request {
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
    HangUp(oneshot::Sender<Result<(), CallError>>),
    Mute(bool, oneshot::Sender<Result<CallView, CallError>>),
    Camera(bool, oneshot::Sender<Result<CallView, CallError>>),
    Report(oneshot::Sender<Option<CallReport>>),
}

/// Where the reply of the command being handled goes.
enum PendingReply {
    View(oneshot::Sender<Result<CallView, CallError>>),
    Done(oneshot::Sender<Result<(), CallError>>),
}

/// Calls for one account. Dropping it hangs up and stops the engine.
pub struct CallEngine {
    requests: mpsc::UnboundedSender<Request>,
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
        let (requests, requests_rx) = mpsc::unbounded_channel();
        let (updates, _) = broadcast::channel(64);
        let (current_tx, current) = watch::channel(None);
        let (peer_tx, peer_rx) = mpsc::unbounded_channel();
        let driver = Driver {
            machine: CallMachine::new(),
            live: setup.live,
            ice: setup.ice,
            devices: setup.devices,
            relay_only: setup.relay_only,
            updates: updates.clone(),
            current: current_tx,
            peer_events: peer_tx,
            peer: None,
            media: Arc::new(MediaState::default()),
            last_report: None,
            pending_reply: None,
        };
        let task = super::runtime::spawn(driver.run(requests_rx, setup.live_events, peer_rx));
        Self {
            requests,
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
        self.ask(|reply| Request::Place {
            callee,
            video,
            reply,
        })
        .await?
    }

    pub async fn answer(&self, call_id: &str, video: bool) -> Result<CallView, CallError> {
        let call_id = call_id.to_owned();
        self.ask(|reply| Request::Answer {
            call_id,
            video,
            reply,
        })
        .await?
    }

    pub async fn decline(&self, call_id: &str) -> Result<(), CallError> {
        let call_id = call_id.to_owned();
        self.ask(|reply| Request::Decline { call_id, reply })
            .await?
    }

    /// Ends the current call, whatever its stage (cancel, decline, hang up).
    pub async fn hang_up(&self) -> Result<(), CallError> {
        self.ask(Request::HangUp).await?
    }

    pub async fn set_muted(&self, muted: bool) -> Result<CallView, CallError> {
        self.ask(|reply| Request::Mute(muted, reply)).await?
    }

    pub async fn set_camera(&self, on: bool) -> Result<CallView, CallError> {
        self.ask(|reply| Request::Camera(on, reply)).await?
    }

    /// Figures of the current call, or of the last one if none goes on.
    pub async fn report(&self) -> Option<CallReport> {
        self.ask(Request::Report).await.ok().flatten()
    }

    async fn ask<T>(
        &self,
        request: impl FnOnce(oneshot::Sender<T>) -> Request,
    ) -> Result<T, CallError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(request(reply))
            .map_err(|_| CallError::Stopped)?;
        answer.await.map_err(|_| CallError::Stopped)
    }
}

/// Performs the machine's outputs: the only part of a call that does I/O.
struct Driver {
    machine: CallMachine,
    live: LiveSender,
    ice: IceSource,
    devices: Arc<dyn MediaDevices>,
    relay_only: bool,
    updates: broadcast::Sender<CallView>,
    current: watch::Sender<Option<CallView>>,
    peer_events: mpsc::UnboundedSender<(String, PeerEvent)>,
    /// The current call's peer connection.
    peer: Option<Arc<Peer>>,
    /// The current (or last) call's media.
    media: Arc<MediaState>,
    last_report: Option<CallReport>,
    pending_reply: Option<PendingReply>,
}

impl Driver {
    async fn run(
        mut self,
        mut requests: mpsc::UnboundedReceiver<Request>,
        mut live: mpsc::UnboundedReceiver<LiveEvent>,
        mut peer_events: mpsc::UnboundedReceiver<(String, PeerEvent)>,
    ) {
        loop {
            let wake = self.machine.poll_timeout();
            let media = self
                .machine
                .current()
                .is_some()
                .then(|| Arc::clone(&self.media));
            tokio::select! {
                request = requests.recv() => match request {
                    Some(request) => self.on_request(request).await,
                    None => break,
                },
                event = live.recv() => match event {
                    Some(LiveEvent::Connected) => self.step(Input::Live(LiveInput::Connected)).await,
                    Some(LiveEvent::Disconnected) => {}
                    Some(LiveEvent::Frame(frame)) => {
                        log_frame(&frame);
                        self.step(Input::Live(LiveInput::Frame(frame))).await;
                    }
                    None => break,
                },
                Some((call_id, event)) = peer_events.recv() => self.on_peer_event(call_id, event).await,
                () = sleep_until(wake) => self.step(Input::Tick).await,
                () = video_arrived(media.as_deref()) => self.step(Input::VideoArrived).await,
            }
        }
        if self.machine.current().is_some() {
            self.step(Input::Command(Command::HangUp)).await;
        }
    }

    async fn on_request(&mut self, request: Request) {
        let (command, reply) = match request {
            Request::Place {
                callee,
                video,
                reply,
            } => {
                let command = Command::Place {
                    call_id: uuid::Uuid::new_v4().to_string(),
                    callee,
                    video,
                    online: self.live.is_connected(),
                };
                (command, PendingReply::View(reply))
            }
            Request::Answer {
                call_id,
                video,
                reply,
            } => (
                Command::Answer { call_id, video },
                PendingReply::View(reply),
            ),
            Request::Decline { call_id, reply } => {
                (Command::Decline { call_id }, PendingReply::Done(reply))
            }
            Request::HangUp(reply) => (Command::HangUp, PendingReply::Done(reply)),
            Request::Mute(muted, reply) => (Command::Mute(muted), PendingReply::View(reply)),
            Request::Camera(on, reply) => (Command::Camera(on), PendingReply::View(reply)),
            Request::Report(reply) => {
                let report = self
                    .machine
                    .times()
                    .map(|times| report(&times, &self.media, Instant::now()))
                    .or_else(|| self.last_report.clone());
                let _ = reply.send(report);
                return;
            }
        };
        self.pending_reply = Some(reply);
        self.step(Input::Command(command)).await;
        // A command the machine did not answer (it cannot happen by design)
        // is answered `Stopped` when its reply is dropped here.
        self.pending_reply = None;
    }

    async fn on_peer_event(&mut self, call_id: String, event: PeerEvent) {
        let event = match event {
            PeerEvent::Track(track) => {
                if self.machine.current().is_some_and(|c| c.call_id == call_id) {
                    tokio::spawn(media::receive_track(
                        track,
                        Arc::clone(&self.devices),
                        Arc::clone(&self.media),
                    ));
                }
                return;
            }
            PeerEvent::Candidate(candidate) => {
                tracing::debug!("local candidate");
                super::machine::PeerEvent::Candidate(Some(candidate))
            }
            // Said as a `null` candidate: a peer that waits for the end of
            // candidates (rather than trickling on) can go on at once.
            PeerEvent::GatheringComplete => super::machine::PeerEvent::Candidate(None),
            PeerEvent::State(state) => super::machine::PeerEvent::State(match state {
                RTCPeerConnectionState::Connected => PeerState::Connected,
                RTCPeerConnectionState::Disconnected => PeerState::Disconnected,
                RTCPeerConnectionState::Failed => PeerState::Failed,
                _ => PeerState::Other,
            }),
        };
        self.step(Input::Peer { call_id, event }).await;
    }

    /// Runs one input through the machine, and the inputs that performing
    /// its outputs gives, until there are none.
    async fn step(&mut self, input: Input) {
        let mut inputs = VecDeque::from([input]);
        while let Some(input) = inputs.pop_front() {
            for output in self.machine.handle(Now::system(), input) {
                if let Some(next) = self.perform(output).await {
                    inputs.push_back(next);
                }
            }
        }
    }

    async fn perform(&mut self, output: Output) -> Option<Input> {
        match output {
            Output::NewCall { camera_on, .. } => {
                self.media = Arc::new(MediaState::default());
                self.media.camera_on.store(camera_on, Ordering::Relaxed);
                None
            }
            Output::Send { frame, after } => {
                let result = self.live.send(frame).await.map_err(|_| CallError::Offline);
                if let Err(error) = &result {
                    tracing::debug!(%error, "a call frame was not sent");
                }
                after.map(|after| Input::Sent { after, result })
            }
            Output::Peer { call_id, action } => self
                .peer_action(&call_id, action)
                .await
                .map(|done| Input::PeerDone { call_id, done }),
            Output::Muted(muted) => {
                self.media.muted.store(muted, Ordering::Relaxed);
                None
            }
            Output::Camera(on) => {
                self.media.camera_on.store(on, Ordering::Relaxed);
                None
            }
            Output::Publish(view) => {
                // The current call first: whoever hears the update and then
                // asks for the current call must see this state.
                let ongoing = view.stage != super::CallStage::Ended;
                self.current.send_replace(ongoing.then(|| view.clone()));
                let _ = self.updates.send(view);
                None
            }
            Output::Reply(reply) => {
                match (self.pending_reply.take(), reply) {
                    (Some(PendingReply::View(to)), Reply::View(result)) => {
                        let _ = to.send(result);
                    }
                    (Some(PendingReply::Done(to)), Reply::Done(result)) => {
                        let _ = to.send(result);
                    }
                    (pending, reply) => {
                        tracing::debug!(?reply, "a reply nobody waits for");
                        self.pending_reply = pending;
                    }
                }
                None
            }
            Output::Ended(times) => {
                self.media.stop();
                self.last_report = Some(report(&times, &self.media, Instant::now()));
                None
            }
        }
    }

    async fn peer_action(&mut self, call_id: &str, action: PeerAction) -> Option<PeerDone> {
        let text = |error: super::peer::PeerError| error.to_string();
        match action {
            PeerAction::CreateAndOffer => {
                let peer = match self.new_peer(call_id).await {
                    Ok(peer) => peer,
                    Err(error) => return Some(PeerDone::Offered(Err(error))),
                };
                let offer = peer.offer().await;
                if offer.is_err() {
                    peer.close().await;
                } else {
                    self.peer = Some(peer);
                }
                Some(PeerDone::Offered(offer.map_err(text)))
            }
            PeerAction::Prepare { offer } => {
                let peer = match self.new_peer(call_id).await {
                    Ok(peer) => peer,
                    Err(error) => return Some(PeerDone::Prepared(Err(error))),
                };
                let taken = peer.take_offer(&offer).await;
                if taken.is_err() {
                    peer.close().await;
                } else {
                    self.peer = Some(peer);
                }
                Some(PeerDone::Prepared(taken.map_err(text)))
            }
            PeerAction::Answer { offer } => {
                let (peer, answer) = match (self.peer.take(), offer) {
                    (Some(peer), None) => {
                        let answer = peer.answer_offer().await;
                        (peer, answer)
                    }
                    (stale, Some(offer)) => {
                        if let Some(stale) = stale {
                            close_in_background(stale);
                        }
                        let peer = match self.new_peer(call_id).await {
                            Ok(peer) => peer,
                            Err(error) => return Some(PeerDone::Answered(Err(error))),
                        };
                        let answer = peer.answer(&offer).await;
                        (peer, answer)
                    }
                    (None, None) => {
                        let error = "no connection to answer with".to_owned();
                        return Some(PeerDone::Answered(Err(error)));
                    }
                };
                if answer.is_err() {
                    peer.close().await;
                } else {
                    self.peer = Some(peer);
                }
                Some(PeerDone::Answered(answer.map_err(text)))
            }
            PeerAction::TakeAnswer { sdp } => {
                let peer = self.peer.clone()?;
                Some(PeerDone::AnswerTaken(
                    peer.accept_answer(&sdp).await.map_err(text),
                ))
            }
            PeerAction::AddCandidates(candidates) => {
                let peer = self.peer.clone()?;
                for candidate in candidates {
                    if let Err(error) = peer.add_candidate(&candidate).await {
                        tracing::debug!(%error, "a remote candidate was refused");
                    }
                }
                None
            }
            PeerAction::AnswerRenegotiation { sdp } => {
                let peer = self.peer.clone()?;
                let answer = peer.answer(&sdp).await.map_err(text);
                if answer.is_ok() {
                    self.media
                        .set_max_packet_ms(peer.remote_max_packet_ms().await);
                }
                Some(PeerDone::Renegotiated(answer))
            }
            PeerAction::TakeRenegotiationAnswer { sdp } => {
                let peer = self.peer.clone()?;
                match peer.accept_answer(&sdp).await {
                    Ok(()) => self
                        .media
                        .set_max_packet_ms(peer.remote_max_packet_ms().await),
                    Err(error) => tracing::warn!(%error, "a renegotiation answer failed"),
                }
                None
            }
            PeerAction::RestartIce => {
                let peer = self.peer.clone()?;
                Some(PeerDone::RestartOffered(
                    peer.restart_offer().await.map_err(text),
                ))
            }
            PeerAction::ReadStats => {
                let peer = self.peer.clone()?;
                let snapshot = peer.stats().await;
                self.media
                    .target_bitrate
                    .store(peer.target_bitrate().to_bits(), Ordering::Relaxed);
                if let Some(lost) = snapshot.audio_sent_fraction_lost {
                    self.media
                        .audio_expected_loss
                        .set(opus_expected_loss_percent(lost));
                }
                Some(PeerDone::Stats {
                    snapshot,
                    video_frames_decoded: self.media.video_frames_decoded.load(Ordering::Relaxed),
                })
            }
            PeerAction::StartAudio => {
                let peer = self.peer.clone()?;
                let media = Arc::clone(&self.media);
                media
                    .target_bitrate
                    .store(peer.target_bitrate().to_bits(), Ordering::Relaxed);
                // Never longer packets than the other side asked for.
                media.set_max_packet_ms(peer.remote_max_packet_ms().await);
                let devices = Arc::clone(&self.devices);
                let microphone = media::off_the_call_thread(move || devices.microphone()).await;
                match (microphone, peer.audio_track().await) {
                    (Ok(input), Ok(track)) => media::start_audio_sender(input, track, media),
                    (Err(error), _) => {
                        tracing::warn!(%error, "no microphone: the other side hears nothing");
                    }
                    (_, Err(error)) => tracing::warn!(%error, "no audio track"),
                }
                None
            }
            PeerAction::StartVideo => {
                let peer = self.peer.clone()?;
                match peer.video_track().await {
                    Ok(track) => media::start_video_sender(
                        track,
                        Arc::clone(&self.devices),
                        Arc::clone(&self.media),
                    ),
                    Err(error) => tracing::warn!(%error, "no video track"),
                }
                None
            }
            PeerAction::Close => {
                if let Some(peer) = self.peer.take() {
                    close_in_background(peer);
                }
                None
            }
        }
    }

    /// A peer connection for `call_id`, with ICE servers fetched now.
    async fn new_peer(&self, call_id: &str) -> Result<Arc<Peer>, String> {
        let settings = PeerSettings {
            ice_servers: self.ice.fetch().await,
            relay_only: self.relay_only,
        };
        let (tx, mut rx) = mpsc::unbounded_channel();
        let peer = Peer::new(&settings, tx).await.map_err(|e| e.to_string())?;
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
}

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

fn log_frame(frame: &ServerFrame) {
    if tracing::enabled!(tracing::Level::DEBUG) {
        // The type only: SDP carries the ICE password.
        let kind = serde_json::to_value(frame)
            .ok()
            .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned));
        tracing::debug!(?kind, "call frame");
    }
}

/// Resolves at `at`; never without a time.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
        None => std::future::pending().await,
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
