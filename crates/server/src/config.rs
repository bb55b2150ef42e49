//! Settings: command-line flags, then environment variables, then the TOML
//! config file, then defaults — the first one that says something wins.
//!
//! clap reads flags and their `CONVENE_*` variables together (both beat the
//! file), so every field of [`Cli`] is optional: `None` means "not said",
//! which lets the file and the defaults fill the gap.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};

use clap::builder::BoolishValueParser;
use convene_proto::ServerMode;
use serde::Deserialize;
use url::Url;
use uuid::Uuid;

use crate::acs::{endpoint_is_acceptable, AccessKey, AcsConfig};
use crate::call::ice::{IceConfig, TurnSecret, DEFAULT_TURN_TTL};
use crate::call::{CallSettings, DEFAULT_RESUME_GRACE, DEFAULT_RING_TIMEOUT};
use crate::exchange::ApiScope;

/// Chat API requests per second per user unless configured.
pub const DEFAULT_GRAPH_RATE_LIMIT: u32 = 50;

/// Loopback only by default: exposing the server is a deliberate choice.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(
    Ipv4Addr::LOCALHOST,
    convene_proto::dev::DEV_PORT,
));

/// Name of the default data directory under the platform's data root
/// (`$XDG_DATA_HOME` on Linux).
pub const DATA_DIR_NAME: &str = "convene-server";

pub use crate::issuer::{DevPassword, DEFAULT_DEV_PASSWORD};

/// Command line of `convene-server`; each flag can also come from the
/// environment.
#[derive(Debug, Clone, Default, PartialEq, clap::Parser)]
#[command(
    name = "convene-server",
    version,
    about = "The Convene server: chat, presence and call signaling for Convene clients",
    after_help = "Settings come from flags, then CONVENE_* environment variables, then the --config file, then defaults."
)]
pub struct Cli {
    /// Run with the built-in demo tenant and users. For development only.
    #[arg(
        long,
        env = "CONVENE_DEV",
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = BoolishValueParser::new(),
    )]
    pub dev: Option<bool>,

    /// Dev mode: password of every demo user at the sign-in form
    /// [default: convene]
    #[arg(
        long,
        env = "CONVENE_DEV_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub dev_password: Option<DevPassword>,

    /// Dev mode: lifetime of access and ID tokens in seconds, shorter than
    /// Entra's hour to exercise renewal [default: 3600]
    #[arg(long, env = "CONVENE_DEV_TOKEN_LIFETIME", value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub dev_token_lifetime: Option<u64>,

    /// Chat API: requests per second per user before 429 Too Many
    /// Requests, as Graph throttles; 0 for no limit [default: 50]
    #[arg(long, env = "CONVENE_GRAPH_RATE_LIMIT", value_name = "PER_SECOND")]
    pub graph_rate_limit: Option<u32>,

    /// Address to listen on, IP:PORT (port 0 picks a free one)
    /// [default: 127.0.0.1:8750]
    #[arg(long, env = "CONVENE_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Directory for the database [default: $XDG_DATA_HOME/convene-server]
    #[arg(long, env = "CONVENE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// TOML file with any of: listen, data_dir, dev, dev_password, authority,
    /// client_id, allowed_tenants, acs_endpoint, acs_access_key
    #[arg(long, env = "CONVENE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Tenant mode: OpenID authority whose tokens are trusted, e.g.
    /// https://login.microsoftonline.com/organizations/v2.0
    #[arg(long, env = "CONVENE_AUTHORITY", value_name = "URL")]
    pub authority: Option<Url>,

    /// Tenant mode: application (client) id that tokens must be issued for
    #[arg(long, env = "CONVENE_CLIENT_ID", value_name = "ID")]
    pub client_id: Option<String>,

    /// Tenant mode: the scope of Convene's API as the app registration
    /// exposes it, {identifier URI}/{permission}
    /// [default: api://{client id}/Convene.Use]
    #[arg(long, env = "CONVENE_API_SCOPE", value_name = "SCOPE")]
    pub api_scope: Option<String>,

    /// Tenant mode: a tenant id (GUID) to accept; repeat for several
    /// (the variable takes a comma-separated list)
    #[arg(
        long = "allowed-tenant",
        env = "CONVENE_ALLOWED_TENANTS",
        value_name = "GUID",
        value_delimiter = ',',
        value_parser = parse_tenant_id,
    )]
    pub allowed_tenants: Vec<Uuid>,

    /// ACS resource endpoint to forward token exchanges to, e.g.
    /// https://my-resource.communication.azure.com (needs --acs-access-key)
    #[arg(long, env = "CONVENE_ACS_ENDPOINT", value_name = "URL")]
    pub acs_endpoint: Option<Url>,

    /// Access key (base64) of the ACS resource; a secret, never printed
    #[arg(
        long,
        env = "CONVENE_ACS_ACCESS_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub acs_access_key: Option<AccessKey>,

    /// A STUN URL handed to clients, e.g. stun:turn.example.com:3478;
    /// repeat for several (the variable takes a comma-separated list)
    #[arg(
        long = "stun-url",
        env = "CONVENE_STUN_URLS",
        value_name = "URL",
        value_delimiter = ','
    )]
    pub stun_urls: Vec<String>,

    /// A TURN URL handed to clients with a short-lived credential, e.g.
    /// turn:turn.example.com:3478?transport=udp; repeat for several (the
    /// variable takes a comma-separated list); needs --turn-secret
    #[arg(
        long = "turn-url",
        env = "CONVENE_TURN_URLS",
        value_name = "URL",
        value_delimiter = ','
    )]
    pub turn_urls: Vec<String>,

    /// The secret shared with coturn (its static-auth-secret); a secret,
    /// never printed
    #[arg(
        long,
        env = "CONVENE_TURN_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub turn_secret: Option<TurnSecret>,

    /// Lifetime of a TURN credential in seconds [default: 600]
    #[arg(long, env = "CONVENE_TURN_TTL", value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub turn_ttl: Option<u64>,

    /// Seconds a call rings before it ends unanswered [default: 45]
    #[arg(long, env = "CONVENE_CALL_RING_TIMEOUT", value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub call_ring_timeout: Option<u64>,

    /// Seconds a call waits for a dropped device to resume [default: 30]
    #[arg(long, env = "CONVENE_CALL_RESUME_GRACE", value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub call_resume_grace: Option<u64>,
}

fn parse_tenant_id(s: &str) -> Result<Uuid, String> {
    Uuid::try_parse(s.trim()).map_err(|e| format!("not a tenant id (GUID): {e}"))
}

/// The config file. Unknown keys are rejected so that a typo cannot silently
/// leave a setting at its default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    /// Relative paths are taken from the config file's directory.
    pub data_dir: Option<PathBuf>,
    pub dev: Option<bool>,
    pub dev_password: Option<DevPassword>,
    pub dev_token_lifetime: Option<u64>,
    pub graph_rate_limit: Option<u32>,
    pub authority: Option<Url>,
    pub client_id: Option<String>,
    pub api_scope: Option<String>,
    pub allowed_tenants: Option<Vec<Uuid>>,
    pub acs_endpoint: Option<Url>,
    pub acs_access_key: Option<AccessKey>,
    pub stun_urls: Option<Vec<String>>,
    pub turn_urls: Option<Vec<String>>,
    pub turn_secret: Option<TurnSecret>,
    pub turn_ttl: Option<u64>,
    pub call_ring_timeout: Option<u64>,
    pub call_resume_grace: Option<u64>,
}

impl FileConfig {
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
            path: path.to_owned(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        Self::parse(&text, base).map_err(|source| ConfigError::ParseFile {
            path: path.to_owned(),
            source,
        })
    }

    /// Parses file contents; `base` is the directory relative paths start from.
    pub fn parse(text: &str, base: &Path) -> Result<Self, toml::de::Error> {
        let mut file: Self = toml::from_str(text)?;
        if let Some(dir) = &mut file.data_dir {
            if dir.is_relative() {
                *dir = base.join(&*dir);
            }
        }
        Ok(file)
    }
}

/// The settings the server runs with, after every source was consulted.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub mode: Mode,
    /// Dev mode: the demo users' password at the dev issuer.
    pub dev_password: DevPassword,
    /// Dev mode: lifetime of access and ID tokens, if not Entra's hour.
    pub dev_token_lifetime: Option<std::time::Duration>,
    /// Chat API requests per second per user; 0 for no limit.
    pub graph_rate_limit: u32,
    /// Settings that were given but mean nothing in this mode (tenant
    /// settings in dev mode, `dev_password` in tenant mode), so that the
    /// caller can warn about them.
    pub ignored: Vec<&'static str>,
    /// The ACS resource token exchanges are forwarded to, if any.
    pub acs: Option<AcsConfig>,
    /// Ring timeout, resume grace, ICE servers.
    pub calls: CallSettings,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Built-in demo tenant and users; development only.
    Dev,
    /// Trust a real identity provider.
    Tenant(TenantConfig),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TenantConfig {
    pub authority: Url,
    pub client_id: String,
    /// Convene's API: the audience and permission of the tokens accepted.
    pub api: ApiScope,
    pub allowed_tenants: Vec<Uuid>,
}

impl Mode {
    pub fn server_mode(&self) -> ServerMode {
        match self {
            Mode::Dev => ServerMode::Dev,
            Mode::Tenant(_) => ServerMode::Tenant,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}", path.display())]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid config file {}", path.display())]
    ParseFile {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error(
        "tenant mode needs {}; or pass --dev to run with the built-in demo users",
        describe_missing(missing)
    )]
    MissingTenantSettings { missing: Vec<TenantSetting> },
    #[error("the authority must be an https URL (http only on loopback), not {0}")]
    BadAuthority(Url),
    #[error("{0}")]
    BadApiScope(String),
    #[error("cannot find a default data directory (is HOME set?); pass --data-dir")]
    NoDefaultDataDir,
    #[error(
        "an ACS resource needs both --acs-endpoint (CONVENE_ACS_ENDPOINT, `acs_endpoint`) \
         and --acs-access-key (CONVENE_ACS_ACCESS_KEY, `acs_access_key`)"
    )]
    IncompleteAcs,
    #[error("the ACS endpoint must be an https URL (http only on loopback), not {0}")]
    BadAcsEndpoint(Url),
    #[error(
        "TURN URLs need --turn-secret (CONVENE_TURN_SECRET, `turn_secret`), the secret shared with coturn"
    )]
    TurnWithoutSecret,
    #[error("{0} is not a {1} URL")]
    BadIceUrl(String, &'static str),
}

/// A setting that tenant mode cannot do without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantSetting {
    Authority,
    ClientId,
}

impl TenantSetting {
    fn spellings(self) -> (&'static str, &'static str, &'static str) {
        match self {
            TenantSetting::Authority => ("--authority", "CONVENE_AUTHORITY", "authority"),
            TenantSetting::ClientId => ("--client-id", "CONVENE_CLIENT_ID", "client_id"),
        }
    }
}

fn describe_missing(missing: &[TenantSetting]) -> String {
    missing
        .iter()
        .map(|s| {
            let (flag, env, key) = s.spellings();
            format!("{flag} (or {env}, or `{key}` in the config file)")
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

impl Config {
    /// Reads the config file named by `cli` (if any) and resolves everything.
    pub fn load(cli: Cli) -> Result<Self, ConfigError> {
        let file = match &cli.config {
            Some(path) => FileConfig::read(path)?,
            None => FileConfig::default(),
        };
        Self::resolve(cli, file, dirs::data_dir())
    }

    /// Merges the sources. `data_root` is the platform data directory that
    /// the default data directory lives in; a parameter so tests need no
    /// environment.
    pub fn resolve(
        cli: Cli,
        file: FileConfig,
        data_root: Option<PathBuf>,
    ) -> Result<Self, ConfigError> {
        let listen = cli.listen.or(file.listen).unwrap_or(DEFAULT_LISTEN);
        let data_dir = match cli.data_dir.or(file.data_dir) {
            Some(dir) => dir,
            None => data_root
                .map(|root| root.join(DATA_DIR_NAME))
                .ok_or(ConfigError::NoDefaultDataDir)?,
        };
        let dev = cli.dev.or(file.dev).unwrap_or(false);
        let dev_password = cli.dev_password.or(file.dev_password);
        let graph_rate_limit = cli
            .graph_rate_limit
            .or(file.graph_rate_limit)
            .unwrap_or(DEFAULT_GRAPH_RATE_LIMIT);
        let dev_token_lifetime = cli
            .dev_token_lifetime
            .or(file.dev_token_lifetime)
            .map(std::time::Duration::from_secs);
        let authority = cli.authority.or(file.authority);
        let client_id = cli
            .client_id
            .or(file.client_id)
            .filter(|id| !id.trim().is_empty());
        let api_scope = cli.api_scope.or(file.api_scope);
        let allowed_tenants = if cli.allowed_tenants.is_empty() {
            file.allowed_tenants.unwrap_or_default()
        } else {
            cli.allowed_tenants
        };

        let acs = match (
            cli.acs_endpoint.or(file.acs_endpoint),
            cli.acs_access_key.or(file.acs_access_key),
        ) {
            (None, None) => None,
            (Some(endpoint), Some(access_key)) => {
                if !endpoint_is_acceptable(&endpoint) {
                    return Err(ConfigError::BadAcsEndpoint(endpoint));
                }
                Some(AcsConfig {
                    endpoint,
                    access_key,
                })
            }
            _ => return Err(ConfigError::IncompleteAcs),
        };

        let stun_urls = if cli.stun_urls.is_empty() {
            file.stun_urls.unwrap_or_default()
        } else {
            cli.stun_urls
        };
        let turn_urls = if cli.turn_urls.is_empty() {
            file.turn_urls.unwrap_or_default()
        } else {
            cli.turn_urls
        };
        for url in &stun_urls {
            if !url.starts_with("stun:") && !url.starts_with("stuns:") {
                return Err(ConfigError::BadIceUrl(url.clone(), "stun: or stuns:"));
            }
        }
        for url in &turn_urls {
            if !url.starts_with("turn:") && !url.starts_with("turns:") {
                return Err(ConfigError::BadIceUrl(url.clone(), "turn: or turns:"));
            }
        }
        let turn_secret = cli.turn_secret.or(file.turn_secret);
        if !turn_urls.is_empty() && turn_secret.is_none() {
            return Err(ConfigError::TurnWithoutSecret);
        }
        let secs = std::time::Duration::from_secs;
        let calls = CallSettings {
            ring_timeout: cli
                .call_ring_timeout
                .or(file.call_ring_timeout)
                .map_or(DEFAULT_RING_TIMEOUT, secs),
            resume_grace: cli
                .call_resume_grace
                .or(file.call_resume_grace)
                .map_or(DEFAULT_RESUME_GRACE, secs),
            ice: IceConfig {
                stun_urls,
                turn_urls,
                turn_secret,
                turn_ttl: cli
                    .turn_ttl
                    .or(file.turn_ttl)
                    .map_or(DEFAULT_TURN_TTL, secs),
            },
        };

        let mut ignored = Vec::new();
        let mode = if dev {
            for (given, name) in [
                (authority.is_some(), "authority"),
                (client_id.is_some(), "client_id"),
                (api_scope.is_some(), "api_scope"),
                (!allowed_tenants.is_empty(), "allowed_tenants"),
            ] {
                if given {
                    ignored.push(name);
                }
            }
            Mode::Dev
        } else {
            let missing: Vec<TenantSetting> = [
                (authority.is_none(), TenantSetting::Authority),
                (client_id.is_none(), TenantSetting::ClientId),
            ]
            .into_iter()
            .filter_map(|(absent, setting)| absent.then_some(setting))
            .collect();
            if dev_password.is_some() {
                ignored.push("dev_password");
            }
            match (authority, client_id) {
                (Some(authority), Some(client_id)) => {
                    // Tokens' keys come from there: never over plain http
                    // to another machine.
                    if !endpoint_is_acceptable(&authority) {
                        return Err(ConfigError::BadAuthority(authority));
                    }
                    let api = ApiScope::new(&client_id, api_scope.as_deref())
                        .map_err(ConfigError::BadApiScope)?;
                    Mode::Tenant(TenantConfig {
                        authority,
                        client_id,
                        api,
                        allowed_tenants,
                    })
                }
                _ => return Err(ConfigError::MissingTenantSettings { missing }),
            }
        };
        Ok(Self {
            listen,
            data_dir,
            mode,
            dev_password: dev_password.unwrap_or_default(),
            dev_token_lifetime,
            graph_rate_limit,
            ignored,
            acs,
            calls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    const TENANT_A: &str = "11111111-1111-4111-8111-111111111111";
    const TENANT_B: &str = "22222222-2222-4222-8222-222222222222";

    fn root() -> Option<PathBuf> {
        Some(PathBuf::from("/data-root"))
    }

    fn dev_cli() -> Cli {
        Cli {
            dev: Some(true),
            ..Cli::default()
        }
    }

    fn file(text: &str) -> FileConfig {
        FileConfig::parse(text, Path::new("/etc/convene")).unwrap()
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn defaults_fill_everything_left_unsaid() {
        let config = Config::resolve(dev_cli(), FileConfig::default(), root()).unwrap();
        assert_eq!(config.listen, "127.0.0.1:8750".parse().unwrap());
        assert_eq!(config.data_dir, PathBuf::from("/data-root/convene-server"));
        assert_eq!(config.mode, Mode::Dev);
        assert!(config.ignored.is_empty());
    }

    #[test]
    fn file_beats_defaults() {
        let file = file("dev = true\nlisten = \"0.0.0.0:9000\"\ndata_dir = \"/srv/convene\"\n");
        let config = Config::resolve(Cli::default(), file, root()).unwrap();
        assert_eq!(config.listen, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(config.data_dir, PathBuf::from("/srv/convene"));
        assert_eq!(config.mode, Mode::Dev);
    }

    #[test]
    fn flags_beat_file() {
        let file = file(&format!(
            "dev = true\nlisten = \"0.0.0.0:9000\"\ndata_dir = \"/srv/convene\"\n\
             authority = \"https://file.example/v2.0\"\nclient_id = \"file-client\"\n\
             allowed_tenants = [\"{TENANT_A}\"]\n"
        ));
        let cli = Cli {
            dev: Some(false),
            listen: Some("127.0.0.1:0".parse().unwrap()),
            data_dir: Some("/flag/dir".into()),
            authority: Some(url("https://flag.example/v2.0")),
            client_id: Some("flag-client".into()),
            allowed_tenants: vec![TENANT_B.parse().unwrap()],
            ..Cli::default()
        };
        let config = Config::resolve(cli, file, root()).unwrap();
        assert_eq!(config.listen, "127.0.0.1:0".parse().unwrap());
        assert_eq!(config.data_dir, PathBuf::from("/flag/dir"));
        assert_eq!(
            config.mode,
            Mode::Tenant(TenantConfig {
                authority: url("https://flag.example/v2.0"),
                client_id: "flag-client".into(),
                api: ApiScope {
                    uri: "api://flag-client".into(),
                    permission: "Convene.Use".into(),
                },
                allowed_tenants: vec![TENANT_B.parse().unwrap()],
            })
        );
    }

    #[test]
    fn file_fills_what_flags_leave_unset() {
        let file = file(&format!(
            "authority = \"https://login.example/common/v2.0\"\nclient_id = \"app\"\n\
             allowed_tenants = [\"{TENANT_A}\", \"{TENANT_B}\"]\n"
        ));
        let cli = Cli {
            listen: Some("127.0.0.1:1234".parse().unwrap()),
            ..Cli::default()
        };
        let config = Config::resolve(cli, file, root()).unwrap();
        assert_eq!(config.listen, "127.0.0.1:1234".parse().unwrap());
        let Mode::Tenant(tenant) = config.mode else {
            panic!("expected tenant mode");
        };
        assert_eq!(tenant.authority, url("https://login.example/common/v2.0"));
        assert_eq!(tenant.client_id, "app");
        assert_eq!(
            tenant.allowed_tenants,
            vec![TENANT_A.parse().unwrap(), TENANT_B.parse::<Uuid>().unwrap()]
        );
    }

    #[test]
    fn tenant_mode_without_authority_and_client_id_says_what_is_missing() {
        let err = Config::resolve(Cli::default(), FileConfig::default(), root()).unwrap_err();
        let message = err.to_string();
        for spelling in [
            "--authority",
            "CONVENE_AUTHORITY",
            "`authority`",
            "--client-id",
            "CONVENE_CLIENT_ID",
            "`client_id`",
            "--dev",
        ] {
            assert!(message.contains(spelling), "{spelling} not in: {message}");
        }

        let cli = Cli {
            authority: Some(url("https://login.example/v2.0")),
            client_id: Some("  ".into()),
            ..Cli::default()
        };
        let err = Config::resolve(cli, FileConfig::default(), root()).unwrap_err();
        assert!(
            matches!(&err, ConfigError::MissingTenantSettings { missing } if *missing == [TenantSetting::ClientId]),
            "{err:?}"
        );
    }

    #[test]
    fn authority_must_be_http_or_https() {
        let cli = Cli {
            authority: Some(url("ftp://login.example/")),
            client_id: Some("app".into()),
            ..Cli::default()
        };
        let err = Config::resolve(cli, FileConfig::default(), root()).unwrap_err();
        assert!(matches!(err, ConfigError::BadAuthority(_)), "{err:?}");
    }

    #[test]
    fn dev_flag_false_overrides_dev_in_file() {
        let cli = Cli {
            dev: Some(false),
            ..Cli::default()
        };
        let err = Config::resolve(cli, file("dev = true"), root()).unwrap_err();
        assert!(matches!(err, ConfigError::MissingTenantSettings { .. }));
    }

    #[test]
    fn dev_mode_lists_tenant_settings_it_ignores() {
        let cli = Cli {
            dev: Some(true),
            client_id: Some("app".into()),
            ..Cli::default()
        };
        let file = file(&format!("allowed_tenants = [\"{TENANT_A}\"]"));
        let config = Config::resolve(cli, file, root()).unwrap();
        assert_eq!(config.mode, Mode::Dev);
        assert_eq!(config.ignored, ["client_id", "allowed_tenants"]);
    }

    #[test]
    fn dev_password_defaults_to_convene_and_flag_beats_file() {
        let config = Config::resolve(dev_cli(), FileConfig::default(), root()).unwrap();
        assert_eq!(config.dev_password.expose(), DEFAULT_DEV_PASSWORD);
        assert_eq!(DEFAULT_DEV_PASSWORD, "convene");

        let config =
            Config::resolve(dev_cli(), file("dev_password = \"from-file\""), root()).unwrap();
        assert_eq!(config.dev_password.expose(), "from-file");

        let cli = Cli {
            dev_password: Some(DevPassword::new("from-flag").unwrap()),
            ..dev_cli()
        };
        let config = Config::resolve(cli, file("dev_password = \"from-file\""), root()).unwrap();
        assert_eq!(config.dev_password.expose(), "from-flag");
    }

    #[test]
    fn dev_password_is_never_printed_and_never_empty() {
        let cli = Cli {
            dev_password: Some(DevPassword::new("hunter2").unwrap()),
            ..dev_cli()
        };
        let config = Config::resolve(cli.clone(), FileConfig::default(), root()).unwrap();
        for printed in [format!("{cli:?}"), format!("{config:?}")] {
            assert!(!printed.contains("hunter2"), "{printed}");
            assert!(printed.contains("<redacted>"), "{printed}");
        }
        assert!(DevPassword::new("").is_err());
        assert!(FileConfig::parse("dev_password = \"\"", Path::new("")).is_err());
        let parsed = Cli::try_parse_from(["convene-server", "--dev-password", "s3cret"]).unwrap();
        assert_eq!(parsed.dev_password.unwrap().expose(), "s3cret");
        assert!(Cli::try_parse_from(["convene-server", "--dev-password="]).is_err());
    }

    #[test]
    fn tenant_mode_lists_a_dev_password_it_ignores() {
        let cli = Cli {
            authority: Some(url("https://login.example/v2.0")),
            client_id: Some("app".into()),
            ..Cli::default()
        };
        let config = Config::resolve(cli, file("dev_password = \"x\""), root()).unwrap();
        assert_eq!(config.ignored, ["dev_password"]);
    }

    #[test]
    fn no_data_root_and_no_data_dir_is_an_error() {
        let err = Config::resolve(dev_cli(), FileConfig::default(), None).unwrap_err();
        assert!(matches!(err, ConfigError::NoDefaultDataDir));
        let cli = Cli {
            data_dir: Some("/x".into()),
            ..dev_cli()
        };
        assert!(Config::resolve(cli, FileConfig::default(), None).is_ok());
    }

    #[test]
    fn file_rejects_unknown_keys_by_name() {
        let err = FileConfig::parse("dev = true\nlisten_addr = \"127.0.0.1:1\"\n", Path::new(""))
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("listen_addr"), "{message}");
        assert!(message.contains("line 2"), "{message}");
    }

    #[test]
    fn file_rejects_bad_values() {
        for text in [
            "listen = \"not an address\"",
            "dev = \"maybe\"",
            "allowed_tenants = [\"not-a-guid\"]",
            "authority = \"no scheme\"",
            "dev = ",
        ] {
            assert!(FileConfig::parse(text, Path::new("")).is_err(), "{text}");
        }
    }

    #[test]
    fn file_relative_data_dir_is_taken_from_the_file_directory() {
        let f = FileConfig::parse("data_dir = \"state\"", Path::new("/etc/convene")).unwrap();
        assert_eq!(f.data_dir, Some(PathBuf::from("/etc/convene/state")));
        let f = FileConfig::parse("data_dir = \"/abs\"", Path::new("/etc/convene")).unwrap();
        assert_eq!(f.data_dir, Some(PathBuf::from("/abs")));
    }

    #[test]
    fn read_names_the_file_it_cannot_read_or_parse() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.toml");
        let err = FileConfig::read(&missing).unwrap_err();
        assert!(matches!(&err, ConfigError::ReadFile { path, .. } if *path == missing));
        assert!(err.to_string().contains("missing.toml"));

        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "nonsense = 1\n").unwrap();
        let err = FileConfig::read(&bad).unwrap_err();
        assert!(matches!(&err, ConfigError::ParseFile { path, .. } if *path == bad));
    }

    #[test]
    fn acs_needs_endpoint_and_key_and_never_prints_the_key() {
        let key = "c2VjcmV0LWtleQ==";
        let cli = Cli::try_parse_from([
            "convene-server",
            "--dev",
            "--acs-endpoint",
            "https://my-resource.communication.azure.com",
            "--acs-access-key",
            key,
        ])
        .unwrap();
        let config = Config::resolve(cli.clone(), FileConfig::default(), root()).unwrap();
        let acs = config.acs.clone().unwrap();
        assert_eq!(
            acs.endpoint.host_str(),
            Some("my-resource.communication.azure.com")
        );
        assert_eq!(acs.access_key.bytes(), b"secret-key");
        for printed in [format!("{cli:?}"), format!("{config:?}")] {
            assert!(
                !printed.contains(key) && !printed.contains("secret-key"),
                "{printed}"
            );
        }

        let only_endpoint = Cli {
            acs_endpoint: Some(url("https://acs.example")),
            ..dev_cli()
        };
        let err = Config::resolve(only_endpoint, FileConfig::default(), root()).unwrap_err();
        assert!(matches!(err, ConfigError::IncompleteAcs), "{err:?}");
        assert!(err.to_string().contains("--acs-access-key"));

        let from_file = file(&format!(
            "dev = true\nacs_endpoint = \"http://127.0.0.1:9000\"\nacs_access_key = \"{key}\"\n"
        ));
        let config = Config::resolve(Cli::default(), from_file, root()).unwrap();
        assert_eq!(config.acs.unwrap().endpoint.port(), Some(9000));

        let plain_http = file(&format!(
            "dev = true\nacs_endpoint = \"http://acs.example\"\nacs_access_key = \"{key}\"\n"
        ));
        let err = Config::resolve(Cli::default(), plain_http, root()).unwrap_err();
        assert!(matches!(err, ConfigError::BadAcsEndpoint(_)), "{err:?}");
        assert!(FileConfig::parse("acs_access_key = \"not base64!\"", Path::new("")).is_err());
        assert!(Cli::try_parse_from(["convene-server", "--acs-access-key", "%%%"]).is_err());
    }

    // Parsing tests only look at flags given on the command line, which win
    // over any CONVENE_* variable the environment might hold.

    #[test]
    fn cli_parses_every_flag() {
        let cli = Cli::try_parse_from([
            "convene-server",
            "--dev",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            "/tmp/d",
            "--config",
            "/tmp/c.toml",
            "--authority",
            "https://login.example/v2.0",
            "--client-id",
            "app",
            "--allowed-tenant",
            TENANT_A,
            "--allowed-tenant",
            &format!("{TENANT_B}, {TENANT_A}"),
        ])
        .unwrap();
        assert_eq!(cli.dev, Some(true));
        assert_eq!(cli.listen, Some("127.0.0.1:0".parse().unwrap()));
        assert_eq!(cli.data_dir, Some(PathBuf::from("/tmp/d")));
        assert_eq!(cli.config, Some(PathBuf::from("/tmp/c.toml")));
        assert_eq!(cli.authority, Some(url("https://login.example/v2.0")));
        assert_eq!(cli.client_id.as_deref(), Some("app"));
        let a: Uuid = TENANT_A.parse().unwrap();
        let b: Uuid = TENANT_B.parse().unwrap();
        assert_eq!(cli.allowed_tenants, vec![a, b, a]);
    }

    #[test]
    fn cli_dev_takes_an_optional_boolean() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("convene-server").chain(args.iter().copied()))
        };
        assert_eq!(parse(&["--dev=false"]).unwrap().dev, Some(false));
        assert_eq!(parse(&["--dev=yes"]).unwrap().dev, Some(true));
        assert!(parse(&["--dev=perhaps"]).is_err());
    }

    #[test]
    fn cli_rejects_bad_values() {
        for args in [
            ["--listen", "localhost"],
            ["--allowed-tenant", "contoso"],
            ["--authority", "not a url"],
        ] {
            let result =
                Cli::try_parse_from(std::iter::once("convene-server").chain(args.iter().copied()));
            assert!(result.is_err(), "{args:?}");
        }
    }
}
