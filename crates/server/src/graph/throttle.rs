//! Per-user request limits, answered like Graph: 429 `TooManyRequests`
//! with `Retry-After`, so clients learn to back off against this server
//! exactly as they must against the real service.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::GraphError;

/// At most `per_second` requests per user in each one-second window.
#[derive(Debug)]
pub struct Throttle {
    per_second: u32,
    windows: Mutex<HashMap<Uuid, (Instant, u32)>>,
}

impl Throttle {
    /// `0` means no limit.
    pub fn new(per_second: u32) -> Self {
        Self {
            per_second,
            windows: Mutex::new(HashMap::new()),
        }
    }

    pub fn check(&self, user: Uuid) -> Result<(), GraphError> {
        self.check_at(user, Instant::now())
    }

    fn check_at(&self, user: Uuid, now: Instant) -> Result<(), GraphError> {
        if self.per_second == 0 {
            return Ok(());
        }
        let mut windows = self.windows.lock().expect("not poisoned");
        // Forget users whose window has long passed, so the map stays small.
        if windows.len() > 10_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(1));
        }
        let (start, count) = windows.entry(user).or_insert((now, 0));
        if now.duration_since(*start) >= Duration::from_secs(1) {
            *start = now;
            *count = 0;
        }
        if *count >= self.per_second {
            return Err(GraphError::throttled(1));
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_over_the_limit_waits_for_the_next_second() {
        let throttle = Throttle::new(2);
        let (alice, bob) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let t0 = Instant::now();
        assert!(throttle.check_at(alice, t0).is_ok());
        assert!(throttle.check_at(alice, t0).is_ok());
        let refused = throttle.check_at(alice, t0).unwrap_err();
        assert_eq!(refused.status, 429);
        assert_eq!(refused.retry_after, Some(1));
        // Others are not held back by alice.
        assert!(throttle.check_at(bob, t0).is_ok());
        assert!(throttle
            .check_at(alice, t0 + Duration::from_millis(1001))
            .is_ok());
    }

    #[test]
    fn zero_means_no_limit() {
        let throttle = Throttle::new(0);
        let now = Instant::now();
        assert!((0..1000).all(|_| throttle.check_at(Uuid::nil(), now).is_ok()));
    }
}
