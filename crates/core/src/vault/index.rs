//! The lists the vault keeps in the keyring itself, because keyring APIs
//! cannot reliably enumerate entries on every platform: the accounts that
//! have secrets, and per account the names of its secrets (so that
//! `delete_account` can remove every one of them).
//!
//! An index is a sorted, newline-separated list stored like any value (so a
//! long one is split too); an empty index is deleted rather than stored.

use std::collections::BTreeSet;

use super::backend::Backend;
use super::chunked;
use super::error::VaultError;

pub(crate) fn read(backend: &dyn Backend, user: &str) -> Result<BTreeSet<String>, VaultError> {
    let Some(raw) = chunked::read(backend, user)? else {
        return Ok(BTreeSet::new());
    };
    let text = std::str::from_utf8(&raw).map_err(|_| VaultError::Corrupt {
        entry: user.to_string(),
        detail: "index is not UTF-8".into(),
    })?;
    Ok(text
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

fn write(
    backend: &dyn Backend,
    user: &str,
    items: &BTreeSet<String>,
    max_entry_bytes: usize,
) -> Result<(), VaultError> {
    if items.is_empty() {
        return chunked::delete(backend, user);
    }
    let text = items.iter().cloned().collect::<Vec<_>>().join("\n");
    chunked::write(backend, user, text.as_bytes(), max_entry_bytes)
}

/// Adds `item` to the index at `user` (no write if already present).
pub(crate) fn insert(
    backend: &dyn Backend,
    user: &str,
    item: &str,
    max_entry_bytes: usize,
) -> Result<(), VaultError> {
    let mut items = read(backend, user)?;
    if items.insert(item.to_string()) {
        write(backend, user, &items, max_entry_bytes)?;
    }
    Ok(())
}

/// Removes `item` from the index at `user`; returns whether the index is
/// now empty (and so deleted).
pub(crate) fn remove(
    backend: &dyn Backend,
    user: &str,
    item: &str,
    max_entry_bytes: usize,
) -> Result<bool, VaultError> {
    let mut items = read(backend, user)?;
    if items.remove(item) {
        write(backend, user, &items, max_entry_bytes)?;
    }
    Ok(items.is_empty())
}
