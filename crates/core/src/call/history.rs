//! Call history, as the Calls tab lists it: convene-server's records of the
//! account's calls, with the other person's name where chat knows it.

use std::collections::HashMap;

use convene_proto::call::{CallDirection, CallHistory, CallOutcome, MediaKind, CALLS_PATH};
use serde::{Deserialize, Serialize};
use url::Url;

use super::view::CallPeer;
use crate::session::{AccountProfile, Sessions};

/// One call of the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CallHistoryEntry {
    pub id: String,
    pub peer: CallPeer,
    pub direction: CallDirection,
    pub media: Vec<MediaKind>,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// Whole seconds from answer to end; 0 if never answered.
    pub duration_secs: u32,
    /// `None` while the call goes on.
    pub outcome: Option<CallOutcome>,
}

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(transparent)]
    Session(#[from] crate::session::SessionError),
    #[error("the server's address cannot name the call history: {0}")]
    Url(#[from] url::ParseError),
    #[error("cannot reach convene-server at {url}: {}", crate::http::describe(.source))]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error(transparent)]
    Http(#[from] crate::http::HttpError),
}

/// Fetches the account's calls, newest first; `names` maps user ids to
/// display names.
pub async fn fetch(
    http: &reqwest::Client,
    server_url: &Url,
    sessions: &Sessions,
    account: &AccountProfile,
    names: &HashMap<String, String>,
) -> Result<Vec<CallHistoryEntry>, HistoryError> {
    let token = sessions.communication_token(account).await?;
    let url = server_url.join(CALLS_PATH)?;
    let response = http
        .get(url.clone())
        .bearer_auth(token.token.expose())
        .send()
        .await
        .map_err(|source| HistoryError::Unreachable {
            url: url.to_string(),
            source,
        })?;
    let history: CallHistory = crate::http::json_body(response).await?;
    Ok(history
        .value
        .into_iter()
        .map(|record| {
            let other = match record.direction {
                CallDirection::Incoming => &record.caller,
                _ => &record.callee,
            };
            let user_id = other.trim_start_matches("8:orgid:").to_owned();
            CallHistoryEntry {
                id: record.id,
                peer: CallPeer {
                    name: names.get(&user_id).cloned(),
                    user_id,
                },
                direction: record.direction,
                media: record.media,
                started_at: record.started_at,
                duration_secs: record.duration_secs.unwrap_or(0).min(u32::MAX as u64) as u32,
                outcome: record.outcome,
            }
        })
        .collect())
}
