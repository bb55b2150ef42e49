//! Azure Communication Services: the resource's access key, HMAC-SHA256
//! request signing, and forwarding the token exchange to a real ACS
//! resource when one is configured.

pub mod forward;
pub mod signing;

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use url::Url;

pub use forward::{AcsClient, ForwardError};
pub use signing::{sign, SignedHeaders, SigningError};

/// An ACS access key (base64 in the portal, raw bytes here). A secret: its
/// `Debug` is redacted and it is never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey(Vec<u8>);

impl AccessKey {
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessKey(<redacted>)")
    }
}

impl std::str::FromStr for AccessKey {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        // The message never repeats the value: it is a secret.
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| "the ACS access key must be base64 (as the portal shows it)".to_owned())?;
        if bytes.is_empty() {
            return Err("the ACS access key must not be empty".to_owned());
        }
        Ok(Self(bytes))
    }
}

impl TryFrom<String> for AccessKey {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

impl<'de> serde::Deserialize<'de> for AccessKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A configured ACS resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcsConfig {
    /// e.g. `https://my-resource.communication.azure.com`.
    pub endpoint: Url,
    pub access_key: AccessKey,
}

/// ACS endpoints must be `https`, except on loopback (a local fake ACS in
/// tests): the key signs requests, and what comes back is a token.
pub fn endpoint_is_acceptable(endpoint: &Url) -> bool {
    match endpoint.scheme() {
        "https" => endpoint.host_str().is_some(),
        "http" => match endpoint.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            None => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_key_is_base64_and_never_printed() {
        let key: AccessKey = "c2VjcmV0LWtleQ==".parse().unwrap();
        assert_eq!(key.bytes(), b"secret-key");
        assert_eq!(format!("{key:?}"), "AccessKey(<redacted>)");
        let err = "not base64!".parse::<AccessKey>().unwrap_err();
        assert!(!err.contains("not base64!"), "{err}");
        assert!("".parse::<AccessKey>().is_err());
    }

    #[test]
    fn endpoints_are_https_or_loopback_http() {
        for ok in [
            "https://my-resource.communication.azure.com",
            "http://127.0.0.1:9000",
            "http://[::1]:9000/",
            "http://localhost:1",
        ] {
            assert!(endpoint_is_acceptable(&Url::parse(ok).unwrap()), "{ok}");
        }
        for bad in ["http://acs.example", "http://10.0.0.1", "ftp://x.example"] {
            assert!(!endpoint_is_acceptable(&Url::parse(bad).unwrap()), "{bad}");
        }
    }
}
