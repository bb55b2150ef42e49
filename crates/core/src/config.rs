//! Which server, identity authority, tenant and app registration a client
//! uses, and where those settings come from.
//!
//! Precedence, highest first: explicit overrides (command-line flags),
//! environment variables, the config file, built-in defaults. The defaults
//! point at a local `convene-server --dev`, the embedded default.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use url::Url;

pub use convene_proto::dev::{DEV_CLIENT_ID, DEV_PORT, DEV_TENANT_ID};

/// Environment variables, one per setting.
pub const ENV_SERVER: &str = "CONVENE_SERVER";
pub const ENV_AUTHORITY: &str = "CONVENE_AUTHORITY";
pub const ENV_CLIENT_ID: &str = "CONVENE_CLIENT_ID";
pub const ENV_TENANT: &str = "CONVENE_TENANT";
pub const ENV_GRAPH: &str = "CONVENE_GRAPH";
pub const ENV_API_SCOPE: &str = "CONVENE_API_SCOPE";
/// Microsoft Graph's v1.0 endpoint: where chat goes in tenant mode.
pub const MICROSOFT_GRAPH: &str = "https://graph.microsoft.com/v1.0/";
/// The permission Convene's app registration exposes for its own API.
pub const DEFAULT_API_PERMISSION: &str = "Convene.Use";
/// Overrides the config file's location.
pub const ENV_CONFIG_FILE: &str = "CONVENE_CONFIG";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("{setting} is not a valid http(s) URL: {value:?} ({reason})")]
    InvalidUrl {
        setting: &'static str,
        value: String,
        reason: String,
    },
    #[error("{setting} must not be empty")]
    Empty { setting: &'static str },
    #[error("cannot read config file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    ParseFile { path: PathBuf, message: String },
}

/// One source of settings; unset fields fall through to the next source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigLayer {
    pub server: Option<String>,
    pub authority: Option<String>,
    pub client_id: Option<String>,
    pub tenant: Option<String>,
    /// Microsoft Graph's base URL (`https://graph.microsoft.com/v1.0/`);
    /// by default convene-server's Graph-shaped API.
    pub graph: Option<String>,
    /// The scope of Convene's own API, as the app registration exposes it;
    /// by default `api://{client id}/Convene.Use`.
    pub api_scope: Option<String>,
}

impl ConfigLayer {
    /// Settings from environment variables, read through `lookup` so tests
    /// need not touch the process environment.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name| lookup(name).filter(|v| !v.trim().is_empty());
        Self {
            server: get(ENV_SERVER),
            authority: get(ENV_AUTHORITY),
            client_id: get(ENV_CLIENT_ID),
            tenant: get(ENV_TENANT),
            graph: get(ENV_GRAPH),
            api_scope: get(ENV_API_SCOPE),
        }
    }

    /// Settings from a TOML file; a missing file is an empty layer.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(ConfigError::ReadFile {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        toml::from_str(&text).map_err(|e| ConfigError::ParseFile {
            path: path.to_owned(),
            message: e.message().to_owned(),
        })
    }

    /// `self` wins where it has a value.
    pub fn or(self, lower: ConfigLayer) -> ConfigLayer {
        ConfigLayer {
            server: self.server.or(lower.server),
            authority: self.authority.or(lower.authority),
            client_id: self.client_id.or(lower.client_id),
            tenant: self.tenant.or(lower.tenant),
            graph: self.graph.or(lower.graph),
            api_scope: self.api_scope.or(lower.api_scope),
        }
    }
}

/// The default config file: `$XDG_CONFIG_HOME/convene/config.toml`, or the
/// path in `CONVENE_CONFIG`.
pub fn default_config_file(lookup: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    lookup(ENV_CONFIG_FILE)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::config_dir().map(|d| d.join("convene").join("config.toml")))
}

/// The settings a client runs with, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// convene-server's base URL (signaling, exchange, and under `--dev`
    /// everything else).
    pub server_url: Url,
    /// OpenID Connect authority, e.g. `https://login.microsoftonline.com/{tenant}/v2.0`.
    pub authority: Url,
    /// The app registration's client id.
    pub client_id: String,
    /// Tenant GUID, or `organizations` / `common`.
    pub tenant: String,
    /// Base URL of the Graph chat API, ending in `/v1.0/`.
    pub graph_url: Url,
    /// The delegated scope of Convene's own API (convene-server), e.g.
    /// `api://{client id}/Convene.Use`.
    pub api_scope: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self::from_layer(ConfigLayer::default()).expect("built-in defaults are valid")
    }
}

impl ClientConfig {
    /// Resolves a merged layer; unset values take the dev defaults. An
    /// authority left unset follows the server: `{server}/{tenant}/v2.0`,
    /// which is where `convene-server --dev` runs its issuer.
    pub fn from_layer(layer: ConfigLayer) -> Result<Self, ConfigError> {
        let default_server = format!("http://127.0.0.1:{DEV_PORT}");
        let server_url =
            parse_http_url("server", layer.server.as_deref().unwrap_or(&default_server))?;
        let tenant = non_empty(
            "tenant",
            layer.tenant.unwrap_or_else(|| DEV_TENANT_ID.into()),
        )?;
        let client_id = non_empty(
            "client id",
            layer.client_id.unwrap_or_else(|| DEV_CLIENT_ID.into()),
        )?;
        let own_authority = layer.authority.is_some();
        let authority = match layer.authority {
            Some(a) => parse_http_url("authority", &a)?,
            None => server_url.join(&format!("{tenant}/v2.0/")).map_err(|e| {
                ConfigError::InvalidUrl {
                    setting: "authority",
                    value: format!("{server_url}{tenant}/v2.0/"),
                    reason: e.to_string(),
                }
            })?,
        };
        // With an authority of its own (tenant mode) chat is Microsoft
        // Graph's; otherwise convene-server's Graph-shaped API.
        let graph_url = match (layer.graph, own_authority) {
            (Some(g), _) => parse_http_url("graph", &g)?,
            (None, true) => Url::parse(MICROSOFT_GRAPH).expect("a valid URL"),
            (None, false) => server_url
                .join("v1.0/")
                .expect("a relative path joins onto a base URL"),
        };
        let api_scope = non_empty(
            "API scope",
            layer
                .api_scope
                .unwrap_or_else(|| format!("api://{client_id}/{DEFAULT_API_PERMISSION}")),
        )?;
        Ok(Self {
            server_url,
            authority,
            client_id,
            tenant,
            graph_url,
            api_scope,
        })
    }

    /// Overrides, then the environment, then the config file, then defaults.
    pub fn load(
        overrides: ConfigLayer,
        lookup: impl Fn(&str) -> Option<String> + Copy,
    ) -> Result<Self, ConfigError> {
        let file = match default_config_file(lookup) {
            Some(path) => ConfigLayer::from_file(&path)?,
            None => ConfigLayer::default(),
        };
        Self::from_layer(overrides.or(ConfigLayer::from_env(lookup)).or(file))
    }

    /// The settings as the UI shows them.
    /// Whether the chat API is convene-server's own (under its URL): the
    /// embedded default, or an organisation that self-hosts chat.
    pub fn chat_is_self_hosted(&self) -> bool {
        self.graph_url.origin() == self.server_url.origin()
            && self.graph_url.path().starts_with(self.server_url.path())
    }

    /// The tenant a sign-in must come from: the configured tenant when it
    /// is a tenant id; none for Entra's multi-tenant authorities
    /// (`organizations`, `common`) or a domain name, which an ID token's
    /// `tid` cannot be compared with.
    pub fn required_tenant(&self) -> Option<&str> {
        uuid::Uuid::try_parse(&self.tenant)
            .is_ok()
            .then_some(self.tenant.as_str())
    }

    pub fn settings(&self) -> ServerSettings {
        ServerSettings {
            server_url: self.server_url.to_string(),
            authority: self.authority.to_string(),
            tenant: self.tenant.clone(),
            client_id: self.client_id.clone(),
        }
    }
}

/// The settings as the UI and `--json` output show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ServerSettings {
    pub server_url: String,
    pub authority: String,
    pub tenant: String,
    pub client_id: String,
}

fn non_empty(setting: &'static str, value: String) -> Result<String, ConfigError> {
    let value = value.trim().to_owned();
    if value.is_empty() {
        return Err(ConfigError::Empty { setting });
    }
    Ok(value)
}

fn parse_http_url(setting: &'static str, value: &str) -> Result<Url, ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidUrl {
        setting,
        value: value.to_owned(),
        reason,
    };
    // A base URL without a trailing slash would lose its last segment in `join`.
    let mut text = value.trim().to_owned();
    if !text.ends_with('/') {
        text.push('/');
    }
    let url = Url::parse(&text).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "scheme {:?} is not http or https",
            url.scheme()
        )));
    }
    let Some(host) = url.host() else {
        return Err(invalid("no host".into()));
    };
    // Tokens travel to these addresses: in clear text only to this machine.
    let loopback = match host {
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
    };
    if url.scheme() == "http" && !loopback {
        return Err(invalid(format!(
            "plain http is only for this machine (127.0.0.1, ::1, localhost); use https://{}",
            &text.trim()["http://".len()..]
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + Copy + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn defaults_point_at_the_local_dev_server() {
        let config = ClientConfig::default();
        assert_eq!(config.server_url.as_str(), "http://127.0.0.1:8750/");
        assert_eq!(
            config.authority.as_str(),
            format!("http://127.0.0.1:8750/{DEV_TENANT_ID}/v2.0/")
        );
        assert_eq!(config.tenant, DEV_TENANT_ID);
        assert_eq!(config.client_id, DEV_CLIENT_ID);
    }

    #[test]
    fn flags_beat_environment_which_beats_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(
            &file,
            "server = \"https://file.example:1\"\ntenant = \"organizations\"\nclient_id = \"from-file\"\n",
        )
        .unwrap();
        let file_str = file.to_str().unwrap();
        let vars = [
            (ENV_CONFIG_FILE, file_str),
            (ENV_SERVER, "https://env.example:2"),
            (ENV_CLIENT_ID, "from-env"),
        ];
        let overrides = ConfigLayer {
            server: Some("https://flag.example:3".into()),
            ..Default::default()
        };
        let config = ClientConfig::load(overrides, env(&vars)).unwrap();
        assert_eq!(config.server_url.as_str(), "https://flag.example:3/");
        assert_eq!(config.client_id, "from-env");
        assert_eq!(config.tenant, "organizations");
        assert_eq!(
            config.authority.as_str(),
            "https://flag.example:3/organizations/v2.0/"
        );
        assert_eq!(config.required_tenant(), None);
        assert_eq!(config.api_scope, "api://from-env/Convene.Use");
    }

    #[test]
    fn plain_http_is_refused_anywhere_but_this_machine() {
        for setting in ["server", "authority", "graph"] {
            for (url, ok) in [
                ("http://127.0.0.1:8750", true),
                ("http://[::1]:8750", true),
                ("http://localhost:8750", true),
                ("http://chat.example.org", false),
                ("http://10.0.0.2:8750", false),
                ("https://chat.example.org", true),
            ] {
                let mut layer = ConfigLayer::default();
                match setting {
                    "server" => layer.server = Some(url.into()),
                    "authority" => layer.authority = Some(url.into()),
                    _ => layer.graph = Some(url.into()),
                }
                let result = ClientConfig::from_layer(layer);
                assert_eq!(result.is_ok(), ok, "{setting} = {url}: {result:?}");
                if let Err(error) = result {
                    let text = error.to_string();
                    assert!(
                        text.contains(setting) && text.contains("use https://"),
                        "{text}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_configured_tenant_is_required_of_the_sign_in_unless_it_is_multi_tenant() {
        let config = |tenant: &str| {
            ClientConfig::from_layer(ConfigLayer {
                tenant: Some(tenant.into()),
                ..Default::default()
            })
            .unwrap()
        };
        assert_eq!(config("organizations").required_tenant(), None);
        assert_eq!(config("Common").required_tenant(), None);
        let guid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        assert_eq!(config(guid).required_tenant(), Some(guid));
        assert_eq!(
            ClientConfig::default().required_tenant(),
            Some(DEV_TENANT_ID)
        );
    }

    #[test]
    fn tenant_mode_chats_through_microsoft_graph_unless_told_otherwise() {
        let dev = ClientConfig::default();
        assert!(dev.chat_is_self_hosted());
        let tenant = ClientConfig::from_layer(ConfigLayer {
            server: Some("https://convene.contoso.example".into()),
            authority: Some("https://login.microsoftonline.com/organizations/v2.0".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(tenant.graph_url.as_str(), MICROSOFT_GRAPH);
        assert!(!tenant.chat_is_self_hosted());
        let self_hosted = ClientConfig::from_layer(ConfigLayer {
            server: Some("https://convene.contoso.example".into()),
            authority: Some("https://login.microsoftonline.com/organizations/v2.0".into()),
            graph: Some("https://convene.contoso.example/v1.0/".into()),
            ..Default::default()
        })
        .unwrap();
        assert!(self_hosted.chat_is_self_hosted());
    }

    #[test]
    fn an_explicit_authority_is_kept() {
        let layer = ConfigLayer {
            authority: Some("https://login.microsoftonline.com/common/v2.0".into()),
            tenant: Some("common".into()),
            ..Default::default()
        };
        let config = ClientConfig::from_layer(layer).unwrap();
        assert_eq!(
            config.authority.as_str(),
            "https://login.microsoftonline.com/common/v2.0/"
        );
    }

    #[test]
    fn a_missing_config_file_is_no_error_but_a_broken_one_is() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        assert_eq!(
            ConfigLayer::from_file(&missing).unwrap(),
            ConfigLayer::default()
        );

        let broken = dir.path().join("broken.toml");
        std::fs::write(&broken, "servr = \"http://typo\"\n").unwrap();
        let err = ConfigLayer::from_file(&broken).unwrap_err().to_string();
        assert!(err.contains("broken.toml"), "{err}");
        assert!(err.contains("servr"), "{err}");
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let cases: HashMap<&str, ConfigLayer> = HashMap::from([
            (
                "not a valid http(s) URL",
                ConfigLayer {
                    server: Some("ftp://example.org".into()),
                    ..Default::default()
                },
            ),
            (
                "tenant must not be empty",
                ConfigLayer {
                    tenant: Some("  ".into()),
                    ..Default::default()
                },
            ),
        ]);
        for (expected, layer) in cases {
            let err = ClientConfig::from_layer(layer).unwrap_err().to_string();
            assert!(err.contains(expected), "{err} should say {expected}");
        }
    }

    #[test]
    fn empty_environment_values_are_ignored() {
        let vars = [(ENV_SERVER, "")];
        assert_eq!(ConfigLayer::from_env(env(&vars)).server, None);
    }
}
