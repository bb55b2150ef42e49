//! Tauri build step. The sources live in src-tauri/ while the manifest sits
//! at the root, so the capabilities path is spelled out.

/// Every command the UI may call. Listing them makes Tauri generate one
/// permission per command, so a window's capability grants exactly the
/// commands it uses and nothing is allowed by default.
const COMMANDS: &[&str] = &[
    "app_info",
    "connection_status",
    "check_connection_now",
    "ui_ready",
    "current_account",
    "accounts",
    "sign_in",
    "cancel_sign_in",
    "switch_account",
    "sign_out",
    "chats",
    "thread",
    "send_message",
    "retry_message",
    "discard_message",
    "edit_message",
    "delete_message",
    "react",
    "mark_read",
    "typing",
    "search_people",
    "start_chat",
    "place_call",
    "answer_call",
    "decline_call",
    "hang_up",
    "set_muted",
    "set_camera",
    "current_call",
    "call_history",
    "watch_devices",
    "stop_watching_devices",
    "select_audio_devices",
    "select_camera",
    "next_video_frame",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("./src-tauri/capabilities/**/*")
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build step failed");
}
