//! Commands the UI can call. Each one forwards to the core.

use convene_core::{ConnectionStatus, ServerSettings};
use serde::Serialize;
use tauri::State;

use crate::AppState;

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub settings: ServerSettings,
}

/// Version of the app and the server settings the app will use.
#[tauri::command]
#[specta::specta]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        settings: state.client.config().settings(),
    }
}

/// The latest known connection status (the monitor pushes changes as events).
#[tauri::command]
#[specta::specta]
pub fn connection_status(state: State<'_, AppState>) -> ConnectionStatus {
    state.client.connection_status()
}

/// Ask the core to probe the server now instead of waiting for the next check.
#[tauri::command]
#[specta::specta]
pub fn check_connection_now(state: State<'_, AppState>) {
    state.client.check_connection_now();
}

/// Called once the first screen has rendered; logs the cold-start time.
#[tauri::command]
#[specta::specta]
pub fn ui_ready(state: State<'_, AppState>) {
    let elapsed = state.launched.elapsed();
    tracing::info!(
        elapsed_ms = elapsed.as_millis() as u64,
        "first screen rendered"
    );
}
