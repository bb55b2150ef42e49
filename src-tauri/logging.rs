//! Logs to stderr and to a daily-rotated file in the XDG state directory
//! (`~/.local/state/convene/logs`), keeping a week of files.

use std::io::IsTerminal;
use std::path::PathBuf;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer as _};

// rtc_ice warns on every check tick while a ringing call waits for the
// caller's candidates: expected, and 100 lines a second.
const DEFAULT_FILTER: &str = "info,tao=warn,wry=warn,rtc_ice=error";

pub fn log_dir() -> Option<PathBuf> {
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .map(|d| d.join("convene").join("logs"))
}

/// Returns the guard that flushes the file writer; keep it until exit.
pub fn init() -> Option<WorkerGuard> {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| DEFAULT_FILTER.into());
    let stderr = fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .with_filter(filter());

    let file_appender = log_dir().and_then(|dir| {
        // The appender prunes old files on start and complains if the
        // directory is not there yet.
        std::fs::create_dir_all(&dir)
            .map_err(|e| eprintln!("Convene: not logging to {}: {e}", dir.display()))
            .ok()?;
        RollingFileAppender::builder()
            .rotation(Rotation::DAILY)
            .filename_prefix("convene")
            .filename_suffix("log")
            .max_log_files(7)
            .build(&dir)
            .map_err(|e| eprintln!("Convene: not logging to {}: {e}", dir.display()))
            .ok()
    });
    match file_appender {
        Some(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let file = fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(filter());
            tracing_subscriber::registry()
                .with(stderr)
                .with(file)
                .init();
            Some(guard)
        }
        None => {
            tracing_subscriber::registry().with(stderr).init();
            None
        }
    }
}
