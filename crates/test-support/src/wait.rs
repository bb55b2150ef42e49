//! Waiting for something to come true: the one place the tests' poll loops
//! sleep between looks. A condition is looked at once at once, then again
//! after 10 ms, 20 ms, 40 ms, … (at most [`MAX_PAUSE`] apart) until it
//! holds or the time is up, and once more at the deadline.
//!
//! ```no_run
//! # use std::time::Duration;
//! # use convene_test_support::wait::wait_until;
//! # let path = std::path::Path::new("/tmp/x");
//! assert!(
//!     wait_until(Duration::from_secs(10), || path.exists()),
//!     "{} never appeared",
//!     path.display()
//! );
//! ```

use std::time::{Duration, Instant};

/// The longest pause between two looks with the default pace.
pub const MAX_PAUSE: Duration = Duration::from_millis(100);
const FIRST_PAUSE: Duration = Duration::from_millis(10);

/// How often to look.
#[derive(Debug, Clone, Copy)]
enum Pace {
    /// 10 ms, doubling up to [`MAX_PAUSE`].
    Quickening,
    /// Always this long (a service that asks to be asked slowly).
    Every(Duration),
}

struct Looks {
    deadline: Instant,
    pace: Pace,
    pause: Duration,
}

impl Looks {
    fn new(within: Duration, pace: Pace) -> Self {
        Self {
            deadline: Instant::now() + within,
            pace,
            pause: match pace {
                Pace::Quickening => FIRST_PAUSE,
                Pace::Every(every) => every,
            },
        }
    }

    /// How long to pause before the next look; `None` when the last look
    /// (at the deadline) has been had.
    fn next_pause(&mut self) -> Option<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        let pause = self.pause.min(left);
        if let Pace::Quickening = self.pace {
            self.pause = (self.pause * 2).min(MAX_PAUSE);
        }
        Some(pause)
    }
}

fn poll<T>(within: Duration, pace: Pace, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let mut looks = Looks::new(within, pace);
    loop {
        if let Some(found) = check() {
            return Some(found);
        }
        std::thread::sleep(looks.next_pause()?);
    }
}

/// Looks at `check` until it gives something, for at most `within`.
pub fn wait_for<T>(within: Duration, check: impl FnMut() -> Option<T>) -> Option<T> {
    poll(within, Pace::Quickening, check)
}

/// As [`wait_for`], looking every `every` (for checks that cost).
pub fn wait_for_every<T>(
    within: Duration,
    every: Duration,
    check: impl FnMut() -> Option<T>,
) -> Option<T> {
    poll(within, Pace::Every(every), check)
}

/// Whether `condition` came true within `within`.
pub fn wait_until(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    wait_for(within, || condition().then_some(())).is_some()
}

/// The async twins, on tokio's timer: for tests that run on a tokio
/// runtime, where a blocking pause would hold up the runtime's threads.
#[cfg(feature = "tokio")]
mod asynchronous {
    use std::future::Future;
    use std::time::Duration;

    use super::{Looks, Pace};

    async fn poll<T, F, Fut>(within: Duration, pace: Pace, mut check: F) -> Option<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let mut looks = Looks::new(within, pace);
        loop {
            if let Some(found) = check().await {
                return Some(found);
            }
            tokio::time::sleep(looks.next_pause()?).await;
        }
    }

    /// Looks at `check` until it gives something, for at most `within`.
    pub async fn wait_for_async<T, F, Fut>(within: Duration, check: F) -> Option<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        poll(within, Pace::Quickening, check).await
    }

    /// As [`wait_for_async`], looking every `every`.
    pub async fn wait_for_async_every<T, F, Fut>(
        within: Duration,
        every: Duration,
        check: F,
    ) -> Option<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        poll(within, Pace::Every(every), check).await
    }

    /// Whether `condition` came true within `within`.
    pub async fn wait_until_async<F, Fut>(within: Duration, mut condition: F) -> bool
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        let check = || {
            let holds = condition();
            async move { holds.await.then_some(()) }
        };
        wait_for_async(within, check).await.is_some()
    }
}

#[cfg(feature = "tokio")]
pub use asynchronous::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_condition_that_holds_is_seen_at_once() {
        let started = Instant::now();
        assert!(wait_until(Duration::from_secs(10), || true));
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn a_condition_that_never_holds_is_given_up_at_the_deadline() {
        let started = Instant::now();
        let mut looks = 0;
        assert!(!wait_until(Duration::from_millis(300), || {
            looks += 1;
            false
        }));
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(300), "{waited:?}");
        // 0, 10, 30, 70, 150, 250 and the last look at 300 ms.
        assert!((5..=9).contains(&looks), "{looks} looks");
    }

    #[test]
    fn what_the_check_finds_is_handed_back() {
        let mut n = 0;
        let found = wait_for(Duration::from_secs(10), || {
            n += 1;
            (n == 3).then_some("third")
        });
        assert_eq!(found, Some("third"));
    }
}
