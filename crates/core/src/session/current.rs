//! Which account is in use, remembered in a small file (an account key is
//! not a secret) so that the next start opens the same account.

use std::path::PathBuf;
use std::sync::Mutex;

use crate::vault::AccountKey;

pub(super) struct CurrentAccount {
    file: Option<PathBuf>,
    chosen: Mutex<Option<AccountKey>>,
}

impl CurrentAccount {
    pub(super) fn new(file: Option<PathBuf>) -> Self {
        let chosen = file
            .as_ref()
            .and_then(|f| std::fs::read_to_string(f).ok())
            .and_then(|text| {
                let (tid, oid) = text.trim().split_once('.')?;
                Some(AccountKey::new(tid, oid))
            });
        Self {
            file,
            chosen: Mutex::new(chosen),
        }
    }

    pub(super) fn get(&self) -> Option<AccountKey> {
        self.chosen.lock().expect("not poisoned").clone()
    }

    pub(super) fn set(&self, key: Option<&AccountKey>) {
        *self.chosen.lock().expect("not poisoned") = key.cloned();
        let Some(file) = &self.file else { return };
        let result = match key {
            Some(key) => file
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| {
                    std::fs::write(file, format!("{}.{}\n", key.tenant_id, key.object_id))
                }),
            None => match std::fs::remove_file(file) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other,
            },
        };
        // Losing this choice only means picking the account again.
        if let Err(error) = result {
            tracing::warn!(%error, file = %file.display(), "cannot remember the current account");
        }
    }
}
