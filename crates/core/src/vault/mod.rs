//! Where an account's secrets (refresh token and the like) live: the OS
//! keyring, and nowhere else.
//!
//! - [`VaultKind::System`] is the platform keyring (Secret Service on Linux,
//!   Credential Manager on Windows, Keychain on macOS; see `system.rs`).
//!   If it cannot be reached, [`Vault::open`] fails with
//!   [`VaultError::Unavailable`]; there is no file fallback.
//! - [`VaultKind::Ephemeral`] keeps secrets in this process only (kiosks,
//!   `--ephemeral`, tests), with the same API and the same splitting.
//!
//! Every secret is filed under the service [`SERVICE`] as user
//! `{tid}.{oid}/{name}`. Values longer than [`Vault::max_entry_bytes`] are
//! split into chunk entries (see `chunked.rs`). The vault also keeps, in the
//! keyring, the list of accounts and per account the list of secret names,
//! so that [`Vault::delete_account`] removes every secret of an account.
//!
//! The API is async: keyring calls block (D-Bus round trips, possibly an
//! unlock prompt), so each operation runs whole on tokio's blocking pool
//! via `spawn_blocking` and never stalls the runtime. A tokio runtime is
//! therefore required. Operations of one process are serialised, so
//! concurrent stores never lose index updates; two Convene processes
//! writing the same account at once are not coordinated.

mod account;
mod backend;
mod chunked;
mod error;
mod index;
mod memory;
mod system;

use std::fmt;
use std::sync::{Arc, Mutex};

pub use account::{AccountKey, SERVICE};
pub use chunked::MIN_ENTRY_BYTES;
pub use error::VaultError;
pub use system::DEFAULT_MAX_ENTRY_BYTES;

use crate::Secret;
use account::{validate_name, ACCOUNTS_INDEX};
use backend::Backend;
use memory::MemoryBackend;
use system::SystemBackend;

/// Serialises all system-keyring operations of this process, across Vault
/// instances, since the indexes are read-modify-write.
static SYSTEM_LOCK: Mutex<()> = Mutex::new(());

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VaultKind {
    /// The OS keyring.
    System,
    /// A map in this process's memory; nothing survives exit.
    Ephemeral,
}

/// Handle to the secret store. Cheap to clone; clones share the store (for
/// an ephemeral vault, the same in-memory map).
#[derive(Clone)]
pub struct Vault {
    inner: Arc<Inner>,
}

struct Inner {
    kind: VaultKind,
    backend: Arc<dyn Backend>,
    max_entry_bytes: usize,
    lock: LockRef,
}

enum LockRef {
    Process(&'static Mutex<()>),
    Own(Mutex<()>),
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("kind", &self.inner.kind)
            .field("max_entry_bytes", &self.inner.max_entry_bytes)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// Opens the vault with the platform's entry size limit
    /// ([`DEFAULT_MAX_ENTRY_BYTES`]). For `System`, this connects to the
    /// keyring now, so an absent keyring is reported here.
    pub async fn open(kind: VaultKind) -> Result<Vault, VaultError> {
        Self::open_with_limit(kind, DEFAULT_MAX_ENTRY_BYTES).await
    }

    /// Like [`Vault::open`] with a chosen entry size limit (at least
    /// [`MIN_ENTRY_BYTES`]); small limits let tests exercise splitting.
    /// Readers with a different limit read the same values: the layout is
    /// recorded in the entries, not implied by the limit.
    pub async fn open_with_limit(
        kind: VaultKind,
        max_entry_bytes: usize,
    ) -> Result<Vault, VaultError> {
        if max_entry_bytes < MIN_ENTRY_BYTES {
            return Err(VaultError::InvalidLimit {
                min: MIN_ENTRY_BYTES,
                got: max_entry_bytes,
            });
        }
        let (backend, lock): (Arc<dyn Backend>, LockRef) = match kind {
            VaultKind::System => {
                let backend = blocking(SystemBackend::connect).await?;
                (Arc::new(backend), LockRef::Process(&SYSTEM_LOCK))
            }
            VaultKind::Ephemeral => (
                Arc::new(MemoryBackend::default()),
                LockRef::Own(Mutex::new(())),
            ),
        };
        Ok(Vault {
            inner: Arc::new(Inner {
                kind,
                backend,
                max_entry_bytes,
                lock,
            }),
        })
    }

    pub fn kind(&self) -> VaultKind {
        self.inner.kind
    }

    /// Values longer than this are split over several keyring entries.
    pub fn max_entry_bytes(&self) -> usize {
        self.inner.max_entry_bytes
    }

    /// Stores (or replaces) the secret `name` of `account`. Names are 1-64
    /// characters from `[A-Za-z0-9_.-]`.
    pub async fn store(
        &self,
        account: &AccountKey,
        name: &str,
        value: &Secret,
    ) -> Result<(), VaultError> {
        account.validate()?;
        validate_name(name)?;
        let (account, name, value) = (account.clone(), name.to_string(), value.clone());
        self.run(move |inner| inner.store(&account, &name, &value))
            .await
    }

    /// The secret `name` of `account`, or `None` if it was never stored.
    pub async fn load(
        &self,
        account: &AccountKey,
        name: &str,
    ) -> Result<Option<Secret>, VaultError> {
        account.validate()?;
        validate_name(name)?;
        let (account, name) = (account.clone(), name.to_string());
        self.run(move |inner| inner.load(&account, &name)).await
    }

    /// Removes the secret `name` of `account`; absent is not an error.
    pub async fn delete(&self, account: &AccountKey, name: &str) -> Result<(), VaultError> {
        account.validate()?;
        validate_name(name)?;
        let (account, name) = (account.clone(), name.to_string());
        self.run(move |inner| inner.delete(&account, &name)).await
    }

    /// Removes every secret of `account` (sign-out, account removal).
    pub async fn delete_account(&self, account: &AccountKey) -> Result<(), VaultError> {
        account.validate()?;
        let account = account.clone();
        self.run(move |inner| inner.delete_account(&account)).await
    }

    /// The names of the secrets stored for `account`, sorted.
    pub async fn names(&self, account: &AccountKey) -> Result<Vec<String>, VaultError> {
        account.validate()?;
        let account = account.clone();
        self.run(move |inner| {
            Ok(index::read(inner.backend.as_ref(), &account.index_user())?
                .into_iter()
                .collect())
        })
        .await
    }

    /// The accounts that have at least one stored secret, sorted.
    pub async fn accounts(&self) -> Result<Vec<AccountKey>, VaultError> {
        self.run(|inner| {
            let lines = index::read(inner.backend.as_ref(), ACCOUNTS_INDEX)?;
            Ok(lines
                .iter()
                .filter_map(|l| AccountKey::parse_index_line(l))
                .collect())
        })
        .await
    }

    /// Runs one whole operation on the blocking pool, holding the lock.
    async fn run<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Inner) -> Result<T, VaultError> + Send + 'static,
    ) -> Result<T, VaultError> {
        let inner = self.inner.clone();
        blocking(move || {
            let lock = match &inner.lock {
                LockRef::Process(lock) => *lock,
                LockRef::Own(lock) => lock,
            };
            let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
            op(&inner)
        })
        .await
    }
}

/// `spawn_blocking`, passing a panic on to the caller as a panic.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, VaultError> + Send + 'static,
) -> Result<T, VaultError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("vault task was cancelled: {e}"),
    }
}

impl Inner {
    fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    fn store(&self, account: &AccountKey, name: &str, value: &Secret) -> Result<(), VaultError> {
        // Indexes first: an index naming a secret that was never written is
        // harmless, a secret missing from the index would outlive sign-out.
        let limit = self.max_entry_bytes;
        index::insert(self.backend(), ACCOUNTS_INDEX, &account.index_user(), limit)?;
        index::insert(self.backend(), &account.index_user(), name, limit)?;
        chunked::write(
            self.backend(),
            &account.secret_user(name),
            value.expose().as_bytes(),
            limit,
        )
    }

    fn load(&self, account: &AccountKey, name: &str) -> Result<Option<Secret>, VaultError> {
        let user = account.secret_user(name);
        let Some(bytes) = chunked::read(self.backend(), &user)? else {
            return Ok(None);
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| VaultError::Corrupt {
            entry: user.clone(),
            detail: "the value is not UTF-8".into(),
        })?;
        Ok(Some(Secret::new(text)))
    }

    fn delete(&self, account: &AccountKey, name: &str) -> Result<(), VaultError> {
        let limit = self.max_entry_bytes;
        chunked::delete(self.backend(), &account.secret_user(name))?;
        if index::remove(self.backend(), &account.index_user(), name, limit)? {
            index::remove(self.backend(), ACCOUNTS_INDEX, &account.index_user(), limit)?;
        }
        Ok(())
    }

    fn delete_account(&self, account: &AccountKey) -> Result<(), VaultError> {
        // Secrets, then the account's index, then the account list: if this
        // stops half-way, a retry still finds what is left.
        let index_user = account.index_user();
        for name in index::read(self.backend(), &index_user)? {
            chunked::delete(self.backend(), &account.secret_user(&name))?;
        }
        chunked::delete(self.backend(), &index_user)?;
        index::remove(
            self.backend(),
            ACCOUNTS_INDEX,
            &index_user,
            self.max_entry_bytes,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
