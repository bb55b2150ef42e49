//! The desktop notification for an incoming call, shown when the window is
//! not in front. On Linux it has Answer (and Answer with video for a video
//! call) and Decline buttons that act on the call, and it is withdrawn as
//! soon as the call stops ringing: answered here or elsewhere, declined, or
//! given up by the caller. Elsewhere it is a plain notification.

use convene_core::call::{CallStage, CallView, MediaKind};
use tauri::{AppHandle, Manager};

pub fn show(app: &AppHandle, call: &CallView) {
    let app = app.clone();
    let call = call.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(error) = alert_until_answered(&app, &call).await {
            // Without a notification the window is the only way to answer.
            tracing::info!(%error, "could not show the incoming-call notification");
            crate::tray::show_main_window(&app);
        }
    });
}

fn caller(call: &CallView) -> &str {
    call.peer.name.as_deref().unwrap_or("Someone")
}

fn is_video(call: &CallView) -> bool {
    call.media.contains(&MediaKind::Video)
}

#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
async fn alert_until_answered(app: &AppHandle, call: &CallView) -> Result<(), String> {
    use convene_core::desktop::{CallAlertChoice, Notifier};
    use tokio::sync::broadcast::error::RecvError;

    let client = &app.state::<crate::AppState>().client;
    let engine = client.calls().await.map_err(|e| e.message)?;
    let mut updates = engine.subscribe();
    let still_ringing = |view: Option<&CallView>| {
        view.is_some_and(|v| v.call_id == call.call_id && v.stage == CallStage::Incoming)
    };
    if !still_ringing(engine.current().as_ref()) {
        return Ok(());
    }
    let notifier = Notifier::session("Convene", "convene")
        .await
        .map_err(|e| e.to_string())?;
    let mut alert = notifier
        .incoming_call(caller(call), is_video(call))
        .await
        .map_err(|e| e.to_string())?;

    loop {
        tokio::select! {
            choice = alert.choice() => match choice {
                CallAlertChoice::AnswerAudio | CallAlertChoice::AnswerVideo => {
                    crate::tray::show_main_window(app);
                    let video = choice == CallAlertChoice::AnswerVideo;
                    if let Err(error) = client.answer_call(&call.call_id, video).await {
                        tracing::info!(error = %error.message, "answering from the notification failed");
                    }
                    break;
                }
                CallAlertChoice::Decline => {
                    if let Err(error) = client.decline_call(&call.call_id).await {
                        tracing::info!(error = %error.message, "declining from the notification failed");
                    }
                    break;
                }
                // The toast in the window has the same buttons.
                CallAlertChoice::Open => crate::tray::show_main_window(app),
                CallAlertChoice::Dismissed => return Ok(()),
            },
            update = updates.recv() => match update {
                Ok(view) if view.call_id == call.call_id && view.stage != CallStage::Incoming => break,
                Ok(_) => {}
                Err(RecvError::Lagged(_)) if still_ringing(engine.current().as_ref()) => {}
                Err(_) => break,
            },
        }
    }
    alert.withdraw().await;
    Ok(())
}

#[cfg(not(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
)))]
async fn alert_until_answered(app: &AppHandle, call: &CallView) -> Result<(), String> {
    use tauri_plugin_notification::NotificationExt;

    let kind = if is_video(call) { "video call" } else { "call" };
    app.notification()
        .builder()
        .title(format!("{} is calling", caller(call)))
        .body(format!("Incoming {kind}: answer or decline in Convene"))
        .show()
        .map_err(|e| e.to_string())
}
