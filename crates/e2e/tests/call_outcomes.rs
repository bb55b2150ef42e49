//! Every call outcome the signaling protocol knows, end to end through the
//! real decision-makers: client call machines on several devices stepped
//! through convene-server's call registry on one simulated clock. The
//! whole file runs in milliseconds; the process tests keep only what real
//! sockets, processes and media show.

use std::time::Duration;

use convene_core::call::machine::{Command, PeerState};
use convene_core::call::{CallStage, EndReason};
use convene_e2e::{CallNet, DeviceId};
use convene_server::call::CallSettings;

const RING_TIMEOUT: Duration = Duration::from_secs(45);
const RESUME_GRACE: Duration = Duration::from_secs(30);

fn net() -> CallNet {
    CallNet::new(&CallSettings {
        ring_timeout: RING_TIMEOUT,
        resume_grace: RESUME_GRACE,
        ..CallSettings::default()
    })
}

/// Alice (one device) and Bob (a desk and a laptop).
fn alice_and_bob() -> (CallNet, DeviceId, DeviceId, DeviceId) {
    let mut net = net();
    let alice = net.device("alice");
    let desk = net.device("bob");
    let laptop = net.device("bob");
    (net, alice, desk, laptop)
}

/// Alice calls Bob, his desk answers and media connects.
fn connected_call() -> (CallNet, DeviceId, DeviceId, DeviceId, String) {
    let (mut net, alice, desk, laptop) = alice_and_bob();
    let call = net.place(alice, "bob", false);
    net.answer(desk, false);
    net.media(&[alice, desk], PeerState::Connected);
    assert_eq!(net.stage(alice), Some(CallStage::Connected));
    assert_eq!(net.stage(desk), Some(CallStage::Connected));
    (net, alice, desk, laptop, call)
}

#[test]
fn a_call_rings_on_every_device_and_the_one_that_answers_takes_it() {
    let (mut net, alice, desk, laptop) = alice_and_bob();
    let call = net.place(alice, "bob", true);
    assert_eq!(net.stage(desk), Some(CallStage::Incoming));
    assert_eq!(net.stage(laptop), Some(CallStage::Incoming));
    assert_eq!(
        net.stage(alice),
        Some(CallStage::Ringing),
        "told once both rang"
    );
    assert_eq!(
        net.view(desk).and_then(|v| v.peer.name.clone()).as_deref(),
        Some("alice")
    );

    net.clock.advance(Duration::from_secs(3));
    net.answer(laptop, true);
    assert_eq!(net.ended(desk), Some(EndReason::AnsweredElsewhere));
    assert_eq!(net.stage(laptop), Some(CallStage::Connecting));
    assert_eq!(net.stage(alice), Some(CallStage::Connecting));
    net.media(&[alice, laptop], PeerState::Connected);
    assert_eq!(net.stage(alice), Some(CallStage::Connected));
    let record = net.record(&call).expect("recorded");
    assert!(record.answered_ms.is_some());
    assert_eq!(record.outcome, None, "the call goes on");
    assert_eq!(record.media, "audio,video");

    net.run_for(Duration::from_secs(60));
    assert_eq!(
        net.stage(alice),
        Some(CallStage::Connected),
        "a minute later"
    );
    net.hang_up(alice);
    assert_eq!(net.ended(alice), Some(EndReason::HungUp));
    assert_eq!(net.ended(laptop), Some(EndReason::RemoteHungUp));
    assert_eq!(net.ended(desk), Some(EndReason::AnsweredElsewhere));
    let record = net.record(&call).expect("recorded");
    assert_eq!(record.outcome.as_deref(), Some("hungUp"));
    let answered = record.answered_ms.expect("answered");
    assert_eq!(record.ended_ms.map(|end| end - answered), Some(60_000));
}

#[test]
fn the_callee_hanging_up_ends_the_call_for_the_caller() {
    let (mut net, alice, desk, _, call) = connected_call();
    net.hang_up(desk);
    assert_eq!(net.ended(desk), Some(EndReason::HungUp));
    assert_eq!(net.ended(alice), Some(EndReason::RemoteHungUp));
    assert_eq!(
        net.record(&call).and_then(|r| r.outcome.clone()).as_deref(),
        Some("hungUp")
    );
}

#[test]
fn declining_on_one_device_stops_the_ring_on_the_others() {
    let (mut net, alice, desk, laptop) = alice_and_bob();
    let call = net.place(alice, "bob", false);
    let call_id = net.call_id(desk).expect("rings");
    net.command(desk, Command::Decline { call_id });
    assert_eq!(net.ended(alice), Some(EndReason::Declined));
    assert_eq!(net.ended(desk), Some(EndReason::HungUp));
    assert_eq!(net.ended(laptop), Some(EndReason::DeclinedElsewhere));
    assert_eq!(
        net.record(&call).and_then(|r| r.outcome.clone()).as_deref(),
        Some("declined")
    );
}

#[test]
fn the_caller_cancelling_stops_the_ring_everywhere() {
    let (mut net, alice, desk, laptop) = alice_and_bob();
    let call = net.place(alice, "bob", false);
    net.clock.advance(Duration::from_secs(5));
    net.hang_up(alice);
    assert_eq!(net.ended(alice), Some(EndReason::HungUp));
    assert_eq!(net.ended(desk), Some(EndReason::Cancelled));
    assert_eq!(net.ended(laptop), Some(EndReason::Cancelled));
    assert_eq!(
        net.record(&call).and_then(|r| r.outcome.clone()).as_deref(),
        Some("cancelled")
    );
}

#[test]
fn calling_someone_in_a_call_is_busy_and_their_call_goes_on() {
    let (mut net, alice, desk, laptop, _) = connected_call();
    let carol = net.device("carol");
    let call = net.place(carol, "bob", false);
    assert_eq!(net.ended(carol), Some(EndReason::Busy));
    assert_eq!(net.stage(desk), Some(CallStage::Connected));
    assert_eq!(net.stage(alice), Some(CallStage::Connected));
    assert_eq!(
        net.ended(laptop),
        Some(EndReason::AnsweredElsewhere),
        "the laptop never heard Carol's call"
    );
    assert_eq!(
        net.record(&call).and_then(|r| r.outcome.clone()).as_deref(),
        Some("busy")
    );
}

#[test]
fn calling_someone_signed_out_everywhere_is_unavailable() {
    let (mut net, alice, desk, laptop) = alice_and_bob();
    net.disconnect(desk);
    net.disconnect(laptop);
    net.place(alice, "bob", false);
    assert_eq!(net.ended(alice), Some(EndReason::Unavailable));
    assert_eq!(net.view(desk), None, "never rang");
}

#[test]
fn an_unanswered_call_ends_at_the_ring_timeout_and_not_before() {
    let (mut net, alice, desk, laptop) = alice_and_bob();
    let call = net.place(alice, "bob", false);
    net.run_for(RING_TIMEOUT - Duration::from_millis(1));
    assert_eq!(net.stage(alice), Some(CallStage::Ringing));
    assert_eq!(net.stage(desk), Some(CallStage::Incoming));
    net.run_for(Duration::from_millis(1));
    assert_eq!(net.ended(alice), Some(EndReason::NoAnswer));
    assert_eq!(net.ended(desk), Some(EndReason::NoAnswer));
    assert_eq!(net.ended(laptop), Some(EndReason::NoAnswer));
    let record = net.record(&call).expect("recorded");
    assert_eq!(record.outcome.as_deref(), Some("noAnswer"));
    assert_eq!(
        record.ended_ms.map(|end| end - record.started_ms),
        Some(45_000)
    );
}

#[test]
fn a_device_that_connects_while_it_rings_rings_too_and_can_answer() {
    let mut net = net();
    let alice = net.device("alice");
    let desk = net.device("bob");
    net.place(alice, "bob", false);
    net.run_for(Duration::from_secs(10));
    let phone = net.device("bob");
    assert_eq!(net.stage(phone), Some(CallStage::Incoming));
    net.answer(phone, false);
    assert_eq!(net.ended(desk), Some(EndReason::AnsweredElsewhere));
    net.media(&[alice, phone], PeerState::Connected);
    assert_eq!(net.stage(alice), Some(CallStage::Connected));
}

#[test]
fn a_device_that_drops_and_resumes_within_the_grace_keeps_the_call() {
    let (mut net, alice, desk, _, call) = connected_call();
    net.disconnect(desk);
    net.run_for(RESUME_GRACE - Duration::from_secs(1));
    assert_eq!(net.stage(alice), Some(CallStage::Connected));
    net.connect(desk);
    net.run_for(Duration::from_secs(60));
    assert_eq!(net.stage(alice), Some(CallStage::Connected));
    assert_eq!(net.stage(desk), Some(CallStage::Connected));
    // The resumed socket is the call's now: its hang-up reaches Alice.
    net.hang_up(desk);
    assert_eq!(net.ended(alice), Some(EndReason::RemoteHungUp));
    assert_eq!(
        net.record(&call).and_then(|r| r.outcome.clone()).as_deref(),
        Some("hungUp")
    );
}

#[test]
fn a_device_away_past_the_grace_ends_the_call_as_failed_on_both_sides() {
    let (mut net, alice, desk, _, call) = connected_call();
    net.disconnect(desk);
    net.run_for(RESUME_GRACE - Duration::from_millis(1));
    assert_eq!(net.stage(alice), Some(CallStage::Connected));
    net.run_for(Duration::from_millis(1));
    assert_eq!(net.ended(alice), Some(EndReason::Failed));
    assert_eq!(
        net.record(&call).and_then(|r| r.outcome.clone()).as_deref(),
        Some("failed")
    );
    // Coming back later, the device hears how the call ended.
    net.run_for(Duration::from_secs(10));
    assert_eq!(
        net.stage(desk),
        Some(CallStage::Connected),
        "it did not know"
    );
    net.connect(desk);
    assert_eq!(net.ended(desk), Some(EndReason::Failed));
}

#[test]
fn a_hang_up_made_while_offline_reaches_the_other_side_after_the_reconnect() {
    let (mut net, alice, desk, _, _) = connected_call();
    net.disconnect(alice);
    net.hang_up(alice);
    assert_eq!(net.ended(alice), Some(EndReason::HungUp));
    assert_eq!(net.stage(desk), Some(CallStage::Connected));
    net.run_for(Duration::from_secs(5));
    net.connect(alice);
    assert_eq!(net.ended(desk), Some(EndReason::RemoteHungUp));
}

#[test]
fn lost_media_restarts_ice_through_the_server_until_it_comes_back() {
    let (mut net, alice, desk, _, _) = connected_call();
    net.media(&[alice, desk], PeerState::Disconnected);
    assert_eq!(net.stage(alice), Some(CallStage::Reconnecting));
    assert_eq!(net.stage(desk), Some(CallStage::Reconnecting));
    net.run_for(Duration::from_secs(10));
    // Each restart offer went through the server and came back answered,
    // so they came every 4 s: at 0, 4 and 8 s.
    let restarts = net.devices[alice]
        .sim
        .peer_actions
        .iter()
        .filter(|a| matches!(a, convene_core::call::machine::PeerAction::RestartIce))
        .count();
    assert_eq!(restarts, 3);
    let answered = net.devices[desk]
        .sim
        .peer_actions
        .iter()
        .filter(|a| {
            matches!(
                a,
                convene_core::call::machine::PeerAction::AnswerRenegotiation { .. }
            )
        })
        .count();
    assert_eq!(answered, 3, "the callee answered each");
    net.media(&[alice, desk], PeerState::Connected);
    net.run_for(Duration::from_secs(60));
    assert_eq!(net.stage(alice), Some(CallStage::Connected));
    assert_eq!(net.stage(desk), Some(CallStage::Connected));
}

#[test]
fn media_lost_for_30_s_ends_the_call_and_the_other_side_hears_it() {
    let (mut net, alice, desk, _, call) = connected_call();
    // The callee's connection notices a second later.
    net.media(&[alice], PeerState::Disconnected);
    net.run_for(Duration::from_secs(1));
    net.media(&[desk], PeerState::Disconnected);
    net.run_for(Duration::from_secs(28));
    assert_eq!(net.stage(alice), Some(CallStage::Reconnecting));
    net.run_for(Duration::from_secs(1));
    assert_eq!(net.ended(alice), Some(EndReason::Failed));
    assert_eq!(net.ended(desk), Some(EndReason::RemoteHungUp));
    assert_eq!(
        net.record(&call).and_then(|r| r.outcome.clone()).as_deref(),
        Some("hungUp")
    );
}
