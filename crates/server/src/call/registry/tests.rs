//! The registry on a fake clock: a base `Instant` and a wall clock at a
//! fixed date, both moved by hand. Every test asserts the exact outputs.

use std::time::{Duration, Instant, UNIX_EPOCH};

use convene_proto::call::{
    Accept, CallErrorCode, CallOutcome, CallPhase, CallRef, CallRole, Candidate, IceCandidate,
    Incoming, Invite, MediaKind, Negotiation, State,
};
use convene_proto::live::{ClientFrame, ServerFrame};
use uuid::Uuid;

use super::{
    callee_of, ended, error, Caller, Input, Now, Output, Registry, SocketId, Timer, AWAY,
    ENDED_MEMORY, PENDING_CANDIDATES,
};
use crate::call::{raw_id, CallSettings};
use crate::store::CallRow;

const ALICE: Uuid = Uuid::from_u128(0xa11c);
const BOB: Uuid = Uuid::from_u128(0xb0b);
const CAROL: Uuid = Uuid::from_u128(0xca201);
/// Of another organisation.
const DAVE: Uuid = Uuid::from_u128(0xda7e);

const ALICE_1: SocketId = 1;
const BOB_PHONE: SocketId = 2;
const BOB_LAPTOP: SocketId = 3;
const CAROL_1: SocketId = 4;

const RING: Duration = Duration::from_secs(45);
const GRACE: Duration = Duration::from_secs(30);
const MS: Duration = Duration::from_millis(1);
/// The wall clock at the start of every test: 2026-01-01T00:00:00Z.
const EPOCH_MS: i64 = 1_767_225_600_000;

/// The registry, the people online and the fake clock.
struct Sim {
    registry: Registry,
    base: Instant,
    elapsed: Duration,
    online: Vec<Uuid>,
}

impl Sim {
    fn new() -> Self {
        let settings = CallSettings {
            ring_timeout: RING,
            resume_grace: GRACE,
            ..CallSettings::default()
        };
        Self {
            registry: Registry::new(&settings),
            base: Instant::now(),
            elapsed: Duration::ZERO,
            online: vec![ALICE, BOB, CAROL, DAVE],
        }
    }

    fn now(&self) -> Now {
        Now {
            at: self.base + self.elapsed,
            wall: UNIX_EPOCH + Duration::from_millis(EPOCH_MS as u64) + self.elapsed,
        }
    }

    /// The monotonic clock `offset` after the start.
    fn at(&self, offset: Duration) -> Instant {
        self.base + offset
    }

    /// The wall clock now, in ms as records have it.
    fn ms(&self) -> i64 {
        EPOCH_MS + self.elapsed.as_millis() as i64
    }

    fn advance(&mut self, by: Duration) {
        self.elapsed += by;
    }

    fn input(&mut self, input: Input) -> Vec<Output> {
        self.registry.handle(self.now(), input)
    }

    /// A frame from `user`'s `socket`, as the live channel passes it.
    fn send(&mut self, user: Uuid, socket: SocketId, frame: ClientFrame) -> Vec<Output> {
        let callee_online = match &frame {
            ClientFrame::CallInvite(invite) => {
                callee_of(invite).is_some_and(|callee| self.online.contains(&callee))
            }
            _ => false,
        };
        self.input(Input::Frame {
            user,
            socket,
            caller: caller(user),
            callee_online,
            frame,
        })
    }

    fn timer(&mut self, timer: Timer) -> Vec<Output> {
        self.input(Input::Timer(timer))
    }

    fn closed(&mut self, socket: SocketId) -> Vec<Output> {
        self.input(Input::SocketClosed { socket })
    }

    fn opened(&mut self, user: Uuid, socket: SocketId) -> Vec<Output> {
        self.input(Input::SocketOpened { user, socket })
    }

    /// Alice calls bob; it rings (at the current time).
    fn ringing(&mut self, call: Uuid) {
        let out = self.send(ALICE, ALICE_1, invite(call, BOB));
        assert!(
            matches!(out.get(1), Some(Output::ToUsers { .. })),
            "{out:?}"
        );
    }

    /// Alice calls bob, and `device` answers.
    fn connected(&mut self, call: Uuid, device: SocketId) {
        self.ringing(call);
        let out = self.send(BOB, device, accept(call));
        assert!(
            matches!(out.get(1), Some(Output::ToSocket(ALICE_1, _))),
            "{out:?}"
        );
    }
}

fn caller(user: Uuid) -> Caller {
    let convene = [ALICE, BOB, CAROL];
    Caller {
        name: Some(
            match user {
                u if u == ALICE => "Alice Example",
                u if u == BOB => "Bob Example",
                u if u == CAROL => "Carol Example",
                _ => "Dave Example",
            }
            .to_owned(),
        ),
        colleagues: if convene.contains(&user) {
            convene.to_vec()
        } else {
            vec![DAVE]
        },
    }
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0xca11_0000 + n)
}

fn invite(call: Uuid, callee: Uuid) -> ClientFrame {
    ClientFrame::CallInvite(Invite {
        version: 1,
        call_id: call.to_string(),
        callee: raw_id(callee),
        media: vec![MediaKind::Audio, MediaKind::Video],
        sdp: "v=0 offer".to_owned(),
    })
}

fn reference(call: Uuid) -> CallRef {
    CallRef {
        call_id: call.to_string(),
    }
}

fn answer_of(call: Uuid) -> Accept {
    Accept {
        call_id: call.to_string(),
        sdp: "v=0 answer".to_owned(),
        media: None,
    }
}

fn accept(call: Uuid) -> ClientFrame {
    ClientFrame::CallAccept(answer_of(call))
}

fn candidate_of(call: Uuid, line: &str) -> Candidate {
    Candidate {
        call_id: call.to_string(),
        candidate: Some(IceCandidate {
            candidate: line.to_owned(),
            sdp_mid: Some("0".to_owned()),
            sdp_m_line_index: Some(0),
        }),
    }
}

fn candidate(call: Uuid, line: &str) -> ClientFrame {
    ClientFrame::CallCandidate(candidate_of(call, line))
}

fn relayed_candidate(call: Uuid, line: &str) -> ServerFrame {
    ServerFrame::CallCandidate(candidate_of(call, line))
}

fn negotiation(call: Uuid, sdp: &str, media: Option<Vec<MediaKind>>) -> Negotiation {
    Negotiation {
        call_id: call.to_string(),
        sdp: sdp.to_owned(),
        media,
    }
}

fn incoming(call: Uuid) -> ServerFrame {
    ServerFrame::CallIncoming(Incoming {
        version: 1,
        call_id: call.to_string(),
        caller: raw_id(ALICE),
        caller_name: Some("Alice Example".to_owned()),
        media: vec![MediaKind::Audio, MediaKind::Video],
        sdp: "v=0 offer".to_owned(),
    })
}

fn state(
    call: Uuid,
    phase: CallPhase,
    role: CallRole,
    peer: Uuid,
    media: Vec<MediaKind>,
    outcome: Option<CallOutcome>,
) -> ServerFrame {
    ServerFrame::CallState(State {
        call_id: call.to_string(),
        state: phase,
        role: Some(role),
        peer: Some(raw_id(peer)),
        media,
        outcome,
    })
}

fn refused(socket: SocketId, call: &str, code: CallErrorCode, message: &str) -> Output {
    Output::ToSocket(socket, error(Some(call), code, message))
}

fn not_in_call(socket: SocketId, call: &str) -> Output {
    refused(
        socket,
        call,
        CallErrorCode::NotInCall,
        "no such call of yours",
    )
}

fn wrong_state(socket: SocketId, call: Uuid, message: &str) -> Output {
    refused(
        socket,
        &call.to_string(),
        CallErrorCode::WrongState,
        message,
    )
}

/// A record of alice's call to bob (audio and video unless `media`).
fn record(
    call: Uuid,
    media: &str,
    started_ms: i64,
    answered_ms: Option<i64>,
    end: Option<(i64, CallOutcome)>,
) -> Output {
    Output::Record(CallRow {
        id: call,
        caller: ALICE,
        callee: BOB,
        media: media.to_owned(),
        started_ms,
        answered_ms,
        ended_ms: end.map(|(at, _)| at),
        outcome: end.map(|(_, outcome)| outcome.as_str().to_owned()),
    })
}

fn to_bob(frame: ServerFrame, except: Option<SocketId>) -> Output {
    Output::ToUsers {
        users: vec![BOB],
        frame,
        except,
    }
}

const AV: &str = "audio,video";

#[test]
fn an_invite_is_recorded_rings_on_every_device_of_the_callee_and_arms_the_ring_timeout() {
    let mut sim = Sim::new();
    let call = id(1);
    assert_eq!(
        sim.send(ALICE, ALICE_1, invite(call, BOB)),
        [
            record(call, AV, EPOCH_MS, None, None),
            to_bob(incoming(call), None),
            Output::Wake {
                at: sim.at(RING),
                timer: Timer::RingTimeout(call),
            },
        ]
    );
}

#[test]
fn ringing_is_told_to_the_caller_once() {
    let mut sim = Sim::new();
    let call = id(1);
    sim.ringing(call);
    let ringing = ClientFrame::CallRinging(reference(call));
    assert_eq!(
        sim.send(BOB, BOB_PHONE, ringing.clone()),
        [Output::ToSocket(
            ALICE_1,
            ServerFrame::CallRinging(reference(call))
        )]
    );
    assert_eq!(sim.send(BOB, BOB_LAPTOP, ringing.clone()), []);
    assert_eq!(sim.send(BOB, BOB_PHONE, ringing), []);
}

#[test]
fn accept_binds_the_device_tells_the_others_and_flushes_the_callers_early_candidates() {
    let mut sim = Sim::new();
    let call = id(1);
    sim.ringing(call);
    sim.advance(Duration::from_secs(3));
    // Held: nobody to give them to yet.
    assert_eq!(sim.send(ALICE, ALICE_1, candidate(call, "candidate:1")), []);
    let end_of_candidates = Candidate {
        call_id: call.to_string(),
        candidate: None,
    };
    assert_eq!(
        sim.send(
            ALICE,
            ALICE_1,
            ClientFrame::CallCandidate(end_of_candidates.clone())
        ),
        []
    );

    assert_eq!(
        sim.send(BOB, BOB_LAPTOP, accept(call)),
        [
            record(call, AV, EPOCH_MS, Some(EPOCH_MS + 3000), None),
            Output::ToSocket(ALICE_1, ServerFrame::CallAccepted(answer_of(call))),
            to_bob(
                ServerFrame::CallAnsweredElsewhere(reference(call)),
                Some(BOB_LAPTOP)
            ),
            Output::ToSocket(BOB_LAPTOP, relayed_candidate(call, "candidate:1")),
            Output::ToSocket(BOB_LAPTOP, ServerFrame::CallCandidate(end_of_candidates)),
        ]
    );

    // From now on candidates go between the two bound devices only.
    assert_eq!(
        sim.send(BOB, BOB_LAPTOP, candidate(call, "candidate:bob")),
        [Output::ToSocket(
            ALICE_1,
            relayed_candidate(call, "candidate:bob")
        )]
    );
    assert_eq!(
        sim.send(ALICE, ALICE_1, candidate(call, "candidate:2")),
        [Output::ToSocket(
            BOB_LAPTOP,
            relayed_candidate(call, "candidate:2")
        )]
    );
    let raw = call.to_string();
    assert_eq!(
        sim.send(BOB, BOB_PHONE, candidate(call, "candidate:phone")),
        [not_in_call(BOB_PHONE, &raw)]
    );
    assert_eq!(
        sim.send(BOB, BOB_PHONE, accept(call)),
        [not_in_call(BOB_PHONE, &raw)]
    );
}

#[test]
fn an_accept_that_names_media_changes_the_calls_media() {
    let mut sim = Sim::new();
    let call = id(1);
    sim.ringing(call);
    let audio_only = Accept {
        media: Some(vec![MediaKind::Audio]),
        ..answer_of(call)
    };
    assert_eq!(
        sim.send(BOB, BOB_PHONE, ClientFrame::CallAccept(audio_only.clone())),
        [
            record(call, "audio", EPOCH_MS, Some(EPOCH_MS), None),
            Output::ToSocket(ALICE_1, ServerFrame::CallAccepted(audio_only)),
            to_bob(
                ServerFrame::CallAnsweredElsewhere(reference(call)),
                Some(BOB_PHONE)
            ),
        ]
    );
}

#[test]
fn a_decline_ends_the_call_for_the_caller_and_stops_the_other_devices() {
    let mut sim = Sim::new();
    let call = id(1);
    sim.ringing(call);
    sim.advance(Duration::from_secs(2));
    assert_eq!(
        sim.send(BOB, BOB_PHONE, ClientFrame::CallDecline(reference(call))),
        [
            record(
                call,
                AV,
                EPOCH_MS,
                None,
                Some((EPOCH_MS + 2000, CallOutcome::Declined))
            ),
            Output::ToSocket(ALICE_1, ended(call, CallOutcome::Declined)),
            to_bob(
                ServerFrame::CallDeclinedElsewhere(reference(call)),
                Some(BOB_PHONE)
            ),
        ]
    );
    // It is over: its ring timeout does nothing, its frames are refused.
    sim.advance(RING);
    assert_eq!(sim.timer(Timer::RingTimeout(call)), []);
    assert_eq!(
        sim.send(BOB, BOB_LAPTOP, accept(call)),
        [not_in_call(BOB_LAPTOP, &call.to_string())]
    );
}

#[test]
fn a_ringing_device_that_hangs_up_declines() {
    let mut sim = Sim::new();
    let call = id(1);
    sim.ringing(call);
    assert_eq!(
        sim.send(BOB, BOB_LAPTOP, ClientFrame::CallHangup(reference(call))),
        [
            record(
                call,
                AV,
                EPOCH_MS,
                None,
                Some((EPOCH_MS, CallOutcome::Declined))
            ),
            Output::ToSocket(ALICE_1, ended(call, CallOutcome::Declined)),
            to_bob(
                ServerFrame::CallDeclinedElsewhere(reference(call)),
                Some(BOB_LAPTOP)
            ),
        ]
    );
}

#[test]
fn the_caller_cancels_with_cancel_or_hangup_before_an_answer() {
    let mut sim = Sim::new();
    let (cancelled, hung_up) = (id(1), id(2));
    for (call, frame) in [
        (cancelled, ClientFrame::CallCancel(reference(cancelled))),
        (hung_up, ClientFrame::CallHangup(reference(hung_up))),
    ] {
        sim.ringing(call);
        sim.advance(Duration::from_secs(1));
        assert_eq!(
            sim.send(ALICE, ALICE_1, frame),
            [
                record(
                    call,
                    AV,
                    sim.ms() - 1000,
                    None,
                    Some((sim.ms(), CallOutcome::Cancelled))
                ),
                to_bob(ended(call, CallOutcome::Cancelled), None),
            ]
        );
    }
}

#[test]
fn a_callee_in_a_call_or_ringing_is_busy_and_is_not_rung() {
    let mut sim = Sim::new();
    let (talking, busy, ringing) = (id(1), id(2), id(3));
    sim.connected(talking, BOB_PHONE);
    let busy_for = |call: Uuid, callee: Uuid, at: i64| {
        [
            Output::Record(CallRow {
                id: call,
                caller: CAROL,
                callee,
                media: AV.to_owned(),
                started_ms: at,
                answered_ms: None,
                ended_ms: Some(at),
                outcome: Some("busy".to_owned()),
            }),
            Output::ToSocket(CAROL_1, ended(call, CallOutcome::Busy)),
        ]
    };
    // Bob as callee, and alice as caller, are both in a call.
    assert_eq!(
        sim.send(CAROL, CAROL_1, invite(busy, BOB)),
        busy_for(busy, BOB, EPOCH_MS)
    );
    assert_eq!(
        sim.send(CAROL, CAROL_1, invite(id(4), ALICE)),
        busy_for(id(4), ALICE, EPOCH_MS)
    );

    // A call that only rings makes its callee busy too.
    sim.send(ALICE, ALICE_1, ClientFrame::CallHangup(reference(talking)));
    sim.ringing(ringing);
    assert_eq!(
        sim.send(CAROL, CAROL_1, invite(id(5), BOB)),
        busy_for(id(5), BOB, EPOCH_MS)
    );
}

#[test]
fn a_callee_without_a_connected_device_is_unavailable() {
    let mut sim = Sim::new();
    sim.online.retain(|u| *u != BOB);
    let call = id(1);
    assert_eq!(
        sim.send(ALICE, ALICE_1, invite(call, BOB)),
        [
            record(
                call,
                AV,
                EPOCH_MS,
                None,
                Some((EPOCH_MS, CallOutcome::Unavailable))
            ),
            Output::ToSocket(ALICE_1, ended(call, CallOutcome::Unavailable)),
        ]
    );
}

#[test]
fn a_callee_outside_the_callers_organisation_is_unavailable_though_online() {
    let mut sim = Sim::new();
    let call = id(1);
    assert!(sim.online.contains(&DAVE));
    assert_eq!(
        sim.send(ALICE, ALICE_1, invite(call, DAVE)),
        [
            Output::Record(CallRow {
                id: call,
                caller: ALICE,
                callee: DAVE,
                media: AV.to_owned(),
                started_ms: EPOCH_MS,
                answered_ms: None,
                ended_ms: Some(EPOCH_MS),
                outcome: Some("unavailable".to_owned()),
            }),
            Output::ToSocket(ALICE_1, ended(call, CallOutcome::Unavailable)),
        ]
    );
}

#[test]
fn an_unanswered_call_ends_at_the_ring_timeout_and_not_a_millisecond_before() {
    let mut sim = Sim::new();
    let call = id(1);
    sim.ringing(call);
    let timer = Timer::RingTimeout(call);

    // Fed early, the timer is only asked for again.
    sim.advance(RING - MS);
    assert_eq!(
        sim.timer(timer),
        [Output::Wake {
            at: sim.at(RING),
            timer
        }]
    );
    // Bob's devices can still answer at that moment: the call still rings.
    assert_eq!(sim.opened(BOB, 9), [Output::ToSocket(9, incoming(call))]);

    sim.advance(MS);
    let frame = ended(call, CallOutcome::NoAnswer);
    assert_eq!(
        sim.timer(timer),
        [
            record(
                call,
                AV,
                EPOCH_MS,
                None,
                Some((EPOCH_MS + 45_000, CallOutcome::NoAnswer))
            ),
            Output::ToSocket(ALICE_1, frame.clone()),
            to_bob(frame, None),
        ]
    );
    assert_eq!(sim.timer(timer), []);
}

#[test]
fn the_ring_timeout_of_an_answered_call_does_nothing() {
    let mut sim = Sim::new();
    let call = id(1);
    sim.connected(call, BOB_PHONE);
    sim.advance(RING);
    assert_eq!(sim.timer(Timer::RingTimeout(call)), []);
    assert_eq!(
        sim.send(BOB, BOB_PHONE, candidate(call, "candidate:still")),
        [Output::ToSocket(
            ALICE_1,
            relayed_candidate(call, "candidate:still")
        )]
    );
}

#[test]
fn either_side_hangs_up_and_the_other_bound_device_hears_it() {
    let mut sim = Sim::new();
    let (by_caller, by_callee, declined_late) = (id(1), id(2), id(3));
    let hang_ups = [
        (
            by_caller,
            ALICE,
            ALICE_1,
            ClientFrame::CallHangup(reference(by_caller)),
            BOB_LAPTOP,
        ),
        (
            by_callee,
            BOB,
            BOB_LAPTOP,
            ClientFrame::CallHangup(reference(by_callee)),
            ALICE_1,
        ),
        // A decline once connected is a hang-up.
        (
            declined_late,
            BOB,
            BOB_LAPTOP,
            ClientFrame::CallDecline(reference(declined_late)),
            ALICE_1,
        ),
    ];
    for (call, user, socket, frame, other) in hang_ups {
        let started = sim.ms();
        sim.ringing(call);
        sim.advance(Duration::from_secs(3));
        sim.send(BOB, BOB_LAPTOP, accept(call));
        sim.advance(Duration::from_secs(60));
        assert_eq!(
            sim.send(user, socket, frame),
            [
                record(
                    call,
                    AV,
                    started,
                    Some(started + 3000),
                    Some((started + 63_000, CallOutcome::HungUp))
                ),
                Output::ToSocket(other, ended(call, CallOutcome::HungUp)),
            ]
        );
    }
}

#[test]
fn a_dropped_device_that_resumes_within_the_grace_keeps_the_call() {
    let mut sim = Sim::new();
    let call = id(1);
    sim.connected(call, BOB_LAPTOP);
    let dropped = sim.elapsed;
    assert_eq!(
        sim.closed(ALICE_1),
        [Output::Wake {
            at: sim.at(dropped + GRACE),
            timer: Timer::ResumeGrace {
                call,
                socket: ALICE_1
            },
        }]
    );
    // The unbound phone closing arms nothing.
    assert_eq!(sim.closed(BOB_PHONE), []);

    sim.advance(Duration::from_secs(10));
    let alice_2 = 5;
    assert_eq!(
        sim.send(ALICE, alice_2, ClientFrame::CallResume(reference(call))),
        [Output::ToSocket(
            alice_2,
            state(
                call,
                CallPhase::Connected,
                CallRole::Caller,
                BOB,
                vec![MediaKind::Audio, MediaKind::Video],
                None
            )
        )]
    );
    sim.advance(GRACE - Duration::from_secs(10));
    assert_eq!(
        sim.timer(Timer::ResumeGrace {
            call,
            socket: ALICE_1
        }),
        []
    );
    // Bound to the new socket; the old one is nobody.
    assert_eq!(
        sim.send(BOB, BOB_LAPTOP, candidate(call, "candidate:after")),
        [Output::ToSocket(
            alice_2,
            relayed_candidate(call, "candidate:after")
        )]
    );
    assert_eq!(
        sim.send(ALICE, ALICE_1, candidate(call, "candidate:old")),
        [not_in_call(ALICE_1, &call.to_string())]
    );

    // The callee resumes the same way.
    sim.closed(BOB_LAPTOP);
    let bob_tablet = 6;
    assert_eq!(
        sim.send(BOB, bob_tablet, ClientFrame::CallResume(reference(call))),
        [Output::ToSocket(
            bob_tablet,
            state(
                call,
                CallPhase::Connected,
                CallRole::Callee,
                ALICE,
                vec![MediaKind::Audio, MediaKind::Video],
                None
            )
        )]
    );
    sim.advance(GRACE);
    assert_eq!(
        sim.timer(Timer::ResumeGrace {
            call,
            socket: BOB_LAPTOP
        }),
        []
    );
    assert_eq!(
        sim.send(ALICE, alice_2, candidate(call, "candidate:to-tablet")),
        [Output::ToSocket(
            bob_tablet,
            relayed_candidate(call, "candidate:to-tablet")
        )]
    );
}

#[test]
fn a_dropped_callee_that_does_not_resume_fails_the_call_at_the_grace() {
    let mut sim = Sim::new();
    let call = id(1);
    sim.connected(call, BOB_LAPTOP);
    sim.advance(Duration::from_secs(5));
    sim.closed(BOB_LAPTOP);
    let timer = Timer::ResumeGrace {
        call,
        socket: BOB_LAPTOP,
    };
    sim.advance(GRACE - MS);
    assert_eq!(
        sim.timer(timer),
        [Output::Wake {
            at: sim.at(Duration::from_secs(5) + GRACE),
            timer
        }]
    );
    sim.advance(MS);
    assert_eq!(
        sim.timer(timer),
        [
            record(
                call,
                AV,
                EPOCH_MS,
                Some(EPOCH_MS),
                Some((EPOCH_MS + 35_000, CallOutcome::Failed))
            ),
            Output::ToSocket(ALICE_1, ended(call, CallOutcome::Failed)),
        ]
    );
}

#[test]
fn a_dropped_caller_that_does_not_resume_fails_the_call_for_the_callee() {
    let mut sim = Sim::new();
    // Connected: the bound device hears it.
    let call = id(1);
    sim.connected(call, BOB_LAPTOP);
    sim.closed(ALICE_1);
    sim.advance(GRACE);
    let timer = Timer::ResumeGrace {
        call,
        socket: ALICE_1,
    };
    assert_eq!(
        sim.timer(timer),
        [
            record(
                call,
                AV,
                EPOCH_MS,
                Some(EPOCH_MS),
                Some((EPOCH_MS + 30_000, CallOutcome::Failed))
            ),
            Output::ToSocket(BOB_LAPTOP, ended(call, CallOutcome::Failed)),
        ]
    );

    // Still ringing: every device of the callee hears it, before the ring
    // timeout would have ended it.
    let ringing = id(2);
    let started = sim.ms();
    sim.ringing(ringing);
    sim.closed(ALICE_1);
    sim.advance(GRACE);
    assert_eq!(
        sim.timer(Timer::ResumeGrace {
            call: ringing,
            socket: ALICE_1
        }),
        [
            record(
                ringing,
                AV,
                started,
                None,
                Some((started + 30_000, CallOutcome::Failed))
            ),
            to_bob(ended(ringing, CallOutcome::Failed), None),
        ]
    );
    sim.advance(RING - GRACE);
    assert_eq!(sim.timer(Timer::RingTimeout(ringing)), []);
}

#[test]
fn a_resume_while_it_rings_answers_ringing_and_binds_only_the_caller() {
    let mut sim = Sim::new();
    let call = id(1);
    sim.ringing(call);
    sim.closed(ALICE_1);
    let alice_2 = 5;
    assert_eq!(
        sim.send(ALICE, alice_2, ClientFrame::CallResume(reference(call))),
        [Output::ToSocket(
            alice_2,
            state(
                call,
                CallPhase::Ringing,
                CallRole::Caller,
                BOB,
                vec![MediaKind::Audio, MediaKind::Video],
                None
            )
        )]
    );
    assert_eq!(
        sim.send(BOB, BOB_PHONE, ClientFrame::CallResume(reference(call))),
        [Output::ToSocket(
            BOB_PHONE,
            state(
                call,
                CallPhase::Ringing,
                CallRole::Callee,
                ALICE,
                vec![MediaKind::Audio, MediaKind::Video],
                None
            )
        )]
    );
    // The laptop can still answer; the caller hears it on her new socket.
    let out = sim.send(BOB, BOB_LAPTOP, accept(call));
    assert_eq!(
        out[1],
        Output::ToSocket(alice_2, ServerFrame::CallAccepted(answer_of(call)))
    );
}

#[test]
fn a_late_resume_hears_how_the_call_ended_while_it_is_remembered() {
    let mut sim = Sim::new();
    let call = id(1);
    sim.connected(call, BOB_LAPTOP);
    sim.closed(BOB_LAPTOP);
    sim.advance(GRACE);
    sim.timer(Timer::ResumeGrace {
        call,
        socket: BOB_LAPTOP,
    });

    let bob_tablet = 7;
    assert_eq!(
        sim.send(BOB, bob_tablet, ClientFrame::CallResume(reference(call))),
        [Output::ToSocket(
            bob_tablet,
            state(
                call,
                CallPhase::Ended,
                CallRole::Callee,
                ALICE,
                Vec::new(),
                Some(CallOutcome::Failed)
            )
        )]
    );
    assert_eq!(
        sim.send(ALICE, ALICE_1, ClientFrame::CallResume(reference(call))),
        [Output::ToSocket(
            ALICE_1,
            state(
                call,
                CallPhase::Ended,
                CallRole::Caller,
                BOB,
                Vec::new(),
                Some(CallOutcome::Failed)
            )
        )]
    );
    let raw = call.to_string();
    assert_eq!(
        sim.send(CAROL, CAROL_1, ClientFrame::CallResume(reference(call))),
        [not_in_call(CAROL_1, &raw)]
    );

    // Forgotten once the memory is over and another call ends.
    sim.advance(ENDED_MEMORY);
    let other = id(2);
    sim.ringing(other);
    sim.send(ALICE, ALICE_1, ClientFrame::CallCancel(reference(other)));
    assert_eq!(
        sim.send(BOB, bob_tablet, ClientFrame::CallResume(reference(call))),
        [not_in_call(bob_tablet, &raw)]
    );
}

#[test]
fn a_device_that_connects_while_a_call_rings_rings_too() {
    let mut sim = Sim::new();
    let call = id(1);
    sim.ringing(call);
    let bob_tablet = 9;
    assert_eq!(
        sim.opened(BOB, bob_tablet),
        [Output::ToSocket(bob_tablet, incoming(call))]
    );
    assert_eq!(sim.opened(CAROL, 10), []);
    // And can answer.
    let out = sim.send(BOB, bob_tablet, accept(call));
    assert_eq!(
        out[2],
        to_bob(
            ServerFrame::CallAnsweredElsewhere(reference(call)),
            Some(bob_tablet)
        )
    );
    // Once answered, a device that connects is not rung.
    assert_eq!(sim.opened(BOB, 11), []);
}

#[test]
fn frames_from_a_stranger_or_another_socket_are_not_in_call() {
    let mut sim = Sim::new();
    let call = id(1);
    sim.ringing(call);
    let raw = call.to_string();
    for frame in [
        candidate(call, "candidate:injected"),
        ClientFrame::CallHangup(reference(call)),
        accept(call),
        ClientFrame::CallResume(reference(call)),
    ] {
        assert_eq!(
            sim.send(CAROL, CAROL_1, frame),
            [not_in_call(CAROL_1, &raw)]
        );
    }
    // Alice's other device is not the one that placed the call.
    let alice_2 = 5;
    assert_eq!(
        sim.send(ALICE, alice_2, ClientFrame::CallCancel(reference(call))),
        [not_in_call(alice_2, &raw)]
    );
    // No such call, or no call id at all.
    let unknown = id(99).to_string();
    assert_eq!(
        sim.send(BOB, BOB_PHONE, accept(id(99))),
        [not_in_call(BOB_PHONE, &unknown)]
    );
    let garbled = CallRef {
        call_id: "nope".to_owned(),
    };
    assert_eq!(
        sim.send(ALICE, ALICE_1, ClientFrame::CallHangup(garbled.clone())),
        [not_in_call(ALICE_1, "nope")]
    );
    assert_eq!(
        sim.send(ALICE, ALICE_1, ClientFrame::CallResume(garbled)),
        [not_in_call(ALICE_1, "nope")]
    );
    // Once bound, the other devices of the callee are strangers too.
    sim.send(BOB, BOB_LAPTOP, accept(call));
    assert_eq!(
        sim.send(BOB, BOB_PHONE, ClientFrame::CallHangup(reference(call))),
        [not_in_call(BOB_PHONE, &raw)]
    );
}

#[test]
fn offers_and_answers_are_relayed_and_an_offer_with_media_changes_them() {
    let mut sim = Sim::new();
    let call = id(1);
    sim.connected(call, BOB_LAPTOP);
    let restart = negotiation(call, "v=0 restart", Some(vec![MediaKind::Audio]));
    assert_eq!(
        sim.send(ALICE, ALICE_1, ClientFrame::CallOffer(restart.clone())),
        [Output::ToSocket(
            BOB_LAPTOP,
            ServerFrame::CallOffer(restart)
        )]
    );
    let restarted = negotiation(call, "v=0 restarted", None);
    assert_eq!(
        sim.send(BOB, BOB_LAPTOP, ClientFrame::CallAnswer(restarted.clone())),
        [Output::ToSocket(
            ALICE_1,
            ServerFrame::CallAnswer(restarted)
        )]
    );
    // An offer without media leaves them as they are.
    let again = negotiation(call, "v=0 again", None);
    assert_eq!(
        sim.send(BOB, BOB_LAPTOP, ClientFrame::CallOffer(again.clone())),
        [Output::ToSocket(ALICE_1, ServerFrame::CallOffer(again))]
    );
    assert_eq!(
        sim.send(ALICE, ALICE_1, ClientFrame::CallResume(reference(call))),
        [Output::ToSocket(
            ALICE_1,
            state(
                call,
                CallPhase::Connected,
                CallRole::Caller,
                BOB,
                vec![MediaKind::Audio],
                None
            )
        )]
    );
    assert_eq!(
        sim.send(ALICE, ALICE_1, ClientFrame::CallHangup(reference(call)))[0],
        record(
            call,
            "audio",
            EPOCH_MS,
            Some(EPOCH_MS),
            Some((EPOCH_MS, CallOutcome::HungUp))
        )
    );
}

#[test]
fn frames_that_do_not_fit_the_calls_state_are_refused() {
    let mut sim = Sim::new();
    let call = id(1);
    sim.ringing(call);
    let not_answered = "the call is not answered yet";
    assert_eq!(
        sim.send(
            ALICE,
            ALICE_1,
            ClientFrame::CallOffer(negotiation(call, "v=0", None))
        ),
        [wrong_state(ALICE_1, call, not_answered)]
    );
    assert_eq!(
        sim.send(
            ALICE,
            ALICE_1,
            ClientFrame::CallAnswer(negotiation(call, "v=0", None))
        ),
        [wrong_state(ALICE_1, call, not_answered)]
    );
    let ringing = [
        (ALICE, ALICE_1, accept(call), "callAccept"),
        (
            ALICE,
            ALICE_1,
            ClientFrame::CallRinging(reference(call)),
            "callRinging",
        ),
        (
            ALICE,
            ALICE_1,
            ClientFrame::CallDecline(reference(call)),
            "callDecline",
        ),
        // A callee device has nobody to send candidates to before it
        // answers.
        (
            BOB,
            BOB_PHONE,
            candidate(call, "candidate:x"),
            "callCandidate",
        ),
        (
            BOB,
            BOB_PHONE,
            ClientFrame::CallOffer(negotiation(call, "v=0", None)),
            "callOffer",
        ),
    ];
    for (user, socket, frame, name) in ringing {
        assert_eq!(
            sim.send(user, socket, frame),
            [wrong_state(
                socket,
                call,
                &format!("{name} does not fit the call's state")
            )]
        );
    }

    sim.send(BOB, BOB_PHONE, accept(call));
    for (frame, name) in [
        (accept(call), "callAccept"),
        (ClientFrame::CallRinging(reference(call)), "callRinging"),
    ] {
        assert_eq!(
            sim.send(BOB, BOB_PHONE, frame),
            [wrong_state(
                BOB_PHONE,
                call,
                &format!("{name} does not fit the call's state")
            )]
        );
    }
}

#[test]
fn bad_invites_are_refused_to_their_sender_and_not_recorded() {
    let mut sim = Sim::new();
    let call = id(1);
    let raw = call.to_string();
    let with = |edit: &dyn Fn(&mut Invite)| {
        let ClientFrame::CallInvite(mut invite) = invite(call, BOB) else {
            unreachable!()
        };
        edit(&mut invite);
        ClientFrame::CallInvite(invite)
    };
    let bad = CallErrorCode::BadRequest;
    let cases = [
        (
            with(&|i| i.version = 2),
            raw.as_str(),
            CallErrorCode::UnsupportedVersion,
            "this server speaks call protocol 1",
        ),
        (
            with(&|i| i.call_id = "not-a-uuid".to_owned()),
            "not-a-uuid",
            bad,
            "callId must be a UUID",
        ),
        (
            with(&|i| i.callee = BOB.to_string()),
            raw.as_str(),
            bad,
            "callee must be 8:orgid:{oid}",
        ),
        (
            with(&|i| i.callee = "8:orgid:bob".to_owned()),
            raw.as_str(),
            bad,
            "callee must be 8:orgid:{oid}",
        ),
        (
            with(&|i| i.media = Vec::new()),
            raw.as_str(),
            bad,
            "media must name audio and/or video",
        ),
        (
            with(&|i| i.media = vec![MediaKind::Unknown]),
            raw.as_str(),
            bad,
            "media must name audio and/or video",
        ),
        (
            with(&|i| i.callee = raw_id(ALICE)),
            raw.as_str(),
            bad,
            "a user cannot call themselves",
        ),
    ];
    for (frame, call_id, code, message) in cases {
        assert_eq!(
            sim.send(ALICE, ALICE_1, frame),
            [refused(ALICE_1, call_id, code, message)]
        );
    }
    // None of them took the call id.
    assert_eq!(sim.send(ALICE, ALICE_1, invite(call, BOB)).len(), 3);
}

#[test]
fn a_call_id_in_use_or_lately_ended_is_refused() {
    let mut sim = Sim::new();
    let (call, unavailable) = (id(1), id(2));
    sim.ringing(call);
    let in_use = |call: Uuid| {
        [refused(
            CAROL_1,
            &call.to_string(),
            CallErrorCode::CallIdInUse,
            "that callId is taken",
        )]
    };
    assert_eq!(sim.send(CAROL, CAROL_1, invite(call, ALICE)), in_use(call));
    sim.send(ALICE, ALICE_1, ClientFrame::CallCancel(reference(call)));
    assert_eq!(sim.send(CAROL, CAROL_1, invite(call, ALICE)), in_use(call));

    // A call that ended at once keeps its id too.
    sim.online.retain(|u| *u != BOB);
    sim.send(ALICE, ALICE_1, invite(unavailable, BOB));
    assert_eq!(
        sim.send(CAROL, CAROL_1, invite(unavailable, ALICE)),
        in_use(unavailable)
    );
}

#[test]
fn restored_calls_wait_for_their_devices_and_unanswered_ones_fail() {
    let mut sim = Sim::new();
    let row = |call: Uuid, answered: bool| CallRow {
        id: call,
        caller: ALICE,
        callee: BOB,
        media: "audio".to_owned(),
        started_ms: EPOCH_MS - 60_000,
        answered_ms: answered.then_some(EPOCH_MS - 55_000),
        ended_ms: None,
        outcome: None,
    };
    let (both, caller_only, callee_only, nobody, unanswered) = (id(1), id(2), id(3), id(4), id(5));
    let grace = |call: Uuid| Output::Wake {
        at: sim.at(GRACE),
        timer: Timer::ResumeGrace { call, socket: AWAY },
    };
    let expected = [
        record(
            unanswered,
            "audio",
            EPOCH_MS - 60_000,
            None,
            Some((EPOCH_MS, CallOutcome::Failed)),
        ),
        grace(both),
        grace(caller_only),
        grace(callee_only),
        grace(nobody),
    ];
    assert_eq!(
        sim.input(Input::Restore(vec![
            row(both, true),
            row(caller_only, true),
            row(unanswered, false),
            row(callee_only, true),
            row(nobody, true),
        ])),
        expected
    );

    // Nothing is bound until a device resumes.
    let (alice_2, bob_2) = (21, 22);
    assert_eq!(
        sim.send(ALICE, alice_2, candidate(both, "candidate:early")),
        [not_in_call(alice_2, &both.to_string())]
    );
    let resumed = |call: Uuid, role: CallRole, peer: Uuid| {
        state(
            call,
            CallPhase::Connected,
            role,
            peer,
            vec![MediaKind::Audio],
            None,
        )
    };
    for (call, alice, bob) in [
        (both, true, true),
        (caller_only, true, false),
        (callee_only, false, true),
    ] {
        if alice {
            assert_eq!(
                sim.send(ALICE, alice_2, ClientFrame::CallResume(reference(call))),
                [Output::ToSocket(
                    alice_2,
                    resumed(call, CallRole::Caller, BOB)
                )]
            );
        }
        if bob {
            assert_eq!(
                sim.send(BOB, bob_2, ClientFrame::CallResume(reference(call))),
                [Output::ToSocket(
                    bob_2,
                    resumed(call, CallRole::Callee, ALICE)
                )]
            );
        }
    }
    assert_eq!(
        sim.send(ALICE, alice_2, candidate(both, "candidate:back")),
        [Output::ToSocket(
            bob_2,
            relayed_candidate(both, "candidate:back")
        )]
    );
    // The unanswered call is over.
    assert_eq!(
        sim.send(
            ALICE,
            alice_2,
            ClientFrame::CallResume(reference(unanswered))
        ),
        [not_in_call(alice_2, &unanswered.to_string())]
    );

    sim.advance(GRACE);
    let over = |sim: &mut Sim, call: Uuid| sim.timer(Timer::ResumeGrace { call, socket: AWAY });
    let failed = |call: Uuid| {
        record(
            call,
            "audio",
            EPOCH_MS - 60_000,
            Some(EPOCH_MS - 55_000),
            Some((EPOCH_MS + 30_000, CallOutcome::Failed)),
        )
    };
    assert_eq!(over(&mut sim, both), []);
    assert_eq!(
        over(&mut sim, caller_only),
        [
            failed(caller_only),
            Output::ToSocket(alice_2, ended(caller_only, CallOutcome::Failed)),
        ]
    );
    assert_eq!(
        over(&mut sim, callee_only),
        [
            failed(callee_only),
            Output::ToSocket(bob_2, ended(callee_only, CallOutcome::Failed)),
        ]
    );
    // Nobody came back; the frame goes to the away socket, which is
    // nobody's.
    assert_eq!(
        over(&mut sim, nobody),
        [
            failed(nobody),
            Output::ToSocket(AWAY, ended(nobody, CallOutcome::Failed)),
        ]
    );
}

#[test]
fn at_most_200_early_candidates_are_kept() {
    let mut sim = Sim::new();
    let call = id(1);
    sim.ringing(call);
    for n in 0..PENDING_CANDIDATES + 5 {
        assert_eq!(
            sim.send(ALICE, ALICE_1, candidate(call, &format!("candidate:{n}"))),
            []
        );
    }
    let out = sim.send(BOB, BOB_PHONE, accept(call));
    assert_eq!(PENDING_CANDIDATES, 200);
    assert_eq!(out.len(), 3 + 200);
    let flushed: Vec<Output> = (0..200)
        .map(|n| {
            Output::ToSocket(
                BOB_PHONE,
                relayed_candidate(call, &format!("candidate:{n}")),
            )
        })
        .collect();
    assert_eq!(out[3..], flushed[..]);
}

#[test]
fn frames_that_are_not_call_frames_are_ignored() {
    let mut sim = Sim::new();
    sim.ringing(id(1));
    assert_eq!(
        sim.send(
            ALICE,
            ALICE_1,
            ClientFrame::Typing {
                chat_id: "19:chat".to_owned()
            }
        ),
        []
    );
    assert_eq!(sim.send(ALICE, ALICE_1, ClientFrame::Unknown), []);
}

#[test]
fn a_grace_timer_the_call_never_started_changes_nothing() {
    // Such a timer is left over from an earlier call with the same id.
    let mut sim = Sim::new();
    let call = id(1);
    sim.connected(call, BOB_PHONE);
    sim.advance(GRACE);
    let stale = Timer::ResumeGrace {
        call,
        socket: BOB_PHONE,
    };
    assert_eq!(sim.timer(stale), []);
    let relayed = sim.send(ALICE, ALICE_1, candidate(call, "candidate:1"));
    assert!(
        matches!(relayed.as_slice(), [Output::ToSocket(BOB_PHONE, _)]),
        "the call goes on: {relayed:?}"
    );
}
