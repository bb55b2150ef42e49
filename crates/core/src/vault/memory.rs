//! The ephemeral store: a map in this process, gone when it exits. For
//! kiosks (`--ephemeral`) and tests; it never touches disk or the keyring.

use std::collections::HashMap;
use std::sync::Mutex;

use zeroize::Zeroizing;

use super::backend::Backend;
use super::error::VaultError;

#[derive(Default)]
pub(crate) struct MemoryBackend {
    entries: Mutex<HashMap<String, Zeroizing<Vec<u8>>>>,
}

impl MemoryBackend {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Zeroizing<Vec<u8>>>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every entry user, for tests that check nothing is left behind.
    #[cfg(test)]
    pub(crate) fn users(&self) -> Vec<String> {
        let mut users: Vec<String> = self.entries().keys().cloned().collect();
        users.sort();
        users
    }

    #[cfg(test)]
    pub(crate) fn remove_raw(&self, user: &str) {
        self.entries().remove(user);
    }
}

impl Backend for MemoryBackend {
    fn get(&self, user: &str) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        Ok(self.entries().get(user).cloned())
    }

    fn set(&self, user: &str, value: &[u8]) -> Result<(), VaultError> {
        self.entries()
            .insert(user.to_string(), Zeroizing::new(value.to_vec()));
        Ok(())
    }

    fn delete(&self, user: &str) -> Result<(), VaultError> {
        self.entries().remove(user);
        Ok(())
    }
}
