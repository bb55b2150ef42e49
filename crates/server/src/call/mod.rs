//! Call signaling: the registry of calls in progress, their state machine,
//! relaying between the two bound devices, and call records.
//!
//! A call rings on every device of the callee (`ringing`); the first device
//! to accept is bound to it (`connected`); it ends with an outcome
//! ([`CallOutcome`]). Frames about a call are accepted only from its
//! devices: the caller's socket, and while ringing any socket of the callee,
//! after that only the bound one. A bound socket that drops leaves the call
//! waiting [`CallSettings::resume_grace`] for a `callResume` from the same
//! user; if none comes the call ends as `failed`.
//!
//! Calls live in memory (one server); their records go to the store through
//! one writer task, so that the start, answer and end of a call are written
//! in order.

pub mod api;
pub mod ice;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use convene_proto::call::{
    Accept, CallError, CallErrorCode, CallOutcome, CallPhase, CallRef, CallRole, Ended, Incoming,
    Invite, MediaKind, Negotiation, State, CALL_PROTOCOL_VERSION,
};
use convene_proto::live::{ClientFrame, ServerFrame};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::live::hub::{Hub, SocketId};
use crate::store::{CallRow, Store};

/// How long a call rings before it ends as `noAnswer`, unless configured.
pub const DEFAULT_RING_TIMEOUT: Duration = Duration::from_secs(45);
/// How long a dropped device has to resume, unless configured.
pub const DEFAULT_RESUME_GRACE: Duration = Duration::from_secs(30);
/// Ended calls are remembered this long, so that a late `callResume` hears
/// how it ended.
const ENDED_MEMORY: Duration = Duration::from_secs(300);
/// Candidates the caller trickles before an answer, kept for the device
/// that answers; more than this are dropped.
const PENDING_CANDIDATES: usize = 200;

/// The `8:orgid:` prefix of a Teams user's raw id.
pub const ORGID_PREFIX: &str = "8:orgid:";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSettings {
    pub ring_timeout: Duration,
    pub resume_grace: Duration,
    pub ice: ice::IceConfig,
}

impl Default for CallSettings {
    fn default() -> Self {
        Self {
            ring_timeout: DEFAULT_RING_TIMEOUT,
            resume_grace: DEFAULT_RESUME_GRACE,
            ice: ice::IceConfig::default(),
        }
    }
}

/// The socket of a device that has not come back since the server
/// restarted (real socket ids start at 1).
const AWAY: SocketId = 0;

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

pub fn raw_id(oid: Uuid) -> String {
    format!("{ORGID_PREFIX}{oid}")
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
    told_ringing: bool,
    /// The caller's candidates before an answer.
    pending: Vec<ServerFrame>,
    /// What the callee's devices are told while it rings (kept for a
    /// device that connects meanwhile).
    incoming: Option<ServerFrame>,
}

#[derive(Debug)]
struct EndedCall {
    caller: Uuid,
    callee: Uuid,
    outcome: CallOutcome,
    at: tokio::time::Instant,
}

#[derive(Debug, Default)]
struct Inner {
    calls: HashMap<Uuid, Call>,
    ended: HashMap<Uuid, EndedCall>,
}

/// Who places a call, as the live channel knows them.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// For the callee's `callIncoming`.
    pub name: Option<String>,
    /// The people of the caller's organisation (tenant): only they can be
    /// called.
    pub colleagues: Vec<Uuid>,
}

/// The call registry.
#[derive(Debug)]
pub struct Calls {
    hub: Arc<dyn Hub>,
    settings: CallSettings,
    inner: Mutex<Inner>,
    records: mpsc::UnboundedSender<CallRow>,
}

fn ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn media_names(media: &[MediaKind]) -> String {
    media
        .iter()
        .filter_map(|m| match m {
            MediaKind::Audio => Some("audio"),
            MediaKind::Video => Some("video"),
            MediaKind::Unknown => None,
        })
        .collect::<Vec<_>>()
        .join(",")
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

/// Which side a frame's sender is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Caller,
    /// A callee device; bound or (while ringing) not yet.
    Callee,
}

impl Calls {
    /// Starts the record writer; needs a tokio runtime.
    pub fn new(hub: Arc<dyn Hub>, store: Store, settings: CallSettings) -> Arc<Self> {
        let (records, mut queue) = mpsc::unbounded_channel::<CallRow>();
        tokio::spawn(async move {
            while let Some(row) = queue.recv().await {
                if let Err(error) = store.upsert_call(row).await {
                    tracing::warn!(%error, "calls: cannot store a call record");
                }
            }
        });
        Arc::new(Self {
            hub,
            settings,
            inner: Mutex::new(Inner::default()),
            records,
        })
    }

    /// Takes back the calls that were open when the server stopped (their
    /// records have no end). Connected calls wait, as after a dropped
    /// socket, for both devices to resume: their media never needed the
    /// server. Calls that were still ringing cannot be picked up again and
    /// end as failed.
    pub fn restore(self: &Arc<Self>, open: Vec<CallRow>) {
        let now = SystemTime::now();
        let mut restored = Vec::new();
        let mut inner = self.inner();
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
                told_ringing: true,
                pending: Vec::new(),
                incoming: None,
            };
            if call.answered.is_none() {
                self.record(row.id, &call, Some((now, CallOutcome::Failed)));
                continue;
            }
            tracing::info!(call = %row.id, "call restored; waiting for its devices to resume");
            inner.calls.insert(row.id, call);
            restored.push(row.id);
        }
        drop(inner);
        for id in restored {
            let calls = Arc::clone(self);
            let grace = self.settings.resume_grace;
            tokio::spawn(async move {
                tokio::time::sleep(grace).await;
                calls.grace_over(id, AWAY);
            });
        }
    }

    pub fn settings(&self) -> &CallSettings {
        &self.settings
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn record(&self, id: Uuid, call: &Call, ended: Option<(SystemTime, CallOutcome)>) {
        let _ = self.records.send(CallRow {
            id,
            caller: call.caller,
            callee: call.callee,
            media: media_names(&call.media),
            started_ms: ms(call.started),
            answered_ms: call.answered.map(ms),
            ended_ms: ended.map(|(at, _)| ms(at)),
            outcome: ended.map(|(_, outcome)| outcome.as_str().to_owned()),
        });
    }

    /// Removes the call, records its end and remembers its outcome.
    fn finish(&self, inner: &mut Inner, id: Uuid, outcome: CallOutcome) -> Option<Call> {
        let call = inner.calls.remove(&id)?;
        self.record(id, &call, Some((SystemTime::now(), outcome)));
        let now = tokio::time::Instant::now();
        inner
            .ended
            .retain(|_, e| now.duration_since(e.at) < ENDED_MEMORY);
        inner.ended.insert(
            id,
            EndedCall {
                caller: call.caller,
                callee: call.callee,
                outcome,
                at: now,
            },
        );
        tracing::info!(call = %id, outcome = outcome.as_str(), "call ended");
        Some(call)
    }

    fn to_socket(&self, socket: SocketId, frame: ServerFrame) {
        self.hub.send_to_socket(socket, &frame);
    }

    /// Handles a call frame from `user`'s socket `socket`. `caller` says
    /// who they are, for an invite.
    pub fn received(
        self: &Arc<Self>,
        user: Uuid,
        socket: SocketId,
        caller: Caller,
        frame: ClientFrame,
    ) {
        match frame {
            ClientFrame::CallInvite(invite) => self.invite(user, socket, caller, invite),
            ClientFrame::CallResume(r) => self.resume(user, socket, &r.call_id),
            ClientFrame::CallRinging(r) => self.on_call(user, socket, &r.call_id, Action::Ringing),
            ClientFrame::CallAccept(a) => {
                let id = a.call_id.clone();
                self.on_call(user, socket, &id, Action::Accept(a))
            }
            ClientFrame::CallDecline(r) => self.on_call(user, socket, &r.call_id, Action::Decline),
            ClientFrame::CallCancel(r) => self.on_call(user, socket, &r.call_id, Action::Hangup),
            ClientFrame::CallHangup(r) => self.on_call(user, socket, &r.call_id, Action::Hangup),
            ClientFrame::CallCandidate(c) => {
                let id = c.call_id.clone();
                self.on_call(
                    user,
                    socket,
                    &id,
                    Action::Relay(ServerFrame::CallCandidate(c)),
                )
            }
            ClientFrame::CallOffer(n) => {
                let id = n.call_id.clone();
                self.on_call(user, socket, &id, Action::Relay(ServerFrame::CallOffer(n)))
            }
            ClientFrame::CallAnswer(n) => {
                let id = n.call_id.clone();
                self.on_call(user, socket, &id, Action::Relay(ServerFrame::CallAnswer(n)))
            }
            ClientFrame::Typing { .. } | ClientFrame::Unknown => {}
        }
    }

    fn invite(self: &Arc<Self>, user: Uuid, socket: SocketId, caller: Caller, invite: Invite) {
        let raw = invite.call_id.as_str();
        if invite.version != CALL_PROTOCOL_VERSION {
            let message = format!("this server speaks call protocol {CALL_PROTOCOL_VERSION}");
            return self.to_socket(
                socket,
                error(Some(raw), CallErrorCode::UnsupportedVersion, &message),
            );
        }
        let Ok(id) = Uuid::try_parse(raw) else {
            return self.to_socket(
                socket,
                error(
                    Some(raw),
                    CallErrorCode::BadRequest,
                    "callId must be a UUID",
                ),
            );
        };
        let callee = invite
            .callee
            .strip_prefix(ORGID_PREFIX)
            .and_then(|oid| Uuid::try_parse(oid).ok());
        let Some(callee) = callee else {
            return self.to_socket(
                socket,
                error(
                    Some(raw),
                    CallErrorCode::BadRequest,
                    "callee must be 8:orgid:{oid}",
                ),
            );
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
            return self.to_socket(socket, error(Some(raw), CallErrorCode::BadRequest, message));
        }
        let mut inner = self.inner();
        if inner.calls.contains_key(&id) || inner.ended.contains_key(&id) {
            drop(inner);
            return self.to_socket(
                socket,
                error(
                    Some(raw),
                    CallErrorCode::CallIdInUse,
                    "that callId is taken",
                ),
            );
        }
        let incoming = ServerFrame::CallIncoming(Incoming {
            version: CALL_PROTOCOL_VERSION,
            call_id: id.to_string(),
            caller: raw_id(user),
            caller_name: caller.name,
            media: media.clone(),
            sdp: invite.sdp,
        });
        let call = Call {
            caller: user,
            callee,
            caller_socket: socket,
            callee_socket: None,
            phase: Phase::Ringing,
            media,
            started: SystemTime::now(),
            answered: None,
            told_ringing: false,
            pending: Vec::new(),
            incoming: Some(incoming.clone()),
        };
        let busy = inner
            .calls
            .values()
            .any(|c| c.caller == callee || c.callee == callee);
        // Someone outside the caller's organisation is as unreachable as
        // someone signed out: the caller learns nothing about them.
        let outcome = if !caller.colleagues.contains(&callee) || !self.hub.is_connected(callee) {
            Some(CallOutcome::Unavailable)
        } else if busy {
            Some(CallOutcome::Busy)
        } else {
            None
        };
        tracing::info!(call = %id, caller = %user, %callee, "call invited");
        inner.calls.insert(id, call);
        if let Some(outcome) = outcome {
            self.finish(&mut inner, id, outcome);
            drop(inner);
            return self.to_socket(socket, ended(id, outcome));
        }
        if let Some(call) = inner.calls.get(&id) {
            self.record(id, call, None);
        }
        drop(inner);
        self.hub.send_to_users(&[callee], &incoming, None);
        let calls = Arc::clone(self);
        let timeout = self.settings.ring_timeout;
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            calls.ring_timeout(id);
        });
    }

    fn ring_timeout(&self, id: Uuid) {
        let mut inner = self.inner();
        if inner.calls.get(&id).map(|c| c.phase) != Some(Phase::Ringing) {
            return;
        }
        if let Some(call) = self.finish(&mut inner, id, CallOutcome::NoAnswer) {
            drop(inner);
            let frame = ended(id, CallOutcome::NoAnswer);
            self.to_socket(call.caller_socket, frame.clone());
            self.hub.send_to_users(&[call.callee], &frame, None);
        }
    }

    fn resume(&self, user: Uuid, socket: SocketId, raw: &str) {
        let not_in_call = || error(Some(raw), CallErrorCode::NotInCall, "no such call of yours");
        let Ok(id) = Uuid::try_parse(raw) else {
            return self.to_socket(socket, not_in_call());
        };
        let mut inner = self.inner();
        if let Some(e) = inner.ended.get(&id) {
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
                drop(inner);
                return self.to_socket(socket, ServerFrame::CallState(state));
            }
        }
        let Some(call) = inner.calls.get_mut(&id) else {
            drop(inner);
            return self.to_socket(socket, not_in_call());
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
            drop(inner);
            return self.to_socket(socket, not_in_call());
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
        drop(inner);
        self.to_socket(socket, ServerFrame::CallState(state));
    }

    fn on_call(&self, user: Uuid, socket: SocketId, raw: &str, action: Action) {
        let refuse = |code, message: &str| self.to_socket(socket, error(Some(raw), code, message));
        let Ok(id) = Uuid::try_parse(raw) else {
            return refuse(CallErrorCode::NotInCall, "no such call of yours");
        };
        let mut inner = self.inner();
        let Some(call) = inner.calls.get_mut(&id) else {
            drop(inner);
            return refuse(CallErrorCode::NotInCall, "no such call of yours");
        };
        let side = if call.caller == user && call.caller_socket == socket {
            Side::Caller
        } else if call.callee == user
            && (call.callee_socket == Some(socket) || call.phase == Phase::Ringing)
        {
            Side::Callee
        } else {
            drop(inner);
            return refuse(CallErrorCode::NotInCall, "no such call of yours");
        };
        match (action, side, call.phase) {
            (Action::Ringing, Side::Callee, Phase::Ringing) => {
                if !std::mem::replace(&mut call.told_ringing, true) {
                    let caller = call.caller_socket;
                    drop(inner);
                    self.to_socket(caller, ServerFrame::CallRinging(call_ref(id)));
                }
            }
            (Action::Accept(accept), Side::Callee, Phase::Ringing) => {
                call.phase = Phase::Connected;
                call.callee_socket = Some(socket);
                call.answered = Some(SystemTime::now());
                if let Some(media) = &accept.media {
                    call.media = media.clone();
                }
                let pending = std::mem::take(&mut call.pending);
                let (caller_socket, callee) = (call.caller_socket, call.callee);
                self.record(id, call, None);
                drop(inner);
                tracing::info!(call = %id, socket, "call answered");
                self.to_socket(caller_socket, ServerFrame::CallAccepted(accept));
                self.hub.send_to_users(
                    &[callee],
                    &ServerFrame::CallAnsweredElsewhere(call_ref(id)),
                    Some(socket),
                );
                for frame in pending {
                    self.to_socket(socket, frame);
                }
            }
            (Action::Decline, Side::Callee, Phase::Ringing)
            | (Action::Hangup, Side::Callee, Phase::Ringing) => {
                if let Some(call) = self.finish(&mut inner, id, CallOutcome::Declined) {
                    drop(inner);
                    self.to_socket(call.caller_socket, ended(id, CallOutcome::Declined));
                    self.hub.send_to_users(
                        &[call.callee],
                        &ServerFrame::CallDeclinedElsewhere(call_ref(id)),
                        Some(socket),
                    );
                }
            }
            (Action::Hangup, Side::Caller, Phase::Ringing) => {
                if let Some(call) = self.finish(&mut inner, id, CallOutcome::Cancelled) {
                    drop(inner);
                    self.hub.send_to_users(
                        &[call.callee],
                        &ended(id, CallOutcome::Cancelled),
                        None,
                    );
                }
            }
            (Action::Hangup, side, Phase::Connected)
            | (Action::Decline, side, Phase::Connected) => {
                if let Some(call) = self.finish(&mut inner, id, CallOutcome::HungUp) {
                    drop(inner);
                    let other = match side {
                        Side::Caller => call.callee_socket,
                        Side::Callee => Some(call.caller_socket),
                    };
                    if let Some(other) = other {
                        self.to_socket(other, ended(id, CallOutcome::HungUp));
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
                    drop(inner);
                    refuse(CallErrorCode::WrongState, "the call is not answered yet");
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
                drop(inner);
                if let Some(other) = other {
                    self.to_socket(other, frame);
                }
            }
            (action, _, _) => {
                drop(inner);
                let message = format!("{} does not fit the call's state", action.name());
                refuse(CallErrorCode::WrongState, &message);
            }
        }
    }

    /// A socket closed: calls bound to it wait for a resume, then fail.
    /// A device of `user` connected: if a call to them is ringing, it rings
    /// there too.
    pub fn socket_opened(&self, user: Uuid, socket: SocketId) {
        let ringing: Vec<ServerFrame> = self
            .inner()
            .calls
            .values()
            .filter(|c| c.callee == user && c.phase == Phase::Ringing)
            .filter_map(|c| c.incoming.clone())
            .collect();
        for frame in ringing {
            self.to_socket(socket, frame);
        }
    }

    pub fn socket_closed(self: &Arc<Self>, socket: SocketId) {
        let inner = self.inner();
        let bound: Vec<Uuid> = inner
            .calls
            .iter()
            .filter(|(_, c)| c.caller_socket == socket || c.callee_socket == Some(socket))
            .map(|(id, _)| *id)
            .collect();
        drop(inner);
        for id in bound {
            tracing::info!(call = %id, socket, "call: a device dropped; waiting for it to resume");
            let calls = Arc::clone(self);
            let grace = self.settings.resume_grace;
            tokio::spawn(async move {
                tokio::time::sleep(grace).await;
                calls.grace_over(id, socket);
            });
        }
    }

    fn grace_over(&self, id: Uuid, socket: SocketId) {
        let mut inner = self.inner();
        let Some(call) = inner.calls.get(&id) else {
            return;
        };
        let other = if call.caller_socket == socket {
            None // the callee side is told below
        } else if call.callee_socket == Some(socket) {
            Some(call.caller_socket)
        } else {
            return; // resumed on another socket
        };
        if let Some(call) = self.finish(&mut inner, id, CallOutcome::Failed) {
            drop(inner);
            let frame = ended(id, CallOutcome::Failed);
            match other {
                Some(caller) => self.to_socket(caller, frame),
                None => match call.callee_socket {
                    Some(callee) => self.to_socket(callee, frame),
                    None => self.hub.send_to_users(&[call.callee], &frame, None),
                },
            }
        }
    }
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
