//! Forwards the core's event stream to the UI, in order.

use convene_core::{ClientEvent, EventStream};
use serde::Serialize;
use tauri::AppHandle;
use tauri_specta::Event;

/// Every core event reaches the UI as this one Tauri event, so that their
/// order is the core's order.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct CoreEvent(pub ClientEvent);

pub fn forward(app: AppHandle, mut events: EventStream) {
    tauri::async_runtime::spawn(async move {
        while let Some(event) = events.next().await {
            if let Err(error) = CoreEvent(event).emit(&app) {
                tracing::warn!(%error, "could not deliver a core event to the UI");
            }
        }
    });
}
