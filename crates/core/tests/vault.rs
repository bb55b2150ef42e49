//! The vault against the real OS keyring (gnome-keyring on Linux CI).
//!
//! Run inside a D-Bus session with an unlocked gnome-keyring:
//! `dbus-run-session -- sh -c 'printf convene-test | gnome-keyring-daemon
//! --unlock --components=secrets >/dev/null; cargo test -p convene-core
//! --test vault'`. Every test uses fresh random account ids, so tests run in
//! parallel against the same keyring and leave it clean.

use convene_core::vault::{AccountKey, Vault, VaultError, VaultKind};
use convene_core::Secret;

fn fresh_account() -> AccountKey {
    AccountKey::new(
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
    )
}

async fn system(limit: Option<usize>) -> Vault {
    let opened = match limit {
        Some(limit) => Vault::open_with_limit(VaultKind::System, limit).await,
        None => Vault::open(VaultKind::System).await,
    };
    opened.unwrap_or_else(|e| {
        panic!("run these tests inside a D-Bus session with gnome-keyring: {e}")
    })
}

async fn load(vault: &Vault, account: &AccountKey, name: &str) -> Option<String> {
    vault
        .load(account, name)
        .await
        .unwrap()
        .map(|s| s.expose().to_string())
}

#[tokio::test]
async fn round_trip_including_64_kb() {
    let vault = system(None).await;
    let account = fresh_account();
    vault
        .store(&account, "refresh_token", &Secret::new("rt-value"))
        .await
        .unwrap();
    let big: String = (0..64 * 1024)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    vault
        .store(&account, "token_set", &Secret::new(big.clone()))
        .await
        .unwrap();

    let fresh = system(None).await;
    assert_eq!(
        load(&fresh, &account, "refresh_token").await.as_deref(),
        Some("rt-value")
    );
    assert_eq!(load(&fresh, &account, "token_set").await, Some(big));
    assert_eq!(load(&fresh, &account, "never_stored").await, None);
    vault.delete_account(&account).await.unwrap();
}

#[tokio::test]
async fn overwrite_keeps_the_newest() {
    let vault = system(None).await;
    let account = fresh_account();
    for value in ["first", "second", "third"] {
        vault
            .store(&account, "refresh_token", &Secret::new(value))
            .await
            .unwrap();
    }
    assert_eq!(
        load(&system(None).await, &account, "refresh_token")
            .await
            .as_deref(),
        Some("third")
    );
    vault.delete_account(&account).await.unwrap();
}

#[tokio::test]
async fn split_with_a_16_byte_limit_reassembles() {
    let vault = system(Some(16)).await;
    let account = fresh_account();
    let value = "0123456789abcdef".repeat(10) + "tail-ü";
    vault
        .store(&account, "refresh_token", &Secret::new(value.clone()))
        .await
        .unwrap();
    // A reader with the default limit reads the same split value.
    assert_eq!(
        load(&system(None).await, &account, "refresh_token").await,
        Some(value)
    );
    assert_eq!(vault.names(&account).await.unwrap(), ["refresh_token"]);
    vault.delete_account(&account).await.unwrap();
}

#[tokio::test]
async fn shorter_overwrite_removes_stale_chunks() {
    let vault = system(Some(16)).await;
    let account = fresh_account();
    vault
        .store(&account, "refresh_token", &Secret::new("L".repeat(160)))
        .await
        .unwrap();
    vault
        .store(&account, "refresh_token", &Secret::new("S".repeat(40)))
        .await
        .unwrap();
    vault
        .store(&account, "refresh_token", &Secret::new("tiny"))
        .await
        .unwrap();
    assert_eq!(
        load(&vault, &account, "refresh_token").await.as_deref(),
        Some("tiny")
    );

    // Stale chunk entries would still be in the keyring under the chunk
    // names; look them up directly in the same Secret Service store.
    if let Some(store) = raw_store() {
        let base = format!("{}.{}/refresh_token", account.tenant_id, account.object_id);
        for generation in 0..2 {
            for index in 0..10 {
                let user = format!("{base}#{generation}.{index}");
                let entry = keyring_core::Entry::new_in_store(&store, "Convene", &user).unwrap();
                assert!(
                    matches!(entry.get_secret(), Err(keyring_core::Error::NoEntry)),
                    "stale chunk {user} left behind"
                );
            }
        }
    }
    vault.delete_account(&account).await.unwrap();
}

#[tokio::test]
async fn delete_account_removes_every_entry() {
    let vault = system(Some(16)).await;
    let account = fresh_account();
    let names = ["refresh_token", "access_token", "acs.token"];
    for name in names {
        vault
            .store(&account, name, &Secret::new(format!("{name}-").repeat(8)))
            .await
            .unwrap();
    }
    vault.delete_account(&account).await.unwrap();

    let fresh = system(None).await;
    for name in names {
        assert_eq!(load(&fresh, &account, name).await, None, "{name}");
    }
    assert!(fresh.names(&account).await.unwrap().is_empty());
    assert!(!fresh.accounts().await.unwrap().contains(&account));
}

#[tokio::test]
async fn accounts_lists_accounts_with_secrets() {
    let vault = system(None).await;
    let (a, b) = (fresh_account(), fresh_account());
    vault
        .store(&a, "refresh_token", &Secret::new("a"))
        .await
        .unwrap();
    vault
        .store(&b, "refresh_token", &Secret::new("b"))
        .await
        .unwrap();
    let listed = system(None).await.accounts().await.unwrap();
    assert!(listed.contains(&a) && listed.contains(&b), "{listed:?}");

    vault.delete(&a, "refresh_token").await.unwrap();
    let listed = vault.accounts().await.unwrap();
    assert!(!listed.contains(&a) && listed.contains(&b), "{listed:?}");
    vault.delete_account(&b).await.unwrap();
    assert!(!vault.accounts().await.unwrap().contains(&b));
}

#[tokio::test]
async fn two_accounts_are_isolated() {
    let vault = system(None).await;
    let (a, b) = (fresh_account(), fresh_account());
    vault
        .store(&a, "refresh_token", &Secret::new("for-a"))
        .await
        .unwrap();
    vault
        .store(&b, "refresh_token", &Secret::new("for-b"))
        .await
        .unwrap();
    vault.store(&a, "only_a", &Secret::new("x")).await.unwrap();
    assert_eq!(
        load(&vault, &a, "refresh_token").await.as_deref(),
        Some("for-a")
    );
    assert_eq!(
        load(&vault, &b, "refresh_token").await.as_deref(),
        Some("for-b")
    );
    assert_eq!(load(&vault, &b, "only_a").await, None);

    vault.delete_account(&a).await.unwrap();
    assert_eq!(load(&vault, &a, "refresh_token").await, None);
    assert_eq!(
        load(&vault, &b, "refresh_token").await.as_deref(),
        Some("for-b")
    );
    assert_eq!(vault.names(&b).await.unwrap(), ["refresh_token"]);
    vault.delete_account(&b).await.unwrap();
}

/// Set in the child process of `unavailable_without_a_session_bus`.
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
const CHILD: &str = "CONVENE_VAULT_TEST_CHILD";

/// Secret Service only: elsewhere there is no bus address to break.
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
#[tokio::test]
async fn unavailable_without_a_session_bus() {
    // The bogus bus address must not leak into the other tests of this
    // process, so the check runs in a child copy of this test binary.
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "unavailable_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/convene-test-bus",
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
}

#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
#[tokio::test]
async fn unavailable_child() {
    if std::env::var_os(CHILD).is_none() {
        return; // only meaningful inside unavailable_without_a_session_bus
    }
    let err = Vault::open(VaultKind::System).await.unwrap_err();
    assert!(matches!(err, VaultError::Unavailable { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("Secret Service"), "{message}");
    assert!(message.contains("--ephemeral"), "{message}");
    println!("unavailable message: {message}");
}

/// Direct access to the same Secret Service store, to look at raw entries
/// (Linux only; elsewhere the raw check is skipped).
fn raw_store() -> Option<std::sync::Arc<keyring_core::CredentialStore>> {
    #[cfg(target_os = "linux")]
    {
        let store: std::sync::Arc<keyring_core::CredentialStore> =
            zbus_secret_service_keyring_store::Store::new().expect("Secret Service");
        Some(store)
    }
    #[cfg(not(target_os = "linux"))]
    None
}
