//! The call machine on a simulated clock, with the server's frames
//! scripted: every outcome a device sees, in microseconds. The harness in
//! `crates/server/tests/call_outcomes.rs` steps two devices through the
//! real registry.

use std::time::Duration;

use convene_proto::call::{
    Accept, CallErrorCode, CallRef, Candidate, Ended, IceCandidate, Incoming, Negotiation, State,
};

use super::*;
use crate::call::sim::{SimClock, SimDevice};

const BOB: &str = "00000000-0000-0000-0000-00000000000b";
const ALICE: &str = "00000000-0000-0000-0000-00000000000a";

fn call_ref(call_id: &str) -> CallRef {
    CallRef {
        call_id: call_id.to_owned(),
    }
}

fn candidate(n: u16) -> IceCandidate {
    IceCandidate {
        candidate: format!("candidate:{n} 1 udp 1 127.0.0.1 {} typ host", 5000 + n),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
    }
}

fn stage(device: &SimDevice) -> Option<CallStage> {
    device.view().map(|v| v.stage)
}

fn ended(device: &SimDevice) -> Option<EndReason> {
    device.view().and_then(|v| v.ended)
}

/// Alice has placed a call to Bob; the invite went out.
fn calling(clock: &SimClock, video: bool) -> (SimDevice, String) {
    let mut alice = SimDevice::new("alice");
    let call_id = alice.place(clock.now(), BOB, video);
    (alice, call_id)
}

/// Alice's call is answered and its media connected.
fn connected(clock: &mut SimClock, video: bool) -> (SimDevice, String) {
    let (mut alice, call_id) = calling(clock, video);
    let accept = Accept {
        call_id: call_id.clone(),
        sdp: "answer".into(),
        media: None,
    };
    alice.frame(
        clock.advance(Duration::from_millis(500)),
        ServerFrame::CallAccepted(accept),
    );
    alice.peer_state(
        clock.advance(Duration::from_millis(80)),
        PeerState::Connected,
    );
    alice.take_sent();
    (alice, call_id)
}

/// Bob's device hears Alice's call ring.
fn ringing(clock: &SimClock, call_id: &str) -> SimDevice {
    let mut bob = SimDevice::new("bob");
    bob.frame(
        clock.now(),
        ServerFrame::CallIncoming(Incoming {
            version: CALL_PROTOCOL_VERSION,
            call_id: call_id.to_owned(),
            caller: format!("8:orgid:{ALICE}"),
            caller_name: Some("Alice".into()),
            media: vec![MediaKind::Audio],
            sdp: "offer".into(),
        }),
    );
    bob
}

#[test]
fn placing_a_call_invites_the_callee_and_shows_it_calling() {
    let clock = SimClock::new();
    let (mut alice, call_id) = calling(&clock, true);
    let sent = alice.take_sent();
    let [ClientFrame::CallInvite(invite)] = sent.as_slice() else {
        panic!("one invite, not {sent:?}");
    };
    assert_eq!(invite.callee, format!("8:orgid:{BOB}"));
    assert_eq!(invite.call_id, call_id);
    assert_eq!(invite.media, vec![MediaKind::Audio, MediaKind::Video]);
    assert_eq!(invite.sdp, "offer of alice");
    assert_eq!(stage(&alice), Some(CallStage::Calling));
    assert!(matches!(alice.last_reply_view(), Some(Ok(v)) if v.call_id == call_id));
    assert!(alice.machine.poll_timeout().is_some(), "a call wants ticks");
}

#[test]
fn a_second_call_is_refused_and_an_offline_one_is_never_placed() {
    let clock = SimClock::new();
    let (mut alice, _) = calling(&clock, false);
    alice.take_sent();
    alice.place(clock.now(), BOB, false);
    assert_eq!(alice.last_reply_view(), Some(&Err(CallError::Busy)));
    assert!(alice.take_sent().is_empty());

    let mut offline = SimDevice::new("carol");
    offline.online = false;
    offline.place(clock.now(), BOB, false);
    assert_eq!(offline.last_reply_view(), Some(&Err(CallError::Offline)));
    assert!(offline.published.is_empty());
    assert!(offline.machine.current().is_none());
    assert_eq!(offline.machine.poll_timeout(), None);
}

#[test]
fn a_connection_that_cannot_be_made_fails_the_call_before_it_is_announced() {
    let clock = SimClock::new();
    let mut alice = SimDevice::new("alice");
    alice.peer.fail_with = Some("no certificate".into());
    alice.place(clock.now(), BOB, false);
    assert_eq!(
        alice.last_reply_view(),
        Some(&Err(CallError::Media("no certificate".into())))
    );
    assert!(alice.take_sent().is_empty());
    assert!(alice.published.is_empty());
    assert!(alice.machine.current().is_none());
}

#[test]
fn ringing_answer_and_media_take_the_caller_to_connected_with_timings() {
    let mut clock = SimClock::new();
    let (mut alice, call_id) = calling(&clock, false);
    alice.frame(
        clock.advance(Duration::from_millis(120)),
        ServerFrame::CallRinging(call_ref(&call_id)),
    );
    assert_eq!(stage(&alice), Some(CallStage::Ringing));
    // A candidate of the callee before its answer waits for the answer.
    alice.frame(
        clock.advance(Duration::from_millis(1)),
        ServerFrame::CallCandidate(Candidate {
            call_id: call_id.clone(),
            candidate: Some(candidate(1)),
        }),
    );
    assert!(!alice
        .peer_actions
        .iter()
        .any(|a| matches!(a, PeerAction::AddCandidates(_))));
    let accept = Accept {
        call_id: call_id.clone(),
        sdp: "answer".into(),
        media: None,
    };
    alice.frame(
        clock.advance(Duration::from_secs(3)),
        ServerFrame::CallAccepted(accept),
    );
    assert_eq!(stage(&alice), Some(CallStage::Connecting));
    let actions = &alice.peer_actions;
    assert!(actions.contains(&PeerAction::TakeAnswer {
        sdp: "answer".into()
    }));
    assert_eq!(
        actions.last(),
        Some(&PeerAction::AddCandidates(vec![candidate(1)]))
    );
    alice.peer_state(
        clock.advance(Duration::from_millis(40)),
        PeerState::Connected,
    );
    let view = alice.view().expect("published");
    assert_eq!(view.stage, CallStage::Connected);
    assert_eq!(view.connected_at_ms, Some(clock.now().unix_ms));
    assert!(alice.peer_actions.contains(&PeerAction::StartAudio));
    assert!(
        !alice.peer_actions.contains(&PeerAction::StartVideo),
        "no camera, no video sender"
    );
    let times = alice.machine.times().expect("a call");
    assert_eq!(times.ringing_after, Some(Duration::from_millis(120)));
    assert_eq!(times.connected_after, Some(Duration::from_millis(40)));
}

#[test]
fn the_camera_sends_once_media_flows_and_turning_it_on_later_starts_it() {
    let mut clock = SimClock::new();
    let (alice, _) = connected(&mut clock, true);
    assert_eq!(
        alice
            .peer_actions
            .iter()
            .filter(|a| **a == PeerAction::StartVideo)
            .count(),
        1
    );

    let (mut alice, _) = connected(&mut clock, false);
    alice.command(clock.now(), Command::Camera(true));
    assert!(alice.peer_actions.contains(&PeerAction::StartVideo));
    assert!(alice.view().is_some_and(|v| v.camera_on));
    alice.command(clock.now(), Command::Camera(false));
    alice.command(clock.now(), Command::Camera(true));
    let starts = alice
        .peer_actions
        .iter()
        .filter(|a| **a == PeerAction::StartVideo);
    assert_eq!(starts.count(), 1, "one video sender for the call");
}

#[test]
fn an_incoming_call_rings_prepares_a_connection_and_answering_accepts() {
    let mut clock = SimClock::new();
    let mut bob = ringing(&clock, "call-1");
    assert_eq!(
        bob.take_sent(),
        vec![ClientFrame::CallRinging(call_ref("call-1"))]
    );
    let view = bob.view().expect("published");
    assert_eq!(view.stage, CallStage::Incoming);
    assert_eq!(view.peer.user_id, ALICE);
    assert_eq!(view.peer.name.as_deref(), Some("Alice"));
    assert_eq!(
        bob.peer_actions,
        vec![PeerAction::Prepare {
            offer: "offer".into()
        }]
    );
    // The caller's candidates go to the prepared connection at once.
    bob.frame(
        clock.now(),
        ServerFrame::CallCandidate(Candidate {
            call_id: "call-1".into(),
            candidate: Some(candidate(2)),
        }),
    );
    assert_eq!(
        bob.peer_actions.last(),
        Some(&PeerAction::AddCandidates(vec![candidate(2)]))
    );
    bob.command(
        clock.advance(Duration::from_secs(2)),
        Command::Answer {
            call_id: "call-1".into(),
            video: true,
        },
    );
    assert_eq!(
        bob.peer_actions.last(),
        Some(&PeerAction::Answer { offer: None }),
        "the prepared connection answers"
    );
    let sent = bob.take_sent();
    let [ClientFrame::CallAccept(accept)] = sent.as_slice() else {
        panic!("one accept, not {sent:?}");
    };
    assert_eq!(accept.sdp, "answer of bob");
    assert_eq!(accept.media, Some(vec![MediaKind::Audio, MediaKind::Video]));
    assert_eq!(stage(&bob), Some(CallStage::Connecting));
    assert!(matches!(bob.last_reply_view(), Some(Ok(v)) if v.camera_on));
    bob.peer_state(
        clock.advance(Duration::from_millis(30)),
        PeerState::Connected,
    );
    assert_eq!(stage(&bob), Some(CallStage::Connected));
    assert_eq!(
        bob.machine.times().and_then(|t| t.connected_after),
        Some(Duration::from_millis(30))
    );
}

#[test]
fn answering_a_call_that_is_not_ringing_here_is_refused() {
    let clock = SimClock::new();
    let mut bob = ringing(&clock, "call-1");
    bob.command(
        clock.now(),
        Command::Answer {
            call_id: "another".into(),
            video: false,
        },
    );
    assert_eq!(bob.last_reply_view(), Some(&Err(CallError::NoSuchCall)));
    assert_eq!(stage(&bob), Some(CallStage::Incoming));
}

#[test]
fn a_connection_prepared_while_ringing_that_times_out_is_rebuilt_on_answer() {
    let mut clock = SimClock::new();
    let mut bob = ringing(&clock, "call-1");
    bob.peer_state(clock.advance(Duration::from_secs(18)), PeerState::Failed);
    assert_eq!(bob.peer_actions.last(), Some(&PeerAction::Close));
    assert_eq!(stage(&bob), Some(CallStage::Incoming), "it still rings");
    bob.command(
        clock.advance(Duration::from_secs(1)),
        Command::Answer {
            call_id: "call-1".into(),
            video: false,
        },
    );
    assert!(bob.peer_actions.contains(&PeerAction::Answer {
        offer: Some("offer".into())
    }));
    assert!(matches!(bob.last_reply_view(), Some(Ok(_))));
}

#[test]
fn an_answer_that_cannot_be_made_declines_and_fails() {
    let clock = SimClock::new();
    let mut bob = ringing(&clock, "call-1");
    bob.take_sent();
    bob.peer.fail_with = Some("bad offer".into());
    bob.command(
        clock.now(),
        Command::Answer {
            call_id: "call-1".into(),
            video: false,
        },
    );
    assert_eq!(
        bob.take_sent(),
        vec![ClientFrame::CallDecline(call_ref("call-1"))]
    );
    assert_eq!(ended(&bob), Some(EndReason::Failed));
    assert_eq!(
        bob.view().and_then(|v| v.error.clone()).as_deref(),
        Some("bad offer")
    );
    assert_eq!(
        bob.last_reply_view(),
        Some(&Err(CallError::Media("bad offer".into())))
    );
}

#[test]
fn declining_says_so_and_ends_the_call_here() {
    let clock = SimClock::new();
    let mut bob = ringing(&clock, "call-1");
    bob.take_sent();
    bob.command(
        clock.now(),
        Command::Decline {
            call_id: "call-1".into(),
        },
    );
    assert_eq!(
        bob.take_sent(),
        vec![ClientFrame::CallDecline(call_ref("call-1"))]
    );
    assert_eq!(ended(&bob), Some(EndReason::HungUp));
    assert_eq!(bob.replies.last(), Some(&Reply::Done(Ok(()))));
    assert!(bob.machine.current().is_none());
    assert!(!bob.has_connection, "the prepared connection is closed");
    bob.command(
        clock.now(),
        Command::Decline {
            call_id: "call-1".into(),
        },
    );
    assert_eq!(
        bob.replies.last(),
        Some(&Reply::Done(Err(CallError::NoSuchCall)))
    );
}

#[test]
fn hanging_up_cancels_declines_or_hangs_up_by_the_call_stage() {
    let mut clock = SimClock::new();
    let (mut alice, id) = calling(&clock, false);
    alice.take_sent();
    alice.command(clock.now(), Command::HangUp);
    assert_eq!(
        alice.take_sent(),
        vec![ClientFrame::CallCancel(call_ref(&id))]
    );
    assert_eq!(ended(&alice), Some(EndReason::HungUp));

    let mut bob = ringing(&clock, "call-2");
    bob.take_sent();
    bob.command(clock.now(), Command::HangUp);
    assert_eq!(
        bob.take_sent(),
        vec![ClientFrame::CallDecline(call_ref("call-2"))]
    );

    let (mut alice, id) = connected(&mut clock, false);
    alice.command(clock.now(), Command::HangUp);
    assert_eq!(
        alice.take_sent(),
        vec![ClientFrame::CallHangup(call_ref(&id))]
    );
    assert_eq!(alice.replies.last(), Some(&Reply::Done(Ok(()))));
    alice.command(clock.now(), Command::HangUp);
    assert_eq!(
        alice.replies.last(),
        Some(&Reply::Done(Err(CallError::NoSuchCall)))
    );
}

#[test]
fn each_outcome_from_the_server_ends_the_call_with_its_reason() {
    let clock = SimClock::new();
    let cases = [
        (
            CallOutcome::HungUp,
            EndReason::RemoteHungUp,
            EndReason::RemoteHungUp,
        ),
        (
            CallOutcome::Declined,
            EndReason::Declined,
            EndReason::Declined,
        ),
        (
            CallOutcome::Cancelled,
            EndReason::HungUp,
            EndReason::Cancelled,
        ),
        (CallOutcome::Busy, EndReason::Busy, EndReason::Busy),
        (
            CallOutcome::NoAnswer,
            EndReason::NoAnswer,
            EndReason::NoAnswer,
        ),
        (
            CallOutcome::Unavailable,
            EndReason::Unavailable,
            EndReason::Unavailable,
        ),
        (CallOutcome::Failed, EndReason::Failed, EndReason::Failed),
    ];
    for (outcome, as_caller, as_callee) in cases {
        let (mut alice, id) = calling(&clock, false);
        let frame = ServerFrame::CallEnded(Ended {
            call_id: id.clone(),
            outcome,
        });
        alice.frame(clock.now(), frame);
        assert_eq!(ended(&alice), Some(as_caller), "{outcome:?}, caller");
        assert!(alice.machine.current().is_none());

        let mut bob = ringing(&clock, "call-1");
        let frame = ServerFrame::CallEnded(Ended {
            call_id: "call-1".into(),
            outcome,
        });
        bob.frame(clock.now(), frame);
        assert_eq!(ended(&bob), Some(as_callee), "{outcome:?}, callee");
    }
}

#[test]
fn another_device_answering_or_declining_ends_the_ring_here() {
    let clock = SimClock::new();
    let mut bob = ringing(&clock, "call-1");
    bob.frame(
        clock.now(),
        ServerFrame::CallAnsweredElsewhere(call_ref("call-1")),
    );
    assert_eq!(ended(&bob), Some(EndReason::AnsweredElsewhere));
    assert!(!bob.has_connection);

    let mut bob = ringing(&clock, "call-1");
    bob.frame(
        clock.now(),
        ServerFrame::CallDeclinedElsewhere(call_ref("call-1")),
    );
    assert_eq!(ended(&bob), Some(EndReason::DeclinedElsewhere));
}

#[test]
fn frames_about_another_call_change_nothing() {
    let clock = SimClock::new();
    let (mut alice, _) = calling(&clock, false);
    let before = alice.published.len();
    alice.frame(
        clock.now(),
        ServerFrame::CallAnsweredElsewhere(call_ref("other")),
    );
    alice.frame(
        clock.now(),
        ServerFrame::CallEnded(Ended {
            call_id: "other".into(),
            outcome: CallOutcome::HungUp,
        }),
    );
    assert_eq!(alice.published.len(), before);
    assert_eq!(stage(&alice), Some(CallStage::Calling));

    // A second ring during a call is not taken.
    let mut bob = ringing(&clock, "call-1");
    bob.take_sent();
    let incoming = ServerFrame::CallIncoming(Incoming {
        version: CALL_PROTOCOL_VERSION,
        call_id: "call-2".into(),
        caller: format!("8:orgid:{ALICE}"),
        caller_name: None,
        media: vec![MediaKind::Audio],
        sdp: "offer".into(),
    });
    bob.frame(clock.now(), incoming);
    assert_eq!(bob.call_id().as_deref(), Some("call-1"));
    assert!(bob.take_sent().is_empty());
}

#[test]
fn a_hang_up_that_cannot_go_is_said_after_the_reconnect() {
    let mut clock = SimClock::new();
    let (mut alice, id) = connected(&mut clock, false);
    alice.online = false;
    alice.command(clock.now(), Command::HangUp);
    assert!(alice.take_sent().is_empty());
    assert_eq!(ended(&alice), Some(EndReason::HungUp), "ended here at once");
    alice.reconnected(clock.advance(Duration::from_secs(5)));
    assert_eq!(
        alice.take_sent(),
        vec![
            ClientFrame::CallResume(call_ref(&id)),
            ClientFrame::CallHangup(call_ref(&id)),
        ]
    );
    alice.reconnected(clock.advance(Duration::from_secs(5)));
    assert!(alice.take_sent().is_empty(), "said once");
}

#[test]
fn a_new_socket_resumes_the_call_going_on() {
    let mut clock = SimClock::new();
    let (mut alice, id) = connected(&mut clock, false);
    alice.reconnected(clock.advance(Duration::from_secs(1)));
    assert_eq!(
        alice.take_sent(),
        vec![ClientFrame::CallResume(call_ref(&id))]
    );
    // The server knew the call ended meanwhile.
    alice.frame(
        clock.now(),
        ServerFrame::CallState(State {
            call_id: id.clone(),
            state: CallPhase::Ended,
            role: None,
            peer: None,
            media: Vec::new(),
            outcome: Some(CallOutcome::HungUp),
        }),
    );
    assert_eq!(ended(&alice), Some(EndReason::RemoteHungUp));
}

#[test]
fn a_refused_resume_keeps_a_call_whose_media_flows_and_fails_one_that_does_not() {
    let mut clock = SimClock::new();
    let refused = |id: &str| {
        ServerFrame::CallError(proto::CallError {
            call_id: Some(id.to_owned()),
            code: CallErrorCode::NotInCall,
            message: "no such call of yours".into(),
        })
    };
    let (mut alice, id) = connected(&mut clock, false);
    alice.frame(clock.now(), refused(&id));
    assert_eq!(stage(&alice), Some(CallStage::Connected));

    let (mut alice, id) = calling(&clock, false);
    alice.frame(clock.now(), refused(&id));
    assert_eq!(ended(&alice), Some(EndReason::Failed));
    assert_eq!(
        alice.view().and_then(|v| v.error.clone()).as_deref(),
        Some("no such call of yours")
    );
}

#[test]
fn the_caller_restarts_ice_every_4_s_while_lost_and_gives_up_after_30_s() {
    let mut clock = SimClock::new();
    let (mut alice, id) = connected(&mut clock, false);
    let restarts = |device: &SimDevice| {
        device
            .peer_actions
            .iter()
            .filter(|a| **a == PeerAction::RestartIce)
            .count()
    };
    alice.peer_state(
        clock.advance(Duration::from_millis(10)),
        PeerState::Disconnected,
    );
    assert_eq!(stage(&alice), Some(CallStage::Reconnecting));
    assert_eq!(restarts(&alice), 1, "at once");
    let sent = alice.take_sent();
    assert!(
        matches!(sent.as_slice(), [ClientFrame::CallOffer(Negotiation { sdp, .. })] if sdp == "restart offer of alice"),
        "{sent:?}"
    );
    let answer = ServerFrame::CallAnswer(Negotiation {
        call_id: id.clone(),
        sdp: "restart answer".into(),
        media: None,
    });
    alice.frame(clock.now(), answer.clone());
    // The other side answers each offer: a new one every 4 s.
    let mut at_restart = vec![clock.elapsed()];
    let lost_at = clock.elapsed();
    while clock.elapsed() - lost_at <= Duration::from_secs(40) && alice.machine.current().is_some()
    {
        let before = restarts(&alice);
        alice.advance(clock.advance(Duration::from_millis(100)));
        if restarts(&alice) > before {
            at_restart.push(clock.elapsed());
            alice.frame(clock.now(), answer.clone());
        }
    }
    let gaps: Vec<u128> = at_restart
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    assert!(!gaps.is_empty());
    assert!(
        gaps.iter().all(|gap| *gap == 4_000),
        "restart gaps {gaps:?}"
    );
    let gave_up_after = clock.elapsed() - lost_at;
    assert!(
        (Duration::from_secs(30)..=Duration::from_millis(30_100)).contains(&gave_up_after),
        "gave up after {gave_up_after:?}"
    );
    assert_eq!(ended(&alice), Some(EndReason::Failed));
    assert_eq!(
        alice.view().and_then(|v| v.error.clone()).as_deref(),
        Some("the connection was lost")
    );
    assert_eq!(
        alice.take_sent().last(),
        Some(&ClientFrame::CallHangup(call_ref(&id)))
    );
}

#[test]
fn an_unanswered_restart_offer_waits_12_s_before_another() {
    let mut clock = SimClock::new();
    let (mut alice, _) = connected(&mut clock, false);
    alice.peer_state(clock.advance(Duration::from_millis(10)), PeerState::Failed);
    let lost_at = clock.elapsed();
    let mut restarts_at = Vec::new();
    let mut seen = 1;
    while clock.elapsed() - lost_at < Duration::from_secs(29) {
        alice.advance(clock.advance(Duration::from_millis(100)));
        let now = alice
            .peer_actions
            .iter()
            .filter(|a| **a == PeerAction::RestartIce)
            .count();
        if now > seen {
            seen = now;
            restarts_at.push((clock.elapsed() - lost_at).as_secs());
        }
    }
    assert_eq!(restarts_at, vec![12, 24], "no answer: every 12 s");
}

#[test]
fn media_back_before_the_give_up_keeps_the_call() {
    let mut clock = SimClock::new();
    let (mut alice, _) = connected(&mut clock, false);
    alice.peer_state(
        clock.advance(Duration::from_millis(10)),
        PeerState::Disconnected,
    );
    for _ in 0..100 {
        alice.advance(clock.advance(Duration::from_millis(200)));
    }
    alice.peer_state(clock.now(), PeerState::Connected);
    assert_eq!(stage(&alice), Some(CallStage::Connected));
    for _ in 0..200 {
        alice.advance(clock.advance(Duration::from_millis(200)));
    }
    assert_eq!(stage(&alice), Some(CallStage::Connected), "40 s later");
    let audio_starts = alice
        .peer_actions
        .iter()
        .filter(|a| **a == PeerAction::StartAudio);
    assert_eq!(audio_starts.count(), 1, "senders are started once");
}

#[test]
fn the_callee_never_restarts_ice_and_answers_the_callers_restart() {
    let mut clock = SimClock::new();
    let mut bob = ringing(&clock, "call-1");
    bob.command(
        clock.now(),
        Command::Answer {
            call_id: "call-1".into(),
            video: false,
        },
    );
    bob.peer_state(
        clock.advance(Duration::from_millis(50)),
        PeerState::Connected,
    );
    bob.take_sent();
    bob.peer_state(
        clock.advance(Duration::from_millis(50)),
        PeerState::Disconnected,
    );
    for _ in 0..20 {
        bob.advance(clock.advance(Duration::from_millis(500)));
    }
    assert!(!bob.peer_actions.contains(&PeerAction::RestartIce));
    bob.frame(
        clock.now(),
        ServerFrame::CallOffer(Negotiation {
            call_id: "call-1".into(),
            sdp: "restart offer".into(),
            media: None,
        }),
    );
    assert!(bob.peer_actions.contains(&PeerAction::AnswerRenegotiation {
        sdp: "restart offer".into()
    }));
    let sent = bob.take_sent();
    assert!(
        matches!(sent.as_slice(), [ClientFrame::CallAnswer(Negotiation { sdp, .. })] if sdp == "renegotiation answer of bob"),
        "{sent:?}"
    );
}

#[test]
fn a_connection_that_fails_before_media_ends_the_call_failed() {
    let mut clock = SimClock::new();
    let (mut alice, id) = calling(&clock, false);
    let accept = Accept {
        call_id: id.clone(),
        sdp: "answer".into(),
        media: None,
    };
    alice.frame(clock.now(), ServerFrame::CallAccepted(accept));
    alice.take_sent();
    alice.peer_state(clock.advance(Duration::from_secs(18)), PeerState::Failed);
    assert_eq!(
        alice.take_sent(),
        vec![ClientFrame::CallHangup(call_ref(&id))]
    );
    assert_eq!(ended(&alice), Some(EndReason::Failed));
    assert_eq!(
        alice.view().and_then(|v| v.error.clone()).as_deref(),
        Some("no network path to the other side")
    );
}

#[test]
fn local_candidates_trickle_and_the_end_of_candidates_is_said() {
    let clock = SimClock::new();
    let (mut alice, id) = calling(&clock, false);
    alice.take_sent();
    for candidate in [Some(candidate(1)), None] {
        let event = PeerEvent::Candidate(candidate.clone());
        alice.input(
            clock.now(),
            Input::Peer {
                call_id: id.clone(),
                event,
            },
        );
        assert_eq!(
            alice.take_sent(),
            vec![ClientFrame::CallCandidate(Candidate {
                call_id: id.clone(),
                candidate,
            })]
        );
    }
    // An event of an earlier call's connection is not this call's.
    let event = PeerEvent::Candidate(Some(candidate(2)));
    alice.input(
        clock.now(),
        Input::Peer {
            call_id: "an-old-call".into(),
            event,
        },
    );
    assert!(alice.take_sent().is_empty());
    // The other side's end of candidates asks nothing of the connection.
    let before = alice.peer_actions.len();
    alice.frame(
        clock.now(),
        ServerFrame::CallCandidate(Candidate {
            call_id: id,
            candidate: None,
        }),
    );
    assert_eq!(alice.peer_actions.len(), before);
}

#[test]
fn quality_is_read_every_2_s_while_connected_and_shows_arriving_video() {
    let mut clock = SimClock::new();
    let (mut alice, _) = connected(&mut clock, true);
    let reads = |device: &SimDevice| {
        device
            .peer_actions
            .iter()
            .filter(|a| **a == PeerAction::ReadStats)
            .count()
    };
    let start = reads(&alice);
    for _ in 0..50 {
        alice.advance(clock.advance(Duration::from_millis(100)));
    }
    assert_eq!(reads(&alice) - start, 2, "5 s: two readings");
    assert!(alice.view().is_some_and(|v| v.quality.is_some()));
    assert!(alice.view().is_some_and(|v| !v.remote_video));
    alice.input(clock.now(), Input::VideoArrived);
    assert!(
        alice.view().is_some_and(|v| v.remote_video),
        "shown at once"
    );
    alice.video_frames_decoded = 60;
    alice.advance(clock.advance(Duration::from_secs(2)));
    assert!(alice.view().is_some_and(|v| v.remote_video));
    alice.advance(clock.advance(Duration::from_secs(2)));
    assert!(
        alice.view().is_some_and(|v| !v.remote_video),
        "no new frames: hidden"
    );
}

#[test]
fn mute_and_camera_change_the_view_and_need_a_call() {
    let mut clock = SimClock::new();
    let mut idle = SimDevice::new("dave");
    idle.command(clock.now(), Command::Mute(true));
    assert_eq!(idle.last_reply_view(), Some(&Err(CallError::NoSuchCall)));
    let (mut alice, _) = connected(&mut clock, false);
    alice.command(clock.now(), Command::Mute(true));
    assert!(matches!(alice.last_reply_view(), Some(Ok(v)) if v.muted));
    assert!(alice.view().is_some_and(|v| v.muted));
}

#[test]
fn a_failed_invite_ends_the_call_and_says_offline() {
    let clock = SimClock::new();
    let mut alice = SimDevice::new("alice");
    // The channel drops between the check and the send.
    let command = Command::Place {
        call_id: "c".into(),
        callee: CallPeer {
            user_id: BOB.into(),
            name: None,
        },
        video: false,
        online: true,
    };
    alice.online = false;
    alice.command(clock.now(), command);
    assert_eq!(alice.last_reply_view(), Some(&Err(CallError::Offline)));
    assert_eq!(ended(&alice), Some(EndReason::Failed));
    assert!(!alice.has_connection);
}
