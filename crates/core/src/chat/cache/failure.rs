//! Why the outbox gave up on a message, as it keeps it with the message
//! until the user retries or discards it. The UI sees it as a
//! [`UserError`], made here when a failed entry becomes a thread message.

use serde::{Deserialize, Serialize};

use crate::error::{UserError, UserErrorCode};

/// A message the outbox will not send again by itself. Each carries the
/// sentence shown to the user; it outlives the error that caused it (it is
/// stored), so there is no source to keep.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendFailure {
    /// The service said no (a 4xx answer): the same message would be
    /// refused again. `status` is unknown for failures stored before it
    /// was recorded.
    #[error("{message}")]
    Refused {
        status: Option<u16>,
        message: String,
    },
    /// The message cannot go where it was meant to (its chat is gone from
    /// the cache, or its stored request no longer reads).
    #[error("{message}")]
    Invalid { message: String },
    /// Anything else: an answer not understood, the cache failing.
    #[error("{message}")]
    Other { message: String },
}

/// The `failure` column: the shape a [`UserError`] serialises to, plus the
/// status. Caches written before this type hold exactly a `UserError`, and
/// an older app reading a newer row ignores `status`.
#[derive(Serialize, Deserialize)]
struct StoredFailure {
    code: UserErrorCode,
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
}

impl SendFailure {
    pub fn message(&self) -> &str {
        match self {
            SendFailure::Refused { message, .. }
            | SendFailure::Invalid { message }
            | SendFailure::Other { message } => message,
        }
    }

    fn code(&self) -> UserErrorCode {
        match self {
            SendFailure::Refused { .. } => UserErrorCode::Refused,
            SendFailure::Invalid { .. } => UserErrorCode::Invalid,
            SendFailure::Other { .. } => UserErrorCode::Other,
        }
    }

    /// The text kept in the outbox's `failure` column.
    pub(super) fn to_column(&self) -> String {
        let status = match self {
            SendFailure::Refused { status, .. } => *status,
            _ => None,
        };
        serde_json::to_string(&StoredFailure {
            code: self.code(),
            message: self.message().to_owned(),
            status,
        })
        .expect("a failure serialises")
    }

    /// Reads the `failure` column back. Text that is not a stored failure
    /// (no writer ever made one) is kept as the message.
    pub(super) fn from_column(text: &str) -> Self {
        let Ok(stored) = serde_json::from_str::<StoredFailure>(text) else {
            return SendFailure::Other {
                message: text.to_owned(),
            };
        };
        let message = stored.message;
        match stored.code {
            UserErrorCode::Refused => SendFailure::Refused {
                status: stored.status,
                message,
            },
            UserErrorCode::Invalid => SendFailure::Invalid { message },
            _ => SendFailure::Other { message },
        }
    }
}

impl From<&SendFailure> for UserError {
    fn from(failure: &SendFailure) -> Self {
        UserError {
            code: failure.code(),
            message: failure.message().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_stored_as_the_ui_error_read_back_and_show_the_same() {
        // What caches written before SendFailure hold.
        let before = UserError {
            code: UserErrorCode::Refused,
            message: "the chat service refused (403 Forbidden): not a member".into(),
        };
        let column = serde_json::to_string(&before).unwrap();
        let failure = SendFailure::from_column(&column);
        assert_eq!(
            failure,
            SendFailure::Refused {
                status: None,
                message: "the chat service refused (403 Forbidden): not a member".into(),
            }
        );
        assert_eq!(UserError::from(&failure), before);

        let invalid = r#"{"code":"invalid","message":"no chat 19:x in the cache"}"#;
        assert_eq!(
            SendFailure::from_column(invalid),
            SendFailure::Invalid {
                message: "no chat 19:x in the cache".into()
            }
        );
        assert_eq!(
            SendFailure::from_column("not json"),
            SendFailure::Other {
                message: "not json".into()
            }
        );
    }

    #[test]
    fn a_stored_failure_keeps_its_status_and_stays_readable_as_a_ui_error() {
        for failure in [
            SendFailure::Refused {
                status: Some(413),
                message: "too large".into(),
            },
            SendFailure::Invalid {
                message: "gone".into(),
            },
            SendFailure::Other {
                message: "odd answer".into(),
            },
        ] {
            let column = failure.to_column();
            assert_eq!(SendFailure::from_column(&column), failure);
            // An older app reads the same row as the error it always showed.
            let read_by_older: UserError = serde_json::from_str(&column).unwrap();
            assert_eq!(read_by_older, UserError::from(&failure));
        }
    }
}
