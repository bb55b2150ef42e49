//! Presence, kept in memory: a `setPresence` session wins until it
//! expires; otherwise a user with a live socket is Available, else
//! Offline. Every change is told to the users of the same tenant.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use convene_proto::live::ServerFrame;
use tokio::time::Instant;
use uuid::Uuid;

use crate::hub::Hub;

/// What Graph reports: `availability` and `activity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub availability: String,
    pub activity: String,
}

impl Status {
    fn of(availability: &str, activity: &str) -> Self {
        Self {
            availability: availability.to_owned(),
            activity: activity.to_owned(),
        }
    }
}

/// One app session's explicit presence (`setPresence`).
#[derive(Debug, Clone)]
pub struct Session {
    pub session_id: String,
    pub status: Status,
    pub expires: Instant,
}

#[derive(Debug)]
pub struct Presence {
    hub: Arc<dyn Hub>,
    /// Per user, their sessions, most recently set last.
    sessions: Mutex<HashMap<Uuid, Vec<Session>>>,
}

impl Presence {
    pub fn new(hub: Arc<dyn Hub>) -> Arc<Self> {
        Arc::new(Self {
            hub,
            sessions: Mutex::new(HashMap::new()),
        })
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Vec<Session>>> {
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The user's presence now.
    pub fn status(&self, user: Uuid) -> Status {
        let now = Instant::now();
        let explicit = self.sessions().get(&user).and_then(|sessions| {
            sessions
                .iter()
                .rev()
                .find(|s| s.expires > now)
                .map(|s| s.status.clone())
        });
        explicit.unwrap_or_else(|| {
            if self.hub.is_connected(user) {
                Status::of("Available", "Available")
            } else {
                Status::of("Offline", "Offline")
            }
        })
    }

    /// Runs `change` and tells the tenant if the user's presence moved.
    pub fn update<R>(&self, user: Uuid, tenant: Uuid, change: impl FnOnce() -> R) -> R {
        let before = self.status(user);
        let result = change();
        let after = self.status(user);
        if after != before {
            self.hub.send_to_tenant(
                tenant,
                &ServerFrame::PresenceChanged {
                    user_id: user.to_string(),
                    availability: after.availability,
                    activity: after.activity,
                },
            );
        }
        result
    }

    /// Sets (or replaces) one session's presence for `lifetime`; when it
    /// runs out, the tenant hears of the change.
    pub fn set(self: &Arc<Self>, user: Uuid, tenant: Uuid, session: Session) {
        let (session_id, expires) = (session.session_id.clone(), session.expires);
        self.update(user, tenant, || {
            let mut all = self.sessions();
            let sessions = all.entry(user).or_default();
            sessions.retain(|s| s.session_id != session.session_id);
            sessions.push(session);
        });
        let presence = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep_until(expires).await;
            presence.update(user, tenant, || {
                presence.forget(user, |s| s.session_id == session_id && s.expires <= expires)
            });
        });
    }

    /// Ends a session's presence; false if there was none.
    pub fn clear(&self, user: Uuid, tenant: Uuid, session_id: &str) -> bool {
        self.update(user, tenant, || {
            self.forget(user, |s| s.session_id == session_id)
        })
    }

    fn forget(&self, user: Uuid, which: impl Fn(&Session) -> bool) -> bool {
        let mut all = self.sessions();
        let Some(sessions) = all.get_mut(&user) else {
            return false;
        };
        let before = sessions.len();
        let now = Instant::now();
        sessions.retain(|s| !which(s) && s.expires > now);
        let removed = sessions.len() != before;
        if sessions.is_empty() {
            all.remove(&user);
        }
        removed
    }
}

/// The `availability`/`activity` pairs `setPresence` accepts, as at Graph.
pub const SETTABLE: &[(&str, &str)] = &[
    ("Available", "Available"),
    ("Busy", "InACall"),
    ("Busy", "InAConferenceCall"),
    ("Away", "Away"),
    ("DoNotDisturb", "Presenting"),
];

/// Graph's bounds for `expirationDuration`, and its default.
pub const MIN_EXPIRATION: Duration = Duration::from_secs(5 * 60);
pub const MAX_EXPIRATION: Duration = Duration::from_secs(4 * 60 * 60);

/// An ISO 8601 duration of days, hours, minutes and seconds
/// (`PT1H30M`, `PT300S`, `P1DT2H`).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let rest = text.strip_prefix('P')?;
    let (days, time) = match rest.split_once('T') {
        Some((days, time)) => (days, Some(time)),
        None => (rest, None),
    };
    let mut seconds: u64 = 0;
    let mut any = false;
    let mut add = |part: &str, units: &[(char, u64)]| -> Option<()> {
        let mut number = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let scale = units.iter().find(|(u, _)| *u == c)?.1;
            let n: u64 = number.parse().ok()?;
            seconds = seconds.checked_add(n.checked_mul(scale)?)?;
            number.clear();
            any = true;
        }
        number.is_empty().then_some(())
    };
    add(days, &[('D', 86_400)])?;
    if let Some(time) = time {
        if time.is_empty() {
            return None;
        }
        add(time, &[('H', 3_600), ('M', 60), ('S', 1)])?;
    }
    any.then(|| Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::LocalHub;

    #[test]
    fn durations_parse_as_iso_8601() {
        assert_eq!(parse_duration("PT5M"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("PT1H30M"), Some(Duration::from_secs(5_400)));
        assert_eq!(parse_duration("P1DT1S"), Some(Duration::from_secs(86_401)));
        for bad in ["", "P", "PT", "5M", "PT5X", "PT5", "PTM"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_wins_until_it_expires_then_the_socket_decides() {
        let hub: Arc<dyn Hub> = Arc::new(LocalHub::new());
        let presence = Presence::new(Arc::clone(&hub));
        let (bob, tenant) = (Uuid::from_u128(2), Uuid::from_u128(9));
        let (_watcher, mut frames) = hub.attach(Uuid::from_u128(1), tenant);
        assert_eq!(presence.status(bob).availability, "Offline");
        let (socket, _rx) = presence.update(bob, tenant, || hub.attach(bob, tenant));
        assert_eq!(presence.status(bob), Status::of("Available", "Available"));
        assert!(matches!(
            frames.recv().await,
            Some(ServerFrame::PresenceChanged { availability, .. }) if availability == "Available"
        ));
        presence.set(
            bob,
            tenant,
            Session {
                session_id: "app".into(),
                status: Status::of("Busy", "InACall"),
                expires: Instant::now() + MIN_EXPIRATION,
            },
        );
        assert_eq!(presence.status(bob).activity, "InACall");
        tokio::time::sleep(MIN_EXPIRATION + Duration::from_secs(1)).await;
        assert_eq!(presence.status(bob).activity, "Available");
        presence.update(bob, tenant, || hub.detach(socket));
        assert_eq!(presence.status(bob).availability, "Offline");
        assert!(!presence.clear(bob, tenant, "app"));
    }
}
