//! The few raw operations the vault needs from a store: whole values by
//! keyring user name, all under the one service [`SERVICE`](super::SERVICE).

use zeroize::Zeroizing;

use super::error::VaultError;

/// Blocking, like the keyring APIs themselves; the vault calls it from
/// `spawn_blocking` only.
pub(crate) trait Backend: Send + Sync {
    /// The value of `user`, or `None` if there is no such entry.
    fn get(&self, user: &str) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError>;
    /// Creates or replaces the value of `user`.
    fn set(&self, user: &str, value: &[u8]) -> Result<(), VaultError>;
    /// Removes `user`; removing an absent entry is not an error.
    fn delete(&self, user: &str) -> Result<(), VaultError>;
}
