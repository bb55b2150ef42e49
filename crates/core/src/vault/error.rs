//! What can go wrong in the vault, phrased so the user knows what to do.
//!
//! No variant carries secret bytes: keyring errors that hold data
//! (`BadEncoding`, `BadDataFormat`) are reduced to a description.

/// How to get a keyring on this platform, appended to `Unavailable`.
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
const UNAVAILABLE_HINT: &str = "no Secret Service is running on the D-Bus session bus: start \
     gnome-keyring or KeePassXC's Secret Service integration (and make sure \
     DBUS_SESSION_BUS_ADDRESS is set), or use --ephemeral";
#[cfg(target_os = "windows")]
const UNAVAILABLE_HINT: &str =
    "the Windows Credential Manager could not be reached; sign in to a full user session, \
     or use --ephemeral";
#[cfg(target_os = "macos")]
const UNAVAILABLE_HINT: &str =
    "the macOS Keychain could not be reached; sign in to a full user session, or use --ephemeral";
#[cfg(not(any(unix, target_os = "windows")))]
const UNAVAILABLE_HINT: &str = "this platform has no supported keyring; use --ephemeral";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// No keyring could be reached at all (no D-Bus session, no Secret
    /// Service, unsupported platform).
    #[error("the system keyring is unavailable ({detail}): {hint}", hint = UNAVAILABLE_HINT)]
    Unavailable { detail: String },

    /// The keyring is there but refuses access, usually because it is locked.
    #[error(
        "the system keyring is locked or refused access ({detail}): unlock it \
         (log in again, or open your keyring manager, e.g. Seahorse or KeePassXC) and retry"
    )]
    Locked { detail: String },

    /// What the vault wrote earlier cannot be read back as written (a missing
    /// chunk, a damaged header). Re-signing in rewrites it.
    #[error("the vault entry {entry:?} is corrupt: {detail}; sign in again to replace it")]
    Corrupt { entry: String, detail: String },

    #[error("invalid account key {0}: tenant and object ids must be non-empty [A-Za-z0-9_-]")]
    InvalidAccount(String),

    #[error("invalid secret name {0:?}: use 1-64 characters from [A-Za-z0-9_.-]")]
    InvalidName(String),

    #[error("max_entry_bytes must be at least {min}, got {got}")]
    InvalidLimit { min: usize, got: usize },

    /// Any other keyring failure, e.g. the D-Bus connection dropped.
    #[error("the system keyring failed on {entry:?}: {detail}")]
    Keyring { entry: String, detail: String },
}

impl VaultError {
    /// Translates a keyring error on entry `user` without keeping any data
    /// the error may carry.
    pub(crate) fn from_keyring(user: &str, err: keyring_core::Error) -> Self {
        use keyring_core::Error as K;
        let entry = user.to_string();
        match err {
            K::NoStorageAccess(e) => VaultError::Locked {
                detail: e.to_string(),
            },
            K::BadEncoding(_) => VaultError::Corrupt {
                entry,
                detail: "the keyring returned data that is not UTF-8".into(),
            },
            K::BadDataFormat(_, _) => VaultError::Corrupt {
                entry,
                detail: "the keyring returned malformed data".into(),
            },
            K::Ambiguous(items) => VaultError::Corrupt {
                entry,
                detail: format!("{} keyring items match this entry", items.len()),
            },
            K::NoDefaultStore => VaultError::Unavailable {
                detail: "no keyring store".into(),
            },
            K::PlatformFailure(e) => VaultError::Keyring {
                entry,
                detail: e.to_string(),
            },
            e @ (K::TooLong(..)
            | K::Invalid(..)
            | K::BadStoreFormat(_)
            | K::NotSupportedByStore(_)
            | K::NoEntry) => VaultError::Keyring {
                entry,
                detail: e.to_string(),
            },
            // A future variant might carry data; say nothing specific.
            _ => VaultError::Keyring {
                entry,
                detail: "unexpected keyring error".into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyring_errors_carrying_data_drop_it() {
        let secret = b"super-secret-refresh-token".to_vec();
        let errors = [
            VaultError::from_keyring("t.o/x", keyring_core::Error::BadEncoding(secret.clone())),
            VaultError::from_keyring(
                "t.o/x",
                keyring_core::Error::BadDataFormat(secret.clone(), "bad".into()),
            ),
        ];
        for err in errors {
            let printed = format!("{err} {err:?}");
            assert!(!printed.contains("super-secret"), "{printed}");
            assert!(matches!(err, VaultError::Corrupt { .. }));
        }
    }

    #[test]
    fn no_storage_access_reads_as_locked() {
        let err = VaultError::from_keyring(
            "t.o/x",
            keyring_core::Error::NoStorageAccess("Locked".into()),
        );
        assert!(matches!(err, VaultError::Locked { .. }));
        assert!(err.to_string().contains("unlock it"), "{err}");
    }

    #[test]
    fn unavailable_says_how_to_fix_it() {
        let err = VaultError::Unavailable {
            detail: "connection refused".into(),
        };
        assert!(err.to_string().contains("--ephemeral"), "{err}");
    }
}
