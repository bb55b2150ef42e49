//! Tenant mode against an Entra-shaped provider that is not Convene's
//! code (`convene_test_support::entra_op`): two organisations, each with
//! its own issuer, behind one multi-tenant authority.

use std::future::pending;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use convene_core::auth::{sign_in, AuthError, SignInRequest};
use convene_test_support::browser;
use convene_test_support::dev_server::DevServer;
use convene_test_support::entra_op::{EntraOp, OpTenant, OpUser};
use convene_test_support::{scripted_browser, workspace_binary};

const CLIENT_ID: &str = "5b4a0c2e-6f0d-4b43-9b1e-7c3a2f0e1d01";
const CONTOSO: &str = "8d7e2f10-3c4b-4a5d-9e6f-0a1b2c3d4e01";
const FABRIKAM: &str = "8d7e2f10-3c4b-4a5d-9e6f-0a1b2c3d4e02";

fn tenants() -> Vec<OpTenant> {
    vec![
        OpTenant {
            id: CONTOSO,
            domain: "contoso.test",
            users: vec![
                OpUser {
                    oid: "c0000000-0000-4000-8000-00000000a11c",
                    username: "alice@contoso.test",
                    name: "Alice Contoso",
                    password: "alice-pw",
                },
                OpUser {
                    oid: "c0000000-0000-4000-8000-000000000b0b",
                    username: "bob@contoso.test",
                    name: "Bob Contoso",
                    password: "bob-pw",
                },
            ],
            consented: vec!["api", "acs", "graph"],
        },
        OpTenant {
            id: FABRIKAM,
            domain: "fabrikam.test",
            users: vec![OpUser {
                oid: "f0000000-0000-4000-8000-00000000da7e",
                username: "dave@fabrikam.test",
                name: "Dave Fabrikam",
                password: "dave-pw",
            }],
            consented: vec!["api", "acs", "graph"],
        },
    ]
}

fn person(
    username: &'static str,
    password: &'static str,
) -> impl FnOnce(&reqwest::Url) -> Result<(), AuthError> {
    move |url| {
        let url = url.clone();
        tokio::spawn(async move {
            let page = browser::sign_in_at(url, username, password).await;
            assert!(page.contains("You can close this tab"), "{page}");
        });
        Ok(())
    }
}

#[tokio::test]
async fn people_of_two_organisations_sign_in_through_the_multi_tenant_authority() {
    let op = EntraOp::start(CLIENT_ID, &tenants(), 3600);
    let http = convene_core::http::client(Duration::from_secs(30));
    for (username, password, tenant) in [
        ("alice@contoso.test", "alice-pw", CONTOSO),
        ("dave@fabrikam.test", "dave-pw", FABRIKAM),
    ] {
        let scopes: Vec<String> = [
            "openid",
            "profile",
            "offline_access",
            "https://auth.msft.communication.azure.com/Teams.ManageCalls",
        ]
        .map(String::from)
        .to_vec();
        let request = SignInRequest {
            authority: op.organizations().parse().unwrap(),
            client_id: CLIENT_ID.into(),
            scopes: scopes.clone(),
            token_scopes: scopes,
            allowed_tenants: Vec::new(),
            timeout: Duration::from_secs(30),
            login_hint: None,
            select_account: false,
        };
        let signed_in = sign_in(&http, &request, person(username, password), pending())
            .await
            .expect("sign-in succeeds");
        assert_eq!(signed_in.claims.tid, tenant);
        assert_eq!(
            signed_in.claims.preferred_username.as_deref(),
            Some(username)
        );
        assert!(signed_in.tokens.refresh_token.is_some());
    }
}

/// A terminal of one person: `convene-cli` pointed at convene-server in
/// tenant mode and at the provider's multi-tenant authority, with its own
/// XDG home, and the scripted browser signing in as that person. Every
/// visit of the browser is logged, so a test can count them.
struct Terminal {
    home: tempfile::TempDir,
    server: String,
    authority: String,
    username: &'static str,
    password: &'static str,
}

impl Terminal {
    fn new(
        server: &DevServer,
        op: &EntraOp,
        username: &'static str,
        password: &'static str,
    ) -> Self {
        Self {
            home: tempfile::tempdir().unwrap(),
            server: server.url(),
            authority: op.organizations(),
            username,
            password,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let home = self.home.path();
        Command::new(workspace_binary("convene-cli"))
            .args(["--server", &self.server, "--authority", &self.authority])
            .args(["--client-id", CLIENT_ID, "--tenant", "organizations"])
            .args(args)
            .env("BROWSER", scripted_browser())
            .env("CONVENE_TEST_USERNAME", self.username)
            .env("CONVENE_TEST_PASSWORD", self.password)
            .env("CONVENE_TEST_BROWSER_LOG", self.browser_log())
            .env("CONVENE_CONFIG", home.join("config.toml"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env_remove("CONVENE_SERVER")
            .env_remove("RUST_LOG")
            .output()
            .expect("run convene-cli")
    }

    fn browser_log(&self) -> PathBuf {
        self.home.path().join("browser.log")
    }

    /// How many times the browser was opened.
    fn browser_visits(&self) -> usize {
        std::fs::read_to_string(self.browser_log())
            .map(|log| log.lines().count())
            .unwrap_or(0)
    }
}

fn succeeded(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{output:?}");
    stderr
}

/// convene-server in tenant mode trusting the provider, for Contoso only.
fn tenant_server(scratch: &Path, op: &EntraOp) -> DevServer {
    DevServer::start_tenant_mode(
        &scratch.join("server"),
        &[
            "--authority",
            &op.organizations(),
            "--client-id",
            CLIENT_ID,
            "--allowed-tenant",
            CONTOSO,
        ],
    )
}

#[test]
fn one_sign_in_consents_to_every_resource_and_chat_works_without_asking_again() {
    let op = EntraOp::start(CLIENT_ID, &tenants(), 3600);
    let scratch = tempfile::tempdir().unwrap();
    let server = tenant_server(scratch.path(), &op);
    let alice = Terminal::new(&server, &op, "alice@contoso.test", "alice-pw");

    succeeded(&alice.run(&["login"]));
    let authorize: Vec<_> = op
        .requests()
        .into_iter()
        .filter(|r| r["endpoint"] == "authorize" && r["tenant"] == CONTOSO)
        .collect();
    assert_eq!(authorize.len(), 1, "{authorize:?}");
    let scope = authorize[0]["scope"].as_str().unwrap();
    for wanted in [
        &format!("api://{CLIENT_ID}/Convene.Use") as &str,
        "https://auth.msft.communication.azure.com/Teams.ManageCalls",
        "https://graph.microsoft.com/Chat.ReadWrite",
    ] {
        assert!(
            scope.split(' ').any(|s| s == wanted),
            "{wanted} not in {scope}"
        );
    }

    // Chat's Graph token comes from the refresh token, without a browser.
    let listed = alice.run(&["chats", "--json"]);
    succeeded(&listed);
    assert_eq!(alice.browser_visits(), 1);
    let refreshed: Vec<_> = op
        .requests()
        .into_iter()
        .filter(|r| r["grant_type"] == "refresh_token")
        .collect();
    assert!(
        refreshed.iter().all(|r| {
            let resources = ["api://", "communication.azure.com", "graph.microsoft.com"];
            let scope = r["scope"].as_str().unwrap();
            resources.iter().filter(|res| scope.contains(*res)).count() == 1
        }),
        "each token request names one resource: {refreshed:?}"
    );
}

#[test]
fn a_person_whose_chat_consent_is_missing_is_asked_once_and_stays_signed_in() {
    let op = EntraOp::start(CLIENT_ID, &tenants(), 3600);
    let scratch = tempfile::tempdir().unwrap();
    let server = tenant_server(scratch.path(), &op);
    let bob = Terminal::new(&server, &op, "bob@contoso.test", "bob-pw");
    succeeded(&bob.run(&["login"]));
    assert_eq!(bob.browser_visits(), 1);

    // The administrator withdraws the organisation's approval of Graph, as
    // a new permission in a new version of the app would also find it.
    op.set_consent(CONTOSO, "bob@contoso.test", "graph", false);

    let listed = bob.run(&["chats", "--json"]);
    let said = succeeded(&listed);
    assert!(
        said.contains("needs your approval to read and send your chats"),
        "{said}"
    );
    assert_eq!(bob.browser_visits(), 2, "asked once, in the browser");
    let whoami = bob.run(&["whoami"]);
    assert!(
        String::from_utf8_lossy(&whoami.stdout).contains("bob@contoso.test"),
        "still signed in: {whoami:?}"
    );

    // Approved now: no more asking.
    succeeded(&bob.run(&["chats", "--json"]));
    assert_eq!(bob.browser_visits(), 2);
}
