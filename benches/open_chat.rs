//! Opening a chat of 10,000 messages in the real app, to its first paint:
//! from the click on the chat's row to the frame after the newest message
//! is in the thread. Alice's chat cache is filled with 10,000 messages
//! before each launch; every sample is a fresh app process, so nothing is
//! warm in the UI.
//!
//! Needs a display, tauri-driver, a Secret Service and release builds:
//! `./scripts/bench-open-chat.sh` sets all of that up. Prints figures; it
//! never fails on a timing.

use std::time::Duration;

use convene_core::chat::cache::Cache;
use convene_core::chat::GraphChats;
use convene_core::session::Resource;
use convene_e2e::chat::Account;
use convene_proto::graph::{ChatMessage, Identity, ItemBody, MessageFrom};
use convene_test_support::app::{app_pid, wait_for_exit, App, AppHome, TauriDriver};
use convene_test_support::dev_server::DevServer;
use convene_test_support::scripted_browser;

const APP: &str = env!("CARGO_BIN_EXE_convene");
const WAIT: Duration = Duration::from_secs(60);
const MESSAGES: usize = 10_000;
const LAUNCHES: usize = 7;

fn seeded(n: usize, alice: &str, bob: &str) -> ChatMessage {
    let from = if n.is_multiple_of(3) { alice } else { bob };
    // One message a minute, ending an hour ago.
    let at = time_minutes_ago(60 + (MESSAGES - n) as i64);
    ChatMessage {
        id: format!("{}", 1_000_000 + n),
        chat_id: None,
        created_date_time: at.clone(),
        last_modified_date_time: Some(at),
        last_edited_date_time: None,
        deleted_date_time: None,
        from: Some(MessageFrom {
            user: Some(Identity {
                id: from.to_owned(),
                display_name: Some(
                    if from == alice {
                        "Alice Example"
                    } else {
                        "Bob Example"
                    }
                    .into(),
                ),
            }),
        }),
        body: ItemBody {
            content_type: "html".into(),
            content: format!(
                "<p>Message number <b>{n}</b> of the long chat, with a little text to wrap.</p>"
            ),
        },
        message_type: Some("message".into()),
        attachments: Vec::new(),
        mentions: Vec::new(),
        reactions: Vec::new(),
    }
}

fn time_minutes_ago(minutes: i64) -> String {
    use convene_core::chat::time::{at, shift};
    shift(&at(std::time::SystemTime::now()), -minutes * 60_000)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank]
}

/// Clicks `row` and returns, from the page's clock, when the thread showed
/// and when the frame after the newest message was painted.
async fn open_and_measure(app: &App, row: &str, newest: &str) -> serde_json::Value {
    app.client
        .execute_async(
            r#"const [row, newest] = arguments;
            const done = arguments[arguments.length - 1];
            const started = performance.now();
            const marks = {};
            document.querySelector(row).click();
            const look = () => {
              const now = performance.now() - started;
              if (marks.thread === undefined && document.querySelector('[data-testid=message]')) marks.thread = now;
              const bodies = document.querySelectorAll('[data-testid=message-body]');
              if ([...bodies].some(b => b.textContent.includes(newest))) {
                requestAnimationFrame(() => { marks.painted = performance.now() - started; done(marks); });
              } else {
                requestAnimationFrame(look);
              }
            };
            look();"#,
            vec![row.into(), newest.into()],
        )
        .await
        .expect("open the chat")
}

#[tokio::main]
async fn main() {
    let scratch = tempfile::tempdir().unwrap();
    let server =
        DevServer::start_with(&scratch.path().join("server"), &["--graph-rate-limit", "0"]);
    let home = AppHome::new(&scratch.path().join("home"));
    let browser = scripted_browser();
    let env = vec![
        ("CONVENE_SERVER", server.url()),
        ("BROWSER", browser.display().to_string()),
        ("CONVENE_TEST_USERNAME", "alice@convene.example".into()),
    ];

    // Alice signs in once; her session stays in the keyring.
    {
        let driver = TauriDriver::start(&home, &env);
        let app = driver.launch(APP.as_ref()).await;
        app.wait_for_attribute(
            "[data-testid=connection-state]",
            "data-state",
            "reachable",
            WAIT,
        )
        .await;
        app.click("[data-testid=sign-in-button]").await;
        app.wait_for_text("[data-testid=chat-list]", "", WAIT).await;
        app.close().await;
    }

    // Bob opens a chat with her; its history is put straight into alice's
    // cache (10,000 POSTs would measure the server, not the app).
    let bob = Account::sign_in(&server.url(), "bob@convene.example").await;
    let alice_id = "00000000-a11c-4000-8000-000000000001";
    let graph = GraphChats::new(
        convene_core::http::client(Duration::from_secs(10)),
        bob.config.graph_url.clone(),
    );
    let sessions = convene_core::session::Sessions::new(
        bob.vault.clone(),
        convene_core::http::client(Duration::from_secs(10)),
        bob.config.clone(),
        None,
    );
    let token = sessions
        .access_token(&bob.profile, Resource::Graph)
        .await
        .unwrap();
    let chat = graph
        .one_on_one(&token, &bob.profile.user_id, alice_id)
        .await
        .unwrap();
    // A second, short chat: opening it first shows what a warm UI costs.
    let warm_up = graph
        .group_chat(
            &token,
            &bob.profile.user_id,
            &[alice_id.to_owned()],
            Some("Warm-up"),
        )
        .await
        .unwrap();
    let cache_file = home.root.join(format!(
        "data/convene/accounts/{}.{alice_id}/chat.db",
        convene_core::config::DEV_TENANT_ID
    ));
    {
        let mut cache = Cache::open(&cache_file, alice_id).unwrap();
        let chat = graph.chat(&token, &chat.id).await.unwrap();
        cache.upsert_chat(&chat).unwrap();
        let messages: Vec<ChatMessage> = (1..=MESSAGES)
            .map(|n| seeded(n, alice_id, &bob.profile.user_id))
            .collect();
        cache.upsert_messages(&chat.id, &messages).unwrap();
        cache.set_older_link(&chat.id, None, true).unwrap();
        cache
            .advance_watermark(&chat.id, &messages.last().unwrap().created_date_time)
            .unwrap();
        cache
            .mark_read(&chat.id, &messages.last().unwrap().created_date_time)
            .unwrap();
    }

    let row = format!("[data-testid=chat-row][data-chat-id=\"{}\"]", chat.id);
    let newest = format!("Message number {MESSAGES} of");
    let mut samples = Vec::new();
    let mut warm_samples = Vec::new();
    for launch in 0..LAUNCHES {
        let driver = TauriDriver::start(&home, &env);
        let app = driver.launch(APP.as_ref()).await;
        app.wait_for_content(&row, "Bob Example", WAIT).await;
        // Let start-up settle (first sync, fonts) so the click is measured alone.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let cold = open_and_measure(&app, &row, &newest).await;
        // Now a warm UI: open the short chat, then the long one again.
        let warm_row = format!("[data-testid=chat-row][data-chat-id=\"{}\"]", warm_up.id);
        app.click(&warm_row).await;
        app.wait_for_content("[data-testid=chat-title]", "Warm-up", WAIT)
            .await;
        // Let the short chat settle, so the next click is measured alone.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let warm = open_and_measure(&app, &row, &newest).await;
        let mark = |marks: &serde_json::Value, name: &str| marks[name].as_f64().unwrap_or(f64::NAN);
        let elapsed = mark(&cold, "painted");
        let warm_elapsed = mark(&warm, "painted");
        let rendered = app
            .client
            .execute(
                "return document.querySelectorAll('[data-testid=message]').length;",
                vec![],
            )
            .await
            .unwrap();
        println!(
            "launch {launch}: first open {elapsed:.1} ms to first paint (thread shown {:.1} ms), \
             again after another chat {warm_elapsed:.1} ms; {rendered} message rows in the DOM",
            mark(&cold, "thread"),
        );
        if launch > 0 {
            samples.push(elapsed);
            warm_samples.push(warm_elapsed);
        }
        let pid = app_pid(APP.as_ref(), &home);
        app.close().await;
        drop(driver);
        // The next launch must not find this one still quitting (a second
        // instance hands over to the first and exits).
        if let Some(pid) = pid {
            wait_for_exit(pid, WAIT);
        }
    }
    samples.sort_by(f64::total_cmp);
    warm_samples.sort_by(f64::total_cmp);
    println!(
        "open it again after opening another chat (a warm UI): p50 {:.1} ms, p95 {:.1} ms",
        percentile(&warm_samples, 50.0),
        percentile(&warm_samples, 95.0)
    );
    println!(
        "\nopen a chat of {MESSAGES} messages to first paint, {} launches after a warm-up one: \
         p50 {:.1} ms, p95 {:.1} ms, min {:.1} ms, max {:.1} ms",
        samples.len(),
        percentile(&samples, 50.0),
        percentile(&samples, 95.0),
        samples[0],
        samples[samples.len() - 1]
    );
}
