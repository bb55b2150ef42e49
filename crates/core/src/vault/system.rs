//! The OS keyring, through keyring 4's `keyring-core` and exactly one store
//! per platform, chosen at compile time:
//!
//! - Linux and the BSDs: Secret Service over zbus (gnome-keyring, KeePassXC),
//! - Windows: Credential Manager,
//! - macOS: the Keychain.
//!
//! We build entries from our own store object rather than keyring-core's
//! process-wide default store, so nothing can silently swap in a mock, and
//! an unreachable keyring is reported when the vault opens. There is no other
//! fallback: a vault that cannot reach the keyring fails.

use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};
use zeroize::Zeroizing;

use super::account::SERVICE;
use super::backend::Backend;
use super::error::VaultError;

/// Largest value put in one keyring entry before splitting. Windows caps a
/// credential blob at 2560 bytes; the others take far more, but we stay
/// modest so one entry never hits a daemon's message limit.
#[cfg(target_os = "windows")]
pub const DEFAULT_MAX_ENTRY_BYTES: usize = 2048;
#[cfg(not(target_os = "windows"))]
pub const DEFAULT_MAX_ENTRY_BYTES: usize = 16 * 1024;

pub(crate) struct SystemBackend {
    store: Arc<CredentialStore>,
}

impl SystemBackend {
    /// Connects to the platform keyring (on Linux: opens a D-Bus session and
    /// a Secret Service session). Blocking.
    pub(crate) fn connect() -> Result<Self, VaultError> {
        let store = platform_store().map_err(|e| VaultError::Unavailable {
            detail: e.to_string(),
        })?;
        Ok(Self { store })
    }

    fn entry(&self, user: &str) -> Result<Entry, VaultError> {
        Entry::new_in_store(&self.store, SERVICE, user)
            .map_err(|e| VaultError::from_keyring(user, e))
    }
}

#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(zbus_secret_service_keyring_store::Store::new()?)
}

#[cfg(target_os = "windows")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(windows_native_keyring_store::Store::new()?)
}

#[cfg(target_os = "macos")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(apple_native_keyring_store::keychain::Store::new()?)
}

#[cfg(not(any(unix, target_os = "windows")))]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Err(keyring_core::Error::NotSupportedByStore(
        "no keyring store for this platform".into(),
    ))
}

impl Backend for SystemBackend {
    fn get(&self, user: &str) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        match self.entry(user)?.get_secret() {
            Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(VaultError::from_keyring(user, e)),
        }
    }

    fn set(&self, user: &str, value: &[u8]) -> Result<(), VaultError> {
        self.entry(user)?
            .set_secret(value)
            .map_err(|e| VaultError::from_keyring(user, e))
    }

    fn delete(&self, user: &str) -> Result<(), VaultError> {
        match self.entry(user)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(VaultError::from_keyring(user, e)),
        }
    }
}
