//! The wall clock the client judges expiry by (tokens) and stamps local
//! times with (messages waiting in the outbox). Injectable, so that tests
//! of renewal move time forward instead of waiting for real tokens to age.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Tells the time of day.
pub trait WallClock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> SystemTime;
}

/// A shared clock.
pub type Clock = Arc<dyn WallClock>;

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl WallClock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The system clock, shared.
pub fn system() -> Clock {
    Arc::new(SystemClock)
}

/// A clock that moves only when told: tests.
#[derive(Debug)]
pub struct ManualClock(Mutex<SystemTime>);

impl ManualClock {
    /// Starts at the system's time now.
    pub fn starting_now() -> Arc<Self> {
        Arc::new(Self(Mutex::new(SystemTime::now())))
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }
}

impl WallClock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
