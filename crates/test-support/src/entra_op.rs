//! An Entra-shaped OpenID provider that Convene did not write: Node's
//! `oidc-provider` (a certified OpenID provider) configured by
//! `entra-op/entra-op.mjs` to behave as Entra ID does where Convene
//! depends on it (tenant issuers, one audience per token, consent). The
//! script's header lists each emulated behaviour with Microsoft's page for
//! it. `npm ci --prefix crates/test-support/entra-op` installs it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

/// A person of a tenant.
#[derive(Debug, Clone)]
pub struct OpUser {
    pub oid: &'static str,
    pub username: &'static str,
    pub name: &'static str,
    pub password: &'static str,
}

/// An organisation: its tenant id, its domain, its people, and the
/// resources (`"api"`, `"acs"`, `"graph"`) an administrator approved for
/// everyone in it.
#[derive(Debug, Clone)]
pub struct OpTenant {
    pub id: &'static str,
    pub domain: &'static str,
    pub users: Vec<OpUser>,
    pub consented: Vec<&'static str>,
}

/// A running provider, stopped on drop.
pub struct EntraOp {
    child: Child,
    base: String,
    _config: tempfile::NamedTempFile,
}

fn script_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("entra-op")
}

impl EntraOp {
    /// Starts a provider for the public client `client_id` whose access
    /// tokens live `access_token_seconds`.
    pub fn start(client_id: &str, tenants: &[OpTenant], access_token_seconds: u64) -> Self {
        let dir = script_dir();
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "the Entra-shaped provider is not installed: run `npm ci --prefix {}`",
            dir.display()
        );
        let config = json!({
            "clientId": client_id,
            "accessTokenSeconds": access_token_seconds,
            "tenants": tenants.iter().map(|t| json!({
                "id": t.id,
                "domain": t.domain,
                "consented": t.consented,
                "users": t.users.iter().map(|u| json!({
                    "oid": u.oid, "username": u.username, "name": u.name, "password": u.password,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        let file = tempfile::NamedTempFile::new().expect("a config file");
        std::fs::write(file.path(), config.to_string()).expect("write the config");
        let mut child = Command::new("node")
            .arg(dir.join("entra-op.mjs"))
            .arg(file.path())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start node (the Entra-shaped provider)");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(base) = line.strip_prefix("listening on ") {
                    let _ = tx.send(base.trim().to_owned());
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the Entra-shaped provider starts");
        Self {
            child,
            base,
            _config: file,
        }
    }

    /// The multi-tenant authority, like
    /// `https://login.microsoftonline.com/organizations/v2.0`.
    pub fn organizations(&self) -> String {
        format!("{}/organizations/v2.0", self.base)
    }

    /// One tenant's authority, like
    /// `https://login.microsoftonline.com/{tenant}/v2.0`.
    pub fn tenant_authority(&self, tenant_id: &str) -> String {
        format!("{}/{tenant_id}/v2.0", self.base)
    }

    /// Grants or withdraws `username`'s consent to `resource` (`"api"`,
    /// `"acs"`, `"graph"`), as a person or an administrator would in the
    /// portal.
    pub fn set_consent(&self, tenant_id: &str, username: &str, resource: &str, granted: bool) {
        let body = json!({
            "tenant": tenant_id, "username": username, "resource": resource, "granted": granted,
        });
        let status = http("POST", &format!("{}/test/consent", self.base), Some(&body)).0;
        assert_eq!(status, 204, "set consent");
    }

    /// Every authorize and token request the provider has seen, oldest
    /// first: `{endpoint, tenant, scope, prompt, grant_type, …}`.
    pub fn requests(&self) -> Vec<Value> {
        let (status, body) = http("GET", &format!("{}/test/requests", self.base), None);
        assert_eq!(status, 200);
        serde_json::from_str(&body).expect("requests are JSON")
    }
}

impl Drop for EntraOp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.1 request on loopback, so that the controls need no
/// async runtime.
fn http(method: &str, url: &str, body: Option<&Value>) -> (u16, String) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("a loopback http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = std::net::TcpStream::connect(host).expect("reach the provider");
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send the request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read the answer");
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}
