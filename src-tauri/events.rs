//! Forwards the core's event stream to the UI, in order, and turns the
//! chat events the desktop itself shows into a notification and the tray's
//! unread count.

use convene_core::call::{CallStage, CallView};
use convene_core::{ClientEvent, EventStream};
use serde::Serialize;
use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;
use tauri_specta::Event;

use crate::{call_alert, tray, MAIN_WINDOW};

/// Every core event reaches the UI as this one Tauri event, so that their
/// order is the core's order.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct CoreEvent(pub ClientEvent);

pub fn forward(app: AppHandle, mut events: EventStream) {
    tauri::async_runtime::spawn(async move {
        while let Some(event) = events.next().await {
            match &event {
                ClientEvent::Incoming { chat, message } if !window_has_focus(&app) => {
                    let title = if chat.title == message.from.display_name {
                        chat.title.clone()
                    } else {
                        format!("{} in {}", message.from.display_name, chat.title)
                    };
                    let body = convene_core::chat::preview_text(&message.body_html, 200);
                    if let Err(error) = app.notification().builder().title(title).body(body).show()
                    {
                        tracing::info!(%error, "could not show a notification");
                    }
                }
                ClientEvent::Unread { total } => tray::show_unread(&app, *total),
                ClientEvent::Call { call } if call.stage == CallStage::Incoming => {
                    ring(&app, call);
                }
                _ => {}
            }
            if let Err(error) = CoreEvent(event).emit(&app) {
                tracing::warn!(%error, "could not deliver a core event to the UI");
            }
        }
    });
}

/// An incoming call: the window, if in front, shows its Answer/Decline toast
/// and plays the ring. Otherwise a desktop notification with the same
/// buttons says who calls, and the window asks for attention without taking
/// the focus from whatever the person is doing.
fn ring(app: &AppHandle, call: &CallView) {
    if window_has_focus(app) {
        return;
    }
    call_alert::show(app, call);
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let _ = window.request_user_attention(Some(tauri::UserAttentionType::Critical));
    }
}

fn window_has_focus(app: &AppHandle) -> bool {
    app.get_webview_window(MAIN_WINDOW)
        .and_then(|w| Some(w.is_visible().ok()? && w.is_focused().ok()?))
        .unwrap_or(false)
}
