//! The Convene desktop shell: a window, a tray icon and the plumbing between
//! the UI and `convene-core`. It stays thin: every command maps onto the
//! core, and the core's events are forwarded in order.

mod call_alert;
mod commands;
mod events;
mod logging;
mod rendering;
mod tray;

use std::sync::Arc;
use std::time::Instant;

use convene_core::call::DesktopDevices;
use convene_core::chat::ChatStorage;
use convene_core::config::ConfigLayer;
use convene_core::session::{SessionError, Sessions};
use convene_core::vault::{Vault, VaultKind};
use convene_core::{AccountOptions, CallDevices, Client, ClientConfig, MonitorTiming};
use tauri::{Manager, WindowEvent};

pub use commands::AppInfo;
pub use events::CoreEvent;

/// The window every command and event belongs to.
pub const MAIN_WINDOW: &str = "main";

/// What the shell keeps for the app's lifetime.
pub struct AppState {
    pub client: Client,
    /// Call media: devices chosen, decoded video waiting for the window.
    pub media: Arc<DesktopDevices>,
    /// When the process started, for the cold-start figure.
    pub launched: Instant,
}

/// The typed bridge: commands and events the UI may use. The same builder
/// registers them with Tauri and generates `ui/src/bindings.ts`.
pub fn bridge() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(tauri_specta::collect_commands![
            commands::app_info,
            commands::connection_status,
            commands::check_connection_now,
            commands::ui_ready,
            commands::current_account,
            commands::accounts,
            commands::sign_in,
            commands::cancel_sign_in,
            commands::switch_account,
            commands::sign_out,
            commands::chats,
            commands::thread,
            commands::send_message,
            commands::retry_message,
            commands::discard_message,
            commands::edit_message,
            commands::delete_message,
            commands::react,
            commands::mark_read,
            commands::typing,
            commands::search_people,
            commands::start_chat,
            commands::place_call,
            commands::answer_call,
            commands::decline_call,
            commands::hang_up,
            commands::set_muted,
            commands::set_camera,
            commands::current_call,
            commands::call_history,
            commands::watch_devices,
            commands::stop_watching_devices,
            commands::select_audio_devices,
            commands::select_camera,
            commands::next_video_frame,
        ])
        .events(tauri_specta::collect_events![CoreEvent])
}

/// TypeScript for the bridge, as committed in `ui/src/bindings.ts`.
pub fn typescript_bindings() -> Result<String, String> {
    let dir = std::env::temp_dir().join(format!("convene-bindings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join("bindings.ts");
    let exported = bridge()
        .export(
            specta_typescript::Typescript::default()
                .header("// Generated from Rust by tauri-specta (`CONVENE_UPDATE_BINDINGS=1 cargo test --test bindings`). Do not edit.\n// @ts-nocheck")
                .bigint(specta_typescript::BigIntExportBehavior::Number),
            &file,
        )
        .map_err(|e| e.to_string())
        .and_then(|()| std::fs::read_to_string(&file).map_err(|e| e.to_string()));
    let _ = std::fs::remove_dir_all(&dir);
    exported
}

/// The accounts store: the OS keyring, and a small file remembering which
/// account is in use.
async fn open_sessions(config: &ClientConfig) -> Result<Sessions, SessionError> {
    let vault = Vault::open(VaultKind::System).await?;
    let state_file = dirs::data_dir().map(|d| d.join("convene").join("current-account"));
    Ok(Sessions::new(
        vault,
        convene_core::http::client(std::time::Duration::from_secs(30)),
        config.clone(),
        state_file,
    ))
}

/// SIGTERM (a session logging out, a service manager) and SIGINT quit the
/// app the same way the tray's Quit does, so that window state is saved.
fn quit_on_stop_signal(app: tauri::AppHandle) {
    #[cfg(unix)]
    tauri::async_runtime::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::warn!("cannot listen for stop signals");
            return;
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: quitting"),
            _ = int.recv() => tracing::info!("SIGINT: quitting"),
        }
        app.exit(0);
    });
    #[cfg(not(unix))]
    let _ = app;
}

pub fn run() {
    let launched = Instant::now();
    let compositing = rendering::choose_compositing();
    let _log_guard = logging::init();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "Convene starting");
    if compositing == rendering::Compositing::TurnedOff {
        tracing::info!("no GPU: WebKit paints without compositing");
    }

    let config = match ClientConfig::load(ConfigLayer::default(), |name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(error) => {
            // Nothing to show a window with yet: say it where it is seen.
            tracing::error!(%error, "invalid configuration");
            eprintln!("Convene cannot start: {error}");
            std::process::exit(1);
        }
    };

    let bridge = bridge();
    tauri::Builder::default()
        // First, so that a second launch hands over before doing anything.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            tracing::info!("second launch: focusing the running instance");
            tray::show_main_window(app);
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_notification::init())
        .invoke_handler(bridge.invoke_handler())
        .setup(move |app| {
            bridge.mount_events(app);
            let media = Arc::new(DesktopDevices::default());
            let (client, events) = tauri::async_runtime::block_on(async {
                let sessions = open_sessions(&config).await;
                if let Err(error) = &sessions {
                    tracing::error!(%error, "signing in is not possible");
                }
                let chat = AccountOptions {
                    storage: ChatStorage::default_disk(),
                    call_devices: Some(CallDevices(media.clone())),
                    ..AccountOptions::default()
                };
                Client::start_with_options(config, MonitorTiming::default(), sessions, chat)
            });
            tracing::info!(server = %client.config().server_url, "client started");
            app.manage(AppState {
                client,
                media,
                launched,
            });
            events::forward(app.handle().clone(), events);
            tray::create(app.handle())?;
            quit_on_stop_signal(app.handle().clone());
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window keeps Convene running in the tray, so calls
            // and messages still arrive; Quit in the tray menu exits.
            if let WindowEvent::CloseRequested { api, .. } = event {
                if window.label() == MAIN_WINDOW && tray::is_available(window.app_handle()) {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .run(tauri::generate_context!())
        .expect("the Tauri event loop failed");
}
