//! The demo users' password at the dev issuer's sign-in form.

use serde::Deserialize;

/// Password of every demo user at the dev issuer's sign-in form, unless
/// `--dev-password` says otherwise.
pub const DEFAULT_DEV_PASSWORD: &str = "convene";

/// The demo users' password. Its `Debug` is redacted, so that printing a
/// [`Cli`](crate::Cli) or [`Config`](crate::Config) never shows it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct DevPassword(String);

impl DevPassword {
    pub fn new(password: impl Into<String>) -> Result<Self, String> {
        let password = password.into();
        if password.is_empty() {
            return Err("the dev password must not be empty".to_owned());
        }
        Ok(Self(password))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Default for DevPassword {
    fn default() -> Self {
        Self(DEFAULT_DEV_PASSWORD.to_owned())
    }
}

impl std::fmt::Debug for DevPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DevPassword(<redacted>)")
    }
}

impl TryFrom<String> for DevPassword {
    type Error = String;
    fn try_from(password: String) -> Result<Self, String> {
        Self::new(password)
    }
}

impl std::str::FromStr for DevPassword {
    type Err = String;
    fn from_str(password: &str) -> Result<Self, String> {
        Self::new(password)
    }
}
