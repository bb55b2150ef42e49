//! Staying signed in: the accounts on this device, their tokens, and which
//! one is in use.
//!
//! Each account's refresh token and profile live in the [`Vault`]; access
//! tokens live in memory only and are renewed from the refresh token ahead
//! of expiry. Entra rotates refresh tokens on every use, so the newest is
//! written to the vault before the access token it came with is handed out,
//! and refreshes of one account are serialised (two concurrent refreshes
//! with the same token would make the provider revoke both).

mod current;
mod profile;
mod resource;

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::Mutex;
use url::Url;

pub use profile::AccountProfile;
pub use resource::{consent_scopes, Resource};

use crate::auth::token::{self, Grant};
use crate::auth::{self, AuthError, ProviderMetadata, SignInRequest};
use crate::clock::Clock;
use crate::config::ClientConfig;
use crate::exchange::{self, CommunicationToken, ExchangeError};
use crate::vault::{AccountKey, Vault, VaultError};
use crate::Secret;
use current::CurrentAccount;

const REFRESH_TOKEN: &str = "refresh_token";
const PROFILE: &str = "profile";
/// Renew an access token this long before it expires, so that a request
/// never leaves with a token that dies on the way.
pub const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);
/// How long before expiry a token of `lifetime` is renewed: five minutes,
/// or a quarter of the lifetime for short-lived tokens.
fn renewal_margin(lifetime: Duration) -> Duration {
    RENEW_BEFORE_EXPIRY.min(lifetime / 4)
}

/// The resource a sign-in's code is redeemed for; the refresh token gets
/// the others.
const FIRST_TOKEN: Resource = Resource::Api;

/// How long an interactive sign-in waits for the browser.
pub const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("the session of {username} has ended: sign in again")]
    SignInAgain { username: String },
    /// The account is fine, but the provider wants the person in the
    /// browser first (approve a permission, satisfy a policy). Nothing is
    /// removed: an interactive sign-in to the same account carries on.
    #[error("{username} needs to approve Convene's access to {purpose}: sign in once more to do so (you stay signed in)", purpose = resource.purpose())]
    InteractionRequired {
        username: String,
        resource: Resource,
    },
    #[error("not signed in: sign in first")]
    NotSignedIn,
    #[error("no account {0} on this device")]
    UnknownAccount(String),
    #[error("the identity provider issued no refresh token, so Convene could not stay signed in")]
    NoRefreshToken,
    #[error("the stored profile of an account is damaged: {0}")]
    DamagedProfile(String),
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
}

struct CachedToken {
    token: Secret,
    /// Wall-clock time, not `Instant`: the monotonic clock stops while the
    /// machine sleeps, and a token cached before a night's suspend must
    /// not look fresh in the morning.
    renew_at: SystemTime,
}

/// The accounts signed in on this device.
pub struct Sessions {
    vault: Vault,
    http: reqwest::Client,
    config: ClientConfig,
    current: CurrentAccount,
    tokens: Mutex<HashMap<(AccountKey, Resource), CachedToken>>,
    communication: Mutex<HashMap<AccountKey, CommunicationToken>>,
    refreshing: Mutex<HashMap<AccountKey, Arc<Mutex<()>>>>,
    metadata: Mutex<HashMap<String, ProviderMetadata>>,
    clock: Clock,
}

impl Sessions {
    /// `state_file` remembers which account is in use (not a secret); with
    /// `None` the choice lasts as long as the process.
    pub fn new(
        vault: Vault,
        http: reqwest::Client,
        config: ClientConfig,
        state_file: Option<PathBuf>,
    ) -> Self {
        Self {
            vault,
            http,
            config,
            current: CurrentAccount::new(state_file),
            tokens: Mutex::new(HashMap::new()),
            communication: Mutex::new(HashMap::new()),
            refreshing: Mutex::new(HashMap::new()),
            metadata: Mutex::new(HashMap::new()),
            clock: crate::clock::system(),
        }
    }

    /// The same sessions, judging token expiry by `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The clock the sessions judge expiry by.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Signs a person in through the browser and makes the account current.
    /// Signing in to an account already here replaces its tokens.
    pub async fn sign_in(
        &self,
        open_browser: impl FnOnce(&Url) -> Result<(), AuthError>,
        cancel: impl Future<Output = ()>,
        login_hint: Option<String>,
    ) -> Result<AccountProfile, SessionError> {
        // Adding an account beside others: let the person pick which.
        let select_account = login_hint.is_none() && !self.vault.accounts().await?.is_empty();
        let request = SignInRequest {
            authority: self.config.authority.clone(),
            client_id: self.config.client_id.clone(),
            scopes: consent_scopes(&self.config),
            token_scopes: FIRST_TOKEN.scopes(&self.config),
            allowed_tenants: self
                .config
                .required_tenant()
                .map(|t| vec![t.to_owned()])
                .unwrap_or_default(),
            timeout: SIGN_IN_TIMEOUT,
            login_hint,
            select_account,
        };
        let signed_in = auth::sign_in(&self.http, &request, open_browser, cancel).await?;
        let profile = AccountProfile::from_claims(&signed_in.claims, &self.config.authority);
        let key = profile.key();
        let refresh_token = signed_in
            .tokens
            .refresh_token
            .ok_or(SessionError::NoRefreshToken)?;
        let profile_json = serde_json::to_string(&profile).expect("a profile serialises");
        self.vault
            .store(&key, PROFILE, &Secret::new(profile_json))
            .await?;
        self.vault
            .store(&key, REFRESH_TOKEN, &refresh_token)
            .await?;
        self.metadata
            .lock()
            .await
            .insert(profile.authority.clone(), signed_in.metadata);
        self.cache(
            &key,
            FIRST_TOKEN,
            signed_in.tokens.access_token,
            signed_in.tokens.expires_in,
        )
        .await;
        self.current.set(Some(&key));
        Ok(profile)
    }

    /// Every account with a session on this device.
    pub async fn accounts(&self) -> Result<Vec<AccountProfile>, SessionError> {
        let mut profiles = Vec::new();
        for key in self.vault.accounts().await? {
            if let Some(profile) = self.profile(&key).await? {
                profiles.push(profile);
            }
        }
        profiles.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(profiles)
    }

    /// The account in use: the one chosen last, or the only one.
    pub async fn current(&self) -> Result<Option<AccountProfile>, SessionError> {
        if let Some(key) = self.current.get() {
            if let Some(profile) = self.profile(&key).await? {
                return Ok(Some(profile));
            }
        }
        let mut accounts = self.accounts().await?;
        Ok(if accounts.len() == 1 {
            accounts.pop()
        } else {
            None
        })
    }

    /// Makes the account with this username (or user id) current.
    pub async fn switch_to(&self, who: &str) -> Result<AccountProfile, SessionError> {
        let profile = self
            .accounts()
            .await?
            .into_iter()
            .find(|p| p.username.eq_ignore_ascii_case(who) || p.user_id == who)
            .ok_or_else(|| SessionError::UnknownAccount(who.to_owned()))?;
        self.current.set(Some(&profile.key()));
        Ok(profile)
    }

    /// A valid access token for `resource`, renewed from the refresh token
    /// when it is missing or close to expiry.
    pub async fn access_token(
        &self,
        account: &AccountProfile,
        resource: Resource,
    ) -> Result<Secret, SessionError> {
        let key = account.key();
        if let Some(token) = self.cached(&key, resource).await {
            return Ok(token);
        }
        let lock = self
            .refreshing
            .lock()
            .await
            .entry(key.clone())
            .or_default()
            .clone();
        let _one_refresh_at_a_time = lock.lock().await;
        // Another task may have refreshed while this one waited.
        if let Some(token) = self.cached(&key, resource).await {
            return Ok(token);
        }
        let refresh_token = self.vault.load(&key, REFRESH_TOKEN).await?.ok_or_else(|| {
            SessionError::SignInAgain {
                username: account.username.clone(),
            }
        })?;
        tracing::debug!(?resource, "renewing an access token");
        let metadata = self.metadata_for(&account.authority).await?;
        let scopes = resource.scopes(&self.config).join(" ");
        let result = token::request(
            &self.http,
            &metadata.token_endpoint,
            &self.config.client_id,
            &scopes,
            Grant::RefreshToken {
                refresh_token: &refresh_token,
            },
        )
        .await;
        let tokens = match result {
            Ok(tokens) => tokens,
            Err(AuthError::Provider(error)) if error.needs_interaction() => {
                // Consent or a policy wants the person: the refresh token
                // is still good, so it stays.
                tracing::warn!(error = %error.error, ?resource, "refresh needs the person in the browser");
                return Err(SessionError::InteractionRequired {
                    username: account.username.clone(),
                    resource,
                });
            }
            Err(AuthError::Provider(error)) if error.needs_sign_in_again() => {
                // The grant is dead (revoked, expired, password changed):
                // drop it so nothing retries it, keep the profile so the UI
                // can offer "sign in again" for this account.
                tracing::warn!(error = %error.error, "refresh refused: sign-in needed");
                self.vault.delete(&key, REFRESH_TOKEN).await?;
                return Err(SessionError::SignInAgain {
                    username: account.username.clone(),
                });
            }
            Err(other) => return Err(other.into()),
        };
        if let Some(newest) = &tokens.refresh_token {
            self.vault.store(&key, REFRESH_TOKEN, newest).await?;
        }
        let token = tokens.access_token.clone();
        self.cache(&key, resource, tokens.access_token, tokens.expires_in)
            .await;
        Ok(token)
    }

    /// The resource chat's token is for: Convene's own API when chat is
    /// convene-server's (the embedded default, or an organisation that
    /// self-hosts chat), Microsoft Graph otherwise. convene-server never
    /// sees a Graph token.
    pub fn chat_resource(&self) -> Resource {
        Resource::for_chat(&self.config)
    }

    /// Drops the cached access token for `resource`, which its service
    /// refused (401) before it was due for renewal: the next
    /// [`Sessions::access_token`] asks the provider for a new one.
    pub async fn forget_token(&self, account: &AccountProfile, resource: Resource) {
        self.tokens.lock().await.remove(&(account.key(), resource));
    }

    /// The account's communication token (for signaling, presence and call
    /// history) from convene-server, asked for with a token for Convene's
    /// API (and the ACS token when the server forwards to ACS), renewed
    /// ahead of expiry.
    pub async fn communication_token(
        &self,
        account: &AccountProfile,
    ) -> Result<CommunicationToken, SessionError> {
        let key = account.key();
        if let Some(cached) = self.communication.lock().await.get(&key) {
            let lifetime = cached
                .expires_at
                .duration_since(cached.issued_at)
                .unwrap_or_default();
            let renew_at = cached.expires_at.checked_sub(renewal_margin(lifetime));
            if renew_at.is_some_and(|at| self.clock.now() < at) {
                return Ok(cached.clone());
            }
        }
        let api = self.access_token(account, Resource::Api).await?;
        let server = &self.config.server_url;
        let mut token = match exchange::exchange(&self.http, server, &api, None).await {
            Err(error) if error.wants_acs_token() => {
                let acs = self.access_token(account, Resource::Communication).await?;
                exchange::exchange(&self.http, server, &api, Some(&acs)).await?
            }
            other => other?,
        };
        // Its lifetime is judged by the same clock as its renewal.
        token.issued_at = self.clock.now();
        self.communication.lock().await.insert(key, token.clone());
        Ok(token)
    }

    /// Removes every secret of the account from this device.
    pub async fn sign_out(&self, account: &AccountProfile) -> Result<(), SessionError> {
        let key = account.key();
        self.vault.delete_account(&key).await?;
        self.tokens.lock().await.retain(|(k, _), _| k != &key);
        self.communication.lock().await.remove(&key);
        if self.current.get().as_ref() == Some(&key) {
            self.current.set(None);
        }
        Ok(())
    }

    async fn profile(&self, key: &AccountKey) -> Result<Option<AccountProfile>, SessionError> {
        let Some(json) = self.vault.load(key, PROFILE).await? else {
            return Ok(None);
        };
        serde_json::from_str(json.expose())
            .map(Some)
            .map_err(|e| SessionError::DamagedProfile(e.to_string()))
    }

    async fn metadata_for(&self, authority: &str) -> Result<ProviderMetadata, SessionError> {
        if let Some(metadata) = self.metadata.lock().await.get(authority) {
            return Ok(metadata.clone());
        }
        let url = Url::parse(authority)
            .map_err(|e| SessionError::DamagedProfile(format!("authority {authority}: {e}")))?;
        let metadata = ProviderMetadata::fetch(&self.http, &url).await?;
        self.metadata
            .lock()
            .await
            .insert(authority.to_owned(), metadata.clone());
        Ok(metadata)
    }

    async fn cached(&self, key: &AccountKey, resource: Resource) -> Option<Secret> {
        let tokens = self.tokens.lock().await;
        let cached = tokens.get(&(key.clone(), resource))?;
        (self.clock.now() < cached.renew_at).then(|| cached.token.clone())
    }

    async fn cache(&self, key: &AccountKey, resource: Resource, token: Secret, expires_in: u64) {
        let lifetime = Duration::from_secs(expires_in);
        let lifetime = lifetime.saturating_sub(renewal_margin(lifetime));
        self.tokens.lock().await.insert(
            (key.clone(), resource),
            CachedToken {
                token,
                renew_at: self.clock.now() + lifetime,
            },
        );
    }
}
