//! The issuer's signing key: RSA 2048 for RS256, kept as a PKCS#8 PEM file
//! (mode 0600) in the data directory so that tokens stay valid across
//! restarts.
//!
//! Generating a key takes seconds in a debug build, so it never delays
//! startup: an existing file is read when the server starts, and a missing
//! one is generated on a thread of its own when the issuer is first used.
//! Requests that need the key wait for it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

/// File name of the key inside the data directory.
pub const KEY_FILE: &str = "dev-issuer-key.pem";
const KEY_BITS: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the {what} {}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the {what} {} is not an RSA private key in PEM (PKCS#8 or PKCS#1); move it away to have a new one made", path.display())]
    Parse { what: &'static str, path: PathBuf },
    #[error("cannot make a signing key: {0}")]
    Generate(String),
}

/// A public key as JWKS lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwk {
    pub kty: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub kid: String,
    pub n: String,
    pub e: String,
    pub alg: &'static str,
}

/// The private key, ready to sign. `Debug` shows only the key id.
pub struct SigningKey {
    encoding: EncodingKey,
    jwk: Jwk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.jwk.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    fn from_private_key(key: &RsaPrivateKey) -> Result<Self, String> {
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| format!("cannot encode the key: {e}"))?;
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|e| format!("cannot load the key for signing: {e}"))?;
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        Ok(Self {
            encoding,
            jwk: Jwk {
                kty: "RSA",
                use_: "sig",
                kid: thumbprint(&n, &e),
                n,
                e,
                alg: "RS256",
            },
        })
    }

    pub fn kid(&self) -> &str {
        &self.jwk.kid
    }

    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// An RS256 JWT of `claims`, with this key's `kid` in the header.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.jwk.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
    }
}

/// RFC 7638 JWK thumbprint (SHA-256, base64url): a key id that follows
/// from the key itself, so it stays the same across restarts.
pub fn thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[derive(Debug, Clone)]
enum KeyState {
    Pending,
    Ready(Arc<SigningKey>),
    Failed(String),
}

/// The signing key, available now or soon.
pub struct KeyStore {
    path: PathBuf,
    /// What the key is for, in messages ("dev issuer key").
    what: &'static str,
    state: Arc<watch::Sender<KeyState>>,
    generating: AtomicBool,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl KeyStore {
    /// Reads `dev-issuer-key.pem` from `data_dir` if it is there; if not,
    /// the key will be made on first use. The directory must exist.
    pub fn open(data_dir: &Path) -> Result<Self, KeyError> {
        Self::open_named(data_dir, KEY_FILE, "dev issuer key")
    }

    /// Like [`KeyStore::open`] for another key file; `what` names the key
    /// in messages and logs.
    pub fn open_named(
        data_dir: &Path,
        file_name: &str,
        what: &'static str,
    ) -> Result<Self, KeyError> {
        let path = data_dir.join(file_name);
        let state = match std::fs::read_to_string(&path) {
            Ok(text) => {
                warn_if_readable_by_others(&path, what);
                let key = RsaPrivateKey::from_pkcs8_pem(&text)
                    .or_else(|_| RsaPrivateKey::from_pkcs1_pem(&text))
                    .map_err(|_| KeyError::Parse {
                        what,
                        path: path.clone(),
                    })?;
                let key = SigningKey::from_private_key(&key).map_err(KeyError::Generate)?;
                tracing::info!(kid = key.kid(), path = %path.display(), "{what} loaded");
                KeyState::Ready(Arc::new(key))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => KeyState::Pending,
            Err(source) => return Err(KeyError::Read { what, path, source }),
        };
        Ok(Self {
            path,
            what,
            state: Arc::new(watch::channel(state).0),
            generating: AtomicBool::new(false),
        })
    }

    /// Starts making the key if there is none yet; returns at once.
    pub fn warm_up(&self) {
        if !matches!(*self.state.borrow(), KeyState::Pending) {
            return;
        }
        if self.generating.swap(true, Ordering::SeqCst) {
            return;
        }
        let path = self.path.clone();
        let what = self.what;
        let state = Arc::clone(&self.state);
        // A plain thread, not the runtime's blocking pool: a stop signal
        // must not wait for a key nobody needs any more.
        let spawned = std::thread::Builder::new()
            .name("convene-keygen".into())
            .spawn(move || {
                state.send_replace(match generate(&path, what) {
                    Ok(key) => KeyState::Ready(Arc::new(key)),
                    Err(message) => {
                        tracing::error!("{what}: {message}");
                        KeyState::Failed(message)
                    }
                });
            });
        if let Err(error) = spawned {
            self.state.send_replace(KeyState::Failed(format!(
                "cannot start a thread to make the key: {error}"
            )));
        }
    }

    /// The key, waiting for it to be made if need be.
    pub async fn get(&self) -> Result<Arc<SigningKey>, KeyError> {
        self.warm_up();
        let mut state = self.state.subscribe();
        let state = state
            .wait_for(|s| !matches!(s, KeyState::Pending))
            .await
            .map_err(|_| KeyError::Generate("the key maker went away".into()))?;
        match &*state {
            KeyState::Ready(key) => Ok(Arc::clone(key)),
            KeyState::Failed(message) => Err(KeyError::Generate(message.clone())),
            KeyState::Pending => unreachable!("waited until not pending"),
        }
    }
}

/// Makes a key and saves it. A key that cannot be saved is still used, so
/// sign-in works; it only will not survive a restart.
fn generate(path: &Path, what: &str) -> Result<SigningKey, String> {
    let started = std::time::Instant::now();
    let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, KEY_BITS)
        .map_err(|e| format!("cannot generate an RSA key: {e}"))?;
    let signing = SigningKey::from_private_key(&key)?;
    match save(path, &key) {
        Ok(()) => tracing::info!(
            kid = signing.kid(),
            path = %path.display(),
            took = ?started.elapsed(),
            "{what} generated"
        ),
        Err(error) => tracing::warn!(
            kid = signing.kid(),
            path = %path.display(),
            %error,
            "{what} generated but not saved: tokens will not survive a restart"
        ),
    }
    Ok(signing)
}

/// Writes the key to a private temporary file, then renames it into place,
/// so that a crash never leaves half a key behind.
fn save(path: &Path, key: &RsaPrivateKey) -> std::io::Result<()> {
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let temporary = path.with_extension("pem.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&temporary)?;
    #[cfg(unix)]
    {
        // In case an old temporary file had other permissions.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(pem.as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, path)
}

fn warn_if_readable_by_others(path: &Path, what: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    "the {what} is readable by other users; chmod 600 it"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (path, what);
}

/// One key per test binary: making one takes seconds in a debug build.
#[cfg(test)]
pub(crate) fn test_key_pem() -> &'static str {
    static PEM: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PEM.get_or_init(|| {
        let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, KEY_BITS).unwrap();
        key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_matches_the_rfc_7638_example() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(
            thumbprint(n, "AQAB"),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[tokio::test]
    async fn an_existing_key_file_is_used_and_signs_verifiable_tokens() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(KEY_FILE), test_key_pem()).unwrap();
        let store = KeyStore::open(dir.path()).unwrap();
        let key = store.get().await.unwrap();
        let again = KeyStore::open(dir.path()).unwrap().get().await.unwrap();
        assert_eq!(key.kid(), again.kid());
        assert!(!format!("{key:?}").contains("PRIVATE"));

        let token = key.sign(&serde_json::json!({"sub": "x"})).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(key.kid()));
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(serde_json::to_value(key.jwk()).unwrap()).unwrap();
        let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let data =
            jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation).unwrap();
        assert_eq!(data.claims["sub"], "x");
    }

    #[test]
    fn a_garbled_key_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(KEY_FILE), "not a key").unwrap();
        let err = KeyStore::open(dir.path()).unwrap_err();
        assert!(matches!(err, KeyError::Parse { .. }), "{err:?}");
        assert!(err.to_string().contains(KEY_FILE), "{err}");
    }
}
