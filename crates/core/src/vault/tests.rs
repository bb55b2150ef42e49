//! Vault logic (indexes, splitting through the public API) on the ephemeral
//! store, where every raw entry can be inspected.

use super::*;

fn account(n: u8) -> AccountKey {
    AccountKey::new(format!("tenant-{n}"), format!("object-{n}"))
}

/// An ephemeral vault plus a view of its raw entries.
fn vault(limit: usize) -> (Vault, Arc<MemoryBackend>) {
    let memory = Arc::new(MemoryBackend::default());
    let vault = Vault {
        inner: Arc::new(Inner {
            kind: VaultKind::Ephemeral,
            backend: memory.clone(),
            max_entry_bytes: limit,
            lock: LockRef::Own(Mutex::new(())),
        }),
    };
    (vault, memory)
}

#[tokio::test]
async fn store_then_load_round_trips() {
    let (vault, _) = vault(DEFAULT_MAX_ENTRY_BYTES);
    let a = account(1);
    assert!(vault.load(&a, "refresh_token").await.unwrap().is_none());
    vault
        .store(&a, "refresh_token", &Secret::new("rt-1"))
        .await
        .unwrap();
    let loaded = vault.load(&a, "refresh_token").await.unwrap().unwrap();
    assert_eq!(loaded.expose(), "rt-1");
}

#[tokio::test]
async fn open_ephemeral_works_and_rejects_tiny_limits() {
    let vault = Vault::open(VaultKind::Ephemeral).await.unwrap();
    assert_eq!(vault.kind(), VaultKind::Ephemeral);
    assert_eq!(vault.max_entry_bytes(), DEFAULT_MAX_ENTRY_BYTES);
    let err = Vault::open_with_limit(VaultKind::Ephemeral, 8)
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::InvalidLimit { got: 8, .. }));
}

#[tokio::test]
async fn entries_follow_the_documented_layout() {
    let (vault, memory) = vault(DEFAULT_MAX_ENTRY_BYTES);
    vault
        .store(&account(1), "refresh_token", &Secret::new("rt"))
        .await
        .unwrap();
    assert_eq!(
        memory.users(),
        [
            "accounts",
            "tenant-1.object-1",
            "tenant-1.object-1/refresh_token"
        ]
    );
}

#[tokio::test]
async fn long_values_and_indexes_split_under_a_small_limit() {
    let (vault, memory) = vault(16);
    let a = account(1);
    let value = "x".repeat(100) + "ünïcode-split-mid-char";
    vault
        .store(&a, "refresh_token", &Secret::new(value.clone()))
        .await
        .unwrap();
    vault
        .store(&a, "access_token", &Secret::new("short"))
        .await
        .unwrap();
    assert!(memory
        .users()
        .iter()
        .any(|u| u.starts_with("tenant-1.object-1/refresh_token#")));
    // The indexes are longer than 16 bytes too, and split the same way.
    assert!(memory.users().iter().any(|u| u.starts_with("accounts#")));
    assert_eq!(
        vault
            .load(&a, "refresh_token")
            .await
            .unwrap()
            .unwrap()
            .expose(),
        value
    );
    assert_eq!(
        vault.names(&a).await.unwrap(),
        ["access_token", "refresh_token"]
    );
    assert_eq!(vault.accounts().await.unwrap(), vec![a.clone()]);

    vault
        .store(&a, "refresh_token", &Secret::new("now short"))
        .await
        .unwrap();
    assert!(!memory
        .users()
        .iter()
        .any(|u| u.starts_with("tenant-1.object-1/refresh_token#")));
    assert_eq!(
        vault
            .load(&a, "refresh_token")
            .await
            .unwrap()
            .unwrap()
            .expose(),
        "now short"
    );
}

#[tokio::test]
async fn a_missing_chunk_reads_as_corrupt() {
    let (vault, memory) = vault(16);
    let a = account(1);
    vault
        .store(&a, "refresh_token", &Secret::new("y".repeat(64)))
        .await
        .unwrap();
    memory.remove_raw("tenant-1.object-1/refresh_token#0.2");
    let err = vault.load(&a, "refresh_token").await.unwrap_err();
    assert!(matches!(err, VaultError::Corrupt { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("yyyy"));
    // Overwriting repairs it.
    vault
        .store(&a, "refresh_token", &Secret::new("fixed"))
        .await
        .unwrap();
    assert_eq!(
        vault
            .load(&a, "refresh_token")
            .await
            .unwrap()
            .unwrap()
            .expose(),
        "fixed"
    );
}

#[tokio::test]
async fn delete_account_leaves_no_entry_of_that_account() {
    let (vault, memory) = vault(16);
    let (a, b) = (account(1), account(2));
    for name in ["refresh_token", "access_token", "acs.token"] {
        vault
            .store(&a, name, &Secret::new("z".repeat(50)))
            .await
            .unwrap();
    }
    vault
        .store(&b, "refresh_token", &Secret::new("b-rt"))
        .await
        .unwrap();
    vault.delete_account(&a).await.unwrap();
    assert!(
        memory.users().iter().all(|u| !u.starts_with("tenant-1")),
        "{:?}",
        memory.users()
    );
    assert_eq!(vault.accounts().await.unwrap(), vec![b.clone()]);
    assert_eq!(
        vault
            .load(&b, "refresh_token")
            .await
            .unwrap()
            .unwrap()
            .expose(),
        "b-rt"
    );

    vault.delete_account(&b).await.unwrap();
    assert!(memory.users().is_empty(), "{:?}", memory.users());
    // Deleting an account with nothing stored is fine.
    vault.delete_account(&b).await.unwrap();
}

#[tokio::test]
async fn deleting_the_last_secret_drops_the_account() {
    let (vault, memory) = vault(DEFAULT_MAX_ENTRY_BYTES);
    let a = account(1);
    vault.store(&a, "one", &Secret::new("1")).await.unwrap();
    vault.store(&a, "two", &Secret::new("2")).await.unwrap();
    vault.delete(&a, "one").await.unwrap();
    assert_eq!(vault.names(&a).await.unwrap(), ["two"]);
    assert_eq!(vault.accounts().await.unwrap(), vec![a.clone()]);
    vault.delete(&a, "two").await.unwrap();
    vault.delete(&a, "never-stored").await.unwrap();
    assert!(vault.accounts().await.unwrap().is_empty());
    assert!(memory.users().is_empty(), "{:?}", memory.users());
}

#[tokio::test]
async fn invalid_keys_and_names_are_refused_before_any_write() {
    let (vault, memory) = vault(DEFAULT_MAX_ENTRY_BYTES);
    let bad = AccountKey::new("t.x", "o");
    let err = vault
        .store(&bad, "rt", &Secret::new("v"))
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::InvalidAccount(_)));
    let err = vault
        .store(&account(1), "a/b", &Secret::new("v"))
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::InvalidName(_)));
    assert!(memory.users().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_stores_keep_every_index_entry() {
    let (vault, _) = vault(16);
    let a = account(1);
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let (vault, a) = (vault.clone(), a.clone());
            tokio::spawn(async move {
                vault
                    .store(&a, &format!("s{i:02}"), &Secret::new("v".repeat(i)))
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(vault.names(&a).await.unwrap().len(), 16);
}

#[test]
fn debug_shows_no_contents() {
    let (vault, _) = vault(16);
    let printed = format!("{vault:?}");
    assert!(printed.contains("Ephemeral"), "{printed}");
}
