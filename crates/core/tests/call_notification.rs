//! The incoming-call notification on a real notification service (dunst on
//! this test's D-Bus session and X display): the buttons a person sees, the
//! choice they make reaching the app, and the notification going away when
//! the call stops ringing. Runs under ./scripts/test.sh, which provides the
//! session bus and the display.

#![cfg(all(unix, not(target_os = "macos")))]

use std::time::Duration;

use convene_core::desktop::{CallAlert, CallAlertChoice, Notifier};
use convene_test_support::dunst::Dunst;

const WAIT: Duration = Duration::from_secs(10);

/// One notification service per bus: the tests take turns.
static SERVICE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn notifier() -> Notifier {
    Notifier::session("Convene", "convene")
        .await
        .expect("a session bus (run through ./scripts/test.sh)")
}

/// Bob calls: the notification is on screen.
async fn bob_calls(dunst: &Dunst, video: bool) -> CallAlert {
    let alert = notifier()
        .await
        .incoming_call("Bob Example", video)
        .await
        .expect("show the notification");
    dunst.wait_displayed(1, WAIT);
    alert
}

#[tokio::test]
async fn a_video_call_can_be_answered_with_video_from_the_notification() {
    let _turn = SERVICE.lock().await;
    let dunst = Dunst::start();
    let mut alert = bob_calls(&dunst, true).await;

    let buttons = dunst.press("Answer with video");
    assert_eq!(buttons, ["Answer", "Answer with video", "Decline", "Open"]);
    let choice = tokio::time::timeout(WAIT, alert.choice()).await;
    assert_eq!(choice, Ok(CallAlertChoice::AnswerVideo));
    alert.withdraw().await;
    dunst.wait_displayed(0, WAIT);
}

#[tokio::test]
async fn an_audio_call_offers_answer_and_decline_and_declining_reaches_the_app() {
    let _turn = SERVICE.lock().await;
    let dunst = Dunst::start();
    let mut alert = bob_calls(&dunst, false).await;

    let buttons = dunst.press("Decline");
    assert_eq!(buttons, ["Answer", "Decline", "Open"]);
    let choice = tokio::time::timeout(WAIT, alert.choice()).await;
    assert_eq!(choice, Ok(CallAlertChoice::Decline));
}

#[tokio::test]
async fn the_notification_goes_away_when_the_call_stops_ringing() {
    let _turn = SERVICE.lock().await;
    let dunst = Dunst::start();
    let notifier = notifier().await;
    let alert = notifier
        .incoming_call("Bob Example", false)
        .await
        .expect("show the notification");
    // A second call's notification is a separate one: withdrawing the first
    // leaves it.
    let mut second = notifier
        .incoming_call("Carol Example", false)
        .await
        .expect("show the notification");
    dunst.wait_displayed(2, WAIT);

    alert.withdraw().await;
    dunst.wait_displayed(1, WAIT);

    // The remaining one still answers for its own call.
    dunst.press("Answer");
    let choice = tokio::time::timeout(WAIT, second.choice()).await;
    assert_eq!(choice, Ok(CallAlertChoice::AnswerAudio));
}

#[tokio::test]
async fn closing_the_notification_is_not_a_choice() {
    let _turn = SERVICE.lock().await;
    let dunst = Dunst::start();
    let mut alert = bob_calls(&dunst, false).await;
    dunst.close_all();
    let choice = tokio::time::timeout(WAIT, alert.choice()).await;
    assert_eq!(choice, Ok(CallAlertChoice::Dismissed));
}
