//! Signing in with a work account: OpenID Connect authorization code flow
//! with PKCE through the system browser and a loopback redirect, against
//! Entra ID or any Entra-shaped issuer (convene-server's dev issuer).

pub mod browser;
pub mod discovery;
pub mod flow;
pub mod id_token;
pub mod loopback;
pub mod pkce;
pub mod token;

use std::fmt;

use serde::Deserialize;

pub use discovery::ProviderMetadata;
pub use flow::{sign_in, SignInRequest, SignedIn};
pub use id_token::IdTokenClaims;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    #[error("cannot read the identity provider's configuration: {0}")]
    Discovery(#[source] crate::http::HttpError),
    #[error("the authority {authority} is not a URL base: {source}")]
    Authority {
        authority: String,
        #[source]
        source: url::ParseError,
    },
    #[error("the identity provider does not support PKCE with S256")]
    NoPkce,
    #[error("cannot read the identity provider's signing keys: {0}")]
    Keys(#[source] crate::http::HttpError),
    #[error("the identity provider's answer is not trustworthy: {0}")]
    InvalidIdToken(String),
    #[error("your organisation ({tenant}) is not allowed to sign in here")]
    TenantNotAllowed { tenant: String },
    #[error("cannot receive the sign-in response: {0}")]
    Loopback(#[source] std::io::Error),
    #[error("cannot receive the sign-in response: the redirect listener stopped")]
    LoopbackStopped,
    #[error("{0}")]
    Browser(String),
    #[error(
        "the sign-in response does not belong to this sign-in (state mismatch); please try again"
    )]
    StateMismatch,
    #[error("sign-in was cancelled")]
    Cancelled,
    #[error("sign-in timed out: nothing came back from the browser")]
    TimedOut,
    #[error("{0}")]
    Provider(ProviderError),
    #[error("cannot reach the identity provider at {url}: {}", crate::http::describe(.source))]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("cannot reach the identity provider: {0}")]
    Token(#[source] crate::http::HttpError),
    #[error("{url} answered {status} without an OAuth error")]
    NoOAuthError { url: String, status: u16 },
}

/// An OAuth error from the provider, in Entra's shape
/// (`error`, `error_description`, `error_codes`, `suberror`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProviderError {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
    #[serde(default)]
    pub error_codes: Vec<u32>,
    /// Entra's refinement of `invalid_grant`/`interaction_required`, e.g.
    /// `consent_required`, `basic_action`.
    #[serde(default)]
    pub suberror: Option<String>,
}

impl ProviderError {
    /// The grant is fine but the person must act in the browser first:
    /// approve a permission (AADSTS65001, `consent_required`) or satisfy a
    /// policy (`interaction_required`, e.g. multi-factor). Their session
    /// has not ended; an interactive sign-in carries on.
    pub fn needs_interaction(&self) -> bool {
        self.error == "interaction_required"
            || self.error == "consent_required"
            || self.suberror.as_deref() == Some("consent_required")
            || self.error_codes.contains(&65001)
            || self.describes(65001)
    }

    /// The provider says the grant is no longer valid (revoked, expired,
    /// password changed): the person must sign in again.
    pub fn needs_sign_in_again(&self) -> bool {
        self.error == "invalid_grant" && !self.needs_interaction()
    }

    /// Plain words for the errors people meet most, with what to do next.
    pub fn advice(&self) -> Option<&'static str> {
        let code = |c: u32| self.error_codes.contains(&c) || self.describes(c);
        if code(65001) || self.error == "consent_required" {
            Some("Your organisation has not approved Convene yet: ask your IT administrator to grant consent.")
        } else if code(50020) {
            Some("This account is not a member of the organisation Convene is set up for: use your work account, or ask your administrator to invite you.")
        } else if code(50105) {
            Some("You are not assigned to Convene in your organisation: ask your IT administrator for access.")
        } else if code(53003) {
            Some("Your organisation's access policy blocked this sign-in (for example a device or location rule).")
        } else if code(50126) {
            Some("The user name or password is wrong.")
        } else if self.needs_interaction() {
            Some("Convene needs you to sign in once more to approve what it asks for.")
        } else if self.needs_sign_in_again() {
            Some("Your session has ended: sign in again.")
        } else if self.error == "access_denied" {
            Some("Sign-in was declined.")
        } else {
            None
        }
    }

    fn describes(&self, code: u32) -> bool {
        self.error_description
            .as_deref()
            .is_some_and(|d| d.contains(&format!("AADSTS{code}")))
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.advice() {
            Some(advice) => write!(f, "{advice} ({})", self.error),
            None => {
                // The provider's own first line, without trace and
                // correlation ids.
                let detail = self
                    .error_description
                    .as_deref()
                    .and_then(|d| d.lines().next())
                    .unwrap_or("no details");
                write!(f, "sign-in failed: {} ({detail})", self.error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(error: &str, description: &str, codes: &[u32]) -> ProviderError {
        ProviderError {
            error: error.into(),
            error_description: Some(description.into()),
            error_codes: codes.to_vec(),
            suberror: None,
        }
    }

    #[test]
    fn common_entra_errors_read_as_plain_advice() {
        let consent = error(
            "invalid_client",
            "AADSTS65001: The user or administrator has not consented",
            &[65001],
        );
        assert!(consent
            .to_string()
            .contains("ask your IT administrator to grant consent"));
        let guest = error(
            "invalid_request",
            "AADSTS50020: User account from identity provider does not exist in tenant",
            &[],
        );
        assert!(guest
            .to_string()
            .contains("not a member of the organisation"));
        let revoked = error(
            "invalid_grant",
            "AADSTS70008: The refresh token has expired",
            &[70008],
        );
        assert!(revoked.needs_sign_in_again());
        assert!(!revoked.needs_interaction());
        assert!(revoked.to_string().contains("sign in again"));
    }

    #[test]
    fn missing_consent_and_required_interaction_are_not_an_ended_session() {
        // Entra's answer to a refresh for a resource nobody consented to.
        let mut consent = error(
            "invalid_grant",
            "AADSTS65001: The user or administrator has not consented to use the application",
            &[65001],
        );
        consent.suberror = Some("consent_required".into());
        assert!(consent.needs_interaction());
        assert!(!consent.needs_sign_in_again());
        // The same told only by the suberror, or only by the code.
        let mut by_suberror = error("invalid_grant", "", &[]);
        by_suberror.suberror = Some("consent_required".into());
        assert!(by_suberror.needs_interaction() && !by_suberror.needs_sign_in_again());
        let by_code = error("invalid_grant", "AADSTS65001: not consented", &[]);
        assert!(by_code.needs_interaction() && !by_code.needs_sign_in_again());
        // Multi-factor or another policy wants the person.
        let mfa = error(
            "interaction_required",
            "AADSTS50076: use multi-factor",
            &[50076],
        );
        assert!(mfa.needs_interaction() && !mfa.needs_sign_in_again());
    }

    #[test]
    fn unknown_errors_show_the_first_line_only() {
        let other = error(
            "server_error",
            "AADSTS90000: Something\r\nTrace ID: abc\r\nCorrelation ID: def",
            &[90000],
        );
        let text = other.to_string();
        assert!(text.contains("AADSTS90000: Something"), "{text}");
        assert!(!text.contains("Trace ID"), "{text}");
    }
}
