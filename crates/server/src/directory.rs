//! The people the server knows. Under `--dev` the demo users are seeded;
//! in tenant mode a person of an allowed tenant is remembered from their
//! first validated request (id, name and user name from the token's
//! claims), so that colleagues can find, chat with and call them.

use std::collections::HashMap;
use std::sync::Mutex;

use uuid::Uuid;

use crate::exchange::VerifiedToken;
use crate::store::{Store, User};

pub struct Directory {
    store: Store,
    /// What was last written for each person, so that a request writes
    /// only when something changed.
    known: Mutex<HashMap<Uuid, User>>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory").finish_non_exhaustive()
    }
}

impl Directory {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            known: Mutex::new(HashMap::new()),
        }
    }

    /// Remembers the person a validated token speaks for. A failure to
    /// write is logged, not returned: the request itself goes on.
    pub async fn remember(&self, token: &VerifiedToken) {
        let user = User {
            tenant_id: token.tid,
            object_id: token.oid,
            user_principal_name: token
                .preferred_username
                .clone()
                .unwrap_or_else(|| token.oid.to_string()),
            display_name: token
                .name
                .clone()
                .or_else(|| token.preferred_username.clone())
                .unwrap_or_else(|| token.oid.to_string()),
        };
        {
            let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
            if known.get(&user.object_id) == Some(&user) {
                return;
            }
        }
        match self.store.upsert_users(vec![user.clone()]).await {
            Ok(()) => {
                tracing::debug!(oid = %user.object_id, tid = %user.tenant_id, "directory: person remembered");
                self.known
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(user.object_id, user);
            }
            Err(error) => tracing::warn!(%error, "directory: cannot remember a person"),
        }
    }
}
