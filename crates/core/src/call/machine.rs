//! The call state machine of one account, sans-IO: commands, server
//! frames, peer-connection events and ticks go in with the time they
//! happen at; frames to send, views to publish, peer-connection actions
//! and command replies come out. It owns no socket, no peer connection
//! and no clock, so every call outcome is tested on a simulated clock
//! (`tests` below, and the harness that steps two machines through the
//! server's registry). The engine (`engine.rs`) is the driver that performs
//! the outputs and feeds their results back.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use convene_proto::call::{
    self as proto, CallOutcome, CallPhase, IceCandidate, MediaKind, CALL_PROTOCOL_VERSION,
};
use convene_proto::live::{ClientFrame, ServerFrame};

use super::quality::{quality_between, StatsSnapshot};
use super::view::{CallPeer, CallSide, CallStage, CallView, EndReason};

/// How often quality is read while a call lasts.
pub const QUALITY_INTERVAL: Duration = Duration::from_secs(2);
/// After this long without media and without a successful ICE restart,
/// the call is over.
pub const RECONNECT_GIVE_UP: Duration = Duration::from_secs(30);
/// Between ICE restart attempts while reconnecting.
pub const RESTART_EVERY: Duration = Duration::from_secs(4);
/// An unanswered restart offer is given this long before another.
pub const UNANSWERED_RESTART: Duration = Duration::from_secs(12);

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

/// The moment an input happens: monotonic for timers, wall-clock for the
/// call's start time as the UI shows it.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub at: Instant,
    /// Unix time in milliseconds.
    pub unix_ms: f64,
}

impl Now {
    pub fn system() -> Self {
        Self {
            at: Instant::now(),
            unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64() * 1000.0)
                .unwrap_or(0.0),
        }
    }
}

/// What the person (UI or CLI) asks.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `call_id` is made by the driver (a UUID), `online` is whether the
    /// live channel is up at this moment.
    Place {
        call_id: String,
        callee: CallPeer,
        video: bool,
        online: bool,
    },
    Answer {
        call_id: String,
        video: bool,
    },
    Decline {
        call_id: String,
    },
    /// Cancel, decline or hang up, whatever the call's stage.
    HangUp,
    Mute(bool),
    Camera(bool),
}

/// The live channel's news, as the call side hears it.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveInput {
    /// Connected (again), on a new socket.
    Connected,
    Frame(ServerFrame),
}

/// The peer connection's state, as far as a call cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerState {
    Connected,
    Disconnected,
    Failed,
    /// New, connecting, closed: nothing to do.
    Other,
}

/// What the peer connection of the call `call_id` said by itself.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerEvent {
    /// A local candidate to trickle; `None` once gathering is complete.
    Candidate(Option<IceCandidate>),
    State(PeerState),
}

/// How a [`PeerAction`] went; errors in words.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerDone {
    /// [`PeerAction::CreateAndOffer`]: the offer.
    Offered(Result<String, String>),
    /// [`PeerAction::Prepare`].
    Prepared(Result<(), String>),
    /// [`PeerAction::Answer`]: the answer.
    Answered(Result<String, String>),
    /// [`PeerAction::TakeAnswer`].
    AnswerTaken(Result<(), String>),
    /// [`PeerAction::AnswerRenegotiation`]: the answer.
    Renegotiated(Result<String, String>),
    /// [`PeerAction::RestartIce`]: the restart offer.
    RestartOffered(Result<String, String>),
    /// [`PeerAction::ReadStats`], with the video frames decoded so far
    /// (what reaches the screen, counted by the decoder).
    Stats {
        snapshot: StatsSnapshot,
        video_frames_decoded: u64,
    },
}

/// Everything that can happen to the call machine.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Command(Command),
    Live(LiveInput),
    Peer {
        call_id: String,
        event: PeerEvent,
    },
    PeerDone {
        call_id: String,
        done: PeerDone,
    },
    /// How a [`Output::Send`] that asked to hear back went.
    Sent {
        after: AfterSend,
        result: Result<(), CallError>,
    },
    /// The other side's video started (again).
    VideoArrived,
    /// The time asked for by [`CallMachine::poll_timeout`] has come.
    Tick,
}

/// What to do once a frame is (or could not be) sent.
#[derive(Debug, Clone, PartialEq)]
pub enum AfterSend {
    /// The call invite: the place command hears how it went.
    Invite,
    /// The answer: the answer command hears how it went.
    Accept,
    /// A cancel, decline or hang-up: kept to say again after a reconnect
    /// if it could not go now.
    Ending(ClientFrame),
    /// A resume for a call whose ending could not be said: the ending
    /// follows once the resume went out.
    ResumeThenEnd(ClientFrame),
    /// An ICE restart offer: its answer is awaited once it went out.
    RestartOffer,
}

/// What the driver does with the call's peer connection.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerAction {
    /// Create a connection (fetching ICE servers) and make an offer.
    CreateAndOffer,
    /// While it rings: create a connection and take the caller's offer,
    /// so that answering only has to answer.
    Prepare {
        offer: String,
    },
    /// Answer: with the prepared connection (`offer: None`), or with a new
    /// one taking `offer`.
    Answer {
        offer: Option<String>,
    },
    /// The caller takes the callee's answer.
    TakeAnswer {
        sdp: String,
    },
    AddCandidates(Vec<IceCandidate>),
    /// Answer a renegotiation offer (an ICE restart) of the other side.
    AnswerRenegotiation {
        sdp: String,
    },
    /// Take the answer to our own restart offer (failures are only logged).
    TakeRenegotiationAnswer {
        sdp: String,
    },
    RestartIce,
    ReadStats,
    /// Start sending audio (and video if the camera is on).
    StartAudio,
    StartVideo,
    Close,
}

/// The reply to the command being handled.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    View(Result<CallView, CallError>),
    Done(Result<(), CallError>),
}

/// What the driver must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// A new call starts: fresh media state for it, camera as given.
    NewCall {
        call_id: String,
        camera_on: bool,
    },
    Send {
        frame: ClientFrame,
        /// Feed back [`Input::Sent`] with this, if set.
        after: Option<AfterSend>,
    },
    Peer {
        call_id: String,
        action: PeerAction,
    },
    Muted(bool),
    Camera(bool),
    /// The call changed: the view to show (an ended view means no call).
    Publish(CallView),
    Reply(Reply),
    /// The call is over: stop its media; its figures are final.
    Ended(CallTimes),
}

/// A call's moments, for its report.
#[derive(Debug, Clone, PartialEq)]
pub struct CallTimes {
    pub view: CallView,
    /// When this side answered (callee) or heard of the answer (caller).
    pub answered: Option<Instant>,
    pub ringing_after: Option<Duration>,
    pub connected_after: Option<Duration>,
    pub connected_at: Option<Instant>,
}

/// Everything about the call going on.
#[derive(Debug)]
struct Call {
    view: CallView,
    /// The caller's offer, until we answer.
    remote_offer: Option<String>,
    /// The driver holds a peer connection for this call.
    has_peer: bool,
    has_remote_description: bool,
    /// The other side's candidates that came before its description.
    early_candidates: Vec<IceCandidate>,
    started: Instant,
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
    next_tick: Instant,
}

impl Call {
    fn new(view: CallView, now: Instant) -> Self {
        Self {
            view,
            remote_offer: None,
            has_peer: false,
            has_remote_description: false,
            early_candidates: Vec::new(),
            started: now,
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
            next_tick: now + QUALITY_INTERVAL,
        }
    }

    fn is_caller(&self) -> bool {
        self.view.side == CallSide::Outgoing
    }

    /// One restart offer at a time: the other side may be away (asleep,
    /// frozen, offline) and answer late; a second offer would make that
    /// answer stale. A new one only if the last went unanswered for long.
    fn restart_wait(&self) -> Duration {
        if self.awaiting_answer {
            UNANSWERED_RESTART
        } else {
            RESTART_EVERY
        }
    }

    fn times(&self) -> CallTimes {
        CallTimes {
            view: self.view.clone(),
            answered: self.answered,
            ringing_after: self.ringing_after,
            connected_after: self.connected_after,
            connected_at: self.connected_at,
        }
    }

    fn call_ref(&self) -> proto::CallRef {
        proto::CallRef {
            call_id: self.view.call_id.clone(),
        }
    }
}

/// The calls of one account: one at a time.
#[derive(Debug, Default)]
pub struct CallMachine {
    call: Option<Call>,
    /// A cancel, decline or hang-up that could not be sent (the live
    /// channel was down); sent after the next reconnect.
    unsent_end: Option<ClientFrame>,
}

impl CallMachine {
    pub fn new() -> Self {
        Self::default()
    }

    /// The call going on (or ringing), if any.
    pub fn current(&self) -> Option<&CallView> {
        self.call.as_ref().map(|c| &c.view)
    }

    /// The moments of the call going on, for its report.
    pub fn times(&self) -> Option<CallTimes> {
        self.call.as_ref().map(Call::times)
    }

    /// When the machine next wants [`Input::Tick`]; `None` without a call.
    /// While media is lost, the moment of the next ICE restart or of
    /// giving up may come before the next quality reading.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let call = self.call.as_ref()?;
        let Some(lost_since) = call.lost_since else {
            return Some(call.next_tick);
        };
        let mut at = call.next_tick.min(lost_since + RECONNECT_GIVE_UP);
        if let (true, Some(last)) = (call.is_caller(), call.last_restart) {
            at = at.min(last + call.restart_wait());
        }
        Some(at)
    }

    /// Handles one input; the outputs are to be performed in order.
    pub fn handle(&mut self, now: Now, input: Input) -> Vec<Output> {
        let mut out = Outputs::default();
        match input {
            Input::Command(command) => self.on_command(now, command, &mut out),
            Input::Live(LiveInput::Connected) => self.on_connected(&mut out),
            Input::Live(LiveInput::Frame(frame)) => self.on_frame(now, frame, &mut out),
            Input::Peer { call_id, event } if self.is_current(&call_id) => match event {
                PeerEvent::Candidate(candidate) => {
                    out.send(ClientFrame::CallCandidate(proto::Candidate {
                        call_id,
                        candidate,
                    }));
                }
                PeerEvent::State(state) => self.on_peer_state(now, state, &mut out),
            },
            Input::PeerDone { call_id, done } if self.is_current(&call_id) => {
                self.on_peer_done(now, done, &mut out)
            }
            Input::Peer { .. } | Input::PeerDone { .. } => {}
            Input::Sent { after, result } => self.on_sent(after, result, &mut out),
            Input::VideoArrived => {
                if let Some(call) = self.call.as_mut() {
                    if !call.view.remote_video && call.view.stage != CallStage::Ended {
                        call.view.remote_video = true;
                        out.publish(call);
                    }
                }
            }
            Input::Tick => self.on_tick(now, &mut out),
        }
        out.0
    }

    fn is_current(&self, call_id: &str) -> bool {
        self.call
            .as_ref()
            .is_some_and(|c| c.view.call_id == call_id)
    }

    fn on_command(&mut self, now: Now, command: Command, out: &mut Outputs) {
        match command {
            Command::Place {
                call_id,
                callee,
                video,
                online,
            } => {
                if self.call.is_some() {
                    return out.reply_view(Err(CallError::Busy));
                }
                if !online {
                    return out.reply_view(Err(CallError::Offline));
                }
                let view = CallView {
                    call_id: call_id.clone(),
                    peer: callee,
                    side: CallSide::Outgoing,
                    stage: CallStage::Calling,
                    media: media_list(video),
                    muted: false,
                    camera_on: video,
                    remote_video: false,
                    connected_at_ms: None,
                    ended: None,
                    error: None,
                    quality: None,
                };
                self.call = Some(Call::new(view, now.at));
                out.push(Output::NewCall {
                    call_id: call_id.clone(),
                    camera_on: video,
                });
                out.peer(&call_id, PeerAction::CreateAndOffer);
            }
            Command::Answer { call_id, video } => self.answer(now, &call_id, video, out),
            Command::Decline { call_id } => match &self.call {
                Some(call)
                    if call.view.call_id == call_id && call.view.stage == CallStage::Incoming =>
                {
                    out.send(ClientFrame::CallDecline(call.call_ref()));
                    self.end(EndReason::HungUp, None, out);
                    out.push(Output::Reply(Reply::Done(Ok(()))));
                }
                _ => out.push(Output::Reply(Reply::Done(Err(CallError::NoSuchCall)))),
            },
            Command::HangUp => {
                let result = if self.call.is_some() {
                    self.hang_up(out);
                    Ok(())
                } else {
                    Err(CallError::NoSuchCall)
                };
                out.push(Output::Reply(Reply::Done(result)));
            }
            Command::Mute(muted) => {
                let Some(call) = self.call.as_mut() else {
                    return out.reply_view(Err(CallError::NoSuchCall));
                };
                out.push(Output::Muted(muted));
                call.view.muted = muted;
                out.publish(call);
                out.reply_view(Ok(call.view.clone()));
            }
            Command::Camera(on) => {
                let Some(call) = self.call.as_mut() else {
                    return out.reply_view(Err(CallError::NoSuchCall));
                };
                out.push(Output::Camera(on));
                call.view.camera_on = on;
                out.publish(call);
                let view = call.view.clone();
                self.start_video_if_needed(out);
                out.reply_view(Ok(view));
            }
        }
    }

    fn answer(&mut self, now: Now, call_id: &str, video: bool, out: &mut Outputs) {
        let Some(call) = self.call.as_mut() else {
            return out.reply_view(Err(CallError::NoSuchCall));
        };
        if call.view.call_id != call_id || call.view.stage != CallStage::Incoming {
            return out.reply_view(Err(CallError::NoSuchCall));
        }
        let offer = call.remote_offer.take();
        if !call.has_peer && offer.is_none() {
            return out.reply_view(Err(CallError::NoSuchCall));
        }
        call.answered = Some(now.at);
        call.view.stage = CallStage::Connecting;
        call.view.camera_on = video;
        out.push(Output::Camera(video));
        let offer = if call.has_peer { None } else { offer };
        out.peer(call_id, PeerAction::Answer { offer });
    }

    fn hang_up(&mut self, out: &mut Outputs) {
        let Some(call) = &self.call else { return };
        let frame = match call.view.stage {
            CallStage::Calling | CallStage::Ringing => ClientFrame::CallCancel(call.call_ref()),
            CallStage::Incoming => ClientFrame::CallDecline(call.call_ref()),
            _ => ClientFrame::CallHangup(call.call_ref()),
        };
        // Said again as soon as the live channel is back if it cannot go
        // now, so the other side hears a hang-up rather than waiting out
        // the server's resume grace.
        out.push(Output::Send {
            after: Some(AfterSend::Ending(frame.clone())),
            frame,
        });
        self.end(EndReason::HungUp, None, out);
    }

    fn end(&mut self, reason: EndReason, error: Option<String>, out: &mut Outputs) {
        tracing::debug!(?reason, "call ends");
        let Some(mut call) = self.call.take() else {
            return;
        };
        call.view.stage = CallStage::Ended;
        call.view.ended = Some(reason);
        call.view.error = error;
        call.view.remote_video = false;
        out.push(Output::Ended(call.times()));
        if call.has_peer {
            out.peer(&call.view.call_id, PeerAction::Close);
        }
        out.publish(&call);
    }

    fn on_connected(&mut self, out: &mut Outputs) {
        // A new socket: tell the server it is ours for the call.
        if let Some(call) = &self.call {
            out.send(ClientFrame::CallResume(call.call_ref()));
        }
        if let Some(frame) = self.unsent_end.take() {
            let call_id = match &frame {
                ClientFrame::CallCancel(r)
                | ClientFrame::CallDecline(r)
                | ClientFrame::CallHangup(r) => r.call_id.clone(),
                _ => String::new(),
            };
            out.push(Output::Send {
                frame: ClientFrame::CallResume(proto::CallRef { call_id }),
                after: Some(AfterSend::ResumeThenEnd(frame)),
            });
        }
    }

    fn on_sent(&mut self, after: AfterSend, result: Result<(), CallError>, out: &mut Outputs) {
        match (after, result) {
            (AfterSend::Invite | AfterSend::Accept, Ok(())) => {
                if let Some(call) = &self.call {
                    out.publish(call);
                    out.reply_view(Ok(call.view.clone()));
                }
            }
            (AfterSend::Invite | AfterSend::Accept, Err(error)) => {
                self.end(EndReason::Failed, Some(error.to_string()), out);
                out.reply_view(Err(error));
            }
            (AfterSend::Ending(_), Ok(())) => {}
            (AfterSend::Ending(frame), Err(error)) => {
                tracing::info!(%error, "hang-up waits for the server");
                self.unsent_end = Some(frame);
            }
            (AfterSend::ResumeThenEnd(frame), Ok(())) => out.push(Output::Send {
                after: Some(AfterSend::Ending(frame.clone())),
                frame,
            }),
            (AfterSend::ResumeThenEnd(_), Err(_)) => {}
            (AfterSend::RestartOffer, Ok(())) => {
                if let Some(call) = self.call.as_mut() {
                    call.awaiting_answer = true;
                }
            }
            (AfterSend::RestartOffer, Err(_)) => tracing::info!("ICE restart waits for the server"),
        }
    }

    fn on_frame(&mut self, now: Now, frame: ServerFrame, out: &mut Outputs) {
        match frame {
            ServerFrame::CallIncoming(incoming) => self.on_incoming(now, incoming, out),
            ServerFrame::CallRinging(r) if self.is_current(&r.call_id) => {
                let call = self.call.as_mut().expect("current");
                if call.view.stage == CallStage::Calling {
                    call.view.stage = CallStage::Ringing;
                    call.ringing_after = Some(now.at.saturating_duration_since(call.started));
                    out.publish(call);
                }
            }
            ServerFrame::CallAccepted(accept) if self.is_current(&accept.call_id) => {
                let call = self.call.as_mut().expect("current");
                call.answered = Some(now.at);
                call.view.stage = CallStage::Connecting;
                if call.has_peer {
                    out.peer(&accept.call_id, PeerAction::TakeAnswer { sdp: accept.sdp });
                }
            }
            ServerFrame::CallAnsweredElsewhere(r) if self.is_current(&r.call_id) => {
                self.end(EndReason::AnsweredElsewhere, None, out);
            }
            ServerFrame::CallDeclinedElsewhere(r) if self.is_current(&r.call_id) => {
                self.end(EndReason::DeclinedElsewhere, None, out);
            }
            ServerFrame::CallEnded(ended) if self.is_current(&ended.call_id) => {
                let reason = self.reason_for(ended.outcome);
                self.end(reason, None, out);
            }
            ServerFrame::CallCandidate(c) if self.is_current(&c.call_id) => {
                // `null` is the end of the other side's candidates: nothing
                // to do, ICE goes on with what it has.
                let Some(candidate) = c.candidate else { return };
                let call = self.call.as_mut().expect("current");
                if call.has_peer && call.has_remote_description {
                    out.peer(&c.call_id, PeerAction::AddCandidates(vec![candidate]));
                } else {
                    call.early_candidates.push(candidate);
                }
            }
            // A renegotiation (an ICE restart) of the other side.
            ServerFrame::CallOffer(offer)
                if self.is_current(&offer.call_id)
                    && self.call.as_ref().is_some_and(|c| c.has_peer) =>
            {
                let action = PeerAction::AnswerRenegotiation { sdp: offer.sdp };
                out.peer(&offer.call_id, action);
            }
            ServerFrame::CallAnswer(answer) if self.is_current(&answer.call_id) => {
                let call = self.call.as_mut().expect("current");
                call.awaiting_answer = false;
                if call.has_peer {
                    out.peer(
                        &answer.call_id,
                        PeerAction::TakeRenegotiationAnswer { sdp: answer.sdp },
                    );
                }
            }
            ServerFrame::CallState(state)
                if self.is_current(&state.call_id) && state.state == CallPhase::Ended =>
            {
                let reason = self.reason_for(state.outcome.unwrap_or(CallOutcome::Failed));
                self.end(reason, None, out);
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
                self.end(EndReason::Failed, Some(error.message), out);
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

    fn on_incoming(&mut self, now: Now, incoming: proto::Incoming, out: &mut Outputs) {
        if let Some(call) = &self.call {
            if call.view.call_id != incoming.call_id {
                // The server answers busy for a user in a call; a second
                // ring here means our devices disagree. Keep the call we have.
                tracing::info!("a second call rang during a call");
            }
            return;
        }
        let call_id = incoming.call_id;
        let view = CallView {
            call_id: call_id.clone(),
            peer: CallPeer {
                user_id: incoming.caller.trim_start_matches("8:orgid:").to_owned(),
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
        };
        let mut call = Call::new(view, now.at);
        call.remote_offer = Some(incoming.sdp.clone());
        out.push(Output::NewCall {
            call_id: call_id.clone(),
            camera_on: false,
        });
        out.send(ClientFrame::CallRinging(call.call_ref()));
        out.publish(&call);
        self.call = Some(call);
        // Set the connection up while it rings (ICE servers, certificate,
        // the offer), so that answering only has to answer.
        out.peer(
            &call_id,
            PeerAction::Prepare {
                offer: incoming.sdp,
            },
        );
    }

    fn on_peer_done(&mut self, now: Now, done: PeerDone, out: &mut Outputs) {
        let call = self.call.as_mut().expect("checked by the caller");
        let call_id = call.view.call_id.clone();
        match done {
            PeerDone::Offered(Err(error)) => {
                // The call was never announced: it goes as if not placed.
                self.call = None;
                out.reply_view(Err(CallError::Media(error)));
            }
            PeerDone::Offered(Ok(sdp)) => {
                call.has_peer = true;
                out.push(Output::Send {
                    frame: ClientFrame::CallInvite(proto::Invite {
                        version: CALL_PROTOCOL_VERSION,
                        callee: orgid(&call.view.peer.user_id),
                        media: call.view.media.clone(),
                        sdp,
                        call_id,
                    }),
                    after: Some(AfterSend::Invite),
                });
            }
            PeerDone::Prepared(result) => match result {
                Ok(()) => {
                    call.has_peer = true;
                    call.has_remote_description = true;
                }
                Err(error) => tracing::warn!(%error, "no connection prepared while ringing"),
            },
            PeerDone::Answered(Err(error)) => {
                call.has_peer = false;
                out.send(ClientFrame::CallDecline(call.call_ref()));
                self.end(EndReason::Failed, Some(error.clone()), out);
                out.reply_view(Err(CallError::Media(error)));
            }
            PeerDone::Answered(Ok(sdp)) => {
                call.has_peer = true;
                call.has_remote_description = true;
                let early = std::mem::take(&mut call.early_candidates);
                if !early.is_empty() {
                    out.peer(&call_id, PeerAction::AddCandidates(early));
                }
                out.push(Output::Send {
                    frame: ClientFrame::CallAccept(proto::Accept {
                        call_id,
                        sdp,
                        media: Some(media_list(call.view.camera_on)),
                    }),
                    after: Some(AfterSend::Accept),
                });
            }
            PeerDone::AnswerTaken(Err(error)) => {
                out.send(ClientFrame::CallHangup(call.call_ref()));
                self.end(EndReason::Failed, Some(error), out);
            }
            PeerDone::AnswerTaken(Ok(())) => {
                call.has_remote_description = true;
                let early = std::mem::take(&mut call.early_candidates);
                if !early.is_empty() {
                    out.peer(&call_id, PeerAction::AddCandidates(early));
                }
                out.publish(call);
            }
            PeerDone::Renegotiated(Ok(sdp)) => {
                out.send(ClientFrame::CallAnswer(proto::Negotiation {
                    call_id,
                    sdp,
                    media: None,
                }));
            }
            PeerDone::Renegotiated(Err(error)) => {
                tracing::warn!(%error, "a renegotiation offer failed");
            }
            PeerDone::RestartOffered(Ok(sdp)) => out.push(Output::Send {
                frame: ClientFrame::CallOffer(proto::Negotiation {
                    call_id,
                    sdp,
                    media: None,
                }),
                after: Some(AfterSend::RestartOffer),
            }),
            PeerDone::RestartOffered(Err(error)) => tracing::warn!(%error, "ICE restart failed"),
            PeerDone::Stats {
                snapshot,
                video_frames_decoded,
            } => {
                let previous_frames = call
                    .stats
                    .as_ref()
                    .map(|(_, s)| s.video_frames_received)
                    .unwrap_or(0);
                if let Some((at, before)) = &call.stats {
                    call.view.quality = Some(quality_between(
                        before,
                        &snapshot,
                        now.at.saturating_duration_since(*at).as_secs_f64(),
                    ));
                }
                let mut snapshot = snapshot;
                // Count decoded frames ourselves: that is what reaches the screen.
                snapshot.video_frames_received = video_frames_decoded;
                call.view.remote_video = video_frames_decoded > previous_frames;
                call.stats = Some((now.at, snapshot));
                out.publish(call);
            }
        }
    }

    fn on_peer_state(&mut self, now: Now, state: PeerState, out: &mut Outputs) {
        let call = self.call.as_mut().expect("checked by the caller");
        match state {
            PeerState::Connected => {
                tracing::debug!(
                    elapsed_ms = call
                        .answered
                        .map(|at| millis(now.at.saturating_duration_since(at))),
                    "media connected"
                );
                if call.connected_at.is_none() {
                    call.connected_at = Some(now.at);
                    call.connected_after =
                        call.answered.map(|at| now.at.saturating_duration_since(at));
                    call.view.connected_at_ms = Some(now.unix_ms);
                }
                call.lost_since = None;
                call.view.stage = CallStage::Connected;
                self.start_senders(out);
                let call = self.call.as_ref().expect("current");
                out.publish(call);
            }
            PeerState::Disconnected | PeerState::Failed if call.connected_at.is_some() => {
                call.lost_since.get_or_insert(now.at);
                call.view.stage = CallStage::Reconnecting;
                out.publish(call);
                self.restart_ice(now, out);
            }
            // The connection prepared while ringing has no candidates to try
            // until we answer, and ICE gives up after its failed timeout
            // (18 s). The call still rings; answering builds a fresh one.
            PeerState::Failed if call.view.stage == CallStage::Incoming => {
                if call.has_peer {
                    tracing::debug!("the connection prepared while ringing timed out");
                    call.has_peer = false;
                    call.has_remote_description = false;
                    out.peer(&call.view.call_id, PeerAction::Close);
                }
            }
            PeerState::Failed => {
                out.send(ClientFrame::CallHangup(call.call_ref()));
                self.end(
                    EndReason::Failed,
                    Some("no network path to the other side".into()),
                    out,
                );
            }
            PeerState::Disconnected | PeerState::Other => {}
        }
    }

    /// The caller restarts ICE (one side only, so offers never cross).
    fn restart_ice(&mut self, now: Now, out: &mut Outputs) {
        let Some(call) = self.call.as_mut() else {
            return;
        };
        if !call.is_caller() {
            return;
        }
        let wait = call.restart_wait();
        if call
            .last_restart
            .is_some_and(|at| now.at.saturating_duration_since(at) < wait)
        {
            return;
        }
        call.last_restart = Some(now.at);
        if call.has_peer {
            out.peer(&call.view.call_id, PeerAction::RestartIce);
        }
    }

    fn start_senders(&mut self, out: &mut Outputs) {
        let Some(call) = self.call.as_mut() else {
            return;
        };
        if call.senders_started {
            return;
        }
        call.senders_started = true;
        if call.has_peer {
            out.peer(&call.view.call_id, PeerAction::StartAudio);
        }
        self.start_video_if_needed(out);
    }

    fn start_video_if_needed(&mut self, out: &mut Outputs) {
        let Some(call) = self.call.as_mut() else {
            return;
        };
        if !call.senders_started || call.video_sender_started || !call.view.camera_on {
            return;
        }
        call.video_sender_started = true;
        if call.has_peer {
            out.peer(&call.view.call_id, PeerAction::StartVideo);
        }
    }

    fn on_tick(&mut self, now: Now, out: &mut Outputs) {
        let Some(call) = self.call.as_mut() else {
            return;
        };
        if let Some(since) = call.lost_since {
            if now.at.saturating_duration_since(since) >= RECONNECT_GIVE_UP {
                out.send(ClientFrame::CallHangup(call.call_ref()));
                self.end(
                    EndReason::Failed,
                    Some("the connection was lost".into()),
                    out,
                );
                return;
            }
            self.restart_ice(now, out);
        }
        let Some(call) = self.call.as_mut() else {
            return;
        };
        if now.at < call.next_tick {
            return;
        }
        call.next_tick = now.at + QUALITY_INTERVAL;
        if call.connected_at.is_some() && call.has_peer {
            out.peer(&call.view.call_id, PeerAction::ReadStats);
        }
    }
}

/// The outputs of one input, in order.
#[derive(Default)]
struct Outputs(Vec<Output>);

impl Outputs {
    fn push(&mut self, output: Output) {
        self.0.push(output);
    }

    /// A frame whose failure to go changes nothing.
    fn send(&mut self, frame: ClientFrame) {
        self.0.push(Output::Send { frame, after: None });
    }

    fn peer(&mut self, call_id: &str, action: PeerAction) {
        self.0.push(Output::Peer {
            call_id: call_id.to_owned(),
            action,
        });
    }

    fn publish(&mut self, call: &Call) {
        self.0.push(Output::Publish(call.view.clone()));
    }

    fn reply_view(&mut self, result: Result<CallView, CallError>) {
        self.0.push(Output::Reply(Reply::View(result)));
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn orgid(user_id: &str) -> String {
    format!("8:orgid:{user_id}")
}

pub fn media_list(video: bool) -> Vec<MediaKind> {
    if video {
        vec![MediaKind::Audio, MediaKind::Video]
    } else {
        vec![MediaKind::Audio]
    }
}

#[cfg(test)]
mod tests;
