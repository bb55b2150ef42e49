//! A string that must never be printed: tokens, refresh tokens, keys.

use std::fmt;

use zeroize::Zeroizing;

/// Holds a secret value. `Debug` and `Display` print `[redacted]`, so a
/// secret that ends up in a log line, a panic message or an error shows
/// nothing; the memory is wiped on drop. Reading the value takes an explicit
/// [`Secret::expose`], which is easy to find in review.
///
/// It does not implement `Serialize`, so it cannot slip into a file or an
/// IPC payload by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The secret itself. Call only where it leaves for its one destination
    /// (an HTTP header, the OS keyring).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

/// Secrets arrive in provider responses; they never leave through serde.
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret::new)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.very-secret-payload.sig";

    #[derive(Debug)]
    #[allow(dead_code)] // the fields are read through Debug
    struct Session {
        user: String,
        access_token: Secret,
    }

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new(TOKEN);
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(format!("{secret:?}"), "Secret([redacted])");
        let nested = Session {
            user: "alice".into(),
            access_token: secret.clone(),
        };
        let printed = format!("{nested:?} {nested:#?}");
        assert!(!printed.contains("very-secret"), "{printed}");
        assert!(printed.contains("alice"));
    }

    #[test]
    fn expose_gives_the_value_back() {
        let secret = Secret::from(TOKEN.to_string());
        assert_eq!(secret.expose(), TOKEN);
        assert!(!secret.is_empty());
    }

    #[test]
    fn a_panic_message_carrying_a_secret_is_redacted() {
        let secret = Secret::new(TOKEN);
        let result = std::panic::catch_unwind(|| panic!("refresh failed for {secret:?}"));
        let message = result.unwrap_err();
        let text = message.downcast_ref::<String>().unwrap();
        assert!(!text.contains("very-secret"), "{text}");
    }
}
