//! The tray icon: Show and Quit.

use tauri::menu::{Menu, MenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};

use crate::MAIN_WINDOW;

const TRAY_ID: &str = "convene";

pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let show = MenuItem::with_id(app, "show", "Show Convene", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&show, &quit])?;
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip("Convene")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "show" => show_main_window(app),
            "quit" => app.exit(0),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                show_main_window(tray.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    Ok(())
}

/// Shows the unread count on the tray icon: in its tooltip, and as the
/// label beside the icon where the tray host shows one (AppIndicator).
pub fn show_unread<R: Runtime>(app: &AppHandle<R>, total: u32) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let (tooltip, title) = match total {
        0 => ("Convene".to_owned(), None),
        1 => ("Convene: 1 unread message".to_owned(), Some("1".to_owned())),
        n => (format!("Convene: {n} unread messages"), Some(n.to_string())),
    };
    let _ = tray.set_tooltip(Some(tooltip));
    let _ = tray.set_title(title);
}

/// Whether a tray icon exists to bring the window back from.
pub fn is_available<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.tray_by_id(TRAY_ID).is_some()
}

pub fn show_main_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
