//! Commands the UI can call. Each one forwards to the core.

use convene_core::session::AccountProfile;
use convene_core::{ConnectionStatus, ServerSettings, UserError};
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

/// The account in use, or null when nobody is signed in.
#[tauri::command]
#[specta::specta]
pub async fn current_account(
    state: State<'_, AppState>,
) -> Result<Option<AccountProfile>, UserError> {
    state.client.current_account().await
}

/// Every account signed in on this device.
#[tauri::command]
#[specta::specta]
pub async fn accounts(state: State<'_, AppState>) -> Result<Vec<AccountProfile>, UserError> {
    state.client.accounts().await
}

/// Opens the browser to sign in; progress arrives as `signIn` events.
/// `loginHint` pre-fills the account (signing in again).
#[tauri::command]
#[specta::specta]
pub fn sign_in(state: State<'_, AppState>, login_hint: Option<String>) -> Result<(), UserError> {
    state.client.begin_sign_in(login_hint)
}

/// Stops a sign-in that is waiting for the browser.
#[tauri::command]
#[specta::specta]
pub fn cancel_sign_in(state: State<'_, AppState>) {
    state.client.cancel_sign_in();
}

/// Makes another signed-in account the current one.
#[tauri::command]
#[specta::specta]
pub async fn switch_account(
    state: State<'_, AppState>,
    user_id: String,
) -> Result<AccountProfile, UserError> {
    state.client.switch_account(&user_id).await
}

/// Signs the account out and removes its secrets from this device.
#[tauri::command]
#[specta::specta]
pub async fn sign_out(state: State<'_, AppState>, user_id: String) -> Result<(), UserError> {
    state.client.sign_out(&user_id).await
}
