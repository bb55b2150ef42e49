//! The call registry as a state machine without I/O: the calls in progress
//! and the rules of call signaling, as in str0m's `Rtc`. Everything it
//! needs comes in ([`Input`], with the time as [`Now`]) and everything it
//! decides goes out ([`Output`]): frames for sockets and users, call
//! records, and timers to be fed back. It reads no clock, sends nothing and
//! spawns nothing; [`super::Calls`] drives it on the server, and a test can
//! drive it on a clock of its own.
//!
//! A call rings on every device of the callee (`ringing`); the first device
//! to accept is bound to it (`connected`); it ends with an outcome
//! ([`CallOutcome`]). Frames about a call are accepted only from its
//! devices: the caller's socket, and while ringing any socket of the callee,
//! after that only the bound one. A bound socket that drops leaves the call
//! waiting [`CallSettings::resume_grace`] for a `callResume` from the same
//! user; if none comes the call ends as `failed`.
//!
//! Timers: the registry asks for them with [`Output::Wake`]; the driver
//! feeds [`Input::Timer`] back at (or after) that moment. A timer fed
//! early is asked for again, so it fires exactly at its moment, never
//! before.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use convene_proto::call::{
    Accept, CallError, CallErrorCode, CallOutcome, CallPhase, CallRef, CallRole, Ended, Incoming,
    Invite, MediaKind, Negotiation, State, CALL_PROTOCOL_VERSION,
};
use convene_proto::live::{ClientFrame, ServerFrame};
use uuid::Uuid;

use super::{media_names, raw_id, CallSettings, ORGID_PREFIX};
use crate::hub::SocketId;
use crate::store::CallRow;

/// Ended calls are remembered this long, so that a late `callResume` hears
/// how it ended.
const ENDED_MEMORY: Duration = Duration::from_secs(300);
/// Candidates the caller trickles before an answer, kept for the device
/// that answers; more than this are dropped.
const PENDING_CANDIDATES: usize = 200;

/// The socket of a device that has not come back since the server
/// restarted (real socket ids start at 1).
pub const AWAY: SocketId = 0;

/// The moment an input happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Monotonic: timers and how long ended calls are remembered.
    pub at: Instant,
    /// The wall clock: the records' `started_ms`, `answered_ms`, `ended_ms`.
    pub wall: SystemTime,
}

impl Now {
    /// The system's clocks. ([`super::Calls`] takes `at` from tokio's
    /// clock instead, so that its timers and tokio's sleeps agree when a
    /// test pauses tokio's time.)
    pub fn system() -> Self {
        Self {
            at: Instant::now(),
            wall: SystemTime::now(),
        }
    }
}

/// A timer the registry asked for with [`Output::Wake`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
    /// The call has rung for the ring timeout: unless answered, it ends as
    /// `noAnswer`.
    RingTimeout(Uuid),
    /// The grace of `socket`, a bound device of `call` that dropped, is
    /// over: unless it resumed, the call ends as `failed`.
    ResumeGrace { call: Uuid, socket: SocketId },
}

/// What happens to the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A call frame from `user`'s socket `socket`. `caller` says who they
    /// are, for an invite; `callee_online` whether the invited user has a
    /// connected socket (only the hub knows; used for invites only).
    Frame {
        user: Uuid,
        socket: SocketId,
        caller: Caller,
        callee_online: bool,
        frame: ClientFrame,
    },
    /// A device of `user` connected (after its `hello`).
    SocketOpened { user: Uuid, socket: SocketId },
    /// A socket closed.
    SocketClosed { socket: SocketId },
    /// A timer asked for with [`Output::Wake`] is due.
    Timer(Timer),
    /// The calls that were open when the server stopped (their records have
    /// no end), at start-up: answered ones wait the resume grace for their
    /// devices, unanswered ones are recorded as failed.
    Restore(Vec<CallRow>),
}

/// What the registry decided, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// To one socket.
    ToSocket(SocketId, ServerFrame),
    /// To every connected device of `users` but `except`.
    ToUsers {
        users: Vec<Uuid>,
        frame: ServerFrame,
        except: Option<SocketId>,
    },
    /// A call record to store (the start, the answer and the end of a call
    /// must be written in the order they come out).
    Record(CallRow),
    /// Feed [`Input::Timer`] with `timer` at `at`.
    Wake { at: Instant, timer: Timer },
}

/// Who places a call, as the live channel knows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// For the callee's `callIncoming`.
    pub name: Option<String>,
    /// The people of the caller's organisation (tenant): only they can be
    /// called.
    pub colleagues: Vec<Uuid>,
}

/// The callee of an invite: `8:orgid:{oid}`.
pub fn callee_of(invite: &Invite) -> Option<Uuid> {
    invite
        .callee
        .strip_prefix(ORGID_PREFIX)
        .and_then(|oid| Uuid::try_parse(oid).ok())
}

fn parse_media(names: &str) -> Vec<MediaKind> {
    names
        .split(',')
        .filter_map(|name| match name {
            "audio" => Some(MediaKind::Audio),
            "video" => Some(MediaKind::Video),
            _ => None,
        })
        .collect()
}

fn ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn error(call_id: Option<&str>, code: CallErrorCode, message: &str) -> ServerFrame {
    ServerFrame::CallError(CallError {
        call_id: call_id.map(str::to_owned),
        code,
        message: message.to_owned(),
    })
}

fn call_ref(call_id: Uuid) -> CallRef {
    CallRef {
        call_id: call_id.to_string(),
    }
}

fn ended(call_id: Uuid, outcome: CallOutcome) -> ServerFrame {
    ServerFrame::CallEnded(Ended {
        call_id: call_id.to_string(),
        outcome,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Ringing,
    Connected,
}

#[derive(Debug)]
struct Call {
    caller: Uuid,
    callee: Uuid,
    caller_socket: SocketId,
    /// The callee's device, once one accepted.
    callee_socket: Option<SocketId>,
    phase: Phase,
    media: Vec<MediaKind>,
    started: SystemTime,
    answered: Option<SystemTime>,
    /// When it stops ringing unanswered (None for a restored call).
    rings_until: Option<Instant>,
    /// Bound sockets that dropped, and when their grace is over.
    graces: Vec<(SocketId, Instant)>,
    told_ringing: bool,
    /// The caller's candidates before an answer.
    pending: Vec<ServerFrame>,
    /// What the callee's devices are told while it rings (kept for a
    /// device that connects meanwhile).
    incoming: Option<ServerFrame>,
}

impl Call {
    fn record(&self, id: Uuid, ended: Option<(SystemTime, CallOutcome)>) -> Output {
        Output::Record(CallRow {
            id,
            caller: self.caller,
            callee: self.callee,
            media: media_names(&self.media),
            started_ms: ms(self.started),
            answered_ms: self.answered.map(ms),
            ended_ms: ended.map(|(at, _)| ms(at)),
            outcome: ended.map(|(_, outcome)| outcome.as_str().to_owned()),
        })
    }
}

#[derive(Debug)]
struct EndedCall {
    caller: Uuid,
    callee: Uuid,
    outcome: CallOutcome,
    at: Instant,
}

/// Which side a frame's sender is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Caller,
    /// A callee device; bound or (while ringing) not yet.
    Callee,
}

enum Action {
    Ringing,
    Accept(Accept),
    Decline,
    Hangup,
    Relay(ServerFrame),
}

impl Action {
    fn name(&self) -> &'static str {
        match self {
            Action::Ringing => "callRinging",
            Action::Accept(_) => "callAccept",
            Action::Decline => "callDecline",
            Action::Hangup => "callHangup",
            Action::Relay(ServerFrame::CallCandidate(_)) => "callCandidate",
            Action::Relay(ServerFrame::CallOffer(_)) => "callOffer",
            Action::Relay(_) => "callAnswer",
        }
    }
}

/// The calls in progress, and those that ended lately.
///
/// Calls live in memory (one server); their records come out as
/// [`Output::Record`], to be stored in order.
#[derive(Debug)]
pub struct Registry {
    ring_timeout: Duration,
    resume_grace: Duration,
    calls: HashMap<Uuid, Call>,
    ended: HashMap<Uuid, EndedCall>,
}

impl Registry {
    /// Takes the ring timeout and the resume grace of `settings`.
    pub fn new(settings: &CallSettings) -> Self {
        Self {
            ring_timeout: settings.ring_timeout,
            resume_grace: settings.resume_grace,
            calls: HashMap::new(),
            ended: HashMap::new(),
        }
    }

    /// Handles one input at `now`; what to do about it, in order.
    pub fn handle(&mut self, now: Now, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        match input {
            Input::Frame {
                user,
                socket,
                caller,
                callee_online,
                frame,
            } => self.received(now, user, socket, caller, callee_online, frame, &mut out),
            Input::SocketOpened { user, socket } => self.socket_opened(user, socket, &mut out),
            Input::SocketClosed { socket } => self.socket_closed(now, socket, &mut out),
            Input::Timer(Timer::RingTimeout(id)) => self.ring_timeout(now, id, &mut out),
            Input::Timer(Timer::ResumeGrace { call, socket }) => {
                self.grace_over(now, call, socket, &mut out)
            }
            Input::Restore(open) => self.restore(now, open, &mut out),
        }
        out
    }

    /// Takes back the calls that were open when the server stopped (their
    /// records have no end). Connected calls wait, as after a dropped
    /// socket, for both devices to resume: their media never needed the
    /// server. Calls that were still ringing cannot be picked up again and
    /// end as failed.
    fn restore(&mut self, now: Now, open: Vec<CallRow>, out: &mut Vec<Output>) {
        let mut restored = Vec::new();
        for row in open {
            let call = Call {
                caller: row.caller,
                callee: row.callee,
                caller_socket: AWAY,
                callee_socket: row.answered_ms.map(|_| AWAY),
                phase: Phase::Connected,
                media: parse_media(&row.media),
                started: UNIX_EPOCH + Duration::from_millis(row.started_ms.max(0) as u64),
                answered: row
                    .answered_ms
                    .map(|at| UNIX_EPOCH + Duration::from_millis(at.max(0) as u64)),
                rings_until: None,
                graces: Vec::new(),
                told_ringing: true,
                pending: Vec::new(),
                incoming: None,
            };
            if call.answered.is_none() {
                out.push(call.record(row.id, Some((now.wall, CallOutcome::Failed))));
                continue;
            }
            tracing::info!(call = %row.id, "call restored; waiting for its devices to resume");
            self.calls.insert(row.id, call);
            restored.push(row.id);
        }
        for id in restored {
            self.wait_for_resume(now, id, AWAY, out);
        }
    }

    /// Removes the call, records its end and remembers its outcome.
    fn finish(
        &mut self,
        now: Now,
        id: Uuid,
        outcome: CallOutcome,
        out: &mut Vec<Output>,
    ) -> Option<Call> {
        let call = self.calls.remove(&id)?;
        out.push(call.record(id, Some((now.wall, outcome))));
        self.ended
            .retain(|_, e| now.at.duration_since(e.at) < ENDED_MEMORY);
        self.ended.insert(
            id,
            EndedCall {
                caller: call.caller,
                callee: call.callee,
                outcome,
                at: now.at,
            },
        );
        tracing::info!(call = %id, outcome = outcome.as_str(), "call ended");
        Some(call)
    }

    /// A call frame from `user`'s socket `socket`.
    #[allow(clippy::too_many_arguments)]
    fn received(
        &mut self,
        now: Now,
        user: Uuid,
        socket: SocketId,
        caller: Caller,
        callee_online: bool,
        frame: ClientFrame,
        out: &mut Vec<Output>,
    ) {
        let (raw, action) = match frame {
            ClientFrame::CallInvite(invite) => {
                return self.invite(now, user, socket, caller, callee_online, invite, out)
            }
            ClientFrame::CallResume(r) => return self.resume(user, socket, &r.call_id, out),
            ClientFrame::CallRinging(r) => (r.call_id, Action::Ringing),
            ClientFrame::CallAccept(a) => (a.call_id.clone(), Action::Accept(a)),
            ClientFrame::CallDecline(r) => (r.call_id, Action::Decline),
            ClientFrame::CallCancel(r) | ClientFrame::CallHangup(r) => (r.call_id, Action::Hangup),
            ClientFrame::CallCandidate(c) => (
                c.call_id.clone(),
                Action::Relay(ServerFrame::CallCandidate(c)),
            ),
            ClientFrame::CallOffer(n) => {
                (n.call_id.clone(), Action::Relay(ServerFrame::CallOffer(n)))
            }
            ClientFrame::CallAnswer(n) => {
                (n.call_id.clone(), Action::Relay(ServerFrame::CallAnswer(n)))
            }
            ClientFrame::Typing { .. } | ClientFrame::Unknown => return,
        };
        self.on_call(now, user, socket, &raw, action, out);
    }

    #[allow(clippy::too_many_arguments)]
    fn invite(
        &mut self,
        now: Now,
        user: Uuid,
        socket: SocketId,
        caller: Caller,
        callee_online: bool,
        invite: Invite,
        out: &mut Vec<Output>,
    ) {
        let raw = invite.call_id.as_str();
        let mut refuse = |code, message: &str| {
            out.push(Output::ToSocket(socket, error(Some(raw), code, message)))
        };
        if invite.version != CALL_PROTOCOL_VERSION {
            let message = format!("this server speaks call protocol {CALL_PROTOCOL_VERSION}");
            return refuse(CallErrorCode::UnsupportedVersion, &message);
        }
        let Ok(id) = Uuid::try_parse(raw) else {
            return refuse(CallErrorCode::BadRequest, "callId must be a UUID");
        };
        let Some(callee) = callee_of(&invite) else {
            return refuse(CallErrorCode::BadRequest, "callee must be 8:orgid:{oid}");
        };
        let media: Vec<MediaKind> = invite
            .media
            .iter()
            .copied()
            .filter(|m| *m != MediaKind::Unknown)
            .collect();
        if media.is_empty() || callee == user {
            let message = if callee == user {
                "a user cannot call themselves"
            } else {
                "media must name audio and/or video"
            };
            return refuse(CallErrorCode::BadRequest, message);
        }
        if self.calls.contains_key(&id) || self.ended.contains_key(&id) {
            return refuse(CallErrorCode::CallIdInUse, "that callId is taken");
        }
        let incoming = ServerFrame::CallIncoming(Incoming {
            version: CALL_PROTOCOL_VERSION,
            call_id: id.to_string(),
            caller: raw_id(user),
            caller_name: caller.name,
            media: media.clone(),
            sdp: invite.sdp,
        });
        let rings_until = now.at + self.ring_timeout;
        let call = Call {
            caller: user,
            callee,
            caller_socket: socket,
            callee_socket: None,
            phase: Phase::Ringing,
            media,
            started: now.wall,
            answered: None,
            rings_until: Some(rings_until),
            graces: Vec::new(),
            told_ringing: false,
            pending: Vec::new(),
            incoming: Some(incoming.clone()),
        };
        let busy = self
            .calls
            .values()
            .any(|c| c.caller == callee || c.callee == callee);
        // Someone outside the caller's organisation is as unreachable as
        // someone signed out: the caller learns nothing about them.
        let outcome = if !caller.colleagues.contains(&callee) || !callee_online {
            Some(CallOutcome::Unavailable)
        } else if busy {
            Some(CallOutcome::Busy)
        } else {
            None
        };
        tracing::info!(call = %id, caller = %user, %callee, "call invited");
        if let Some(outcome) = outcome {
            // Recorded (as started and ended at once) and remembered, so
            // that its id stays taken.
            self.calls.insert(id, call);
            self.finish(now, id, outcome, out);
            out.push(Output::ToSocket(socket, ended(id, outcome)));
            return;
        }
        out.push(call.record(id, None));
        self.calls.insert(id, call);
        out.push(Output::ToUsers {
            users: vec![callee],
            frame: incoming,
            except: None,
        });
        out.push(Output::Wake {
            at: rings_until,
            timer: Timer::RingTimeout(id),
        });
    }

    fn ring_timeout(&mut self, now: Now, id: Uuid, out: &mut Vec<Output>) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if call.phase != Phase::Ringing {
            return;
        }
        if let Some(until) = call.rings_until.filter(|until| now.at < *until) {
            return out.push(Output::Wake {
                at: until,
                timer: Timer::RingTimeout(id),
            });
        }
        if let Some(call) = self.finish(now, id, CallOutcome::NoAnswer, out) {
            let frame = ended(id, CallOutcome::NoAnswer);
            out.push(Output::ToSocket(call.caller_socket, frame.clone()));
            out.push(Output::ToUsers {
                users: vec![call.callee],
                frame,
                except: None,
            });
        }
    }

    fn resume(&mut self, user: Uuid, socket: SocketId, raw: &str, out: &mut Vec<Output>) {
        let not_in_call = || {
            Output::ToSocket(
                socket,
                error(Some(raw), CallErrorCode::NotInCall, "no such call of yours"),
            )
        };
        let Ok(id) = Uuid::try_parse(raw) else {
            return out.push(not_in_call());
        };
        if let Some(e) = self.ended.get(&id) {
            if e.caller == user || e.callee == user {
                let (role, peer) = if e.caller == user {
                    (CallRole::Caller, e.callee)
                } else {
                    (CallRole::Callee, e.caller)
                };
                let state = State {
                    call_id: raw.to_owned(),
                    state: CallPhase::Ended,
                    role: Some(role),
                    peer: Some(raw_id(peer)),
                    media: Vec::new(),
                    outcome: Some(e.outcome),
                };
                return out.push(Output::ToSocket(socket, ServerFrame::CallState(state)));
            }
        }
        let Some(call) = self.calls.get_mut(&id) else {
            return out.push(not_in_call());
        };
        let role = if call.caller == user {
            call.caller_socket = socket;
            CallRole::Caller
        } else if call.callee == user {
            if call.phase == Phase::Connected {
                call.callee_socket = Some(socket);
            }
            CallRole::Callee
        } else {
            return out.push(not_in_call());
        };
        let state = State {
            call_id: raw.to_owned(),
            state: match call.phase {
                Phase::Ringing => CallPhase::Ringing,
                Phase::Connected => CallPhase::Connected,
            },
            role: Some(role),
            peer: Some(raw_id(if role == CallRole::Caller {
                call.callee
            } else {
                call.caller
            })),
            media: call.media.clone(),
            outcome: None,
        };
        tracing::info!(call = %id, %user, socket, "call resumed");
        out.push(Output::ToSocket(socket, ServerFrame::CallState(state)));
    }

    fn on_call(
        &mut self,
        now: Now,
        user: Uuid,
        socket: SocketId,
        raw: &str,
        action: Action,
        out: &mut Vec<Output>,
    ) {
        let refuse =
            |code, message: &str| Output::ToSocket(socket, error(Some(raw), code, message));
        let Ok(id) = Uuid::try_parse(raw) else {
            return out.push(refuse(CallErrorCode::NotInCall, "no such call of yours"));
        };
        let Some(call) = self.calls.get_mut(&id) else {
            return out.push(refuse(CallErrorCode::NotInCall, "no such call of yours"));
        };
        let side = if call.caller == user && call.caller_socket == socket {
            Side::Caller
        } else if call.callee == user
            && (call.callee_socket == Some(socket) || call.phase == Phase::Ringing)
        {
            Side::Callee
        } else {
            return out.push(refuse(CallErrorCode::NotInCall, "no such call of yours"));
        };
        match (action, side, call.phase) {
            (Action::Ringing, Side::Callee, Phase::Ringing) => {
                if !std::mem::replace(&mut call.told_ringing, true) {
                    out.push(Output::ToSocket(
                        call.caller_socket,
                        ServerFrame::CallRinging(call_ref(id)),
                    ));
                }
            }
            (Action::Accept(accept), Side::Callee, Phase::Ringing) => {
                call.phase = Phase::Connected;
                call.callee_socket = Some(socket);
                call.answered = Some(now.wall);
                if let Some(media) = &accept.media {
                    call.media = media.clone();
                }
                let pending = std::mem::take(&mut call.pending);
                out.push(call.record(id, None));
                tracing::info!(call = %id, socket, "call answered");
                out.push(Output::ToSocket(
                    call.caller_socket,
                    ServerFrame::CallAccepted(accept),
                ));
                out.push(Output::ToUsers {
                    users: vec![call.callee],
                    frame: ServerFrame::CallAnsweredElsewhere(call_ref(id)),
                    except: Some(socket),
                });
                out.extend(
                    pending
                        .into_iter()
                        .map(|frame| Output::ToSocket(socket, frame)),
                );
            }
            (Action::Decline, Side::Callee, Phase::Ringing)
            | (Action::Hangup, Side::Callee, Phase::Ringing) => {
                if let Some(call) = self.finish(now, id, CallOutcome::Declined, out) {
                    out.push(Output::ToSocket(
                        call.caller_socket,
                        ended(id, CallOutcome::Declined),
                    ));
                    out.push(Output::ToUsers {
                        users: vec![call.callee],
                        frame: ServerFrame::CallDeclinedElsewhere(call_ref(id)),
                        except: Some(socket),
                    });
                }
            }
            (Action::Hangup, Side::Caller, Phase::Ringing) => {
                if let Some(call) = self.finish(now, id, CallOutcome::Cancelled, out) {
                    out.push(Output::ToUsers {
                        users: vec![call.callee],
                        frame: ended(id, CallOutcome::Cancelled),
                        except: None,
                    });
                }
            }
            (Action::Hangup, side, Phase::Connected)
            | (Action::Decline, side, Phase::Connected) => {
                if let Some(call) = self.finish(now, id, CallOutcome::HungUp, out) {
                    let other = match side {
                        Side::Caller => call.callee_socket,
                        Side::Callee => Some(call.caller_socket),
                    };
                    if let Some(other) = other {
                        out.push(Output::ToSocket(other, ended(id, CallOutcome::HungUp)));
                    }
                }
            }
            (Action::Relay(frame), Side::Caller, Phase::Ringing) => {
                // Only candidates make sense before an answer: kept for the
                // device that answers.
                if matches!(frame, ServerFrame::CallCandidate(_)) {
                    if call.pending.len() < PENDING_CANDIDATES {
                        call.pending.push(frame);
                    }
                } else {
                    out.push(refuse(
                        CallErrorCode::WrongState,
                        "the call is not answered yet",
                    ));
                }
            }
            (Action::Relay(frame), side, Phase::Connected) => {
                let other = match side {
                    Side::Caller => call.callee_socket,
                    Side::Callee => Some(call.caller_socket),
                };
                if let ServerFrame::CallOffer(Negotiation { media: Some(m), .. }) = &frame {
                    call.media = m.clone();
                }
                if let Some(other) = other {
                    out.push(Output::ToSocket(other, frame));
                }
            }
            (action, _, _) => {
                let message = format!("{} does not fit the call's state", action.name());
                out.push(refuse(CallErrorCode::WrongState, &message));
            }
        }
    }

    /// A device of `user` connected: if a call to them is ringing, it rings
    /// there too.
    fn socket_opened(&self, user: Uuid, socket: SocketId, out: &mut Vec<Output>) {
        out.extend(
            self.calls
                .values()
                .filter(|c| c.callee == user && c.phase == Phase::Ringing)
                .filter_map(|c| c.incoming.clone())
                .map(|frame| Output::ToSocket(socket, frame)),
        );
    }

    /// A socket closed: calls bound to it wait for a resume, then fail.
    fn socket_closed(&mut self, now: Now, socket: SocketId, out: &mut Vec<Output>) {
        let bound: Vec<Uuid> = self
            .calls
            .iter()
            .filter(|(_, c)| c.caller_socket == socket || c.callee_socket == Some(socket))
            .map(|(id, _)| *id)
            .collect();
        for id in bound {
            tracing::info!(call = %id, socket, "call: a device dropped; waiting for it to resume");
            self.wait_for_resume(now, id, socket, out);
        }
    }

    /// Starts the resume grace of `socket`, a bound device of call `id`.
    fn wait_for_resume(&mut self, now: Now, id: Uuid, socket: SocketId, out: &mut Vec<Output>) {
        let at = now.at + self.resume_grace;
        if let Some(call) = self.calls.get_mut(&id) {
            call.graces.push((socket, at));
        }
        out.push(Output::Wake {
            at,
            timer: Timer::ResumeGrace { call: id, socket },
        });
    }

    fn grace_over(&mut self, now: Now, id: Uuid, socket: SocketId, out: &mut Vec<Output>) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        // Every grace is registered when it starts: a timer without one is
        // left from an earlier call that had the same id.
        let Some(at) = call.graces.iter().position(|(s, _)| *s == socket) else {
            return;
        };
        let until = call.graces[at].1;
        if now.at < until {
            return out.push(Output::Wake {
                at: until,
                timer: Timer::ResumeGrace { call: id, socket },
            });
        }
        call.graces.remove(at);
        let other = if call.caller_socket == socket {
            None // the callee side is told below
        } else if call.callee_socket == Some(socket) {
            Some(call.caller_socket)
        } else {
            return; // resumed on another socket
        };
        if let Some(call) = self.finish(now, id, CallOutcome::Failed, out) {
            let frame = ended(id, CallOutcome::Failed);
            out.push(match other {
                Some(caller) => Output::ToSocket(caller, frame),
                None => match call.callee_socket {
                    Some(callee) => Output::ToSocket(callee, frame),
                    None => Output::ToUsers {
                        users: vec![call.callee],
                        frame,
                        except: None,
                    },
                },
            });
        }
    }
}

#[cfg(test)]
mod tests;
