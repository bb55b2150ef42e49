//! What a server says about itself: `GET /healthz` and `GET /version`.

use serde::{Deserialize, Serialize};

/// Version of the client–server protocol described in `docs/protocol.md`.
/// A server answers with the versions it speaks; a client refuses a server
/// with no version in common.
pub const PROTOCOL_VERSION: u32 = 1;

/// Body of `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Health {
    pub status: HealthStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum HealthStatus {
    Ok,
}

/// How a server was started: its own dev identity provider, or trusting a
/// real tenant's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum ServerMode {
    Dev,
    Tenant,
}

/// Body of `GET /version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ServerVersion {
    /// Always `convene-server` for this implementation.
    pub name: String,
    /// The server's package version (semver).
    pub version: String,
    /// Protocol versions the server speaks.
    pub protocol_versions: Vec<u32>,
    pub mode: ServerMode,
}

impl ServerVersion {
    pub fn speaks(&self, protocol: u32) -> bool {
        self.protocol_versions.contains(&protocol)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_json_uses_camel_case() {
        let v = ServerVersion {
            name: "convene-server".into(),
            version: "0.1.0".into(),
            protocol_versions: vec![1],
            mode: ServerMode::Dev,
        };
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "name": "convene-server",
                "version": "0.1.0",
                "protocolVersions": [1],
                "mode": "dev"
            })
        );
        assert!(v.speaks(1));
        assert!(!v.speaks(2));
    }

    #[test]
    fn health_json_is_status_ok() {
        let h: Health = serde_json::from_str(r#"{"status":"ok"}"#).unwrap();
        assert_eq!(h.status, HealthStatus::Ok);
    }
}
