//! ICE servers for clients: STUN URLs as configured, and TURN URLs with a
//! short-lived credential in coturn's shared-secret scheme (the "TURN REST
//! API": coturn's `--use-auth-secret --static-auth-secret=…`).
//!
//! username = `<expiry unix time>:<oid>`,
//! credential = base64(HMAC-SHA1(secret, username)). coturn recomputes the
//! credential from the username and refuses it after the expiry.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use convene_proto::call::{IceServer, IceServers};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha1::Sha1;
use uuid::Uuid;

/// How long a TURN credential lasts unless `--turn-ttl` says otherwise.
pub const DEFAULT_TURN_TTL: Duration = Duration::from_secs(600);

/// The secret shared with coturn (`static-auth-secret`). Its `Debug` is
/// redacted, so printing a config never shows it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct TurnSecret(String);

impl TurnSecret {
    pub fn new(secret: impl Into<String>) -> Result<Self, String> {
        let secret = secret.into();
        if secret.is_empty() {
            return Err("the TURN secret must not be empty".to_owned());
        }
        Ok(Self(secret))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for TurnSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TurnSecret(<redacted>)")
    }
}

impl TryFrom<String> for TurnSecret {
    type Error = String;
    fn try_from(secret: String) -> Result<Self, String> {
        Self::new(secret)
    }
}

impl std::str::FromStr for TurnSecret {
    type Err = String;
    fn from_str(secret: &str) -> Result<Self, String> {
        Self::new(secret)
    }
}

/// The ICE servers the server hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceConfig {
    pub stun_urls: Vec<String>,
    pub turn_urls: Vec<String>,
    /// Required when there are TURN URLs (the config checks).
    pub turn_secret: Option<TurnSecret>,
    pub turn_ttl: Duration,
}

impl Default for IceConfig {
    fn default() -> Self {
        Self {
            stun_urls: Vec::new(),
            turn_urls: Vec::new(),
            turn_secret: None,
            turn_ttl: DEFAULT_TURN_TTL,
        }
    }
}

/// The TURN username and credential for `oid`, valid until `expiry`
/// (Unix seconds).
pub fn turn_credential(secret: &TurnSecret, expiry: u64, oid: Uuid) -> (String, String) {
    let username = format!("{expiry}:{oid}");
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(username.as_bytes());
    let credential = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    (username, credential)
}

impl IceConfig {
    /// The answer to `GET /v1/ice-servers` for `oid` at `now`.
    pub fn servers_for(&self, oid: Uuid, now: SystemTime) -> IceServers {
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let ttl = self.turn_ttl.as_secs();
        let expires_at = now + ttl;
        let mut ice_servers = Vec::new();
        if !self.stun_urls.is_empty() {
            ice_servers.push(IceServer {
                urls: self.stun_urls.clone(),
                username: None,
                credential: None,
            });
        }
        if let (false, Some(secret)) = (self.turn_urls.is_empty(), &self.turn_secret) {
            let (username, credential) = turn_credential(secret, expires_at, oid);
            ice_servers.push(IceServer {
                urls: self.turn_urls.clone(),
                username: Some(username),
                credential: Some(credential),
            });
        }
        IceServers {
            ice_servers,
            ttl_secs: ttl,
            expires_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_matches_an_independent_computation() {
        // Computed once, independently, with Python's standard library:
        // python3 -c "import hmac,hashlib,base64; u='1767225600:00000000-b0b0-4000-8000-000000000002';
        //   print(base64.b64encode(hmac.new(b'north-wind',u.encode(),hashlib.sha1).digest()).decode())"
        let secret = TurnSecret::new("north-wind").unwrap();
        let oid = Uuid::parse_str("00000000-b0b0-4000-8000-000000000002").unwrap();
        let (username, credential) = turn_credential(&secret, 1_767_225_600, oid);
        assert_eq!(username, "1767225600:00000000-b0b0-4000-8000-000000000002");
        assert_eq!(credential, "yZ7P2OMpqZ+EV1jLJDC7J/v78e4=");
    }

    #[test]
    fn servers_carry_stun_then_turn_with_an_expiring_credential() {
        let config = IceConfig {
            stun_urls: vec!["stun:turn.example:3478".into()],
            turn_urls: vec!["turn:turn.example:3478?transport=udp".into()],
            turn_secret: Some(TurnSecret::new("north-wind").unwrap()),
            turn_ttl: Duration::from_secs(600),
        };
        let oid = Uuid::from_u128(2);
        let now = UNIX_EPOCH + Duration::from_secs(1_767_225_000);
        let servers = config.servers_for(oid, now);
        assert_eq!(servers.expires_at, 1_767_225_600);
        assert_eq!(servers.ice_servers.len(), 2);
        assert_eq!(servers.ice_servers[0].username, None);
        assert_eq!(
            servers.ice_servers[1].username.as_deref(),
            Some(format!("1767225600:{oid}").as_str())
        );
        assert!(format!("{config:?}").contains("<redacted>"));
        assert!(IceConfig::default()
            .servers_for(oid, now)
            .ice_servers
            .is_empty());
    }
}
