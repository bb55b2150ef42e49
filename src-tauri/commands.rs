//! Commands the UI can call. Each one forwards to the core.

use convene_core::call::{
    CallHistoryEntry, CallView, DeviceListChange, VideoStream, WAIT_FOR_FRAME,
};
use convene_core::chat::view::{ChatSummary, Draft, Person, ThreadMessage, ThreadPage};
use convene_core::session::AccountProfile;
use convene_core::{ConnectionStatus, ServerSettings, UserError};
use serde::Serialize;
use tauri::ipc::{InvokeResponseBody, IpcResponse};
use tauri::{AppHandle, Manager, State};

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

/// The chat list, newest activity first, from the local cache (changes
/// arrive as `chats` events).
#[tauri::command]
#[specta::specta]
pub async fn chats(state: State<'_, AppState>) -> Result<Vec<ChatSummary>, UserError> {
    state.client.chats().await
}

/// Up to `limit` messages of a chat older than the message keyed `before`
/// (the newest when null), oldest first; fetched from the service when the
/// cache has no more.
#[tauri::command]
#[specta::specta]
pub async fn thread(
    state: State<'_, AppState>,
    chat_id: String,
    before: Option<String>,
    limit: u32,
) -> Result<ThreadPage, UserError> {
    state
        .client
        .thread(&chat_id, before.as_deref(), limit)
        .await
}

/// Puts a message in the outbox and returns it as "sending"; its progress
/// arrives as `messages` events.
#[tauri::command]
#[specta::specta]
pub async fn send_message(
    state: State<'_, AppState>,
    chat_id: String,
    draft: Draft,
) -> Result<ThreadMessage, UserError> {
    state.client.send_message(&chat_id, draft).await
}

/// Sends a failed message again.
#[tauri::command]
#[specta::specta]
pub async fn retry_message(state: State<'_, AppState>, key: String) -> Result<(), UserError> {
    state.client.retry_message(&key).await
}

/// Drops a failed message from the outbox.
#[tauri::command]
#[specta::specta]
pub async fn discard_message(state: State<'_, AppState>, key: String) -> Result<(), UserError> {
    state.client.discard_message(&key).await
}

/// Replaces the body of one of the user's own messages.
#[tauri::command]
#[specta::specta]
pub async fn edit_message(
    state: State<'_, AppState>,
    chat_id: String,
    message_id: String,
    html: String,
) -> Result<(), UserError> {
    state
        .client
        .edit_message(&chat_id, &message_id, &html)
        .await
}

/// Deletes one of the user's own messages (Graph's soft delete).
#[tauri::command]
#[specta::specta]
pub async fn delete_message(
    state: State<'_, AppState>,
    chat_id: String,
    message_id: String,
) -> Result<(), UserError> {
    state.client.delete_message(&chat_id, &message_id).await
}

/// Adds (`on`) or removes the user's reaction to a message.
#[tauri::command]
#[specta::specta]
pub async fn react(
    state: State<'_, AppState>,
    chat_id: String,
    message_id: String,
    reaction: String,
    on: bool,
) -> Result<(), UserError> {
    state
        .client
        .react(&chat_id, &message_id, &reaction, on)
        .await
}

/// Marks everything in the chat as read.
#[tauri::command]
#[specta::specta]
pub async fn mark_read(state: State<'_, AppState>, chat_id: String) -> Result<(), UserError> {
    state.client.mark_read(&chat_id).await
}

/// Tells the chat's other members that the user is typing.
#[tauri::command]
#[specta::specta]
pub async fn typing(state: State<'_, AppState>, chat_id: String) -> Result<(), UserError> {
    state.client.typing(&chat_id).await
}

/// People whose name or sign-in name starts with `query`.
#[tauri::command]
#[specta::specta]
pub async fn search_people(
    state: State<'_, AppState>,
    query: String,
) -> Result<Vec<Person>, UserError> {
    state.client.search_people(&query).await
}

/// Opens the chat with these people (by user id): the existing 1:1 chat
/// with one person, or a new group chat.
#[tauri::command]
#[specta::specta]
pub async fn start_chat(
    state: State<'_, AppState>,
    user_ids: Vec<String>,
    topic: Option<String>,
) -> Result<ChatSummary, UserError> {
    state.client.start_chat(user_ids, topic).await
}

/// Calls a person (`name`: how to show them if no chat knows them); the
/// call's changes arrive as `call` events.
#[tauri::command]
#[specta::specta]
pub async fn place_call(
    state: State<'_, AppState>,
    user_id: String,
    video: bool,
    name: Option<String>,
) -> Result<CallView, UserError> {
    state.client.place_call(&user_id, video, name).await
}

/// Answers the call ringing here, with or without this side's video.
#[tauri::command]
#[specta::specta]
pub async fn answer_call(
    state: State<'_, AppState>,
    call_id: String,
    video: bool,
) -> Result<CallView, UserError> {
    state.client.answer_call(&call_id, video).await
}

#[tauri::command]
#[specta::specta]
pub async fn decline_call(state: State<'_, AppState>, call_id: String) -> Result<(), UserError> {
    state.client.decline_call(&call_id).await
}

/// Ends the current call: cancels, declines or hangs up as fits.
#[tauri::command]
#[specta::specta]
pub async fn hang_up(state: State<'_, AppState>) -> Result<(), UserError> {
    state.client.hang_up().await
}

#[tauri::command]
#[specta::specta]
pub async fn set_muted(state: State<'_, AppState>, muted: bool) -> Result<CallView, UserError> {
    state.client.set_muted(muted).await
}

#[tauri::command]
#[specta::specta]
pub async fn set_camera(state: State<'_, AppState>, on: bool) -> Result<CallView, UserError> {
    state.client.set_camera(on).await
}

/// The call going on, for a window that opens mid-call.
#[tauri::command]
#[specta::specta]
pub async fn current_call(state: State<'_, AppState>) -> Result<Option<CallView>, UserError> {
    state.client.current_call().await
}

/// The Calls tab: placed and received calls, newest first.
#[tauri::command]
#[specta::specta]
pub async fn call_history(state: State<'_, AppState>) -> Result<Vec<CallHistoryEntry>, UserError> {
    state.client.call_history().await
}

/// Microphones, speakers and cameras now and whenever one is plugged in or
/// out, on `changes`, until `stop_watching_devices` (the picker closes).
#[tauri::command]
#[specta::specta]
pub fn watch_devices(state: State<'_, AppState>, changes: tauri::ipc::Channel<DeviceListChange>) {
    state
        .media
        .watch_devices(move |change| match changes.send(change) {
            Ok(()) => true,
            Err(error) => {
                // The window went away without closing the picker (a reload).
                tracing::debug!(%error, "the device picker is gone: watch stopped");
                false
            }
        });
}

/// Ends `watch_devices`.
#[tauri::command]
#[specta::specta]
pub fn stop_watching_devices(state: State<'_, AppState>) {
    state.media.stop_watching_devices();
}

/// The microphone and speaker, for the call in progress and the next
/// (null: system default).
#[tauri::command]
#[specta::specta]
pub fn select_audio_devices(
    state: State<'_, AppState>,
    input: Option<String>,
    output: Option<String>,
) {
    state.media.select_audio(input, output);
}

/// The camera, for the video in progress and the next (null: the system
/// default).
#[tauri::command]
#[specta::specta]
pub fn select_camera(state: State<'_, AppState>, name: Option<String>) {
    state.media.select_camera(name);
}

/// The next decoded frame of a call's video stream, as a binary
/// `VideoPacket`; empty when none came within a second. The window asks
/// again after painting it.
#[tauri::command]
#[specta::specta]
pub async fn next_video_frame(app: AppHandle, stream: VideoStream) -> VideoPacket {
    let media = app.state::<AppState>().media.clone();
    let packet = media.next_video_frame(stream, WAIT_FOR_FRAME).await;
    VideoPacket(packet.into_bytes())
}

/// One video frame for the window: `[stream (0 remote, 1 local), width
/// (u16 LE), height (u16 LE), RGBA…]`, or empty. Answered raw, not as JSON:
/// a 480×270 frame is 500 KB.
#[derive(specta::Type)]
pub struct VideoPacket(#[specta(type = Vec<u8>)] Vec<u8>);

impl IpcResponse for VideoPacket {
    fn body(self) -> tauri::Result<InvokeResponseBody> {
        Ok(InvokeResponseBody::Raw(self.0))
    }
}
