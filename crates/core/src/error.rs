//! Errors as the UI shows them: a stable code to branch on and a sentence
//! for the person. Each feature keeps its own error type; this is where
//! they meet the UI.

use serde::Serialize;

use crate::call::CallError;
use crate::session::SessionError;
use crate::vault::VaultError;

/// An error as the UI shows it: a stable code to branch on and a sentence
/// for the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct UserError {
    pub code: UserErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum UserErrorCode {
    /// No keyring to keep the sign-in in.
    KeyringUnavailable,
    NotSignedIn,
    SignInAgain,
    /// The account needs the person in the browser once (to approve a
    /// permission); it stays signed in.
    InteractionRequired,
    SignInInProgress,
    UnknownAccount,
    /// The service cannot be reached now; the action is retried or can be.
    Offline,
    /// The service refused the request (not allowed, not found, too large).
    Refused,
    /// The request itself is not acceptable (empty message, unknown chat).
    Invalid,
    Other,
}

impl From<CallError> for UserError {
    fn from(error: CallError) -> Self {
        let code = match error {
            CallError::Offline => UserErrorCode::Offline,
            CallError::Busy | CallError::NoSuchCall => UserErrorCode::Invalid,
            CallError::Media(_) | CallError::Stopped => UserErrorCode::Other,
        };
        Self {
            code,
            message: error.to_string(),
        }
    }
}

impl From<&SessionError> for UserError {
    fn from(error: &SessionError) -> Self {
        let code = match error {
            SessionError::Vault(VaultError::Unavailable { .. } | VaultError::Locked { .. }) => {
                UserErrorCode::KeyringUnavailable
            }
            SessionError::SignInAgain { .. } => UserErrorCode::SignInAgain,
            SessionError::InteractionRequired { .. } => UserErrorCode::InteractionRequired,
            SessionError::NotSignedIn => UserErrorCode::NotSignedIn,
            SessionError::UnknownAccount(_) => UserErrorCode::UnknownAccount,
            _ => UserErrorCode::Other,
        };
        Self {
            code,
            message: error.to_string(),
        }
    }
}
