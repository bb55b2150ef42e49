//! Chat latency figures, printed (never pass/fail):
//!
//! 1. send → shown at the peer: alice's `Client::send_message` until bob's
//!    event stream yields `ClientEvent::Incoming` for it, two real clients
//!    against a real `convene-server --dev` on loopback; push (live socket)
//!    and, separately, polling (no live socket).
//! 2. opening a chat of 10,000 messages, core side: `Cache::thread` and
//!    `Cache::chat_summaries` on a cache file on disk, then the same
//!    through a running client's `ChatService` (`Client::thread`,
//!    `Client::chats`) with those messages already cached.
//!
//! Needs the server built with the same profile first:
//! `cargo build --release -p convene-server`, then
//! `cargo bench -p convene-core --bench chat_latency`. `BENCH_MESSAGES`
//! changes the number of messages timed in (1) (default 200).

use std::collections::HashMap;
use std::future::pending;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use convene_core::chat::cache::Cache;
use convene_core::chat::view::{Delivery, Draft};
use convene_core::chat::{ChatStorage, PollTiming};
use convene_core::config::ConfigLayer;
use convene_core::session::{AccountProfile, Sessions};
use convene_core::vault::{Vault, VaultKind};
use convene_core::{AccountOptions, Client, ClientConfig, ClientEvent, EventStream, MonitorTiming};
use convene_proto::graph::{Chat, ChatMessage};
use convene_test_support::browser;
use serde_json::json;

const READY_PREFIX: &str = "convene-server listening on http://";
const WITHIN: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------- figures

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let at = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[at]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// Prints one row: n, p50, p95, p99, max, mean (milliseconds).
fn report(what: &str, samples: &[Duration]) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let mean = if sorted.is_empty() {
        Duration::ZERO
    } else {
        sorted.iter().sum::<Duration>() / sorted.len() as u32
    };
    println!(
        "{what:<58} n={:<5} p50={:>8} p95={:>8} p99={:>8} max={:>8} mean={:>8} ms",
        sorted.len(),
        ms(percentile(&sorted, 0.50)),
        ms(percentile(&sorted, 0.95)),
        ms(percentile(&sorted, 0.99)),
        ms(sorted.last().copied().unwrap_or_default()),
        ms(mean),
    );
}

// ---------------------------------------------------------------- server

/// The built `convene-server` beside this bench (`target/<profile>/`).
fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("bench executable path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the bench runs from target/<profile>/deps");
    let path = dir.join("convene-server");
    assert!(
        path.exists(),
        "{} not found: run `cargo build --release -p convene-server` first \
         (same CARGO_TARGET_DIR and profile as the bench)",
        path.display()
    );
    path
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(data_dir: &Path) -> Self {
        let mut child = Command::new(server_binary())
            .args(["--dev", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            // Up to 200 sends a second would hit the default 50/s cap.
            .args(["--graph-rate-limit", "0"])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start convene-server");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix(READY_PREFIX) {
                    let _ = tx.send(addr.trim().to_owned());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("convene-server printed its ready line")
            .parse()
            .expect("the ready line holds a socket address");
        Self { child, addr }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------- people

/// A signed-in person (ephemeral vault), as in convene-e2e's `chat` helpers.
struct Account {
    vault: Vault,
    profile: AccountProfile,
    config: ClientConfig,
}

fn sessions(vault: &Vault, config: &ClientConfig) -> Sessions {
    Sessions::new(
        vault.clone(),
        convene_core::http::client(Duration::from_secs(10)),
        config.clone(),
        None,
    )
}

impl Account {
    async fn sign_in(server_url: &str, username: &str) -> Self {
        let config = ClientConfig::from_layer(ConfigLayer {
            server: Some(server_url.to_owned()),
            ..Default::default()
        })
        .unwrap();
        let vault = Vault::open(VaultKind::Ephemeral).await.unwrap();
        let who = username.to_owned();
        let profile = sessions(&vault, &config)
            .sign_in(
                move |url| {
                    let url = url.clone();
                    let who = who.clone();
                    tokio::spawn(async move { browser::sign_in_at(url, &who, "convene").await });
                    Ok(())
                },
                pending(),
                None,
            )
            .await
            .expect("signs in");
        Self {
            vault,
            profile,
            config,
        }
    }

    /// A running client, its cache in `cache_dir`. With `config` other
    /// than the account's (see the polling run), that config is used.
    async fn client_with(
        &self,
        cache_dir: &Path,
        config: &ClientConfig,
        timing: PollTiming,
    ) -> (Client, EventStream) {
        let sessions = sessions(&self.vault, config);
        sessions
            .switch_to(&self.profile.user_id)
            .await
            .expect("the account is in the vault");
        let chat = AccountOptions {
            storage: ChatStorage::Disk(cache_dir.to_owned()),
            timing,
            ..AccountOptions::default()
        };
        Client::start_with_options(config.clone(), MonitorTiming::default(), Ok(sessions), chat)
    }

    async fn client(&self, cache_dir: &Path) -> (Client, EventStream) {
        // The app's defaults: a safety-net poll every 2 min while live.
        self.client_with(cache_dir, &self.config.clone(), PollTiming::default())
            .await
    }

    /// Where the client keeps this account's cache under `cache_dir`.
    fn cache_file(&self, cache_dir: &Path) -> PathBuf {
        cache_dir
            .join(format!(
                "{}.{}",
                self.profile.tenant_id, self.profile.user_id
            ))
            .join("chat.db")
    }
}

fn text(body: &str) -> Draft {
    Draft {
        html: body.to_owned(),
        reply_to: None,
        mentions: Vec::new(),
    }
}

async fn wait_for<T>(
    events: &mut EventStream,
    what: &str,
    mut pick: impl FnMut(&ClientEvent) -> Option<T>,
) -> T {
    tokio::time::timeout(WITHIN, async {
        loop {
            let event = events.next().await.expect("the client is running");
            if let Some(found) = pick(&event) {
                return found;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {what} within {WITHIN:?}"))
}

async fn wait_until_live(client: &Client) {
    let deadline = Instant::now() + WITHIN;
    loop {
        if let Ok(chat) = client.chat().await {
            if chat.is_live() {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the live socket never came up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Keeps reading a client's events; records when each outbox key was
/// reported sent.
fn drain_sent(mut events: EventStream) -> Arc<Mutex<HashMap<String, Instant>>> {
    let sent = Arc::new(Mutex::new(HashMap::new()));
    let record = sent.clone();
    tokio::spawn(async move {
        while let Some(event) = events.next().await {
            if let ClientEvent::Messages { messages, .. } = event {
                let now = Instant::now();
                let mut record = record.lock().unwrap();
                for m in messages {
                    if m.delivery == Delivery::Sent {
                        record.entry(m.key).or_insert(now);
                    }
                }
            }
        }
    });
    sent
}

/// Sends `count` messages from `from` one after another, each timed until
/// `to_events` yields it as `Incoming`. Returns (send → incoming, send →
/// sent at the sender). `pause` runs before each send.
async fn send_and_receive(
    from: &Client,
    sent: &Arc<Mutex<HashMap<String, Instant>>>,
    to_events: &mut EventStream,
    chat_id: &str,
    label: &str,
    count: usize,
    mut pause: impl FnMut(usize) -> Duration,
) -> (Vec<Duration>, Vec<Duration>) {
    let mut shown = Vec::with_capacity(count);
    let mut posted = Vec::with_capacity(count);
    for n in 0..count {
        let wait = pause(n);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let marker = format!("{label} {n}");
        let start = Instant::now();
        let message = from.send_message(chat_id, text(&marker)).await.unwrap();
        wait_for(to_events, "the incoming message", |e| match e {
            ClientEvent::Incoming { message, .. } if message.body_html == marker => Some(()),
            _ => None,
        })
        .await;
        shown.push(start.elapsed());
        // The sender's "sent" usually came first; give it a moment if not.
        for _ in 0..200 {
            if let Some(at) = sent.lock().unwrap().get(&message.key) {
                posted.push(at.duration_since(start));
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    (shown, posted)
}

// ---------------------------------------------------------------- data

/// A UTC timestamp `seconds` after 2026-01-01T00:00:00Z, Graph style.
fn stamp(seconds: u64) -> String {
    let (day, rest) = (seconds / 86_400, seconds % 86_400);
    format!(
        "2026-01-{:02}T{:02}:{:02}:{:02}.000Z",
        day + 1,
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn graph_chat(chat_id: &str, members: &[(&str, &str)], updated: &str) -> Chat {
    let members: Vec<_> = members
        .iter()
        .map(|(id, name)| json!({"displayName": name, "userId": id}))
        .collect();
    serde_json::from_value(json!({
        "id": chat_id,
        "chatType": "group",
        "topic": "ten thousand",
        "lastUpdatedDateTime": updated,
        "members": members,
    }))
    .unwrap()
}

/// `count` messages alternating between two people, 8 s apart, with a
/// sentence of HTML each (about 120 bytes of body).
fn graph_messages(chat_id: &str, people: [(&str, &str); 2], count: usize) -> Vec<ChatMessage> {
    (0..count)
        .map(|n| {
            let (id, name) = people[n % 2];
            let at = stamp(n as u64 * 8);
            serde_json::from_value(json!({
                "id": format!("{}", 1_767_225_600_000u64 + n as u64 * 8_000),
                "chatId": chat_id,
                "messageType": "message",
                "createdDateTime": at,
                "lastModifiedDateTime": at,
                "from": {"user": {"id": id, "displayName": name, "userIdentityType": "aadUser"}},
                "body": {"contentType": "html", "content": format!(
                    "<p>Message number {n}: the <b>quarterly</b> figures look fine, see you at ten.</p>")},
            }))
            .unwrap()
        })
        .collect()
}

/// Fills a cache file with one chat of `count` messages; history complete
/// and the watermark at the newest, as after a full sync.
fn fill_cache(path: &Path, me: (&str, &str), other: (&str, &str), chat_id: &str, count: usize) {
    let mut cache = Cache::open(path, me.0).unwrap();
    let messages = graph_messages(chat_id, [me, other], count);
    let newest = messages.last().unwrap().created_date_time.clone();
    cache
        .upsert_chat(&graph_chat(chat_id, &[me, other], &newest))
        .unwrap();
    for batch in messages.chunks(500) {
        cache.upsert_messages(chat_id, batch).unwrap();
    }
    cache.advance_watermark(chat_id, &newest).unwrap();
    cache.set_older_link(chat_id, None, true).unwrap();
}

// ---------------------------------------------------------------- benches

const ALICE: (&str, &str) = ("00000000-a11c-4000-8000-000000000001", "Alice Example");
const BOB: (&str, &str) = ("00000000-b0b0-4000-8000-000000000002", "Bob Example");
const TEN_THOUSAND: usize = 10_000;
const OPENINGS: usize = 200;

/// (2) on the cache alone.
fn cache_only(scratch: &Path) {
    println!("\n== opening a chat of {TEN_THOUSAND} messages: Cache on disk ==");
    let path = scratch.join("cache-only").join("chat.db");
    let chat_id = "19:bench-ten-thousand@thread.v2";
    let fill = Instant::now();
    fill_cache(&path, BOB, ALICE, chat_id, TEN_THOUSAND);
    println!(
        "filled {TEN_THOUSAND} messages in {:.0} ms (upsert_messages, batches of 500)",
        fill.elapsed().as_secs_f64() * 1000.0
    );

    // Cold: open the file (the OS page cache is warm) and paint at once.
    let mut cold_open = Vec::new();
    let mut cold_first = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        let cache = Cache::open(&path, BOB.0).unwrap();
        cold_open.push(start.elapsed());
        let summaries = cache.chat_summaries().unwrap();
        let (page, more) = cache.thread(chat_id, None, 50).unwrap();
        cold_first.push(start.elapsed());
        assert_eq!((summaries.len(), page.len(), more), (1, 50, true));
    }

    let cache = Cache::open(&path, BOB.0).unwrap();
    let mut thread = Vec::new();
    let mut summaries = Vec::new();
    let mut older = Vec::new();
    let mut unread = Vec::new();
    for _ in 0..OPENINGS {
        let start = Instant::now();
        let (page, _) = cache.thread(chat_id, None, 50).unwrap();
        thread.push(start.elapsed());
        let start = Instant::now();
        let rows = cache.chat_summaries().unwrap();
        summaries.push(start.elapsed());
        assert_eq!(rows[0].unread_count as usize, TEN_THOUSAND / 2);
        let start = Instant::now();
        let (earlier, _) = cache.thread(chat_id, Some(&page[0].key), 50).unwrap();
        older.push(start.elapsed());
        assert_eq!(earlier.len(), 50);
        let start = Instant::now();
        cache.unread_total().unwrap();
        unread.push(start.elapsed());
    }
    report("Cache::open (file exists, migrations checked)", &cold_open);
    report(
        "open + chat_summaries + thread(None, 50), fresh cache",
        &cold_first,
    );
    report("Cache::thread(chat, None, 50)", &thread);
    report("Cache::chat_summaries() (1 chat, 5,000 unread)", &summaries);
    report(
        "Cache::thread(chat, Some(oldest shown), 50) (scroll up)",
        &older,
    );
    report("Cache::unread_total()", &unread);
}

/// (2) through a running client whose cache already holds the messages.
async fn through_client(server: &Server, alice: &Account, bob: &Account, scratch: &Path) {
    println!(
        "\n== opening a chat of {TEN_THOUSAND} messages: through a running Client (ChatService) =="
    );
    let (alice_client, alice_events) = alice.client(&scratch.join("alice-10k")).await;
    drain_sent(alice_events);
    let chat = alice_client
        .start_chat(
            vec![bob.profile.user_id.clone()],
            Some("ten thousand".into()),
        )
        .await
        .expect("alice starts a group chat");
    // Bob's cache, as after he had synced those messages earlier.
    let bob_dir = scratch.join("bob-10k");
    fill_cache(
        &bob.cache_file(&bob_dir),
        BOB,
        ALICE,
        &chat.id,
        TEN_THOUSAND,
    );
    let (bob_client, mut bob_events) = bob.client(&bob_dir).await;
    wait_until_live(&bob_client).await;
    wait_for(&mut bob_events, "the chat list", |e| match e {
        ClientEvent::Chats { chats } => chats.iter().any(|c| c.id == chat.id).then_some(()),
        _ => None,
    })
    .await;
    // Let the first sync settle, then keep reading events in the back.
    tokio::time::sleep(Duration::from_millis(500)).await;
    drain_sent(bob_events);
    let _ = server;

    let mut thread = Vec::new();
    let mut chats = Vec::new();
    let mut service_thread = Vec::new();
    let service = bob_client.chat().await.unwrap();
    for _ in 0..OPENINGS {
        let start = Instant::now();
        let page = bob_client.thread(&chat.id, None, 50).await.unwrap();
        thread.push(start.elapsed());
        assert_eq!(page.messages.len(), 50);
        let start = Instant::now();
        let rows = bob_client.chats().await.unwrap();
        chats.push(start.elapsed());
        assert!(!rows.is_empty());
        let start = Instant::now();
        service.thread(&chat.id, None, 50).await.unwrap();
        service_thread.push(start.elapsed());
    }
    report("Client::thread(chat, None, 50)", &thread);
    report("Client::chats()", &chats);
    report("ChatService::thread(chat, None, 50)", &service_thread);
}

/// (1) push: bob's live socket brings the hint.
async fn push_latency(server: &Server, alice: &Account, bob: &Account, scratch: &Path, n: usize) {
    println!("\n== send → shown at the peer, push (live socket), loopback ==");
    let (alice_client, alice_events) = alice.client(&scratch.join("alice")).await;
    let sent = drain_sent(alice_events);
    let chat = alice_client
        .start_chat(vec![bob.profile.user_id.clone()], None)
        .await
        .expect("alice starts a chat with bob");
    let (bob_client, mut bob_events) = bob.client(&scratch.join("bob")).await;
    wait_until_live(&alice_client).await;
    wait_until_live(&bob_client).await;
    wait_for(&mut bob_events, "the chat in bob's list", |e| match e {
        ClientEvent::Chats { chats } => chats.iter().any(|c| c.id == chat.id).then_some(()),
        _ => None,
    })
    .await;
    let _ = server;

    // Warm-up: connections, prepared statements, token caches.
    send_and_receive(
        &alice_client,
        &sent,
        &mut bob_events,
        &chat.id,
        "warm",
        20,
        |_| Duration::ZERO,
    )
    .await;
    let (shown, posted) = send_and_receive(
        &alice_client,
        &sent,
        &mut bob_events,
        &chat.id,
        "push",
        n,
        |_| Duration::ZERO,
    )
    .await;
    report("send_message → bob's Incoming (push)", &shown);
    report("send_message → alice's Sent (outbox POST done)", &posted);
}

/// (1) polling: bob's client cannot reach the live socket (its server URL
/// points at a closed port; sign-in and Graph go to the real server), so
/// only its `without_push` poll finds new messages.
async fn polling_latency(
    server: &Server,
    alice: &Account,
    bob: &Account,
    scratch: &Path,
    n: usize,
    interval: Duration,
) {
    println!(
        "\n== send → shown at the peer, polling every {} ms (no live socket), loopback ==",
        interval.as_millis()
    );
    let (alice_client, alice_events) = alice.client(&scratch.join("alice-poll")).await;
    let sent = drain_sent(alice_events);
    let chat = alice_client
        .start_chat(vec![bob.profile.user_id.clone()], Some("polling".into()))
        .await
        .expect("alice starts a chat with bob");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let config = ClientConfig::from_layer(ConfigLayer {
        server: Some(dead),
        authority: Some(bob.config.authority.to_string()),
        graph: Some(bob.config.graph_url.to_string()),
        ..Default::default()
    })
    .unwrap();
    let timing = PollTiming {
        with_push: interval,
        without_push: interval,
    };
    let (bob_client, mut bob_events) = bob
        .client_with(&scratch.join("bob-poll"), &config, timing)
        .await;
    wait_for(&mut bob_events, "the chat in bob's list", |e| match e {
        ClientEvent::Chats { chats } => chats.iter().any(|c| c.id == chat.id).then_some(()),
        _ => None,
    })
    .await;
    assert!(!bob_client.chat().await.unwrap().is_live());
    let _ = server;

    // A pause of a varying part of the interval before each send, so that
    // sends do not line up with the poll.
    let step = interval.as_millis() as u64;
    let (shown, _) = send_and_receive(
        &alice_client,
        &sent,
        &mut bob_events,
        &chat.id,
        "poll",
        n,
        |k| Duration::from_millis((k as u64 * 7919) % step),
    )
    .await;
    report(
        &format!("send_message → bob's Incoming (poll {} ms)", step),
        &shown,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter word picks parts.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wants = |part: &str| filter.is_empty() || filter.iter().any(|f| part.contains(f.as_str()));
    let messages: usize = std::env::var("BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let scratch = tempfile::tempdir().unwrap();
    println!(
        "chat_latency: profile {}, scratch {}",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "optimised (bench/release)"
        },
        scratch.path().display()
    );

    if wants("cache") {
        cache_only(scratch.path());
    }
    if !(wants("push") || wants("poll") || wants("client")) {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let server = Server::start(&scratch.path().join("server"));
        let alice = Account::sign_in(&server.url(), "alice@convene.example").await;
        let bob = Account::sign_in(&server.url(), "bob@convene.example").await;
        if wants("push") {
            push_latency(&server, &alice, &bob, scratch.path(), messages).await;
        }
        if wants("poll") {
            polling_latency(
                &server,
                &alice,
                &bob,
                scratch.path(),
                40,
                Duration::from_millis(1000),
            )
            .await;
        }
        if wants("client") {
            through_client(&server, &alice, &bob, scratch.path()).await;
        }
    });
}
