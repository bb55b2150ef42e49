//! An empty Tauri window with the same Tauri version, features and build
//! profile as Convene, for side-by-side start-up and memory figures
//! (`scripts/bench-startup.py`).

use std::time::Instant;

#[tauri::command]
fn ready(launched: tauri::State<'_, Instant>) {
    // The same words Convene logs, so the benchmark reads both alike.
    eprintln!(
        "first screen rendered elapsed_ms={}",
        launched.elapsed().as_millis()
    );
}

fn main() {
    let launched = Instant::now();
    tauri::Builder::default()
        .manage(launched)
        .invoke_handler(tauri::generate_handler![ready])
        .run(tauri::generate_context!())
        .expect("the Tauri event loop failed");
}
