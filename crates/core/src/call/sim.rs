//! A device that runs a [`CallMachine`] without a network: it performs the
//! machine's outputs the way the engine does, against a simulated peer
//! connection that succeeds at once, and keeps what the machine sent,
//! published and replied. The machine's own tests and the harness that
//! steps two devices through convene-server's call registry use it, so
//! that every call outcome runs on a simulated clock in microseconds.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use convene_proto::live::{ClientFrame, ServerFrame};

use super::machine::{
    CallError, CallMachine, Command, Input, LiveInput, Now, Output, PeerAction, PeerDone,
    PeerEvent, PeerState, Reply,
};
use super::quality::StatsSnapshot;
use super::view::{CallPeer, CallView};

/// How the simulated peer connection answers an action.
#[derive(Debug, Clone, Default)]
pub struct SimPeer {
    /// Making the connection (or its offer or answer) fails with this.
    pub fail_with: Option<String>,
}

/// One device of a person, with its call machine.
#[derive(Debug)]
pub struct SimDevice {
    pub machine: CallMachine,
    /// Whether its live channel is up: frames sent while it is down fail.
    pub online: bool,
    pub peer: SimPeer,
    /// Frames sent and not yet taken by [`SimDevice::take_sent`].
    sent: Vec<ClientFrame>,
    /// Every view published, in order.
    pub published: Vec<CallView>,
    /// Every reply to a command, in order.
    pub replies: Vec<Reply>,
    /// Every peer-connection action, in order.
    pub peer_actions: Vec<PeerAction>,
    /// Whether the simulated connection exists.
    pub has_connection: bool,
    /// Video frames decoded, as the stats report them.
    pub video_frames_decoded: u64,
    calls_placed: u32,
    name: String,
}

impl SimDevice {
    /// `name` makes the call ids this device places (`{name}-call-1`, …);
    /// they need not be UUIDs for the machine, the server wants UUIDs.
    pub fn new(name: &str) -> Self {
        Self {
            machine: CallMachine::new(),
            online: true,
            peer: SimPeer::default(),
            sent: Vec::new(),
            published: Vec::new(),
            replies: Vec::new(),
            peer_actions: Vec::new(),
            has_connection: false,
            video_frames_decoded: 0,
            calls_placed: 0,
            name: name.to_owned(),
        }
    }

    /// Places a call with the given id.
    pub fn place_with_id(&mut self, now: Now, call_id: &str, callee: &str, video: bool) {
        self.calls_placed += 1;
        let command = Command::Place {
            call_id: call_id.to_owned(),
            callee: CallPeer {
                user_id: callee.to_owned(),
                name: None,
            },
            video,
            online: self.online,
        };
        self.input(now, Input::Command(command));
    }

    /// Places a call with an id of its own making; returns that id.
    pub fn place(&mut self, now: Now, callee: &str, video: bool) -> String {
        let call_id = format!("{}-call-{}", self.name, self.calls_placed + 1);
        self.place_with_id(now, &call_id, callee, video);
        call_id
    }

    pub fn command(&mut self, now: Now, command: Command) {
        self.input(now, Input::Command(command));
    }

    pub fn frame(&mut self, now: Now, frame: ServerFrame) {
        self.input(now, Input::Live(LiveInput::Frame(frame)));
    }

    /// The live channel came back on a new socket.
    pub fn reconnected(&mut self, now: Now) {
        self.online = true;
        self.input(now, Input::Live(LiveInput::Connected));
    }

    /// The peer connection of the current call reached `state`.
    pub fn peer_state(&mut self, now: Now, state: PeerState) {
        let Some(call_id) = self.call_id() else {
            return;
        };
        let event = PeerEvent::State(state);
        self.input(now, Input::Peer { call_id, event });
    }

    /// Ticks if the machine asked for a wake-up at or before `now`.
    pub fn advance(&mut self, now: Now) {
        if self.machine.poll_timeout().is_some_and(|at| at <= now.at) {
            self.input(now, Input::Tick);
        }
    }

    pub fn call_id(&self) -> Option<String> {
        self.machine.current().map(|c| c.call_id.clone())
    }

    /// The last view published.
    pub fn view(&self) -> Option<&CallView> {
        self.published.last()
    }

    /// Frames sent since the last call.
    pub fn take_sent(&mut self) -> Vec<ClientFrame> {
        std::mem::take(&mut self.sent)
    }

    /// The last reply, if it was a view or an error.
    pub fn last_reply_view(&self) -> Option<&Result<CallView, CallError>> {
        match self.replies.last() {
            Some(Reply::View(result)) => Some(result),
            _ => None,
        }
    }

    /// Runs an input and what performing its outputs gives, as the engine
    /// does.
    pub fn input(&mut self, now: Now, input: Input) {
        let mut inputs = VecDeque::from([input]);
        while let Some(input) = inputs.pop_front() {
            for output in self.machine.handle(now, input) {
                if let Some(next) = self.perform(output) {
                    inputs.push_back(next);
                }
            }
        }
    }

    fn perform(&mut self, output: Output) -> Option<Input> {
        match output {
            Output::Send { frame, after } => {
                let result = if self.online {
                    self.sent.push(frame);
                    Ok(())
                } else {
                    Err(CallError::Offline)
                };
                after.map(|after| Input::Sent { after, result })
            }
            Output::Peer { call_id, action } => {
                self.peer_actions.push(action.clone());
                self.peer_done(action)
                    .map(|done| Input::PeerDone { call_id, done })
            }
            Output::Publish(view) => {
                self.published.push(view);
                None
            }
            Output::Reply(reply) => {
                self.replies.push(reply);
                None
            }
            Output::NewCall { .. } | Output::Muted(_) | Output::Camera(_) | Output::Ended(_) => {
                None
            }
        }
    }

    fn peer_done(&mut self, action: PeerAction) -> Option<PeerDone> {
        let made = |this: &mut Self, what: &str| match &this.peer.fail_with {
            Some(error) => Err(error.clone()),
            None => {
                this.has_connection = true;
                Ok(format!("{what} of {}", this.name))
            }
        };
        match action {
            PeerAction::CreateAndOffer => Some(PeerDone::Offered(made(self, "offer"))),
            PeerAction::Prepare { .. } => {
                Some(PeerDone::Prepared(made(self, "prepared").map(|_| ())))
            }
            PeerAction::Answer { .. } => Some(PeerDone::Answered(made(self, "answer"))),
            PeerAction::TakeAnswer { .. } => Some(PeerDone::AnswerTaken(Ok(()))),
            PeerAction::AnswerRenegotiation { .. } => Some(PeerDone::Renegotiated(Ok(format!(
                "renegotiation answer of {}",
                self.name
            )))),
            PeerAction::RestartIce => Some(PeerDone::RestartOffered(Ok(format!(
                "restart offer of {}",
                self.name
            )))),
            PeerAction::ReadStats => Some(PeerDone::Stats {
                snapshot: StatsSnapshot::default(),
                video_frames_decoded: self.video_frames_decoded,
            }),
            PeerAction::Close => {
                self.has_connection = false;
                None
            }
            PeerAction::AddCandidates(_)
            | PeerAction::TakeRenegotiationAnswer { .. }
            | PeerAction::StartAudio
            | PeerAction::StartVideo => None,
        }
    }
}

/// A simulated clock: a fixed start and how far it has gone.
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    start: Instant,
    elapsed: Duration,
}

impl Default for SimClock {
    fn default() -> Self {
        Self::new()
    }
}

impl SimClock {
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            elapsed: Duration::ZERO,
        }
    }

    pub fn now(&self) -> Now {
        Now {
            at: self.start + self.elapsed,
            // 2026-01-01T00:00:00Z, plus the time gone by.
            unix_ms: 1_767_225_600_000.0 + self.elapsed.as_secs_f64() * 1000.0,
        }
    }

    pub fn advance(&mut self, by: Duration) -> Now {
        self.elapsed += by;
        self.now()
    }

    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }
}
