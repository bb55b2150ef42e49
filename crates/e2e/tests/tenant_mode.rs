//! Tenant mode against an Entra-shaped provider that is not Convene's
//! code (`convene_test_support::entra_op`): two organisations, each with
//! its own issuer, behind one multi-tenant authority; convene-server in
//! tenant mode trusting it for Contoso only.
//!
//! In tenant mode chat is Microsoft Graph's. Graph itself cannot be
//! reached from a test, so a second convene-server stands in for it: its
//! chat API has Graph's shapes, and told that its "own API" is
//! `https://graph.microsoft.com/Chat.ReadWrite` it takes the Graph tokens
//! the provider issues. The real convene-server never sees one.

use std::future::pending;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use convene_core::auth::{sign_in, SignInRequest};
use convene_e2e::sessions::person_at_browser as person;
use convene_media::{read_wav_mono, tone_power};
use convene_test_support::dev_server::DevServer;
use convene_test_support::entra_op::{EntraOp, OpTenant, OpUser};
use convene_test_support::terminal::Running;
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
/// The test session has one keyring: the tests that sign people in with
/// the CLI take turns, and each leaves it empty (see `Terminal`'s drop).
static KEYRING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn keyring_turn() -> std::sync::MutexGuard<'static, ()> {
    KEYRING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct Terminal {
    home: tempfile::TempDir,
    server: String,
    graph: String,
    authority: String,
    username: &'static str,
    password: &'static str,
}

impl Terminal {
    fn new(org: &Organisation, username: &'static str, password: &'static str) -> Self {
        Self {
            home: tempfile::tempdir().unwrap(),
            server: org.server.url(),
            graph: format!("{}/v1.0/", org.graph.url()),
            authority: org.op.organizations(),
            username,
            password,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run convene-cli")
    }

    fn command(&self, args: &[&str]) -> Command {
        let home = self.home.path();
        let mut command = Command::new(workspace_binary("convene-cli"));
        command
            .args(["--server", &self.server, "--authority", &self.authority])
            .args(["--client-id", CLIENT_ID, "--tenant", "organizations"])
            .args(args)
            .env("BROWSER", scripted_browser())
            .env("CONVENE_TEST_USERNAME", self.username)
            .env("CONVENE_TEST_PASSWORD", self.password)
            .env("CONVENE_TEST_BROWSER_LOG", self.browser_log())
            .env("CONVENE_GRAPH", &self.graph)
            .env("CONVENE_CONFIG", home.join("config.toml"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env_remove("CONVENE_SERVER")
            .env_remove("RUST_LOG");
        command
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

impl Drop for Terminal {
    fn drop(&mut self) {
        // Leaves the keyring as it was found, for the next test.
        let _ = self.run(&["logout", "--all"]);
    }
}

fn succeeded(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{output:?}");
    stderr
}

/// The provider, convene-server in tenant mode trusting it for Contoso
/// only (its log keeps the audience of every bearer token it is shown),
/// and the Graph stand-in.
struct Organisation {
    op: EntraOp,
    server: DevServer,
    graph: DevServer,
    server_log: PathBuf,
    _scratch: tempfile::TempDir,
}

impl Organisation {
    fn start() -> Self {
        Self::start_allowing(&[CONTOSO])
    }

    /// The same, the server allowing each of `allowed`.
    fn start_allowing(allowed: &[&str]) -> Self {
        Self::start_with(allowed, &[])
    }

    /// The same, the server allowing each of `allowed`, with more
    /// `settings`.
    fn start_with(allowed: &[&str], settings: &[&str]) -> Self {
        let op = EntraOp::start(CLIENT_ID, &tenants(), 3600);
        let scratch = tempfile::tempdir().unwrap();
        let authority = op.organizations();
        let mut trust = vec!["--authority", &authority, "--client-id", CLIENT_ID];
        for tenant in allowed {
            trust.extend(["--allowed-tenant", tenant]);
        }
        let server_log = scratch.path().join("server.log");
        let server = DevServer::start_tenant_mode_logged(
            &scratch.path().join("server"),
            &[&trust[..], settings].concat(),
            &server_log,
            "warn,convene_server::bearer=debug",
        );
        let graph_scope = ["--api-scope", "https://graph.microsoft.com/Chat.ReadWrite"];
        let graph = DevServer::start_tenant_mode(
            &scratch.path().join("graph"),
            &[&trust[..], &graph_scope[..]].concat(),
        );
        Self {
            op,
            server,
            graph,
            server_log,
            _scratch: scratch,
        }
    }

    /// The audience of every bearer token convene-server was shown.
    fn audiences_seen_by_the_server(&self) -> Vec<String> {
        std::fs::read_to_string(&self.server_log)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains("bearer token presented"))
            .map(|line| {
                let at = line.find("audience=").expect("an audience field") + "audience=".len();
                line[at..]
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .trim_matches('"')
                    .to_owned()
            })
            .collect()
    }
}

#[test]
fn one_sign_in_consents_to_every_resource_and_chat_works_without_asking_again() {
    let _turn = keyring_turn();
    let org = Organisation::start();
    let op = &org.op;
    let alice = Terminal::new(&org, "alice@contoso.test", "alice-pw");

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
        !refreshed.is_empty(),
        "chat's token came from the refresh token"
    );
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
    let _turn = keyring_turn();
    let org = Organisation::start();
    let op = &org.op;
    let bob = Terminal::new(&org, "bob@contoso.test", "bob-pw");
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

#[test]
fn no_token_for_microsofts_apis_ever_reaches_convene_server() {
    let _turn = keyring_turn();
    let org = Organisation::start();
    let alice = Terminal::new(&org, "alice@contoso.test", "alice-pw");
    succeeded(&alice.run(&["login"]));
    succeeded(&alice.run(&["chats", "--json"]));
    succeeded(&alice.run(&["whoami"]));

    let audiences = org.audiences_seen_by_the_server();
    assert!(!audiences.is_empty(), "the server logs what it is shown");
    assert!(
        audiences.iter().all(|aud| aud == CLIENT_ID),
        "convene-server saw tokens for {audiences:?}"
    );
    // Chat's Graph tokens went to Graph (here its stand-in) only.
    let graph_tokens = org
        .op
        .requests()
        .into_iter()
        .filter(|r| {
            r["scope"]
                .as_str()
                .is_some_and(|s| s.contains("graph.microsoft.com"))
        })
        .filter(|r| r["endpoint"] == "token")
        .count();
    assert!(graph_tokens > 0, "chat asked for a Graph token");
}

#[test]
fn a_person_of_an_organisation_the_server_does_not_serve_is_told_so_at_sign_in() {
    let _turn = keyring_turn();
    let org = Organisation::start();
    let dave = Terminal::new(&org, "dave@fabrikam.test", "dave-pw");
    let login = dave.run(&["login"]);
    assert!(!login.status.success(), "{login:?}");
    let said = String::from_utf8_lossy(&login.stderr);
    assert!(
        said.contains("this Convene server refuses the account")
            && said.contains(&format!("tenant {FABRIKAM}) is not allowed")),
        "{said}"
    );
    // Not left behind on this device.
    let accounts = dave.run(&["accounts"]);
    assert!(
        !String::from_utf8_lossy(&accounts.stdout).contains("dave@fabrikam.test"),
        "{accounts:?}"
    );
}

/// Whether the recording holds the `expected` tone rather than the `other`
/// in two thirds of its 100 ms windows after the first second.
fn heard(path: &Path, expected: f64, other: f64) -> bool {
    let (rate, samples) = read_wav_mono(path).expect("the recording is a WAV file");
    let windows: Vec<bool> = samples
        .get(rate as usize..)
        .unwrap_or_default()
        .chunks_exact(rate as usize / 10)
        .map(|w| {
            let wanted = tone_power(w, rate, expected);
            wanted > 0.02 && wanted > tone_power(w, rate, other) * 50.0
        })
        .collect();
    let clear = windows.iter().filter(|ok| **ok).count();
    !windows.is_empty() && clear * 3 >= windows.len() * 2
}

#[test]
fn two_people_of_one_organisation_call_each_other_and_hear_each_others_tone() {
    let _turn = keyring_turn();
    let org = Organisation::start();
    let alice = Terminal::new(&org, "alice@contoso.test", "alice-pw");
    let bob = Terminal::new(&org, "bob@contoso.test", "bob-pw");
    succeeded(&alice.run(&["login"]));
    // Bob's sign-in is how the server comes to know him: no directory was
    // loaded into it.
    succeeded(&bob.run(&["login"]));
    let (connected, alice_heard, bob_heard) = call_between(&alice, &bob, "bob@contoso.test");
    assert!(connected, "alice reaches bob");
    assert!(heard(&alice_heard, 660.0, 440.0), "alice hears bob's tone");
    assert!(heard(&bob_heard, 440.0, 660.0), "bob hears alice's tone");
}

/// `caller` calls `callee` (signed in, answering) at `address` (a user
/// name, or an object id), each sending a tone; whether the call connected
/// for both, and what each heard.
fn call_between(caller: &Terminal, callee: &Terminal, address: &str) -> (bool, PathBuf, PathBuf) {
    let (caller_heard, callee_heard) = (
        caller.home.path().join("heard.wav"),
        callee.home.path().join("heard.wav"),
    );
    let mut answer = callee.command(&["answer", "--audio", "tone:660", "--video", "none"]);
    answer.arg("--record").arg(&callee_heard).arg("--json");
    let mut callee_side = Running::spawn("callee", answer);
    callee_side.wait_for("waiting for a call", Duration::from_secs(20));
    let mut call = caller.command(&["call", address, "--audio", "tone:440"]);
    call.args(["--video", "none", "--duration", "4s", "--record"])
        .arg(&caller_heard)
        .arg("--json");
    let caller_end = Running::spawn("caller", call).finish_within(Duration::from_secs(40));
    let connected = caller_end
        .last_json()
        .is_some_and(|summary| summary["connected"] == true);
    if connected {
        let callee_end = callee_side.finish_within(Duration::from_secs(20));
        assert_eq!(
            callee_end.last_json().map(|s| s["connected"].clone()),
            Some(serde_json::Value::Bool(true)),
            "{}",
            callee_end.stderr
        );
    } else {
        callee_side.kill();
    }
    (connected, caller_heard, callee_heard)
}

#[test]
fn people_of_two_tenants_the_server_allows_call_each_other() {
    let _turn = keyring_turn();
    let org = Organisation::start_allowing(&[CONTOSO, FABRIKAM]);
    let alice = Terminal::new(&org, "alice@contoso.test", "alice-pw");
    let dave = Terminal::new(&org, "dave@fabrikam.test", "dave-pw");
    succeeded(&alice.run(&["login"]));
    succeeded(&dave.run(&["login"]));
    // By id: people of another tenant are not in one's own directory, at
    // Graph as here.
    let dave_oid = "f0000000-0000-4000-8000-00000000da7e";
    let (connected, alice_heard, dave_heard) = call_between(&alice, &dave, dave_oid);
    assert!(
        connected,
        "alice reaches dave across the two allowed tenants"
    );
    assert!(heard(&alice_heard, 660.0, 440.0), "alice hears dave's tone");
    assert!(heard(&dave_heard, 440.0, 660.0), "dave hears alice's tone");
}

/// ACS's key for the stand-in resource (base64, as the portal shows it).
const ACS_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// An ACS resource on loopback: checks each exchange's HMAC-SHA256
/// signature with `ACS_KEY` as ACS does, and answers in ACS's shape.
/// Returns its URL and the bodies of the exchanges it accepted.
fn stand_in_acs(
    runtime: &tokio::runtime::Runtime,
) -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
) {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    use axum::response::IntoResponse;
    use convene_server::acs::signing::{verify, SignedHeaders};
    use convene_server::acs::AccessKey;

    let accepted = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = std::sync::Arc::clone(&accepted);
    let key: AccessKey = ACS_KEY.parse().unwrap();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let (key, record) = (key.clone(), std::sync::Arc::clone(&record));
            async move {
                let header = |name: &str| {
                    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
                };
                let signed = SignedHeaders {
                    date: header("x-ms-date"),
                    content_sha256: header("x-ms-content-sha256"),
                    authorization: header("authorization"),
                };
                let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or_default();
                if !verify(&key, method.as_str(), path, &header("host"), &body, &signed) {
                    let error = serde_json::json!({"error": {"code": "Denied", "message": "HMAC signature mismatch"}});
                    return (StatusCode::UNAUTHORIZED, axum::Json(error)).into_response();
                }
                let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                record.lock().unwrap().push(json.clone());
                axum::Json(serde_json::json!({
                    "token": format!("ACS.TOKEN.FOR.{}", json["userId"].as_str().unwrap_or_default()),
                    "expiresOn": "2030-01-01T00:00:00Z",
                }))
                .into_response()
            }
        },
    );
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, accepted)
}

#[test]
fn with_exchanges_forwarded_to_acs_people_still_sign_in_and_call() {
    let _turn = keyring_turn();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (acs, accepted) = stand_in_acs(&runtime);
    let org = Organisation::start_with(
        &[CONTOSO],
        &["--acs-endpoint", &acs, "--acs-access-key", ACS_KEY],
    );
    let alice = Terminal::new(&org, "alice@contoso.test", "alice-pw");
    let bob = Terminal::new(&org, "bob@contoso.test", "bob-pw");
    // Each sign-in asks the server at once: the server wants the ACS token
    // too, the client fetches it with the refresh token and asks again.
    succeeded(&alice.run(&["login"]));
    succeeded(&bob.run(&["login"]));
    let (connected, alice_heard, bob_heard) = call_between(&alice, &bob, "bob@contoso.test");
    assert!(connected, "calls work with forwarding on");
    assert!(heard(&alice_heard, 660.0, 440.0) && heard(&bob_heard, 440.0, 660.0));

    let accepted = accepted.lock().unwrap().clone();
    let users: std::collections::BTreeSet<&str> = accepted
        .iter()
        .filter_map(|b| b["userId"].as_str())
        .collect();
    assert_eq!(
        users,
        [
            "c0000000-0000-4000-8000-00000000a11c",
            "c0000000-0000-4000-8000-000000000b0b"
        ]
        .into(),
        "ACS saw both people's signed exchanges: {accepted:?}"
    );
    for body in &accepted {
        assert_eq!(body["appId"], CLIENT_ID);
        let token = body["token"].as_str().unwrap();
        let payload = token.split('.').nth(1).unwrap();
        use base64::Engine as _;
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            claims["aud"], "https://auth.msft.communication.azure.com",
            "ACS gets ACS tokens"
        );
    }
    // And convene-server itself still saw only tokens for Convene's API.
    assert!(org
        .audiences_seen_by_the_server()
        .iter()
        .all(|a| a == CLIENT_ID));
}
