//! The thread calls run on. A call's network work (the peer connection's
//! driver, RTP in and out, playout, the engine itself) lives on one
//! single-threaded runtime of its own rather than on the application's
//! shared pool: each packet then wakes one thread instead of waking a
//! worker that hands it to another, which cut the wake-ups of an audio
//! call by a third (docs/benchmarks.md), and a busy UI cannot delay the call's
//! packets. Codecs and capture keep their own threads.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Handle};
use tokio::task::JoinHandle;

static CALL_RUNTIME: OnceLock<Option<Handle>> = OnceLock::new();

/// Runs `task` on the call thread, started on first use. If that thread
/// cannot be made (no threads left), the task runs on the caller's runtime
/// instead, as it would without this module.
pub fn spawn<F>(task: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match CALL_RUNTIME.get_or_init(start) {
        Some(handle) => handle.spawn(task),
        None => tokio::spawn(task),
    }
}

fn start() -> Option<Handle> {
    let runtime = match Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::warn!(%error, "no runtime for calls: they share the application's");
            return None;
        }
    };
    let handle = runtime.handle().clone();
    let thread = std::thread::Builder::new()
        .name("convene-call".into())
        // The runtime runs its tasks only while a thread blocks on it; this
        // one does so for the life of the process.
        .spawn(move || runtime.block_on(std::future::pending::<()>()));
    match thread {
        Ok(_) => Some(handle),
        Err(error) => {
            tracing::warn!(%error, "no thread for calls: they share the application's");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn call_tasks_run_on_the_call_thread_and_keep_its_timers() {
        let on = spawn(async {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            std::thread::current().name().map(str::to_owned)
        });
        assert_eq!(on.await.unwrap().as_deref(), Some("convene-call"));
    }
}
